package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// A right code refused only because it was just used is not a guess: it
// neither counts towards the lock nor, at the limit, mails the "someone may
// have your email" warning.
func TestTwoFactorService_CodeReplay(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		tf := store.NewTwoFactorService(db, twoFactorKey)
		u := signUpMember(t, db, c, "grace@example.com")
		secret, recovery := enrolTOTP(t, tf, c, u)
		lockState := func() (failures int, locked bool) {
			t.Helper()
			failures = rowCount(t, db, "SELECT COALESCE(SUM(failures), 0) FROM two_factor_locks WHERE user_id = ?", u.ID)
			locked = rowCount(t, db, "SELECT COUNT(*) FROM two_factor_locks WHERE user_id = ? AND locked_until IS NOT NULL", u.ID) > 0
			return failures, locked
		}

		t.Run("ParallelSameCode", func(t *testing.T) {
			// Ten browsers, each after its own magic link, post the code the
			// phone shows at the same moment (two tabs, a double click, a
			// retrying proxy): one signs in, the others are told it was
			// just used.
			const n = 10
			c.Add(app.TOTPPeriod)
			code := codeAt(t, secret, c.Now())
			pendings := make([]string, n)
			for i := range pendings {
				pendings[i] = pendingSignIn(t, db, c, u.Email, "")
			}
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					_, sess := app.NewToken()
					_, _, errs[i] = tf.CompleteSignInWithCode(ctx, pendings[i], code, app.NewSession{TokenHash: sess}, lockedMail(u.Email))
				})
			}
			wg.Wait()
			var ok, replayed int
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, app.ErrCodeReplayed):
					replayed++
				default:
					t.Errorf("sign-in %d: %v, want success or ErrCodeReplayed", i, err)
				}
			}
			if ok != 1 || replayed != n-1 {
				t.Fatalf("%d signed in and %d told the code was used, want 1 and %d", ok, replayed, n-1)
			}
			if failures, locked := lockState(); failures != 0 || locked {
				t.Fatalf("after the race: %d failures counted, locked=%v; want none", failures, locked)
			}
			if m := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ? AND subject = ?", u.Email, "Code entry locked"); m != 0 {
				t.Fatalf("%d lock warnings mailed after a race of one right code", m)
			}
			if a := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = ? AND actor_user_id = ?", app.ActionCodeEntryLocked, u.ID); a != 0 {
				t.Fatalf("%d lock entries audited", a)
			}
		})

		t.Run("ReplayIsNotAGuess", func(t *testing.T) {
			// More replays than the failure limit, then one wrong guess:
			// only the guess counts.
			c.Add(app.TOTPPeriod)
			code := codeAt(t, secret, c.Now())
			_, sess := app.NewToken()
			if _, _, err := tf.CompleteSignInWithCode(ctx, pendingSignIn(t, db, c, u.Email, ""), code, app.NewSession{TokenHash: sess}, lockedMail(u.Email)); err != nil {
				t.Fatal(err)
			}
			pending := pendingSignIn(t, db, c, u.Email, "")
			for range app.CodeFailureLimit + 1 {
				_, sess := app.NewToken()
				if _, _, err := tf.CompleteSignInWithCode(ctx, pending, code, app.NewSession{TokenHash: sess}, lockedMail(u.Email)); !errors.Is(err, app.ErrCodeReplayed) {
					t.Fatalf("replay: %v, want ErrCodeReplayed", err)
				}
			}
			_, sess = app.NewToken()
			if _, _, err := tf.CompleteSignInWithCode(ctx, pending, "000000", app.NewSession{TokenHash: sess}, lockedMail(u.Email)); !errors.Is(err, app.ErrCodeWrong) {
				t.Fatalf("a wrong code after replays: %v, want ErrCodeWrong", err)
			}
			if failures, locked := lockState(); failures != 1 || locked {
				t.Fatalf("failures=%d locked=%v, want 1 and unlocked", failures, locked)
			}
		})

		t.Run("UsedRecoveryCode", func(t *testing.T) {
			_, sess := app.NewToken()
			if _, _, err := tf.CompleteSignInWithCode(ctx, pendingSignIn(t, db, c, u.Email, ""), recovery[0], app.NewSession{TokenHash: sess}, lockedMail(u.Email)); err != nil {
				t.Fatal(err)
			}
			before, _ := lockState()
			_, sess = app.NewToken()
			if _, _, err := tf.CompleteSignInWithCode(ctx, pendingSignIn(t, db, c, u.Email, ""), recovery[0], app.NewSession{TokenHash: sess}, lockedMail(u.Email)); !errors.Is(err, app.ErrRecoveryCodeUsed) {
				t.Fatalf("used recovery code again: %v, want ErrRecoveryCodeUsed", err)
			}
			if after, _ := lockState(); after != before {
				t.Fatalf("a used recovery code counted as a guess: failures %d -> %d", before, after)
			}
		})
	})
}

// A session counts as using a second factor only when it signed in with
// one or confirmed one later; one started with a magic link before the user
// enrolled does not, and another user's session cannot be confirmed.
func TestTwoFactorService_SessionSecondFactor(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		tf := store.NewTwoFactorService(db, twoFactorKey)
		auth := store.NewAuthService(db)
		u := signUpMember(t, db, c, "grace@example.com")
		other := signUpMember(t, db, c, "mallory@example.com")
		before, err := auth.Authenticate(ctx, u.sessionHash)
		if err != nil {
			t.Fatal(err)
		}
		if before.Session.SecondFactor || !before.Session.VerifiedAt.Equal(c.Now()) {
			t.Fatalf("magic-link session: second factor=%v verified=%v, want false and %v", before.Session.SecondFactor, before.Session.VerifiedAt, c.Now())
		}
		// Enrol from a second session, which the enrolment confirms.
		enrolling := signUpMember(t, db, c, u.Email)
		ep, err := auth.Authenticate(ctx, enrolling.sessionHash)
		if err != nil {
			t.Fatal(err)
		}
		enrolling.ctx = app.WithPrincipal(ctx, ep)
		secret, _ := enrolTOTP(t, tf, c, enrolling)

		old, err := auth.Authenticate(ctx, u.sessionHash)
		if err != nil {
			t.Fatal(err)
		}
		if old.MeetsTwoFactorPolicy() || old.RecentlyVerified(c.Now()) {
			t.Fatalf("session from before enrolment: meets policy=%v, recently verified=%v; want neither", old.MeetsTwoFactorPolicy(), old.RecentlyVerified(c.Now()))
		}
		if p, _ := auth.Authenticate(ctx, enrolling.sessionHash); !p.MeetsTwoFactorPolicy() {
			t.Fatal("the session that enrolled the app does not count as using it")
		}

		code := codeAt(t, secret, c.Now())
		if err := tf.ConfirmSessionWithCode(ctx, old.Session.ID, other.ID, code, lockedMail(other.Email)); err == nil {
			t.Fatal("another user's code confirmed this user's session")
		}
		if err := tf.ConfirmSessionWithCode(ctx, old.Session.ID, u.ID, "000000", lockedMail(u.Email)); !errors.Is(err, app.ErrCodeWrong) {
			t.Fatalf("wrong code: %v, want ErrCodeWrong", err)
		}
		if err := tf.ConfirmSessionWithCode(ctx, old.Session.ID, u.ID, code, lockedMail(u.Email)); err != nil {
			t.Fatalf("ConfirmSessionWithCode: %v", err)
		}
		now, err := auth.Authenticate(ctx, u.sessionHash)
		if err != nil {
			t.Fatal(err)
		}
		if !now.MeetsTwoFactorPolicy() || !now.RecentlyVerified(c.Now()) {
			t.Fatalf("after confirming: meets policy=%v, recently verified=%v; want both", now.MeetsTwoFactorPolicy(), now.RecentlyVerified(c.Now()))
		}
		c.Add(app.ReauthWindow + app.TOTPPeriod)
		if later, _ := auth.Authenticate(ctx, u.sessionHash); later.RecentlyVerified(c.Now()) || !later.MeetsTwoFactorPolicy() {
			t.Fatalf("%v later: recently verified=%v meets policy=%v; want false and true", app.ReauthWindow, later.RecentlyVerified(c.Now()), later.MeetsTwoFactorPolicy())
		}
		// Another user's session id is not this user's to confirm.
		osess, _ := auth.Authenticate(ctx, other.sessionHash)
		if err := tf.ConfirmSessionWithCode(ctx, osess.Session.ID, u.ID, codeAt(t, secret, c.Now()), lockedMail(u.Email)); app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("confirming another user's session: %v, want EUNAUTHORIZED", err)
		}
		if p, _ := auth.Authenticate(ctx, other.sessionHash); p.Session.SecondFactor {
			t.Fatal("another user's session was marked")
		}
	})
}

// Recovery codes wait, sealed, for one showing, to their own user only.
func TestTwoFactorService_RecoveryCodesReveal(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		tf := store.NewTwoFactorService(db, twoFactorKey)
		u := signUpMember(t, db, c, "grace@example.com")
		other := signUpMember(t, db, c, "mallory@example.com")
		codes, _ := app.NewRecoveryCodes()
		_, hash := app.NewToken()
		if err := tf.SaveRecoveryCodesReveal(ctx, u.ID, hash, codes, c.Now().Add(app.RecoveryCodesRevealTTL)); err != nil {
			t.Fatal(err)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM auth_challenges WHERE data LIKE ?", "%"+codes[0]+"%"); n != 0 {
			t.Fatal("recovery codes stored in the clear")
		}
		if _, err := tf.TakeRecoveryCodesReveal(ctx, other.ID, hash); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("another user took the codes: %v", err)
		}
		got, err := tf.TakeRecoveryCodesReveal(ctx, u.ID, hash)
		if err != nil || len(got) != len(codes) || got[0] != codes[0] || got[9] != codes[9] {
			t.Fatalf("TakeRecoveryCodesReveal = %v, %v", got, err)
		}
		if _, err := tf.TakeRecoveryCodesReveal(ctx, u.ID, hash); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("shown twice: %v", err)
		}

		_, hash = app.NewToken()
		if err := tf.SaveRecoveryCodesReveal(ctx, u.ID, hash, codes, c.Now().Add(app.RecoveryCodesRevealTTL)); err != nil {
			t.Fatal(err)
		}
		c.Add(app.RecoveryCodesRevealTTL)
		if _, err := tf.TakeRecoveryCodesReveal(ctx, u.ID, hash); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("expired reveal: %v", err)
		}
	})
}
