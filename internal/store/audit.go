package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

type auditRecord struct {
	ID          int64
	WorkspaceID *int64
	ActorUserID *int64
	// ActorEmail and ActorName are the actor's at the time of writing.
	ActorEmail string
	ActorName  string
	Action     string
	Family     string
	TargetType string
	TargetID   string
	Metadata   string
	IP         string
	UserAgent  string
	RequestID  string
	CreatedAt  time.Time
	PrevHash   string
	Hash       string
}

func (auditRecord) TableName() string { return "audit_logs" }

func (r *auditRecord) toApp() *app.AuditEntry {
	e := &app.AuditEntry{ID: r.ID, Action: r.Action, TargetType: r.TargetType, TargetID: r.TargetID,
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID, CreatedAt: r.CreatedAt.UTC(),
		ActorEmail: r.ActorEmail, ActorName: r.ActorName, PrevHash: r.PrevHash, Hash: r.Hash}
	if r.WorkspaceID != nil {
		e.WorkspaceID = *r.WorkspaceID
	}
	if r.ActorUserID != nil {
		e.ActorID = *r.ActorUserID
	}
	if r.Metadata != "" && r.Metadata != "{}" {
		_ = json.Unmarshal([]byte(r.Metadata), &e.Metadata)
	}
	return e
}

// scanAudit reads one row of auditColumns.
func scanAudit(rows scanner, r *auditRecord) error {
	return scanRow(rows, &r.ID, &r.WorkspaceID, &r.ActorUserID, &r.ActorEmail, &r.ActorName, &r.Action, &r.TargetType,
		&r.TargetID, &r.Metadata, &r.IP, &r.UserAgent, &r.RequestID, &r.CreatedAt, &r.PrevHash, &r.Hash)
}

// audit writes an entry inside tx, filling the request's IP, user agent and
// id from ctx, and the actor from the signed-in principal unless set. Every
// service that changes something calls it in the same transaction, so the
// log and the change commit or roll back together. The action must be in
// app's catalog.
func (db *DB) audit(ctx context.Context, tx *gorm.DB, e app.AuditEntry) error {
	if err := app.CheckAuditAction(e.Action); err != nil {
		return err
	}
	meta := app.RequestMetaFromContext(ctx)
	p := app.PrincipalFromContext(ctx)
	if e.ActorID == 0 && p != nil {
		e.ActorID = p.User.ID
	}
	if e.ActorID != 0 && e.ActorEmail == "" {
		if p != nil && p.User.ID == e.ActorID {
			e.ActorEmail, e.ActorName = p.User.Email, p.User.Name
		} else if u, err := scanUser(db.queryRow(ctx, tx, qUserByID, e.ActorID)); err == nil {
			e.ActorEmail, e.ActorName = u.Email, u.Name
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("audit %s: find actor: %w", e.Action, err)
		}
	}
	if k := app.APIKeyFromContext(ctx); k != nil {
		e = e.ByAPIKey(k)
	}
	if imp := app.ImpersonationFromContext(ctx); imp != nil && e.ActorID == imp.Target.ID {
		// A change made while staff view as the user: the staff member
		// made it, "as" the user (admin_impersonation.go).
		e = impersonatedEntry(imp, e)
	}
	md := "{}"
	if len(e.Metadata) > 0 {
		b, err := json.Marshal(e.Metadata)
		if err != nil {
			return fmt.Errorf("audit %s: encode metadata: %w", e.Action, err)
		}
		md = string(b)
	}
	r := auditRecord{
		WorkspaceID: optionalID(e.WorkspaceID),
		ActorUserID: optionalID(e.ActorID),
		ActorEmail:  e.ActorEmail,
		ActorName:   e.ActorName,
		Action:      e.Action,
		TargetType:  e.TargetType,
		TargetID:    e.TargetID,
		Metadata:    md,
		IP:          app.SanitizeHeader(meta.IP, 64),
		UserAgent:   app.SanitizeHeader(meta.UserAgent, app.MaxUserAgentLength),
		RequestID:   meta.RequestID,
		CreatedAt:   db.now(),
	}
	return db.appendAudit(ctx, tx, &r)
}

// appendAudit links r to the head of its chain and writes it: the chain's
// head row is locked and read (created the first time) by one statement,
// so concurrent appends to one chain on Postgres wait for each other and
// never fork; SQLite's write transactions already run one at a time.
func (db *DB) appendAudit(ctx context.Context, tx *gorm.DB, r *auditRecord) error {
	if err := app.CheckAuditAction(r.Action); err != nil {
		return err
	}
	a, _ := app.LookupAuditAction(r.Action)
	r.Family = string(a.Family)
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Microsecond)
	chain := int64(0)
	if r.WorkspaceID != nil {
		chain = *r.WorkspaceID
	}
	if err := db.queryRow(ctx, tx, qAuditHead, chain).Scan(&r.PrevHash); err != nil {
		return fmt.Errorf("audit %s: read the chain head: %w", r.Action, err)
	}
	r.Hash = app.AuditHash(r.PrevHash, r.toApp())
	if err := tx.Create(r).Error; err != nil {
		return fmt.Errorf("audit %s: %w", r.Action, err)
	}
	if err := tx.Exec("UPDATE audit_chains SET head_id = ?, head_hash = ? WHERE workspace_id = ?", r.ID, r.Hash, chain).Error; err != nil {
		return fmt.Errorf("audit %s: move the chain head: %w", r.Action, err)
	}
	if r.WorkspaceID != nil && r.ActorUserID != nil {
		if err := tx.Exec(upsertAuditActor, *r.WorkspaceID, *r.ActorUserID, r.ActorEmail, r.ActorName).Error; err != nil {
			return fmt.Errorf("audit %s: record the actor: %w", r.Action, err)
		}
	}
	// A public action is an event: its webhook deliveries commit with it.
	if err := db.queueWebhookEvent(ctx, tx, r); err != nil {
		return fmt.Errorf("audit %s: %w", r.Action, err)
	}
	return nil
}

// upsertAuditActor records who acted in a workspace (the person filter's
// choices), writing only when they are new or their email or name changed.
const upsertAuditActor = `INSERT INTO audit_actors (workspace_id, user_id, email, name) VALUES (?, ?, ?, ?)
	ON CONFLICT (workspace_id, user_id) DO UPDATE SET email = excluded.email, name = excluded.name
	WHERE audit_actors.email <> excluded.email OR audit_actors.name <> excluded.name`

// AuditService implements app.AuditService.
type AuditService struct {
	db *DB
	// operator reads a workspace's log by AuditFilter.Scope's workspace
	// alone, without checking who reads it.
	operator bool
}

// NewAuditService returns the audit service of db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

// NewOperatorAuditService returns an audit service for the operator's
// commands, run by whoever holds the database: AuditFilter.Scope names the
// workspace whose entries are read, and neither user nor key is checked.
// The server never uses it.
func NewOperatorAuditService(db *DB) *AuditService { return &AuditService{db: db, operator: true} }

var _ app.AuditService = (*AuditService)(nil)

// FindAuditEntries returns entries matching f, newest first (at most 50
// unless f.Limit says otherwise, and never more than 500). Each filter
// combination of a workspace is a hot query (queries.go) read from an index
// in order; with f.After the index is read upwards from the cursor and the
// rows reversed.
func (s *AuditService) FindAuditEntries(ctx context.Context, f app.AuditFilter) ([]*app.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	// A first page read before is returned again while the chain's mark
	// stays: one primary-key read instead of the page's rows.
	key, first := firstPageKey(f, s.operator, limit)
	var mark auditMark
	if first {
		var err error
		if mark, err = s.db.auditMarkOf(ctx, f.Scope); err != nil {
			return nil, err
		}
		if e, ok := s.db.pages.get(key); ok && e.mark == mark && mark.head != 0 {
			return cloneEntries(e.entries), nil
		}
	}
	out := make([]*app.AuditEntry, 0, limit)
	err := s.db.readAudit(ctx, f, s.operator, limit, func(e *app.AuditEntry) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if first && mark.head != 0 {
		copies := make([]app.AuditEntry, len(out))
		for i, e := range out {
			copies[i] = *e
		}
		s.db.pages.put(key, auditPageEntry{mark: mark, entries: copies}, auditPagesCacheSize)
	}
	if f.Before.ID == 0 && f.After.ID != 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// readAudit runs the catalogued query of f with limit and calls fn with
// each row as it is read; for the operator, a workspace's query without
// the scope clause.
func (db *DB) readAudit(ctx context.Context, f app.AuditFilter, operator bool, limit int, fn func(*app.AuditEntry) error) error {
	mask, args := 0, make([]any, 0, 11)
	add := func(bit int, on bool, vals ...any) {
		if on {
			mask, args = mask|bit, append(args, vals...)
		}
	}
	family := ""
	if f.Action == "" {
		family = string(f.Family)
	}
	if operator {
		add(auditByWorkspace|auditOperator, f.Scope.WorkspaceID != 0, f.Scope.WorkspaceID)
	} else {
		add(auditByWorkspace, f.Scope != (app.Scope{}), withScope(f.Scope, []any{f.Scope.WorkspaceID})...)
	}
	add(auditByActor, f.ActorID != 0, f.ActorID)
	add(auditByAction, f.Action != "", f.Action)
	add(auditByFamily, family != "", family)
	add(auditFrom, !f.From.IsZero(), f.From.UTC())
	add(auditTo, !f.To.IsZero(), f.To.UTC())
	add(auditBefore, f.Before.ID != 0, f.Before.CreatedAt.UTC(), f.Before.ID)
	add(auditAfter, f.Before.ID == 0 && f.After.ID != 0, f.After.CreatedAt.UTC(), f.After.ID)
	args = append(args, limit)
	// Columns are scanned straight into the records, without GORM's
	// reflection (a third of the audit page's time); a workspace's
	// queries (the audit page, the dashboard's feed) are hot.
	var name string
	switch {
	case mask&auditOperator != 0:
		name = auditOperatorQueryName((mask &^ auditOperator) >> 1)
	case mask&auditByWorkspace != 0:
		name = auditQueryName(mask >> 1)
	default:
		name = auditAllQueryName(mask >> 1)
	}
	rows, err := db.query(ctx, nil, name, args...)
	if err != nil {
		return fmt.Errorf("find audit entries: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var r auditRecord
		if err := scanAudit(rows, &r); err != nil {
			return fmt.Errorf("read audit entry: %w", err)
		}
		if err := fn(r.toApp()); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find audit entries: %w", err)
	}
	return nil
}

// FindAuditEntry returns entry id of a workspace, or ENOTFOUND (also for
// an entry of another workspace).
func (s *AuditService) FindAuditEntry(ctx context.Context, sc app.Scope, id int64) (*app.AuditEntry, error) {
	var r auditRecord
	err := scanAudit(s.db.queryRow(ctx, nil, qAuditEntry, withScope(sc, []any{id, sc.WorkspaceID})...), &r)
	if err == sql.ErrNoRows {
		return nil, app.Errorf(app.ENOTFOUND, "No such audit entry.")
	}
	if err != nil {
		return nil, fmt.Errorf("find audit entry %d: %w", id, err)
	}
	return r.toApp(), nil
}

// exportBatch is how many entries an export reads per query.
const exportBatch = 500

// ExportAuditEntries calls fn with every entry matching f, newest first, as
// they are read: batches of exportBatch through the same catalogued,
// indexed queries as the audit page, each starting below the last entry
// of the one before, so memory stays constant however long the log is and
// no transaction stays open.
func (s *AuditService) ExportAuditEntries(ctx context.Context, f app.AuditFilter, fn func(*app.AuditEntry) error) error {
	f.After = app.AuditCursor{}
	f.Before = app.AuditCursor{}
	for {
		n := 0
		var last *app.AuditEntry
		err := s.db.readAudit(ctx, f, s.operator, exportBatch, func(e *app.AuditEntry) error {
			n, last = n+1, e
			return fn(e)
		})
		if err != nil {
			return err
		}
		if n < exportBatch {
			return nil
		}
		f.Before = app.CursorOf(last)
	}
}

// RecordAuditExport writes the audit.exported entry of an export of a
// workspace's log (md names the format and the filter).
func (s *AuditService) RecordAuditExport(ctx context.Context, sc app.Scope, md map[string]any) error {
	workspaceID := sc.WorkspaceID
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if !s.operator {
			if _, err := s.db.lockScope(ctx, tx, sc); err != nil {
				return err
			}
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionAuditExported,
			TargetType: "workspace", TargetID: fmt.Sprint(workspaceID), Metadata: md})
	})
}

func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
