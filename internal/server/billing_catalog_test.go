package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store/storetest"
)

// setPlan puts the workspace on plan with an active subscription.
func setPlan(t *testing.T, a *testApp, slug, plan string) {
	t.Helper()
	a.exec(t, "UPDATE workspaces SET plan = ?, subscription_status = 'active' WHERE slug = ?", plan, slug)
}

// TestAudit_PlanEntitlements holds the audit log to the catalog: Free
// shows the last 30 days and no export (a note on the page, a 403 with a
// way to billing at the route); Pro exports; Business shows the whole log.
// Older entries stay stored and reappear on a plan that shows them, on the
// page and through the API alike.
func TestAudit_PlanEntitlements(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme")
			wsID := workspaceID(t, a, slug, "owner@example.com")
			// Entries 40 and 400 days old, written straight into the log.
			entryAt := func(days int) int64 {
				t.Helper()
				rid := "old-" + itoa(days)
				a.exec(t, `INSERT INTO audit_logs (workspace_id, action, family, metadata, request_id, created_at)
					VALUES (?, 'audit.exported', 'security', '{"format":"csv","rows":1}', ?, ?)`, wsID, rid, a.Clock.Now().AddDate(0, 0, -days))
				var id int64
				if err := a.DB.SQL().QueryRowContext(context.Background(), a.DB.Rebind("SELECT id FROM audit_logs WHERE request_id = ?"), rid).Scan(&id); err != nil {
					t.Fatal(err)
				}
				return id
			}
			old, ancient := entryAt(40), entryAt(400)
			key := createKeyInBrowser(t, owner, slug, "reader", app.ScopeRead)
			api := &apiClient{t: t, a: a, key: key}
			base := "/w/" + slug + "/audit"

			// sees reports whether the page lists the entry, and fails when the
			// API disagrees.
			sees := func(t *testing.T, res *response, oldID int64) bool {
				t.Helper()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("audit page: status %d", res.StatusCode)
				}
				onPage := res.Doc.Find(`[data-testid="audit-detail-link"][href="`+base+"/"+itoa(int(oldID))+`"]`).Length() > 0
				var out struct {
					Entries []struct {
						ID int64 `json:"id"`
					} `json:"entries"`
				}
				api.do("GET", "/audit?limit=100", nil).JSON(t, &out)
				inAPI := false
				for _, e := range out.Entries {
					inAPI = inAPI || e.ID == oldID
				}
				if onPage != inAPI {
					t.Fatalf("old entry on the page %v, in the API %v", onPage, inAPI)
				}
				return onPage
			}

			t.Run("Free", func(t *testing.T) {
				res := owner.Get(base)
				if sees(t, res, old) {
					t.Error("Free shows an entry older than 30 days")
				}
				if got, want := res.Text("audit-history-note"), "Showing the last 30 days (your plan’s history). Upgrade to see more."; got != want {
					t.Errorf("history note %q, want %q", got, want)
				}
				if got, want := res.Text("audit-export-locked"), "Export is part of Pro. See plans"; got != want {
					t.Errorf("export note %q, want %q", got, want)
				}
				if href, _ := res.Doc.Find(`[data-testid="audit-export-upgrade"]`).Attr("href"); href != "/w/"+slug+"/billing" {
					t.Errorf("export note links to %q", href)
				}
				if res.Has("audit-export-csv") || res.Has("audit-export-jsonl") {
					t.Error("Free is offered the export links")
				}
				exp := owner.Get(base + "/export?format=csv")
				if exp.StatusCode != http.StatusForbidden {
					t.Fatalf("export on Free: status %d", exp.StatusCode)
				}
				if got, want := exp.Text("error-message"), "Exporting the audit log is part of the Pro plan. Upgrade the workspace on its billing page to use it."; got != want {
					t.Errorf("refusal %q, want %q", got, want)
				}
				if href, _ := exp.Doc.Find(`[data-testid="error-action"]`).Attr("href"); href != "/w/"+slug+"/billing" {
					t.Errorf("refusal links to %q", href)
				}
			})

			t.Run("Pro", func(t *testing.T) {
				setPlan(t, a, slug, app.PlanPro)
				res := owner.Get(base)
				if !sees(t, res, old) {
					t.Error("Pro (365 days) hides a 40-day-old entry")
				}
				if sees(t, res, ancient) {
					t.Error("Pro (365 days) shows a 400-day-old entry")
				}
				if got, want := res.Text("audit-history-note"), "Showing the last 365 days (your plan’s history). Upgrade to see more."; got != want {
					t.Errorf("history note %q, want %q", got, want)
				}
				if res.Has("audit-export-locked") || !res.Has("audit-export-csv") {
					t.Error("Pro is not offered the export")
				}
				if exp := owner.Get(base + "/export?format=csv"); exp.StatusCode != http.StatusOK {
					t.Errorf("export on Pro: status %d", exp.StatusCode)
				}
			})

			t.Run("Business", func(t *testing.T) {
				setPlan(t, a, slug, app.PlanBusiness)
				res := owner.Get(base)
				if !sees(t, res, ancient) {
					t.Error("Business hides an entry older than a year")
				}
				if res.Has("audit-history-note") {
					t.Error("Business is told its history is limited")
				}
			})

			t.Run("LapsedSubscription", func(t *testing.T) {
				a.exec(t, "UPDATE workspaces SET subscription_status = 'canceled' WHERE slug = ?", slug)
				res := owner.Get(base)
				if sees(t, res, old) {
					t.Error("a canceled subscription keeps Business's history")
				}
				if exp := owner.Get(base + "/export?format=csv"); exp.StatusCode != http.StatusForbidden {
					t.Errorf("export after the subscription ended: status %d", exp.StatusCode)
				}
			})
		})
	}
}

// TestAPI_RateLimitByPlan gives each API key its workspace plan's rate:
// Free has API_RATE_LIMIT_MAX, Business five times as much.
func TestAPI_RateLimitByPlan(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("API_RATE_LIMIT_MAX", "3"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	free := createWorkspace(t, owner, "Free Team")
	business := createWorkspace(t, owner, "Big Team")
	setPlan(t, a, business, app.PlanBusiness)
	freeAPI := &apiClient{t: t, a: a, key: createKeyInBrowser(t, owner, free, "free", app.ScopeRead)}
	busAPI := &apiClient{t: t, a: a, key: createKeyInBrowser(t, owner, business, "business", app.ScopeRead)}
	for i := 1; i <= 4; i++ {
		fr, br := freeAPI.do("GET", "/workspace", nil), busAPI.do("GET", "/workspace", nil)
		if want := map[bool]int{true: 200, false: 429}[i <= 3]; fr.Status != want {
			t.Errorf("Free request %d: status %d, want %d", i, fr.Status, want)
		}
		if br.Status != 200 {
			t.Errorf("Business request %d: status %d, want 200", i, br.Status)
		}
		if got := fr.Header.Get("RateLimit-Limit"); got != "3" {
			t.Errorf("Free RateLimit-Limit %q, want 3", got)
		}
		if got := br.Header.Get("RateLimit-Limit"); got != "15" {
			t.Errorf("Business RateLimit-Limit %q, want 15", got)
		}
	}
}

// TestBilling_PlanInForce names the plan in force on the billing page by
// the catalog, with its interval, and lists what it includes.
func TestBilling_PlanInForce(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("APP_ENV", "development", "STRIPE_PRICE_BUSINESS_ANNUAL", "price_bus_year"))
	owner, slug, _ := billingOwner(t, a, "owner@example.com")
	free := owner.Get("/w/" + slug + "/billing")
	if got, want := free.Text("billing-in-force-name"), "Free"; got != want {
		t.Errorf("Free workspace: plan in force %q, want %q", got, want)
	}
	if got := free.Text("billing-in-force-includes"); !strings.Contains(got, "30 days of audit history") || strings.Contains(got, "Single sign-on") {
		t.Errorf("Free includes %q", got)
	}
	a.exec(t, "UPDATE workspaces SET plan = 'business', subscription_status = 'active', price_id = 'price_bus_year' WHERE slug = ?", slug)
	bus := owner.Get("/w/" + slug + "/billing")
	if got, want := bus.Text("billing-in-force-name"), "Business, billed yearly"; got != want {
		t.Errorf("Business workspace: plan in force %q, want %q", got, want)
	}
	for _, want := range []string{"The whole audit history", app.FeatureName(app.FeatureSSO), app.FeatureName(app.FeatureAuditExport)} {
		if got := bus.Text("billing-in-force-includes"); !strings.Contains(got, want) {
			t.Errorf("Business includes %q, want %q in it", got, want)
		}
	}
}
