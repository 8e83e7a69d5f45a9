package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
	"atrium/internal/seal"
)

// TwoFactorService implements app.TwoFactorService. Authenticator secrets
// are sealed with AES-256-GCM under key, so a copy of the database alone
// does not yield codes.
type TwoFactorService struct {
	db  *DB
	box *seal.Box
	// Notice builds the email telling a user that their two-factor
	// sign-in changed (change is a sentence of the mail catalog, lang the
	// user's saved language); it is queued in the change's transaction.
	// Nil sends none.
	Notice func(to, lang string, change app.Sentence) app.Email
}

// NewTwoFactorService returns the two-factor service of db; key (32 bytes)
// seals authenticator secrets. A nil key serves everything but reading or
// storing a secret.
func NewTwoFactorService(db *DB, key []byte) *TwoFactorService {
	return &TwoFactorService{db: db, box: seal.New(key)}
}

var _ app.TwoFactorService = (*TwoFactorService)(nil)

// The statements about a user's factors as a whole.
const (
	qFactorCount = "factor_count"
	qFactorsLeft = "factors_left"
	qPendingUser = "pending_sign_in_user"
)

// twoFactorQueries are the catalog's statements about a user's factors as
// a whole.
var twoFactorQueries = map[string]hotQuery{
	// Whether the user keeps users.two_factor: authenticator apps and
	// passkeys.
	qFactorCount: {SQL: `SELECT
		(SELECT COUNT(*) FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL) +
		(SELECT COUNT(*) FROM passkeys WHERE user_id = ?)`},
	// What an operator's reset takes away: the authenticator app and the
	// recovery codes left.
	qFactorsLeft: {SQL: `SELECT (SELECT COUNT(*) FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL),
		(SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL)`},
	// The second-factor page's user: address, factors and code lock.
	qPendingUser: {SQL: `SELECT u.email,
		(SELECT COUNT(*) FROM user_totp WHERE user_id = u.id AND confirmed_at IS NOT NULL),
		(SELECT COUNT(*) FROM passkeys WHERE user_id = u.id),
		(SELECT locked_until FROM two_factor_locks WHERE user_id = u.id AND locked_until > ?)
		FROM users u WHERE u.id = ?`},
}

// FindTwoFactor returns what the user has enrolled, in one statement (the
// account page runs it on every view).
func (s *TwoFactorService) FindTwoFactor(ctx context.Context, userID int64) (*app.TwoFactorStatus, error) {
	rows, err := s.db.query(ctx, nil, qTwoFactorOf, s.db.now(), userID)
	if err != nil {
		return nil, fmt.Errorf("find two-factor status: %w", err)
	}
	defer func() { _ = rows.Close() }()
	st := &app.TwoFactorStatus{}
	for rows.Next() {
		var (
			totp, left        int64
			lockedUntil       *time.Time
			id                sql.NullInt64
			name              sql.NullString
			created, lastUsed *time.Time
		)
		if err := rows.Scan(&totp, &left, &lockedUntil, &id, &name, &created, &lastUsed); err != nil {
			return nil, fmt.Errorf("read two-factor status: %w", err)
		}
		st.TOTP, st.RecoveryCodesLeft = totp > 0, int(left)
		if lockedUntil != nil {
			t := lockedUntil.UTC()
			st.LockedUntil = &t
		}
		if id.Valid {
			k := &app.Passkey{ID: id.Int64, Name: name.String}
			if created != nil {
				k.CreatedAt = created.UTC()
			}
			if lastUsed != nil {
				t := lastUsed.UTC()
				k.LastUsedAt = &t
			}
			st.Passkeys = append(st.Passkeys, k)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find two-factor status: %w", err)
	}
	return st, nil
}

// notify queues the Notice about change to the user, when there is one.
func (s *TwoFactorService) notify(ctx context.Context, tx *gorm.DB, userID int64, change app.Sentence) error {
	if s.Notice == nil {
		return nil
	}
	u, err := scanUser(s.db.queryRow(ctx, tx, qUserByID, userID))
	if err != nil {
		return fmt.Errorf("notify user %d: %w", userID, err)
	}
	return s.db.enqueueEmail(tx, s.Notice(u.Email, u.Language, change))
}

// refreshFlag sets users.two_factor from the factors the user has; with
// none left, their recovery codes go too.
func (s *TwoFactorService) refreshFlag(ctx context.Context, tx *gorm.DB, userID int64) error {
	var n int64
	if err := s.db.queryRow(ctx, tx, qFactorCount, userID, userID).Scan(&n); err != nil {
		return fmt.Errorf("count factors: %w", err)
	}
	if err := tx.Exec("UPDATE users SET two_factor = ? WHERE id = ?", n > 0, userID).Error; err != nil {
		return fmt.Errorf("set two-factor flag: %w", err)
	}
	if n == 0 {
		if err := tx.Where("user_id = ?", userID).Delete(&recoveryCodeRecord{}).Error; err != nil {
			return fmt.Errorf("drop recovery codes: %w", err)
		}
	}
	return nil
}
