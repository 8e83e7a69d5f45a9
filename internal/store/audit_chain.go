package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// AuditChainReport is what VerifyAudit found on one chain.
type AuditChainReport struct {
	WorkspaceID int64
	Slug        string // "" for the chain of entries without a workspace, or a deleted workspace
	Checked     int64  // entries whose links were checked
	Break       *AuditBreak
}

// AuditBreak is the first broken link of a chain: the entry whose stored
// value (Found) differs from what the chain says it must be (Expected).
type AuditBreak struct {
	ID       int64
	Field    string // "prev_hash", "hash" or "head"
	Expected string
	Found    string
}

// VerifyOptions narrows VerifyAudit.
type VerifyOptions struct {
	// WorkspaceID picks one chain when Only is set (0: entries without a
	// workspace).
	WorkspaceID int64
	Only        bool
	// Limit checks only about the newest Limit entries (0: all). The first
	// entry read of each chain is then trusted as its start.
	Limit int64
	// Progress is told how many of the entries are checked so far.
	Progress func(done, total int64)
}

// chainColumns are auditColumns and the family, which a chain walk checks
// against the action.
const chainColumns = auditColumns + ", a.family"

// scanChainRow reads a row of chainColumns.
func scanChainRow(rows scanner, r *auditRecord) error {
	return rows.Scan(&r.ID, &r.WorkspaceID, &r.ActorUserID, &r.ActorEmail, &r.ActorName, &r.Action, &r.TargetType,
		&r.TargetID, &r.Metadata, &r.IP, &r.UserAgent, &r.RequestID, &r.CreatedAt, &r.PrevHash, &r.Hash, &r.Family)
}

// The chains a walk of the log reads: all of them, the one of the entries
// without a workspace, or one workspace's.
const (
	chainsAll = iota
	chainNone
	chainOne
)

// chainWhere is the condition of each kind of walk; chainOne binds the
// workspace id first.
var chainWhere = [...]string{"1 = 1", "a.workspace_id IS NULL", "a.workspace_id = ?"}

// chainQuery names a chain statement (count, walk, through, next) of a
// kind of walk.
func chainQuery(stmt string, kind int) string {
	return "audit_chain_" + stmt + "_" + [...]string{"all", "none", "one"}[kind]
}

// chainArgs returns the walk's kind and leading arguments for chain (0:
// the entries without a workspace).
func chainArgs(chain int64) (int, []any) {
	if chain == 0 {
		return chainNone, nil
	}
	return chainOne, []any{chain}
}

// The statements of the log's maintenance: verify, prune and the upgrades.
const (
	qAuditHeads      = "audit_chain_heads"
	qAuditBatch      = "audit_batch_after"
	qPruneCuts       = "audit_prune_cuts"
	qPruneCheckpoint = "audit_prune_checkpoint"
	qPrunedChains    = "audit_pruned_chains"
	qPruneChain      = "audit_prune_chain"
)

// auditChainQueries are the catalog's statements of the log's maintenance.
// They run from the command line (verify, prune) or once on upgrade, and
// read whole chains by design.
var auditChainQueries = func() map[string]hotQuery {
	const why = "audit verify and prune check every link of the chains they cover"
	q := map[string]hotQuery{
		qAuditHeads: {SQL: `SELECT c.workspace_id, c.head_id, c.head_hash, c.pruned_id, c.pruned_hash, COALESCE(w.slug, '')
			FROM audit_chains c LEFT JOIN workspaces w ON w.id = c.workspace_id ORDER BY c.workspace_id`,
			WholeTable: "every chain's head, a row per workspace"},
		qAuditBatch: {SQL: `SELECT ` + auditColumns + ` FROM audit_logs a WHERE a.id > ? ORDER BY a.id LIMIT 2000`,
			WholeTable: "the upgrade to 00008 hashes every entry, 2,000 at a time"},
		qPruneCuts: {SQL: `SELECT workspace_id, MAX(id), COUNT(*) FROM audit_logs WHERE created_at < ? GROUP BY workspace_id`,
			WholeTable: why},
		qPruneCheckpoint: {SQL: `SELECT pruned_hash FROM audit_chains WHERE workspace_id = ?`},
		qPrunedChains: {SQL: `SELECT workspace_id, pruned_id, pruned_hash FROM audit_chains WHERE pruned_id <> 0 ORDER BY workspace_id`,
			WholeTable: "the upgrade to 00015 reads every chain's checkpoint"},
		// A write: the function (migration 00015) deletes a chain's pruned
		// part past the append-only triggers and returns how many went.
		qPruneChain: {PostgresSQL: `SELECT audit_prune_chain(?, ?)`, NoPlan: "a function call that deletes; PostgreSQL only"},
	}
	for kind, where := range chainWhere {
		q[chainQuery("count", kind)] = hotQuery{SQL: `SELECT COUNT(*), COALESCE(MAX(a.id), 0) FROM audit_logs a WHERE ` + where,
			WholeTable: why}
		q[chainQuery("walk", kind)] = hotQuery{SQL: `SELECT ` + chainColumns + ` FROM audit_logs a WHERE ` + where +
			` AND a.id > ? ORDER BY a.id`, WholeTable: why}
		if kind == chainsAll {
			continue
		}
		q[chainQuery("through", kind)] = hotQuery{SQL: `SELECT ` + chainColumns + ` FROM audit_logs a WHERE ` + where +
			` AND a.id <= ? ORDER BY a.id`, WholeTable: why}
		q[chainQuery("next", kind)] = hotQuery{SQL: `SELECT a.prev_hash FROM audit_logs a WHERE ` + where +
			` AND a.id > ? ORDER BY a.id LIMIT 1`, WholeTable: why}
	}
	return q
}()

// chainLink checks one entry against the hash of the entry before it in
// its chain: its prev_hash, its hash over its fields, and its family,
// which must be the catalog's for its action (the hash does not cover
// the family column, so it is derived here). It returns the first
// mismatch, or nil.
func chainLink(last string, r *auditRecord) *AuditBreak {
	if r.PrevHash != last {
		return &AuditBreak{ID: r.ID, Field: "prev_hash", Expected: last, Found: r.PrevHash}
	}
	if want := app.AuditHash(r.PrevHash, r.toApp()); want != r.Hash {
		return &AuditBreak{ID: r.ID, Field: "hash", Expected: want, Found: r.Hash}
	}
	want := ""
	if a, ok := app.LookupAuditAction(r.Action); ok {
		want = string(a.Family)
	}
	if r.Family != want {
		return &AuditBreak{ID: r.ID, Field: "family", Expected: want, Found: r.Family}
	}
	return nil
}

// pruneCheckpoint is how a prune checkpoint is written in an audit.pruned
// entry's metadata ("checkpoint") and compared with the chain's head row.
func pruneCheckpoint(id int64, hash string) string { return fmt.Sprintf("%d:%s", id, hash) }

// VerifyAudit walks the audit log in id order and checks every chain: each
// entry's prev_hash is the hash of the entry before it in its chain (or of
// the last pruned entry), its hash is app.AuditHash of its fields, its
// family is its action's, the last entry is the head audit_chains records,
// and a chain that was pruned has, as its newest audit.pruned entry, one
// naming its checkpoint (so a checkpoint moved by hand, with the oldest
// entries deleted behind the triggers' back, is a break). It stops
// checking a chain at its first break and returns one report per chain,
// ordered by workspace.
func (db *DB) VerifyAudit(ctx context.Context, o VerifyOptions) ([]AuditChainReport, error) {
	heads, err := db.AuditHeads(ctx)
	if err != nil {
		return nil, err
	}
	type state struct {
		rep     *AuditChainReport
		last    string
		lastID  int64
		started bool
		prune   string // the checkpoint named by the newest audit.pruned entry
	}
	chains := map[int64]*state{}
	var order []int64
	get := func(ws int64) *state {
		st, ok := chains[ws]
		if !ok {
			st = &state{rep: &AuditChainReport{WorkspaceID: ws}}
			chains[ws] = st
			order = append(order, ws)
		}
		return st
	}
	for _, h := range heads {
		if o.Only && h.WorkspaceID != o.WorkspaceID {
			continue
		}
		st := get(h.WorkspaceID)
		st.rep.Slug, st.last, st.lastID = h.Slug, h.PrunedHash, h.PrunedID
	}
	kind, args := chainsAll, []any{}
	if o.Only {
		kind, args = chainArgs(o.WorkspaceID)
	}
	var total, from int64
	if err := db.queryRow(ctx, nil, chainQuery("count", kind), args...).Scan(&total, &from); err != nil {
		return nil, fmt.Errorf("count audit entries: %w", err)
	}
	trustFirst := o.Limit > 0 && total > o.Limit
	if trustFirst {
		from, total = from-o.Limit, o.Limit
	} else {
		from = 0
	}
	rows, err := db.query(ctx, nil, chainQuery("walk", kind), append(args, from)...)
	if err != nil {
		return nil, fmt.Errorf("read audit entries: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var done int64
	for rows.Next() {
		var r auditRecord
		if err := scanChainRow(rows, &r); err != nil {
			return nil, fmt.Errorf("read audit entry: %w", err)
		}
		done++
		if o.Progress != nil && done%10000 == 0 {
			o.Progress(done, total)
		}
		ws := int64(0)
		if r.WorkspaceID != nil {
			ws = *r.WorkspaceID
		}
		st := get(ws)
		if st.rep.Break != nil {
			continue
		}
		if trustFirst && !st.started {
			st.last = r.PrevHash
		}
		st.started = true
		st.rep.Checked++
		if b := chainLink(st.last, &r); b != nil {
			st.rep.Break = b
			continue
		}
		if r.Action == app.ActionAuditPruned {
			st.prune, _ = r.toApp().Metadata["checkpoint"].(string)
		}
		st.last, st.lastID = r.Hash, r.ID
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit entries: %w", err)
	}
	if o.Progress != nil {
		o.Progress(total, total)
	}
	headOf := map[int64]app.AuditChainHead{}
	for _, h := range heads {
		headOf[h.WorkspaceID] = h.AuditChainHead
	}
	out := make([]AuditChainReport, 0, len(order))
	for _, ws := range order {
		st := chains[ws]
		h, ok := headOf[ws]
		switch {
		case st.rep.Break != nil:
		case !ok && st.rep.Checked > 0:
			st.rep.Break = &AuditBreak{ID: st.lastID, Field: "head", Expected: "a head in audit_chains", Found: "none"}
		case ok && (h.HeadID != st.lastID || h.HeadHash != st.last) && h.HeadID != 0:
			st.rep.Break = &AuditBreak{ID: h.HeadID, Field: "head", Expected: h.HeadHash,
				Found: fmt.Sprintf("chain ends at id %d with hash %s", st.lastID, st.last)}
		case ok && h.PrunedID != 0 && !trustFirst && st.prune != pruneCheckpoint(h.PrunedID, h.PrunedHash):
			found := "no " + app.ActionAuditPruned + " entry"
			if st.prune != "" {
				found = "the newest " + app.ActionAuditPruned + " entry names " + st.prune
			}
			st.rep.Break = &AuditBreak{ID: h.PrunedID, Field: "checkpoint",
				Expected: "an " + app.ActionAuditPruned + " entry naming " + pruneCheckpoint(h.PrunedID, h.PrunedHash), Found: found}
		}
		out = append(out, *st.rep)
	}
	return out, nil
}

// AuditHead is a chain's head with its workspace's slug.
type AuditHead struct {
	app.AuditChainHead
	Slug string
}

// AuditHeads returns the head of every chain, by workspace id (0 first).
func (db *DB) AuditHeads(ctx context.Context) ([]AuditHead, error) {
	rows, err := db.query(ctx, nil, qAuditHeads)
	if err != nil {
		return nil, fmt.Errorf("read audit chain heads: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []AuditHead
	for rows.Next() {
		var h AuditHead
		if err := rows.Scan(&h.WorkspaceID, &h.HeadID, &h.HeadHash, &h.PrunedID, &h.PrunedHash, &h.Slug); err != nil {
			return nil, fmt.Errorf("read audit chain heads: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// backfillAuditChain hashes the entries written before the chain existed
// (hash = ”), in id order, and records each chain's head. Migration 00008
// leaves them so; MigrateUp calls this right after applying it.
func (db *DB) backfillAuditChain(ctx context.Context) error {
	// The triggers let an entry be updated while it has no hash.
	return db.transact(ctx, func(tx *gorm.DB) error {
		heads := map[int64]auditRecord{}
		var after int64
		for {
			rows, err := db.query(ctx, tx, qAuditBatch, after)
			if err != nil {
				return fmt.Errorf("read audit entries: %w", err)
			}
			var batch []auditRecord
			for rows.Next() {
				var r auditRecord
				if err := scanAudit(rows, &r); err != nil {
					_ = rows.Close()
					return fmt.Errorf("read audit entry: %w", err)
				}
				batch = append(batch, r)
			}
			_ = rows.Close()
			if len(batch) == 0 {
				break
			}
			for i := range batch {
				r := &batch[i]
				after = r.ID
				chain := int64(0)
				if r.WorkspaceID != nil {
					chain = *r.WorkspaceID
				}
				if r.Hash != "" {
					heads[chain] = *r
					continue
				}
				r.PrevHash = heads[chain].Hash
				if a, ok := app.LookupAuditAction(r.Action); ok {
					r.Family = string(a.Family)
				}
				r.Hash = app.AuditHash(r.PrevHash, r.toApp())
				if err := tx.Exec("UPDATE audit_logs SET family = ?, prev_hash = ?, hash = ? WHERE id = ?",
					r.Family, r.PrevHash, r.Hash, r.ID).Error; err != nil {
					return fmt.Errorf("hash audit entry %d: %w", r.ID, err)
				}
				heads[chain] = *r
			}
		}
		for chain, r := range heads {
			if err := tx.Exec(`INSERT INTO audit_chains (workspace_id, head_id, head_hash) VALUES (?, ?, ?)
				ON CONFLICT (workspace_id) DO UPDATE SET head_id = excluded.head_id, head_hash = excluded.head_hash`,
				chain, r.ID, r.Hash).Error; err != nil {
				return fmt.Errorf("record the head of chain %d: %w", chain, err)
			}
		}
		return nil
	})
}
