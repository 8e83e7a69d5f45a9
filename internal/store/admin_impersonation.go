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

// "View as": a staff member's session sees the app as another user. The
// row is tied to the staff member's session and never touches the user's
// own sessions. Its start and end go to the system log and to the log of
// every workspace it opened, the actor being the staff member "as" the
// user.

// The impersonation statements.
const (
	qImpersonation = "impersonation_by_hash"
	qImpVisits     = "impersonation_visits"
	qImpByID       = "impersonation_by_id"
	qImpOpen       = "impersonations_open"
)

// impersonationColumns are the columns of an impersonation with both
// users, in the order scanImpersonation reads them.
const impersonationColumns = `i.id, i.staff_session_id, i.reason, i.write_reason, i.write_started_at, i.started_at,
	i.expires_at, i.ended_at,
	su.id, su.email, su.name, su.time_zone, su.language, su.two_factor, su.created_at, su.updated_at,
	tu.id, tu.email, tu.name, tu.time_zone, tu.language, tu.two_factor, tu.created_at, tu.updated_at
	FROM impersonations i JOIN users su ON su.id = i.staff_user_id JOIN users tu ON tu.id = i.target_user_id`

var impersonationQueries = map[string]hotQuery{
	// Every request of a browser holding a "view as" cookie.
	qImpersonation: {SQL: `SELECT ` + impersonationColumns + ` WHERE i.token_hash = ? AND i.staff_session_id = ?`},
	qImpByID:       {SQL: `SELECT ` + impersonationColumns + ` WHERE i.id = ?`},
	qImpVisits:     {SQL: `SELECT workspace_id FROM impersonation_visits WHERE impersonation_id = ? ORDER BY workspace_id`},
	// A staff member's views still open, of one session or (0) all.
	qImpOpen: {SQL: `SELECT id FROM impersonations WHERE staff_user_id = ? AND (staff_session_id = ? OR ? = 0)
		AND ended_at IS NULL ORDER BY id`, BoundedSort: "one staff member's views"},
}

// scanImpersonation reads a row of impersonationColumns.
func scanImpersonation(sc scanner) (*app.Impersonation, error) {
	var (
		imp          app.Impersonation
		write, ended *time.Time
	)
	su, tu := &imp.Staff, &imp.Target
	if err := scanRow(sc, &imp.ID, &imp.StaffSessionID, &imp.Reason, &imp.WriteReason, &write, &imp.StartedAt, &imp.ExpiresAt, &ended,
		&su.ID, &su.Email, &su.Name, &su.TimeZone, &su.Language, &su.TwoFactor, &su.CreatedAt, &su.UpdatedAt,
		&tu.ID, &tu.Email, &tu.Name, &tu.TimeZone, &tu.Language, &tu.TwoFactor, &tu.CreatedAt, &tu.UpdatedAt); err != nil {
		return nil, err
	}
	if write != nil {
		imp.WriteStartedAt = write.UTC()
	}
	if ended != nil {
		imp.EndedAt = ended.UTC()
	}
	imp.StartedAt, imp.ExpiresAt = imp.StartedAt.UTC(), imp.ExpiresAt.UTC()
	return &imp, nil
}

type impersonationRecord struct {
	ID             int64
	TokenHash      string
	StaffUserID    int64
	StaffSessionID int64
	TargetUserID   int64
	Reason         string
	StartedAt      time.Time
	ExpiresAt      time.Time
}

func (impersonationRecord) TableName() string { return "impersonations" }

// impersonationEntry returns an entry about imp with the staff member as
// the actor, named as acting "as" the user.
func impersonationEntry(imp *app.Impersonation, workspaceID int64, action string, md map[string]any) app.AuditEntry {
	if md == nil {
		md = map[string]any{}
	}
	md["email"] = imp.Target.Email
	md["staff_email"] = imp.Staff.Email
	md["impersonation_id"] = imp.ID
	return app.AuditEntry{WorkspaceID: workspaceID, ActorID: imp.Staff.ID, ActorEmail: imp.Staff.Email, ActorName: imp.ActorName(),
		Action: action, TargetType: "user", TargetID: fmt.Sprint(imp.Target.ID), Metadata: md}
}

// impersonatedEntry returns e, written by a change the user's principal
// made during imp, as made by the staff member "as" the user.
func impersonatedEntry(imp *app.Impersonation, e app.AuditEntry) app.AuditEntry {
	md := make(map[string]any, len(e.Metadata)+3)
	for k, v := range e.Metadata {
		md[k] = v
	}
	md["as_user_id"] = imp.Target.ID
	md["as_user_email"] = imp.Target.Email
	md["impersonation_id"] = imp.ID
	e.Metadata = md
	e.ActorID, e.ActorEmail, e.ActorName = imp.Staff.ID, imp.Staff.Email, imp.ActorName()
	return e
}

// StartImpersonation starts a read-only "view as" of the staff member in
// ctx for their session.
func (s *AdminService) StartImpersonation(ctx context.Context, n app.NewImpersonation) (*app.Impersonation, error) {
	reason, err := app.ValidateStaffReason(n.Reason)
	if err != nil {
		return nil, err
	}
	p := app.PrincipalFromContext(ctx)
	if p == nil {
		return nil, app.Errorf(app.EUNAUTHORIZED, "Sign in first.")
	}
	var out *app.Impersonation
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.adminUser(ctx, tx, n.TargetUserID)
		switch {
		case err != nil:
			return err
		case u.ID == p.User.ID:
			return app.FieldErrorf("reason", "You cannot view as yourself.")
		case u.Staff:
			return app.FieldErrorf("reason", "%s is staff: staff accounts cannot be viewed as.", u.Email)
		case u.Suspended():
			return app.FieldErrorf("reason", "%s is suspended: lift the suspension first.", u.Email)
		}
		now := s.db.now()
		// One "view as" per staff session: an earlier one still open ends.
		if err := s.endOpen(ctx, tx, p.User.ID, n.StaffSessionID, app.EndStopped); err != nil {
			return err
		}
		r := impersonationRecord{TokenHash: n.TokenHash, StaffUserID: p.User.ID, StaffSessionID: n.StaffSessionID,
			TargetUserID: u.ID, Reason: reason, StartedAt: now, ExpiresAt: now.Add(app.ImpersonationTTL)}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("start impersonation: %w", err)
		}
		imp, err := scanImpersonation(s.db.queryRow(ctx, tx, qImpByID, r.ID))
		if err != nil {
			return fmt.Errorf("read impersonation: %w", err)
		}
		out = imp
		return s.db.audit(ctx, tx, impersonationEntry(imp, 0, app.ActionImpersonationStarted,
			map[string]any{"reason": reason, "mode": "read-only", "expires_at": imp.ExpiresAt.Format(time.RFC3339)}))
	})
	return out, err
}

// endOpen ends the staff member's impersonations still open, of one
// session or (sessionID 0) all, with their entries.
func (s *AdminService) endOpen(ctx context.Context, tx *gorm.DB, staffID, sessionID int64, how string) error {
	rows, err := s.db.query(ctx, tx, qImpOpen, staffID, sessionID, sessionID)
	if err != nil {
		return fmt.Errorf("find open impersonations: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return fmt.Errorf("read open impersonation: %w", err)
		}
		ids = append(ids, id)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find open impersonations: %w", err)
	}
	for _, id := range ids {
		if err := s.stop(ctx, tx, id, how, nil); err != nil {
			return err
		}
	}
	return nil
}

// FindImpersonation returns the impersonation of a token hash for the
// staff session, unless it has ended.
func (s *AdminService) FindImpersonation(ctx context.Context, tokenHash string, staffSessionID int64) (*app.Impersonation, error) {
	imp, err := scanImpersonation(s.db.queryRow(ctx, nil, qImpersonation, tokenHash, staffSessionID))
	if err != nil {
		return nil, notFound(err, app.Errorf(app.ENOTFOUND, "This view has ended."), "find impersonation")
	}
	if !imp.EndedAt.IsZero() {
		return nil, app.Errorf(app.ENOTFOUND, "This view has ended.")
	}
	return imp, nil
}

// StartWriteSession lets the impersonation change what the user could,
// with a second reason, until it ends.
func (s *AdminService) StartWriteSession(ctx context.Context, id int64, reason string) error {
	reason, err := app.ValidateStaffReason(reason)
	if err != nil {
		return err
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		imp, err := scanImpersonation(s.db.queryRow(ctx, tx, qImpByID, id))
		if err != nil {
			return notFound(err, app.Errorf(app.ENOTFOUND, "This view has ended."), "find impersonation")
		}
		now := s.db.now()
		switch {
		case !imp.EndedAt.IsZero() || imp.Expired(now):
			return app.Errorf(app.ECONFLICT, "This view has ended.")
		case imp.Writes():
			return app.Errorf(app.ECONFLICT, "This is already a write session.")
		}
		res := tx.Exec(`UPDATE impersonations SET write_reason = ?, write_started_at = ? WHERE id = ? AND write_started_at IS NULL`,
			reason, now, id)
		if res.Error != nil {
			return fmt.Errorf("start write session: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ECONFLICT, "This is already a write session.")
		}
		visits, err := s.visits(ctx, tx, id)
		if err != nil {
			return err
		}
		md := map[string]any{"reason": reason}
		for _, ws := range append([]int64{0}, visits...) {
			if err := s.db.audit(ctx, tx, impersonationEntry(imp, ws, app.ActionImpersonationWriteStarted, md)); err != nil {
				return err
			}
		}
		return nil
	})
}

// visits returns the workspaces an impersonation opened.
func (s *AdminService) visits(ctx context.Context, tx *gorm.DB, id int64) ([]int64, error) {
	rows, err := s.db.query(ctx, tx, qImpVisits, id)
	if err != nil {
		return nil, fmt.Errorf("impersonation visits: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []int64
	for rows.Next() {
		var ws int64
		if err := rows.Scan(&ws); err != nil {
			return nil, err
		}
		out = append(out, ws)
	}
	return out, rows.Err()
}

// VisitWorkspace notes the workspace; its first visit writes the start of
// the impersonation (and of its write session, if any) to the workspace's
// log.
func (s *AdminService) VisitWorkspace(ctx context.Context, imp *app.Impersonation, workspaceID int64) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO impersonation_visits (impersonation_id, workspace_id, visited_at) VALUES (?, ?, ?)
			ON CONFLICT (impersonation_id, workspace_id) DO NOTHING`, imp.ID, workspaceID, s.db.now())
		if res.Error != nil {
			return fmt.Errorf("note impersonation visit: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		mode := "read-only"
		if imp.Writes() {
			mode = "write session"
		}
		if err := s.db.audit(ctx, tx, impersonationEntry(imp, workspaceID, app.ActionImpersonationStarted,
			map[string]any{"reason": imp.Reason, "mode": mode})); err != nil {
			return err
		}
		if imp.Writes() {
			return s.db.audit(ctx, tx, impersonationEntry(imp, workspaceID, app.ActionImpersonationWriteStarted,
				map[string]any{"reason": imp.WriteReason}))
		}
		return nil
	})
}

// StopImpersonation ends the impersonation, writing its end to the system
// log and to every workspace it visited; after a write session the user is
// emailed msg(imp).
func (s *AdminService) StopImpersonation(ctx context.Context, id int64, how string, msg func(*app.Impersonation) app.Email) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		return s.stop(ctx, tx, id, how, msg)
	})
}

func (s *AdminService) stop(ctx context.Context, tx *gorm.DB, id int64, how string, msg func(*app.Impersonation) app.Email) error {
	now := s.db.now()
	res := tx.Exec(`UPDATE impersonations SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL`, now, how, id)
	if res.Error != nil {
		return fmt.Errorf("end impersonation %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil // ended already
	}
	imp, err := scanImpersonation(s.db.queryRow(ctx, tx, qImpByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read impersonation %d: %w", id, err)
	}
	visits, err := s.visits(ctx, tx, id)
	if err != nil {
		return err
	}
	md := map[string]any{"how": how, "workspaces": len(visits), "write_session": imp.Writes()}
	for _, ws := range append([]int64{0}, visits...) {
		if err := s.db.audit(ctx, tx, impersonationEntry(imp, ws, app.ActionImpersonationEnded, md)); err != nil {
			return err
		}
	}
	if imp.Writes() && msg != nil {
		imp.EndedAt = now
		m := msg(imp)
		m.To = imp.Target.Email
		return s.db.enqueueEmail(tx, m)
	}
	return nil
}
