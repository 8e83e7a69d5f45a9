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

// TestAudit_PruneThenVerify: pruning everything before tomorrow through the
// command leaves checkpoints that verify accepts, and the prune's own entry.
func TestAudit_PruneThenVerify(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := config.Env{"DATABASE_URL": databaseURL(t, dialect)}
			if res := runAtrium(t, env, "seed"); res.Code != 0 {
				t.Fatalf("seed: %s", res.Output())
			}
			tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
			res := runAtrium(t, env, "audit", "prune", "--before", tomorrow, "--yes")
			if res.Code != 0 || !strings.Contains(res.Stdout, "Pruned ") {
				t.Fatalf("prune: exit %d\n%s", res.Code, res.Output())
			}
			ok := runAtrium(t, env, "audit", "verify")
			if ok.Code != 0 || !strings.Contains(ok.Stdout, "Every chain is intact") {
				t.Errorf("verify after the prune: exit %d\n%s", ok.Code, ok.Output())
			}
			if n := rowCounts(t, env["DATABASE_URL"])["audit_logs"]; n != 1 {
				t.Errorf("%d entries left, want only audit.pruned", n)
			}
		})
	}
}
