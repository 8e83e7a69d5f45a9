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

// errSessionGone answers a confirmation for a session that has ended.
var errSessionGone = app.Errorf(app.EUNAUTHORIZED, "Your session has ended. Sign in again.")

// confirmSession records that the user's session proved a second factor
// now: it counts for a workspace's two-factor policy and may change the
// user's factors for app.ReauthWindow.
func (db *DB) confirmSession(tx *gorm.DB, sessionID, userID int64, now time.Time) error {
	res := tx.Model(&sessionRecord{}).Where("id = ? AND user_id = ?", sessionID, userID).
		Updates(map[string]any{"second_factor": true, "verified_at": now})
	if res.Error != nil {
		return fmt.Errorf("confirm session: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return errSessionGone
	}
	return nil
}

// confirmPrincipalSession confirms the session of ctx's principal when it
// is userID's: enrolling a factor proves it (the first code matched, or the
// passkey was made), so the session that did it counts as using it.
func (db *DB) confirmPrincipalSession(ctx context.Context, tx *gorm.DB, userID int64, now time.Time) error {
	p := app.PrincipalFromContext(ctx)
	if p == nil || p.User.ID != userID || p.Session.ID == 0 {
		return nil
	}
	return db.confirmSession(tx, p.Session.ID, userID, now)
}

// ConfirmSessionWithCode confirms the user's session with an
// authenticator or recovery code: refused, counted and locked exactly as
// at sign-in (a code just used is refused but not counted).
func (s *TwoFactorService) ConfirmSessionWithCode(ctx context.Context, sessionID, userID int64, code string, lockedMail app.Email) error {
	var refusal error
	now := s.db.now()
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		method, left, bad, err := s.useCode(ctx, tx, userID, code, now, lockedMail)
		if err != nil || bad != nil {
			refusal = bad
			return err
		}
		if method == app.MethodRecoveryCode {
			if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionRecoveryCodeUsed,
				TargetType: "user", TargetID: fmt.Sprint(userID), Metadata: map[string]any{"left": left}}); err != nil {
				return err
			}
		}
		return s.db.confirmSession(tx, sessionID, userID, now)
	})
	if err != nil {
		return err
	}
	return refusal
}

// ConfirmSessionWithPasskey confirms the user's session after a passkey
// assertion the caller verified, storing the credential's updated data.
func (s *TwoFactorService) ConfirmSessionWithPasskey(ctx context.Context, sessionID, userID int64, credentialID string, data []byte) error {
	now := s.db.now()
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&passkeyRecord{}).Where("credential_id = ? AND user_id = ?", credentialID, userID).
			Updates(map[string]any{"data": string(data), "last_used_at": now})
		if res.Error != nil {
			return fmt.Errorf("record passkey use: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return app.ErrPasskeyUnknown
		}
		return s.db.confirmSession(tx, sessionID, userID, now)
	})
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
