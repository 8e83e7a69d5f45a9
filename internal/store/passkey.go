package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// passkeyRecord is a row of passkeys: one WebAuthn credential of a user.
type passkeyRecord struct {
	ID           int64
	UserID       int64
	Name         string
	CredentialID string
	Data         string
	CreatedAt    time.Time
	LastUsedAt   *time.Time
}

func (passkeyRecord) TableName() string { return "passkeys" }

// passkeyColumns are the columns of a passkey row, in the order
// scanPasskey reads them.
const passkeyColumns = `id, user_id, name, credential_id, data, created_at, last_used_at`

// scanPasskey reads a row of passkeyColumns.
func scanPasskey(sc scanner) (*passkeyRecord, error) {
	var r passkeyRecord
	if err := scanRow(sc, &r.ID, &r.UserID, &r.Name, &r.CredentialID, &r.Data, &r.CreatedAt, &r.LastUsedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

// The passkey statements.
const (
	qPasskeysOf    = "passkeys_of_user"
	qPasskeyOf     = "passkey_of_user"
	qPasskeyCount  = "passkey_count"
	qPasskeyHandle = "passkey_handle"
)

// passkeyQueries are the catalog's passkey statements.
var passkeyQueries = map[string]hotQuery{
	qPasskeysOf: {SQL: `SELECT ` + passkeyColumns + ` FROM passkeys WHERE user_id = ? ORDER BY created_at, id`,
		BoundedSort: "one user's passkeys"},
	qPasskeyOf:    {SQL: `SELECT ` + passkeyColumns + ` FROM passkeys WHERE id = ? AND user_id = ?`},
	qPasskeyCount: {SQL: `SELECT COUNT(*) FROM passkeys WHERE user_id = ?`},
	// The user's WebAuthn user handle, a column of users no other read needs.
	qPasskeyHandle: {SQL: `SELECT webauthn_handle FROM users WHERE id = ?`},
}

func (r *passkeyRecord) toApp() *app.PasskeyCredential {
	p := &app.PasskeyCredential{Passkey: app.Passkey{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()},
		CredentialID: r.CredentialID, Data: []byte(r.Data)}
	if r.LastUsedAt != nil {
		t := r.LastUsedAt.UTC()
		p.LastUsedAt = &t
	}
	return p
}

// WebAuthnHandle returns the user's passkey user handle, making it once.
func (s *TwoFactorService) WebAuthnHandle(ctx context.Context, userID int64) ([]byte, error) {
	g := s.db.gorm.WithContext(ctx)
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if err := g.Exec("UPDATE users SET webauthn_handle = ? WHERE id = ? AND webauthn_handle IS NULL",
		base64.RawURLEncoding.EncodeToString(b), userID).Error; err != nil {
		return nil, fmt.Errorf("make passkey handle: %w", err)
	}
	var h *string
	if err := s.db.queryRow(ctx, nil, qPasskeyHandle, userID).Scan(&h); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, app.Errorf(app.ENOTFOUND, "No such user.")
		}
		return nil, fmt.Errorf("read passkey handle: %w", err)
	}
	if h == nil {
		return nil, errors.New("read passkey handle: still unset")
	}
	return base64.RawURLEncoding.DecodeString(*h)
}

// FindPasskeyCredentials returns the user's passkeys, oldest first.
func (s *TwoFactorService) FindPasskeyCredentials(ctx context.Context, userID int64) ([]*app.PasskeyCredential, error) {
	rows, err := s.db.query(ctx, nil, qPasskeysOf, userID)
	if err != nil {
		return nil, fmt.Errorf("find passkeys: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []*app.PasskeyCredential{}
	for rows.Next() {
		r, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("find passkeys: %w", err)
		}
		out = append(out, r.toApp())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find passkeys: %w", err)
	}
	return out, nil
}

// FindWebAuthnUser returns the user with that passkey user handle.
func (s *TwoFactorService) FindWebAuthnUser(ctx context.Context, handle []byte) (*app.User, []*app.PasskeyCredential, error) {
	if len(handle) == 0 || len(handle) > 64 {
		return nil, nil, app.ErrPasskeyUnknown
	}
	u, err := scanUser(s.db.queryRow(ctx, nil, qUserByHandle, base64.RawURLEncoding.EncodeToString(handle)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil, app.ErrPasskeyUnknown
	case err != nil:
		return nil, nil, fmt.Errorf("find passkey user: %w", err)
	}
	creds, err := s.FindPasskeyCredentials(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	return u.toApp(), creds, nil
}

// AddPasskey registers a passkey.
func (s *TwoFactorService) AddPasskey(ctx context.Context, userID int64, p app.PasskeyCredential, recoveryHashes []string) (bool, error) {
	name, err := app.CleanText("passkey_name", "passkey name", p.Name, app.MaxPasskeyNameLength)
	if err != nil {
		return false, err
	}
	if name == "" {
		return false, app.FieldErrorf("passkey_name", "Name this passkey, e.g. “MacBook Touch ID”.")
	}
	var issued bool
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := s.db.queryRow(ctx, tx, qPasskeyCount, userID).Scan(&n); err != nil {
			return fmt.Errorf("count passkeys: %w", err)
		}
		if n >= app.MaxPasskeys {
			return app.FieldErrorf("passkey_name", "You have %d passkeys, the most an account can have. Remove one first.", n)
		}
		r := passkeyRecord{UserID: userID, Name: name, CredentialID: p.CredentialID, Data: string(p.Data), CreatedAt: s.db.now()}
		if err := tx.Create(&r).Error; err != nil {
			if isUniqueViolation(err) {
				return app.Errorf(app.ECONFLICT, "This passkey is already registered.")
			}
			return fmt.Errorf("store passkey: %w", err)
		}
		if err := s.refreshFlag(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionPasskeyAdded,
			TargetType: "user", TargetID: fmt.Sprint(userID), Metadata: map[string]any{"name": name}}); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, userID, app.Say("mail.security.passkey_added", "Name", name)); err != nil {
			return err
		}
		if err := s.db.confirmPrincipalSession(ctx, tx, userID, s.db.now()); err != nil {
			return err
		}
		issued, err = s.issueRecoveryCodes(ctx, tx, userID, recoveryHashes, false)
		return err
	})
	return issued, err
}

// RemovePasskey removes one of the user's passkeys.
func (s *TwoFactorService) RemovePasskey(ctx context.Context, userID, passkeyID int64) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := scanPasskey(s.db.queryRow(ctx, tx, qPasskeyOf, passkeyID, userID))
		if err != nil {
			return notFound(err, app.Errorf(app.ENOTFOUND, "That passkey is already removed."), "find passkey")
		}
		if err := tx.Delete(&passkeyRecord{}, r.ID).Error; err != nil {
			return fmt.Errorf("remove passkey: %w", err)
		}
		if err := s.refreshFlag(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionPasskeyRemoved,
			TargetType: "user", TargetID: fmt.Sprint(userID), Metadata: map[string]any{"name": r.Name}}); err != nil {
			return err
		}
		return s.notify(ctx, tx, userID, app.Say("mail.security.passkey_removed", "Name", r.Name))
	})
}
