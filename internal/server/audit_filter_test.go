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
	summary := func(r *goquery.Selection) string {
		return strings.Join(strings.Fields(r.Find(`[data-testid="audit-summary"]`).Text()), " ")
	}

	t.Run("Action", func(t *testing.T) {
		page := owner.Get(base + "?action=invite.sent")
		if got, want := rows(page).Length(), 50; got != want {
			t.Fatalf("rows=%d, want %d", got, want)
		}
		rows(page).Each(func(_ int, r *goquery.Selection) {
			if got := summary(r); !strings.Contains(got, " invited x@example.com as Member") {
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
			if got, _ := r.Find(`[data-testid="audit-actor-name"]`).Attr("title"); got != s.Email {
				t.Errorf("actor filter shows %q, want %q", got, s.Email)
			}
		})
		if got, _ := page.Doc.Find(`[data-testid="audit-actor"] option[selected]`).Attr("value"); got != itoa(int(s.UserID)) {
			t.Errorf("person field=%q, want %d", got, s.UserID)
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
			if got, _ := r.Find(`[data-testid="audit-when"]`).Attr("title"); !strings.HasPrefix(got, want) {
				t.Errorf("date filter shows %q, want %s", got, want)
			}
		})
	})

	t.Run("Family", func(t *testing.T) {
		page := owner.Get(base + "?family=member")
		if got, want := rows(page).Length(), 50; got != want {
			t.Fatalf("rows=%d, want %d", got, want)
		}
		rows(page).Each(func(_ int, r *goquery.Selection) {
			if got := summary(r); !strings.Contains(got, "changed x@example.com's role") && !strings.Contains(got, "removed x@example.com") {
				t.Errorf("member family shows %q", got)
			}
		})
	})

	// Older, then Newer, comes back to the same first page: the cursors
	// are stable both ways and keep the filter.
	t.Run("PagingBothWays", func(t *testing.T) {
		first := owner.Get(base + "?action=invite.sent")
		if first.Has("audit-newer") {
			t.Error("the first page offers newer entries")
		}
		older, _ := first.Doc.Find(`[data-testid="audit-older"]`).Attr("href")
		second := owner.Get(base + older)
		newer, ok := second.Doc.Find(`[data-testid="audit-newer"]`).Attr("href")
		if !ok || !strings.Contains(newer, "action=invite.sent") {
			t.Fatalf("second page newer link=%q", newer)
		}
		back := owner.Get(base + newer)
		ids := func(p *response) string {
			var out []string
			rows(p).Each(func(_ int, r *goquery.Selection) { v, _ := r.Attr("data-entry-id"); out = append(out, v) })
			return strings.Join(out, ",")
		}
		if got, want := ids(back), ids(first); got != want {
			t.Errorf("newer from page 2 = %s\nwant the first page %s", got, want)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		page := owner.Get(base + "?from=2001-01-01&to=2001-01-02")
		if rows(page).Length() != 0 || !page.Has("audit-empty-clear") {
			t.Errorf("no matches: %d rows, clear link %v", rows(page).Length(), page.Has("audit-empty-clear"))
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for query, field := range map[string]string{
			"?from=yesterday": "from", "?to=2026-13-01": "to", "?actor=abc": "actor", "?action=drop.tables": "action",
			"?from=2026-02-02&to=2026-02-01": "to", "?family=nope": "family",
		} {
			page := owner.Get(base + query)
			if got, want := page.StatusCode, http.StatusUnprocessableEntity; got != want {
				t.Errorf("%s: status %d, want %d", query, got, want)
			}
			if !page.Has("audit-error-" + field) {
				t.Errorf("%s: no error beside %s", query, field)
			}
		}
		// A bad date: its error sits under its own field, which points to
		// it; the other filters keep their values; no "No matching
		// entries" beside the error.
		page := owner.Get(base + "?from=2026-13-01&family=member")
		from := page.Doc.Find(`[data-testid="audit-from"]`)
		if got, want := from.Closest(".filter-field").Find(`[data-testid="audit-error-from"]`).Length(), 1; got != want {
			t.Errorf("errors under the From field: %d, want %d", got, want)
		}
		if got, want := page.Text("audit-error-from"), "Choose a date from the calendar."; got != want {
			t.Errorf("from error %q, want %q", got, want)
		}
		if got, _ := from.Attr("aria-describedby"); got != "audit-from-error" {
			t.Errorf("From aria-describedby=%q, want audit-from-error", got)
		}
		if got, _ := page.Doc.Find(`[data-testid="audit-family"] option[selected]`).Attr("value"); got != "member" {
			t.Errorf("Kind after the error is %q, want member kept", got)
		}
		if page.Has("audit-empty-clear") || strings.Contains(page.Body, "No matching entries") {
			t.Error("an empty-result box is shown beside the error")
		}
	})
}

// TestAudit_ManyPeopleFilterByEmail: where more people have acted than a
// list can offer, the person filter is an email field (the page does not
// carry a list of every person), it filters, a link that names a person
// by id shows their address in it, and an unknown address finds nothing.
func TestAudit_ManyPeopleFilterByEmail(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	s := storetest.Bulk(t, a.DB, storetest.Volume{WorkspaceID: workspaceID(t, a, slug, "owner@example.com"),
		Users: 150, Members: 150, AuditRows: 600})
	base := "/w/" + slug + "/audit"
	page := owner.Get(base)
	if n := page.Doc.Find(`[data-testid="audit-actor"] option`).Length(); n != 0 {
		t.Errorf("the filter lists %d people, want an email field instead", n)
	}
	field := page.Doc.Find(`input[data-testid="audit-actor-email"]`)
	if name, _ := field.Attr("name"); name != "actor_email" || field.AttrOr("type", "") != "email" {
		t.Fatalf("person field name=%q type=%q, want an email field named actor_email", name, field.AttrOr("type", ""))
	}
	if label := page.Doc.Find(`label[for="audit-actor"]`).Text(); label != "Person's email" {
		t.Errorf("label %q", label)
	}
	byEmail := owner.Get(base + "?actor_email=" + s.Email)
	rows := byEmail.Doc.Find(`[data-testid="audit-row"]`)
	if rows.Length() == 0 {
		t.Fatal("no rows for the person's email")
	}
	rows.Each(func(_ int, r *goquery.Selection) {
		if got, _ := r.Find(`[data-testid="audit-actor-name"]`).Attr("title"); got != s.Email {
			t.Errorf("email filter shows %q, want %q", got, s.Email)
		}
	})
	if got, _ := byEmail.Doc.Find(`[data-testid="audit-actor-email"]`).Attr("value"); got != s.Email {
		t.Errorf("the field keeps %q, want %q", got, s.Email)
	}
	byID := owner.Get(base + "?actor=" + itoa(int(s.UserID)))
	if got, _ := byID.Doc.Find(`[data-testid="audit-actor-email"]`).Attr("value"); got != s.Email {
		t.Errorf("a link by id shows %q in the field, want %q", got, s.Email)
	}
	if byID.Doc.Find(`[data-testid="audit-row"]`).Length() != rows.Length() {
		t.Error("by id and by email differ")
	}
	nobody := owner.Get(base + "?actor_email=nobody@example.com")
	if nobody.StatusCode != http.StatusOK || nobody.Doc.Find(`[data-testid="audit-row"]`).Length() != 0 {
		t.Errorf("unknown address: status %d; want 200 and no rows", nobody.StatusCode)
	}
	bad := owner.Get(base + "?actor_email=%FF%FE")
	if bad.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("invalid address: status %d, want 422", bad.StatusCode)
	}
}
