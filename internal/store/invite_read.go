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

// inviteRow is an invite joined with its workspace, inviter and the latest
// email sent for it (whose share link, kept until the email is delivered,
// is the accept link to pass on by hand).
type inviteRow struct {
	ID              int64
	WorkspaceID     int64
	Email           string
	Role            string
	Status          string
	InvitedByUserID *int64
	ExpiresAt       time.Time
	CreatedAt       time.Time
	WorkspaceName   string
	WorkspaceSlug   string
	InviterEmail    string
	InviterName     string
	MailStatus      string
	MailError       string
	ShareLink       string
	// The API key that sent the invite, if one did.
	InviterKeyName   string
	InviterKeyPrefix string
}

func (r *inviteRow) toApp() *app.Invite {
	inv := &app.Invite{ID: r.ID, WorkspaceID: r.WorkspaceID, WorkspaceName: r.WorkspaceName, WorkspaceSlug: r.WorkspaceSlug,
		Email: r.Email, Role: app.Role(r.Role), Status: r.Status, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC(),
		Delivery: r.MailStatus, DeliveryError: r.MailError, ShareLink: r.ShareLink,
		InviterName: r.InviterName, InviterEmail: r.InviterEmail, InviterKeyName: r.InviterKeyName, InviterKeyPrefix: r.InviterKeyPrefix}
	if r.InvitedByUserID != nil {
		inv.InvitedByID = *r.InvitedByUserID
	}
	return inv
}

const inviteSelect = `SELECT i.id, i.workspace_id, i.email, i.role, i.status, i.invited_by_user_id,
	i.expires_at, i.created_at, w.name AS workspace_name, w.slug AS workspace_slug,
	COALESCE(u.email, '') AS inviter_email, COALESCE(u.name, '') AS inviter_name,
	COALESCE(o.status, '') AS mail_status, COALESCE(o.last_error, '') AS mail_error, COALESCE(o.share_link, '') AS share_link,
	COALESCE(k.name, '') AS inviter_key_name, COALESCE(k.prefix, '') AS inviter_key_prefix
	FROM invites i
	JOIN workspaces w ON w.id = i.workspace_id
	LEFT JOIN users u ON u.id = i.invited_by_user_id
	LEFT JOIN api_keys k ON k.id = i.invited_by_api_key_id
	LEFT JOIN mail_outbox o ON o.id = (SELECT MAX(id) FROM mail_outbox WHERE invite_id = i.id)`

// inviteRecordColumns are the columns of an invites row, in the order
// scanInviteRecord reads them.
const inviteRecordColumns = `id, workspace_id, email, role, token_hash, status, invited_by_user_id,
	invited_by_api_key_id, expires_at, created_at, updated_at`

// The invite statements outside the members page's.
const (
	qInviteByID       = "invite_by_id"
	qInviteForEmail   = "invite_for_email"
	qInviteRecByToken = "invite_record_by_token"
	qInviteRecOfEmail = "invite_record_of_email"
	qInviteRecOf      = "invite_record_of_workspace"
	qMemberWithEmail  = "member_with_email"
	qPendingInviteTo  = "pending_invite_to"
	qMemberCount      = "member_count"
	qWorkspaceLocked  = "workspace_for_update"
)

// inviteQueries are the catalog's invite statements outside the hot list.
var inviteQueries = map[string]hotQuery{
	// An invite read back in the transaction that wrote it.
	qInviteByID:     {SQL: inviteSelect + ` WHERE i.id = ?`},
	qInviteForEmail: {SQL: inviteSelect + ` WHERE i.id = ? AND i.email = ?`},
	// The invite an invitee accepts or declines, by its link or by id.
	qInviteRecByToken: {SQL: `SELECT ` + inviteRecordColumns + ` FROM invites WHERE token_hash = ?`},
	qInviteRecOfEmail: {SQL: `SELECT ` + inviteRecordColumns + ` FROM invites WHERE id = ? AND email = ?`},
	// The invite a manager revokes or resends, under the scope's lock.
	qInviteRecOf: {SQL: `SELECT ` + inviteRecordColumns + ` FROM invites
		WHERE id = ? AND workspace_id = ? AND ` + scopeClause},
	// Whether an address is a member or has a live invite already.
	qMemberWithEmail: {SQL: `SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.workspace_id = ? AND u.email = ?`},
	qPendingInviteTo: {SQL: `SELECT COUNT(*) FROM invites
		WHERE workspace_id = ? AND email = ? AND status = 'pending' AND expires_at > ?`},
	// The seat check of an invitee joining, with the workspace locked.
	qMemberCount: {SQL: `SELECT COUNT(*) FROM memberships WHERE workspace_id = ?`},
	qWorkspaceLocked: {SQL: `SELECT ` + workspaceColumns + ` FROM workspaces w WHERE w.id = ?`,
		PostgresSQL: `SELECT ` + workspaceColumns + ` FROM workspaces w WHERE w.id = ? FOR UPDATE`},
}

// scanInviteRecord reads a row of inviteRecordColumns.
func scanInviteRecord(sc scanner) (*inviteRecord, error) {
	var r inviteRecord
	if err := scanRow(sc, &r.ID, &r.WorkspaceID, &r.Email, &r.Role, &r.TokenHash, &r.Status, &r.InvitedByUserID,
		&r.InvitedByAPIKeyID, &r.ExpiresAt, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

// scanInvite reads a row of inviteSelect.
func scanInvite(sc scanner) (*app.Invite, error) {
	var r inviteRow
	if err := scanRow(sc, &r.ID, &r.WorkspaceID, &r.Email, &r.Role, &r.Status, &r.InvitedByUserID, &r.ExpiresAt,
		&r.CreatedAt, &r.WorkspaceName, &r.WorkspaceSlug, &r.InviterEmail, &r.InviterName, &r.MailStatus,
		&r.MailError, &r.ShareLink, &r.InviterKeyName, &r.InviterKeyPrefix); err != nil {
		return nil, err
	}
	return r.toApp(), nil
}

// countOf runs a catalogued COUNT(*) statement.
func (db *DB) countOf(ctx context.Context, tx *gorm.DB, name string, args ...any) (int64, error) {
	var n int64
	err := db.queryRow(ctx, tx, name, args...).Scan(&n)
	return n, err
}

// seatsUsed counts members plus pending, unexpired invites, inside tx
// after the scope's lock.
func (db *DB) seatsUsed(ctx context.Context, tx *gorm.DB, workspaceID int64, now time.Time) (int, error) {
	var st app.WorkspaceStats
	if err := db.queryRow(ctx, tx, qStats, workspaceID, workspaceID, now).Scan(&st.Members, &st.PendingInvites); err != nil {
		return 0, fmt.Errorf("count seats: %w", err)
	}
	return st.SeatsUsed(), nil
}

// findInvite runs an inviteSelect query for one invite; ENOTFOUND when
// there is none.
func (s *InviteService) findInvite(ctx context.Context, tx *gorm.DB, name string, args ...any) (*app.Invite, error) {
	inv, err := scanInvite(s.db.queryRow(ctx, tx, name, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Invite not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find invite: %w", err)
	}
	return inv, nil
}

// findInvites runs an inviteSelect query. The members page lists up to 50
// invites on each view, so columns are scanned straight into the rows,
// without GORM's reflection.
func (s *InviteService) findInvites(ctx context.Context, name string, args ...any) ([]*app.Invite, error) {
	rows, err := s.db.query(ctx, nil, name, args...)
	if err != nil {
		return nil, fmt.Errorf("find invites: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*app.Invite
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("read invite: %w", err)
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find invites: %w", err)
	}
	return out, nil
}

// FindInvites lists a workspace's pending invites, expired ones included,
// newest first, at most limit.
func (s *InviteService) FindInvites(ctx context.Context, sc app.Scope, limit int) ([]*app.Invite, error) {
	return s.findInvites(ctx, qInvitePage, withScope(sc, []any{sc.WorkspaceID}, limit)...)
}

// FindInvitesBefore lists the pending invites after before in
// FindInvites' order (newest first), at most limit.
func (s *InviteService) FindInvitesBefore(ctx context.Context, sc app.Scope, before app.InviteCursor, limit int) ([]*app.Invite, error) {
	return s.findInvites(ctx, qInvitesAfter, withScope(sc, []any{sc.WorkspaceID}, before.CreatedAt.UTC(), before.ID, limit)...)
}

// FindInvitesForEmail lists the pending, unexpired invites for an address.
func (s *InviteService) FindInvitesForEmail(ctx context.Context, email string) ([]*app.Invite, error) {
	return s.findInvites(ctx, qInvitesTo, email, s.db.now())
}

// FindInviteByToken returns the invite of a token hash in any state.
func (s *InviteService) FindInviteByToken(ctx context.Context, tokenHash string) (*app.Invite, error) {
	return s.findInvite(ctx, nil, qInviteToken, tokenHash)
}

// FindInvite returns a workspace's invite by id, in any state; ENOTFOUND
// when the workspace has no such invite or it is out of scope.
func (s *InviteService) FindInvite(ctx context.Context, sc app.Scope, id int64) (*app.Invite, error) {
	return s.findInvite(ctx, nil, qInviteOf, withScope(sc, []any{id, sc.WorkspaceID})...)
}

// FindInviteForEmail returns an invite by id when it was sent to email.
func (s *InviteService) FindInviteForEmail(ctx context.Context, id int64, email string) (*app.Invite, error) {
	return s.findInvite(ctx, nil, qInviteForEmail, id, email)
}
