package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

type apiKeyRecord struct {
	ID              int64
	WorkspaceID     int64
	Name            string
	Prefix          string
	TokenHash       string
	Scopes          string
	CreatedByUserID *int64
	CreatedAt       time.Time
	LastUsedAt      *time.Time
	ExpiresAt       *time.Time
	RevokedAt       *time.Time
}

func (apiKeyRecord) TableName() string { return "api_keys" }

// apiKeyRow is a key with its creator's name and email (lists) or its
// workspace's slug (lookups).
type apiKeyRow struct {
	apiKeyRecord
	CreatorName  string
	CreatorEmail string
	Slug         string
}

func (r *apiKeyRow) toApp() *app.APIKey {
	k := &app.APIKey{ID: r.ID, WorkspaceID: r.WorkspaceID, WorkspaceSlug: r.Slug, Name: r.Name, Prefix: r.Prefix,
		Scopes: strings.Fields(r.Scopes), CreatedAt: r.CreatedAt.UTC(), CreatorName: r.CreatorName, CreatorEmail: r.CreatorEmail,
		LastUsedAt: timeOrZero(r.LastUsedAt), ExpiresAt: timeOrZero(r.ExpiresAt), RevokedAt: timeOrZero(r.RevokedAt)}
	if r.CreatedByUserID != nil {
		k.CreatedByID = *r.CreatedByUserID
	}
	return k
}

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// APIKeyService implements app.APIKeyService.
type APIKeyService struct{ db *DB }

// NewAPIKeyService returns the API key service of db.
func NewAPIKeyService(db *DB) *APIKeyService { return &APIKeyService{db: db} }

var _ app.APIKeyService = (*APIKeyService)(nil)

// errKeyManagesKeys refuses key management to a principal that is a key.
var errKeyManagesKeys = app.Errorf(app.EFORBIDDEN, "An API key cannot manage API keys.")

// lockKeyManager checks, inside tx, that the scope's actor is a user who
// may manage the workspace's keys.
func (db *DB) lockKeyManager(ctx context.Context, tx *gorm.DB, sc app.Scope) (*membershipRecord, error) {
	if sc.KeyActs() {
		return nil, errKeyManagesKeys
	}
	m, err := db.lockScope(ctx, tx, sc)
	if err != nil {
		return nil, err
	}
	return m, app.CanManageAPIKeys(app.Role(m.Role))
}

// CreateAPIKey stores a key and audits "api_key.created".
func (s *APIKeyService) CreateAPIKey(ctx context.Context, sc app.Scope, in app.NewAPIKey) (*app.APIKey, error) {
	in, err := app.ValidateNewAPIKey(in, s.db.now())
	if err != nil {
		return nil, err
	}
	var out *app.APIKey
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		m, err := s.db.lockKeyManager(ctx, tx, sc)
		if err != nil {
			return err
		}
		if err := s.db.checkRestricted(ctx, tx, sc.WorkspaceID); err != nil {
			return err
		}
		r := apiKeyRecord{WorkspaceID: sc.WorkspaceID, Name: in.Name, Prefix: in.Prefix, TokenHash: in.TokenHash,
			Scopes: strings.Join(in.Scopes, " "), CreatedByUserID: &m.UserID, CreatedAt: s.db.now(),
			ExpiresAt: optionalTime(in.ExpiresAt)}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("create api key: %w", err)
		}
		if in.Reveal.TokenHash != "" {
			// Kept as a challenge, like every other short-lived secret:
			// single use, purged once expired.
			data, _ := json.Marshal(keySecretData{KeyID: r.ID, WorkspaceID: r.WorkspaceID, Sealed: in.Reveal.Sealed})
			c := challengeRecord{TokenHash: in.Reveal.TokenHash, Purpose: app.PurposeAPIKeySecret, UserID: &m.UserID,
				Data: string(data), CreatedAt: r.CreatedAt, ExpiresAt: r.CreatedAt.Add(app.APIKeyRevealTTL)}
			if err := tx.Create(&c).Error; err != nil {
				return fmt.Errorf("keep api key secret: %w", err)
			}
		}
		out = (&apiKeyRow{apiKeyRecord: r}).toApp()
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: sc.WorkspaceID, Action: app.ActionAPIKeyCreated,
			TargetType: "api_key", TargetID: fmt.Sprint(r.ID),
			Metadata: map[string]any{"name": r.Name, "prefix": r.Prefix, "scopes": r.Scopes}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// The statements of the keys a creator's departure revokes.
const (
	qLiveKeysBy   = "live_api_keys_by_creator"
	qLiveKeysByIn = "live_api_keys_by_creator_in"
)

// apiKeyQueries are the catalog's API key statements outside the hot
// list: the live keys a person created, everywhere or in one workspace,
// read by the write that removes them (inside its transaction), in the
// columns of scanAPIKey.
var apiKeyQueries = map[string]hotQuery{
	qLiveKeysBy: {SQL: `SELECT k.id, k.workspace_id, k.name, k.prefix, k.scopes, k.created_by_user_id,
			k.created_at, k.last_used_at, k.expires_at, k.revoked_at,
			COALESCE(u.name, '') AS creator_name, COALESCE(u.email, '') AS creator_email
			FROM api_keys k LEFT JOIN users u ON u.id = k.created_by_user_id
			WHERE k.created_by_user_id = ? AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)
			ORDER BY k.id`, BoundedSort: "the keys one user created"},
	qLiveKeysByIn: {SQL: `SELECT k.id, k.workspace_id, k.name, k.prefix, k.scopes, k.created_by_user_id,
			k.created_at, k.last_used_at, k.expires_at, k.revoked_at,
			COALESCE(u.name, '') AS creator_name, COALESCE(u.email, '') AS creator_email
			FROM api_keys k LEFT JOIN users u ON u.id = k.created_by_user_id
			WHERE k.created_by_user_id = ? AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)
			AND k.workspace_id = ? ORDER BY k.id`, BoundedSort: "the keys one user created in one workspace"},
}

// FindAPIKeys lists a workspace's keys, newest first.
func (s *APIKeyService) FindAPIKeys(ctx context.Context, sc app.Scope) ([]*app.APIKey, error) {
	return s.db.findAPIKeys(ctx, nil, qAPIKeysOf, withScope(sc, []any{sc.WorkspaceID})...)
}

// findAPIKeys runs a catalogued statement of scanAPIKey's columns, in tx
// when it is not nil.
func (db *DB) findAPIKeys(ctx context.Context, tx *gorm.DB, name string, args ...any) ([]*app.APIKey, error) {
	rows, err := db.query(ctx, tx, name, args...)
	if err != nil {
		return nil, fmt.Errorf("find api keys: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*app.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("read api key: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find api keys: %w", err)
	}
	return out, nil
}

// scanAPIKey reads the columns of qAPIKeysOf and qAPIKeyOf.
func scanAPIKey(sc rowScanner) (*app.APIKey, error) {
	var r apiKeyRow
	if err := scanRow(sc, &r.ID, &r.WorkspaceID, &r.Name, &r.Prefix, &r.Scopes, &r.CreatedByUserID, &r.CreatedAt,
		&r.LastUsedAt, &r.ExpiresAt, &r.RevokedAt, &r.CreatorName, &r.CreatorEmail); err != nil {
		return nil, err
	}
	return r.toApp(), nil
}

// FindAPIKey returns one of a workspace's keys; ENOTFOUND out of scope.
func (s *APIKeyService) FindAPIKey(ctx context.Context, sc app.Scope, keyID int64) (*app.APIKey, error) {
	k, err := scanAPIKey(s.db.queryRow(ctx, nil, qAPIKeyOf, withScope(sc, []any{keyID, sc.WorkspaceID})...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "API key not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find api key: %w", err)
	}
	return k, nil
}

// RevokeAPIKey revokes a live key of the workspace and audits
// "api_key.revoked".
func (s *APIKeyService) RevokeAPIKey(ctx context.Context, sc app.Scope, keyID int64) error {
	workspaceID := sc.WorkspaceID
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if _, err := s.db.lockKeyManager(ctx, tx, sc); err != nil {
			return err
		}
		// Scoped by workspace: another tenant's key id is simply not found.
		r, err := scanAPIKey(s.db.queryRow(ctx, tx, qAPIKeyOf, withScope(sc, []any{keyID, workspaceID})...))
		if err != nil {
			return notFound(err, app.Errorf(app.ENOTFOUND, "API key not found."), "find api key")
		}
		if !r.RevokedAt.IsZero() {
			return app.Errorf(app.ECONFLICT, "This API key is already revoked.")
		}
		if err := tx.Model(&apiKeyRecord{}).Where("id = ?", r.ID).Update("revoked_at", s.db.now()).Error; err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionAPIKeyRevoked,
			TargetType: "api_key", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"name": r.Name, "prefix": r.Prefix}})
	})
}

// keySecretData is what an api_key_secret challenge keeps: whose key it
// is and its secret, sealed with the creator's browser token.
type keySecretData struct {
	KeyID       int64  `json:"key_id"`
	WorkspaceID int64  `json:"workspace_id"`
	Sealed      string `json:"sealed"`
}

// RevealAPIKeySecret deletes and returns the sealed secret of a key the
// principal created, when tokenHash matches and it has not expired: the
// delete is the read, so of two concurrent views only one gets it. A
// request for another user's, key's or workspace's secret rolls back and
// leaves it for its creator.
func (s *APIKeyService) RevealAPIKeySecret(ctx context.Context, sc app.Scope, keyID int64, tokenHash string) (string, error) {
	uid, workspaceID := sc.UserID, sc.WorkspaceID
	shown := app.Errorf(app.ENOTFOUND, "This key's secret was shown once and cannot be shown again.")
	var sealed string
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if _, err := s.db.lockMemberScope(ctx, tx, sc); err != nil {
			return err
		}
		r, err := takeChallenge(tx, tokenHash, app.PurposeAPIKeySecret, s.db.now())
		if err != nil {
			return shown
		}
		var d keySecretData
		if err := json.Unmarshal([]byte(r.Data), &d); err != nil {
			return fmt.Errorf("decode api key secret: %w", err)
		}
		if r.UserID == nil || *r.UserID != uid || d.KeyID != keyID || d.WorkspaceID != workspaceID {
			return shown
		}
		sealed = d.Sealed
		return nil
	})
	return sealed, err
}

// CountAPIKeysCreatedBy counts the live keys userID created in the
// scope's workspace, or in every workspace for the zero scope, in one
// catalogued statement.
func (s *APIKeyService) CountAPIKeysCreatedBy(ctx context.Context, sc app.Scope, userID int64) (int, error) {
	name, args := qKeysByUser, []any{userID, s.db.now()}
	if sc != (app.Scope{}) {
		name, args = qKeysByUserIn, withScope(sc, []any{userID, sc.WorkspaceID}, s.db.now())
	}
	rows, err := s.db.query(ctx, nil, name, args...)
	if err != nil {
		return 0, fmt.Errorf("count api keys: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var n int
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("count api keys: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count api keys: %w", err)
	}
	return n, nil
}

// revokeKeysCreatedBy revokes, inside tx, the live keys userID created in
// workspaceID (0: every workspace), auditing "api_key.revoked" with why
// for each: a key's access ends with its creator's.
func (db *DB) revokeKeysCreatedBy(ctx context.Context, tx *gorm.DB, workspaceID, userID int64, why string) error {
	now := db.now()
	name, args := qLiveKeysBy, []any{userID, now}
	if workspaceID != 0 {
		name, args = qLiveKeysByIn, append(args, workspaceID)
	}
	keys, err := db.findAPIKeys(ctx, tx, name, args...)
	if err != nil {
		return fmt.Errorf("find api keys of user %d: %w", userID, err)
	}
	for _, k := range keys {
		if err := tx.Model(&apiKeyRecord{}).Where("id = ?", k.ID).Update("revoked_at", now).Error; err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		if err := db.audit(ctx, tx, app.AuditEntry{WorkspaceID: k.WorkspaceID, Action: app.ActionAPIKeyRevoked,
			TargetType: "api_key", TargetID: fmt.Sprint(k.ID),
			Metadata: map[string]any{"name": k.Name, "prefix": k.Prefix, "reason": why}}); err != nil {
			return err
		}
	}
	return nil
}

// AuthenticateAPIKey looks a key up by its hash with its workspace,
// compares the hashes in constant time, and notes its use at most once per
// app.APIKeyTouchEvery.
func (s *APIKeyService) AuthenticateAPIKey(ctx context.Context, tokenHash string) (*app.APIKey, *app.Workspace, error) {
	var (
		r           apiKeyRow
		creatorRole string
	)
	ws, err := scanWorkspace(s.db.queryRow(ctx, nil, qAPIKeyByHash, tokenHash), &r.ID, &r.WorkspaceID, &r.Name,
		&r.Prefix, &r.TokenHash, &r.Scopes, &r.CreatedByUserID, &r.CreatedAt, &r.LastUsedAt, &r.ExpiresAt, &r.RevokedAt,
		&creatorRole)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, app.ErrAPIKeyInvalid
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find api key: %w", err)
	}
	now := s.db.now()
	r.Slug = ws.Slug
	k := r.toApp()
	// The creator's current membership caps the key: one whose creator was
	// removed, demoted or deleted does not act, revoked or not.
	if subtle.ConstantTimeCompare([]byte(r.TokenHash), []byte(tokenHash)) != 1 || !k.Live(now) ||
		!app.APIKeyActs(app.Role(creatorRole)) {
		return nil, nil, app.ErrAPIKeyInvalid
	}
	if k.LastUsedAt.IsZero() || now.Sub(k.LastUsedAt) >= app.APIKeyTouchEvery {
		// The condition repeats the check so concurrent requests write once.
		if err := s.db.gorm.WithContext(ctx).Exec(`UPDATE api_keys SET last_used_at = ?
			WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
			now, k.ID, now.Add(-app.APIKeyTouchEvery)).Error; err != nil {
			return nil, nil, fmt.Errorf("note api key use: %w", err)
		}
		k.LastUsedAt = now
	}
	return k, ws, nil
}

// actingKeyID returns the id of the key acting in ctx, or nil.
func actingKeyID(ctx context.Context) *int64 {
	if k := app.APIKeyFromContext(ctx); k != nil {
		return &k.ID
	}
	return nil
}
