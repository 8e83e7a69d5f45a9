package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// scopeArgs are the arguments of scopeClause for a scope.
func scopeArgs(sc app.Scope) []any {
	return []any{sc.WorkspaceID, sc.UserID, sc.APIKeyID, sc.WorkspaceID}
}

// withScope returns the arguments of a scoped statement: before, the
// scope's, then after.
func withScope(sc app.Scope, before []any, after ...any) []any {
	out := make([]any, 0, len(before)+4+len(after))
	out = append(out, before...)
	out = append(out, scopeArgs(sc)...)
	return append(out, after...)
}

// lockScope checks a scope inside tx, the first step of every write to a
// workspace, and returns the acting membership: the user's own, or for a
// key app.APIKeyRole in its own workspace. On Postgres it locks the
// workspace row first, so concurrent membership changes of one workspace
// run one at a time (SQLite's IMMEDIATE transactions already do); a key's
// creator's role is read under that lock, so a change racing a removal or
// demotion of the creator runs wholly before it or is refused. A user who
// is not a member, or a key of another workspace, gets ENOTFOUND, as if
// the workspace did not exist.
func (db *DB) lockScope(ctx context.Context, tx *gorm.DB, sc app.Scope) (*membershipRecord, error) {
	if sc.UserID == 0 && sc.APIKeyID == 0 {
		return nil, app.Errorf(app.EUNAUTHORIZED, "Sign in to continue.")
	}
	if db.dialect == Postgres {
		if err := tx.Exec("SELECT id FROM workspaces WHERE id = ? FOR UPDATE", sc.WorkspaceID).Error; err != nil {
			return nil, fmt.Errorf("lock workspace %d: %w", sc.WorkspaceID, err)
		}
	}
	if sc.APIKeyID != 0 {
		return db.keyMembership(ctx, tx, sc)
	}
	var m membershipRecord
	err := db.queryRow(ctx, tx, qMembership, sc.WorkspaceID, sc.UserID).
		Scan(&m.ID, &m.WorkspaceID, &m.UserID, &m.Role, &m.CreatedAt, &m.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotMember
	}
	if err != nil {
		return nil, fmt.Errorf("find membership: %w", err)
	}
	return &m, nil
}

// keyMembership is lockScope's membership of a key: it acts with
// app.APIKeyRole in its own workspace while it is unrevoked and its
// creator may manage keys there, and is not a member anywhere else.
func (db *DB) keyMembership(ctx context.Context, tx *gorm.DB, sc app.Scope) (*membershipRecord, error) {
	var (
		workspaceID int64
		role        string
	)
	err := db.queryRow(ctx, tx, qKeyActs, sc.APIKeyID).Scan(&workspaceID, &role)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("check api key %d: %w", sc.APIKeyID, err)
	}
	if err == nil && workspaceID != sc.WorkspaceID {
		return nil, errNotMember
	}
	if !app.APIKeyActs(app.Role(role)) {
		return nil, app.ErrAPIKeyInvalid
	}
	return &membershipRecord{WorkspaceID: sc.WorkspaceID, Role: string(app.APIKeyRole)}, nil
}

// lockMemberScope is lockScope for the writes only a person makes (the
// workspace's settings, its members, its two-factor policy): a key gets
// EUNAUTHORIZED, as it acts as the workspace, never as a user.
func (db *DB) lockMemberScope(ctx context.Context, tx *gorm.DB, sc app.Scope) (*membershipRecord, error) {
	if sc.KeyActs() {
		return nil, app.Errorf(app.EUNAUTHORIZED, "Sign in to continue.")
	}
	return db.lockScope(ctx, tx, sc)
}
