package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

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

// HotQueries returns the catalog by name.
func HotQueries() map[string]HotQuery { return hotQueries }

// AuditQueryName names the audit log's hot query of a filter combination.
var AuditQueryName = auditQueryName

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
