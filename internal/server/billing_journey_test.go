package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/store/storetest"
)

// TestBillingJourney walks an owner through the life of a per-seat
// subscription against stripe-mock itself, with Stripe's side of each
// step delivered as signed webhook events: a trial through Checkout,
// members joining and the quantity following, a switch to annual with a
// preview, then cancelling and resuming.
func TestBillingJourney(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			rec := billingtest.NewRecorder(t, billingtest.StripeMock(t))
			a := newTestApp(t, dialect, withStripe(rec.URL), withPlans(), withEnv("BILLING_TRIAL_DAYS", "14"))
			owner, slug, wsID := billingOwner(t, a, "owner@example.com")
			base := "/w/" + slug + "/billing"
			now := a.Clock.Now().Truncate(time.Second)
			periodEnd := now.Add(14 * 24 * time.Hour)

			// Checkout starts the catalog's trial.
			if res := owner.Post(base+"/checkout", nil); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "https://checkout.stripe.com/") {
				t.Fatalf("checkout: status %d to %q", res.StatusCode, res.Location())
			}
			if sent := rec.Sent("POST /v1/checkout/sessions"); len(sent) != 1 || sent[0].Get("subscription_data[trial_period_days]") != "14" ||
				sent[0].Get("line_items[0][price]") != "price_pro" {
				t.Fatalf("checkout sessions sent: %v", sent)
			}

			// Stripe reports the trialing subscription: one seat of Pro.
			sub := func(id string, at time.Time, status, price string, quantity int, cancel bool) billingtest.Event {
				ev := subscriptionEvent(id, billing.EventSubscriptionUpdated, status, at, wsID, "cus_journey")
				ev.Object["current_period_end"] = periodEnd.Unix()
				ev.Object["cancel_at_period_end"] = cancel
				ev.Object["items"] = map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_journey",
					"quantity": quantity, "price": map[string]any{"id": price}}}}
				if status == app.SubTrialing {
					ev.Object["trial_end"] = periodEnd.Unix()
				}
				return ev
			}
			a.deliverNow(t, sub("evt_j1", now, app.SubTrialing, "price_pro", 1, false), app.EventApplied)
			if kind, text, _ := banner(owner.Get("/w/" + slug)); kind != "trial" || !strings.HasPrefix(text, "Pro trial: 14 days left.") {
				t.Errorf("trial banner %q %q", kind, text)
			}

			// Two people join: the quantity follows through the seat sync.
			inviteAndJoin(t, a, owner, slug, "ada@example.com", "member")
			inviteAndJoin(t, a, owner, slug, "bo@example.com", "admin")
			a.waitSeats(t, slug, 3)
			updates := rec.Sent("POST /v1/subscription_items/" + billingtest.SubscriptionItemID(t, rec.URL))
			if len(updates) == 0 || updates[len(updates)-1].Get("quantity") != "3" {
				t.Fatalf("quantity updates %v, want the last to be 3", updates)
			}
			a.deliverNow(t, sub("evt_j2", now.Add(time.Minute), app.SubActive, "price_pro", 3, false), app.EventApplied)

			// The owner switches to annual: the preview comes from Stripe,
			// and Confirm sends the new price.
			preview := owner.Get(base + "/plan/preview?price=price_pro_annual")
			if preview.StatusCode != http.StatusOK || !strings.HasPrefix(preview.Text("change-preview-summary"), "You pay ") {
				t.Fatalf("annual preview: status %d, summary %q", preview.StatusCode, preview.Text("change-preview-summary"))
			}
			if res := owner.Submit(preview, "change-preview-form", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("confirm the switch: status %d", res.StatusCode)
			}
			changes := rec.Sent("POST /v1/subscriptions/sub_test")
			if len(changes) != 1 || changes[0].Get("items[0][price]") != "price_pro_annual" || changes[0].Get("proration_behavior") != "always_invoice" {
				t.Fatalf("subscription updates %v, want one to price_pro_annual, always invoiced", changes)
			}
			a.deliverNow(t, sub("evt_j3", now.Add(2*time.Minute), app.SubActive, "price_pro_annual", 3, false), app.EventApplied)
			if got := owner.Get(base).Text("billing-in-force-name"); got != "Pro, billed yearly" {
				t.Errorf("plan in force %q after the switch, want Pro, billed yearly", got)
			}

			// Cancel at the period end, then resume.
			confirm := owner.Submit(owner.Get(base), "billing-cancel-form", nil)
			if res := owner.Submit(confirm, "confirm-form", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("cancel: status %d", res.StatusCode)
			}
			a.deliverNow(t, sub("evt_j4", now.Add(3*time.Minute), app.SubActive, "price_pro_annual", 3, true), app.EventApplied)
			page := owner.Get(base)
			if !strings.HasPrefix(page.Text("billing-renewal"), "Cancels on") || !page.Has("billing-resume") {
				t.Fatalf("after cancelling: renewal %q, resume shown %v", page.Text("billing-renewal"), page.Has("billing-resume"))
			}
			a.Clock.Add(time.Second)
			if res := owner.Submit(page, "billing-resume-form", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("resume: status %d", res.StatusCode)
			}
			a.deliverNow(t, sub("evt_j5", now.Add(4*time.Minute), app.SubActive, "price_pro_annual", 3, false), app.EventApplied)
			if got := owner.Get(base).Text("billing-renewal"); !strings.HasPrefix(got, "Renews on") {
				t.Errorf("after resuming: renewal %q", got)
			}
			sent := rec.Sent("POST /v1/subscriptions/sub_test")
			if len(sent) != 3 || sent[1].Get("cancel_at_period_end") != "true" || sent[2].Get("cancel_at_period_end") != "false" {
				t.Errorf("cancel and resume requests %v", sent)
			}
			for _, action := range []string{app.ActionCheckoutStarted, app.ActionSeatsSynced, app.ActionPlanChangeRequested,
				app.ActionCancelRequested, app.ActionResumed} {
				if a.auditCount(t, wsID, action) == 0 {
					t.Errorf("no %s entry in the audit log", action)
				}
			}
		})
	}
}
