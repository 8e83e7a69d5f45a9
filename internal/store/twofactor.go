package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

type totpRecord struct {
	UserID       int64 `gorm:"primaryKey;autoIncrement:false"`
	SecretSealed string
	ConfirmedAt  *time.Time
	LastStep     int64
	CreatedAt    time.Time
}

func (totpRecord) TableName() string { return "user_totp" }

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

func (r *passkeyRecord) toApp() *app.PasskeyCredential {
	p := &app.PasskeyCredential{Passkey: app.Passkey{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()},
		CredentialID: r.CredentialID, Data: []byte(r.Data)}
	if r.LastUsedAt != nil {
		t := r.LastUsedAt.UTC()
		p.LastUsedAt = &t
	}
	return p
}

type recoveryCodeRecord struct {
	ID        int64
	UserID    int64
	CodeHash  string
	CreatedAt time.Time
	UsedAt    *time.Time
}

func (recoveryCodeRecord) TableName() string { return "recovery_codes" }

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

type codeLockRecord struct {
	UserID      int64 `gorm:"primaryKey;autoIncrement:false"`
	Failures    int
	WindowStart time.Time
	LockedUntil *time.Time
}

func (codeLockRecord) TableName() string { return "two_factor_locks" }

// pendingData is what a pending second factor carries from the magic link.
type pendingData struct {
	Next string `json:"next,omitempty"`
}

// TwoFactorService implements app.TwoFactorService. Authenticator secrets
// are sealed with AES-256-GCM under key, so a copy of the database alone
// does not yield codes.
type TwoFactorService struct {
	db  *DB
	key []byte
	// Notice builds the email telling a user that their two-factor
	// sign-in changed (change is a sentence); it is queued in the
	// change's transaction. Nil sends none.
	Notice func(to, change string) app.Email
}

// NewTwoFactorService returns the two-factor service of db; key (32 bytes)
// seals authenticator secrets. A nil key serves everything but reading or
// storing a secret.
func NewTwoFactorService(db *DB, key []byte) *TwoFactorService {
	return &TwoFactorService{db: db, key: key}
}

var _ app.TwoFactorService = (*TwoFactorService)(nil)

// seal encrypts an authenticator secret for storage.
func (s *TwoFactorService) seal(secret string) (string, error) {
	gcm, err := s.gcm()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(secret), nil)), nil
}

// errSecretUnreadable is what a user sees when their authenticator secret
// cannot be opened: the key changed (RUNBOOK.md, "The key that seals
// authenticator secrets") or the row was altered.
var errSecretUnreadable = app.Errorf(app.EUNAVAILABLE,
	"Authenticator codes can’t be checked right now. Use a passkey or a recovery code, or contact support.")

// open decrypts a stored authenticator secret.
func (s *TwoFactorService) open(sealed string) (string, error) {
	gcm, err := s.gcm()
	if err != nil {
		return "", err
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < gcm.NonceSize() {
		return "", errors.New("open authenticator secret: malformed")
	}
	plain, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("%w (open authenticator secret: wrong TWO_FACTOR_KEY or altered row)", errSecretUnreadable)
	}
	return string(plain), nil
}

func (s *TwoFactorService) gcm() (cipher.AEAD, error) {
	if len(s.key) != 32 {
		return nil, errors.New("two-factor key is not 32 bytes")
	}
	block, err := aes.NewCipher(s.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// CheckKey reports how many authenticator apps are on and whether the key
// opens the newest one's secret: after a restore or a TWO_FACTOR_KEY
// change it does not, and every authenticator code would be refused.
func (s *TwoFactorService) CheckKey(ctx context.Context) (apps int, err error) {
	var rs []totpRecord
	g := s.db.gorm.WithContext(ctx)
	var n int64
	if err := g.Model(&totpRecord{}).Where("confirmed_at IS NOT NULL").Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count authenticator apps: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := g.Where("confirmed_at IS NOT NULL").Order("confirmed_at DESC").Limit(1).Find(&rs).Error; err != nil {
		return int(n), fmt.Errorf("read an authenticator secret: %w", err)
	}
	if len(rs) == 1 {
		if _, err := s.open(rs[0].SecretSealed); err != nil {
			return int(n), err
		}
	}
	return int(n), nil
}

// FindTwoFactor returns what the user has enrolled, in one statement (the
// account page runs it on every view).
func (s *TwoFactorService) FindTwoFactor(ctx context.Context, userID int64) (*app.TwoFactorStatus, error) {
	rows, err := s.db.queryHot(ctx, qTwoFactorOf, s.db.now(), userID)
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

// TOTPEnrolment returns the unconfirmed secret, storing fresh when there is
// none or it is stale.
func (s *TwoFactorService) TOTPEnrolment(ctx context.Context, userID int64, fresh string) (string, error) {
	var secret string
	now := s.db.now()
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var rs []totpRecord
		if err := tx.Where("user_id = ?", userID).Limit(1).Find(&rs).Error; err != nil {
			return fmt.Errorf("find authenticator: %w", err)
		}
		if len(rs) == 1 {
			r := rs[0]
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
				return app.Errorf(app.ECONFLICT, "Setting up an authenticator app is already under way in another tab. Reload this page.")
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
		var rs []totpRecord
		if err := tx.Where("user_id = ?", userID).Limit(1).Find(&rs).Error; err != nil {
			return fmt.Errorf("find authenticator: %w", err)
		}
		if len(rs) == 0 {
			return app.Errorf(app.ENOTFOUND, "Start again: the set-up expired.")
		}
		if rs[0].ConfirmedAt != nil {
			return app.Errorf(app.ECONFLICT, "An authenticator app is already on for your account.")
		}
		secret, err := s.open(rs[0].SecretSealed)
		if err != nil {
			return err
		}
		step, ok := app.MatchTOTP(secret, code, now, rs[0].LastStep)
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
		if err := s.refreshFlag(tx, userID); err != nil {
			return err
		}
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionTOTPEnabled,
			TargetType: "user", TargetID: fmt.Sprint(userID)}); err != nil {
			return err
		}
		if err := s.notify(tx, userID, "An authenticator app was turned on: sign-ins now ask for its codes."); err != nil {
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
		if err := s.refreshFlag(tx, userID); err != nil {
			return err
		}
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionTOTPDisabled,
			TargetType: "user", TargetID: fmt.Sprint(userID)}); err != nil {
			return err
		}
		return s.notify(tx, userID, "Your authenticator app was turned off: sign-ins no longer ask for its codes.")
	})
}

// RegenerateRecoveryCodes replaces the user's recovery codes.
func (s *TwoFactorService) RegenerateRecoveryCodes(ctx context.Context, userID int64, hashes []string) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		var on bool
		if err := tx.Raw("SELECT two_factor FROM users WHERE id = ?", userID).Row().Scan(&on); err != nil {
			return fmt.Errorf("read two-factor flag: %w", err)
		}
		if !on {
			return app.Errorf(app.EINVALID, "Set up an authenticator app or a passkey first: recovery codes stand in for them.")
		}
		if _, err := s.issueRecoveryCodes(ctx, tx, userID, hashes, true); err != nil {
			return err
		}
		return s.notify(tx, userID, "A new set of recovery codes was made: the old ones no longer work.")
	})
}

// issueRecoveryCodes stores hashes as the user's recovery codes, replacing
// the old ones when replace is set, or only when the user has none left
// otherwise; it reports whether it stored them.
func (s *TwoFactorService) issueRecoveryCodes(ctx context.Context, tx *gorm.DB, userID int64, hashes []string, replace bool) (bool, error) {
	if !replace {
		var left int64
		if err := tx.Model(&recoveryCodeRecord{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&left).Error; err != nil {
			return false, fmt.Errorf("count recovery codes: %w", err)
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

// notify queues the Notice about change to the user, when there is one.
func (s *TwoFactorService) notify(tx *gorm.DB, userID int64, change string) error {
	if s.Notice == nil {
		return nil
	}
	var email string
	if err := tx.Raw("SELECT email FROM users WHERE id = ?", userID).Row().Scan(&email); err != nil {
		return fmt.Errorf("notify user %d: %w", userID, err)
	}
	return s.db.enqueueEmail(tx, s.Notice(email, change))
}

// refreshFlag sets users.two_factor from the factors the user has; with
// none left, their recovery codes go too.
func (s *TwoFactorService) refreshFlag(tx *gorm.DB, userID int64) error {
	var n int64
	if err := tx.Raw(`SELECT
		(SELECT COUNT(*) FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL) +
		(SELECT COUNT(*) FROM passkeys WHERE user_id = ?)`, userID, userID).Row().Scan(&n); err != nil {
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
	if err := g.Raw("SELECT webauthn_handle FROM users WHERE id = ?", userID).Row().Scan(&h); err != nil {
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
	var rs []passkeyRecord
	if err := s.db.gorm.WithContext(ctx).Where("user_id = ?", userID).Order("created_at, id").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("find passkeys: %w", err)
	}
	out := make([]*app.PasskeyCredential, 0, len(rs))
	for i := range rs {
		out = append(out, rs[i].toApp())
	}
	return out, nil
}

// FindWebAuthnUser returns the user with that passkey user handle.
func (s *TwoFactorService) FindWebAuthnUser(ctx context.Context, handle []byte) (*app.User, []*app.PasskeyCredential, error) {
	if len(handle) == 0 || len(handle) > 64 {
		return nil, nil, app.ErrPasskeyUnknown
	}
	var rs []userRecord
	if err := s.db.gorm.WithContext(ctx).Where("webauthn_handle = ?", base64.RawURLEncoding.EncodeToString(handle)).
		Limit(1).Find(&rs).Error; err != nil {
		return nil, nil, fmt.Errorf("find passkey user: %w", err)
	}
	if len(rs) == 0 {
		return nil, nil, app.ErrPasskeyUnknown
	}
	creds, err := s.FindPasskeyCredentials(ctx, rs[0].ID)
	if err != nil {
		return nil, nil, err
	}
	return rs[0].toApp(), creds, nil
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
		if err := tx.Model(&passkeyRecord{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
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
		if err := s.refreshFlag(tx, userID); err != nil {
			return err
		}
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionPasskeyAdded,
			TargetType: "user", TargetID: fmt.Sprint(userID), Metadata: map[string]any{"name": name}}); err != nil {
			return err
		}
		if err := s.notify(tx, userID, "A passkey named “"+name+"” was added: it signs in to your account on its own."); err != nil {
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
		var r passkeyRecord
		if err := tx.Take(&r, "id = ? AND user_id = ?", passkeyID, userID).Error; err != nil {
			return notFound(err, "That passkey is already removed.", "find passkey")
		}
		if err := tx.Delete(&passkeyRecord{}, r.ID).Error; err != nil {
			return fmt.Errorf("remove passkey: %w", err)
		}
		if err := s.refreshFlag(tx, userID); err != nil {
			return err
		}
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionPasskeyRemoved,
			TargetType: "user", TargetID: fmt.Sprint(userID), Metadata: map[string]any{"name": r.Name}}); err != nil {
			return err
		}
		return s.notify(tx, userID, "The passkey named “"+r.Name+"” was removed.")
	})
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

// FindPendingSignIn returns a live pending second factor.
func (s *TwoFactorService) FindPendingSignIn(ctx context.Context, tokenHash string) (*app.PendingSignIn, error) {
	var rs []challengeRecord
	now := s.db.now()
	if err := s.db.gorm.WithContext(ctx).Where("token_hash = ? AND purpose = ? AND expires_at > ?",
		tokenHash, app.PurposeSecondFactor, now).Limit(1).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("find pending sign-in: %w", err)
	}
	if len(rs) == 0 || rs[0].UserID == nil {
		return nil, app.ErrSecondFactorExpired
	}
	uid := *rs[0].UserID
	var d pendingData
	_ = json.Unmarshal([]byte(rs[0].Data), &d)
	p := &app.PendingSignIn{UserID: uid, Next: d.Next, ExpiresAt: rs[0].ExpiresAt.UTC()}
	var (
		totp, keys  int64
		lockedUntil *time.Time
	)
	if err := s.db.gorm.WithContext(ctx).Raw(`SELECT u.email,
		(SELECT COUNT(*) FROM user_totp WHERE user_id = u.id AND confirmed_at IS NOT NULL),
		(SELECT COUNT(*) FROM passkeys WHERE user_id = u.id),
		(SELECT locked_until FROM two_factor_locks WHERE user_id = u.id AND locked_until > ?)
		FROM users u WHERE u.id = ?`, now, uid).Row().Scan(&p.Email, &totp, &keys, &lockedUntil); err != nil {
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
		var rs []challengeRecord
		if err := tx.Where("token_hash = ? AND purpose = ? AND expires_at > ?", pendingHash, app.PurposeSecondFactor, now).
			Limit(1).Find(&rs).Error; err != nil {
			return fmt.Errorf("find pending sign-in: %w", err)
		}
		if len(rs) == 0 || rs[0].UserID == nil {
			return app.ErrSecondFactorExpired
		}
		uid := *rs[0].UserID
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
		_ = json.Unmarshal([]byte(rs[0].Data), &d)
		next = d.Next
		if user, err = takeUser(tx, uid); err != nil {
			return err
		}
		return s.db.startSession(ctx, tx, user, ns, method, false)
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
func (s *TwoFactorService) lockCodes(tx *gorm.DB, userID int64, now time.Time) (*codeLockRecord, error) {
	if err := tx.Exec("INSERT INTO two_factor_locks (user_id, failures, window_start) VALUES (?, 0, ?) ON CONFLICT (user_id) DO NOTHING",
		userID, now).Error; err != nil {
		return nil, fmt.Errorf("create code lock: %w", err)
	}
	q := "SELECT user_id, failures, window_start, locked_until FROM two_factor_locks WHERE user_id = ?"
	if s.db.Dialect() == "postgres" {
		q += " FOR UPDATE"
	}
	var r codeLockRecord
	if err := tx.Raw(q, userID).Row().Scan(&r.UserID, &r.Failures, &r.WindowStart, &r.LockedUntil); err != nil {
		return nil, fmt.Errorf("read code lock: %w", err)
	}
	return &r, nil
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
	lock, err := s.lockCodes(tx, uid, now)
	if err != nil {
		return "", 0, nil, err
	}
	if lock.LockedUntil != nil && lock.LockedUntil.After(now) {
		return "", 0, app.ErrCodeEntryLocked, nil
	}
	method, res, left, err := s.checkCode(tx, uid, code, now)
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
func (s *TwoFactorService) checkCode(tx *gorm.DB, userID int64, code string, now time.Time) (method string, res codeResult, left int64, err error) {
	if app.IsRecoveryCodeShape(code) {
		hash := app.HashRecoveryCode(code)
		upd := tx.Model(&recoveryCodeRecord{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hash).
			Update("used_at", now)
		if upd.Error != nil {
			return "", codeWrong, 0, fmt.Errorf("use recovery code: %w", upd.Error)
		}
		if upd.RowsAffected == 0 {
			var used int64
			if err := tx.Model(&recoveryCodeRecord{}).Where("user_id = ? AND code_hash = ?", userID, hash).Count(&used).Error; err != nil {
				return "", codeWrong, 0, fmt.Errorf("find used recovery code: %w", err)
			}
			if used > 0 {
				return app.MethodRecoveryCode, codeReplayed, 0, nil
			}
			return app.MethodRecoveryCode, codeWrong, 0, nil
		}
		if err := tx.Model(&recoveryCodeRecord{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&left).Error; err != nil {
			return "", codeWrong, 0, fmt.Errorf("count recovery codes: %w", err)
		}
		return app.MethodRecoveryCode, codeOK, left, nil
	}
	var rs []totpRecord
	if err := tx.Where("user_id = ? AND confirmed_at IS NOT NULL", userID).Limit(1).Find(&rs).Error; err != nil {
		return "", codeWrong, 0, fmt.Errorf("find authenticator: %w", err)
	}
	if len(rs) == 0 {
		return app.MethodTOTP, codeWrong, 0, nil
	}
	secret, err := s.open(rs[0].SecretSealed)
	if err != nil {
		return "", codeWrong, 0, err
	}
	step, ok := app.MatchTOTP(secret, code, now, rs[0].LastStep)
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
			next, method = d.Next, app.MethodMagicPasskey
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
		if user, err = takeUser(tx, userID); err != nil {
			return err
		}
		return s.db.startSession(ctx, tx, user, ns, method, false)
	})
	if err != nil {
		return nil, "", err
	}
	return user, next, nil
}
