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
	// The inviter's name and email while their account exists, and the
	// name and prefix of the API key that sent the invite, if one did.
	InviterName      string
	InviterEmail     string
	InviterKeyName   string
	InviterKeyPrefix string
	ExpiresAt        time.Time
	CreatedAt        time.Time
	// Delivery is the state of the latest email for the invite (an
	// OutboxPending/OutboxSent/OutboxFailed value, "" when none).
	Delivery      string
	DeliveryError string
	// ShareLink is the accept link while its email is undelivered, so the
	// inviter can pass it on by hand; empty once delivered.
	ShareLink string
}

// InvitedBy names who sent the invite: the inviter's name or email, the API
// key that sent it, or "A former member" once neither is left.
func (i *Invite) InvitedBy() string {
	switch {
	case i.InviterName != "":
		return i.InviterName
	case i.InviterEmail != "":
		return i.InviterEmail
	case i.InviterKeyPrefix != "":
		return (&APIKey{Name: i.InviterKeyName, Prefix: i.InviterKeyPrefix}).Label()
	}
	return "A former member"
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
	Email     string
	Role      Role
	TokenHash string
	ExpiresAt time.Time
}

// InviteKey names an invite for its invitee: by the token of the emailed
// link, or by id from the invitee's own list of invitations. Either way the
// invite only acts for the address it was sent to.
type InviteKey struct {
	TokenHash string
	ID        int64
}

// InviteEmail is an invite's rendered email and the accept link it
// carries. The link is stored apart from the email's bodies, as the
// invite's ShareLink until the email is delivered.
type InviteEmail struct {
	Email
	Link string
}

// ComposeInvite renders the email for an invite once it is stored; lang
// is the saved language of the account the invite's address belongs to,
// "" when it has none (or no account).
type ComposeInvite func(inv *Invite, lang string) InviteEmail

// InvitePendingError refuses an invite to an address that already has a
// pending, unexpired invite to the workspace. It unwraps to an ECONFLICT
// *Error about the email field; a page that lists the pending invites can
// point to the one to resend.
type InvitePendingError struct {
	Email string
}

// Error implements the error interface.
func (e *InvitePendingError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the error as an ECONFLICT *Error about the email field.
func (e *InvitePendingError) Unwrap() error {
	err := Errorf(ECONFLICT, "%s already has a pending invite.", e.Email)
	err.Field = "email"
	return err
}

// InviteService manages invites. The reads and changes of a workspace's
// invites take the Scope they act in, and their statements enforce it (see
// Scope); CreateInvite acts as the principal in ctx (app.ScopeOf) and
// checks their membership and role in the same transaction.
type InviteService interface {
	// CreateInvite stores an invite and queues its email in one
	// transaction, after checking the role rule, duplicates (an
	// *InvitePendingError for an address with a pending invite), seats and
	// the service's InviteMailLimits for the address (a *RetryError). The
	// email's Link is kept as the invite's ShareLink until it is delivered.
	CreateInvite(ctx context.Context, sc Scope, in NewInvite, limits PlanLimits, compose ComposeInvite) (*Invite, error)
	// FindInvites lists a workspace's pending invites (expired ones too),
	// newest first, at most limit of them, with the delivery state of their
	// emails.
	FindInvites(ctx context.Context, sc Scope, limit int) ([]*Invite, error)
	// FindInvitesBefore lists the next page of FindInvites' order: the
	// pending invites that come after the cursor, at most limit.
	FindInvitesBefore(ctx context.Context, sc Scope, before InviteCursor, limit int) ([]*Invite, error)
	// FindInvitesForEmail lists the pending, unexpired invites for an address.
	FindInvitesForEmail(ctx context.Context, email string) ([]*Invite, error)
	// FindInviteByToken returns the invite of a token hash in any state;
	// ENOTFOUND for an unknown token.
	FindInviteByToken(ctx context.Context, tokenHash string) (*Invite, error)
	// FindInvite returns a workspace's invite by id, in any state.
	FindInvite(ctx context.Context, sc Scope, id int64) (*Invite, error)
	// FindInviteForEmail returns an invite by id when it was sent to email;
	// ENOTFOUND otherwise.
	FindInviteForEmail(ctx context.Context, id int64, email string) (*Invite, error)
	// AcceptInvite makes the principal a member, once, and returns the
	// workspace. The principal's email must be the invited one, and the
	// workspace must have a seat left under limits (ErrWorkspaceFull
	// otherwise, and the invite stays pending).
	AcceptInvite(ctx context.Context, key InviteKey, limits PlanLimits) (*Workspace, error)
	// DeclineInvite declines an invite addressed to the principal.
	DeclineInvite(ctx context.Context, key InviteKey) error
	// RevokeInvite withdraws a pending invite.
	RevokeInvite(ctx context.Context, sc Scope, inviteID int64) error
	// ResendInvite gives a pending invite a new token and expiry (voiding
	// the old link) and queues a new email.
	// An expired invite takes a seat again, so it is checked against limits.
	// The service's InviteMailLimits may refuse it with a *RetryError; then
	// nothing changes and nothing is queued.
	ResendInvite(ctx context.Context, sc Scope, inviteID int64, tokenHash string, expiresAt time.Time, limits PlanLimits, compose ComposeInvite) (*Invite, error)
}

// InviteMailWindow is the period the daily invite-mail limits count over.
const InviteMailWindow = 24 * time.Hour

// InviteMailLimits cap invite emails, so that creating and resending
// invites cannot flood someone's inbox. Zero fields do not limit.
type InviteMailLimits struct {
	// ResendGap is the least time between two emails of one invite.
	ResendGap time.Duration
	// ResendsPerDay is how often one invite may be resent per
	// InviteMailWindow.
	ResendsPerDay int
	// PerAddressPerDay is how many invite emails one address may receive
	// per InviteMailWindow, from all workspaces together.
	PerAddressPerDay int
}

// InviteMailHistory is what the limits look at: the invite emails of the
// last InviteMailWindow, each list oldest first.
type InviteMailHistory struct {
	Invite  []time.Time // every email of the invite (empty for a new invite)
	Resends []time.Time // the invite's resends
	Address []time.Time // every invite email to the invite's address
}

// Reasons a RetryError gives.
const (
	RetryGap          = "gap"     // the invite was emailed less than ResendGap ago
	RetryInviteDaily  = "invite"  // the invite was resent ResendsPerDay times today
	RetryAddressDaily = "address" // the address received PerAddressPerDay invite emails today
)

// NextInviteMail returns the earliest time the limits allow another invite
// email after h, and the reason (a Retry* value) that decides it; a time
// not after now means now.
func (l InviteMailLimits) NextInviteMail(h InviteMailHistory) (next time.Time, reason string) {
	later := func(t time.Time, why string) {
		if t.After(next) {
			next, reason = t, why
		}
	}
	if l.ResendGap > 0 && len(h.Invite) > 0 {
		later(h.Invite[len(h.Invite)-1].Add(l.ResendGap), RetryGap)
	}
	if l.ResendsPerDay > 0 && len(h.Resends) >= l.ResendsPerDay {
		later(h.Resends[len(h.Resends)-l.ResendsPerDay].Add(InviteMailWindow), RetryInviteDaily)
	}
	if l.PerAddressPerDay > 0 && len(h.Address) >= l.PerAddressPerDay {
		later(h.Address[len(h.Address)-l.PerAddressPerDay].Add(InviteMailWindow), RetryAddressDaily)
	}
	return next, reason
}

// CheckInviteMail returns a *RetryError when the limits refuse an invite
// email at now after h; resend says whether it would resend an invite.
func (l InviteMailLimits) CheckInviteMail(now time.Time, h InviteMailHistory, resend bool) error {
	next, reason := l.NextInviteMail(h)
	if !next.After(now) {
		return nil
	}
	// Whole minutes, rounded up: a page says "14:05", and 14:05 must work.
	if at := next.Truncate(time.Minute); at.Before(next) {
		next = at.Add(time.Minute)
	}
	return &RetryError{At: next, Resend: resend, Reason: reason}
}

// RetryError refuses an invite email until At. It unwraps to an
// ERATELIMITED *Error whose message gives the time in UTC; pages that know
// the reader's time zone call Message instead.
type RetryError struct {
	At     time.Time
	Resend bool   // the refused email was a resend
	Reason string // a Retry* value
}

// Error implements the error interface.
func (e *RetryError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the error as an ERATELIMITED *Error.
func (e *RetryError) Unwrap() error {
	return &Error{Code: ERATELIMITED, Message: e.Message(e.At, time.UTC)}
}

// Message explains the refusal with At in loc, with its date unless it is
// the same day as now.
func (e *RetryError) Message(now time.Time, loc *time.Location) string {
	at := e.At.In(loc)
	when := at.Format("15:04 MST")
	if y, m, d := now.In(loc).Date(); at.Year() != y || at.Month() != m || at.Day() != d {
		when += at.Format(" on 2 Jan")
	}
	var why string
	switch e.Reason {
	case RetryGap:
		why = "This invite was emailed a few minutes ago."
	case RetryInviteDaily:
		why = "This invite has been resent as often as allowed in a day."
	default:
		why = "This address has received as many invite emails as allowed in a day."
	}
	if e.Resend {
		return why + " You can resend this invite at " + when + "."
	}
	return why + " You can invite this address again at " + when + "."
}

// InviteCursor is a position in a workspace's invites, newest first: the
// last invite of a page.
type InviteCursor struct {
	CreatedAt time.Time
	ID        int64
}
