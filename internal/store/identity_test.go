package store_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// twoInstances opens two stores on one fresh database, as two servers
// behind a load balancer share it.
func twoInstances(t *testing.T, dialect string) (a, b *store.DB) {
	t.Helper()
	driver, dsn := storetest.DSN(t, dialect)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), driver, dsn, store.Options{MaxOpenConns: 8, MaxIdleConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	a = open()
	if _, err := a.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a, open()
}

// sharedTeam is an owner's workspace Acme with one member, on two
// instances of one database sharing a clock; everything is written on a.
type sharedTeam struct {
	a, b       *store.DB
	c          *clock
	owner, mem teamUser
	ws         *app.Workspace
}

// newSharedTeam opens two instances and signs up owner@example.com with
// Acme and the member memberEmail in it with role.
func newSharedTeam(t *testing.T, dialect, memberEmail string, role app.Role) sharedTeam {
	t.Helper()
	a, b := twoInstances(t, dialect)
	c := newClock(a)
	b.Now = c.Now
	owner := signUpMember(t, a, c, "owner@example.com")
	ws := createWorkspace(t, a, owner, "Acme")
	mem := signUpMember(t, a, c, memberEmail)
	addMember(t, a, c, owner.ctx, ws.ID, mem, role)
	return sharedTeam{a: a, b: b, c: c, owner: owner, mem: mem, ws: ws}
}

// seen is what a signed-in request of one session sees on an instance:
// the principal, the workspace at slug with its role, and the switcher.
type seen struct {
	err      error
	p        *app.Principal
	ws       *app.Workspace
	role     app.Role
	switcher []string
}

// look runs the reads of a signed-in workspace page on db, as the server
// does: authenticate, then the workspace and the switcher with the
// principal in the context.
func look(t *testing.T, db *store.DB, tokenHash, slug string) seen {
	t.Helper()
	ctx := context.Background()
	p, err := store.NewAuthService(db).Authenticate(ctx, tokenHash)
	if err != nil {
		return seen{err: err}
	}
	ctx = app.WithPrincipal(ctx, p)
	s := seen{p: p}
	ws := store.NewWorkspaceService(db)
	w, m, err := ws.FindWorkspaceForMember(ctx, slug, p.User.ID)
	if err == nil {
		s.ws, s.role = w, m.Role
	} else if app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("find workspace %q: %v", slug, err)
	}
	list, err := ws.FindSwitcher(ctx, p.User.ID)
	if err != nil {
		t.Fatalf("switcher: %v", err)
	}
	for _, uw := range list {
		s.switcher = append(s.switcher, fmt.Sprintf("%s:%s", uw.Name, uw.Role))
	}
	return s
}

// TestIdentityCache_ChangesSeenByOtherInstance changes, on instance A,
// everything instance B keeps about a signed-in member, and checks that
// B's very next request sees each change, with B warmed (its cache full
// of the old state) before every change.
func TestIdentityCache_ChangesSeenByOtherInstance(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			tm := newSharedTeam(t, d, "mem@example.com", app.RoleMember)
			a, b, c, owner, mem, ws := tm.a, tm.b, tm.c, tm.owner, tm.mem, tm.ws
			other := createWorkspace(t, a, owner, "Beta")
			addMember(t, a, c, owner.ctx, other.ID, mem, app.RoleAdmin)
			sc := app.Scope{WorkspaceID: ws.ID, UserID: owner.ID}
			slug := ws.Slug

			warm := func(what string) seen {
				t.Helper()
				first, second := look(t, b, mem.sessionHash, slug), look(t, b, mem.sessionHash, slug)
				if first.err != nil || second.err != nil {
					t.Fatalf("%s: warm: %v / %v", what, first.err, second.err)
				}
				return second
			}
			before := warm("start")
			if before.role != app.RoleMember || len(before.switcher) != 2 {
				t.Fatalf("start: role %q switcher %v", before.role, before.switcher)
			}
			// The cache is in use: a warm request reads one statement.
			n := b.Statements()
			look(t, b, mem.sessionHash, slug)
			if got := b.Statements() - n; got != 1 {
				t.Fatalf("a warm request ran %d statements, want 1 (the version read)", got)
			}

			members := store.NewMemberService(a)
			wss := store.NewWorkspaceService(a)
			steps := []struct {
				name   string
				change func() error
				check  func(s seen) error
			}{
				{"role changed", func() error { return members.ChangeMemberRole(owner.ctx, sc, mem.ID, app.RoleAdmin) },
					func(s seen) error {
						if s.role != app.RoleAdmin {
							return fmt.Errorf("role %q, want admin", s.role)
						}
						return nil
					}},
				{"workspace renamed", func() error {
					name := "Acme Two"
					_, err := wss.UpdateWorkspace(owner.ctx, sc, app.WorkspaceUpdate{Name: &name})
					return err
				}, func(s seen) error {
					if s.ws == nil || s.ws.Name != "Acme Two" || s.switcher[0] != "Acme Two:admin" {
						return fmt.Errorf("workspace %+v switcher %v", s.ws, s.switcher)
					}
					return nil
				}},
				{"two-step rule on (by any code)", func() error {
					_, err := a.SQL().ExecContext(context.Background(),
						a.Rebind("UPDATE workspaces SET require_two_factor = ? WHERE id = ?"), true, ws.ID)
					return err
				},
					func(s seen) error {
						if s.ws == nil || !s.ws.RequireTwoFactor {
							return fmt.Errorf("workspace %+v still without the two-step rule", s.ws)
						}
						return nil
					}},
				{"account renamed", func() error {
					name := "Mem Ber"
					_, err := store.NewUserService(a).UpdateUser(mem.ctx, app.UserUpdate{Name: &name})
					return err
				}, func(s seen) error {
					if s.p.User.Name != "Mem Ber" {
						return fmt.Errorf("name %q", s.p.User.Name)
					}
					return nil
				}},
				{"removed from the other workspace", func() error {
					return members.RemoveMember(owner.ctx, app.Scope{WorkspaceID: other.ID, UserID: owner.ID}, mem.ID)
				}, func(s seen) error {
					if len(s.switcher) != 1 {
						return fmt.Errorf("switcher %v still lists the workspace left", s.switcher)
					}
					return nil
				}},
				{"removed", func() error { return members.RemoveMember(owner.ctx, sc, mem.ID) },
					func(s seen) error {
						if s.ws != nil || len(s.switcher) != 0 {
							return fmt.Errorf("still sees workspace %+v, switcher %v", s.ws, s.switcher)
						}
						return nil
					}},
				{"signed out everywhere", func() error {
					_, err := store.NewAuthService(a).RevokeOtherSessions(context.Background(), mem.ID, 0)
					return err
				}, func(s seen) error {
					if app.ErrorCode(s.err) != app.EUNAUTHORIZED {
						return fmt.Errorf("session still works: %v", s.err)
					}
					return nil
				}},
			}
			for _, st := range steps {
				if st.name != steps[0].name {
					if s := look(t, b, mem.sessionHash, slug); s.err == nil {
						warm(st.name)
					}
				}
				if err := st.change(); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				// The next request on B, with nothing in between.
				if err := st.check(look(t, b, mem.sessionHash, slug)); err != nil {
					t.Fatalf("%s on A, then B's next request: %v", st.name, err)
				}
			}
		})
	}
}

// TestIdentityCache_RaceWithChange alternates a member's role on instance
// A while instance B serves requests in the same moment: each request
// that starts after a change has committed sees it.
func TestIdentityCache_RaceWithChange(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			tm := newSharedTeam(t, d, "mem@example.com", app.RoleMember)
			a, b, owner, mem, ws := tm.a, tm.b, tm.owner, tm.mem, tm.ws
			sc := app.Scope{WorkspaceID: ws.ID, UserID: owner.ID}
			members := store.NewMemberService(a)
			done := make(chan struct{})
			go func() {
				// B keeps serving the member meanwhile, filling its cache.
				defer close(done)
				for range 200 {
					look(t, b, mem.sessionHash, ws.Slug)
				}
			}()
			role := app.RoleMember
			for i := range 40 {
				role = map[app.Role]app.Role{app.RoleMember: app.RoleAdmin, app.RoleAdmin: app.RoleMember}[role]
				if err := members.ChangeMemberRole(owner.ctx, sc, mem.ID, role); err != nil {
					t.Fatal(err)
				}
				if s := look(t, b, mem.sessionHash, ws.Slug); s.role != role {
					t.Fatalf("change %d: B's next request sees %q, want %q", i, s.role, role)
				}
			}
			<-done
		})
	}
}

// TestIdentityCache_Bounded signs in more sessions than the cache holds:
// it keeps its bound, and every session still authenticates.
func TestIdentityCache_Bounded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		db.SetIdentityCacheSize(100)
		t.Cleanup(func() { db.SetIdentityCacheSize(0) })
		auth := store.NewAuthService(db)
		u := signUpMember(t, db, c, "many@example.com")
		var hashes []string
		for range 300 {
			_, h := app.NewToken()
			if _, err := db.SQL().ExecContext(context.Background(), db.Rebind(`INSERT INTO sessions
				(token_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
				h, u.ID, c.Now(), c.Now(), c.Now().Add(app.SessionTTL)); err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, h)
		}
		for round := range 2 {
			for i, h := range hashes {
				if _, err := auth.Authenticate(context.Background(), h); err != nil {
					t.Fatalf("round %d session %d: %v", round, i, err)
				}
				if n := db.IdentitiesKept(); n > 100 {
					t.Fatalf("%d sessions kept, bound is 100", n)
				}
			}
		}
	})
}

// TestIdentityCache_HundredThousandSessions signs in 100,000 sessions,
// each once, at the default bound: the cache holds no more than its bound
// and the heap does not grow with the sessions seen.
func TestIdentityCache_HundredThousandSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 100,000-session run")
	}
	db := storetest.Open(t, store.SQLite)
	s := storetest.Bulk(t, db, storetest.Volume{Users: 100_000})
	prefix := strings.TrimSuffix(s.SessionHash, "0")
	auth := store.NewAuthService(db)
	ctx := context.Background()
	var before, after runtime.MemStats
	for i := range 100_000 {
		if i == 10_000 {
			runtime.GC()
			runtime.ReadMemStats(&before)
		}
		if _, err := auth.Authenticate(ctx, prefix+strconv.Itoa(i)); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n, bound := db.IdentitiesKept(), store.IdentityCacheSize; n != bound {
		t.Errorf("%d sessions kept after 100,000 sign-ins, want the bound %d", n, bound)
	}
	// From the 10,000th session on the cache is full: 90,000 more must
	// not grow the heap by more than noise.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Errorf("the heap grew by %d MB over 90,000 more sessions", grew>>20)
	}
}
