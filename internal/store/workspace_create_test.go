package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestWorkspaceService_CreateWorkspace_Concurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ws := store.NewWorkspaceService(db)
		ws.MaxOwned = 20
		// Four people create five "Team" workspaces each, all at once.
		var users []teamUser
		for i := range 4 {
			users = append(users, signUpMember(t, db, c, fmt.Sprintf("u%d@example.com", i)))
		}
		var mu sync.Mutex
		var errs []error
		slugs := map[string]bool{}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				w, err := ws.CreateWorkspace(users[i%4].ctx, "Team", "")
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				slugs[w.Slug] = true
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d of 20 parallel creates failed, first: %v", len(errs), errs[0])
		}
		if len(slugs) != 20 || !slugs["team"] || !slugs["team-2"] || !slugs["team-20"] {
			t.Fatalf("slugs=%v, want team and team-2 … team-20", slugs)
		}
	})
}

func TestWorkspaceService_CreateWorkspace_NextSuffixInOneQuery(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ws := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		// Existing addresses: team, team-2 … team-300, a gap-free run, plus
		// names that only look alike.
		var b strings.Builder
		b.WriteString("INSERT INTO workspaces (name, slug, plan, created_at, updated_at) VALUES ")
		now := time.Now().UTC().Format("2006-01-02 15:04:05")
		add := func(slug string) { fmt.Fprintf(&b, "('Team', '%s', 'free', '%s', '%s'),", slug, now, now) }
		add("team")
		for n := 2; n <= 300; n++ {
			add(fmt.Sprintf("team-%d", n))
		}
		add("team-building")
		add("team-99x")
		add("teams-5000")
		add("team-1234567890")
		if _, err := db.SQL().ExecContext(context.Background(), strings.TrimSuffix(b.String(), ",")); err != nil {
			t.Fatal(err)
		}
		before := db.Statements()
		w, err := ws.CreateWorkspace(ada.ctx, "Team", "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := w.Slug, "team-301"; got != want {
			t.Fatalf("Slug=%q, want %q", got, want)
		}
		// Count, suffix search, insert, membership, audit (its chain head
		// read, the entry, the head moved, the actor recorded), and the locks
		// on Postgres: not one query per taken address.
		if n := db.Statements() - before; n > 11 {
			t.Fatalf("create ran %d statements, want at most 11", n)
		}
		// A typed address that is taken is refused, beside the slug field.
		_, err = ws.CreateWorkspace(ada.ctx, "Other", "team-7")
		if app.ErrorCode(err) != app.ECONFLICT || app.ErrorField(err) != "slug" {
			t.Fatalf("taken typed slug: %v (field %q), want a conflict about \"slug\"", err, app.ErrorField(err))
		}
	})
}

func TestWorkspaceService_CreateWorkspace_Cap(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ws := store.NewWorkspaceService(db)
		ws.MaxOwned = 3
		ada := signUpMember(t, db, c, "ada@example.com")
		for i := range 3 {
			if _, err := ws.CreateWorkspace(ada.ctx, fmt.Sprintf("Team %d", i), ""); err != nil {
				t.Fatal(err)
			}
		}
		_, err := ws.CreateWorkspace(ada.ctx, "One more", "")
		if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), "You own 3 workspaces") {
			t.Fatalf("fourth workspace: %v, want a conflict saying the cap", err)
		}
		list, _ := ws.FindWorkspacesByUser(context.Background(), ada.ID)
		if len(list) != 3 {
			t.Fatalf("%d workspaces, want 3", len(list))
		}
		// Membership by invitation does not count: only owned workspaces do.
		bob := signUpMember(t, db, c, "bob@example.com")
		addMember(t, db, c, ada.ctx, list[0].ID, bob, app.RoleAdmin)
		if _, err := ws.CreateWorkspace(bob.ctx, "Bob's", ""); err != nil {
			t.Fatalf("bob, who owns none: %v", err)
		}
	})
}
