package app

import (
	"context"
	"time"
)

// InviteTTL is how long an invite link stays valid.
const InviteTTL = 7 * 24 * time.Hour

// Invite states. An invite past its expiry while pending is "expired".
const (
	InvitePending  = "pending"
	InviteAccepted = "accepted"
	InviteDeclined = "declined"
	InviteRevoked  = "revoked"
	InviteExpired  = "expired"
)

// Audit actions for workspaces, members and invites.
const (
	ActionWorkspaceCreated     = "workspace.created"
	ActionWorkspaceRenamed     = "workspace.renamed"
	ActionWorkspaceSlugChanged = "workspace.slug_changed"
	ActionWorkspaceDeleted     = "workspace.deleted"
	ActionInviteSent           = "invite.sent"
	ActionInviteResent         = "invite.resent"
	ActionInviteRevoked        = "invite.revoked"
	ActionInviteAccepted       = "invite.accepted"
	ActionInviteDeclined       = "invite.declined"
	ActionMemberRoleChanged    = "member.role_changed"
	ActionMemberRemoved        = "member.removed"
	ActionMemberLeft           = "member.left"
	ActionOwnershipTransferred = "ownership.transferred"
	ActionTestInviteSent       = "invite.test_sent"
	ActionUserUpdated          = "user.updated"
	ActionUserDeleted          = "user.deleted"
)

// Invite asks someone to join a workspace. It is bound to its email
// address; only its token's hash is stored.
type Invite struct {
	ID            int64
	WorkspaceID   int64
	WorkspaceName string
	WorkspaceSlug string
	Email         string
	Role          Role
	Status        string
	InvitedByID   int64
	InvitedBy     string // the inviter's name or email
	ExpiresAt     time.Time
	CreatedAt     time.Time
	// Delivery is the state of the latest email for the invite (an
	// OutboxPending/OutboxSent/OutboxFailed value, "" when none).
	Delivery      string
	DeliveryError string
	// ShareLink is the accept link while its email is undelivered, so the
	// inviter can pass it on by hand; empty once delivered.
	ShareLink string
}

// State returns the invite's status, with "expired" for a pending invite
// past its expiry at now.
func (i *Invite) State(now time.Time) string {
	if i.Status == InvitePending && !i.ExpiresAt.After(now) {
		return InviteExpired
	}
	return i.Status
}

// NewInvite is an invite to create.
type NewInvite struct {
	WorkspaceID int64
	Email       string
	Role        Role
	TokenHash   string
	ExpiresAt   time.Time
}

// InviteKey names an invite for its invitee: by the token of the emailed
// link, or by id from the invitee's own list of invitations. Either way the
// invite only acts for the address it was sent to.
type InviteKey struct {
	TokenHash string
	ID        int64
}

// ComposeInvite renders the email for an invite once it is stored.
type ComposeInvite func(inv *Invite) Email

// InviteService manages invites. Methods act as the principal in ctx and
// check their membership and role in the same transaction.
type InviteService interface {
	// CreateInvite stores an invite and queues its email in one
	// transaction, after checking the role rule, duplicates and seats.
	CreateInvite(ctx context.Context, in NewInvite, limits PlanLimits, compose ComposeInvite) (*Invite, error)
	// FindInvites lists a workspace's pending invites (expired ones too),
	// newest first, at most limit of them, with the delivery state of their
	// emails.
	FindInvites(ctx context.Context, workspaceID int64, limit int) ([]*Invite, error)
	// FindInvitesForEmail lists the pending, unexpired invites for an address.
	FindInvitesForEmail(ctx context.Context, email string) ([]*Invite, error)
	// FindInviteByToken returns the invite of a token hash in any state;
	// ENOTFOUND for an unknown token.
	FindInviteByToken(ctx context.Context, tokenHash string) (*Invite, error)
	// FindInviteForEmail returns an invite by id when it was sent to email;
	// ENOTFOUND otherwise.
	FindInviteForEmail(ctx context.Context, id int64, email string) (*Invite, error)
	// AcceptInvite makes the principal a member, once, and returns the
	// workspace. The principal's email must be the invited one.
	AcceptInvite(ctx context.Context, key InviteKey) (*Workspace, error)
	// DeclineInvite declines an invite addressed to the principal.
	DeclineInvite(ctx context.Context, key InviteKey) error
	// RevokeInvite withdraws a pending invite.
	RevokeInvite(ctx context.Context, workspaceID, inviteID int64) error
	// ResendInvite gives a pending invite a new token and expiry (voiding
	// the old link) and queues a new email.
	// An expired invite takes a seat again, so it is checked against limits.
	ResendInvite(ctx context.Context, workspaceID, inviteID int64, tokenHash string, expiresAt time.Time, limits PlanLimits, compose ComposeInvite) (*Invite, error)
}
