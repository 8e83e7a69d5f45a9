package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// WriteAudit writes one entry the way every service does, in a transaction
// of its own.
func (db *DB) WriteAudit(ctx context.Context, e app.AuditEntry) error {
	return db.transact(ctx, func(tx *gorm.DB) error { return db.audit(ctx, tx, e) })
}

// HotQuery and HotQueries expose the hot query catalog to plan_test.go.
type HotQuery = hotQuery

// Text returns the statement's SQL on dialect.
func (q hotQuery) Text(dialect string) string { return q.text(dialect) }

// HotQueries returns the catalog by name.
func HotQueries() map[string]HotQuery { return hotQueries }

// AuditQueryName names the audit log's hot query of a filter combination.
var AuditQueryName = auditQueryName

// AuditOperatorQueryName names the operator's query of a workspace's log
// of a filter combination.
var AuditOperatorQueryName = auditOperatorQueryName

// AuditAllQueryName names the query of every workspace's log of a filter
// combination.
var AuditAllQueryName = auditAllQueryName

// AuditFilterCombinations counts the audit page's filter combinations. Bit
// 0 of a combination is the actor, then action, from, to and the cursor.
const AuditFilterCombinations = auditFilterCombinations

// ExplainSQLite returns the detail lines of EXPLAIN QUERY PLAN.
func (db *DB) ExplainSQLite(ctx context.Context, query string, args ...any) ([]string, error) {
	var rows []struct {
		ID, Parent, Notused int
		Detail              string
	}
	if err := db.gorm.WithContext(ctx).Raw("EXPLAIN QUERY PLAN "+query, args...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Detail
	}
	return out, nil
}

// PlanNode is one node of a Postgres plan.
type PlanNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	PlanRows     float64    `json:"Plan Rows"`
	ActualRows   float64    `json:"Actual Rows"`
	ActualLoops  float64    `json:"Actual Loops"`
	Plans        []PlanNode `json:"Plans"`
}

// ExplainPostgres returns the plan Postgres picks when sequential scans and
// sorts are priced out: a Seq Scan or Sort left in it has no index to use.
func (db *DB) ExplainPostgres(ctx context.Context, query string, args ...any) (*PlanNode, error) {
	var raw string
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, set := range []string{"SET LOCAL enable_seqscan = off", "SET LOCAL enable_sort = off",
			"SET LOCAL enable_incremental_sort = off"} {
			if err := tx.Exec(set).Error; err != nil {
				return err
			}
		}
		return tx.Raw("EXPLAIN (FORMAT JSON) "+query, args...).Row().Scan(&raw)
	})
	if err != nil {
		return nil, err
	}
	var plans []struct{ Plan PlanNode }
	if err := json.NewDecoder(strings.NewReader(raw)).Decode(&plans); err != nil || len(plans) != 1 {
		return nil, fmt.Errorf("read plan %q: %v", raw, err)
	}
	return &plans[0].Plan, nil
}

// ExplainPostgresGeneric runs query as the services do, a prepared
// statement, with the generic plan PostgreSQL switches a statement to after
// five executions (plan_cache_mode = force_generic_plan), and returns that
// plan with what each node actually read (EXPLAIN ANALYZE). Costs are left
// as they are: this is the plan production runs once ANALYZE has given the
// planner the average workspace's statistics.
func (db *DB) ExplainPostgresGeneric(ctx context.Context, query string, args ...any) (*PlanNode, error) {
	lits := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			lits[i] = "'" + v.UTC().Format(time.RFC3339Nano) + "'"
		case string:
			lits[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		default:
			lits[i] = fmt.Sprintf("'%v'", v)
		}
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	var raw string
	for _, q := range []string{"SET plan_cache_mode = force_generic_plan", "PREPARE atrium_generic AS " + numberPlaceholders(query)} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, err
		}
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DEALLOCATE atrium_generic")
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "RESET plan_cache_mode")
	}()
	explain := "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE atrium_generic"
	if len(lits) > 0 {
		explain += "(" + strings.Join(lits, ", ") + ")"
	}
	if err := conn.QueryRowContext(ctx, explain).Scan(&raw); err != nil {
		return nil, err
	}
	var plans []struct{ Plan PlanNode }
	if err := json.NewDecoder(strings.NewReader(raw)).Decode(&plans); err != nil || len(plans) != 1 {
		return nil, fmt.Errorf("read plan %q: %v", raw, err)
	}
	return &plans[0].Plan, nil
}

// ReadInsideTransaction writes a login token with GORM inside a
// transaction and reads it back through the catalog on the transaction's
// connection, then rolls back and reads it again from the pool. It
// returns the email each read found ("" for none) and their errors.
func (db *DB) ReadInsideTransaction(ctx context.Context, hash string) (inside, after string, err error) {
	errRollback := fmt.Errorf("roll back")
	err = db.transact(ctx, func(tx *gorm.DB) error {
		now := db.now()
		r := loginTokenRecord{TokenHash: hash, Email: "inside@example.com", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		var id int64
		var next string
		var created, expires time.Time
		var used *time.Time
		if err := db.queryRow(ctx, tx, qLoginToken, hash).Scan(&id, &hash, &inside, &next, &created, &expires, &used); err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		return inside, "", err
	}
	var id int64
	var next, h string
	var created, expires time.Time
	var used *time.Time
	err = db.queryRow(ctx, nil, qLoginToken, hash).Scan(&id, &h, &after, &next, &created, &expires, &used)
	return inside, after, err
}

// MemberRank is the members page's SQL order of the roles.
func MemberRank() string { return memberRank }

// IdentityCacheSize is the default bound of the identity cache.
const IdentityCacheSize = identityCacheSize
