package app

import (
	"context"
	"time"
)

// Sign-in and session lifetimes.
const (
	// LoginTokenTTL is how long a magic link stays valid.
	LoginTokenTTL = 15 * time.Minute
	// SessionTTL is how long a session lives without use; each use renews it.
	SessionTTL = 30 * 24 * time.Hour
	// SessionRenewAfter is how stale a session's last-seen time may get before
	// a request renews it, so that most requests write nothing.
	SessionRenewAfter = time.Hour
)

// LoginRequest is a pending magic-link sign-in. Only the token's hash is kept.
type LoginRequest struct {
	Email     string
	TokenHash string
	Next      string
	ExpiresAt time.Time
}

// LoginToken is what a magic link's token resolves to before it is used.
type LoginToken struct {
	Email     string
	Next      string
	ExpiresAt time.Time
	// NewUser is set on the token CompleteLogin returns when using it
	// created the account: the user's first sign-in.
	NewUser bool
}

// Session is a signed-in browser. The cookie holds a token; the store keeps
// its hash.
type Session struct {
	ID         int64
	UserID     int64
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// SecondFactor is set when the session was signed in, or later
	// confirmed, with a second factor (not a magic link alone).
	SecondFactor bool
	// VerifiedAt is when the session last proved who it is: its sign-in
	// or a "confirm it's you" step. Zero when unknown.
	VerifiedAt time.Time
	// SSOWorkspaceID is the workspace whose own identity provider signed
	// the session in (0 for any other sign-in).
	SSOWorkspaceID int64
}

// ReauthWindow is how recently a session must have proved who it is to add
// or remove a second factor or make new recovery codes.
const ReauthWindow = 10 * time.Minute

// RecentlyVerified reports whether the principal may change their sign-in
// factors now: their session proved who they are within ReauthWindow, with
// a second factor when they have one (a magic link otherwise). A stolen
// session cookie alone never qualifies for long.
func (p *Principal) RecentlyVerified(now time.Time) bool {
	v := p.Session.VerifiedAt
	if v.IsZero() || now.Sub(v) > ReauthWindow || v.After(now.Add(time.Minute)) {
		return false
	}
	return !p.User.TwoFactor || p.Session.SecondFactor
}

// MeetsTwoFactorPolicy reports whether the principal may open a workspace
// that requires two-factor sign-in: they have a second factor and this
// session used it. A session signed in with a magic link before the user
// enrolled does not count.
func (p *Principal) MeetsTwoFactorPolicy() bool {
	return p.Session.SecondFactor && p.User.TwoFactor
}

// MeetsTwoFactorPolicyOf is MeetsTwoFactorPolicy inside one workspace,
// where a session its own identity provider signed in with a multi-factor
// sign-in it counts (SecondFactor set by that sign-in) qualifies too.
func (p *Principal) MeetsTwoFactorPolicyOf(workspaceID int64) bool {
	return p.Session.SecondFactor && (p.User.TwoFactor || p.Session.SSOWorkspaceID == workspaceID)
}

// NewSession describes the session to start when a magic link is used.
type NewSession struct {
	TokenHash string
	IP        string
	UserAgent string
	// ReplacesHash is the hash of a session token the browser held before
	// signing in; that session is ended so its id is never reused.
	ReplacesHash string
	// TimeZone is the browser's IANA time zone, already checked; the user
	// created by a first sign-in starts with it ("" keeps UTC).
	TimeZone string
	// PendingHash is the hash of the token a browser gets when the user
	// has a second factor: CompleteLogin then starts no session but
	// stores a pending sign-in under it.
	PendingHash string
	// SSOWorkspaceID is the workspace whose identity provider signed the
	// person in, and IdPMFA says that provider's multi-factor sign-in
	// counts as the second factor (sso.go).
	SSOWorkspaceID int64
	IdPMFA         bool
}

// Principal is the signed-in user of a request with their session, read in
// one query.
type Principal struct {
	User    User
	Session Session
	// Version is the user's identity version the request read: it moves
	// with every change to the session, the account, its memberships and
	// their workspaces, and says which kept copies of those the request
	// may use (0 for a principal built without reading it).
	Version int64
}

// AuthService runs magic-link sign-in and sessions. Every change it makes
// writes its audit entry in the same transaction.
type AuthService interface {
	// CreateLoginRequest stores a pending sign-in and queues its email, in
	// one transaction.
	CreateLoginRequest(ctx context.Context, req LoginRequest, msg Email) error
	// FindLoginToken returns the pending sign-in for a token hash without
	// using it: ENOTFOUND for an unknown or used token, EINVALID ("expired")
	// for an expired one.
	FindLoginToken(ctx context.Context, tokenHash string) (*LoginToken, error)
	// CompleteLogin uses a token once: it creates the user on first sign-in,
	// starts the session, voids the email's other outstanding links, ends
	// the replaced session and audits "auth.signed_in". When the user has a
	// second factor it starts no session: it stores a pending sign-in
	// under s.PendingHash and returns the user, the token and
	// ErrSecondFactorRequired (the token is used all the same).
	CompleteLogin(ctx context.Context, tokenHash string, s NewSession) (*User, *LoginToken, error)
	// Authenticate returns the principal for a session token hash, renewing
	// the session when it was last seen over SessionRenewAfter ago.
	Authenticate(ctx context.Context, tokenHash string) (*Principal, error)
	// SignOut ends the session with that token hash ("auth.signed_out").
	SignOut(ctx context.Context, tokenHash string) error
	// FindSessions lists a user's live sessions, newest first.
	FindSessions(ctx context.Context, userID int64) ([]*Session, error)
	// RevokeSession ends one of the user's sessions ("session.revoked").
	RevokeSession(ctx context.Context, userID, sessionID int64) error
	// RevokeOtherSessions ends every session of the user but keepID
	// ("session.revoked_all") and returns how many ended.
	RevokeOtherSessions(ctx context.Context, userID, keepID int64) (int, error)
}

// Sign-in link failures, each with its own page.
var (
	ErrLoginLinkInvalid = &Error{Code: ENOTFOUND, Message: "This sign-in link is not valid."}
	ErrLoginLinkUsed    = &Error{Code: ECONFLICT, Message: "This sign-in link has already been used."}
	ErrLoginLinkExpired = &Error{Code: EINVALID, Message: "This sign-in link has expired."}
)
