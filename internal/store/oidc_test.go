package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// freshSession returns a NewSession with fresh token hashes.
func freshSession() app.NewSession {
	_, h := app.NewToken()
	_, p := app.NewToken()
	return app.NewSession{TokenHash: h, PendingHash: p}
}

// google is a verified Google identity.
func google(sub, email string) app.ExternalIdentity {
	return app.ExternalIdentity{Provider: "google", Issuer: "https://accounts.google.com", Subject: sub, Email: email, EmailVerified: true}
}

func TestIdentityService_SignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		ids := store.NewIdentityService(db)
		var notices []string
		english := i18n.MustNew(i18n.Options{}).Printer(i18n.Source)
		ids.Notice = func(to, _ string, change app.Sentence) app.Email {
			text := english.T(change.Key, change.Args...)
			notices = append(notices, to+": "+text)
			return app.Email{To: to, Subject: "notice", Text: text}
		}

		t.Run("NewUserFromVerifiedEmail", func(t *testing.T) {
			res, err := ids.SignInWithIdentity(ctx, google("g-1", "new@example.com"), "/next", freshSession())
			if err != nil || !res.NewUser || !res.Linked || res.User.Email != "new@example.com" {
				t.Fatalf("SignInWithIdentity = %+v, %v; want a new, linked user", res, err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM sessions WHERE user_id = ? AND second_factor = ?", res.User.ID, false); n != 1 {
				t.Fatalf("%d sessions without a second factor, want 1: a provider is no second factor", n)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE actor_user_id = ? AND action IN ('user.created', 'identity.linked', 'auth.signed_in')", res.User.ID); n != 3 {
				t.Fatalf("%d audit entries, want user.created, identity.linked and auth.signed_in", n)
			}
			if len(notices) != 1 || !strings.Contains(notices[0], "new@example.com: Your google account") {
				t.Fatalf("notices %q", notices)
			}
		})
		t.Run("KnownIdentityIgnoresEmail", func(t *testing.T) {
			// The provider now gives another, unverified address: the
			// identity still signs in to its own account, and nothing is
			// created for the address.
			id := google("g-1", "changed@example.com")
			id.EmailVerified = false
			c.Add(1)
			res, err := ids.SignInWithIdentity(ctx, id, "", freshSession())
			if err != nil || res.NewUser || res.Linked || res.User.Email != "new@example.com" {
				t.Fatalf("SignInWithIdentity = %+v, %v", res, err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM users WHERE email = ?", "changed@example.com"); n != 0 {
				t.Fatal("an account was made for the unverified address")
			}
			got, _ := ids.FindIdentities(ctx, res.User.ID)
			if len(got) != 1 || got[0].LastUsedAt == nil {
				t.Fatalf("identities %+v: want one, used", got)
			}
		})
		t.Run("UnverifiedEmailChangesNothing", func(t *testing.T) {
			owner := signUpMember(t, db, c, "owner@example.com")
			id := google("impostor", "owner@example.com")
			id.EmailVerified = false
			before := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs")
			_, err := ids.SignInWithIdentity(ctx, id, "", freshSession())
			if !errors.Is(err, app.ErrIdentityEmailUnverified) {
				t.Fatalf("err = %v, want ErrIdentityEmailUnverified", err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM user_identities WHERE user_id = ?", owner.ID); n != 0 {
				t.Fatal("the unverified identity was linked")
			}
			if after := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs"); after != before {
				t.Fatal("a refused sign-in wrote audit entries")
			}
			// No address at all is the same.
			_, err = ids.SignInWithIdentity(ctx, app.ExternalIdentity{Provider: "gh", Issuer: "https://github.com", Subject: "9", EmailVerified: true}, "", freshSession())
			requireCode(t, "no email", err, app.EFORBIDDEN)
		})
		t.Run("SameEmailAnotherIssuer", func(t *testing.T) {
			id := app.ExternalIdentity{Provider: "okta", Issuer: "https://acme.okta.com", Subject: "g-1", Email: "new@example.com", EmailVerified: true}
			res, err := ids.SignInWithIdentity(ctx, id, "", freshSession())
			if err != nil || res.NewUser || !res.Linked || res.User.Email != "new@example.com" {
				t.Fatalf("SignInWithIdentity = %+v, %v; want the existing account, linked", res, err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM users WHERE email = ?", "new@example.com"); n != 1 {
				t.Fatalf("%d accounts for the address, want 1", n)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM user_identities WHERE user_id = ?", res.User.ID); n != 2 {
				t.Fatalf("%d identities, want 2", n)
			}
		})
		t.Run("TwoFactorWaits", func(t *testing.T) {
			tf := store.NewTwoFactorService(db, twoFactorKey)
			u := signUpMember(t, db, c, "careful@example.com")
			secret, _ := enrolTOTP(t, tf, c, u)
			ns := freshSession()
			res, err := ids.SignInWithIdentity(ctx, google("careful", "careful@example.com"), "/w/x", ns)
			if !errors.Is(err, app.ErrSecondFactorRequired) || res == nil || res.User.ID != u.ID {
				t.Fatalf("SignInWithIdentity = %+v, %v; want ErrSecondFactorRequired", res, err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?", ns.TokenHash); n != 0 {
				t.Fatal("a session started before the second factor")
			}
			p, err := tf.FindPendingSignIn(ctx, ns.PendingHash)
			if err != nil || p.UserID != u.ID || p.Next != "/w/x" {
				t.Fatalf("pending sign-in %+v, %v", p, err)
			}
			c.Add(app.TOTPPeriod)
			if _, next, err := tf.CompleteSignInWithCode(ctx, ns.PendingHash, codeAt(t, secret, c.Now()), freshSession(), app.Email{}); err != nil || next != "/w/x" {
				t.Fatalf("second step: next %q, %v", next, err)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE actor_user_id = ? AND action = 'auth.signed_in' AND CAST(metadata AS TEXT) LIKE ?", u.ID, "%oidc+totp%"); n != 1 {
				t.Fatalf("%d sign-ins recorded as oidc+totp, want 1", n)
			}
		})
		t.Run("RaceOfFirstSignIns", func(t *testing.T) {
			// Two callbacks of the same new identity at once (a double
			// click): one account, one identity; the loser is refused,
			// never a 500 or a second account.
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = ids.SignInWithIdentity(ctx, google("racer", "racer@example.com"), "", freshSession())
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case app.ErrorCode(err) != app.ECONFLICT && app.ErrorCode(err) != app.EUNAVAILABLE:
					t.Fatalf("racing sign-in: %v", err)
				}
			}
			if ok == 0 || rowCount(t, db, "SELECT COUNT(*) FROM users WHERE email = ?", "racer@example.com") != 1 ||
				rowCount(t, db, "SELECT COUNT(*) FROM user_identities WHERE subject = ?", "racer") != 1 {
				t.Fatalf("%d succeeded; want at least one, and one account and identity", ok)
			}
		})
	})
}

func TestIdentityService_LinkUnlink(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		ids := store.NewIdentityService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		work := app.ExternalIdentity{Provider: "okta", Issuer: "https://corp.okta.com", Subject: "ada", Email: "ada@corp.example"}

		linked, err := ids.LinkIdentity(ctx, ada.ID, work)
		if err != nil || linked.UserID != ada.ID || linked.Email != "ada@corp.example" || linked.LastUsedAt != nil {
			t.Fatalf("LinkIdentity = %+v, %v", linked, err)
		}
		_, err = ids.LinkIdentity(ctx, ada.ID, work)
		if !errors.Is(err, app.ErrIdentityAlreadyLinked) {
			t.Fatalf("link twice: %v", err)
		}
		_, err = ids.LinkIdentity(ctx, eve.ID, work)
		if !errors.Is(err, app.ErrIdentityTaken) {
			t.Fatalf("link Ada's identity to Eve: %v", err)
		}
		// Eve cannot see or unlink Ada's identity.
		if got, _ := ids.FindIdentities(ctx, eve.ID); len(got) != 0 {
			t.Fatalf("Eve sees %+v", got)
		}
		_, err = ids.UnlinkIdentity(ctx, eve.ID, linked.ID)
		requireCode(t, "unlink another user's identity", err, app.ENOTFOUND)

		// Two unlinks racing: one wins, the other finds nothing.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = ids.UnlinkIdentity(ctx, ada.ID, linked.ID) }()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("racing unlinks: %v, %v; want exactly one to succeed", errs[0], errs[1])
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE actor_user_id = ? AND action = 'identity.unlinked'", ada.ID); n != 1 {
			t.Fatalf("%d unlink entries, want 1", n)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE actor_user_id = ? AND action = 'identity.linked'", ada.ID); n != 1 {
			t.Fatalf("%d link entries, want 1", n)
		}
		// A deleted account takes its identities with it.
		if _, err := ids.LinkIdentity(ctx, eve.ID, work); err != nil {
			t.Fatal(err)
		}
		if err := store.NewUserService(db).DeleteUser(eve.ctx); err != nil {
			t.Fatal(err)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM user_identities"); n != 0 {
			t.Fatalf("%d identities left after the account was deleted", n)
		}
	})
}
