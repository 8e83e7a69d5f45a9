package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// enrol gives a user factors as the two-factor service would store them:
// a confirmed authenticator app (when totp), passkeys, recovery codes (used
// ones among them), a code entry lock, and challenges in flight.
func enrol(t *testing.T, db *store.DB, userID int64, totp bool, passkeys, codes, usedCodes int) {
	t.Helper()
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.SQL().ExecContext(context.Background(), db.Rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if totp {
		exec("INSERT INTO user_totp (user_id, secret_sealed, confirmed_at, last_step, created_at) VALUES (?, ?, ?, 0, ?)", userID, "sealed", now, now)
	}
	for i := range passkeys {
		exec("INSERT INTO passkeys (user_id, name, credential_id, data, created_at) VALUES (?, ?, ?, '{}', ?)",
			userID, fmt.Sprintf("key %d", i), fmt.Sprintf("cred-%d-%d", userID, i), now)
	}
	for i := range codes + usedCodes {
		var used any
		if i >= codes {
			used = now
		}
		exec("INSERT INTO recovery_codes (user_id, code_hash, created_at, used_at) VALUES (?, ?, ?, ?)",
			userID, fmt.Sprintf("hash-%d-%d", userID, i), now, used)
	}
	exec("INSERT INTO two_factor_locks (user_id, failures, window_start, locked_until) VALUES (?, 5, ?, ?)", userID, now, now.Add(time.Hour))
	for _, purpose := range []string{app.PurposeSecondFactor, app.PurposePasskeyRegister} {
		exec("INSERT INTO auth_challenges (token_hash, purpose, user_id, data, created_at, expires_at) VALUES (?, ?, ?, '', ?, ?)",
			fmt.Sprintf("challenge-%d-%s", userID, purpose), purpose, userID, now, now.Add(time.Minute))
	}
	setTwoFactor(t, db, userID, totp || passkeys > 0)
}

// factorRows counts a user's rows in each two-factor table.
func factorRows(t *testing.T, db *store.DB, userID int64) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"user_totp", "passkeys", "recovery_codes", "two_factor_locks"} {
		out[table] = rowCount(t, db, "SELECT COUNT(*) FROM "+table+" WHERE user_id = ?", userID)
	}
	out["second_factor"] = rowCount(t, db, "SELECT COUNT(*) FROM auth_challenges WHERE user_id = ? AND purpose = ?", userID, app.PurposeSecondFactor)
	out["two_factor"] = rowCount(t, db, "SELECT COUNT(*) FROM users WHERE id = ? AND two_factor", userID)
	return out
}

func TestTwoFactorService_ResetTwoFactor(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewTwoFactorService(db, make([]byte, 32))
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		resets := func(t *testing.T) []*app.AuditEntry {
			t.Helper()
			es, err := store.NewAuditService(db).FindAuditEntries(context.Background(), app.AuditFilter{Action: app.ActionTwoFactorReset})
			if err != nil {
				t.Fatal(err)
			}
			return es
		}
		outbox := func(to string) int {
			return rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ? AND ref = 'two-factor-reset'", to)
		}
		msg := app.Email{To: "ADA@example.com", Subject: "Your two-factor sign-in was reset", Text: "reset", Ref: "two-factor-reset"}

		t.Run("Reset", func(t *testing.T) {
			enrol(t, db, ada.ID, true, 2, 7, 3)
			enrol(t, db, ben.ID, false, 1, 10, 0)
			res, err := svc.ResetTwoFactor(context.Background(), "  Ada@Example.com ", "ticket 4711:  lost phone", false, msg)
			if err != nil {
				t.Fatal(err)
			}
			if res.User.ID != ada.ID || res.User.TwoFactor || !res.TOTP || res.Passkeys != 2 || res.RecoveryCodes != 7 {
				t.Errorf("reset = %+v (user %+v), want ada, TOTP, 2 passkeys, 7 codes", res, res.User)
			}
			if got := factorRows(t, db, ada.ID); fmt.Sprint(got) != fmt.Sprint(map[string]int{"user_totp": 0, "passkeys": 0,
				"recovery_codes": 0, "two_factor_locks": 0, "second_factor": 0, "two_factor": 0}) {
				t.Errorf("ada's rows after the reset: %v, want none", got)
			}
			// A registration in flight is not a sign-in: it stays.
			if got := rowCount(t, db, "SELECT COUNT(*) FROM auth_challenges WHERE user_id = ?", ada.ID); got != 1 {
				t.Errorf("ada has %d challenges left, want the passkey registration", got)
			}
			if got := factorRows(t, db, ben.ID); got["passkeys"] != 1 || got["recovery_codes"] != 10 || got["two_factor"] != 1 ||
				got["two_factor_locks"] != 1 || got["second_factor"] != 1 {
				t.Errorf("ben's rows changed: %v", got)
			}
			es := resets(t)
			if len(es) != 1 {
				t.Fatalf("%d reset entries, want 1", len(es))
			}
			e := es[0]
			if e.ActorID != 0 || e.WorkspaceID != 0 || e.TargetType != "user" || e.TargetID != fmt.Sprint(ada.ID) {
				t.Errorf("entry actor=%d workspace=%d target=%s/%s, want 0, 0, user/%d", e.ActorID, e.WorkspaceID, e.TargetType, e.TargetID, ada.ID)
			}
			checkMetadata(t, e, map[string]any{"email": "ada@example.com", "reason": "ticket 4711: lost phone",
				"passkeys": float64(2), "totp": true, "recovery_codes": float64(7)})
			if got, want := e.Summary(), "An operator reset two-factor sign-in for ada@example.com: ticket 4711: lost phone"; got != want {
				t.Errorf("summary %q, want %q", got, want)
			}
			if got := outbox("ada@example.com"); got != 1 {
				t.Errorf("%d reset emails queued for ada, want 1", got)
			}
		})

		t.Run("AfterRealEnrolment", func(t *testing.T) {
			tf := store.NewTwoFactorService(db, twoFactorKey)
			dee := signUpMember(t, db, c, "dee@example.com")
			enrolTOTP(t, tf, c, dee)
			pending := pendingSignIn(t, db, c, dee.Email, "")
			res, err := tf.ResetTwoFactor(context.Background(), dee.Email, "ticket 9: new phone", false, app.Email{To: dee.Email, Subject: "s", Text: "t", Ref: "two-factor-reset"})
			if err != nil {
				t.Fatal(err)
			}
			if !res.TOTP || res.RecoveryCodes != app.RecoveryCodeCount {
				t.Errorf("reset = %+v, want the app and %d codes", res, app.RecoveryCodeCount)
			}
			st, err := tf.FindTwoFactor(context.Background(), dee.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.Enabled() || st.RecoveryCodesLeft != 0 || st.LockedUntil != nil {
				t.Errorf("after the reset: %+v, want nothing enrolled", st)
			}
			if _, err := tf.FindPendingSignIn(context.Background(), pending); !errors.Is(err, app.ErrSecondFactorExpired) {
				t.Errorf("the pending sign-in survived the reset: err=%v", err)
			}
			// A link alone signs them in again.
			auth := store.NewAuthService(db)
			tok := requestLogin(t, auth, c, dee.Email, "")
			_, sess := app.NewToken()
			if _, _, err := auth.CompleteLogin(context.Background(), app.HashToken(tok), app.NewSession{TokenHash: sess, PendingHash: "x"}); err != nil {
				t.Errorf("sign-in after the reset: %v", err)
			}
		})

		t.Run("NothingEnrolled", func(t *testing.T) {
			cy := signUpMember(t, db, c, "cy@example.com")
			res, err := svc.ResetTwoFactor(context.Background(), cy.Email, "asked twice", false, app.Email{To: cy.Email, Subject: "s", Text: "t", Ref: "two-factor-reset"})
			if err != nil {
				t.Fatal(err)
			}
			if res.TOTP || res.Passkeys != 0 || res.RecoveryCodes != 0 {
				t.Errorf("reset = %+v, want nothing removed", res)
			}
		})

		t.Run("Refused", func(t *testing.T) {
			before, mails := len(resets(t)), rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox")
			for _, tc := range []struct {
				name, email, reason, code, msg string
			}{
				{"UnknownEmail", "nobody@example.com", "ticket 1", app.ENOTFOUND, "No user has the email address nobody@example.com."},
				{"BadEmail", "not an email", "ticket 1", app.EINVALID, ""},
				{"NoReason", "ben@example.com", "  ", app.EINVALID, ""},
				{"LongReason", "ben@example.com", strings.Repeat("x", app.MaxResetReasonLength+1), app.EINVALID, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := svc.ResetTwoFactor(context.Background(), tc.email, tc.reason, false, msg)
					requireCode(t, "ResetTwoFactor", err, tc.code)
					if tc.msg != "" && app.ErrorMessage(err) != tc.msg {
						t.Errorf("message %q, want %q", app.ErrorMessage(err), tc.msg)
					}
				})
			}
			if got := len(resets(t)); got != before {
				t.Errorf("%d reset entries after refusals, want %d", got, before)
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox"); got != mails {
				t.Errorf("refusals queued %d emails", got-mails)
			}
			if got := factorRows(t, db, ben.ID); got["passkeys"] != 1 || got["two_factor"] != 1 {
				t.Errorf("ben's factors changed: %v", got)
			}
		})
	})
}
