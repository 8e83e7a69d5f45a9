package store_test

import (
	"context"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestWorkspaceService_FindMemberPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ada := signUpMember(t, db, newClock(db), "ada@example.com")
		ws := createWorkspace(t, db, ada, "Big")
		storetest.Bulk(t, db, storetest.Volume{WorkspaceID: ws.ID, Users: 120, Members: 120, Invites: 3})
		svc := store.NewMemberService(db)

		seen := map[int64]bool{}
		lastRank := -1
		rank := map[app.Role]int{app.RoleOwner: 0, app.RoleAdmin: 1, app.RoleMember: 2}
		for page := 1; ; page++ {
			p, err := svc.FindMemberPage(ctx, ownerScope(t, db, ws.ID), page)
			if err != nil {
				t.Fatal(err)
			}
			want := app.MembersPerPage
			if page == 3 {
				want = 21
			}
			if got := len(p.Members); got != want {
				t.Fatalf("page %d: %d members, want %d", page, got, want)
			}
			if got, want := p.HasNext, page < 3; got != want {
				t.Errorf("page %d: HasNext=%v, want %v", page, got, want)
			}
			if p.WorkspaceStats.Members != 121 || p.Owners != 1 || p.PendingInvites != 3 {
				t.Errorf("page %d: members=%d owners=%d pending=%d, want 121, 1, 3", page, p.WorkspaceStats.Members, p.Owners, p.PendingInvites)
			}
			if page == 1 && p.Members[0].UserID != ada.ID {
				t.Errorf("first member %s, want the owner first", p.Members[0].Email)
			}
			for _, m := range p.Members {
				if seen[m.UserID] {
					t.Errorf("page %d repeats %s", page, m.Email)
				}
				seen[m.UserID] = true
				if r := rank[m.Role]; r < lastRank {
					t.Errorf("page %d: %s (%s) after a lower role", page, m.Email, m.Role)
				} else {
					lastRank = r
				}
			}
			if !p.HasNext {
				break
			}
		}
		if got, want := len(seen), 121; got != want {
			t.Errorf("pages hold %d members, want %d", got, want)
		}
		past, err := svc.FindMemberPage(ctx, ownerScope(t, db, ws.ID), 9)
		if err != nil || len(past.Members) != 0 || past.HasNext {
			t.Errorf("page past the end = %+v, %v; want empty", past, err)
		}
	})
}

func TestAuditService_FindAuditEntries_Filters(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ada := signUpMember(t, db, newClock(db), "ada@example.com")
		ws := createWorkspace(t, db, ada, "Logged")
		// 600 entries one minute apart, by 10 members, over 5 actions.
		s := storetest.Bulk(t, db, storetest.Volume{WorkspaceID: ws.ID, Users: 10, Members: 10, AuditRows: 600})
		audit := store.NewAuditService(db)
		find := func(f app.AuditFilter) []*app.AuditEntry {
			t.Helper()
			f.Scope, f.Limit = ownerScope(t, db, ws.ID), 500
			es, err := audit.FindAuditEntries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return es
		}
		for name, tc := range map[string]struct {
			f    app.AuditFilter
			want int
		}{
			"Action":      {app.AuditFilter{Action: "invite.sent"}, 120},
			"Actor":       {app.AuditFilter{ActorID: s.UserID}, 60},
			"Range":       {app.AuditFilter{From: s.First.Add(100 * time.Minute), To: s.First.Add(200 * time.Minute)}, 100},
			"ActorAction": {app.AuditFilter{ActorID: s.UserID, Action: "invite.sent"}, 60},
			"ActionRange": {app.AuditFilter{Action: "invite.sent", From: s.First.Add(100 * time.Minute), To: s.First.Add(200 * time.Minute)}, 20},
		} {
			es := find(tc.f)
			if got := len(es); got != tc.want {
				t.Errorf("%s: %d entries, want %d", name, got, tc.want)
			}
			for _, e := range es {
				if (tc.f.Action != "" && e.Action != tc.f.Action) || (tc.f.ActorID != 0 && e.ActorID != tc.f.ActorID) ||
					(!tc.f.From.IsZero() && e.CreatedAt.Before(tc.f.From)) || (!tc.f.To.IsZero() && !e.CreatedAt.Before(tc.f.To)) {
					t.Errorf("%s: entry %+v does not match", name, e)
				}
			}
		}

		// Paging by cursor walks every entry once, newest first.
		var all []*app.AuditEntry
		f := app.AuditFilter{Scope: ownerScope(t, db, ws.ID), Limit: 50}
		for {
			page, err := audit.FindAuditEntries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			f.Before = app.CursorOf(page[len(page)-1])
		}
		if got, want := len(all), 601; got != want { // and the workspace's creation
			t.Fatalf("paged through %d entries, want %d", got, want)
		}
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			if b.CreatedAt.After(a.CreatedAt) || (b.CreatedAt.Equal(a.CreatedAt) && b.ID >= a.ID) {
				t.Fatalf("entry %d (%d at %v) follows %d at %v: not newest first", i, b.ID, b.CreatedAt, a.ID, a.CreatedAt)
			}
		}
	})
}

// TestWorkspace_MembersCount: the member count the pages read stays equal
// to the memberships through joining, removal, leaving, account deletion
// (a cascade) and workspace deletion.
func TestWorkspace_MembersCount(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ctx := context.Background()
		ada := signUpMember(t, db, c, "ada@example.com")
		bob := signUpMember(t, db, c, "bob@example.com")
		cat := signUpMember(t, db, c, "cat@example.com")
		dan := signUpMember(t, db, c, "dan@example.com")
		ws := createWorkspace(t, db, ada, "Counted")
		other := createWorkspace(t, db, bob, "Other")
		svc, users := store.NewWorkspaceService(db), store.NewUserService(db)
		live := []int64{ws.ID, other.ID}
		check := func(step string, want int) {
			t.Helper()
			for _, id := range live {
				stored := rowCount(t, db, "SELECT members_count FROM workspaces WHERE id = ?", id)
				real := rowCount(t, db, "SELECT COUNT(*) FROM memberships WHERE workspace_id = ?", id)
				if stored != real {
					t.Errorf("%s: workspace %d members_count=%d, %d memberships", step, id, stored, real)
				}
			}
			stats, err := svc.FindWorkspaceStats(ctx, ownerScope(t, db, ws.ID))
			if err != nil {
				t.Fatal(err)
			}
			if stats.Members != want {
				t.Errorf("%s: stats.Members=%d, want %d", step, stats.Members, want)
			}
		}
		check("created", 1)
		for _, u := range []teamUser{bob, cat, dan} {
			addMember(t, db, c, ada.ctx, ws.ID, u, app.RoleMember)
		}
		addMember(t, db, c, bob.ctx, other.ID, cat, app.RoleMember)
		check("joined", 4)
		if err := store.NewMemberService(db).RemoveMember(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), bob.ID); err != nil {
			t.Fatal(err)
		}
		check("removed", 3)
		if err := store.NewMemberService(db).LeaveWorkspace(dan.ctx, app.ScopeOf(dan.ctx, ws.ID)); err != nil {
			t.Fatal(err)
		}
		check("left", 2)
		if err := users.DeleteUser(cat.ctx); err != nil {
			t.Fatal(err)
		}
		check("account deleted", 1)
		if err := svc.DeleteWorkspace(bob.ctx, app.ScopeOf(bob.ctx, other.ID)); err != nil {
			t.Fatal(err)
		}
		live = live[:1]
		check("other workspace deleted", 1)
	})
}
