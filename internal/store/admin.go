package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// The operator console's reads: staff, and the searches and pages that
// cross every workspace. The console's changes are in admin_actions.go,
// "view as" in admin_impersonation.go.

// The console's statements.
const (
	qStaffOf          = "staff_of_user"
	qStaffAll         = "staff_all"
	qAdminUsersNewest = "admin_users_newest"
	qAdminUsersPrefix = "admin_users_prefix"
	qAdminUserByID    = "admin_user_by_id"
	qAdminWSNewest    = "admin_workspaces_newest"
	qAdminWSPrefix    = "admin_workspaces_prefix"
	qAdminWSByID      = "admin_workspace_by_id"
	qAdminMembers     = "admin_members"
	qAdminInvites     = "admin_invites"
	qUserSuspended    = "user_suspended"
	qWSSuspended      = "workspace_suspended"
)

// adminUserColumns are the columns of a console user row, in the order
// scanAdminUser reads them (users aliased u).
const adminUserColumns = `u.id, u.email, u.name, u.created_at, u.last_sign_in_at, u.two_factor, u.suspended_at,
	u.suspended_reason, (SELECT COUNT(*) FROM memberships mc WHERE mc.user_id = u.id),
	(SELECT COUNT(*) FROM staff st WHERE st.user_id = u.id)`

// adminWorkspaceColumns are the columns of a console workspace row, in the
// order scanAdminWorkspace reads them (workspaces aliased w). The owner is
// the first owner by joining order, found through the members' rank index.
var adminWorkspaceColumns = `w.id, w.slug, w.name, w.plan, w.subscription_status, w.members_count, w.created_at,
	w.suspended_at, w.suspended_reason, w.stripe_customer_id, w.stripe_subscription_id, w.current_period_end,
	w.cancel_at_period_end,
	COALESCE((SELECT ou.email FROM memberships c JOIN users ou ON ou.id = c.user_id
		WHERE c.workspace_id = w.id AND ` + ownerRank + ` = 0 ORDER BY c.id LIMIT 1), '')`

// prefixSQL writes a console search: the ids of up to a page of rows whose
// first key (an address or slug) and up to a page whose lowercased name
// start with a prefix, each read as a range of its index, then the rows of
// those ids in the first key's order. On PostgreSQL the ranges compare in
// byte order ("C"), as the indexes of migration 00020 are built, whatever
// the database's collation.
func prefixSQL(table, alias, columns, key string, postgres bool) string {
	k, n := key, "lower(name)"
	if postgres {
		k, n = key+` COLLATE "C"`, `lower(name) COLLATE "C"`
	}
	return fmt.Sprintf(`SELECT %[1]s FROM %[2]s %[3]s WHERE %[3]s.id IN (
		SELECT id FROM (SELECT id FROM %[2]s WHERE %[4]s >= ? AND %[4]s < ? ORDER BY %[4]s, id LIMIT ?) byk
		UNION
		SELECT id FROM (SELECT id FROM %[2]s WHERE %[5]s >= ? AND %[5]s < ? ORDER BY %[5]s, id LIMIT ?) byn)
		ORDER BY %[3]s.%[6]s, %[3]s.id LIMIT ?`, columns, table, alias, k, n, key)
}

// adminQueries are the console's catalogued statements.
var adminQueries = map[string]hotQuery{
	qStaffOf: {SQL: `SELECT s.user_id, u.email, u.name, u.two_factor, s.granted_at
		FROM staff s JOIN users u ON u.id = s.user_id WHERE s.user_id = ?`},
	qStaffAll: {SQL: `SELECT s.user_id, u.email, u.name, u.two_factor, s.granted_at
		FROM staff s JOIN users u ON u.id = s.user_id ORDER BY u.email`,
		WholeTable: "the operator's list of staff (a handful of people)"},
	qAdminUsersNewest: {SQL: `SELECT ` + adminUserColumns + ` FROM users u WHERE u.created_at <= ?
		ORDER BY u.created_at DESC, u.id DESC LIMIT ?`},
	qAdminUsersPrefix: {SQL: prefixSQL("users", "u", adminUserColumns, "email", false),
		PostgresSQL: prefixSQL("users", "u", adminUserColumns, "email", true),
		BoundedSort: "at most two pages of users matching a prefix"},
	qAdminUserByID: {SQL: `SELECT ` + adminUserColumns + ` FROM users u WHERE u.id = ?`},
	qAdminWSNewest: {SQL: `SELECT ` + adminWorkspaceColumns + ` FROM workspaces w WHERE w.created_at <= ?
		ORDER BY w.created_at DESC, w.id DESC LIMIT ?`},
	qAdminWSPrefix: {SQL: prefixSQL("workspaces", "w", adminWorkspaceColumns, "slug", false),
		PostgresSQL: prefixSQL("workspaces", "w", adminWorkspaceColumns, "slug", true),
		BoundedSort: "at most two pages of workspaces matching a prefix"},
	qAdminWSByID: {SQL: `SELECT ` + adminWorkspaceColumns + ` FROM workspaces w WHERE w.id = ?`},
	// A page of a workspace's members, owners first, through the rank index.
	qAdminMembers: {SQL: `SELECT m.user_id, u.email, u.name, m.role, m.created_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.workspace_id = ? ORDER BY ` + memberRank + `, m.id LIMIT ?`},
	// A page of a workspace's pending invites, newest first.
	qAdminInvites: {SQL: `SELECT id, email, role, created_at, expires_at FROM invites
		WHERE workspace_id = ? AND status = 'pending' ORDER BY created_at DESC, id DESC LIMIT ?`},
	// Whether an account is suspended: read by every sign-in, locking the
	// user's row on PostgreSQL so that a suspension and a sign-in cannot
	// pass each other.
	qUserSuspended: {SQL: `SELECT suspended_at FROM users WHERE id = ?`,
		PostgresSQL: `SELECT suspended_at FROM users WHERE id = ? FOR UPDATE`},
	qWSSuspended: {SQL: `SELECT suspended_at FROM workspaces WHERE id = ?`},
}

// scanAdminUser reads a row of adminUserColumns.
func scanAdminUser(sc scanner) (*app.AdminUser, error) {
	var (
		u                  app.AdminUser
		last, suspended    *time.Time
		workspaces, staffN int64
	)
	if err := scanRow(sc, &u.ID, &u.Email, &u.Name, &u.CreatedAt, &last, &u.TwoFactor, &suspended, &u.SuspendedReason,
		&workspaces, &staffN); err != nil {
		return nil, err
	}
	u.CreatedAt = u.CreatedAt.UTC()
	if last != nil {
		u.LastSignInAt = last.UTC()
	}
	if suspended != nil {
		u.SuspendedAt = suspended.UTC()
	}
	u.Workspaces, u.Staff = int(workspaces), staffN > 0
	return &u, nil
}

// scanAdminWorkspace reads a row of adminWorkspaceColumns.
func scanAdminWorkspace(sc scanner) (*app.AdminWorkspace, error) {
	var (
		w                 app.AdminWorkspace
		suspended, period *time.Time
		members           int64
	)
	if err := scanRow(sc, &w.ID, &w.Slug, &w.Name, &w.Plan, &w.Status, &members, &w.CreatedAt, &suspended,
		&w.SuspendedReason, &w.StripeCustomerID, &w.StripeSubscription, &period, &w.CancelAtPeriodEnd, &w.OwnerEmail); err != nil {
		return nil, err
	}
	w.CreatedAt, w.Members = w.CreatedAt.UTC(), int(members)
	if suspended != nil {
		w.SuspendedAt = suspended.UTC()
	}
	if period != nil {
		w.CurrentPeriodEnd = period.UTC()
	}
	return &w, nil
}

// scanStaff reads a staff row.
func scanStaff(sc scanner) (*app.StaffMember, error) {
	var m app.StaffMember
	if err := scanRow(sc, &m.UserID, &m.Email, &m.Name, &m.TwoFactor, &m.GrantedAt); err != nil {
		return nil, err
	}
	m.GrantedAt = m.GrantedAt.UTC()
	return &m, nil
}

// AdminService implements app.AdminService and app.StaffService.
type AdminService struct {
	db    *DB
	audit *AuditService
}

// NewAdminService returns the console's service of db.
func NewAdminService(db *DB) *AdminService {
	return &AdminService{db: db, audit: NewOperatorAuditService(db)}
}

var (
	_ app.AdminService = (*AdminService)(nil)
	_ app.StaffService = (*AdminService)(nil)
)

// FindStaff returns the staff member with userID, or ENOTFOUND.
func (s *AdminService) FindStaff(ctx context.Context, userID int64) (*app.StaffMember, error) {
	m, err := scanStaff(s.db.queryRow(ctx, nil, qStaffOf, userID))
	if err != nil {
		return nil, notFound(err, app.Errorf(app.ENOTFOUND, "Not staff."), "find staff")
	}
	return m, nil
}

// ListStaff returns every staff member, by email.
func (s *AdminService) ListStaff(ctx context.Context) ([]*app.StaffMember, error) {
	rows, err := s.db.query(ctx, nil, qStaffAll)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*app.StaffMember
	for rows.Next() {
		m, err := scanStaff(rows)
		if err != nil {
			return nil, fmt.Errorf("read staff: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// GrantStaff makes the user with email staff, writing "staff.granted" to
// the system log in the same transaction.
func (s *AdminService) GrantStaff(ctx context.Context, email string) (*app.StaffMember, error) {
	email, err := app.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	var out *app.StaffMember
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := scanUser(s.db.queryRow(ctx, tx, qUserByEmail, email))
		if err != nil {
			return notFound(err, app.Errorf(app.ENOTFOUND, "No user has the email address %s: they sign in once first.", email), "find user")
		}
		now := s.db.now()
		res := tx.Exec(`INSERT INTO staff (user_id, granted_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`, u.ID, now)
		if res.Error != nil {
			return fmt.Errorf("grant staff to user %d: %w", u.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ECONFLICT, "%s is already staff.", email)
		}
		out = &app.StaffMember{UserID: u.ID, Email: u.Email, Name: u.Name, TwoFactor: u.TwoFactor, GrantedAt: now}
		return s.db.audit(ctx, tx, app.AuditEntry{Action: app.ActionStaffGranted, ActorName: operatorName(ctx),
			TargetType: "user", TargetID: fmt.Sprint(u.ID), Metadata: map[string]any{"email": u.Email}})
	})
	return out, err
}

// RevokeStaff takes the console from the user with email and ends any
// impersonation of theirs still open, writing "staff.revoked" in the same
// transaction.
func (s *AdminService) RevokeStaff(ctx context.Context, email string) (*app.StaffMember, error) {
	email, err := app.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	var out *app.StaffMember
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := scanUser(s.db.queryRow(ctx, tx, qUserByEmail, email))
		if err != nil {
			return notFound(err, app.Errorf(app.ENOTFOUND, "No user has the email address %s.", email), "find user")
		}
		m, err := scanStaff(s.db.queryRow(ctx, tx, qStaffOf, u.ID))
		if err != nil {
			return notFound(err, app.Errorf(app.ENOTFOUND, "%s is not staff.", email), "find staff")
		}
		if err := tx.Exec(`DELETE FROM staff WHERE user_id = ?`, u.ID).Error; err != nil {
			return fmt.Errorf("revoke staff of user %d: %w", u.ID, err)
		}
		if err := s.endOpen(ctx, tx, u.ID, 0, app.EndRevoked); err != nil {
			return err
		}
		out = m
		return s.db.audit(ctx, tx, app.AuditEntry{Action: app.ActionStaffRevoked, ActorName: operatorName(ctx),
			TargetType: "user", TargetID: fmt.Sprint(u.ID), Metadata: map[string]any{"email": u.Email}})
	})
	return out, err
}

// operatorName names the actor of a console change made on the command
// line ("An operator"), or nobody when a signed-in staff member acts.
func operatorName(ctx context.Context) string {
	if app.PrincipalFromContext(ctx) != nil {
		return ""
	}
	return "An operator"
}

// SearchUsers lists users whose email or lowercased name starts with q.
func (s *AdminService) SearchUsers(ctx context.Context, q string, limit int) ([]*app.AdminUser, error) {
	limit = pageLimit(limit)
	var (
		r   *rows
		err error
	)
	if q == "" {
		r, err = s.db.query(ctx, nil, qAdminUsersNewest, s.db.now(), limit)
	} else {
		lo, hi := app.PrefixRange(q)
		r, err = s.db.query(ctx, nil, qAdminUsersPrefix, lo, hi, limit, lo, hi, limit, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	defer func() { _ = r.Close() }()
	out := make([]*app.AdminUser, 0, 8)
	for r.Next() {
		u, err := scanAdminUser(r)
		if err != nil {
			return nil, fmt.Errorf("read user: %w", err)
		}
		out = append(out, u)
	}
	return out, r.Err()
}

// SearchWorkspaces lists workspaces whose slug or lowercased name starts
// with q.
func (s *AdminService) SearchWorkspaces(ctx context.Context, q string, limit int) ([]*app.AdminWorkspace, error) {
	limit = pageLimit(limit)
	var (
		r   *rows
		err error
	)
	if q == "" {
		r, err = s.db.query(ctx, nil, qAdminWSNewest, s.db.now(), limit)
	} else {
		lo, hi := app.PrefixRange(q)
		r, err = s.db.query(ctx, nil, qAdminWSPrefix, lo, hi, limit, lo, hi, limit, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("search workspaces: %w", err)
	}
	defer func() { _ = r.Close() }()
	out := make([]*app.AdminWorkspace, 0, 8)
	for r.Next() {
		w, err := scanAdminWorkspace(r)
		if err != nil {
			return nil, fmt.Errorf("read workspace: %w", err)
		}
		out = append(out, w)
	}
	return out, r.Err()
}

// pageLimit bounds a console page.
func pageLimit(n int) int {
	if n <= 0 || n > app.AdminPageSize {
		return app.AdminPageSize
	}
	return n
}

// adminAuditRows is how many of the latest audit entries a console page shows.
const adminAuditRows = 20

// FindAdminUser returns a user's console page: the account, their live
// sessions counted, their workspaces and the latest entries they wrote.
func (s *AdminService) FindAdminUser(ctx context.Context, id int64) (*app.AdminUserDetail, error) {
	u, err := scanAdminUser(s.db.queryRow(ctx, nil, qAdminUserByID, id))
	if err != nil {
		return nil, notFound(err, app.Errorf(app.ENOTFOUND, "User not found."), "find user")
	}
	d := &app.AdminUserDetail{User: *u}
	var n int64
	if err := s.db.queryRow(ctx, nil, qLiveSessions, id, s.db.now()).Scan(&n); err != nil {
		return nil, fmt.Errorf("count sessions of user %d: %w", id, err)
	}
	d.Sessions = int(n)
	if d.Workspaces, err = NewWorkspaceService(s.db).FindWorkspacesByUser(ctx, id); err != nil {
		return nil, err
	}
	if d.Audit, err = s.audit.FindAuditEntries(ctx, app.AuditFilter{ActorID: id, Limit: adminAuditRows}); err != nil {
		return nil, err
	}
	return d, nil
}

// FindAdminWorkspace returns a workspace's console page: its billing
// state, members and pending invites (a page of each) and its latest
// audit entries.
func (s *AdminService) FindAdminWorkspace(ctx context.Context, id int64) (*app.AdminWorkspaceDetail, error) {
	w, err := scanAdminWorkspace(s.db.queryRow(ctx, nil, qAdminWSByID, id))
	if err != nil {
		return nil, notFound(err, app.Errorf(app.ENOTFOUND, "Workspace not found."), "find workspace")
	}
	d := &app.AdminWorkspaceDetail{Workspace: *w}
	rows, err := s.db.query(ctx, nil, qAdminMembers, id, app.AdminPageSize)
	if err != nil {
		return nil, fmt.Errorf("members of workspace %d: %w", id, err)
	}
	for rows.Next() {
		var m app.AdminMember
		var role string
		if err := rows.Scan(&m.UserID, &m.Email, &m.Name, &role, &m.Since); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("read member: %w", err)
		}
		m.Role, m.Since = app.Role(role), m.Since.UTC()
		d.Members = append(d.Members, &m)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.query(ctx, nil, qAdminInvites, id, app.AdminPageSize)
	if err != nil {
		return nil, fmt.Errorf("invites of workspace %d: %w", id, err)
	}
	for rows.Next() {
		var inv app.AdminInvite
		var role string
		if err := rows.Scan(&inv.ID, &inv.Email, &role, &inv.CreatedAt, &inv.ExpiresAt); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("read invite: %w", err)
		}
		inv.Role, inv.CreatedAt, inv.ExpiresAt = app.Role(role), inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
		d.Invites = append(d.Invites, &inv)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if d.Audit, err = s.audit.FindAuditEntries(ctx, app.AuditFilter{Scope: app.Scope{WorkspaceID: id}, Limit: adminAuditRows}); err != nil {
		return nil, err
	}
	return d, nil
}

// WorkspaceSuspended reports whether a workspace is suspended.
func (s *AdminService) WorkspaceSuspended(ctx context.Context, id int64) (bool, error) {
	return s.db.workspaceSuspended(ctx, nil, id)
}

// workspaceSuspended reads a workspace's suspension, in tx when not nil;
// a missing workspace is not suspended (its own read answers not found).
func (db *DB) workspaceSuspended(ctx context.Context, tx *gorm.DB, id int64) (bool, error) {
	var at *time.Time
	err := db.queryRow(ctx, tx, qWSSuspended, id).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read suspension of workspace %d: %w", id, err)
	}
	return at != nil, nil
}

// checkNotSuspended refuses a sign-in of a suspended account: every way
// of starting a session (startSession) calls it in its transaction.
func (db *DB) checkNotSuspended(ctx context.Context, tx *gorm.DB, userID int64) error {
	var at *time.Time
	err := db.queryRow(ctx, tx, qUserSuspended, userID).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return app.Errorf(app.EUNAUTHORIZED, "This account no longer exists.")
	case err != nil:
		return fmt.Errorf("read suspension of user %d: %w", userID, err)
	case at != nil:
		return app.ErrAccountSuspended
	}
	return nil
}
