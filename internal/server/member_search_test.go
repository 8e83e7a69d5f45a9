package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/app"
	"atrium/internal/store/storetest"
)

// listedEmails returns the member rows' addresses on a members page.
func listedEmails(res *response) string {
	var out []string
	res.Doc.Find(`[data-testid="member-row"]`).Each(func(_ int, s *goquery.Selection) {
		e, _ := s.Attr("data-email")
		out = append(out, e)
	})
	return strings.Join(out, " ")
}

// TestMembers_Search checks the members page's search on both databases:
// a prefix of the email or the name, any case; LIKE's wildcards are
// literal; a search with no match says so and keeps the counts.
func TestMembers_Search(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("FREE_PLAN_SEATS", "10"))
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme Inc")
			for _, e := range []string{"ada@example.com", "alan@example.com", "bob@example.com"} {
				inviteAndJoin(t, a, owner, slug, e, "member")
			}
			bob := a.newBrowser(t)
			bob.signIn("bob@example.com")
			bob.Post("/settings/account", url.Values{"name": {"Zed Bobson"}, "time_zone": {"UTC"}})

			for _, tc := range []struct{ q, want string }{
				{"a", "ada@example.com alan@example.com"},
				{"AD", "ada@example.com"},
				{"zed", "bob@example.com"},
				{"%", ""},
				{"_da", ""},
			} {
				res := owner.Get("/w/" + slug + "/members?q=" + url.QueryEscape(tc.q))
				if res.StatusCode != http.StatusOK {
					t.Fatalf("q=%q: status %d", tc.q, res.StatusCode)
				}
				if got := listedEmails(res); got != tc.want {
					t.Errorf("q=%q lists %q, want %q", tc.q, got, tc.want)
				}
				if got, want := res.Doc.Find(`[data-testid="member-search-q"]`).AttrOr("value", ""), tc.q; got != want {
					t.Errorf("q=%q: search box holds %q", tc.q, got)
				}
			}
			res := owner.Get("/w/" + slug + "/members?q=nobody")
			if !res.Has("member-search-empty") {
				t.Error("a search with no match does not say so")
			}
			if got, want := res.Text("member-count"), "4 members"; got != want {
				t.Errorf("no match: member count=%q, want %q", got, want)
			}
		})
	}
}

// TestMembers_InviteStatus checks the pending invites' statuses and when
// the "will be retried" notice shows: not in stub mode, not for an expired
// invite.
func TestMembers_InviteStatus(t *testing.T) {
	t.Run("StubMode", func(t *testing.T) {
		a := newTestApp(t, "sqlite", withEnv("SMTP_HOST", ""))
		owner := a.newBrowser(t)
		owner.Post("/login", url.Values{"email": {"owner@example.com"}})
		owner.Follow(owner.Submit(owner.Get(stubLink(t, a, "owner@example.com", "/auth/verify?token=")), "verify-submit", nil))
		slug := createWorkspace(t, owner, "Acme Inc")
		owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {"new@example.com"}, "role": {"member"}})
		row := owner.Get("/w/" + slug + "/members").Doc.Find(inviteRowSel("new@example.com"))
		if got, want := row.Find(`[data-testid="invite-status"]`).AttrOr("data-status", ""), "pending"; got != want {
			t.Errorf("status=%q, want %q", got, want)
		}
		if row.Find(`[data-testid="invite-undelivered"]`).Length() != 0 {
			t.Errorf("stub mode shows a retry notice: %q", row.Find(`[data-testid="invite-undelivered"]`).Text())
		}
	})
	t.Run("Expired", func(t *testing.T) {
		a := newTestApp(t, "sqlite")
		owner := a.newBrowser(t)
		owner.signIn("owner@example.com")
		slug := createWorkspace(t, owner, "Acme Inc")
		owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {"late@example.com"}, "role": {"member"}})
		a.Clock.Add(app.InviteTTL + time.Hour)
		owner.Post("/logout", nil)
		owner.signIn("owner@example.com")
		row := owner.Get("/w/" + slug + "/members").Doc.Find(inviteRowSel("late@example.com"))
		if row.Find(`[data-testid="invite-expired"]`).Length() != 1 {
			t.Fatalf("expired invite not marked expired:\n%s", goquery.NewDocumentFromNode(row.Nodes[0]).Text())
		}
		if row.Find(`[data-testid="invite-undelivered"]`).Length() != 0 || row.Find(`[data-testid="invite-share-link"]`).Length() != 0 {
			t.Error("an expired invite shows a retry notice or a share link")
		}
		if row.Find(`[data-testid="invite-resend"]`).Length() != 1 {
			t.Error("an expired invite offers no Resend")
		}
	})
}
