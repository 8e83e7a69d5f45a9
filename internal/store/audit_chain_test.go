package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// requireIntact fails unless every chain verifies, and returns the
// entries checked per workspace chain.
func requireIntact(t *testing.T, db *store.DB) map[int64]int64 {
	t.Helper()
	reps, err := db.VerifyAudit(context.Background(), store.VerifyOptions{})
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	out := map[int64]int64{}
	for _, r := range reps {
		if r.Break != nil {
			t.Errorf("chain %d breaks at id %d (%s): expected %s, found %s", r.WorkspaceID, r.Break.ID, r.Break.Field,
				r.Break.Expected, r.Break.Found)
		}
		out[r.WorkspaceID] = r.Checked
	}
	return out
}

// TestAuditLog_Chain: entries written by the services link into one chain
// per workspace that verifies; the database refuses UPDATE and DELETE; a
// row edited behind the triggers' back is named by VerifyAudit; 50
// concurrent writers to one workspace leave one unforked chain; a prune
// keeps the chain verifiable.
func TestAuditLog_Chain(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ctx := context.Background()
		owner := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, owner, "Acme")
		sendInvite(t, db, c, owner.ctx, ws.ID, "grace@example.com", app.RoleAdmin)
		audit := store.NewAuditService(db)

		t.Run("Intact", func(t *testing.T) {
			checked := requireIntact(t, db)
			if got, want := checked[ws.ID], int64(2); got != want {
				t.Errorf("entries checked in the workspace chain = %d, want %d", got, want)
			}
			if checked[0] == 0 {
				t.Error("the chain of entries without a workspace (sign-ups, sign-ins) was not checked")
			}
		})

		t.Run("ActorSnapshot", func(t *testing.T) {
			e := latestAudit(t, db, ws.ID, app.ActionInviteSent)
			if e.ActorEmail != "ada@example.com" {
				t.Errorf("ActorEmail = %q, want ada@example.com", e.ActorEmail)
			}
			if got, want := e.Summary(), "ada@example.com invited grace@example.com as Admin"; got != want {
				t.Errorf("Summary = %q, want %q", got, want)
			}
		})

		t.Run("AppendOnly", func(t *testing.T) {
			for _, q := range []string{"UPDATE audit_logs SET action = 'x'", "DELETE FROM audit_logs"} {
				if _, err := db.SQL().ExecContext(ctx, q); err == nil {
					t.Errorf("%s: the database accepted it", q)
				}
			}
			if db.Dialect() == store.Postgres {
				if _, err := db.SQL().ExecContext(ctx, "TRUNCATE audit_logs"); err == nil {
					t.Error("TRUNCATE audit_logs: the database accepted it")
				}
			}
		})

		t.Run("Concurrent", func(t *testing.T) {
			before := requireIntact(t, db)[ws.ID]
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- audit.RecordAuditExport(owner.ctx, app.ScopeOf(owner.ctx, ws.ID), map[string]any{"format": "csv", "n": i})
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("concurrent append: %v", err)
				}
			}
			if got, want := requireIntact(t, db)[ws.ID], before+50; got != want {
				t.Errorf("entries checked = %d, want %d", got, want)
			}
		})

		t.Run("Tampered", func(t *testing.T) {
			e := latestAudit(t, db, ws.ID, app.ActionInviteSent)
			tamper(t, db, fmt.Sprintf(`UPDATE audit_logs SET metadata = '{"email":"eve@example.com","role":"admin"}' WHERE id = %d`, e.ID))
			reps, err := db.VerifyAudit(ctx, store.VerifyOptions{WorkspaceID: ws.ID, Only: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(reps) != 1 || reps[0].Break == nil {
				t.Fatalf("VerifyAudit after an edit = %+v, want one broken chain", reps)
			}
			if got := reps[0].Break.ID; got != e.ID {
				t.Errorf("break at id %d, want the edited row %d", got, e.ID)
			}
			tamper(t, db, fmt.Sprintf(`UPDATE audit_logs SET metadata = '{"email":"grace@example.com","role":"admin"}' WHERE id = %d`, e.ID))
			requireIntact(t, db)
		})

		t.Run("Prune", func(t *testing.T) {
			c.Add(48 * time.Hour)
			sendInvite(t, db, c, owner.ctx, ws.ID, "later@example.com", app.RoleMember)
			res, err := db.PruneAudit(ctx, c.Now().Add(-time.Hour))
			if err != nil {
				t.Fatalf("PruneAudit: %v", err)
			}
			if res.Deleted == 0 {
				t.Fatal("PruneAudit deleted nothing")
			}
			if got := countAudit(t, db, ws.ID, app.ActionInviteSent); got != 1 {
				t.Errorf("invite.sent entries after the prune = %d, want 1 (the later one)", got)
			}
			checked := requireIntact(t, db)
			if checked[ws.ID] != 2 {
				t.Errorf("entries checked after the prune = %d, want 2 (the later invite, the prune's entry)", checked[ws.ID])
			}
			for _, chain := range []string{"workspace_id IS NULL", fmt.Sprintf("workspace_id = %d", ws.ID)} {
				if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = 'audit.pruned' AND "+chain); n != 1 {
					t.Errorf("%d audit.pruned entries where %s, want 1", n, chain)
				}
			}
		})
	})
}

// tamper runs an UPDATE on audit_logs with the append-only triggers
// dropped, then restores them, as a database user with DDL rights could.
func tamper(t *testing.T, db *store.DB, update string) {
	t.Helper()
	var stmts []string
	if db.Dialect() == store.SQLite {
		stmts = []string{"DROP TRIGGER audit_logs_no_update", update, `CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
WHEN OLD.hash <> '' BEGIN
    SELECT RAISE(ABORT, 'audit_logs is append-only (atrium audit prune removes old entries)');
END`}
	} else {
		stmts = []string{"ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only", update,
			"ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_append_only"}
	}
	for _, q := range stmts {
		if _, err := db.SQL().ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestMigrate_HashesExistingAuditEntries: entries written before migration
// 00008 get their actor's email and name and are chained when it is
// applied, so verify passes on an upgraded database; down and up again work
// with the append-only triggers in place.
func TestMigrate_HashesExistingAuditEntries(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		owner := signUpMember(t, db, c, "ada@example.com")
		createWorkspace(t, db, owner, "Acme")
		// Down to the schema before 00008, whatever came after it.
		for {
			m, err := db.MigrateDown(ctx)
			if err != nil {
				t.Fatalf("migrate down: %v", err)
			}
			if m == nil || m.Version <= 8 {
				break
			}
		}
		if _, err := db.SQL().ExecContext(ctx, fmt.Sprintf(`INSERT INTO audit_logs (workspace_id, actor_user_id, action, metadata, created_at)
			VALUES (NULL, %d, 'auth.signed_out', '{}', CURRENT_TIMESTAMP)`, owner.ID)); err != nil {
			t.Fatalf("write an entry on the old schema: %v", err)
		}
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatalf("migrate up: %v", err)
		}
		checked := requireIntact(t, db)
		var total int64
		for _, n := range checked {
			total += n
		}
		if all := int64(rowCount(t, db, "SELECT COUNT(*) FROM audit_logs")); total != all || all < 4 {
			t.Errorf("verified %d of %d entries", total, all)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE actor_email = 'ada@example.com' AND hash <> ''"); n < 4 {
			t.Errorf("%d entries carry the actor's email and a hash, want all 4", n)
		}
	})
}

// TestAuditLog_RefusesUnknownAction: an action missing from the catalog is
// never written, so the page and export always have a summary for it.
func TestAuditLog_RefusesUnknownAction(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.WriteAudit(ctx, app.AuditEntry{Action: "member.teleported"}); err == nil || !strings.Contains(err.Error(), "catalog") {
			t.Errorf("writing an unknown action: %v, want a catalog error", err)
		}
		if err := db.WriteAudit(ctx, app.AuditEntry{Action: app.ActionSignedIn}); err != nil {
			t.Errorf("writing a catalogued action: %v", err)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = 'member.teleported'"); n != 0 {
			t.Errorf("%d unknown entries written", n)
		}
	})
}
