package store_test

import (
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestBillingService_OtherSubscription: a customer's old subscription
// ending must not downgrade the workspace that pays through a new one.
func TestBillingService_OtherSubscription(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		current := subUpdate(f.ws.ID, "cus_1", app.SubActive, t0)
		current.SubscriptionID = "sub_new"
		if got := f.apply(t, "evt_new", "customer.subscription.created", t0, current); got != app.EventApplied {
			t.Fatalf("new subscription: %s", got)
		}
		old := subUpdate(f.ws.ID, "cus_1", app.SubCanceled, t0.Add(time.Hour))
		old.SubscriptionID = "sub_old"
		if got, want := f.apply(t, "evt_old", "customer.subscription.deleted", t0.Add(time.Hour), old), app.EventStale; got != want {
			t.Fatalf("old subscription's end = %s, want %s", got, want)
		}
		if ws := f.workspace(t); ws.Plan != app.PlanPro || ws.SubscriptionStatus != app.SubActive || ws.StripeSubscriptionID != "sub_new" {
			t.Fatalf("workspace after the old subscription ended: plan %s status %s sub %s", ws.Plan, ws.SubscriptionStatus, ws.StripeSubscriptionID)
		}
	})
}

// TestWorkspaceService_DeletePayingWorkspace: a workspace with a live
// subscription cannot be deleted (Stripe would keep charging).
func TestWorkspaceService_DeletePayingWorkspace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		upd := subUpdate(f.ws.ID, "cus_1", app.SubActive, time.Now())
		if got := f.apply(t, "evt_1", "customer.subscription.created", time.Now(), upd); got != app.EventApplied {
			t.Fatalf("apply: %s", got)
		}
		workspaces := store.NewWorkspaceService(db)
		if err := workspaces.DeleteWorkspace(f.owner, app.ScopeOf(f.owner, f.ws.ID)); app.ErrorCode(err) != app.ECONFLICT {
			t.Fatalf("DeleteWorkspace with an active subscription: %v, want conflict", err)
		}
		if f.workspace(t).ID != f.ws.ID {
			t.Fatal("the workspace is gone")
		}
		canceled := subUpdate(f.ws.ID, "cus_1", app.SubCanceled, time.Now().Add(time.Minute))
		f.apply(t, "evt_2", "customer.subscription.deleted", time.Now().Add(time.Minute), canceled)
		if err := workspaces.DeleteWorkspace(f.owner, app.ScopeOf(f.owner, f.ws.ID)); err != nil {
			t.Fatalf("DeleteWorkspace after cancellation: %v", err)
		}
	})
}
