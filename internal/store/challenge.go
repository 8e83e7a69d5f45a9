package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"atrium/internal/app"
)

// challengeRecord is a row of auth_challenges: a short-lived, single-use
// server-side record (passkey ceremonies, pending second factors, one-time reveals).
type challengeRecord struct {
	ID        int64
	TokenHash string
	Purpose   string
	UserID    *int64
	Data      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (challengeRecord) TableName() string { return "auth_challenges" }

// challengeColumns are the columns of a challenge row, in the order
// scanChallenge reads them.
const challengeColumns = `id, token_hash, purpose, user_id, data, created_at, expires_at`

// scanChallenge reads a row of challengeColumns.
func scanChallenge(sc scanner) (*challengeRecord, error) {
	var r challengeRecord
	if err := scanRow(sc, &r.ID, &r.TokenHash, &r.Purpose, &r.UserID, &r.Data, &r.CreatedAt, &r.ExpiresAt); err != nil {
		return nil, err
	}
	return &r, nil
}

// qLiveChallenge names the statement reading a live challenge without
// using it.
const qLiveChallenge = "live_challenge"

// challengeQueries are the catalog's challenge statements.
var challengeQueries = map[string]hotQuery{
	qLiveChallenge: {SQL: `SELECT ` + challengeColumns + ` FROM auth_challenges
		WHERE token_hash = ? AND purpose = ? AND expires_at > ?`},
}

// findChallenge returns the live challenge of tokenHash and purpose, in tx
// when it is not nil, or nil when there is none.
func (db *DB) findChallenge(ctx context.Context, tx *gorm.DB, tokenHash, purpose string, now time.Time) (*challengeRecord, error) {
	r, err := scanChallenge(db.queryRow(ctx, tx, qLiveChallenge, tokenHash, purpose, now))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find challenge: %w", err)
	}
	return r, nil
}

// SaveChallenge stores a challenge.
func (s *TwoFactorService) SaveChallenge(ctx context.Context, c app.Challenge) error {
	r := challengeRecord{TokenHash: c.TokenHash, Purpose: c.Purpose, Data: string(c.Data),
		CreatedAt: s.db.now(), ExpiresAt: c.ExpiresAt.UTC().Truncate(time.Microsecond)}
	if c.UserID != 0 {
		r.UserID = &c.UserID
	}
	if err := s.db.gorm.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("store challenge: %w", err)
	}
	return nil
}

// TakeChallenge returns a live challenge and deletes it: of two requests
// racing with one token, only the one whose DELETE removes the row gets it.
func (s *TwoFactorService) TakeChallenge(ctx context.Context, tokenHash, purpose string) (*app.Challenge, error) {
	var c *app.Challenge
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := takeChallenge(tx, tokenHash, purpose, s.db.now())
		if err != nil {
			return err
		}
		c = &app.Challenge{TokenHash: r.TokenHash, Purpose: r.Purpose, Data: []byte(r.Data), ExpiresAt: r.ExpiresAt.UTC()}
		if r.UserID != nil {
			c.UserID = *r.UserID
		}
		return nil
	})
	return c, err
}

// errChallengeGone is TakeChallenge's answer for an unknown, used or
// expired challenge.
var errChallengeGone = app.Errorf(app.ENOTFOUND, "That request expired or was already used. Try again.")

// takeChallenge deletes and returns a live challenge inside tx, in one
// DELETE … RETURNING: a write, so it reads nothing apart from the row it
// removes, and of two transactions racing for one token only the one
// whose DELETE removes the row gets it.
func takeChallenge(tx *gorm.DB, tokenHash, purpose string, now time.Time) (*challengeRecord, error) {
	var rs []challengeRecord
	res := tx.Clauses(clause.Returning{}).Where("token_hash = ? AND purpose = ? AND expires_at > ?", tokenHash, purpose, now).
		Delete(&rs)
	if res.Error != nil {
		return nil, fmt.Errorf("use challenge: %w", res.Error)
	}
	if res.RowsAffected == 0 || len(rs) == 0 {
		return nil, errChallengeGone
	}
	return &rs[0], nil
}
