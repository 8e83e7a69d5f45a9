package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"atrium/internal/app"
)

// auditPeopleCacheSize bounds the workspaces whose people lists are kept
// in memory (a list of 2,000 people is about 200 kB).
const auditPeopleCacheSize = 32

// kept is a map of what a process keeps between requests, emptied when it
// reaches its bound (whatever is dropped is read again).
type kept[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]V
}

func (c *kept[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries[k]
	return v, ok
}

func (c *kept[K, V]) put(k K, v V, bound int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= bound {
		c.entries = make(map[K]V, bound)
	}
	c.entries[k] = v
}

// forget empties c.
func (c *kept[K, V]) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
}

// auditPeopleCache keeps the audit page's people list of recently viewed
// workspaces with the head of the workspace's chain it was read at. Every
// append moves the head and keeps audit_actors in the same transaction,
// so while the head stays, the list stays; the head is read from the
// database on every view, so an append by another process is seen too.
type auditPeopleCache = kept[int64, auditPeopleEntry]

// auditPeopleEntry is one workspace's list and the head it was read at.
type auditPeopleEntry struct {
	head   int64
	people []app.AuditPerson
}

// FindAuditPeople returns everyone who has acted in a workspace, members
// and former members, by name (or email when they have none). Reading the
// list is most of the audit page's time in a large workspace, so a list
// read before is returned again while the chain's head has not moved: one
// single-row statement instead of a row per person.
func (s *AuditService) FindAuditPeople(ctx context.Context, sc app.Scope) ([]app.AuditPerson, error) {
	workspaceID := sc.WorkspaceID
	if e, ok := s.db.people.get(workspaceID); ok {
		head, err := s.db.auditHeadID(ctx, sc)
		if err != nil {
			return nil, err
		}
		if head == e.head {
			return slices.Clone(e.people), nil
		}
	}
	rows, err := s.db.query(ctx, nil, qAuditPeople, withScope(sc, []any{workspaceID, workspaceID})...)
	if err != nil {
		return nil, fmt.Errorf("find audit people: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var (
		out  []app.AuditPerson
		head int64
	)
	for rows.Next() {
		var p app.AuditPerson
		if err := rows.Scan(&p.UserID, &p.Email, &p.Name, &head); err != nil {
			return nil, fmt.Errorf("find audit people: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find audit people: %w", err)
	}
	if head != 0 {
		s.db.people.put(workspaceID, auditPeopleEntry{head: head, people: slices.Clone(out)}, auditPeopleCacheSize)
	}
	return out, nil
}

// auditHeadID returns the id of the newest entry of a workspace's chain
// (0 before its first, and out of scope).
func (db *DB) auditHeadID(ctx context.Context, sc app.Scope) (int64, error) {
	m, err := db.auditMarkOf(ctx, sc)
	return m.head, err
}

// auditMark is where a workspace's chain stands: its newest entry and the
// last entry pruned. Every append moves the head and every prune the
// other, so while the mark stays, what was read from the chain stays.
type auditMark struct{ head, pruned int64 }

// auditMarkOf reads a workspace's mark in one primary-key read; the zero
// mark before its first entry, and out of scope.
func (db *DB) auditMarkOf(ctx context.Context, sc app.Scope) (auditMark, error) {
	rows, err := db.query(ctx, nil, qAuditHeadID, withScope(sc, []any{sc.WorkspaceID})...)
	if err != nil {
		return auditMark{}, fmt.Errorf("read the audit head: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var m auditMark
	if rows.Next() {
		if err := rows.Scan(&m.head, &m.pruned); err != nil {
			return auditMark{}, fmt.Errorf("read the audit head: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return auditMark{}, fmt.Errorf("read the audit head: %w", err)
	}
	return m, nil
}

// FindAuditActorByEmail returns the id of the user with email among those
// who have acted in the workspace, or ENOTFOUND, in one statement on
// audit_actors whatever the address.
func (s *AuditService) FindAuditActorByEmail(ctx context.Context, sc app.Scope, email string) (int64, error) {
	rows, err := s.db.query(ctx, nil, qAuditActor, withScope(sc, []any{sc.WorkspaceID}, email)...)
	if err != nil {
		return 0, fmt.Errorf("find audit actor: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var id int64
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return 0, fmt.Errorf("find audit actor: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find audit actor: %w", err)
	}
	if id == 0 {
		return 0, app.Errorf(app.ENOTFOUND, "Nobody with that email has acted in this workspace.")
	}
	return id, nil
}

// auditPagesCacheSize bounds the first pages of entries kept in memory
// (a page of 50 entries is about 25 kB).
const auditPagesCacheSize = 256

// auditPageKey is a workspace's filter for the first page of entries.
type auditPageKey struct {
	workspaceID      int64
	actorID          int64
	action, family   string
	fromUnix, toUnix int64
	limit            int
}

// auditPageEntry is a first page and the mark it was read at.
type auditPageEntry struct {
	mark    auditMark
	entries []app.AuditEntry
}

// auditPagesCache keeps the first page of entries of recently read
// filters (the audit page, the dashboard's recent activity) with the mark
// of the chain they were read at. The mark is read on every view, so an
// append or prune by any process is seen by the next view.
type auditPagesCache = kept[auditPageKey, auditPageEntry]

// firstPageKey returns the key of f when it asks for a workspace's first
// page as a member (or key) sees it.
func firstPageKey(f app.AuditFilter, operator bool, limit int) (auditPageKey, bool) {
	if operator || f.Scope.WorkspaceID == 0 || f.Before.ID != 0 || f.After.ID != 0 {
		return auditPageKey{}, false
	}
	k := auditPageKey{workspaceID: f.Scope.WorkspaceID, actorID: f.ActorID, action: f.Action,
		family: string(f.Family), limit: limit}
	if !f.From.IsZero() {
		k.fromUnix = f.From.UnixNano()
	}
	if !f.To.IsZero() {
		k.toUnix = f.To.UnixNano()
	}
	return k, true
}

// clone returns copies of entries, so callers never share what is kept.
func cloneEntries(entries []app.AuditEntry) []*app.AuditEntry {
	out := make([]*app.AuditEntry, len(entries))
	for i := range entries {
		e := entries[i]
		e.Metadata = maps.Clone(e.Metadata)
		out[i] = &e
	}
	return out
}
