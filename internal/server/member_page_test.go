package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/store/storetest"
)

// TestMembers_PendingInvitesForManagersOnly: a plain member sees how many
// invites are pending but not to whom; owners and admins see the list.
func TestMembers_PendingInvitesForManagersOnly(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("FREE_PLAN_SEATS", "10"))
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme Inc")
			admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
			member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
			res := owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {"pending.invitee@example.com"}, "role": {"member"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("invite: status %d", res.StatusCode)
			}

			page := member.Get("/w/" + slug + "/members")
			if strings.Contains(page.Body, "pending.invitee") {
				t.Error("a plain member's members page shows the invitee's address")
			}
			if page.Has("invite-row") {
				t.Error("a plain member's members page lists invites")
			}
			if got, want := page.Text("invites-count"), "1 pending invite"; got != want {
				t.Errorf("member sees %q, want %q", got, want)
			}
			for _, b := range []*browser{owner, admin} {
				page := b.Get("/w/" + slug + "/members")
				if got := page.Doc.Find(`[data-testid="invite-row"][data-email="pending.invitee@example.com"]`).Length(); got != 1 {
					t.Errorf("manager sees %d rows for the invitee, want 1", got)
				}
			}
		})
	}
}

// TestMembers_Paginated: a workspace of 121 members lists them 50 a page,
// owners first, with working Previous and Next links.
func TestMembers_Paginated(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Big Inc")
	storetest.Bulk(t, a.DB, storetest.Volume{WorkspaceID: workspaceID(t, a, slug, "owner@example.com"), Users: 120, Members: 120})

	page := owner.Get("/w/" + slug + "/members")
	rows := page.Doc.Find(`[data-testid="member-row"]`)
	if got, want := rows.Length(), 50; got != want {
		t.Fatalf("page 1: %d rows, want %d", got, want)
	}
	if got, want := page.Text("member-count"), "121 members"; got != want {
		t.Errorf("member count=%q, want %q", got, want)
	}
	if got, want := memberRole(page, "owner@example.com"), "Owner"; got != want {
		t.Errorf("page 1 owner role=%q, want %q (owners first)", got, want)
	}
	if page.Has("members-prev") {
		t.Error("page 1 links to a previous page")
	}
	seen := map[string]bool{}
	for p := 1; ; p++ {
		page.Doc.Find(`[data-testid="member-row"]`).Each(func(_ int, s *goquery.Selection) {
			email, _ := s.Attr("data-email")
			if seen[email] {
				t.Errorf("page %d repeats %s", p, email)
			}
			seen[email] = true
		})
		next, ok := page.Doc.Find(`[data-testid="members-next"]`).Attr("href")
		if !ok {
			break
		}
		page = owner.Get(next)
		if !page.Has("members-prev") {
			t.Errorf("page %d has no Previous link", p+1)
		}
	}
	if got, want := len(seen), 121; got != want {
		t.Errorf("pages list %d members, want %d", got, want)
	}
	if got, want := owner.Get("/w/"+slug+"/members?page=99").StatusCode, http.StatusSeeOther; got != want {
		t.Errorf("page past the end: status %d, want %d", got, want)
	}
}
