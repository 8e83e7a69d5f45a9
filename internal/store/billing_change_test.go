package store_test

import (
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// priceUpdate is a subscription update on price with cancel_at_period_end.
func priceUpdate(wsID int64, price, plan string, cancel bool, asOf time.Time) *app.BillingUpdate {
	upd := subUpdate(wsID, "cus_1", app.SubActive, asOf)
	upd.PriceID, upd.Plan, upd.Quantity, upd.CancelAtEnd = price, plan, 1, &cancel
	return upd
}

// TestBillingService_PlanChangeEvents: the subscription.updated events of
// plan changes and cancel/resume, applied, duplicated, stale, tied and
// delivered in reverse order.
func TestBillingService_PlanChangeEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
		const typ = "customer.subscription.updated"
		if got := f.apply(t, "evt_pro", typ, t0, priceUpdate(f.ws.ID, "price_pro", app.PlanPro, false, t0)); got != app.EventApplied {
			t.Fatalf("first subscription update: %s", got)
		}

		t.Run("PriceChangeApplied", func(t *testing.T) {
			got := f.apply(t, "evt_business", typ, t0.Add(10*time.Second), priceUpdate(f.ws.ID, "price_business", app.PlanBusiness, false, t0.Add(10*time.Second)))
			if got != app.EventApplied {
				t.Fatalf("upgrade event: %s, want applied", got)
			}
			ws := f.workspace(t)
			if ws.Plan != app.PlanBusiness || ws.PriceID != "price_business" {
				t.Fatalf("plan %q price %q, want business on price_business", ws.Plan, ws.PriceID)
			}
		})
		t.Run("Duplicate", func(t *testing.T) {
			before := len(f.audits(t, app.ActionSubscriptionUpdated))
			got := f.apply(t, "evt_business", typ, t0.Add(10*time.Second), priceUpdate(f.ws.ID, "price_business", app.PlanBusiness, false, t0.Add(10*time.Second)))
			if got != app.EventDuplicate {
				t.Fatalf("second delivery: %s, want duplicate", got)
			}
			if n := len(f.audits(t, app.ActionSubscriptionUpdated)); n != before {
				t.Errorf("%d audit entries after the duplicate, want %d", n, before)
			}
			if n := f.eventRows(t, "evt_business"); n != 1 {
				t.Errorf("%d rows for the event, want 1", n)
			}
		})
		t.Run("StaleDoesNotRollBack", func(t *testing.T) {
			// An event made between the two (Pro, 5s) arrives last.
			got := f.apply(t, "evt_pro_late", typ, t0.Add(5*time.Second), priceUpdate(f.ws.ID, "price_pro", app.PlanPro, false, t0.Add(5*time.Second)))
			if got != app.EventStale {
				t.Fatalf("older event: %s, want stale", got)
			}
			if ws := f.workspace(t); ws.Plan != app.PlanBusiness || ws.PriceID != "price_business" {
				t.Fatalf("plan %q price %q after a stale event, want business kept", ws.Plan, ws.PriceID)
			}
		})
		t.Run("SameSecondTie", func(t *testing.T) {
			at := t0.Add(20 * time.Second)
			if got := f.apply(t, "evt_tie_a", typ, at, priceUpdate(f.ws.ID, "price_business_annual", app.PlanBusiness, false, at)); got != app.EventApplied {
				t.Fatalf("first in the second: %s", got)
			}
			// Two live changes in one second: Stripe must settle it, and
			// nothing of the second is recorded meanwhile.
			if got := f.apply(t, "evt_tie_b", typ, at, priceUpdate(f.ws.ID, "price_pro", app.PlanPro, false, at)); got != app.EventTied {
				t.Fatalf("second in the same second: %s, want tied", got)
			}
			if n := f.eventRows(t, "evt_tie_b"); n != 0 {
				t.Errorf("the tied event was stored (%d rows)", n)
			}
			// Re-read from Stripe, the state wins the tie.
			refreshed := priceUpdate(f.ws.ID, "price_pro", app.PlanPro, false, at)
			refreshed.Refreshed = true
			if got := f.apply(t, "evt_tie_b", typ, at, refreshed); got != app.EventApplied {
				t.Fatalf("refreshed: %s, want applied", got)
			}
			if ws := f.workspace(t); ws.PriceID != "price_pro" || ws.Plan != app.PlanPro {
				t.Errorf("after the tie: plan %q price %q, want Stripe's (pro)", ws.Plan, ws.PriceID)
			}
		})
		t.Run("CancelThenResumeReversed", func(t *testing.T) {
			cancelAt, resumeAt := t0.Add(30*time.Second), t0.Add(40*time.Second)
			if got := f.apply(t, "evt_resume", typ, resumeAt, priceUpdate(f.ws.ID, "price_pro", app.PlanPro, false, resumeAt)); got != app.EventApplied {
				t.Fatalf("resume (delivered first): %s", got)
			}
			if got := f.apply(t, "evt_cancel", typ, cancelAt, priceUpdate(f.ws.ID, "price_pro", app.PlanPro, true, cancelAt)); got != app.EventStale {
				t.Fatalf("cancel (older, delivered second): %s, want stale", got)
			}
			if ws := f.workspace(t); ws.CancelAtPeriodEnd {
				t.Errorf("cancel_at_period_end is true: the older cancel undid the resume")
			}
		})
	})
}

// TestBillingService_ScheduledChange: the owner records a downgrade
// waiting on its schedule (once for a double submit), withdraws it, and
// the webhook clears it only for its own schedule, when the change takes
// place, or when the subscription ends.
func TestBillingService_ScheduledChange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		sc := app.ScopeOf(f.owner, f.ws.ID)
		t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
		at := time.Date(2027, 1, 5, 9, 0, 0, 0, time.UTC)
		ch := app.ScheduledChange{PriceID: "price_pro", At: at, ScheduleID: "sub_sched_1", Plan: "Pro", Interval: app.Monthly}
		const typ = "customer.subscription.updated"
		if got := f.apply(t, "evt_business", typ, t0, priceUpdate(f.ws.ID, "price_business", app.PlanBusiness, false, t0)); got != app.EventApplied {
			t.Fatal(got)
		}
		schedule := func() {
			t.Helper()
			if err := f.billing.SchedulePlanChange(f.owner, sc, ch); err != nil {
				t.Fatalf("SchedulePlanChange: %v", err)
			}
		}

		t.Run("OwnersOnly", func(t *testing.T) {
			if err := f.billing.SchedulePlanChange(f.admin, app.ScopeOf(f.admin, f.ws.ID), ch); app.ErrorCode(err) != app.EFORBIDDEN {
				t.Errorf("admin SchedulePlanChange: %v, want forbidden", err)
			}
			if err := f.billing.RecordBillingRequest(f.admin, app.ScopeOf(f.admin, f.ws.ID), app.ActionCancelRequested, nil); app.ErrorCode(err) != app.EFORBIDDEN {
				t.Errorf("admin RecordBillingRequest: %v, want forbidden", err)
			}
			if err := f.billing.RecordBillingRequest(f.owner, sc, app.ActionWorkspaceDeleted, nil); err == nil {
				t.Errorf("RecordBillingRequest accepted an action that is not a billing request")
			}
			if err := f.billing.RecordBillingRequest(f.owner, sc, app.ActionCancelRequested, map[string]any{"requested_at": 1}); err != nil {
				t.Errorf("owner RecordBillingRequest: %v", err)
			}
			if n := len(f.audits(t, app.ActionCancelRequested)); n != 1 {
				t.Errorf("%d cancel requests audited, want 1", n)
			}
		})
		t.Run("RecordedOnce", func(t *testing.T) {
			schedule()
			schedule()
			ws := f.workspace(t)
			if ws.ScheduledPriceID != "price_pro" || !ws.ScheduledChangeAt.Equal(at) {
				t.Fatalf("scheduled %q at %s, want price_pro at %s", ws.ScheduledPriceID, ws.ScheduledChangeAt, at)
			}
			if ws.Plan != app.PlanBusiness {
				t.Errorf("plan %q, want business until the period ends", ws.Plan)
			}
			entries := f.audits(t, app.ActionPlanChangeScheduled)
			if len(entries) != 1 {
				t.Fatalf("%d plan_change_scheduled entries for a double submit, want 1", len(entries))
			}
			if got := entries[0].Summary(); got == "" || entries[0].Metadata["plan"] != "Pro" {
				t.Errorf("entry %q metadata %v", got, entries[0].Metadata)
			}
		})
		t.Run("OtherScheduleEnds", func(t *testing.T) {
			upd := &app.BillingUpdate{WorkspaceID: f.ws.ID, CustomerID: "cus_1", ScheduleID: "sub_sched_old", ScheduleStatus: "released",
				Action: app.ActionScheduleEnded, AsOf: t0.Add(time.Minute)}
			if got := f.apply(t, "evt_sched_old", "subscription_schedule.released", t0.Add(time.Minute), upd); got != app.EventApplied {
				t.Fatalf("another schedule's release: %s", got)
			}
			if ws := f.workspace(t); ws.ScheduledPriceID != "price_pro" {
				t.Errorf("another schedule's release cleared the scheduled change")
			}
		})
		t.Run("OwnScheduleReleased", func(t *testing.T) {
			upd := &app.BillingUpdate{WorkspaceID: f.ws.ID, CustomerID: "cus_1", ScheduleID: "sub_sched_1", ScheduleStatus: "released",
				Action: app.ActionScheduleEnded, AsOf: t0.Add(2 * time.Minute)}
			if got := f.apply(t, "evt_sched_1", "subscription_schedule.released", t0.Add(2*time.Minute), upd); got != app.EventApplied {
				t.Fatalf("its schedule's release: %s", got)
			}
			if ws := f.workspace(t); ws.ScheduledPriceID != "" || !ws.ScheduledChangeAt.IsZero() || ws.Plan != app.PlanBusiness {
				t.Errorf("scheduled %q at %s, plan %q; want none, business kept", ws.ScheduledPriceID, ws.ScheduledChangeAt, ws.Plan)
			}
			if n := len(f.audits(t, app.ActionScheduleEnded)); n != 2 {
				t.Errorf("%d schedule_ended entries, want 2", n)
			}
		})
		t.Run("ChangeTakesPlace", func(t *testing.T) {
			schedule()
			// The subscription moves to another price first: not the
			// scheduled change.
			if got := f.apply(t, "evt_annual", typ, t0.Add(3*time.Minute), priceUpdate(f.ws.ID, "price_business_annual", app.PlanBusiness, false, t0.Add(3*time.Minute))); got != app.EventApplied {
				t.Fatal(got)
			}
			if ws := f.workspace(t); ws.ScheduledPriceID != "price_pro" {
				t.Fatalf("an update to another price cleared the scheduled change")
			}
			if got := f.apply(t, "evt_moved", typ, t0.Add(4*time.Minute), priceUpdate(f.ws.ID, "price_pro", app.PlanPro, false, t0.Add(4*time.Minute))); got != app.EventApplied {
				t.Fatal(got)
			}
			if ws := f.workspace(t); ws.ScheduledPriceID != "" || ws.Plan != app.PlanPro {
				t.Errorf("after the change: scheduled %q plan %q, want none and pro", ws.ScheduledPriceID, ws.Plan)
			}
		})
		t.Run("Withdraw", func(t *testing.T) {
			schedule()
			if err := f.billing.WithdrawPlanChange(f.admin, app.ScopeOf(f.admin, f.ws.ID)); app.ErrorCode(err) != app.EFORBIDDEN {
				t.Errorf("admin WithdrawPlanChange: %v, want forbidden", err)
			}
			for range 2 {
				if err := f.billing.WithdrawPlanChange(f.owner, sc); err != nil {
					t.Fatalf("WithdrawPlanChange: %v", err)
				}
			}
			if ws := f.workspace(t); ws.ScheduledPriceID != "" {
				t.Errorf("scheduled %q after withdrawing", ws.ScheduledPriceID)
			}
			if n := len(f.audits(t, app.ActionPlanChangeWithdrawn)); n != 1 {
				t.Errorf("%d withdrawn entries for two withdrawals, want 1", n)
			}
		})
		t.Run("SubscriptionEnds", func(t *testing.T) {
			schedule()
			ended := subUpdate(f.ws.ID, "cus_1", app.SubCanceled, t0.Add(5*time.Minute))
			if got := f.apply(t, "evt_deleted", "customer.subscription.deleted", t0.Add(5*time.Minute), ended); got != app.EventApplied {
				t.Fatal(got)
			}
			if ws := f.workspace(t); ws.ScheduledPriceID != "" {
				t.Errorf("scheduled %q after the subscription ended", ws.ScheduledPriceID)
			}
		})
	})
}
