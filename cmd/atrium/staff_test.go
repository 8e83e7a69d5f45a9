package main

import (
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/store/storetest"
)

// TestStaff_GrantRevokeList: the command grants, lists and revokes the
// console, says what it did and what comes next, records each change in
// the system log, and refuses an unknown address or a second grant with
// one clear line and exit 1.
func TestStaff_GrantRevokeList(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbURL, db := billingDatabase(t, dialect)
			env := config.Env{"DATABASE_URL": dbURL, "APP_URL": "https://atrium.example", "PUBLIC_APP_NAME": "Atrium"}
			billingOwnerWorkspace(t, db, "ada@example.com", "Acme", "acme")

			if res := runAtrium(t, env, "staff", "list"); res.Code != 0 || !strings.Contains(res.Stdout, "No staff yet") {
				t.Errorf("empty list: exit %d\n%s", res.Code, res.Output())
			}
			res := runAtrium(t, env, "staff", "grant", "--email", "Ada@Example.com")
			if res.Code != 0 {
				t.Fatalf("grant: exit %d\n%s", res.Code, res.Output())
			}
			for _, want := range []string{"ada@example.com is staff: they can open the operator console at https://atrium.example/admin.",
				"They have no second factor yet", app.ActionStaffGranted} {
				if !strings.Contains(res.Stdout, want) {
					t.Errorf("grant stdout lacks %q:\n%s", want, res.Stdout)
				}
			}
			if again := runAtrium(t, env, "staff", "grant", "--email", "ada@example.com"); again.Code != 1 ||
				!strings.Contains(again.Stderr, "ada@example.com is already staff. Nothing was changed") {
				t.Errorf("second grant: exit %d\n%s", again.Code, again.Output())
			}
			if unknown := runAtrium(t, env, "staff", "grant", "--email", "nobody@example.com"); unknown.Code != 1 ||
				!strings.Contains(unknown.Stderr, "No user has the email address nobody@example.com") {
				t.Errorf("unknown: exit %d\n%s", unknown.Code, unknown.Output())
			}
			if list := runAtrium(t, env, "staff", "list"); !strings.Contains(list.Stdout, "ada@example.com\tgranted ") {
				t.Errorf("list:\n%s", list.Output())
			}
			rev := runAtrium(t, env, "staff", "revoke", "--email", "ada@example.com")
			if rev.Code != 0 || !strings.Contains(rev.Stdout, "is no longer staff") {
				t.Errorf("revoke: exit %d\n%s", rev.Code, rev.Output())
			}
			for _, action := range []string{app.ActionStaffGranted, app.ActionStaffRevoked} {
				if n := storetest.Count(t, db, "SELECT COUNT(*) FROM audit_logs WHERE workspace_id IS NULL AND action = ? AND actor_name = 'An operator'", action); n != 1 {
					t.Errorf("%d %s entries in the system log, want 1", n, action)
				}
			}
		})
	}
}

func TestStaff_UsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoAction", []string{"staff"}, "atrium: staff needs an action: grant, revoke or list"},
		{"UnknownAction", []string{"staff", "promote", "--email", "a@b.c"}, `atrium: staff: unknown action "promote"`},
		{"NoEmail", []string{"staff", "grant"}, "atrium: staff grant needs --email EMAIL"},
		{"ListEmail", []string{"staff", "list", "--email", "a@b.c"}, "atrium: staff list takes no --email"},
		{"Argument", []string{"staff", "revoke", "--email", "a@b.c", "extra"}, "atrium: staff revoke takes no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runAtrium(t, config.Env{"DATABASE_URL": "sqlite:" + t.TempDir() + "/x.db"}, tc.args...)
			if res.Code != 2 || !strings.Contains(res.Stderr, tc.want) {
				t.Errorf("exit %d, want 2 and %q\n%s", res.Code, tc.want, res.Output())
			}
		})
	}
}
