package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/internal/app"
)

// TestBilling_DemoDowngrade checks that in development without Stripe a
// demo upgrade can be undone, that the Pro page shows its price and seats,
// and that the downgrade is refused where there is real billing.
func TestBilling_DemoDowngrade(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("APP_ENV", "development"), withEnv("PRO_PLAN_PRICE_LABEL", "$29 / month"))
	owner, slug, wsID := billingOwner(t, a, "owner@example.com")
	path := "/w/" + slug + "/billing"
	page := owner.Follow(owner.Submit(owner.Get(path), "billing-demo-upgrade", nil))
	if got, want := page.Text("billing-price"), "$29 / month"; got != want {
		t.Errorf("Pro price=%q, want %q", got, want)
	}
	if got, want := page.Text("billing-seats"), "1 of Unlimited"; got != want {
		t.Errorf("seats=%q, want %q", got, want)
	}
	res := owner.Submit(page, "billing-demo-downgrade", nil)
	if res.StatusCode != http.StatusSeeOther || res.Location() != path {
		t.Fatalf("demo downgrade: status %d Location %q", res.StatusCode, res.Location())
	}
	page = owner.Follow(res)
	if got := page.Text("billing-plan"); !strings.HasPrefix(got, "Free") {
		t.Errorf("after the demo downgrade: plan %q, want Free", got)
	}
	if !page.Has("billing-demo-upgrade") || page.Has("billing-demo-downgrade") {
		t.Errorf("after the downgrade the page offers upgrade=%v downgrade=%v, want only the upgrade", page.Has("billing-demo-upgrade"), page.Has("billing-demo-downgrade"))
	}
	if n := a.auditCount(t, wsID, app.ActionDemoDowngraded); n != 1 {
		t.Errorf("%d %s entries, want 1", n, app.ActionDemoDowngraded)
	}

	for name, opts := range map[string][]appOption{
		"production":  {withEnv("APP_ENV", "test")},
		"with Stripe": {withEnv("APP_ENV", "development"), withStripe("http://127.0.0.1:9")},
	} {
		a := newTestApp(t, "sqlite", opts...)
		owner, slug, _ := billingOwner(t, a, "owner@example.com")
		if got := owner.Post("/w/"+slug+"/billing/demo-downgrade", nil).StatusCode; got != http.StatusNotFound {
			t.Errorf("%s: demo downgrade status %d, want 404", name, got)
		}
	}
}

// TestWorkspaceDelete_StillPaying checks that deleting a workspace with a
// live subscription explains how to cancel it and links to the right
// place, rather than answering with a bare error page.
func TestWorkspaceDelete_StillPaying(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []appOption
		action string // the cancel form's action, under /w/{slug}
	}{
		{"development", []appOption{withEnv("APP_ENV", "development")}, "/billing/demo-downgrade"},
		{"billing on", []appOption{withStripe("http://127.0.0.1:9")}, "/billing/portal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestApp(t, "sqlite", tc.opts...)
			owner, slug, wsID := billingOwner(t, a, "owner@example.com")
			a.exec(t, `UPDATE workspaces SET plan = 'pro', subscription_status = 'active', stripe_customer_id = 'cus_1',
				stripe_subscription_id = 'sub_1' WHERE id = ?`, wsID)

			settings := owner.Get("/w/" + slug + "/settings")
			if !settings.Has("delete-still-paying") {
				t.Fatalf("the settings page does not say the workspace still pays:\n%s", settings.Body)
			}
			res := owner.Post("/w/"+slug+"/delete", url.Values{"confirm": {"Acme Inc"}})
			if got, want := res.StatusCode, http.StatusConflict; got != want {
				t.Fatalf("delete: status %d, want %d", got, want)
			}
			if !res.Has("workspace-settings") || !strings.Contains(res.Text("delete-still-paying"), "Cancel") && !strings.Contains(res.Text("delete-still-paying"), "ends it") {
				t.Errorf("the refusal does not explain how to cancel:\n%s", res.Body)
			}
			form := res.Doc.Find(`[data-testid="delete-cancel-subscription"]`).Closest("form")
			if got, want := form.AttrOr("action", ""), "/w/"+slug+tc.action; got != want {
				t.Errorf("cancel form action=%q, want %q", got, want)
			}
			if tc.name != "development" {
				return
			}
			owner.Submit(res, "delete-cancel-subscription", nil)
			if res := owner.Post("/w/"+slug+"/delete", url.Values{"confirm": {"Acme Inc"}}); res.StatusCode != http.StatusSeeOther {
				t.Errorf("delete after the demo downgrade: status %d", res.StatusCode)
			}
		})
	}
}
