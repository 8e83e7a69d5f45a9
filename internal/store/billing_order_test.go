package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestBillingService_RacingEvents delivers a subscription's deletion
// (created T+2) and an older update to active (created T+1) at the same
// moment, 30 times: whichever transaction runs first, the workspace ends
// canceled on the free plan.
func TestBillingService_RacingEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		workspaces := store.NewWorkspaceService(db)
		t0 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		wrong := 0
		for trial := range 30 {
			ws, err := workspaces.CreateWorkspace(f.owner, fmt.Sprintf("Race %d", trial), fmt.Sprintf("race-%d", trial))
			if err != nil {
				t.Fatal(err)
			}
			customer := fmt.Sprintf("cus_race_%d", trial)
			updated := subUpdate(ws.ID, customer, app.SubActive, t0.Add(time.Second))
			deleted := subUpdate(ws.ID, customer, app.SubCanceled, t0.Add(2*time.Second))
			deleted.Action = app.ActionSubscriptionDeleted
			events := []struct {
				ev  app.StripeEvent
				upd *app.BillingUpdate
			}{
				{app.StripeEvent{ID: fmt.Sprintf("evt_upd_%d", trial), Type: "customer.subscription.updated", Created: updated.AsOf, Payload: []byte(`{}`)}, updated},
				{app.StripeEvent{ID: fmt.Sprintf("evt_del_%d", trial), Type: "customer.subscription.deleted", Created: deleted.AsOf, Payload: []byte(`{}`)}, deleted},
			}
			results := make([]string, len(events))
			errs := make([]error, len(events))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, e := range events {
				wg.Go(func() {
					<-start
					results[i], errs[i] = f.billing.ApplyStripeEvent(context.Background(), e.ev, e.upd)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("trial %d, %s: %v", trial, events[i].ev.ID, err)
				}
			}
			got, err := f.billing.FindWorkspaceBySlug(context.Background(), ws.Slug)
			if err != nil {
				t.Fatal(err)
			}
			if got.SubscriptionStatus != app.SubCanceled || got.Plan != app.PlanFree || results[1] != app.EventApplied {
				wrong++
				t.Errorf("trial %d: results updated=%s deleted=%s, workspace %s/%s; want deleted applied and canceled/free",
					trial, results[0], results[1], got.Plan, got.SubscriptionStatus)
			}
		}
		if wrong != 0 {
			t.Errorf("%d of 30 trials ended wrong", wrong)
		}
	})
}

// TestBillingService_SameSecond: Stripe's timestamps are whole seconds, and
// a subscription's last update and its deletion often share one. The
// terminal status wins the tie whatever the arrival order; two live
// statuses in one second are left for Stripe to settle.
func TestBillingService_SameSecond(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		workspaces := store.NewWorkspaceService(db)
		t0 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		at := t0.Add(time.Minute)
		for _, order := range [][]string{{"deleted", "updated"}, {"updated", "deleted"}} {
			name := order[0] + "Then" + order[1]
			t.Run(name, func(t *testing.T) {
				ws, err := workspaces.CreateWorkspace(f.owner, name, "")
				if err != nil {
					t.Fatal(err)
				}
				customer := "cus_" + name
				if got := f.apply(t, "evt_created_"+name, "customer.subscription.created", t0, subUpdate(ws.ID, customer, app.SubActive, t0)); got != app.EventApplied {
					t.Fatalf("created: %s", got)
				}
				for _, kind := range order {
					upd := subUpdate(ws.ID, customer, app.SubActive, at)
					if kind == "deleted" {
						upd.Status, upd.Action = app.SubCanceled, app.ActionSubscriptionDeleted
					}
					f.apply(t, "evt_"+kind+"_"+name, "customer.subscription."+kind, at, upd)
				}
				got, err := f.billing.FindWorkspaceBySlug(context.Background(), ws.Slug)
				if err != nil {
					t.Fatal(err)
				}
				if got.SubscriptionStatus != app.SubCanceled || got.Plan != app.PlanFree {
					t.Errorf("after %v in one second: plan %s status %s, want free canceled", order, got.Plan, got.SubscriptionStatus)
				}
				if ev := f.event(t, "evt_deleted_"+name); ev.Status != app.EventApplied {
					t.Errorf("deleted stored as %s, want applied", ev.Status)
				}
				wantUpdated := app.EventStale
				if order[0] == "updated" {
					wantUpdated = app.EventApplied
				}
				if ev := f.event(t, "evt_updated_"+name); ev.Status != wantUpdated {
					t.Errorf("updated stored as %s, want %s", ev.Status, wantUpdated)
				}
			})
		}
	})
}

// TestBillingService_LateCheckout: Stripe retries a Checkout's completion
// for days. Arriving after a newer subscription is live, it must not
// re-point the workspace, and the newer subscription's end still ends the
// plan.
func TestBillingService_LateCheckout(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		t0 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		subB := subUpdate(f.ws.ID, "cus_1", app.SubActive, t0.Add(time.Hour))
		subB.SubscriptionID = "sub_B"
		if got := f.apply(t, "evt_b_created", "customer.subscription.created", subB.AsOf, subB); got != app.EventApplied {
			t.Fatalf("sub_B created: %s", got)
		}
		checkoutA := &app.BillingUpdate{WorkspaceID: f.ws.ID, CustomerID: "cus_1", SubscriptionID: "sub_A",
			Action: "billing.checkout_completed", AsOf: t0}
		if got, want := f.apply(t, "evt_a_checkout", "checkout.session.completed", t0, checkoutA), app.EventStale; got != want {
			t.Errorf("late checkout for sub_A: %s, want %s", got, want)
		}
		if ws := f.workspace(t); ws.StripeSubscriptionID != "sub_B" || ws.Plan != app.PlanPro {
			t.Fatalf("after the late checkout: subscription %s plan %s, want sub_B pro", ws.StripeSubscriptionID, ws.Plan)
		}
		if n := len(f.audits(t, "billing.checkout_completed")); n != 0 {
			t.Errorf("%d checkout audit entries for a stale event, want 0", n)
		}
		endB := subUpdate(f.ws.ID, "cus_1", app.SubCanceled, t0.Add(2*time.Hour))
		endB.SubscriptionID, endB.Action = "sub_B", app.ActionSubscriptionDeleted
		if got := f.apply(t, "evt_b_deleted", "customer.subscription.deleted", endB.AsOf, endB); got != app.EventApplied {
			t.Fatalf("sub_B deleted: %s, want applied", got)
		}
		if ws := f.workspace(t); ws.Plan != app.PlanFree || ws.SubscriptionStatus != app.SubCanceled {
			t.Errorf("after sub_B ended: plan %s status %s, want free canceled", ws.Plan, ws.SubscriptionStatus)
		}

		// A checkout newer than the applied state is the workspace's new
		// subscription.
		checkoutC := &app.BillingUpdate{WorkspaceID: f.ws.ID, CustomerID: "cus_1", SubscriptionID: "sub_C",
			Action: "billing.checkout_completed", AsOf: t0.Add(3 * time.Hour)}
		if got := f.apply(t, "evt_c_checkout", "checkout.session.completed", checkoutC.AsOf, checkoutC); got != app.EventApplied {
			t.Errorf("newer checkout for sub_C: %s, want applied", got)
		}
		if ws := f.workspace(t); ws.StripeSubscriptionID != "sub_C" {
			t.Errorf("subscription %s, want sub_C", ws.StripeSubscriptionID)
		}
	})
}

// TestBillingService_LiveTie: two live statuses in one second cannot be
// ordered by their events: the store records nothing and answers tied, so
// the caller re-reads the subscription; the re-read state then applies.
func TestBillingService_LiveTie(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		t0 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		if got := f.apply(t, "evt_active", "customer.subscription.updated", t0, subUpdate(f.ws.ID, "cus_1", app.SubActive, t0)); got != app.EventApplied {
			t.Fatalf("first: %s", got)
		}
		pastDue := subUpdate(f.ws.ID, "cus_1", app.SubPastDue, t0)
		if got := f.apply(t, "evt_past_due", "customer.subscription.updated", t0, pastDue); got != app.EventTied {
			t.Fatalf("same-second live update: %s, want %s", got, app.EventTied)
		}
		if n := f.eventRows(t, "evt_past_due"); n != 0 {
			t.Errorf("%d rows for a tied event, want 0 (it is recorded once settled)", n)
		}
		if ws := f.workspace(t); ws.SubscriptionStatus != app.SubActive {
			t.Errorf("status %s after a tie, want active", ws.SubscriptionStatus)
		}
		reread := subUpdate(f.ws.ID, "cus_1", app.SubPastDue, t0)
		reread.Refreshed = true
		if got := f.apply(t, "evt_past_due", "customer.subscription.updated", t0, reread); got != app.EventApplied {
			t.Fatalf("re-read state: %s, want applied", got)
		}
		if ws := f.workspace(t); ws.SubscriptionStatus != app.SubPastDue {
			t.Errorf("status %s, want past_due", ws.SubscriptionStatus)
		}
		if md := f.audits(t, app.ActionSubscriptionUpdated)[0].Metadata; md["refreshed_from_stripe"] != true {
			t.Errorf("audit metadata %v, want refreshed_from_stripe", md)
		}
	})
}
