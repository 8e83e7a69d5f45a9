package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"atrium/internal/config"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// execSQL runs statements on the database of env.
func execSQL(t *testing.T, env config.Env, stmts ...string) {
	t.Helper()
	cfg, err := config.Load(env)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAudit_CLI: on the seeded demo data, verify passes and reports rows
// per chain; head prints each chain; export writes JSONL and records
// audit.exported; an entry edited behind the triggers' back makes verify
// exit 1 naming it; prune refuses without --yes.
func TestAudit_CLI(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := config.Env{"DATABASE_URL": databaseURL(t, dialect)}
			if res := runAtrium(t, env, "seed"); res.Code != 0 {
				t.Fatalf("seed: %s", res.Output())
			}
			ok := runAtrium(t, env, "audit", "verify")
			if ok.Code != 0 || !strings.Contains(ok.Stdout, "Every chain is intact") || !strings.Contains(ok.Stdout, "acme") {
				t.Fatalf("verify on fresh data: exit %d\n%s", ok.Code, ok.Output())
			}
			head := runAtrium(t, env, "audit", "head")
			if head.Code != 0 || !strings.Contains(head.Stdout, "(no workspace)") || !strings.Contains(head.Stdout, "acme") {
				t.Errorf("head: exit %d\n%s", head.Code, head.Output())
			}

			exp := runAtrium(t, env, "audit", "export", "--workspace", "acme", "--format", "jsonl")
			if exp.Code != 0 {
				t.Fatalf("export: exit %d\n%s", exp.Code, exp.Stderr)
			}
			lines := strings.Split(strings.TrimSpace(exp.Stdout), "\n")
			var first struct{ Action, Summary string }
			if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Summary == "" {
				t.Errorf("first JSONL line %q: %v", lines[0], err)
			}
			again := runAtrium(t, env, "audit", "export", "--workspace", "acme", "--format", "jsonl")
			if !strings.Contains(again.Stdout, `"action":"audit.exported"`) {
				t.Error("the first export left no audit.exported entry")
			}

			refused := runAtrium(t, env, "audit", "prune", "--before", "2000-01-01")
			if refused.Code != 1 || !strings.Contains(refused.Stdout, "--yes") {
				t.Errorf("prune without --yes: exit %d\n%s", refused.Code, refused.Output())
			}

			// Edit the newest acme entry with the triggers out of the way.
			var edit []string
			upd := `UPDATE audit_logs SET action = 'member.removed' WHERE id = (SELECT MAX(id) FROM audit_logs
				WHERE action = 'invite.sent' AND workspace_id = (SELECT id FROM workspaces WHERE slug = 'acme'))`
			if dialect == store.SQLite {
				edit = []string{"DROP TRIGGER audit_logs_no_update", upd}
			} else {
				edit = []string{"ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only", upd,
					"ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_append_only"}
			}
			execSQL(t, env, edit...)
			broken := runAtrium(t, env, "audit", "verify", "--workspace", "acme")
			if broken.Code != 1 || !strings.Contains(broken.Stdout, "BROKEN") {
				t.Fatalf("verify after an edit: exit %d\n%s", broken.Code, broken.Output())
			}
			var id int64
			cfg, _ := config.Load(env)
			db, err := openDB(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.SQL().QueryRow("SELECT MAX(id) FROM audit_logs WHERE action = 'member.removed' AND workspace_id = (SELECT id FROM workspaces WHERE slug = 'acme')").Scan(&id); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if want := fmt.Sprintf("first broken link at id %d (hash)", id); !strings.Contains(broken.Stdout, want) {
				t.Errorf("verify output lacks %q:\n%s", want, broken.Stdout)
			}
			doc := runAtrium(t, env, "doctor")
			if !strings.Contains(doc.Stdout, "audit chain") || !strings.Contains(doc.Stdout, "breaks at entry") {
				t.Errorf("doctor does not report the break:\n%s", doc.Stdout)
			}
		})
	}
}

// TestAudit_PruneThenVerify: prune refuses a cut-off in the future with a
// clear line and removes nothing; a prune up to today passes verify; the
// oldest entries of a chain removed behind a forged checkpoint (no
// audit.pruned entry names it) make verify exit 1 and change that chain's
// line in 'audit head', which prints where each chain starts.
func TestAudit_PruneThenVerify(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := config.Env{"DATABASE_URL": databaseURL(t, dialect)}
			if res := runAtrium(t, env, "seed"); res.Code != 0 {
				t.Fatalf("seed: %s", res.Output())
			}
			entries := rowCounts(t, env["DATABASE_URL"])["audit_logs"]
			tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
			res := runAtrium(t, env, "audit", "prune", "--before", tomorrow, "--yes")
			if res.Code != 1 || !strings.Contains(res.Output(), "is in the future") {
				t.Fatalf("prune --before tomorrow: exit %d, want 1 and a line about the future\n%s", res.Code, res.Output())
			}
			if n := rowCounts(t, env["DATABASE_URL"])["audit_logs"]; n != entries {
				t.Fatalf("%d entries after a refused prune, want %d", n, entries)
			}
			today := time.Now().UTC().Format(time.DateOnly)
			if res := runAtrium(t, env, "audit", "prune", "--before", today, "--yes"); res.Code != 0 || !strings.Contains(res.Stdout, "Pruned ") {
				t.Fatalf("prune --before today: exit %d\n%s", res.Code, res.Output())
			}
			if ok := runAtrium(t, env, "audit", "verify"); ok.Code != 0 || !strings.Contains(ok.Stdout, "Every chain is intact") {
				t.Fatalf("verify after the prune: exit %d\n%s", ok.Code, ok.Output())
			}
			before := runAtrium(t, env, "audit", "head")

			acme := "(SELECT id FROM workspaces WHERE slug = 'acme')"
			oldest := "(SELECT MIN(id) FROM audit_logs WHERE workspace_id = " + acme + ")"
			if dialect == store.SQLite {
				// The triggers let deletes through up to the checkpoint.
				execSQL(t, env, "UPDATE audit_chains SET pruned_id = "+oldest+", pruned_hash = (SELECT hash FROM audit_logs WHERE id = "+oldest+
					") WHERE workspace_id = "+acme, "DELETE FROM audit_logs WHERE id = (SELECT pruned_id FROM audit_chains WHERE workspace_id = "+acme+")")
			} else {
				// The function the triggers trust, called without the CLI.
				execSQL(t, env, "SELECT audit_prune_chain("+acme+", "+oldest+")")
			}
			broken := runAtrium(t, env, "audit", "verify")
			if broken.Code != 1 || !strings.Contains(broken.Stdout, "BROKEN acme") || !strings.Contains(broken.Stdout, "(checkpoint)") {
				t.Errorf("verify after a forged checkpoint: exit %d, want 1 naming acme's checkpoint\n%s", broken.Code, broken.Output())
			}
			after := runAtrium(t, env, "audit", "head")
			line := func(out string) string {
				for _, l := range strings.Split(out, "\n") {
					if strings.HasPrefix(l, "acme ") {
						return l
					}
				}
				return ""
			}
			if line(before.Stdout) == "" || line(before.Stdout) == line(after.Stdout) || !strings.Contains(line(after.Stdout), "from id ") {
				t.Errorf("acme's head line did not change with its start:\nbefore: %s\nafter:  %s", line(before.Stdout), line(after.Stdout))
			}
		})
	}
}
