package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Two-factor sign-in: an authenticator app (TOTP, RFC 6238), passkeys
// (WebAuthn) and recovery codes. A user with any of the first two is asked
// for one after every magic link; a passkey on its own also signs in.
const (
	// SecondFactorTTL is how long the step between a used magic link and
	// the second factor stays open.
	SecondFactorTTL = 10 * time.Minute
	// ChallengeTTL is how long a WebAuthn challenge stays usable.
	ChallengeTTL = 5 * time.Minute
	// TOTPEnrolmentTTL is how long an unconfirmed authenticator secret is
	// offered again before a fresh one replaces it.
	TOTPEnrolmentTTL = time.Hour
	// TOTPPeriod is the authenticator code's time step.
	TOTPPeriod = 30 * time.Second
	// RecoveryCodeCount is how many recovery codes a user holds.
	RecoveryCodeCount = 10
	// CodeFailureLimit wrong codes within CodeFailureWindow lock code entry
	// for CodeLockout.
	CodeFailureLimit  = 5
	CodeFailureWindow = 15 * time.Minute
	CodeLockout       = 15 * time.Minute
	// MaxPasskeys bounds one user's passkeys.
	MaxPasskeys = 20
	// MaxPasskeyNameLength bounds a passkey's name.
	MaxPasskeyNameLength = 60
)

// Challenge purposes: what a short-lived auth_challenges row is for.
const (
	// PurposeSecondFactor is a magic-link sign-in waiting for its second
	// factor.
	PurposeSecondFactor = "second_factor"
	// PurposePasskeyRegister is a passkey registration in flight.
	PurposePasskeyRegister = "passkey_register"
	// PurposePasskeyLogin is a passkey sign-in in flight.
	PurposePasskeyLogin = "passkey_login"
	// PurposePasskeyConfirm is a signed-in user confirming it's them with
	// a passkey.
	PurposePasskeyConfirm = "passkey_confirm"
	// PurposeRecoveryCodes keeps freshly made recovery codes (sealed) for
	// the one page that shows them.
	PurposeRecoveryCodes = "recovery_codes"
	// PurposeAPIKeySecret keeps a new API key's secret (sealed with the
	// browser's token) for the one page that shows it.
	PurposeAPIKeySecret = "api_key_secret"
	// RecoveryCodesRevealTTL is how long new recovery codes wait to be
	// shown, once.
	RecoveryCodesRevealTTL = 5 * time.Minute
)

// Sign-in methods, recorded in the "auth.signed_in" entry's metadata.
const (
	MethodMagicLink    = "magic_link"
	MethodTOTP         = "magic_link+totp"
	MethodRecoveryCode = "magic_link+recovery_code"
	MethodMagicPasskey = "magic_link+passkey"
	MethodPasskey      = "passkey"
	// After an identity provider (MethodOIDC) the second step's method
	// reads "oidc+totp", "oidc+recovery_code" or "oidc+passkey".
)

// Passkey is a registered WebAuthn credential as the account page lists it.
type Passkey struct {
	ID         int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// PasskeyCredential is a passkey with what a WebAuthn ceremony needs:
// CredentialID (base64url) and Data, the credential record as JSON.
type PasskeyCredential struct {
	Passkey
	CredentialID string
	Data         []byte
}

// TwoFactorStatus is what a user has enrolled.
type TwoFactorStatus struct {
	TOTP              bool
	Passkeys          []*Passkey
	RecoveryCodesLeft int
	// LockedUntil is set while code entry is locked.
	LockedUntil *time.Time
}

// Enabled reports whether the user has a second factor.
func (s *TwoFactorStatus) Enabled() bool { return s.TOTP || len(s.Passkeys) > 0 }

// Challenge is short-lived, single-use state kept server-side and named by
// a cookie token: a pending second factor or a WebAuthn ceremony.
type Challenge struct {
	TokenHash string
	Purpose   string
	UserID    int64 // 0 when nobody is known yet (a passkey sign-in)
	Data      []byte
	ExpiresAt time.Time
}

// PendingSignIn is a magic-link sign-in waiting for its second factor.
type PendingSignIn struct {
	UserID    int64
	Email     string
	Next      string
	ExpiresAt time.Time
	TOTP      bool
	Passkeys  bool
	// LockedUntil is set while code entry is locked for the account.
	LockedUntil *time.Time
}

// TwoFactorReset is what an operator's reset removed.
type TwoFactorReset struct {
	User          *User
	TOTP          bool
	Passkeys      int
	RecoveryCodes int
	// Sessions counts the sessions ended (with signOut), or still live.
	Sessions int
}

// Two-factor failures, each with its message.
var (
	ErrSecondFactorRequired = &Error{Code: EUNAUTHORIZED, Message: "Enter your second factor to finish signing in."}
	ErrSecondFactorExpired  = &Error{Code: EINVALID, Message: "This sign-in took too long. Ask for a new sign-in link."}
	ErrCodeWrong            = &Error{Code: EINVALID, Field: "code", Message: "That code didn’t work. Check your authenticator app and try again."}
	ErrCodeEntryLocked      = &Error{Code: ERATELIMITED, Field: "code", Message: "Too many wrong codes. Code entry is locked for 15 minutes; a passkey still works."}
	// ErrCodeReplayed refuses a right authenticator code that was already
	// used (by this sign-in a moment ago, or by another one): it is not a
	// wrong guess, and the next code will work.
	ErrCodeReplayed = &Error{Code: EINVALID, Field: "code", Message: "This code was just used — wait for the next one."}
	// ErrRecoveryCodeUsed refuses a recovery code already used.
	ErrRecoveryCodeUsed = &Error{Code: EINVALID, Field: "code", Message: "This recovery code was already used: each works once. Use another one."}
	ErrPasskeyUnknown   = &Error{Code: EUNAUTHORIZED, Message: "That passkey isn’t registered here. Sign in with an email link instead."}
)

// TwoFactorService keeps users' second factors and completes sign-ins that
// need one. Every change writes its audit entry in the same transaction.
type TwoFactorService interface {
	// FindTwoFactor returns what the user has enrolled.
	FindTwoFactor(ctx context.Context, userID int64) (*TwoFactorStatus, error)
	// TOTPEnrolment returns the user's unconfirmed authenticator secret,
	// storing fresh when there is none (or it is older than
	// TOTPEnrolmentTTL); ECONFLICT when an app is already on.
	TOTPEnrolment(ctx context.Context, userID int64, fresh string) (string, error)
	// ConfirmTOTP turns the app on once code matches the unconfirmed secret
	// ("two_factor.totp_enabled"). recoveryHashes are stored when the user
	// has no recovery codes; issued reports whether they were.
	ConfirmTOTP(ctx context.Context, userID int64, code string, recoveryHashes []string) (issued bool, err error)
	// DisableTOTP turns the app off ("two_factor.totp_disabled").
	DisableTOTP(ctx context.Context, userID int64) error
	// RegenerateRecoveryCodes replaces the user's recovery codes
	// ("two_factor.recovery_codes_generated"); EINVALID without a factor.
	RegenerateRecoveryCodes(ctx context.Context, userID int64, hashes []string) error

	// WebAuthnHandle returns the user's random passkey user handle, making
	// it the first time.
	WebAuthnHandle(ctx context.Context, userID int64) ([]byte, error)
	// FindPasskeyCredentials returns the user's passkeys with their data.
	FindPasskeyCredentials(ctx context.Context, userID int64) ([]*PasskeyCredential, error)
	// FindWebAuthnUser returns the user with that passkey user handle and
	// their passkeys; ErrPasskeyUnknown when there is none.
	FindWebAuthnUser(ctx context.Context, handle []byte) (*User, []*PasskeyCredential, error)
	// AddPasskey registers a passkey ("two_factor.passkey_added"), storing
	// recoveryHashes when the user has no recovery codes (issued).
	AddPasskey(ctx context.Context, userID int64, p PasskeyCredential, recoveryHashes []string) (issued bool, err error)
	// RemovePasskey removes one of the user's passkeys
	// ("two_factor.passkey_removed"); another user's id is ENOTFOUND.
	RemovePasskey(ctx context.Context, userID, passkeyID int64) error

	// SaveChallenge stores a challenge.
	SaveChallenge(ctx context.Context, c Challenge) error
	// TakeChallenge returns a live challenge of that purpose and deletes
	// it, so it is used at most once; ENOTFOUND otherwise.
	TakeChallenge(ctx context.Context, tokenHash, purpose string) (*Challenge, error)

	// FindPendingSignIn returns a live pending second factor;
	// ErrSecondFactorExpired otherwise.
	FindPendingSignIn(ctx context.Context, tokenHash string) (*PendingSignIn, error)
	// CompleteSignInWithCode finishes a pending sign-in with an
	// authenticator code or a recovery code and starts the session. A code
	// is accepted once per time step; a wrong code counts towards the lock
	// (ErrCodeWrong), and the CodeFailureLimit-th locks code entry
	// ("two_factor.locked") and queues lockedMail.
	CompleteSignInWithCode(ctx context.Context, pendingHash, code string, ns NewSession, lockedMail Email) (*User, string, error)
	// CompleteSignInWithPasskey starts a session for a user whose passkey
	// assertion the caller verified, storing the credential's updated
	// data. With pendingHash it finishes that pending sign-in, which must
	// be the same user's.
	CompleteSignInWithPasskey(ctx context.Context, pendingHash string, userID int64, credentialID string, data []byte, ns NewSession) (*User, string, error)

	// ConfirmSessionWithCode records that the user's session proved a
	// second factor now (see Principal.RecentlyVerified), with an
	// authenticator or recovery code checked, counted and locked as at
	// sign-in.
	ConfirmSessionWithCode(ctx context.Context, sessionID, userID int64, code string, lockedMail Email) error
	// ConfirmSessionWithPasskey does the same after a passkey assertion
	// the caller verified, storing the credential's updated data.
	ConfirmSessionWithPasskey(ctx context.Context, sessionID, userID int64, credentialID string, data []byte) error
	// SaveRecoveryCodesReveal keeps new recovery codes (sealed) under
	// tokenHash until expires, to be shown once.
	SaveRecoveryCodesReveal(ctx context.Context, userID int64, tokenHash string, codes []string, expires time.Time) error
	// TakeRecoveryCodesReveal returns and deletes them; ENOTFOUND when
	// shown already, expired or another user's.
	TakeRecoveryCodesReveal(ctx context.Context, userID int64, tokenHash string) ([]string, error)

	// ResetTwoFactor removes every factor and recovery code of the user
	// with that email and lifts a lock ("two_factor.reset", with reason),
	// queuing msg to tell them; with signOut it also ends all their
	// sessions.
	ResetTwoFactor(ctx context.Context, email, reason string, signOut bool, msg Email) (*TwoFactorReset, error)
}

// NewTOTPSecret returns a fresh authenticator secret (160 random bits,
// base32 without padding, as authenticator apps expect).
func NewTOTPSecret() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// TOTPURL returns the otpauth:// URL an authenticator app reads from the QR
// code.
func TOTPURL(issuer, account, secret string) string {
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account}
	u.RawQuery = url.Values{"secret": {secret}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {"6"}, "period": {"30"}}.Encode()
	return u.String()
}

// FormatTOTPSecret groups a secret in fours for typing by hand.
func FormatTOTPSecret(secret string) string {
	var b strings.Builder
	for i := 0; i < len(secret); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(secret[i:min(i+4, len(secret))])
	}
	return b.String()
}

// TOTPStep returns the time step t falls in.
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }

// MatchTOTP checks a six-digit code against secret at now, allowing one
// step of clock skew either way, and returns the step it matched. A step at
// or before lastStep never matches, so a code works once.
func MatchTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != 6 {
		return 0, false
	}
	step := TOTPStep(now)
	for _, s := range []int64{step - 1, step, step + 1} {
		if s <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(TOTPPeriod/time.Second), 0),
			totp.ValidateOpts{Period: uint(TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// recoveryAlphabet avoids look-alike characters (no 0/o, 1/l/i).
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// NewRecoveryCodes returns RecoveryCodeCount fresh codes ("abcde-fghjk",
// about 49 bits each) and their hashes, the only form stored.
func NewRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		c := make([]byte, 0, 11)
		for i, x := range b {
			if i == 5 {
				c = append(c, '-')
			}
			c = append(c, recoveryAlphabet[int(x)%len(recoveryAlphabet)])
		}
		codes = append(codes, string(c))
		hashes = append(hashes, HashRecoveryCode(string(c)))
	}
	return codes, hashes
}

// NormalizeRecoveryCode lower-cases a typed recovery code and drops
// spaces and dashes; ok is false when it cannot be one.
func NormalizeRecoveryCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == ' ' || r == '-':
		case strings.ContainsRune(recoveryAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), b.Len() == 10
}

// HashRecoveryCode returns the stored form of a recovery code.
func HashRecoveryCode(code string) string {
	n, _ := NormalizeRecoveryCode(code)
	return HashToken("recovery:" + n)
}

// IsRecoveryCodeShape reports whether a typed code looks like a recovery
// code rather than an authenticator code.
func IsRecoveryCodeShape(s string) bool {
	_, ok := NormalizeRecoveryCode(s)
	return ok
}
