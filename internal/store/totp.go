package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
	"atrium/internal/seal"
)

// totpRecord is a row of user_totp: a user's authenticator app, its secret sealed.
type totpRecord struct {
	UserID       int64 `gorm:"primaryKey;autoIncrement:false"`
	SecretSealed string
	ConfirmedAt  *time.Time
	LastStep     int64
	CreatedAt    time.Time
}

func (totpRecord) TableName() string { return "user_totp" }

// totpColumns are the columns of a user_totp row, in the order scanTOTP
// reads them.
const totpColumns = `user_id, secret_sealed, confirmed_at, last_step, created_at`

// scanTOTP reads a row of totpColumns.
func scanTOTP(sc scanner) (*totpRecord, error) {
	var r totpRecord
	if err := scanRow(sc, &r.UserID, &r.SecretSealed, &r.ConfirmedAt, &r.LastStep, &r.CreatedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

// The authenticator app statements.
const (
	qTOTPOf        = "totp_of_user"
	qTOTPConfirmed = "totp_confirmed_of_user"
	qTOTPApps      = "totp_apps"
	qTOTPNewest    = "totp_newest"
)

// totpQueries are the catalog's authenticator app statements.
var totpQueries = map[string]hotQuery{
	qTOTPOf:        {SQL: `SELECT ` + totpColumns + ` FROM user_totp WHERE user_id = ?`},
	qTOTPConfirmed: {SQL: `SELECT ` + totpColumns + ` FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL`},
	// The doctor's key check (CheckKey), once per run.
	qTOTPApps: {SQL: `SELECT COUNT(*) FROM user_totp WHERE confirmed_at IS NOT NULL`,
		WholeTable: "the doctor counts every authenticator app"},
	qTOTPNewest: {SQL: `SELECT ` + totpColumns + ` FROM user_totp WHERE confirmed_at IS NOT NULL
		ORDER BY confirmed_at DESC LIMIT 1`, WholeTable: "the doctor opens the newest authenticator secret"},
}

// findTOTP returns the user's authenticator app (confirmed only, when
// confirmed is set) in tx, or nil when there is none.
func (db *DB) findTOTP(ctx context.Context, tx *gorm.DB, userID int64, confirmed bool) (*totpRecord, error) {
	name := qTOTPOf
	if confirmed {
		name = qTOTPConfirmed
	}
	r, err := scanTOTP(db.queryRow(ctx, tx, name, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find authenticator: %w", err)
	}
	return r, nil
}

// seal encrypts an authenticator secret for storage.
func (s *TwoFactorService) seal(secret string) (string, error) {
	return s.box.Seal(secret)
}

// errSecretUnreadable is what a user sees when their authenticator secret
// cannot be opened: the key changed (RUNBOOK.md, "The key that seals
// authenticator secrets") or the row was altered.
var errSecretUnreadable = app.Errorf(app.EUNAVAILABLE,
	"Authenticator codes can’t be checked right now. Use a passkey or a recovery code, or contact support.")

// open decrypts a stored authenticator secret.
func (s *TwoFactorService) open(sealed string) (string, error) {
	plain, err := s.box.Open(sealed)
	switch {
	case errors.Is(err, seal.ErrOpen):
		return "", fmt.Errorf("%w (open authenticator secret: wrong TWO_FACTOR_KEY or altered row)", errSecretUnreadable)
	case err != nil:
		return "", fmt.Errorf("open authenticator secret: %w", err)
	}
	return plain, nil
}

// CheckKey reports how many authenticator apps are on and whether the key
// opens the newest one's secret: after a restore or a TWO_FACTOR_KEY
// change it does not, and every authenticator code would be refused.
func (s *TwoFactorService) CheckKey(ctx context.Context) (apps int, err error) {
	var n int64
	if err := s.db.queryRow(ctx, nil, qTOTPApps).Scan(&n); err != nil {
		return 0, fmt.Errorf("count authenticator apps: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	r, err := scanTOTP(s.db.queryRow(ctx, nil, qTOTPNewest))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return int(n), fmt.Errorf("read an authenticator secret: %w", err)
	default:
		if _, err := s.open(r.SecretSealed); err != nil {
			return int(n), err
		}
	}
	return int(n), nil
}

// TOTPEnrolment returns the unconfirmed secret, storing fresh when there is
// none or it is stale.
func (s *TwoFactorService) TOTPEnrolment(ctx context.Context, userID int64, fresh string) (string, error) {
	var secret string
	now := s.db.now()
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := s.db.findTOTP(ctx, tx, userID, false)
		if err != nil {
			return err
		}
		if r != nil {
			if r.ConfirmedAt != nil {
				return app.Errorf(app.ECONFLICT, "An authenticator app is already on for your account.")
			}
			if r.CreatedAt.After(now.Add(-app.TOTPEnrolmentTTL)) {
				var err error
				secret, err = s.open(r.SecretSealed)
				return err
			}
			if err := tx.Delete(&totpRecord{}, "user_id = ?", userID).Error; err != nil {
				return fmt.Errorf("drop stale authenticator secret: %w", err)
			}
		}
		sealed, err := s.seal(fresh)
		if err != nil {
			return err
		}
		if err := tx.Create(&totpRecord{UserID: userID, SecretSealed: sealed, CreatedAt: now}).Error; err != nil {
			if isUniqueViolation(err) {
				return app.Errorf(app.ECONFLICT, "Setting up an authenticator app is already under way for this account.")
			}
			return fmt.Errorf("store authenticator secret: %w", err)
		}
		secret = fresh
		return nil
	})
	return secret, err
}

// ConfirmTOTP turns the authenticator app on once a code matches.
func (s *TwoFactorService) ConfirmTOTP(ctx context.Context, userID int64, code string, recoveryHashes []string) (bool, error) {
	var issued bool
	now := s.db.now()
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := s.db.findTOTP(ctx, tx, userID, false)
		if err != nil {
			return err
		}
		if r == nil {
			return app.Errorf(app.ENOTFOUND, "Start again: the set-up expired.")
		}
		if r.ConfirmedAt != nil {
			return app.Errorf(app.ECONFLICT, "An authenticator app is already on for your account.")
		}
		secret, err := s.open(r.SecretSealed)
		if err != nil {
			return err
		}
		step, ok := app.MatchTOTP(secret, code, now, r.LastStep)
		if !ok {
			return app.FieldErrorf("code", "That code didn’t match. Check that your phone’s clock is right and enter the newest code.")
		}
		res := tx.Model(&totpRecord{}).Where("user_id = ? AND confirmed_at IS NULL AND last_step < ?", userID, step).
			Updates(map[string]any{"confirmed_at": now, "last_step": step})
		if res.Error != nil {
			return fmt.Errorf("confirm authenticator: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ECONFLICT, "An authenticator app is already on for your account.")
		}
		if err := s.refreshFlag(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionTOTPEnabled,
			TargetType: "user", TargetID: fmt.Sprint(userID)}); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, userID, app.Say("mail.security.totp_on")); err != nil {
			return err
		}
		if err := s.db.confirmPrincipalSession(ctx, tx, userID, now); err != nil {
			return err
		}
		issued, err = s.issueRecoveryCodes(ctx, tx, userID, recoveryHashes, false)
		return err
	})
	return issued, err
}

// DisableTOTP turns the authenticator app off.
func (s *TwoFactorService) DisableTOTP(ctx context.Context, userID int64) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Delete(&totpRecord{})
		if res.Error != nil {
			return fmt.Errorf("turn off authenticator: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ENOTFOUND, "Your authenticator app is already off.")
		}
		if err := s.refreshFlag(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionTOTPDisabled,
			TargetType: "user", TargetID: fmt.Sprint(userID)}); err != nil {
			return err
		}
		return s.notify(ctx, tx, userID, app.Say("mail.security.totp_off"))
	})
}
