package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// codeLockRecord is a row of two_factor_locks: a user's failed-code count and lock.
type codeLockRecord struct {
	UserID      int64 `gorm:"primaryKey;autoIncrement:false"`
	Failures    int
	WindowStart time.Time
	LockedUntil *time.Time
}

func (codeLockRecord) TableName() string { return "two_factor_locks" }

// codeLockColumns are the columns of a code lock row, in the order
// scanCodeLock reads them.
const codeLockColumns = `user_id, failures, window_start, locked_until`

// scanCodeLock reads a row of codeLockColumns.
func scanCodeLock(sc scanner) (*codeLockRecord, error) {
	var r codeLockRecord
	if err := scanRow(sc, &r.UserID, &r.Failures, &r.WindowStart, &r.LockedUntil); err != nil {
		return nil, err
	}
	return &r, nil
}

// qCodeLock names the statement that reads (and on PostgreSQL locks) a
// user's code lock.
const qCodeLock = "code_lock"

// codeLockQueries are the catalog's code lock statements.
var codeLockQueries = map[string]hotQuery{
	qCodeLock: {SQL: `SELECT ` + codeLockColumns + ` FROM two_factor_locks WHERE user_id = ?`,
		PostgresSQL: `SELECT ` + codeLockColumns + ` FROM two_factor_locks WHERE user_id = ? FOR UPDATE`},
}

// pendingData is what a pending second factor carries from the magic link.
type pendingData struct {
	Next string `json:"next,omitempty"`
	// First is the first step's method when it was not a magic link
	// (app.MethodOIDC, app.MethodSSO).
	First string `json:"first,omitempty"`
	// SSOWorkspace is the workspace whose identity provider took the
	// first step: the session names it.
	SSOWorkspace int64 `json:"sso_workspace,omitempty"`
}

// method names the sign-in whose second step used second: "magic_link+…"
// after a magic link, "oidc+…" after an identity provider.
func (d pendingData) method(second string) string {
	if d.First == "" {
		return second
	}
	return d.First + strings.TrimPrefix(second, app.MethodMagicLink)
}

// FindPendingSignIn returns a live pending second factor.
func (s *TwoFactorService) FindPendingSignIn(ctx context.Context, tokenHash string) (*app.PendingSignIn, error) {
	now := s.db.now()
	c, err := s.db.findChallenge(ctx, nil, tokenHash, app.PurposeSecondFactor, now)
	if err != nil {
		return nil, fmt.Errorf("find pending sign-in: %w", err)
	}
	if c == nil || c.UserID == nil {
		return nil, app.ErrSecondFactorExpired
	}
	uid := *c.UserID
	var d pendingData
	_ = json.Unmarshal([]byte(c.Data), &d)
	p := &app.PendingSignIn{UserID: uid, Next: d.Next, ExpiresAt: c.ExpiresAt.UTC()}
	var (
		totp, keys  int64
		lockedUntil *time.Time
	)
	if err := s.db.queryRow(ctx, nil, qPendingUser, now, uid).Scan(&p.Email, &totp, &keys, &lockedUntil); err != nil {
		return nil, fmt.Errorf("read pending sign-in's user: %w", err)
	}
	p.TOTP, p.Passkeys = totp > 0, keys > 0
	if lockedUntil != nil {
		t := lockedUntil.UTC()
		p.LockedUntil = &t
	}
	return p, nil
}

// CompleteSignInWithCode finishes a pending sign-in with a code. A wrong
// code is counted in the same transaction that refuses it, and that
// transaction commits: the error is returned after it.
func (s *TwoFactorService) CompleteSignInWithCode(ctx context.Context, pendingHash, code string, ns app.NewSession, lockedMail app.Email) (*app.User, string, error) {
	var (
		user    *app.User
		next    string
		refusal error
	)
	now := s.db.now()
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		c, err := s.db.findChallenge(ctx, tx, pendingHash, app.PurposeSecondFactor, now)
		if err != nil {
			return fmt.Errorf("find pending sign-in: %w", err)
		}
		if c == nil || c.UserID == nil {
			return app.ErrSecondFactorExpired
		}
		uid := *c.UserID
		method, left, bad, err := s.useCode(ctx, tx, uid, code, now, lockedMail)
		if err != nil || bad != nil {
			refusal = bad
			return err
		}
		if _, err := takeChallenge(tx, pendingHash, app.PurposeSecondFactor, now); err != nil {
			return err
		}
		if method == app.MethodRecoveryCode {
			if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: uid, Action: app.ActionRecoveryCodeUsed,
				TargetType: "user", TargetID: fmt.Sprint(uid), Metadata: map[string]any{"left": left}}); err != nil {
				return err
			}
		}
		var d pendingData
		_ = json.Unmarshal([]byte(c.Data), &d)
		next = d.Next
		if user, err = s.db.takeUser(ctx, tx, uid); err != nil {
			return err
		}
		ns.SSOWorkspaceID = d.SSOWorkspace
		return s.db.startSession(ctx, tx, user, ns, d.method(method), false)
	})
	if err != nil {
		return nil, "", err
	}
	if refusal != nil {
		return nil, "", refusal
	}
	return user, next, nil
}

// lockCodes returns the user's code-failure row, creating it, and holds
// it (FOR UPDATE on PostgreSQL; SQLite serialises writers) so that
// concurrent guesses are counted one after another.
func (s *TwoFactorService) lockCodes(ctx context.Context, tx *gorm.DB, userID int64, now time.Time) (*codeLockRecord, error) {
	if err := tx.Exec("INSERT INTO two_factor_locks (user_id, failures, window_start) VALUES (?, 0, ?) ON CONFLICT (user_id) DO NOTHING",
		userID, now).Error; err != nil {
		return nil, fmt.Errorf("create code lock: %w", err)
	}
	r, err := scanCodeLock(s.db.queryRow(ctx, tx, qCodeLock, userID))
	if err != nil {
		return nil, fmt.Errorf("read code lock: %w", err)
	}
	return r, nil
}

// codeResult is what checkCode found a code to be.
type codeResult int

const (
	codeWrong    codeResult = iota // no code of the user's: a guess
	codeOK                         // accepted, and used up
	codeReplayed                   // right, but already used: not a guess
)

// useCode checks code for the user inside tx, under their code lock, so
// that concurrent attempts are judged one after another. refusal is what
// the user is told when the code is not accepted: locked, wrong (counted
// towards the lock, whose CodeFailureLimit-th queues lockedMail) or just
// used (not counted: several sign-ins posting one right code are not
// guessing). An accepted code clears the count.
func (s *TwoFactorService) useCode(ctx context.Context, tx *gorm.DB, uid int64, code string, now time.Time, lockedMail app.Email) (method string, left int64, refusal, err error) {
	lock, err := s.lockCodes(ctx, tx, uid, now)
	if err != nil {
		return "", 0, nil, err
	}
	if lock.LockedUntil != nil && lock.LockedUntil.After(now) {
		return "", 0, app.ErrCodeEntryLocked, nil
	}
	method, res, left, err := s.checkCode(ctx, tx, uid, code, now)
	if err != nil {
		return "", 0, nil, err
	}
	switch res {
	case codeReplayed:
		if method == app.MethodRecoveryCode {
			return "", 0, app.ErrRecoveryCodeUsed, nil
		}
		return "", 0, app.ErrCodeReplayed, nil
	case codeWrong:
		locked, err := s.countFailure(ctx, tx, lock, now, lockedMail)
		if locked {
			return "", 0, app.ErrCodeEntryLocked, err
		}
		return "", 0, app.ErrCodeWrong, err
	}
	if err := tx.Model(&codeLockRecord{}).Where("user_id = ?", uid).
		Updates(map[string]any{"failures": 0, "window_start": now}).Error; err != nil {
		return "", 0, nil, fmt.Errorf("clear code failures: %w", err)
	}
	return method, left, nil, nil
}

// checkCode uses code as an authenticator code or, by its shape, a
// recovery code, each at most once; left is the recovery codes remaining.
// A right code already used (an authenticator code of a step at or before
// the last accepted, or a used recovery code) is codeReplayed.
func (s *TwoFactorService) checkCode(ctx context.Context, tx *gorm.DB, userID int64, code string, now time.Time) (method string, res codeResult, left int64, err error) {
	if app.IsRecoveryCodeShape(code) {
		hash := app.HashRecoveryCode(code)
		upd := tx.Model(&recoveryCodeRecord{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hash).
			Update("used_at", now)
		if upd.Error != nil {
			return "", codeWrong, 0, fmt.Errorf("use recovery code: %w", upd.Error)
		}
		if upd.RowsAffected == 0 {
			var used int64
			if err := s.db.queryRow(ctx, tx, qRecoveryCodeSpent, userID, hash).Scan(&used); err != nil {
				return "", codeWrong, 0, fmt.Errorf("find used recovery code: %w", err)
			}
			if used > 0 {
				return app.MethodRecoveryCode, codeReplayed, 0, nil
			}
			return app.MethodRecoveryCode, codeWrong, 0, nil
		}
		if left, err = s.db.recoveryCodesLeft(ctx, tx, userID); err != nil {
			return "", codeWrong, 0, err
		}
		return app.MethodRecoveryCode, codeOK, left, nil
	}
	t, err := s.db.findTOTP(ctx, tx, userID, true)
	if err != nil {
		return "", codeWrong, 0, err
	}
	if t == nil {
		return app.MethodTOTP, codeWrong, 0, nil
	}
	secret, err := s.open(t.SecretSealed)
	if err != nil {
		return "", codeWrong, 0, err
	}
	step, ok := app.MatchTOTP(secret, code, now, t.LastStep)
	if !ok {
		if _, right := app.MatchTOTP(secret, code, now, math.MinInt64); right {
			return app.MethodTOTP, codeReplayed, 0, nil
		}
		return app.MethodTOTP, codeWrong, 0, nil
	}
	// The conditional update is what makes a code single-use when two
	// requests carry it at once; the one that loses replayed it.
	upd := tx.Model(&totpRecord{}).Where("user_id = ? AND last_step < ?", userID, step).Update("last_step", step)
	if upd.Error != nil {
		return "", codeWrong, 0, fmt.Errorf("use authenticator code: %w", upd.Error)
	}
	if upd.RowsAffected == 0 {
		return app.MethodTOTP, codeReplayed, 0, nil
	}
	return app.MethodTOTP, codeOK, 0, nil
}

// countFailure records a wrong code and, at the limit, locks code entry,
// audits it and queues lockedMail; locked reports that it did.
func (s *TwoFactorService) countFailure(ctx context.Context, tx *gorm.DB, lock *codeLockRecord, now time.Time, lockedMail app.Email) (locked bool, err error) {
	failures, start := lock.Failures+1, lock.WindowStart
	if !start.After(now.Add(-app.CodeFailureWindow)) {
		failures, start = 1, now
	}
	upd := map[string]any{"failures": failures, "window_start": start}
	locked = failures >= app.CodeFailureLimit
	if locked {
		upd = map[string]any{"failures": 0, "window_start": now, "locked_until": now.Add(app.CodeLockout)}
	}
	if err := tx.Model(&codeLockRecord{}).Where("user_id = ?", lock.UserID).Updates(upd).Error; err != nil {
		return false, fmt.Errorf("count code failure: %w", err)
	}
	if locked {
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: lock.UserID, Action: app.ActionCodeEntryLocked,
			TargetType: "user", TargetID: fmt.Sprint(lock.UserID),
			Metadata: map[string]any{"failures": failures, "until": now.Add(app.CodeLockout).Format(time.RFC3339)}}); err != nil {
			return false, err
		}
		if lockedMail.To != "" {
			if err := s.db.enqueueEmail(tx, lockedMail); err != nil {
				return false, err
			}
		}
	}
	return locked, nil
}

// CompleteSignInWithPasskey starts a session after a verified passkey
// assertion, storing the credential's new sign count and flags.
func (s *TwoFactorService) CompleteSignInWithPasskey(ctx context.Context, pendingHash string, userID int64, credentialID string, data []byte, ns app.NewSession) (*app.User, string, error) {
	var (
		user *app.User
		next string
	)
	now := s.db.now()
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		method := app.MethodPasskey
		if pendingHash != "" {
			r, err := takeChallenge(tx, pendingHash, app.PurposeSecondFactor, now)
			if err != nil {
				return app.ErrSecondFactorExpired
			}
			if r.UserID == nil || *r.UserID != userID {
				return app.ErrPasskeyUnknown
			}
			var d pendingData
			_ = json.Unmarshal([]byte(r.Data), &d)
			next, method = d.Next, d.method(app.MethodMagicPasskey)
			ns.SSOWorkspaceID = d.SSOWorkspace
		}
		res := tx.Model(&passkeyRecord{}).Where("credential_id = ? AND user_id = ?", credentialID, userID).
			Updates(map[string]any{"data": string(data), "last_used_at": now})
		if res.Error != nil {
			return fmt.Errorf("record passkey use: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return app.ErrPasskeyUnknown
		}
		var err error
		if user, err = s.db.takeUser(ctx, tx, userID); err != nil {
			return err
		}
		return s.db.startSession(ctx, tx, user, ns, method, false)
	})
	if err != nil {
		return nil, "", err
	}
	return user, next, nil
}

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

// errSessionGone answers a confirmation for a session that has ended.
var errSessionGone = app.Errorf(app.EUNAUTHORIZED, "Your session has ended. Sign in again.")
