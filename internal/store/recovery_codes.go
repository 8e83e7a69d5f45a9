package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// recoveryCodeRecord is a row of recovery_codes: one hashed single-use code.
type recoveryCodeRecord struct {
	ID        int64
	UserID    int64
	CodeHash  string
	CreatedAt time.Time
	UsedAt    *time.Time
}

func (recoveryCodeRecord) TableName() string { return "recovery_codes" }

// The recovery code statements (their rows are counted, never read).
const (
	qRecoveryCodesLeft = "recovery_codes_left"
	qRecoveryCodeSpent = "recovery_code_spent"
)

// recoveryCodeQueries are the catalog's recovery code statements.
var recoveryCodeQueries = map[string]hotQuery{
	qRecoveryCodesLeft: {SQL: `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`},
	// Whether a code that did not match an unused one was the user's.
	qRecoveryCodeSpent: {SQL: `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND code_hash = ?`},
}

// recoveryCodesLeft counts the user's unused recovery codes in tx.
func (db *DB) recoveryCodesLeft(ctx context.Context, tx *gorm.DB, userID int64) (int64, error) {
	var left int64
	if err := db.queryRow(ctx, tx, qRecoveryCodesLeft, userID).Scan(&left); err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return left, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes.
func (s *TwoFactorService) RegenerateRecoveryCodes(ctx context.Context, userID int64, hashes []string) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := scanUser(s.db.queryRow(ctx, tx, qUserByID, userID))
		if err != nil {
			return fmt.Errorf("read two-factor flag: %w", err)
		}
		if !u.TwoFactor {
			return app.Errorf(app.EINVALID, "Set up an authenticator app or a passkey first: recovery codes stand in for them.")
		}
		if _, err := s.issueRecoveryCodes(ctx, tx, userID, hashes, true); err != nil {
			return err
		}
		return s.notify(ctx, tx, userID, app.Say("mail.security.recovery_codes"))
	})
}

// issueRecoveryCodes stores hashes as the user's recovery codes, replacing
// the old ones when replace is set, or only when the user has none left
// otherwise; it reports whether it stored them.
func (s *TwoFactorService) issueRecoveryCodes(ctx context.Context, tx *gorm.DB, userID int64, hashes []string, replace bool) (bool, error) {
	if !replace {
		left, err := s.db.recoveryCodesLeft(ctx, tx, userID)
		if err != nil {
			return false, err
		}
		if left > 0 {
			return false, nil
		}
	}
	if len(hashes) != app.RecoveryCodeCount {
		return false, fmt.Errorf("issue recovery codes: got %d hashes, want %d", len(hashes), app.RecoveryCodeCount)
	}
	if err := tx.Where("user_id = ?", userID).Delete(&recoveryCodeRecord{}).Error; err != nil {
		return false, fmt.Errorf("drop recovery codes: %w", err)
	}
	now := s.db.now()
	rs := make([]recoveryCodeRecord, 0, len(hashes))
	for _, h := range hashes {
		rs = append(rs, recoveryCodeRecord{UserID: userID, CodeHash: h, CreatedAt: now})
	}
	if err := tx.Create(&rs).Error; err != nil {
		return false, fmt.Errorf("store recovery codes: %w", err)
	}
	return true, s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionRecoveryCodesGenerated,
		TargetType: "user", TargetID: fmt.Sprint(userID), Metadata: map[string]any{"count": len(hashes)}})
}

// revealData is what a recovery-code reveal keeps: the codes, sealed.
type revealData struct {
	Sealed string `json:"sealed"`
}

// SaveRecoveryCodesReveal keeps freshly made recovery codes, sealed,
// under tokenHash until expires, for one showing.
func (s *TwoFactorService) SaveRecoveryCodesReveal(ctx context.Context, userID int64, tokenHash string, codes []string, expires time.Time) error {
	sealed, err := s.seal(strings.Join(codes, "\n"))
	if err != nil {
		return fmt.Errorf("seal recovery codes: %w", err)
	}
	data, _ := json.Marshal(revealData{Sealed: sealed})
	return s.SaveChallenge(ctx, app.Challenge{TokenHash: tokenHash, Purpose: app.PurposeRecoveryCodes, UserID: userID,
		Data: data, ExpiresAt: expires})
}

// TakeRecoveryCodesReveal returns the codes kept under tokenHash for the
// user and deletes them, so they are shown once; ENOTFOUND when they were
// shown already, expired, or are another user's.
func (s *TwoFactorService) TakeRecoveryCodesReveal(ctx context.Context, userID int64, tokenHash string) ([]string, error) {
	var codes []string
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := takeChallenge(tx, tokenHash, app.PurposeRecoveryCodes, s.db.now())
		if err != nil {
			return err
		}
		if r.UserID == nil || *r.UserID != userID {
			return errChallengeGone
		}
		var d revealData
		if err := json.Unmarshal([]byte(r.Data), &d); err != nil {
			return fmt.Errorf("decode recovery codes: %w", err)
		}
		plain, err := s.open(d.Sealed)
		if err != nil {
			return err
		}
		codes = strings.Split(plain, "\n")
		return nil
	})
	return codes, err
}
