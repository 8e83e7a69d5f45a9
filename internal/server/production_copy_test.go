package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// developerWords are what only the people running the server should read.
var developerWords = []string{"STRIPE_", "runbook", "terminal", "APP_ENV", "Demo mode"}

// noDeveloperText fails when a page shows setup hints meant for developers.
func noDeveloperText(t *testing.T, what string, res *response) {
	t.Helper()
	text := res.Doc.Find("body").Text()
	for _, w := range developerWords {
		if strings.Contains(text, w) {
			t.Errorf("%s shows %q to a customer", what, w)
		}
	}
}

// TestProduction_NoBilling: in production without Stripe, customers meet no
// Billing tab, no upgrade prompt, no buy button and no development hint;
// outside production the same server keeps them.
func TestProduction_NoBilling(t *testing.T) {
	t.Parallel()
	t.Run("Production", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, "sqlite", withEnv("APP_ENV", "production", "FREE_PLAN_SEATS", "1"))
		owner, slug, _ := billingOwner(t, a, "owner@example.com")

		dash := owner.Get("/w/" + slug)
		if dash.StatusCode != http.StatusOK {
			t.Fatalf("dashboard: status %d", dash.StatusCode)
		}
		for _, id := range []string{"nav-ws-billing", "m-nav-ws-billing", "stat-billing-link"} {
			if dash.Has(id) {
				t.Errorf("dashboard offers %s", id)
			}
		}
		if dash.Doc.Find(`[data-testid="checklist-item"][data-key="upgrade"]`).Length() > 0 {
			t.Error("the getting-started checklist asks to upgrade to Pro")
		}
		if strings.Contains(dash.Doc.Find("main").Text(), "Upgrade") {
			t.Error("the dashboard says Upgrade")
		}
		noDeveloperText(t, "dashboard", dash)

		for _, path := range []string{"/w/" + slug + "/billing", "/billing"} {
			if res := owner.Get(path); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", path, res.StatusCode)
			} else {
				noDeveloperText(t, path, res)
			}
		}

		members := owner.Get("/w/" + slug + "/members")
		if !members.Has("seat-limit") || members.Has("seat-limit-billing") || strings.Contains(members.Text("seat-limit"), "pgrade") {
			t.Errorf("full workspace's members page: seat notice %q, billing link %v; want the notice without an upgrade",
				members.Text("seat-limit"), members.Has("seat-limit-billing"))
		}

		for _, b := range []*browser{owner, a.newBrowser(t)} {
			pricing := b.Get("/pricing")
			if pricing.StatusCode != http.StatusOK || pricing.Has("pricing-upgrade") || !pricing.Has("pricing-no-purchase") {
				t.Errorf("pricing: status %d, buy button %v; want 200 without one", pricing.StatusCode, pricing.Has("pricing-upgrade"))
			}
			if text := pricing.Doc.Find("main").Text(); strings.Contains(text, "Upgrade") || strings.Contains(text, "Stripe") {
				t.Error("the pricing page says Upgrade or offers payment through Stripe")
			}
		}

		sent := a.newBrowser(t).Get("/login/sent?email=ada%40example.com")
		if sent.Has("check-email-dev-hint") {
			t.Error("check your email shows the development hint")
		}
		noDeveloperText(t, "check your email", sent)
	})

	t.Run("Development", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, "sqlite", withEnv("APP_ENV", "development"))
		owner, slug, _ := billingOwner(t, a, "owner@example.com")
		dash := owner.Get("/w/" + slug)
		if !dash.Has("nav-ws-billing") || !dash.Has("stat-billing-link") ||
			dash.Doc.Find(`[data-testid="checklist-item"][data-key="upgrade"]`).Length() != 1 {
			t.Errorf("development dashboard: billing tab %v, link %v; want both and the upgrade step", dash.Has("nav-ws-billing"), dash.Has("stat-billing-link"))
		}
		billing := owner.Get("/w/" + slug + "/billing")
		if billing.StatusCode != http.StatusOK || !billing.Has("billing-demo-upgrade") {
			t.Fatalf("development billing page: status %d, demo %v", billing.StatusCode, billing.Has("billing-demo-upgrade"))
		}
		// On Pro the demo note explains the button beside it, Downgrade.
		pro := owner.Follow(owner.Submit(billing, "billing-demo-upgrade", nil))
		if got := pro.Text("billing-demo"); !pro.Has("billing-demo-downgrade") || strings.Contains(got, "Upgrade") || !strings.Contains(got, "Downgrade") {
			t.Errorf("demo note on Pro %q, want it to speak of Downgrade", got)
		}
		if !owner.Get("/pricing").Has("pricing-upgrade") {
			t.Error("development pricing page has no buy button")
		}
		// With SMTP configured the link really is emailed: no hint.
		if a.newBrowser(t).Get("/login/sent?email=ada%40example.com").Has("check-email-dev-hint") {
			t.Error("check your email says the link is in the terminal although SMTP is set")
		}
	})

	t.Run("DevelopmentMailInLog", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, "sqlite", withEnv("APP_ENV", "development", "SMTP_HOST", ""))
		sent := a.newBrowser(t).Get("/login/sent?email=ada%40example.com")
		if !strings.Contains(sent.Text("check-email-dev-hint"), "terminal") {
			t.Errorf("development without SMTP: hint %q, want where the link is", sent.Text("check-email-dev-hint"))
		}
	})
}

// TestProduction_FullWorkspaceInvite: in production without billing, an
// invitee who finds the workspace full is not told to ask for an upgrade
// nobody can buy.
func TestProduction_FullWorkspaceInvite(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", withEnv("APP_ENV", "production", "FREE_PLAN_SEATS", "1"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	invitee := a.newBrowser(t)
	invitee.signIn("p0@example.com")
	a.exec(t, "UPDATE workspaces SET plan = 'pro', subscription_status = 'active' WHERE slug = ?", slug)
	if res := owner.Post("/w/"+slug+"/invites", url.Values{"email": {"p0@example.com"}, "role": {"member"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite on Pro: status %d", res.StatusCode)
	}
	a.exec(t, "UPDATE workspaces SET plan = 'free', subscription_status = 'canceled' WHERE slug = ?", slug)
	link := a.SMTP.WaitForMessage(t, "p0@example.com", 5*time.Second).Links()[0]
	res := invitee.Submit(invitee.Get(link), "invite-accept", nil)
	if res.StatusCode != http.StatusConflict || inviteState(res) != "full" {
		t.Fatalf("accept into a full workspace: status %d state %q", res.StatusCode, inviteState(res))
	}
	if got := res.Text("invite-problem"); strings.Contains(got, "upgrade") || !strings.Contains(got, "free seat") {
		t.Errorf("full-workspace notice %q, want it to speak of a free seat, not an upgrade", got)
	}
}
