package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

var twoFactorKey = []byte("0123456789abcdef0123456789abcdef")

// codeAt computes the authenticator code for secret at t, as a phone would.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTP turns on an authenticator app for u and returns its secret and
// the recovery codes issued with it.
func enrolTOTP(t *testing.T, tf *store.TwoFactorService, c *clock, u teamUser) (string, []string) {
	t.Helper()
	secret, err := tf.TOTPEnrolment(u.ctx, u.ID, app.NewTOTPSecret())
	if err != nil {
		t.Fatalf("TOTPEnrolment: %v", err)
	}
	codes, hashes := app.NewRecoveryCodes()
	issued, err := tf.ConfirmTOTP(u.ctx, u.ID, codeAt(t, secret, c.Now()), hashes)
	if err != nil || !issued {
		t.Fatalf("ConfirmTOTP: issued=%v err=%v", issued, err)
	}
	// The confirming code used this time step; later codes come later.
	c.Add(app.TOTPPeriod)
	return secret, codes
}

// pendingSignIn follows a magic link for email and returns the pending
// second factor's hash, failing unless one is asked for.
func pendingSignIn(t *testing.T, db *store.DB, c *clock, email, next string) string {
	t.Helper()
	auth := store.NewAuthService(db)
	tok := requestLogin(t, auth, c, email, next)
	_, sess := app.NewToken()
	_, pending := app.NewToken()
	_, _, err := auth.CompleteLogin(context.Background(), app.HashToken(tok), app.NewSession{TokenHash: sess, PendingHash: pending})
	if !errors.Is(err, app.ErrSecondFactorRequired) {
		t.Fatalf("CompleteLogin with a second factor: err=%v, want ErrSecondFactorRequired", err)
	}
	if n := rowCount(t, db, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?", sess); n != 0 {
		t.Fatalf("a session started before the second factor (%d rows)", n)
	}
	return pending
}

func lockedMail(email string) app.Email {
	return app.Email{To: email, Subject: "Code entry locked", Text: "locked", Ref: "two_factor_locked"}
}

func TestTwoFactorService_TOTP(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		tf := store.NewTwoFactorService(db, twoFactorKey)
		u := signUpMember(t, db, c, "ada@example.com")

		t.Run("Enrolment", func(t *testing.T) {
			first, err := tf.TOTPEnrolment(u.ctx, u.ID, app.NewTOTPSecret())
			if err != nil {
				t.Fatal(err)
			}
			again, err := tf.TOTPEnrolment(u.ctx, u.ID, app.NewTOTPSecret())
			if err != nil || again != first {
				t.Fatalf("a reload offered a different secret (%v): scanning the first QR code would fail", err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM user_totp WHERE secret_sealed LIKE ?", "%"+first+"%"); n != 0 {
				t.Fatal("the authenticator secret is stored in the clear")
			}
			if _, err := tf.ConfirmTOTP(u.ctx, u.ID, "000000", nil); app.ErrorField(err) != "code" {
				t.Fatalf("wrong first code: err=%v, want an error beside the code field", err)
			}
			_, hashes := app.NewRecoveryCodes()
			issued, err := tf.ConfirmTOTP(u.ctx, u.ID, codeAt(t, first, c.Now()), hashes)
			if err != nil || !issued {
				t.Fatalf("ConfirmTOTP: issued=%v err=%v", issued, err)
			}
			st, err := tf.FindTwoFactor(context.Background(), u.ID)
			if err != nil || !st.TOTP || st.RecoveryCodesLeft != app.RecoveryCodeCount || !st.Enabled() {
				t.Fatalf("status after enrolment = %+v, %v", st, err)
			}
			if _, err := tf.TOTPEnrolment(u.ctx, u.ID, app.NewTOTPSecret()); app.ErrorCode(err) != app.ECONFLICT {
				t.Fatalf("second enrolment: %v, want conflict", err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = ? AND actor_user_id = ?", app.ActionTOTPEnabled, u.ID); n != 1 {
				t.Fatalf("%d totp_enabled entries, want 1", n)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM users WHERE id = ? AND two_factor", u.ID); n != 1 {
				t.Fatal("users.two_factor is not set")
			}
		})

		t.Run("StaleEnrolmentRekeyed", func(t *testing.T) {
			v := signUpMember(t, db, c, "stale@example.com")
			first, _ := tf.TOTPEnrolment(v.ctx, v.ID, app.NewTOTPSecret())
			c.Add(app.TOTPEnrolmentTTL + time.Minute)
			if again, _ := tf.TOTPEnrolment(v.ctx, v.ID, app.NewTOTPSecret()); again == first {
				t.Fatal("a secret shown over an hour ago is still offered")
			}
		})

		t.Run("WrongKey", func(t *testing.T) {
			other := store.NewTwoFactorService(db, []byte("ffffffffffffffffffffffffffffffff"))
			pending := pendingSignIn(t, db, c, u.Email, "")
			_, _, err := other.CompleteSignInWithCode(context.Background(), pending, "123456", app.NewSession{}, app.Email{})
			if app.ErrorCode(err) != app.EUNAVAILABLE || !strings.Contains(err.Error(), "TWO_FACTOR_KEY") {
				t.Fatalf("a different TWO_FACTOR_KEY: err=%v, want unavailable, naming the key for the log", err)
			}
		})
	})
}

func TestTwoFactorService_SignInWithCode(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		tf := store.NewTwoFactorService(db, twoFactorKey)
		auth := store.NewAuthService(db)
		u := signUpMember(t, db, c, "grace@example.com")
		secret, recovery := enrolTOTP(t, tf, c, u)

		signIn := func(pending, code string) (*app.User, string, string, error) {
			_, sess := app.NewToken()
			user, next, err := tf.CompleteSignInWithCode(ctx, pending, code, app.NewSession{TokenHash: sess, IP: "192.0.2.7"}, lockedMail(u.Email))
			return user, next, sess, err
		}

		t.Run("Code", func(t *testing.T) {
			pending := pendingSignIn(t, db, c, u.Email, "/w/acme/members")
			p, err := tf.FindPendingSignIn(ctx, pending)
			if err != nil || !p.TOTP || p.Passkeys || p.Email != u.Email || p.UserID != u.ID {
				t.Fatalf("FindPendingSignIn = %+v, %v", p, err)
			}
			user, next, sess, err := signIn(pending, codeAt(t, secret, c.Now()))
			if err != nil || user.ID != u.ID || next != "/w/acme/members" {
				t.Fatalf("CompleteSignInWithCode = %v, %q, %v", user, next, err)
			}
			if _, err := auth.Authenticate(ctx, sess); err != nil {
				t.Fatalf("the new session does not authenticate: %v", err)
			}
			if _, _, _, err := signIn(pending, codeAt(t, secret, c.Now().Add(app.TOTPPeriod))); !errors.Is(err, app.ErrSecondFactorExpired) {
				t.Fatalf("pending sign-in used twice: %v", err)
			}
			var method string
			if err := db.SQL().QueryRowContext(ctx, db.Rebind("SELECT metadata FROM audit_logs WHERE action = ? AND actor_user_id = ? ORDER BY id DESC LIMIT 1"),
				app.ActionSignedIn, u.ID).Scan(&method); err != nil || !strings.Contains(method, app.MethodTOTP) {
				t.Fatalf("sign-in entry metadata %q (%v), want method %s", method, err, app.MethodTOTP)
			}
		})

		t.Run("ReplayRefused", func(t *testing.T) {
			c.Add(app.TOTPPeriod)
			code := codeAt(t, secret, c.Now())
			if _, _, _, err := signIn(pendingSignIn(t, db, c, u.Email, ""), code); err != nil {
				t.Fatal(err)
			}
			_, _, sess, err := signIn(pendingSignIn(t, db, c, u.Email, ""), code)
			if !errors.Is(err, app.ErrCodeReplayed) {
				t.Fatalf("replayed code: err=%v, want ErrCodeReplayed", err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?", sess); n != 0 {
				t.Fatal("a replayed code started a session")
			}
		})

		t.Run("Skew", func(t *testing.T) {
			c.Add(3 * app.TOTPPeriod)
			if _, _, _, err := signIn(pendingSignIn(t, db, c, u.Email, ""), codeAt(t, secret, c.Now().Add(-app.TOTPPeriod))); err != nil {
				t.Fatalf("a code one step behind: %v", err)
			}
			c.Add(3 * app.TOTPPeriod)
			if _, _, _, err := signIn(pendingSignIn(t, db, c, u.Email, ""), codeAt(t, secret, c.Now().Add(-2*app.TOTPPeriod))); !errors.Is(err, app.ErrCodeWrong) {
				t.Fatalf("a code two steps behind: %v, want ErrCodeWrong", err)
			}
		})

		t.Run("RecoveryCodeOnce", func(t *testing.T) {
			code := strings.ToUpper(strings.ReplaceAll(recovery[3], "-", " "))
			if _, _, _, err := signIn(pendingSignIn(t, db, c, u.Email, ""), code); err != nil {
				t.Fatalf("recovery code typed in capitals with a space: %v", err)
			}
			if _, _, _, err := signIn(pendingSignIn(t, db, c, u.Email, ""), recovery[3]); !errors.Is(err, app.ErrRecoveryCodeUsed) {
				t.Fatalf("recovery code used twice: %v", err)
			}
			st, _ := tf.FindTwoFactor(ctx, u.ID)
			if st.RecoveryCodesLeft != app.RecoveryCodeCount-1 {
				t.Fatalf("%d recovery codes left, want %d", st.RecoveryCodesLeft, app.RecoveryCodeCount-1)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = ? AND actor_user_id = ?", app.ActionRecoveryCodeUsed, u.ID); n != 1 {
				t.Fatalf("%d recovery_code_used entries, want 1", n)
			}
		})

		t.Run("Expired", func(t *testing.T) {
			pending := pendingSignIn(t, db, c, u.Email, "")
			c.Add(app.SecondFactorTTL + time.Second)
			if _, _, _, err := signIn(pending, codeAt(t, secret, c.Now())); !errors.Is(err, app.ErrSecondFactorExpired) {
				t.Fatalf("after %v: %v, want ErrSecondFactorExpired", app.SecondFactorTTL, err)
			}
		})

		t.Run("Lockout", func(t *testing.T) {
			c.Add(time.Hour)
			pending := pendingSignIn(t, db, c, u.Email, "")
			for i := 1; i < app.CodeFailureLimit; i++ {
				if _, _, _, err := signIn(pending, "000000"); !errors.Is(err, app.ErrCodeWrong) {
					t.Fatalf("wrong code %d: %v", i, err)
				}
			}
			if _, _, _, err := signIn(pending, "111111"); !errors.Is(err, app.ErrCodeEntryLocked) {
				t.Fatalf("wrong code %d: %v, want ErrCodeEntryLocked", app.CodeFailureLimit, err)
			}
			c.Add(app.TOTPPeriod)
			if _, _, _, err := signIn(pending, codeAt(t, secret, c.Now())); !errors.Is(err, app.ErrCodeEntryLocked) {
				t.Fatalf("right code while locked: %v, want ErrCodeEntryLocked", err)
			}
			if _, _, _, err := signIn(pending, recovery[5]); !errors.Is(err, app.ErrCodeEntryLocked) {
				t.Fatalf("recovery code while locked: %v, want ErrCodeEntryLocked", err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE ref = ? AND to_addr = ?", "two_factor_locked", u.Email); n != 1 {
				t.Fatalf("%d lock emails, want 1", n)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = ? AND actor_user_id = ?", app.ActionCodeEntryLocked, u.ID); n != 1 {
				t.Fatalf("%d lock entries, want 1", n)
			}
			if p, _ := tf.FindPendingSignIn(ctx, pending); p == nil || p.LockedUntil == nil {
				t.Fatal("the pending sign-in does not say code entry is locked")
			}
			c.Add(app.CodeLockout)
			if _, _, _, err := signIn(pendingSignIn(t, db, c, u.Email, ""), codeAt(t, secret, c.Now())); err != nil {
				t.Fatalf("right code after the lock: %v", err)
			}
		})

		t.Run("SlowGuessesDoNotLock", func(t *testing.T) {
			c.Add(time.Hour)
			for i := 0; i < 2*app.CodeFailureLimit; i++ {
				if _, _, _, err := signIn(pendingSignIn(t, db, c, u.Email, ""), "000000"); !errors.Is(err, app.ErrCodeWrong) {
					t.Fatalf("wrong code %d, %v apart: %v", i, app.CodeFailureWindow/4, err)
				}
				c.Add(app.CodeFailureWindow / 4)
			}
		})

		t.Run("RacingSameCode", func(t *testing.T) {
			c.Add(time.Hour)
			a, b := pendingSignIn(t, db, c, u.Email, ""), pendingSignIn(t, db, c, u.Email, "")
			code := codeAt(t, secret, c.Now())
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, p := range []string{a, b} {
				wg.Add(1)
				go func() { defer wg.Done(); _, _, _, errs[i] = signIn(p, code) }()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else if !errors.Is(err, app.ErrCodeReplayed) && app.ErrorCode(err) != app.EUNAVAILABLE {
					t.Errorf("racing sign-in: %v", err)
				}
			}
			if ok != 1 {
				t.Fatalf("one code started %d sessions, want 1 (%v)", ok, errs)
			}
		})
	})
}

func TestTwoFactorService_Passkeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		tf := store.NewTwoFactorService(db, twoFactorKey)
		tf.Notice = func(to, _ string, change app.Sentence) app.Email {
			return app.Email{To: to, Subject: "changed", Text: change.Key, Ref: "security-notice"}
		}
		u := signUpMember(t, db, c, "lin@example.com")
		mallory := signUpMember(t, db, c, "mallory@example.com")

		h1, err := tf.WebAuthnHandle(ctx, u.ID)
		if err != nil || len(h1) != 32 {
			t.Fatalf("WebAuthnHandle = %x, %v", h1, err)
		}
		if h2, _ := tf.WebAuthnHandle(ctx, u.ID); string(h2) != string(h1) {
			t.Fatal("the passkey user handle changed")
		}
		_, hashes := app.NewRecoveryCodes()
		issued, err := tf.AddPasskey(u.ctx, u.ID, app.PasskeyCredential{Passkey: app.Passkey{Name: "  Laptop  "}, CredentialID: "cred-1", Data: []byte(`{"id":"1"}`)}, hashes)
		if err != nil || !issued {
			t.Fatalf("AddPasskey = %v, %v", issued, err)
		}
		if _, err := tf.AddPasskey(u.ctx, u.ID, app.PasskeyCredential{Passkey: app.Passkey{Name: ""}, CredentialID: "cred-2"}, hashes); app.ErrorField(err) != "passkey_name" {
			t.Fatalf("unnamed passkey: %v", err)
		}
		if _, err := tf.AddPasskey(mallory.ctx, mallory.ID, app.PasskeyCredential{Passkey: app.Passkey{Name: "Stolen"}, CredentialID: "cred-1", Data: []byte(`{}`)}, hashes); app.ErrorCode(err) != app.ECONFLICT {
			t.Fatalf("another account registering the same credential: %v, want conflict", err)
		}
		user, creds, err := tf.FindWebAuthnUser(ctx, h1)
		if err != nil || user.ID != u.ID || len(creds) != 1 || creds[0].Name != "Laptop" || !user.TwoFactor {
			t.Fatalf("FindWebAuthnUser = %+v, %v, %v", user, creds, err)
		}
		if _, _, err := tf.FindWebAuthnUser(ctx, []byte("nobody")); !errors.Is(err, app.ErrPasskeyUnknown) {
			t.Fatalf("unknown handle: %v", err)
		}

		t.Run("SignIn", func(t *testing.T) {
			_, sess := app.NewToken()
			got, _, err := tf.CompleteSignInWithPasskey(ctx, "", u.ID, "cred-1", []byte(`{"id":"1","count":2}`), app.NewSession{TokenHash: sess})
			if err != nil || got.ID != u.ID {
				t.Fatalf("CompleteSignInWithPasskey = %v, %v", got, err)
			}
			creds, _ := tf.FindPasskeyCredentials(ctx, u.ID)
			if creds[0].LastUsedAt == nil || string(creds[0].Data) != `{"id":"1","count":2}` {
				t.Fatalf("passkey after use = %+v", creds[0])
			}
			if _, _, err := tf.CompleteSignInWithPasskey(ctx, "", mallory.ID, "cred-1", nil, app.NewSession{TokenHash: "x"}); !errors.Is(err, app.ErrPasskeyUnknown) {
				t.Fatalf("another user's credential: %v", err)
			}
		})

		t.Run("SecondFactor", func(t *testing.T) {
			pending := pendingSignIn(t, db, c, u.Email, "/app")
			if _, _, err := tf.CompleteSignInWithPasskey(ctx, pending, mallory.ID, "cred-1", nil, app.NewSession{TokenHash: "y"}); err == nil {
				t.Fatal("a pending sign-in was finished as another user")
			}
			// The failed attempt above used up the pending sign-in.
			pending = pendingSignIn(t, db, c, u.Email, "/app")
			_, sess := app.NewToken()
			_, next, err := tf.CompleteSignInWithPasskey(ctx, pending, u.ID, "cred-1", []byte(`{}`), app.NewSession{TokenHash: sess})
			if err != nil || next != "/app" {
				t.Fatalf("passkey as second factor = %q, %v", next, err)
			}
		})

		t.Run("RemoveIsolated", func(t *testing.T) {
			creds, _ := tf.FindPasskeyCredentials(ctx, u.ID)
			if err := tf.RemovePasskey(mallory.ctx, mallory.ID, creds[0].ID); app.ErrorCode(err) != app.ENOTFOUND {
				t.Fatalf("removing another user's passkey: %v, want not found", err)
			}
			if err := tf.RemovePasskey(u.ctx, u.ID, creds[0].ID); err != nil {
				t.Fatal(err)
			}
			// Adding and removing were each told to the account's address, in
			// their transactions; the refused add to another account was not.
			if n := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE ref = 'security-notice' AND to_addr = ?", u.Email); n != 2 {
				t.Fatalf("%d security notices to %s, want 2 (added, removed)", n, u.Email)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE ref = 'security-notice' AND to_addr = ?", mallory.Email); n != 0 {
				t.Fatalf("%d security notices to mallory, whose add was refused", n)
			}
			st, _ := tf.FindTwoFactor(ctx, u.ID)
			if st.Enabled() || st.RecoveryCodesLeft != 0 {
				t.Fatalf("after removing the last factor: %+v, want off with no recovery codes", st)
			}
			if err := tf.RegenerateRecoveryCodes(u.ctx, u.ID, hashes); app.ErrorCode(err) != app.EINVALID {
				t.Fatalf("recovery codes without a factor: %v", err)
			}
		})
	})
}

func TestTwoFactorService_Challenges(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		tf := store.NewTwoFactorService(db, twoFactorKey)
		save := func(purpose string) string {
			tok, hash := app.NewToken()
			if err := tf.SaveChallenge(ctx, app.Challenge{TokenHash: hash, Purpose: purpose, Data: []byte("{}"), ExpiresAt: c.Now().Add(app.ChallengeTTL)}); err != nil {
				t.Fatal(err)
			}
			return app.HashToken(tok)
		}
		h := save(app.PurposePasskeyLogin)
		if _, err := tf.TakeChallenge(ctx, h, app.PurposePasskeyRegister); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("taken for another purpose: %v", err)
		}
		if _, err := tf.TakeChallenge(ctx, h, app.PurposePasskeyLogin); err != nil {
			t.Fatal(err)
		}
		if _, err := tf.TakeChallenge(ctx, h, app.PurposePasskeyLogin); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("taken twice: %v", err)
		}
		h = save(app.PurposePasskeyLogin)
		c.Add(app.ChallengeTTL)
		if _, err := tf.TakeChallenge(ctx, h, app.PurposePasskeyLogin); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("expired challenge: %v", err)
		}
		c.Add(time.Minute)
		h = save(app.PurposePasskeyLogin)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := tf.TakeChallenge(ctx, h, app.PurposePasskeyLogin); err == nil {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("one challenge was taken %d times", won)
		}
		p, err := db.PurgeExpired(ctx)
		if err != nil || p.Challenges != 1 {
			t.Fatalf("PurgeExpired: %+v, %v; want the expired challenge purged", p, err)
		}
	})
}
