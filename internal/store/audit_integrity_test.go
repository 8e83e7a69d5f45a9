package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// brokenAt returns the break VerifyAudit reports on one chain, or nil.
func brokenAt(t *testing.T, db *store.DB, chain int64) *store.AuditBreak {
	t.Helper()
	reps, err := db.VerifyAudit(context.Background(), store.VerifyOptions{WorkspaceID: chain, Only: true})
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	if len(reps) != 1 {
		t.Fatalf("VerifyAudit of chain %d: %d reports", chain, len(reps))
	}
	return reps[0].Break
}

// execAll runs statements on one connection, so that a SET lasts for the
// statements after it; it fails the test on the first error.
func execAll(t *testing.T, db *store.DB, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAuditLog_Integrity: plain DML cannot open the append-only gate; the
// oldest entries deleted behind a forged checkpoint, an edited family, and
// (on PostgreSQL) rows removed with the triggers skipped by
// session_replication_role = replica are all named by VerifyAudit; prune
// refuses a cut-off in the future and a broken part, and a prune names
// its checkpoint in the chain.
func TestAuditLog_Integrity(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ctx := context.Background()
		owner := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, owner, "Acme")
		other := createWorkspace(t, db, owner, "Globex")
		for i := range 4 {
			sendInvite(t, db, c, owner.ctx, ws.ID, fmt.Sprintf("old%d@example.com", i), app.RoleMember)
			sendInvite(t, db, c, owner.ctx, other.ID, fmt.Sprintf("old%d@example.com", i), app.RoleMember)
		}
		c.Add(48 * time.Hour)
		sendInvite(t, db, c, owner.ctx, ws.ID, "new@example.com", app.RoleMember)
		sendInvite(t, db, c, owner.ctx, other.ID, "new@example.com", app.RoleMember)
		requireIntact(t, db)
		oldest := int64(rowCount(t, db, "SELECT MIN(id) FROM audit_logs WHERE workspace_id = ?", ws.ID))

		t.Run("GateRowOpensNothing", func(t *testing.T) {
			// Migration 00008's gate was a table: a row in it let every
			// UPDATE and DELETE through.
			_, _ = db.SQL().ExecContext(ctx, "INSERT INTO audit_gate (reason) VALUES ('prune')")
			defer func() { _, _ = db.SQL().ExecContext(ctx, "DELETE FROM audit_gate") }()
			for _, q := range []string{
				fmt.Sprintf("DELETE FROM audit_logs WHERE id = %d", oldest),
				fmt.Sprintf("UPDATE audit_logs SET action = 'member.removed' WHERE id = %d", oldest),
				"DELETE FROM audit_logs",
			} {
				if _, err := db.SQL().ExecContext(ctx, q); err == nil {
					t.Errorf("%s: accepted after a row was written to audit_gate", q)
				}
			}
			requireIntact(t, db)
		})

		t.Run("FamilyEdited", func(t *testing.T) {
			e := latestAudit(t, db, ws.ID, app.ActionInviteSent)
			tamper(t, db, fmt.Sprintf("UPDATE audit_logs SET family = 'billing' WHERE id = %d", e.ID))
			b := brokenAt(t, db, ws.ID)
			if b == nil || b.ID != e.ID || b.Field != "family" {
				t.Fatalf("break after the family was edited = %+v, want entry %d, family", b, e.ID)
			}
			tamper(t, db, fmt.Sprintf("UPDATE audit_logs SET family = 'invite' WHERE id = %d", e.ID))
			requireIntact(t, db)
		})

		t.Run("PruneRefusesFuture", func(t *testing.T) {
			before := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs")
			_, err := db.PruneAudit(ctx, c.Now().Add(24*time.Hour))
			if app.ErrorCode(err) != app.EINVALID || !strings.Contains(app.ErrorMessage(err), "in the future") {
				t.Fatalf("PruneAudit(tomorrow) = %v, want an invalid error about the future", err)
			}
			if after := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs"); after != before {
				t.Errorf("%d entries after a refused prune, want %d", after, before)
			}
		})

		t.Run("PruneRefusesBrokenPart", func(t *testing.T) {
			e := latestAudit(t, db, other.ID, app.ActionInviteSent) // the new one: kept
			old := auditOf(t, db, other.ID)[len(auditOf(t, db, other.ID))-2]
			tamper(t, db, fmt.Sprintf(`UPDATE audit_logs SET target_id = 'forged' WHERE id = %d`, old.ID))
			before := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs")
			_, err := db.PruneAudit(ctx, c.Now().Add(-time.Hour))
			if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), fmt.Sprintf("at id %d", old.ID)) {
				t.Fatalf("PruneAudit over a broken link = %v, want a conflict naming entry %d", err, old.ID)
			}
			if after := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs"); after != before {
				t.Errorf("%d entries after a refused prune, want %d", after, before)
			}
			if b := brokenAt(t, db, other.ID); b == nil || b.ID != old.ID {
				t.Errorf("break after the refused prune = %+v, want still at %d", b, old.ID)
			}
			tamper(t, db, fmt.Sprintf(`UPDATE audit_logs SET target_id = '%s' WHERE id = %d`, old.TargetID, old.ID))
			_ = e
		})

		t.Run("Prune", func(t *testing.T) {
			res, err := db.PruneAudit(ctx, c.Now().Add(-time.Hour))
			if err != nil {
				t.Fatalf("PruneAudit: %v", err)
			}
			if res.Deleted == 0 || res.Chains < 3 {
				t.Fatalf("PruneAudit = %+v, want entries of three chains", res)
			}
			requireIntact(t, db)
			heads, _ := db.AuditHeads(ctx)
			for _, h := range heads {
				if h.PrunedID == 0 || h.WorkspaceID == 0 {
					continue
				}
				p := latestAudit(t, db, h.WorkspaceID, app.ActionAuditPruned)
				if got, want := p.Metadata["checkpoint"], fmt.Sprintf("%d:%s", h.PrunedID, h.PrunedHash); got != want {
					t.Errorf("chain %d: audit.pruned names %v, want %s", h.WorkspaceID, got, want)
				}
			}
		})

		t.Run("ForgedCheckpoint", func(t *testing.T) {
			// Delete the oldest remaining entries of a chain and move its
			// checkpoint to the last of them, as the old gate allowed: the
			// rest still links, the head is unchanged.
			entries := auditOf(t, db, ws.ID)
			cut := entries[len(entries)-1]
			forge := []string{
				fmt.Sprintf("UPDATE audit_chains SET pruned_id = %d, pruned_hash = '%s' WHERE workspace_id = %d", cut.ID, cut.Hash, ws.ID),
				fmt.Sprintf("DELETE FROM audit_logs WHERE workspace_id = %d AND id <= %d", ws.ID, cut.ID),
			}
			if db.Dialect() == store.Postgres {
				forge = append([]string{"SET session_replication_role = replica"}, forge...)
				forge = append(forge, "SET session_replication_role = DEFAULT")
			}
			execAll(t, db, forge...)
			b := brokenAt(t, db, ws.ID)
			if b == nil || b.Field != "checkpoint" || b.ID != cut.ID {
				t.Fatalf("break after a forged checkpoint = %+v, want the checkpoint at %d", b, cut.ID)
			}
		})

		if db.Dialect() != store.Postgres {
			return
		}
		t.Run("PruneFunctionAlone", func(t *testing.T) {
			// The function the triggers trust, called by hand, removes and
			// records a checkpoint but writes no audit.pruned entry.
			entries := auditOf(t, db, other.ID)
			cut := entries[len(entries)-1]
			execAll(t, db, fmt.Sprintf("SELECT audit_prune_chain(%d, %d)", other.ID, cut.ID))
			if b := brokenAt(t, db, other.ID); b == nil || b.Field != "checkpoint" {
				t.Fatalf("break after audit_prune_chain by hand = %+v, want the checkpoint", b)
			}
		})

		t.Run("DoBlockCannotPose", func(t *testing.T) {
			// A DO block whose statement text names the function is not
			// the function.
			last := rowCount(t, db, "SELECT MAX(id) FROM audit_logs WHERE workspace_id IS NULL")
			q := fmt.Sprintf("DO $$ BEGIN DELETE FROM audit_logs WHERE id = %d /*\nPL/pgSQL function audit_prune_chain(bigint,bigint) line 9 at SQL statement*/; END $$", last)
			if _, err := db.SQL().ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("a DO block posing as audit_prune_chain: %v, want append-only", err)
			}
		})

		t.Run("ReplicaRole", func(t *testing.T) {
			// session_replication_role = replica skips every trigger (a
			// superuser's setting): the chain still shows the deletion.
			for range 2 {
				if err := db.WriteAudit(ctx, app.AuditEntry{Action: app.ActionSignedIn}); err != nil {
					t.Fatal(err)
				}
			}
			last := rowCount(t, db, "SELECT MAX(id) FROM audit_logs WHERE workspace_id IS NULL")
			mid := rowCount(t, db, "SELECT MAX(id) FROM audit_logs WHERE workspace_id IS NULL AND id < ?", last)
			execAll(t, db, "SET session_replication_role = replica",
				fmt.Sprintf("DELETE FROM audit_logs WHERE id = %d", mid), "SET session_replication_role = DEFAULT")
			if b := brokenAt(t, db, 0); b == nil || b.Field != "prev_hash" {
				t.Fatalf("break after a delete with triggers skipped = %+v, want a prev_hash break", b)
			}
		})
	})
}

// TestMigrate_RecordsEarlierPruneCheckpoints: a chain pruned before
// migration 00015 (through the old gate, with no audit.pruned entry naming
// its checkpoint) verifies after the upgrade, which writes that entry.
func TestMigrate_RecordsEarlierPruneCheckpoints(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		owner := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, owner, "Acme")
		sendInvite(t, db, c, owner.ctx, ws.ID, "grace@example.com", app.RoleMember)
		for {
			m, err := db.MigrateDown(ctx)
			if err != nil {
				t.Fatalf("migrate down: %v", err)
			}
			if m == nil || m.Version <= 15 {
				break
			}
		}
		first := rowCount(t, db, "SELECT MIN(id) FROM audit_logs WHERE workspace_id = ?", ws.ID)
		var hash string
		if err := db.SQL().QueryRowContext(ctx, fmt.Sprintf("SELECT hash FROM audit_logs WHERE id = %d", first)).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		// What PruneAudit did before 00015, in one transaction.
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"INSERT INTO audit_gate (reason) VALUES ('prune')",
			fmt.Sprintf("DELETE FROM audit_logs WHERE id = %d", first),
			fmt.Sprintf("UPDATE audit_chains SET pruned_id = %d, pruned_hash = '%s' WHERE workspace_id = %d", first, hash, ws.ID),
			"DELETE FROM audit_gate"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatalf("migrate up: %v", err)
		}
		requireIntact(t, db)
		p := latestAudit(t, db, ws.ID, app.ActionAuditPruned)
		if got, want := p.Metadata["checkpoint"], fmt.Sprintf("%d:%s", first, hash); got != want {
			t.Errorf("audit.pruned written on upgrade names %v, want %s", got, want)
		}
	})
}
