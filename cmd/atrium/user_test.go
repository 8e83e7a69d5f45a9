package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/store/storetest"
)

// TestUser_ResetTwoFactor: the command removes the user's factors, queues
// their email, writes the audit entry and says what it did and what comes
// next; an unknown address is one clear line and exit 1; a missing
// --reason or --email is a usage error.
func TestUser_ResetTwoFactor(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbURL, db := billingDatabase(t, dialect)
			env := config.Env{"DATABASE_URL": dbURL, "APP_URL": "https://atrium.example", "PUBLIC_APP_NAME": "Atrium"}
			_, owner := billingOwnerWorkspace(t, db, "ada@example.com", "Acme", "acme")
			id := app.PrincipalFromContext(owner).User.ID
			execSQL(t, env,
				fmt.Sprintf("INSERT INTO user_totp (user_id, secret_sealed, confirmed_at, last_step, created_at) VALUES (%d, 'x', CURRENT_TIMESTAMP, 0, CURRENT_TIMESTAMP)", id),
				fmt.Sprintf("INSERT INTO passkeys (user_id, name, credential_id, data, created_at) VALUES (%d, 'laptop', 'c1', '{}', CURRENT_TIMESTAMP)", id),
				fmt.Sprintf("INSERT INTO passkeys (user_id, name, credential_id, data, created_at) VALUES (%d, 'phone', 'c2', '{}', CURRENT_TIMESTAMP)", id),
				fmt.Sprintf("INSERT INTO two_factor_locks (user_id, failures, window_start, locked_until) VALUES (%d, 5, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", id),
				fmt.Sprintf("UPDATE users SET two_factor = TRUE WHERE id = %d", id))
			for i := range 7 {
				execSQL(t, env, fmt.Sprintf("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (%d, 'h%d', CURRENT_TIMESTAMP)", id, i))
			}

			res := runAtrium(t, env, "user", "reset-2fa", "--email", "Ada@Example.com", "--reason", "ticket 4711: lost phone")
			if res.Code != 0 {
				t.Fatalf("reset-2fa: exit %d\n%s", res.Code, res.Output())
			}
			for _, want := range []string{
				"Reset two-factor sign-in for ada@example.com: removed the authenticator app, 2 passkeys and 7 recovery codes.\n",
				"They were emailed; they sign in with an email link and set up two-factor again at /settings/account.\n",
				"Still signed in: 1 session; run again with --sign-out if the account may be compromised.\n",
				app.ActionTwoFactorReset,
			} {
				if !strings.Contains(res.Stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
				}
			}
			count := func(q string) int {
				t.Helper()
				var n int
				if err := db.SQL().QueryRowContext(context.Background(), q).Scan(&n); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				return n
			}
			for q, want := range map[string]int{
				fmt.Sprintf("SELECT COUNT(*) FROM passkeys WHERE user_id = %d", id):                               0,
				fmt.Sprintf("SELECT COUNT(*) FROM user_totp WHERE user_id = %d", id):                              0,
				fmt.Sprintf("SELECT COUNT(*) FROM recovery_codes WHERE user_id = %d", id):                         0,
				fmt.Sprintf("SELECT COUNT(*) FROM two_factor_locks WHERE user_id = %d", id):                       0,
				fmt.Sprintf("SELECT COUNT(*) FROM users WHERE id = %d AND two_factor", id):                        0,
				"SELECT COUNT(*) FROM audit_logs WHERE action = 'two_factor.reset' AND actor_user_id IS NULL":     1,
				"SELECT COUNT(*) FROM mail_outbox WHERE to_addr = 'ada@example.com' AND ref = 'two-factor-reset'": 1,
			} {
				if got := count(q); got != want {
					t.Errorf("%s = %d, want %d", q, got, want)
				}
			}
			var body string
			if err := db.SQL().QueryRowContext(context.Background(),
				"SELECT text_body FROM mail_outbox WHERE ref = 'two-factor-reset'").Scan(&body); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"ticket 4711: lost phone", "https://atrium.example/login?email=ada%40example.com&next=%2Fsettings%2Faccount"} {
				if !strings.Contains(body, want) {
					t.Errorf("email lacks %q:\n%s", want, body)
				}
			}

			again := runAtrium(t, env, "user", "reset-2fa", "--email", "ada@example.com", "--reason", "asked twice", "--sign-out")
			if again.Code != 0 || !strings.Contains(again.Stdout, "removed nothing (no second factor was set up") ||
				!strings.Contains(again.Stdout, "Ended 1 signed-in session: every device needs a new sign-in link.") {
				t.Errorf("second reset, signing out: exit %d\n%s", again.Code, again.Output())
			}
			if n := count(fmt.Sprintf("SELECT COUNT(*) FROM sessions WHERE user_id = %d", id)); n != 0 {
				t.Errorf("--sign-out left %d sessions", n)
			}
			if n := count("SELECT COUNT(*) FROM audit_logs WHERE action = 'two_factor.reset' AND CAST(metadata AS TEXT) LIKE '%sessions_ended%'"); n != 1 {
				t.Errorf("%d reset entries record ended sessions, want 1", n)
			}

			unknown := runAtrium(t, env, "user", "reset-2fa", "--email", "nobody@example.com", "--reason", "ticket 1")
			if unknown.Code != 1 {
				t.Errorf("unknown email: exit %d, want 1\n%s", unknown.Code, unknown.Output())
			}
			if want := "atrium: No user has the email address nobody@example.com. Check the address with the person asking; nothing was changed\n"; unknown.Stderr != want {
				t.Errorf("unknown email: stderr %q, want %q", unknown.Stderr, want)
			}
		})
	}
}

func TestUser_UsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoAction", []string{"user"}, "atrium: user needs an action: reset-2fa"},
		{"UnknownAction", []string{"user", "delete", "--email", "a@b.c"}, `atrium: user: unknown action "delete" (want reset-2fa)`},
		{"NoReason", []string{"user", "reset-2fa", "--email", "a@b.c"}, "atrium: user reset-2fa needs --reason TEXT (say why, e.g. the support ticket)"},
		{"BlankReason", []string{"user", "reset-2fa", "--email", "a@b.c", "--reason", "  "}, "atrium: user reset-2fa needs --reason TEXT"},
		{"NoEmail", []string{"user", "reset-2fa", "--reason", "ticket 1"}, "atrium: user reset-2fa needs --email EMAIL"},
		{"LongReason", []string{"user", "reset-2fa", "--email", "a@b.c", "--reason", strings.Repeat("x", 201)},
			"atrium: user reset-2fa: --reason: Use at most 200 characters for the reason."},
		{"BadEmail", []string{"user", "reset-2fa", "--email", "not-an-email", "--reason", "ticket 1"}, `atrium: user reset-2fa: --email "not-an-email": `},
		{"Argument", []string{"user", "reset-2fa", "--email", "a@b.c", "--reason", "r", "extra"}, "atrium: user reset-2fa takes no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A usage error is found before the database is opened.
			res := runAtrium(t, config.Env{"DATABASE_URL": "sqlite:" + t.TempDir() + "/x.db"}, tc.args...)
			if res.Code != 2 {
				t.Fatalf("exit %d, want 2\n%s", res.Code, res.Output())
			}
			if !strings.Contains(res.Stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.Stderr)
			}
		})
	}
}

func TestUser_Help(t *testing.T) {
	t.Parallel()
	res := runAtrium(t, config.Env{}, "user", "--help")
	if res.Code != 0 || !strings.Contains(res.Output(), "Usage: atrium user reset-2fa --email EMAIL --reason TEXT") {
		t.Fatalf("user --help: exit %d\n%s", res.Code, res.Output())
	}
	if help := runAtrium(t, config.Env{}, "help"); !strings.Contains(help.Stdout, "reset-2fa") {
		t.Errorf("atrium help does not list user reset-2fa:\n%s", help.Stdout)
	}
}
