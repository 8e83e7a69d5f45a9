package main

import (
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/store/storetest"
)

// TestWorkspace_SSOOff: the operator's command stops requiring single
// sign-on, says what changed and what the owners can do, records it with
// the reason in the workspace's log, and refuses a workspace that does not
// require it, an unknown slug or a missing reason with exit 1 or 2.
func TestWorkspace_SSOOff(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbURL, db := billingDatabase(t, dialect)
			env := config.Env{"DATABASE_URL": dbURL, "APP_URL": "https://atrium.example", "PUBLIC_APP_NAME": "Atrium"}
			ws, _ := billingOwnerWorkspace(t, db, "ada@acme.test", "Acme", "acme")
			for _, q := range []string{
				"INSERT INTO workspace_sso (workspace_id, issuer, client_id, client_secret, require_sso, created_at, updated_at) VALUES (?, 'https://idp.acme.test', 'c', 'sealed', ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
				"INSERT INTO workspace_domains (workspace_id, domain, token, created_at, verified_at) VALUES (?, 'acme.test', 't', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
			} {
				args := []any{ws.ID}
				if strings.Contains(q, "require_sso") {
					args = append(args, true)
				}
				if _, err := db.SQL().Exec(db.Rebind(q), args...); err != nil {
					t.Fatal(err)
				}
			}

			if res := runAtrium(t, env, "workspace", "sso-off", "--slug", "acme"); res.Code != 2 || !strings.Contains(res.Stderr, "--reason") {
				t.Errorf("no reason: exit %d\n%s", res.Code, res.Output())
			}
			res := runAtrium(t, env, "workspace", "sso-off", "--slug", "acme", "--reason", "ticket 4711: IdP certificate expired")
			if res.Code != 0 {
				t.Fatalf("sso-off: exit %d\n%s", res.Code, res.Output())
			}
			for _, want := range []string{"Acme (acme) no longer requires single sign-on", "https://atrium.example/w/acme/settings/sso", app.ActionSSODisabled} {
				if !strings.Contains(res.Stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
				}
			}
			if n := storetest.Count(t, db, "SELECT COUNT(*) FROM workspace_sso WHERE workspace_id = ? AND require_sso", ws.ID); n != 0 {
				t.Error("still required")
			}
			if n := storetest.Count(t, db, "SELECT COUNT(*) FROM audit_logs WHERE workspace_id = ? AND action = ? AND actor_name = 'An operator'", ws.ID, app.ActionSSODisabled); n != 1 {
				t.Errorf("%d %s entries, want 1", n, app.ActionSSODisabled)
			}
			if again := runAtrium(t, env, "workspace", "sso-off", "--slug", "acme", "--reason", "again"); again.Code != 1 ||
				!strings.Contains(again.Stderr, "does not require single sign-on. Nothing was changed") {
				t.Errorf("again: exit %d\n%s", again.Code, again.Output())
			}
			if unknown := runAtrium(t, env, "workspace", "sso-off", "--slug", "nope", "--reason", "x"); unknown.Code != 1 ||
				!strings.Contains(unknown.Stderr, `No workspace has the slug "nope"`) {
				t.Errorf("unknown: exit %d\n%s", unknown.Code, unknown.Output())
			}
		})
	}
}
