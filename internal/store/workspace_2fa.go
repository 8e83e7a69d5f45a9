package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// FindKeysWithoutTwoFactor lists the workspace's live API keys whose
// creator has no second factor, oldest first.
func (s *WorkspaceService) FindKeysWithoutTwoFactor(ctx context.Context, sc app.Scope) ([]*app.KeyWithoutTwoFactor, error) {
	return s.db.findKeysWithoutTwoFactor(ctx, nil, sc)
}

// findKeysWithoutTwoFactor is FindKeysWithoutTwoFactor, inside tx when it
// is not nil.
func (db *DB) findKeysWithoutTwoFactor(ctx context.Context, tx *gorm.DB, sc app.Scope) ([]*app.KeyWithoutTwoFactor, error) {
	rows, err := db.query(ctx, tx, qKeysNo2FA, withScope(sc, []any{sc.WorkspaceID}, db.now(), false)...)
	if err != nil {
		return nil, fmt.Errorf("find keys without two-factor: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*app.KeyWithoutTwoFactor
	for rows.Next() {
		k := &app.KeyWithoutTwoFactor{}
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &k.CreatorName, &k.CreatorEmail); err != nil {
			return nil, fmt.Errorf("read key without two-factor: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RequireTwoFactor turns the workspace's two-factor policy on, as
// SetTwoFactorRequired does, and in the same transaction revokes the API
// keys named by revokeIDs, each of which must be one FindKeysWithoutTwoFactor
// lists (ENOTFOUND otherwise, changing nothing: another workspace's key,
// a revoked one, or one whose creator has a factor). Each revocation is
// audited as "api_key.revoked" with the reason.
func (s *WorkspaceService) RequireTwoFactor(ctx context.Context, sc app.Scope, revokeIDs []int64) (int, error) {
	revoked, workspaceID := 0, sc.WorkspaceID
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.setTwoFactorRequired(ctx, tx, sc, true); err != nil {
			return err
		}
		if len(revokeIDs) == 0 {
			return nil
		}
		now := s.db.now()
		atRisk, err := s.db.findKeysWithoutTwoFactor(ctx, tx, sc)
		if err != nil {
			return err
		}
		byID := make(map[int64]*app.KeyWithoutTwoFactor, len(atRisk))
		for _, k := range atRisk {
			byID[k.ID] = k
		}
		for _, id := range revokeIDs {
			k, ok := byID[id]
			if !ok {
				return &app.Error{Code: app.ENOTFOUND, Field: "revoke_key", Message: "That API key isn’t one of this workspace’s keys made without two-factor sign-in."}
			}
			delete(byID, id)
			res := tx.Model(&apiKeyRecord{}).Where("id = ? AND workspace_id = ? AND revoked_at IS NULL", id, workspaceID).Update("revoked_at", now)
			if res.Error != nil {
				return fmt.Errorf("revoke api key: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				continue // listed twice in the form
			}
			revoked++
			if err := s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionAPIKeyRevoked,
				TargetType: "api_key", TargetID: fmt.Sprint(id),
				Metadata: map[string]any{"name": k.Name, "prefix": k.Prefix, "reason": "two_factor_required"}}); err != nil {
				return err
			}
		}
		return nil
	})
	return revoked, err
}

// CountMembersWithoutTwoFactor counts the workspace's members who have no
// second factor, in one statement through the workspace's memberships.
func (s *WorkspaceService) CountMembersWithoutTwoFactor(ctx context.Context, sc app.Scope) (int, error) {
	var n int
	err := s.db.queryRow(ctx, nil, qMembersNo2FA, withScope(sc, []any{sc.WorkspaceID}, false)...).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNotMember
	}
	if err != nil {
		return 0, fmt.Errorf("count members without two-factor: %w", err)
	}
	return n, nil
}

// SetTwoFactorRequired turns the workspace's two-factor policy on or off
// under app.CanSetTwoFactorPolicy: owners only, and on only while the
// principal has a second factor, read here rather than from the session
// so a factor removed a moment ago counts. An unchanged policy writes
// nothing.
func (s *WorkspaceService) SetTwoFactorRequired(ctx context.Context, sc app.Scope, required bool) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		return s.setTwoFactorRequired(ctx, tx, sc, required)
	})
}

// setTwoFactorRequired is SetTwoFactorRequired inside tx.
func (s *WorkspaceService) setTwoFactorRequired(ctx context.Context, tx *gorm.DB, sc app.Scope, required bool) error {
	m, err := s.db.lockMemberScope(ctx, tx, sc)
	if err != nil {
		return err
	}
	var own bool
	if err := s.db.queryRow(ctx, tx, qUserHas2FA, m.UserID).Scan(&own); err != nil {
		return fmt.Errorf("read own two-factor state: %w", err)
	}
	if err := app.CanSetTwoFactorPolicy(app.Role(m.Role), required, own); err != nil {
		return err
	}
	r, err := s.db.findWorkspace(ctx, tx, sc.WorkspaceID)
	if err != nil {
		return err
	}
	if r.RequireTwoFactor == required {
		return nil
	}
	if err := tx.Model(&workspaceRecord{}).Where("id = ?", r.ID).
		Updates(map[string]any{"require_two_factor": required, "updated_at": s.db.now()}).Error; err != nil {
		return fmt.Errorf("set two-factor policy: %w", err)
	}
	action := app.ActionWorkspace2FAOptional
	if required {
		action = app.ActionWorkspace2FARequired
	}
	return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: r.ID, Action: action,
		TargetType: "workspace", TargetID: fmt.Sprint(r.ID)})
}
