package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/store/storetest"
)

// TestMembers_PageWeight: the members page of a workspace with 50 members
// and 60 pending invites, as its owner sees it (every row with its
// actions), stays under 60 KB: the rows' menus share one form per kind of
// action, the confirmations are rendered once, and the invites come ten a
// page. The shared forms still do what a row's button asks.
func TestMembers_PageWeight(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Big Inc")
			storetest.Bulk(t, a.DB, storetest.Volume{WorkspaceID: workspaceID(t, a, slug, "owner@example.com"), Users: 60, Members: 60, Invites: 60})

			page := owner.Get("/w/" + slug + "/members")
			rows := page.Doc.Find(`[data-testid="member-row"]`)
			if got, want := rows.Length(), 50; got != want {
				t.Fatalf("%d member rows, want %d", got, want)
			}
			t.Logf("members page: %d bytes", len(page.Body))
			if got, limit := len(page.Body), 60*1024; got >= limit {
				t.Errorf("members page of 50 members: %d bytes, want < %d", got, limit)
			}
			if got, max := page.Doc.Find("form").Length(), 30; got > max {
				t.Errorf("members page has %d forms, want at most %d", got, max)
			}
			if got := strings.Count(page.Body, "loses access to Big Inc"); got != 1 {
				t.Errorf("the removal's confirmation is on the page %d times, want once", got)
			}
			removable := rows.Find(`[data-testid="member-actions-button"][data-acts~="remove"]`).Length()
			if got, want := removable, 49; got != want {
				t.Errorf("%d rows offer Remove, want %d (all but the owner's own)", got, want)
			}

			// Invites: five a page, the next five on the next page.
			invites := func(p *response) []string {
				var emails []string
				p.Doc.Find(`[data-testid="invite-row"]`).Each(func(_ int, s *goquery.Selection) {
					e, _ := s.Attr("data-email")
					emails = append(emails, e)
				})
				return emails
			}
			first := invites(page)
			if len(first) != 5 || !page.Has("invites-next") || page.Has("invites-prev") {
				t.Fatalf("first page: %d invites, next %v, prev %v; want 5, a next link and no previous", len(first), page.Has("invites-next"), page.Has("invites-prev"))
			}
			href, _ := page.Doc.Find(`[data-testid="invites-next"]`).Attr("href")
			second := owner.Get(href)
			got := invites(second)
			if len(got) != 5 || got[0] == first[0] || !second.Has("invites-prev") {
				t.Errorf("second page of invites: %v (first %v)", got, first)
			}
			if got := len(invites(owner.Get("/w/" + slug + "/members?invites=x"))); got != 5 {
				t.Errorf("?invites=x: %d invites, want the first 5", got)
			}
			if last := owner.Get("/w/" + slug + "/members?invites=9999"); last.StatusCode != http.StatusOK || len(invites(last)) == 0 || last.Has("invites-next") {
				t.Errorf("?invites=9999: status %d, %d invites, next %v; want the last page", last.StatusCode, len(invites(last)), last.Has("invites-next"))
			}

			// Without scripts, a row's Actions lead to the member's page,
			// whose forms do the actions; another workspace's member is not
			// found there.
			email, _ := rows.Last().Attr("data-email")
			res := owner.submitWithin(page, memberRowSel(email), "member-make-admin", nil)
			if got, want := memberRole(owner.Follow(res), email), "Admin"; got != want {
				t.Errorf("after Make admin on the last row: role %q, want %q", got, want)
			}
			other := a.newBrowser(t)
			other.signIn("other@example.com")
			otherSlug := createWorkspace(t, other, "Other Inc")
			href, _ = rows.Last().Find(`[data-testid="member-actions-button"]`).Attr("href")
			if got, want := other.Get(strings.Replace(href, "/w/"+slug+"/", "/w/"+otherSlug+"/", 1)).StatusCode, http.StatusNotFound; got != want {
				t.Errorf("another workspace's member through Other Inc: status %d, want %d", got, want)
			}
			if got, want := owner.Get("/w/"+slug+"/members/abc").StatusCode, http.StatusNotFound; got != want {
				t.Errorf("/members/abc: status %d, want %d", got, want)
			}
		})
	}
}
