package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/store"
)

// withStripe turns billing on against the Stripe API at base (a
// stripe-mock), with the webhook secret set.
func withStripe(base string) appOption {
	return withEnv("STRIPE_SECRET_KEY", "sk_test_atrium", "STRIPE_PRICE_ID", "price_pro",
		"STRIPE_WEBHOOK_SECRET", webhookSecret, "STRIPE_API_BASE", base)
}

// billingState returns the workspace with slug as the store has it.
func (a *testApp) billingState(t *testing.T, slug string) *app.Workspace {
	t.Helper()
	ws, err := store.NewBillingService(a.DB).FindWorkspaceBySlug(context.Background(), slug)
	if err != nil {
		t.Fatalf("find workspace %s: %v", slug, err)
	}
	return ws
}

// auditCount counts a workspace's audit entries with action.
func (a *testApp) auditCount(t *testing.T, wsID int64, action string) int {
	t.Helper()
	entries, err := store.NewOperatorAuditService(a.DB).FindAuditEntries(context.Background(), app.AuditFilter{Scope: app.Scope{WorkspaceID: wsID}, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// logLine returns the first JSON log line whose msg starts with prefix and
// whose attributes include every key=value of attrs, or nil.
func (a *testApp) logLine(t *testing.T, prefix string, attrs ...string) map[string]any {
	t.Helper()
next:
	for l := range strings.Lines(a.logs.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil {
			continue
		}
		if msg, _ := m["msg"].(string); !strings.HasPrefix(msg, prefix) {
			continue
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			if fmt.Sprint(m[attrs[i]]) != attrs[i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

// billingOwner signs an owner in and creates a workspace; it returns the
// owner's browser, the slug and the workspace id.
func billingOwner(t *testing.T, a *testApp, email string) (*browser, string, int64) {
	t.Helper()
	owner := a.newBrowser(t)
	owner.signIn(email)
	slug := createWorkspace(t, owner, "Acme Inc")
	return owner, slug, workspaceID(t, a, slug, email)
}

func TestBillingPage_Roles(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	a := newTestApp(t, "sqlite", withStripe(mock))
	owner, slug, _ := billingOwner(t, a, "owner@example.com")
	admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
	member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
	outsider := a.newBrowser(t)
	outsider.signIn("outsider@example.com")
	path := "/w/" + slug + "/billing"

	page := owner.Get(path)
	if page.StatusCode != http.StatusOK || !page.Has("billing-upgrade") || page.Has("billing-readonly") {
		t.Fatalf("owner: status %d, upgrade %v, read-only %v; want 200 with Upgrade\n%s", page.StatusCode, page.Has("billing-upgrade"), page.Has("billing-readonly"), page.Body)
	}
	if got, want := page.Text("billing-plan"), "Free"; got != want {
		t.Errorf("plan %q, want %q", got, want)
	}
	if got, want := strings.Join(strings.Fields(page.Text("billing-seats")), " "), "3 of 3"; got != want {
		t.Errorf("seats %q, want %q", got, want)
	}
	if page.Has("billing-portal") || page.Has("billing-off") || page.Has("billing-demo-upgrade") {
		t.Errorf("owner without a Stripe customer sees Manage billing, billing-off or the demo")
	}

	page = admin.Get(path)
	if page.StatusCode != http.StatusOK || !page.Has("billing-readonly") || page.Has("billing-upgrade") {
		t.Errorf("admin: status %d, read-only %v, upgrade %v; want 200, read-only, no Upgrade", page.StatusCode, page.Has("billing-readonly"), page.Has("billing-upgrade"))
	}
	if got := page.Text("billing-plan"); got != "Free" {
		t.Errorf("admin sees plan %q", got)
	}
	if res := admin.Post(path+"/checkout", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("admin POST checkout: status %d, want 403", res.StatusCode)
	}
	if res := member.Get(path); res.StatusCode != http.StatusForbidden {
		t.Errorf("member: status %d, want 403", res.StatusCode)
	}
	if res := outsider.Get(path); res.StatusCode != http.StatusNotFound {
		t.Errorf("outsider: status %d, want 404", res.StatusCode)
	}
	if res := outsider.Post(path+"/checkout", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("outsider POST checkout: status %d, want 404", res.StatusCode)
	}
}

// TestBilling_CheckoutAndPortal upgrades through stripe-mock: the owner is
// sent to the Checkout URL it returns, and then to the Customer Portal.
func TestBilling_CheckoutAndPortal(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	a := newTestApp(t, "sqlite", withStripe(mock))
	owner, slug, wsID := billingOwner(t, a, "owner@example.com")
	path := "/w/" + slug + "/billing"

	// Without a customer, Manage billing explains instead of failing.
	res := owner.Post(path+"/portal", nil)
	if res.StatusCode != http.StatusSeeOther || res.Location() != path {
		t.Fatalf("portal before checkout: status %d Location %q, want 303 to %s", res.StatusCode, res.Location(), path)
	}
	if got := owner.Follow(res).Text("flash"); !strings.Contains(got, "Upgrade first") {
		t.Errorf("flash %q, want it to say Upgrade first", got)
	}

	res = owner.Submit(owner.Get(path), "billing-upgrade", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "https://checkout.stripe.com/") {
		t.Fatalf("checkout: status %d Location %q, want 303 to stripe-mock's Checkout URL\n%s", res.StatusCode, res.Location(), res.Body)
	}
	ws := a.billingState(t, slug)
	if !strings.HasPrefix(ws.StripeCustomerID, "cus_") || ws.Plan != app.PlanFree {
		t.Errorf("after checkout: customer %q plan %q, want a cus_ customer, still free until Stripe confirms", ws.StripeCustomerID, ws.Plan)
	}
	if n := a.auditCount(t, wsID, app.ActionCheckoutStarted); n != 1 {
		t.Errorf("%d %s entries, want 1", n, app.ActionCheckoutStarted)
	}

	page := owner.Get(path)
	if !page.Has("billing-portal") || !page.Has("billing-upgrade") {
		t.Errorf("after checkout: portal %v upgrade %v, want both", page.Has("billing-portal"), page.Has("billing-upgrade"))
	}
	res = owner.Submit(page, "billing-portal", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "https://") {
		t.Fatalf("portal: status %d Location %q, want 303 to stripe-mock's portal URL\n%s", res.StatusCode, res.Location(), res.Body)
	}

	// A second Checkout reuses the customer.
	if res := owner.Post(path+"/checkout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second checkout: status %d", res.StatusCode)
	}
	if got := a.billingState(t, slug).StripeCustomerID; got != ws.StripeCustomerID {
		t.Errorf("customer %q after a second checkout, want %q", got, ws.StripeCustomerID)
	}

	// Back from Checkout, the page says the plan follows Stripe's webhook.
	res = owner.Get(path + "/return?checkout=success")
	if res.StatusCode != http.StatusSeeOther || res.Location() != path {
		t.Fatalf("return: status %d Location %q", res.StatusCode, res.Location())
	}
	if got := owner.Follow(res).Text("flash"); !strings.Contains(got, "Stripe confirms") {
		t.Errorf("flash after a successful checkout: %q", got)
	}
}

// TestBilling_StripeDown: a failing Stripe call shows a 502 page, logs the
// error and changes nothing.
func TestBilling_StripeDown(t *testing.T) {
	t.Parallel()
	stripeDown := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"No such price: 'price_pro'"}}`)
	}))
	t.Cleanup(stripeDown.Close)
	a := newTestApp(t, "sqlite", withStripe(stripeDown.URL))
	owner, slug, wsID := billingOwner(t, a, "owner@example.com")

	res := owner.Post("/w/"+slug+"/billing/checkout", nil)
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(res.Body, "could not reach Stripe") {
		t.Fatalf("checkout with Stripe failing: status %d, want 502 with an explanation\n%s", res.StatusCode, res.Body)
	}
	if strings.Contains(res.Body, "No such price") {
		t.Errorf("the page shows Stripe's error")
	}
	if line := a.logLine(t, "stripe call failed"); line == nil || !strings.Contains(fmt.Sprint(line["error"]), "No such price") {
		t.Errorf("log line %v, want the Stripe error", line)
	}
	if ws := a.billingState(t, slug); ws.StripeCustomerID != "" {
		t.Errorf("customer %q stored after a failed checkout", ws.StripeCustomerID)
	}
	if n := a.auditCount(t, wsID, app.ActionCheckoutStarted); n != 0 {
		t.Errorf("%d checkout audit entries after a failure", n)
	}
}

// TestBillingPage_Off: without STRIPE_SECRET_KEY the page says billing is
// off (in production there is no page at all: TestProduction_NoBilling);
// the demo upgrade exists only in development.
func TestBillingPage_Off(t *testing.T) {
	t.Parallel()
	for _, env := range []string{"test", "production"} {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, "sqlite", withEnv("APP_ENV", env))
			owner, slug, _ := billingOwner(t, a, "owner@example.com")
			page := owner.Get("/w/" + slug + "/billing")
			if env == "production" {
				if page.StatusCode != http.StatusNotFound || page.Has("billing-off") {
					t.Errorf("billing page in production without Stripe: status %d, off notice %v; want 404", page.StatusCode, page.Has("billing-off"))
				}
			} else if !page.Has("billing-off") || page.Has("billing-demo-upgrade") || page.Has("billing-upgrade") {
				t.Errorf("billing off in %s: off %v demo %v upgrade %v; want only billing-off", env,
					page.Has("billing-off"), page.Has("billing-demo-upgrade"), page.Has("billing-upgrade"))
			}
			if res := owner.Post("/w/"+slug+"/billing/demo-upgrade", nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("demo upgrade in %s: status %d, want 404", env, res.StatusCode)
			}
			if res := owner.Post("/w/"+slug+"/billing/checkout", nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("checkout with billing off: status %d, want 404", res.StatusCode)
			}
			if ws := a.billingState(t, slug); ws.Plan != app.PlanFree {
				t.Errorf("plan %q, want free", ws.Plan)
			}
		})
	}

	t.Run("development", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, "sqlite", withEnv("APP_ENV", "development"))
		owner, slug, wsID := billingOwner(t, a, "owner@example.com")
		path := "/w/" + slug + "/billing"
		page := owner.Get(path)
		if !page.Has("billing-demo") || !page.Has("billing-demo-upgrade") || page.Has("billing-off") {
			t.Fatalf("development without Stripe: demo %v off %v, want the demo\n%s", page.Has("billing-demo-upgrade"), page.Has("billing-off"), page.Body)
		}
		res := owner.Submit(page, "billing-demo-upgrade", nil)
		if res.StatusCode != http.StatusSeeOther || res.Location() != path {
			t.Fatalf("demo upgrade: status %d Location %q", res.StatusCode, res.Location())
		}
		page = owner.Follow(res)
		if got := page.Text("billing-status"); got != "Active" || !strings.HasPrefix(page.Text("billing-plan"), "Pro") {
			t.Errorf("after the demo upgrade: plan %q status %q, want Pro Active", page.Text("billing-plan"), got)
		}
		if page.Has("billing-demo-upgrade") {
			t.Errorf("the demo button is still offered on Pro")
		}
		if n := a.auditCount(t, wsID, app.ActionDemoUpgraded); n != 1 {
			t.Errorf("%d %s entries, want 1", n, app.ActionDemoUpgraded)
		}
	})

	t.Run("developmentWithStripe", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, "sqlite", withEnv("APP_ENV", "development"), withStripe("http://127.0.0.1:9"))
		owner, slug, _ := billingOwner(t, a, "owner@example.com")
		if page := owner.Get("/w/" + slug + "/billing"); page.Has("billing-demo-upgrade") || !page.Has("billing-upgrade") {
			t.Errorf("development with Stripe: demo %v upgrade %v, want only the real Upgrade", page.Has("billing-demo-upgrade"), page.Has("billing-upgrade"))
		}
		if res := owner.Post("/w/"+slug+"/billing/demo-upgrade", nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("demo upgrade with Stripe on: status %d, want 404", res.StatusCode)
		}
	})
}

// TestBilling_SeatLimits follows a subscription through its states by
// webhook: Pro lifts the seat limit, past_due keeps it lifted with a
// banner, canceled and unpaid bring back the free limit without removing
// anyone.
func TestBilling_SeatLimits(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", withWebhook("FREE_PLAN_SEATS", "2", "PRO_PLAN_SEATS", "0"))
	owner, slug, wsID := billingOwner(t, a, "owner@example.com")
	inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
	path := "/w/" + slug
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	n := 0
	setStatus := func(t *testing.T, status string) {
		t.Helper()
		n++
		a.mustApply(t, subscriptionEvent(fmt.Sprintf("evt_%d_%s", n, status), billing.EventSubscriptionUpdated, status,
			t0.Add(time.Duration(n)*time.Minute), wsID, "cus_seats"), app.EventApplied)
	}
	invite := func(t *testing.T, email string) int {
		t.Helper()
		return owner.Post(path+"/invites", url.Values{"email": {email}, "role": {"member"}}).StatusCode
	}
	seats := func(t *testing.T) string {
		t.Helper()
		return strings.Join(strings.Fields(owner.Get(path+"/billing").Text("billing-seats")), " ")
	}

	if code := invite(t, "third@example.com"); code != http.StatusUnprocessableEntity {
		t.Fatalf("invite past the free limit: status %d, want 422", code)
	}

	t.Run("Active", func(t *testing.T) {
		setStatus(t, app.SubActive)
		if got, want := seats(t), "2 of Unlimited"; got != want {
			t.Errorf("seats %q, want %q", got, want)
		}
		if got, want := statValue(owner.Get(path), "stat-seats"), "2 of Unlimited"; got != want {
			t.Errorf("dashboard seats %q, want %q", got, want)
		}
		for _, email := range []string{"third@example.com", "fourth@example.com"} {
			if code := invite(t, email); code != http.StatusSeeOther {
				t.Fatalf("invite %s on Pro: status %d, want 303", email, code)
			}
		}
		if owner.Get(path + "/members").Has("seat-limit") {
			t.Errorf("members page shows the seat limit on Pro")
		}
	})

	t.Run("PastDue", func(t *testing.T) {
		setStatus(t, app.SubPastDue)
		page := owner.Get(path + "/billing")
		if !page.Has("billing-past-due") || page.Has("billing-lapsed") {
			t.Errorf("past_due: banner %v lapsed %v, want the past-due banner only", page.Has("billing-past-due"), page.Has("billing-lapsed"))
		}
		if got := page.Text("billing-status"); got != "Past due" || !strings.HasPrefix(page.Text("billing-plan"), "Pro") {
			t.Errorf("past_due: plan %q status %q, want Pro, Past due", page.Text("billing-plan"), got)
		}
		if code := invite(t, "fifth@example.com"); code != http.StatusSeeOther {
			t.Errorf("invite while past_due: status %d, want 303 (Pro seats kept)", code)
		}
	})

	for _, status := range []string{app.SubUnpaid, app.SubCanceled} {
		t.Run(status, func(t *testing.T) {
			setStatus(t, status)
			page := owner.Get(path + "/billing")
			if !page.Has("billing-lapsed") || page.Has("billing-past-due") {
				t.Errorf("%s: lapsed %v past-due %v, want the lapsed notice only", status, page.Has("billing-lapsed"), page.Has("billing-past-due"))
			}
			if got := page.Text("billing-plan"); !strings.HasPrefix(got, "Free") {
				t.Errorf("%s: plan %q, want Free", status, got)
			}
			if got, want := seats(t), "5 of 2"; got != want {
				t.Errorf("%s: seats %q, want %q", status, got, want)
			}
			if code := invite(t, "sixth@example.com"); code != http.StatusUnprocessableEntity {
				t.Errorf("%s: invite beyond the free limit: status %d, want 422", status, code)
			}
			members := owner.Get(path + "/members")
			if !members.Has("seat-limit") {
				t.Errorf("%s: members page lacks the seat limit", status)
			}
			if !hasMemberRow(members, "member@example.com") || members.Doc.Find(inviteRowSel("fifth@example.com")).Length() != 1 {
				t.Errorf("%s: a member or a pending invite is gone:\n%s", status, members.Body)
			}
		})
	}

	t.Run("Reactivated", func(t *testing.T) {
		setStatus(t, app.SubActive)
		if code := invite(t, "sixth@example.com"); code != http.StatusSeeOther {
			t.Errorf("invite after reactivation: status %d, want 303", code)
		}
	})
}

// TestBilling_NoSecondCheckout: a workspace that already pays is sent to
// Manage billing instead of a second Checkout (a double charge).
func TestBilling_NoSecondCheckout(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	a := newTestApp(t, "sqlite", withStripe(mock))
	owner, slug, wsID := billingOwner(t, a, "owner@example.com")
	a.mustApply(t, subscriptionEvent("evt_paid", "customer.subscription.created", "active", time.Now(), wsID, "cus_paid"), app.EventApplied)

	res := owner.Post("/w/"+slug+"/billing/checkout", nil)
	if got, want := res.Location(), "/w/"+slug+"/billing"; res.StatusCode != http.StatusSeeOther || got != want {
		t.Fatalf("checkout of a paying workspace: %d to %q, want 303 to %q", res.StatusCode, got, want)
	}
	if got := owner.Follow(res).Text("flash"); !strings.Contains(got, "already has a subscription") {
		t.Errorf("flash %q", got)
	}
	if n := a.auditCount(t, wsID, app.ActionCheckoutStarted); n != 0 {
		t.Errorf("%d checkouts started, want 0", n)
	}
}
