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
		cuts, err := db.pruneCuts(ctx, tx, before)
		if err != nil {
			return err
		}
		for _, c := range cuts {
			chain := int64(0)
			if c.WorkspaceID != nil {
				chain = *c.WorkspaceID
			}
			hash, err := db.checkPrunedPart(ctx, tx, chain, c.LastID)
			if err != nil {
				return err
			}
			removed, err := db.pruneChain(ctx, tx, chain, c.LastID, hash)
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

// pruneCut is a chain's part a prune removes: through LastID, Removed
// entries.
type pruneCut struct {
	WorkspaceID *int64
	LastID      int64
	Removed     int64
}

// pruneCuts reads, in tx, the part of each chain created before before.
func (db *DB) pruneCuts(ctx context.Context, tx *gorm.DB, before time.Time) ([]pruneCut, error) {
	rows, err := db.query(ctx, tx, qPruneCuts, before.UTC())
	if err != nil {
		return nil, fmt.Errorf("find entries to prune: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var cuts []pruneCut
	for rows.Next() {
		var c pruneCut
		if err := rows.Scan(&c.WorkspaceID, &c.LastID, &c.Removed); err != nil {
			return nil, fmt.Errorf("find entries to prune: %w", err)
		}
		cuts = append(cuts, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find entries to prune: %w", err)
	}
	return cuts, nil
}

// checkPrunedPart walks the chain's entries from its checkpoint through
// lastID, and the first entry after it, and returns the hash of lastID; a
// broken link is refused with the chain, the entry and the field.
func (db *DB) checkPrunedPart(ctx context.Context, tx *gorm.DB, chain, lastID int64) (string, error) {
	var last string
	if err := db.queryRow(ctx, tx, qPruneCheckpoint, chain).Scan(&last); err != nil {
		return "", fmt.Errorf("read the checkpoint of chain %d: %w", chain, err)
	}
	kind, args := chainArgs(chain)
	rows, err := db.query(ctx, tx, chainQuery("through", kind), append(args, lastID)...)
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
	_ = rows.Close()
	var next string
	err = db.queryRow(ctx, tx, chainQuery("next", kind), append(args, lastID)...).Scan(&next)
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
func (db *DB) pruneChain(ctx context.Context, tx *gorm.DB, chain, lastID int64, hash string) (int64, error) {
	if db.Dialect() == Postgres {
		var n int64
		if err := db.queryRow(ctx, tx, qPruneChain, chain, lastID).Scan(&n); err != nil {
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
		rows, err := db.query(ctx, tx, qPrunedChains)
		if err != nil {
			return fmt.Errorf("read the prune checkpoints: %w", err)
		}
		var heads []app.AuditChainHead
		for rows.Next() {
			var h app.AuditChainHead
			if err := rows.Scan(&h.WorkspaceID, &h.PrunedID, &h.PrunedHash); err != nil {
				_ = rows.Close()
				return fmt.Errorf("read the prune checkpoints: %w", err)
			}
			heads = append(heads, h)
		}
		_ = rows.Close()
		if err := rows.Err(); err != nil {
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
