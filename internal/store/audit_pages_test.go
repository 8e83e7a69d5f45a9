package store_test

import (
	"context"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestAuditService_FirstPageKept: a first page read before costs one
// single-row statement while the chain stands still, and the next view on
// another instance sees an append, a prune, and a reader who has left.
func TestAuditService_FirstPageKept(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			tm := newSharedTeam(t, d, "grace@example.com", app.RoleAdmin)
			a, b, c, owner, grace, ws := tm.a, tm.b, tm.c, tm.owner, tm.mem, tm.ws
			onB := store.NewAuditService(b)
			page := func(who teamUser, f app.AuditFilter) []*app.AuditEntry {
				t.Helper()
				f.Scope = app.ScopeOf(who.ctx, ws.ID)
				entries, err := onB.FindAuditEntries(who.ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				return entries
			}
			actions := func(entries []*app.AuditEntry) []string {
				var out []string
				for _, e := range entries {
					out = append(out, e.Action)
				}
				return out
			}
			first := page(owner, app.AuditFilter{})
			if len(first) < 2 {
				t.Fatalf("first page %v, want the workspace's entries", actions(first))
			}
			n := b.Statements()
			again := page(owner, app.AuditFilter{})
			if got := b.Statements() - n; got != 1 {
				t.Errorf("an unchanged first page ran %d statements, want 1", got)
			}
			if len(again) != len(first) || again[0].ID != first[0].ID {
				t.Fatalf("kept page %v, want %v", actions(again), actions(first))
			}
			// What a caller does to its page does not reach the next one.
			again[0].Action = "changed.by.caller"
			if p := page(owner, app.AuditFilter{}); p[0].Action == "changed.by.caller" {
				t.Fatal("a caller's change to its entries reached the kept page")
			}
			// Filters are kept apart.
			invites := page(owner, app.AuditFilter{Action: app.ActionInviteSent})
			for _, e := range invites {
				if e.Action != app.ActionInviteSent {
					t.Fatalf("invite filter returned %s", e.Action)
				}
			}

			// An append on A is on B's next view.
			sendInvite(t, a, c, owner.ctx, ws.ID, "lin@example.com", app.RoleMember)
			if p := page(owner, app.AuditFilter{}); p[0].Action != app.ActionInviteSent || len(p) != len(first)+1 {
				t.Fatalf("after an invite on A, B shows %v", actions(p))
			}
			if p := page(owner, app.AuditFilter{Action: app.ActionInviteSent}); len(p) != len(invites)+1 {
				t.Fatalf("after an invite on A, B's invite filter shows %v", actions(p))
			}

			// A prune on A (everything up to now) is on B's next view.
			c.Add(48 * 3600 * 1e9)
			if _, err := a.PruneAudit(context.Background(), c.Now()); err != nil {
				t.Fatal(err)
			}
			for _, e := range page(owner, app.AuditFilter{}) {
				if e.ID <= first[0].ID {
					t.Fatalf("after a prune on A, B still shows entry %d (%s)", e.ID, e.Action)
				}
			}
			sendInvite(t, a, c, owner.ctx, ws.ID, "kim@example.com", app.RoleMember)
			if p := page(grace, app.AuditFilter{}); len(p) == 0 || p[0].Action != app.ActionInviteSent {
				t.Fatalf("grace sees %v, want the new invite first", actions(p))
			}
			// Grace leaves on A: B's next view of hers reads nothing,
			// though the page she read is still kept for the others.
			if err := store.NewMemberService(a).RemoveMember(owner.ctx, app.Scope{WorkspaceID: ws.ID, UserID: owner.ID}, grace.ID); err != nil {
				t.Fatal(err)
			}
			if p := page(grace, app.AuditFilter{}); len(p) != 0 {
				t.Fatalf("after leaving, grace still reads %v", actions(p))
			}
		})
	}
}
