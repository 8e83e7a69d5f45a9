package store

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"atrium/internal/app"
)

// auditPeopleCacheSize bounds the workspaces whose people lists are kept
// in memory (a list of 2,000 people is about 200 kB).
const auditPeopleCacheSize = 32

// auditPeopleCache keeps the audit page's people list of recently viewed
// workspaces with the head of the workspace's chain it was read at. Every
// append moves the head and keeps audit_actors in the same transaction,
// so while the head stays, the list stays; the head is read from the
// database on every view, so an append by another process is seen too.
type auditPeopleCache struct {
	mu      sync.Mutex
	entries map[int64]auditPeopleEntry
}

// auditPeopleEntry is one workspace's list and the head it was read at.
type auditPeopleEntry struct {
	head   int64
	people []app.AuditPerson
}

func (c *auditPeopleCache) get(workspaceID int64) (auditPeopleEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[workspaceID]
	return e, ok
}

func (c *auditPeopleCache) put(workspaceID int64, e auditPeopleEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= auditPeopleCacheSize {
		c.entries = make(map[int64]auditPeopleEntry, auditPeopleCacheSize)
	}
	c.entries[workspaceID] = e
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
		s.db.people.put(workspaceID, auditPeopleEntry{head: head, people: slices.Clone(out)})
	}
	return out, nil
}

// auditHeadID returns the id of the newest entry of a workspace's chain
// (0 before its first, and out of scope).
func (db *DB) auditHeadID(ctx context.Context, sc app.Scope) (int64, error) {
	rows, err := db.query(ctx, nil, qAuditHeadID, withScope(sc, []any{sc.WorkspaceID})...)
	if err != nil {
		return 0, fmt.Errorf("read the audit head: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var head int64
	if rows.Next() {
		if err := rows.Scan(&head); err != nil {
			return 0, fmt.Errorf("read the audit head: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read the audit head: %w", err)
	}
	return head, nil
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
