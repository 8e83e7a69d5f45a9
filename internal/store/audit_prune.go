package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// PruneResult is what PruneAudit removed.
type PruneResult struct {
	Deleted int64
	Chains  int
}

// PruneAudit deletes, in each chain, the entries up to the last one created
// before before, in one transaction: it first checks the links of the part
// it removes (and of the first entry it keeps), and refuses to remove a
// broken part, since a prune would leave nothing to show the break; then
// it records in the chain's head row the last removed entry (id and hash),
// from which VerifyAudit starts, and writes in the chain an audit.pruned
// entry naming that checkpoint. A cut-off in the future is refused: it
// would remove every entry, the newest included.
func (db *DB) PruneAudit(ctx context.Context, before time.Time) (PruneResult, error) {
	var res PruneResult
	if now := db.now(); before.After(now) {
		return res, app.Errorf(app.EINVALID, "The cut-off %s is in the future: prune removes entries created before a past date (today at the latest, %s).",
			before.UTC().Format(time.DateOnly), now.UTC().Format(time.DateOnly))
	}
	err := db.transact(ctx, func(tx *gorm.DB) error {
		type cut struct {
			WorkspaceID *int64
			LastID      int64
			Removed     int64
		}
		var cuts []cut
		if err := tx.Raw(`SELECT workspace_id, MAX(id) AS last_id, COUNT(*) AS removed FROM audit_logs WHERE created_at < ? GROUP BY workspace_id`,
			before.UTC()).Scan(&cuts).Error; err != nil {
			return fmt.Errorf("find entries to prune: %w", err)
		}
		for _, c := range cuts {
			chain := int64(0)
			if c.WorkspaceID != nil {
				chain = *c.WorkspaceID
			}
			hash, err := checkPrunedPart(tx, chain, c.LastID)
			if err != nil {
				return err
			}
			removed, err := db.pruneChain(tx, chain, c.LastID, hash)
			if err != nil {
				return err
			}
			if err := db.audit(ctx, tx, app.AuditEntry{WorkspaceID: chain, Action: app.ActionAuditPruned, Metadata: map[string]any{
				"before": before.UTC().Format(time.DateOnly), "count": removed, "checkpoint": pruneCheckpoint(c.LastID, hash)}}); err != nil {
				return err
			}
			res.Deleted += removed
			res.Chains++
		}
		return nil
	})
	if err != nil {
		return PruneResult{}, err
	}
	return res, nil
}

// checkPrunedPart walks the chain's entries from its checkpoint through
// lastID, and the first entry after it, and returns the hash of lastID; a
// broken link is refused with the chain, the entry and the field.
func checkPrunedPart(tx *gorm.DB, chain, lastID int64) (string, error) {
	var last string
	if err := tx.Raw("SELECT pruned_hash FROM audit_chains WHERE workspace_id = ?", chain).Row().Scan(&last); err != nil {
		return "", fmt.Errorf("read the checkpoint of chain %d: %w", chain, err)
	}
	where, args := "a.workspace_id IS NULL", []any{}
	if chain != 0 {
		where, args = "a.workspace_id = ?", append(args, chain)
	}
	rows, err := tx.Raw("SELECT "+chainColumns+" FROM audit_logs a WHERE "+where+" AND a.id <= ? ORDER BY a.id", append(args, lastID)...).Rows()
	if err != nil {
		return "", fmt.Errorf("read the entries to prune: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var r auditRecord
		if err := scanChainRow(rows, &r); err != nil {
			return "", fmt.Errorf("read the entries to prune: %w", err)
		}
		if b := chainLink(last, &r); b != nil {
			return "", brokenPrune(chain, b)
		}
		last = r.Hash
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read the entries to prune: %w", err)
	}
	var next string
	err = tx.Raw("SELECT a.prev_hash FROM audit_logs a WHERE "+where+" AND a.id > ? ORDER BY a.id LIMIT 1", append(args, lastID)...).
		Row().Scan(&next)
	if err == nil && next != last {
		return "", brokenPrune(chain, &AuditBreak{Field: "prev_hash", Expected: last, Found: next})
	}
	return last, nil
}

func brokenPrune(chain int64, b *AuditBreak) error {
	at := "after the entries to prune"
	if b.ID != 0 {
		at = fmt.Sprintf("at id %d", b.ID)
	}
	return app.Errorf(app.ECONFLICT, "Nothing was pruned: the chain of workspace %d is broken %s (%s: expected %s, found %s). "+
		"Pruning would remove the evidence; run 'atrium audit verify' and see RUNBOOK.md, \"Suspect the log was altered\".",
		chain, at, b.Field, b.Expected, b.Found)
}

// pruneChain removes the chain's entries through lastID and records the
// checkpoint, the way the append-only triggers allow: on PostgreSQL by the
// audit_prune_chain function (migration 00015), on SQLite by moving the
// checkpoint first, up to which the triggers let deletes through.
func (db *DB) pruneChain(tx *gorm.DB, chain, lastID int64, hash string) (int64, error) {
	if db.Dialect() == Postgres {
		var n int64
		if err := tx.Raw("SELECT audit_prune_chain(?, ?)", chain, lastID).Row().Scan(&n); err != nil {
			return 0, fmt.Errorf("prune the chain of workspace %d: %w", chain, err)
		}
		return n, nil
	}
	if err := tx.Exec("UPDATE audit_chains SET pruned_id = ?, pruned_hash = ? WHERE workspace_id = ?", lastID, hash, chain).Error; err != nil {
		return 0, fmt.Errorf("record the prune checkpoint: %w", err)
	}
	q := tx.Where("id <= ?", lastID)
	if chain == 0 {
		q = q.Where("workspace_id IS NULL")
	} else {
		q = q.Where("workspace_id = ?", chain)
	}
	del := q.Delete(&auditRecord{})
	if del.Error != nil {
		return 0, fmt.Errorf("prune the chain of workspace %d: %w", chain, del.Error)
	}
	return del.RowsAffected, nil
}

// recordPruneCheckpoints writes, in each chain pruned before migration
// 00015 (when audit.pruned entries did not name checkpoints), an
// audit.pruned entry naming its current checkpoint, so that VerifyAudit
// passes on an upgraded database. MigrateUp calls it right after 00015.
func (db *DB) recordPruneCheckpoints(ctx context.Context) error {
	return db.transact(ctx, func(tx *gorm.DB) error {
		var heads []app.AuditChainHead
		if err := tx.Raw("SELECT workspace_id, pruned_id, pruned_hash FROM audit_chains WHERE pruned_id <> 0 ORDER BY workspace_id").
			Scan(&heads).Error; err != nil {
			return fmt.Errorf("read the prune checkpoints: %w", err)
		}
		for _, h := range heads {
			if err := db.audit(ctx, tx, app.AuditEntry{WorkspaceID: h.WorkspaceID, Action: app.ActionAuditPruned, Metadata: map[string]any{
				"before": "an earlier prune", "count": "some", "checkpoint": pruneCheckpoint(h.PrunedID, h.PrunedHash),
				"recorded": "on upgrade"}}); err != nil {
				return err
			}
		}
		return nil
	})
}
