package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

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

// takeChallenge deletes and returns a live challenge inside tx.
func takeChallenge(tx *gorm.DB, tokenHash, purpose string, now time.Time) (*challengeRecord, error) {
	var rs []challengeRecord
	if err := tx.Where("token_hash = ? AND purpose = ?", tokenHash, purpose).Limit(1).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("find challenge: %w", err)
	}
	if len(rs) == 0 || !rs[0].ExpiresAt.After(now) {
		return nil, errChallengeGone
	}
	res := tx.Where("id = ?", rs[0].ID).Delete(&challengeRecord{})
	if res.Error != nil {
		return nil, fmt.Errorf("use challenge: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, errChallengeGone
	}
	return &rs[0], nil
}
