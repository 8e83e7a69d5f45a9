package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/app"
	"atrium/internal/i18n/i18ntest"
)

// TestI18n_Audit: the audit log, filtered or not, its empty and invalid
// states, the plan's history note, an entry's page and the dashboard's
// recent activity show no English in the pseudo-locale, entries of every
// family included; a German reader gets the summaries in German.
func TestI18n_Audit(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("FREE_PLAN_SEATS", "10"))
	owner := a.newBrowser(t).pseudo()
	owner.signIn("owner@example.com")
	if res := owner.Post("/settings/account", url.Values{"name": {"Olive Owner"}, "time_zone": {"UTC"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set the owner's name: status %d", res.StatusCode)
	}
	slug := createWorkspace(t, owner, "Acme Inc")
	wsID := workspaceID(t, a, slug, "owner@example.com")
	inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
	adminID := userIDOf(t, a, "admin@example.com")
	if res := owner.Post("/w/"+slug+"/members/"+itoa(int(adminID))+"/role", url.Values{"role": {"member"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change the admin's role: status %d", res.StatusCode)
	}
	if res := owner.Post("/w/"+slug+"/invites", url.Values{"email": {"grace@example.com"}, "role": {"member"}}); res.StatusCode >= 400 {
		t.Fatalf("invite: status %d", res.StatusCode)
	}
	createKeyInBrowser(t, owner, slug, "reader", app.ScopeRead)
	// Entries of the families no page action above writes: billing from
	// Stripe (no actor), security and API changes, yes/no values.
	for _, e := range []struct{ action, family, md string }{
		{app.ActionInvoicePaid, "billing", `{}`},
		{app.ActionPlanChangeScheduled, "billing", `{"plan":"Business","interval":"year"}`},
		{app.ActionWorkspaceRenamed, "workspace", `{"from":"Acme","to":"Acme Inc"}`},
		{app.ActionWebhookCreated, "api", `{"url":"https://hooks.example.com"}`},
		{app.ActionSSOSettings, "security", `{"require_sso":true,"jit":false,"jit_role":"member","idp_mfa_counts":true}`},
	} {
		a.exec(t, `INSERT INTO audit_logs (workspace_id, action, family, metadata, request_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, wsID, e.action, e.family, e.md, "i18n-"+e.action, a.Clock.Now())
	}
	allow := []string{"Olive Owner", "Acme Inc", "Acme", "reader", "Business"}
	base := "/w/" + slug + "/audit"

	all := owner.Get(base)
	if all.StatusCode != http.StatusOK {
		t.Fatalf("audit page: status %d", all.StatusCode)
	}
	assertMainTranslated(t, all, allow...)
	if all.Doc.Find(`[data-testid="audit-row"]`).Length() < 8 {
		t.Errorf("audit page shows %d entries, want the ones of every family", all.Doc.Find(`[data-testid="audit-row"]`).Length())
	}
	if all.Doc.Find(`[data-testid="audit-history-note"]`).Length() != 1 {
		t.Error("no history note on the Free plan")
	}
	for _, q := range []string{"?family=member", "?action=" + app.ActionInviteSent, "?family=billing"} {
		res := owner.Get(base + q)
		if res.Doc.Find(`[data-testid="audit-row"]`).Length() == 0 {
			t.Errorf("%s: no entries", q)
		}
		assertMainTranslated(t, res, allow...)
	}
	empty := owner.Get(base + "?action=" + app.ActionWorkspaceDeleted)
	if empty.Doc.Find(`[data-testid="audit-empty-clear"]`).Length() != 1 {
		t.Error("no empty state for a filter that matches nothing")
	}
	assertMainTranslated(t, empty, allow...)
	bad := owner.Get(base + "?action=nope&family=nope&from=yesterday&actor=x")
	if bad.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("invalid filter: status %d, want 422", bad.StatusCode)
	}
	assertMainTranslated(t, bad, allow...)

	for _, action := range []string{app.ActionMemberRoleChanged, app.ActionInviteSent, app.ActionAPIKeyCreated,
		app.ActionInvoicePaid, app.ActionSSOSettings, app.ActionWorkspaceRenamed} {
		assertMainTranslated(t, auditEntryPage(t, a, owner, slug, action), allow...)
	}

	dash := owner.Get("/w/" + slug)
	html, err := dash.Doc.Find(`[data-testid="activity"]`).Html()
	if err != nil || html == "" {
		t.Fatalf("dashboard: no recent activity (%v)", err)
	}
	if left := i18ntest.Untranslated(html, allow...); len(left) > 0 {
		t.Errorf("dashboard's recent activity shows untranslated text:\n  %s", strings.Join(left, "\n  "))
	}

	t.Run("German", func(t *testing.T) {
		de := a.newBrowser(t).german()
		de.signIn("owner@example.com")
		page := de.Get(base + "?action=" + app.ActionInviteSent)
		got := strings.Join(strings.Fields(page.Doc.Find(`[data-testid="audit-summary"]`).First().Text()), " ")
		if want := "Olive Owner hat grace@example.com als Mitglied eingeladen"; got != want {
			t.Errorf("summary=%q, want %q", got, want)
		}
		if got, want := strings.TrimSpace(page.Doc.Find("h1").Text()), "Audit-Log"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		if got, want := strings.TrimSpace(page.Doc.Find(`[data-testid="audit-filter-submit"]`).Text()), "Filtern"; got != want {
			t.Errorf("filter button=%q, want %q", got, want)
		}
		d := auditEntryPage(t, a, de, slug, app.ActionMemberRoleChanged)
		if got, want := d.Text("audit-entry-md-from")+" → "+d.Text("audit-entry-md-to"), "Admin → Mitglied"; got != want {
			t.Errorf("role change=%q, want %q", got, want)
		}
	})
}

// assertMainTranslated is assertTranslated for the page's <main>, the part
// this area writes (the shell around it is checked with its own pages).
func assertMainTranslated(t testing.TB, res *response, allow ...string) {
	t.Helper()
	if got := res.Header.Get("Content-Language"); got != "en-XA" {
		t.Fatalf("%s: Content-Language=%q, want en-XA (ask with pseudo())", res.Request.URL.Path, got)
	}
	html, err := goquery.OuterHtml(res.Doc.Find("main"))
	if err != nil || html == "" {
		t.Fatalf("%s: no <main> (%v)", res.Request.URL.Path, err)
	}
	if left := i18ntest.Untranslated(html, allow...); len(left) > 0 {
		t.Errorf("%s?%s shows untranslated text:\n  %s", res.Request.URL.Path, res.Request.URL.RawQuery, strings.Join(left, "\n  "))
	}
}
