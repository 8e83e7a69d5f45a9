package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/store/storetest"
)

// TestAudit_Filters: the audit page filters by actor, action and an
// inclusive date range (the URL contract load tests rely on), keeps the
// filters on the "Older entries" link, and answers malformed values with
// a 422 that names the field, never a 500.
func TestAudit_Filters(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	// 3,000 entries, one a minute: about two days back from now.
	s := storetest.Bulk(t, a.DB, storetest.Volume{WorkspaceID: workspaceID(t, a, slug, "owner@example.com"),
		Users: 10, Members: 10, AuditRows: 3000})
	base := "/w/" + slug + "/audit"
	rows := func(page *response) *goquery.Selection { return page.Doc.Find(`[data-testid="audit-row"]`) }

	t.Run("Action", func(t *testing.T) {
		page := owner.Get(base + "?action=invite.sent")
		if got, want := rows(page).Length(), 50; got != want {
			t.Fatalf("rows=%d, want %d", got, want)
		}
		rows(page).Each(func(_ int, r *goquery.Selection) {
			if got := strings.TrimSpace(r.Find("code").Text()); got != "invite.sent" {
				t.Errorf("action filter shows %q", got)
			}
		})
		older, _ := page.Doc.Find(`[data-testid="audit-older"]`).Attr("href")
		if !strings.Contains(older, "action=invite.sent") {
			t.Errorf("older link %q drops the filter", older)
		}
		next := owner.Get(base + older)
		if got := rows(next).Length(); got != 50 {
			t.Errorf("older page rows=%d, want 50", got)
		}
		if rows(next).First().Text() == rows(page).First().Text() {
			t.Error("older page repeats the first page")
		}
	})

	t.Run("Actor", func(t *testing.T) {
		page := owner.Get(base + "?actor=" + itoa(int(s.UserID)))
		if rows(page).Length() == 0 {
			t.Fatal("no rows for the actor")
		}
		rows(page).Each(func(_ int, r *goquery.Selection) {
			if got := strings.TrimSpace(r.Find("td").Eq(1).Text()); got != s.Email {
				t.Errorf("actor filter shows %q, want %q", got, s.Email)
			}
		})
		if got, _ := page.Doc.Find(`[data-testid="audit-actor"]`).Attr("value"); got != s.Email {
			t.Errorf("actor field=%q, want %q", got, s.Email)
		}
		byEmail := owner.Get(base + "?actor_email=" + s.Email)
		if got, want := rows(byEmail).Length(), rows(page).Length(); got != want {
			t.Errorf("by email rows=%d, by id %d", got, want)
		}
		nobody := owner.Get(base + "?actor_email=nobody@example.com")
		if nobody.StatusCode != http.StatusOK || rows(nobody).Length() != 0 {
			t.Errorf("unknown address: status %d, %d rows; want 200 and none", nobody.StatusCode, rows(nobody).Length())
		}
	})

	t.Run("DateRange", func(t *testing.T) {
		day := s.Last.AddDate(0, 0, -1).Format(time.DateOnly)
		page := owner.Get(base + "?from=" + day + "&to=" + day)
		if got := rows(page).Length(); got != 50 {
			t.Fatalf("rows=%d, want 50", got)
		}
		want := s.Last.AddDate(0, 0, -1).Format("2 Jan 2006")
		rows(page).Each(func(_ int, r *goquery.Selection) {
			if got := r.Find("td").First().Text(); !strings.HasPrefix(got, want) {
				t.Errorf("date filter shows %q, want %s", got, want)
			}
		})
	})

	t.Run("Invalid", func(t *testing.T) {
		for query, field := range map[string]string{
			"?from=yesterday": "from", "?to=2026-13-01": "to", "?actor=abc": "actor", "?action=drop.tables": "action",
			"?from=2026-02-02&to=2026-02-01": "to",
		} {
			page := owner.Get(base + query)
			if got, want := page.StatusCode, http.StatusUnprocessableEntity; got != want {
				t.Errorf("%s: status %d, want %d", query, got, want)
			}
			if !page.Has("audit-error-" + field) {
				t.Errorf("%s: no error beside %s", query, field)
			}
		}
	})
}
