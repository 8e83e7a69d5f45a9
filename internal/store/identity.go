package store

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"atrium/internal/app"
)

// The identity cache. Every signed-in request needs who is asking: the
// session with its user, the workspace of the address with the user's
// membership, and the user's workspaces for the header's switcher. Each
// process keeps these in memory for recently active sessions and checks
// them on every request with one primary-key read of users.auth_version,
// which the database's triggers (migration 00017) move in the same
// transaction as any change to what is kept: a session ended, a second
// factor verified, the account edited, a membership added, removed or
// given another role, a workspace renamed or its plan or two-step rule
// changed. A change made by any process is therefore seen by the next
// request on every other one, and nothing kept is ever trusted without
// that read.
//
// Authenticate reads the version and puts it in the Principal; the
// workspace reads of the same request use what is kept only when it was
// kept at that version, so one request sees one state.

// identityCacheSize bounds the sessions kept per process (an entry is
// about 1–2 kB with its workspaces). Sessions beyond it are read from the
// database as before, the least recently used first dropped.
const identityCacheSize = 4096

// identityWorkspaces bounds the workspaces kept per session.
const identityWorkspaces = 16

// qAuthVersion reads a user's identity version.
const qAuthVersion = "auth_version"

// identityCache holds identities by session id, least recently used
// dropped first.
type identityCache struct {
	mu       sync.Mutex
	max      int
	sessions map[int64]*list.Element
	tokens   map[string]int64
	order    list.List
}

// identity is one session's kept state, valid at p.Version.
type identity struct {
	tokenHash  string
	p          app.Principal
	workspaces map[string]memberOf
	switcher   []app.UserWorkspace
	switched   bool
}

// memberOf is a workspace with the session's user's membership in it.
type memberOf struct {
	ws app.Workspace
	m  app.Membership
}

// size returns the number of sessions kept.
func (c *identityCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions)
}

// byToken returns the principal kept for a session's token hash.
func (c *identityCache) byToken(tokenHash string) (app.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.tokens[tokenHash]
	if !ok {
		return app.Principal{}, false
	}
	el := c.sessions[id]
	c.order.MoveToFront(el)
	return el.Value.(*identity).p, true
}

// put keeps p, read at p.Version, for its token hash, forgetting what was
// kept for the session before.
func (c *identityCache) put(tokenHash string, p app.Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessions == nil {
		c.sessions = make(map[int64]*list.Element)
		c.tokens = make(map[string]int64)
	}
	if el, ok := c.sessions[p.Session.ID]; ok {
		c.removeLocked(el)
	}
	max := c.max
	if max <= 0 {
		max = identityCacheSize
	}
	for len(c.sessions) >= max {
		c.removeLocked(c.order.Back())
	}
	c.sessions[p.Session.ID] = c.order.PushFront(&identity{tokenHash: tokenHash, p: p})
	c.tokens[tokenHash] = p.Session.ID
}

// drop forgets a token hash's session.
func (c *identityCache) drop(tokenHash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.tokens[tokenHash]; ok {
		c.removeLocked(c.sessions[id])
	}
}

func (c *identityCache) removeLocked(el *list.Element) {
	e := el.Value.(*identity)
	delete(c.sessions, e.p.Session.ID)
	delete(c.tokens, e.tokenHash)
	c.order.Remove(el)
}

// current returns the identity of the request's principal when it was
// kept at the version the request read; the caller holds c.mu.
func (c *identityCache) currentLocked(ctx context.Context, userID int64) *identity {
	p := app.PrincipalFromContext(ctx)
	if p == nil || p.Version == 0 || p.User.ID != userID {
		return nil
	}
	el, ok := c.sessions[p.Session.ID]
	if !ok {
		return nil
	}
	e := el.Value.(*identity)
	if e.p.Version != p.Version || e.p.User.ID != userID {
		return nil
	}
	return e
}

// workspace returns the kept workspace at slug and the membership in it.
func (c *identityCache) workspace(ctx context.Context, userID int64, slug string) (*app.Workspace, *app.Membership, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.currentLocked(ctx, userID)
	if e == nil {
		return nil, nil, false
	}
	mo, ok := e.workspaces[slug]
	if !ok {
		return nil, nil, false
	}
	ws, m := mo.ws, mo.m
	return &ws, &m, true
}

// putWorkspace keeps a workspace and membership read in this request.
func (c *identityCache) putWorkspace(ctx context.Context, userID int64, slug string, ws *app.Workspace, m *app.Membership) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.currentLocked(ctx, userID)
	if e == nil {
		return
	}
	if e.workspaces == nil || len(e.workspaces) >= identityWorkspaces {
		e.workspaces = make(map[string]memberOf, 2)
	}
	e.workspaces[slug] = memberOf{ws: *ws, m: *m}
}

// switcher returns the kept switcher list.
func (c *identityCache) switcher(ctx context.Context, userID int64) ([]*app.UserWorkspace, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.currentLocked(ctx, userID)
	if e == nil || !e.switched {
		return nil, false
	}
	out := make([]*app.UserWorkspace, len(e.switcher))
	for i := range e.switcher {
		uw := e.switcher[i]
		out[i] = &uw
	}
	return out, true
}

// putSwitcher keeps the switcher list read in this request.
func (c *identityCache) putSwitcher(ctx context.Context, userID int64, list []*app.UserWorkspace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.currentLocked(ctx, userID)
	if e == nil {
		return
	}
	e.switcher = make([]app.UserWorkspace, len(list))
	for i, uw := range list {
		e.switcher[i] = *uw
	}
	e.switched = true
}

// authVersion reads a user's identity version; sql.ErrNoRows when the
// user is gone.
func (db *DB) authVersion(ctx context.Context, userID int64) (int64, error) {
	var v int64
	err := db.queryRow(ctx, nil, qAuthVersion, userID).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read identity version: %w", err)
	}
	return v, err
}

// IdentitiesKept returns the number of sessions this process keeps in
// its identity cache (for tests: it never grows past its bound).
func (db *DB) IdentitiesKept() int { return db.identities.size() }

// SetIdentityCacheSize bounds the sessions kept (tests; 0 restores the
// default).
func (db *DB) SetIdentityCacheSize(n int) {
	db.identities.mu.Lock()
	defer db.identities.mu.Unlock()
	db.identities.max = n
}

// ForgetKept empties what this process keeps between requests (who is
// asking, the first pages of audit entries), as a restart would.
func (db *DB) ForgetKept() {
	db.identities.mu.Lock()
	db.identities.sessions, db.identities.tokens = nil, nil
	db.identities.order.Init()
	db.identities.mu.Unlock()
	db.pages.forget()
}
