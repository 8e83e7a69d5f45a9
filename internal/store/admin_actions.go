package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// The console's support actions. Each checks its reason, changes one
// user or workspace and writes its audit entry with the reason in the same
// transaction: a user's to the system log, a workspace's to its own.

// adminUser reads the user a console action is about, in tx.
func (s *AdminService) adminUser(ctx context.Context, tx *gorm.DB, id int64) (*app.AdminUser, error) {
	u, err := scanAdminUser(s.db.queryRow(ctx, tx, qAdminUserByID, id))
	if err != nil {
		return nil, notFound(err, app.Errorf(app.ENOTFOUND, "User not found."), "find user")
	}
	return u, nil
}

// SuspendUser suspends the account and ends every session of it. API keys
// of the user's workspaces keep working: a key acts as its workspace, not
// as a person (suspend the workspace to stop its keys' changes).
func (s *AdminService) SuspendUser(ctx context.Context, id int64, reason string) error {
	reason, err := app.ValidateStaffReason(reason)
	if err != nil {
		return err
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.adminUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Suspended() {
			return app.Errorf(app.ECONFLICT, "%s is already suspended.", u.Email)
		}
		if u.Staff {
			return app.Errorf(app.ECONFLICT, "%s is staff: revoke their staff access (atrium staff revoke) before suspending them.", u.Email)
		}
		// Conditional, so that of two suspensions racing one changes the row.
		res := tx.Exec(`UPDATE users SET suspended_at = ?, suspended_reason = ? WHERE id = ? AND suspended_at IS NULL`, s.db.now(), reason, id)
		if res.Error != nil {
			return fmt.Errorf("suspend user %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ECONFLICT, "%s is already suspended.", u.Email)
		}
		d := tx.Where("user_id = ?", id).Delete(&sessionRecord{})
		if d.Error != nil {
			return fmt.Errorf("end sessions of user %d: %w", id, d.Error)
		}
		// Pending second-factor sign-ins of the account go too.
		if err := tx.Exec(`DELETE FROM auth_challenges WHERE user_id = ?`, id).Error; err != nil {
			return fmt.Errorf("end pending sign-ins of user %d: %w", id, err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{Action: app.ActionUserSuspended, TargetType: "user", TargetID: fmt.Sprint(id),
			Metadata: map[string]any{"email": u.Email, "reason": reason, "sessions_ended": d.RowsAffected}})
	})
}

// UnsuspendUser lifts the account's suspension; it signs in again with a
// new link.
func (s *AdminService) UnsuspendUser(ctx context.Context, id int64, reason string) error {
	reason, err := app.ValidateStaffReason(reason)
	if err != nil {
		return err
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.adminUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if !u.Suspended() {
			return app.Errorf(app.ECONFLICT, "%s is not suspended.", u.Email)
		}
		res := tx.Exec(`UPDATE users SET suspended_at = NULL, suspended_reason = '' WHERE id = ? AND suspended_at IS NOT NULL`, id)
		if res.Error != nil {
			return fmt.Errorf("unsuspend user %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ECONFLICT, "%s is not suspended.", u.Email)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{Action: app.ActionUserUnsuspended, TargetType: "user", TargetID: fmt.Sprint(id),
			Metadata: map[string]any{"email": u.Email, "reason": reason}})
	})
}

// EndUserSessions ends every session of the user; they sign in again.
func (s *AdminService) EndUserSessions(ctx context.Context, id int64, reason string) (int, error) {
	reason, err := app.ValidateStaffReason(reason)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.adminUser(ctx, tx, id)
		if err != nil {
			return err
		}
		d := tx.Where("user_id = ?", id).Delete(&sessionRecord{})
		if d.Error != nil {
			return fmt.Errorf("end sessions of user %d: %w", id, d.Error)
		}
		n = int(d.RowsAffected)
		return s.db.audit(ctx, tx, app.AuditEntry{Action: app.ActionUserSessionsEnded, TargetType: "user", TargetID: fmt.Sprint(id),
			Metadata: map[string]any{"email": u.Email, "reason": reason, "count": n}})
	})
	return n, err
}

// SendSignInLink stores a sign-in link for the user's address and queues
// its email, as the sign-in page does, with the console's entry.
func (s *AdminService) SendSignInLink(ctx context.Context, id int64, reason string, req app.LoginRequest, msg app.Email) error {
	reason, err := app.ValidateStaffReason(reason)
	if err != nil {
		return err
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.adminUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Suspended() {
			return app.Errorf(app.ECONFLICT, "%s is suspended: lift the suspension before sending a sign-in link.", u.Email)
		}
		r := loginTokenRecord{TokenHash: req.TokenHash, Email: u.Email, Next: req.Next, CreatedAt: s.db.now(), ExpiresAt: req.ExpiresAt.UTC()}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("create login token: %w", err)
		}
		msg.To, msg.LinkExpiresAt = u.Email, r.ExpiresAt
		if err := s.db.enqueueEmail(tx, msg); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{Action: app.ActionSignInLinkSent, TargetType: "user", TargetID: fmt.Sprint(id),
			Metadata: map[string]any{"email": u.Email, "reason": reason}})
	})
}

// adminWorkspace reads the workspace a console action is about, in tx.
func (s *AdminService) adminWorkspace(ctx context.Context, tx *gorm.DB, id int64) (*app.AdminWorkspace, error) {
	w, err := scanAdminWorkspace(s.db.queryRow(ctx, tx, qAdminWSByID, id))
	if err != nil {
		return nil, notFound(err, app.Errorf(app.ENOTFOUND, "Workspace not found."), "find workspace")
	}
	return w, nil
}

// SuspendWorkspace makes the workspace read-only: its members and keys may
// read it, nothing changes it. Its billing is untouched.
func (s *AdminService) SuspendWorkspace(ctx context.Context, id int64, reason string) error {
	return s.setWorkspaceSuspended(ctx, id, reason, true)
}

// UnsuspendWorkspace lifts the workspace's suspension.
func (s *AdminService) UnsuspendWorkspace(ctx context.Context, id int64, reason string) error {
	return s.setWorkspaceSuspended(ctx, id, reason, false)
}

func (s *AdminService) setWorkspaceSuspended(ctx context.Context, id int64, reason string, suspend bool) error {
	reason, err := app.ValidateStaffReason(reason)
	if err != nil {
		return err
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		w, err := s.adminWorkspace(ctx, tx, id)
		if err != nil {
			return err
		}
		action, already := app.ActionWorkspaceSuspended, "The workspace %s is already suspended."
		var res *gorm.DB
		if suspend {
			res = tx.Exec(`UPDATE workspaces SET suspended_at = ?, suspended_reason = ? WHERE id = ? AND suspended_at IS NULL`, s.db.now(), reason, id)
		} else {
			action, already = app.ActionWorkspaceUnsuspended, "The workspace %s is not suspended."
			res = tx.Exec(`UPDATE workspaces SET suspended_at = NULL, suspended_reason = '' WHERE id = ? AND suspended_at IS NOT NULL`, id)
		}
		if res.Error != nil {
			return fmt.Errorf("suspend workspace %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ECONFLICT, already, w.Slug)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: id, Action: action, TargetType: "workspace", TargetID: fmt.Sprint(id),
			Metadata: map[string]any{"slug": w.Slug, "reason": reason}})
	})
}

// RecordBillingSync writes the console's request for a billing sync, with
// its reason, to the workspace's log; the sync writes "billing.synced".
func (s *AdminService) RecordBillingSync(ctx context.Context, id int64, reason string) error {
	reason, err := app.ValidateStaffReason(reason)
	if err != nil {
		return err
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		w, err := s.adminWorkspace(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: id, Action: app.ActionStaffBillingSync, TargetType: "workspace",
			TargetID: fmt.Sprint(id), Metadata: map[string]any{"slug": w.Slug, "reason": reason}})
	})
}
