package app

import (
	"context"
	"strings"
	"time"
)

// The operator console (/admin): staff accounts, search across every user
// and workspace, suspension and "view as" (impersonation). Staff are
// granted on the command line only (`atrium staff grant`); the console
// opens to them once they sign in with a second factor.

// ImpersonationTTL is the longest a "view as" lasts; it cannot be renewed,
// only started again with a new reason.
const ImpersonationTTL = 30 * time.Minute

// MaxStaffReasonLength bounds the reason given for a console action.
const MaxStaffReasonLength = 200

// AdminPageSize is how many rows a console search shows.
const AdminPageSize = 50

// MaxAdminQueryLength bounds a console search.
const MaxAdminQueryLength = 100

// ValidateStaffReason checks the reason a staff member gives for an action
// (required, one line, at most MaxStaffReasonLength characters). Errors are
// about the "reason" field.
func ValidateStaffReason(reason string) (string, error) {
	reason, err := CleanText("reason", "reason", reason, MaxStaffReasonLength)
	if err != nil {
		return "", err
	}
	if reason == "" {
		return "", FieldErrorf("reason", "Give the reason (for example, the support ticket). It is kept in the audit log.")
	}
	return reason, nil
}

// CleanAdminQuery checks a console search and returns it lowercased: the
// prefix every list matches (addresses and slugs are stored lowercase,
// names are matched lowercased). Errors are about the "q" field.
func CleanAdminQuery(q string) (string, error) {
	q, err := CleanText("q", "search", q, MaxAdminQueryLength)
	if err != nil {
		return "", err
	}
	return strings.ToLower(q), nil
}

// PrefixRange returns the bounds [lo, hi) of the strings starting with
// prefix in byte order, as the console's searches read them from an index.
func PrefixRange(prefix string) (lo, hi string) {
	return prefix, prefix + "\U0010FFFF"
}

// StaffMember is a user granted the console.
type StaffMember struct {
	UserID    int64
	Email     string
	Name      string
	TwoFactor bool
	GrantedAt time.Time
}

// StaffService grants and revokes the console (the CLI's `atrium staff`).
// Each change writes its entry to the system chain (no workspace).
type StaffService interface {
	// GrantStaff makes the user with email staff ("staff.granted");
	// ECONFLICT when they already are, ENOTFOUND without such a user.
	GrantStaff(ctx context.Context, email string) (*StaffMember, error)
	// RevokeStaff takes the console from the user with email
	// ("staff.revoked") and ends their impersonations; ENOTFOUND when they
	// are not staff.
	RevokeStaff(ctx context.Context, email string) (*StaffMember, error)
	// ListStaff returns every staff member, by email.
	ListStaff(ctx context.Context) ([]*StaffMember, error)
}

// AdminUser is a row of the console's user list.
type AdminUser struct {
	ID          int64
	Email, Name string
	CreatedAt   time.Time
	// LastSignInAt is when the user last started a session; zero if never
	// since the console was installed.
	LastSignInAt time.Time
	Workspaces   int
	TwoFactor    bool
	Staff        bool
	// SuspendedAt is zero unless the account is suspended.
	SuspendedAt     time.Time
	SuspendedReason string
}

// Suspended reports whether the account is suspended.
func (u *AdminUser) Suspended() bool { return !u.SuspendedAt.IsZero() }

// AdminWorkspace is a row of the console's workspace list.
type AdminWorkspace struct {
	ID                 int64
	Slug, Name         string
	Plan, Status       string
	Members            int
	OwnerEmail         string
	CreatedAt          time.Time
	SuspendedAt        time.Time
	SuspendedReason    string
	StripeCustomerID   string
	StripeSubscription string
	CurrentPeriodEnd   time.Time
	CancelAtPeriodEnd  bool
}

// Suspended reports whether the workspace is suspended.
func (w *AdminWorkspace) Suspended() bool { return !w.SuspendedAt.IsZero() }

// AdminMember is a member as the console's workspace page lists them.
type AdminMember struct {
	UserID      int64
	Email, Name string
	Role        Role
	Since       time.Time
}

// AdminUserDetail is the console's page of one user.
type AdminUserDetail struct {
	User       AdminUser
	Sessions   int
	Workspaces []*UserWorkspace
	Audit      []*AuditEntry
}

// AdminWorkspaceDetail is the console's page of one workspace.
type AdminWorkspaceDetail struct {
	Workspace AdminWorkspace
	Members   []*AdminMember
	Invites   []*AdminInvite
	Audit     []*AuditEntry
}

// AdminInvite is a pending invite as the console's workspace page lists it.
type AdminInvite struct {
	ID        int64
	Email     string
	Role      Role
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Impersonation is a staff member viewing the app as another user.
type Impersonation struct {
	ID             int64
	Staff          User
	StaffSessionID int64
	Target         User
	Reason         string
	// WriteReason is set once the staff member started a write session:
	// from then on the impersonation may change what the user could.
	WriteReason    string
	WriteStartedAt time.Time
	StartedAt      time.Time
	ExpiresAt      time.Time
	EndedAt        time.Time
}

// Writes reports whether the impersonation is a write session.
func (i *Impersonation) Writes() bool { return !i.WriteStartedAt.IsZero() }

// Expired reports whether the impersonation's time is up at now.
func (i *Impersonation) Expired(now time.Time) bool { return !now.Before(i.ExpiresAt) }

// ActorName is how audit entries written during the impersonation name
// their actor: the staff member "as" the user.
func (i *Impersonation) ActorName() string {
	return i.Staff.DisplayName() + " (staff) as " + i.Target.DisplayName()
}

// How an impersonation ended, for its audit entries.
const (
	EndStopped = "stopped"
	EndExpired = "expired"
	EndRevoked = "revoked"
)

// NewImpersonation describes a "view as" to start.
type NewImpersonation struct {
	TokenHash      string
	StaffSessionID int64
	TargetUserID   int64
	Reason         string
}

// AdminService is the console's store: every read crosses workspaces (the
// caller is staff, checked by the server's requireStaff before any call)
// and every change writes its audit entry, with the reason, in the same
// transaction. The acting staff member is the principal in ctx.
type AdminService interface {
	// FindStaff returns the staff member with userID, or ENOTFOUND.
	FindStaff(ctx context.Context, userID int64) (*StaffMember, error)
	// SearchUsers lists up to limit users whose email or lowercased name
	// starts with q (the newest users when q is empty).
	SearchUsers(ctx context.Context, q string, limit int) ([]*AdminUser, error)
	// SearchWorkspaces lists up to limit workspaces whose slug or
	// lowercased name starts with q (the newest when q is empty).
	SearchWorkspaces(ctx context.Context, q string, limit int) ([]*AdminWorkspace, error)
	// FindAdminUser returns a user's page, or ENOTFOUND.
	FindAdminUser(ctx context.Context, id int64) (*AdminUserDetail, error)
	// FindAdminWorkspace returns a workspace's page, or ENOTFOUND.
	FindAdminWorkspace(ctx context.Context, id int64) (*AdminWorkspaceDetail, error)

	// SuspendUser suspends an account and ends all its sessions
	// ("user.suspended"); ECONFLICT when already suspended.
	SuspendUser(ctx context.Context, id int64, reason string) error
	// UnsuspendUser lifts a suspension ("user.unsuspended").
	UnsuspendUser(ctx context.Context, id int64, reason string) error
	// EndUserSessions ends every session of a user ("user.sessions_ended")
	// and returns how many ended.
	EndUserSessions(ctx context.Context, id int64, reason string) (int, error)
	// SendSignInLink stores a sign-in link for the user and queues msg
	// ("user.sign_in_link_sent"); refused for a suspended account.
	SendSignInLink(ctx context.Context, id int64, reason string, req LoginRequest, msg Email) error
	// SuspendWorkspace makes a workspace read-only ("workspace.suspended");
	// its billing is untouched.
	SuspendWorkspace(ctx context.Context, id int64, reason string) error
	// UnsuspendWorkspace lifts it ("workspace.unsuspended").
	UnsuspendWorkspace(ctx context.Context, id int64, reason string) error
	// WorkspaceSuspended reports whether a workspace is suspended, with the
	// reason; a primary-key read, run before every change to a workspace.
	WorkspaceSuspended(ctx context.Context, id int64) (bool, error)
	// RecordBillingSync writes the "staff.billing_sync" entry of a billing
	// sync run from the console, with its reason, in the workspace's log.
	RecordBillingSync(ctx context.Context, id int64, reason string) error

	// StartImpersonation starts a read-only "view as" for the staff
	// member's session ("staff.impersonation_started" in the system log);
	// refused for staff targets, suspended users and oneself.
	StartImpersonation(ctx context.Context, n NewImpersonation) (*Impersonation, error)
	// FindImpersonation returns the live or expired, not ended,
	// impersonation of a token hash for the staff session; ENOTFOUND
	// otherwise.
	FindImpersonation(ctx context.Context, tokenHash string, staffSessionID int64) (*Impersonation, error)
	// StartWriteSession turns an impersonation into a write session with a
	// second reason ("staff.write_session_started").
	StartWriteSession(ctx context.Context, id int64, reason string) error
	// VisitWorkspace notes that an impersonation opened a workspace; the
	// first time, it writes the start to that workspace's log.
	VisitWorkspace(ctx context.Context, imp *Impersonation, workspaceID int64) error
	// StopImpersonation ends an impersonation ("staff.impersonation_ended"
	// in the system log and in the log of every workspace it visited); msg
	// is queued to the user when it was a write session. Ending one that
	// already ended is not an error.
	StopImpersonation(ctx context.Context, id int64, how string, msg func(*Impersonation) Email) error
}

const impersonationKey contextKey = 100

// WithImpersonation returns a context carrying the request's impersonation.
func WithImpersonation(ctx context.Context, imp *Impersonation) context.Context {
	return context.WithValue(ctx, impersonationKey, imp)
}

// ImpersonationFromContext returns the request's impersonation, or nil.
func ImpersonationFromContext(ctx context.Context) *Impersonation {
	imp, _ := ctx.Value(impersonationKey).(*Impersonation)
	return imp
}

// ErrAccountSuspended refuses a sign-in to a suspended account.
var ErrAccountSuspended = &Error{Code: EFORBIDDEN,
	Message: "This account is suspended, so it cannot sign in. Contact support if you think this is a mistake."}

// ErrWorkspaceSuspended refuses a change to a suspended workspace.
var ErrWorkspaceSuspended = &Error{Code: EFORBIDDEN,
	Message: "This workspace is suspended: it can be read but not changed. Contact support to lift the suspension."}
