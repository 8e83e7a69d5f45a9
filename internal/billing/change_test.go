package billing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
)

// changeCatalog is the catalog of the plan change tests: Pro at $12 a
// seat a month or $120 a year, Business at $24 or $240.
func changeCatalog() *app.Catalog {
	return app.NewCatalog(app.CatalogConfig{Currency: "usd", ProMonthly: "price_pm", ProAnnual: "price_py",
		BusinessMonthly: "price_bm", BusinessAnnual: "price_by",
		ProMonthlyAmount: 1200, ProAnnualAmount: 12000, BusMonthlyAmount: 2400, BusAnnualAmount: 24000})
}

// changeStripe starts stripe-mock behind the plan change fake, with a
// subscription of 2 seats on price, and a recorder in front; it returns
// the client and the recorder.
func changeStripe(t *testing.T, price, schedule string, upcoming map[string][]billingtest.Line) (*billing.Client, *billingtest.Recorder) {
	t.Helper()
	fake := &billingtest.PlanChangeStripe{PriceID: price, Quantity: 2, ScheduleID: schedule, Upcoming: upcoming, Currency: "usd"}
	rec := billingtest.NewRecorder(t, fake.Start(t, billingtest.StripeMock(t)))
	return billing.New(billing.Config{SecretKey: "sk_test_123", PriceID: "price_pm", APIBase: rec.URL, Plans: changeCatalog()}), rec
}

var (
	changeNow = time.Date(2026, 12, 20, 10, 0, 0, 0, time.UTC)
	periodEnd = time.Date(2027, 1, 5, 10, 0, 0, 0, time.UTC)
)

func changeWorkspace() *app.Workspace {
	return &app.Workspace{ID: 42, StripeCustomerID: "cus_1", StripeSubscriptionID: "sub_1", SubscriptionStatus: app.SubActive,
		Plan: app.PlanPro, CurrentPeriodEnd: periodEnd}
}

func TestClient_PreviewChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	upcoming := map[string][]billingtest.Line{
		// Pro → Business, monthly: the rest of the period at the
		// difference, then Business from the period end.
		"price_bm": {{Amount: -1240, Proration: true, Start: changeNow.Unix(), End: periodEnd.Unix()},
			{Amount: 2480, Proration: true, Start: changeNow.Unix(), End: periodEnd.Unix()},
			{Amount: 4800, Start: periodEnd.Unix(), End: periodEnd.AddDate(0, 1, 0).Unix()}},
		// Pro monthly → annual: a new year starts now.
		"price_py": {{Amount: -1240, Proration: true, Start: changeNow.Unix(), End: periodEnd.Unix()},
			{Amount: 24000, Start: changeNow.Unix(), End: changeNow.AddDate(1, 0, 0).Unix()}},
	}

	t.Run("Upgrade", func(t *testing.T) {
		c, rec := changeStripe(t, "price_pm", "", upcoming)
		pv, err := c.PreviewChange(ctx, changeWorkspace(), "price_bm", changeNow)
		if err != nil {
			t.Fatalf("PreviewChange: %v", err)
		}
		want := billing.Preview{Kind: app.ChangeUpgrade, PriceID: "price_bm", ProrationDate: changeNow, DueToday: 1240, Recurring: 4800,
			Interval: app.Monthly, RecurringFrom: periodEnd, Currency: "usd"}
		if *pv != want {
			t.Errorf("preview %+v, want %+v", *pv, want)
		}
		sent := rec.Sent("POST /v1/invoices/create_preview")
		if len(sent) != 1 {
			t.Fatalf("%d upcoming invoice requests, want 1", len(sent))
		}
		for k, v := range map[string]string{"customer": "cus_1", "subscription": "sub_1", "subscription_details[items][0][id]": "si_item",
			"subscription_details[items][0][price]": "price_bm", "subscription_details[items][0][quantity]": "2",
			"subscription_details[proration_date]": "1797760800"} {
			if got := sent[0].Get(k); got != v {
				t.Errorf("upcoming %s=%q, want %q", k, got, v)
			}
		}
	})
	t.Run("MonthlyToAnnual", func(t *testing.T) {
		c, _ := changeStripe(t, "price_pm", "", upcoming)
		pv, err := c.PreviewChange(ctx, changeWorkspace(), "price_py", changeNow)
		if err != nil {
			t.Fatalf("PreviewChange: %v", err)
		}
		if pv.Kind != app.ChangeUpgrade || pv.DueToday != 22760 || pv.Recurring != 24000 || pv.Interval != app.Annual || !pv.NewPeriod ||
			!pv.RecurringFrom.Equal(changeNow.AddDate(1, 0, 0)) {
			t.Errorf("preview %+v, want $227.60 today and $240.00 a year from %s", *pv, changeNow.AddDate(1, 0, 0))
		}
	})
	t.Run("DowngradeFromTheCatalog", func(t *testing.T) {
		c, rec := changeStripe(t, "price_by", "", upcoming)
		pv, err := c.PreviewChange(ctx, changeWorkspace(), "price_pm", changeNow)
		if err != nil {
			t.Fatalf("PreviewChange: %v", err)
		}
		if pv.Kind != app.ChangeDowngrade || pv.DueToday != 0 || pv.Recurring != 2400 || !pv.RecurringFrom.Equal(periodEnd) {
			t.Errorf("preview %+v, want nothing today and 2 seats × $12.00 from the period end", *pv)
		}
		if n := len(rec.Sent("POST /v1/invoices/create_preview")); n != 0 {
			t.Errorf("a downgrade asked for %d invoice previews, want none", n)
		}
	})
	t.Run("NoChange", func(t *testing.T) {
		c, _ := changeStripe(t, "price_pm", "", upcoming)
		for _, price := range []string{"price_pm", "price_unknown"} {
			if _, err := c.PreviewChange(ctx, changeWorkspace(), price, changeNow); !errors.Is(err, billing.ErrNoChange) {
				t.Errorf("PreviewChange(%s): %v, want ErrNoChange", price, err)
			}
		}
	})
}

func TestClient_ChangePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("UpgradeChargesNow", func(t *testing.T) {
		c, rec := changeStripe(t, "price_pm", "", nil)
		ch, err := c.ChangePlan(ctx, changeWorkspace(), "price_bm", changeNow, changeNow.Add(2*time.Minute))
		if err != nil {
			t.Fatalf("ChangePlan: %v", err)
		}
		if ch.Kind != app.ChangeUpgrade || ch.ScheduleID != "" {
			t.Errorf("change %+v, want an upgrade without schedule", *ch)
		}
		// A double submit of the same preview: one key.
		if _, err := c.ChangePlan(ctx, changeWorkspace(), "price_bm", changeNow, changeNow.Add(3*time.Minute)); err != nil {
			t.Fatalf("ChangePlan again: %v", err)
		}
		sent := rec.Sent("POST /v1/subscriptions/sub_1")
		if len(sent) != 2 {
			t.Fatalf("%d subscription updates, want 2 (one per submit)", len(sent))
		}
		for k, v := range map[string]string{"items[0][id]": "si_item", "items[0][price]": "price_bm", "items[0][quantity]": "2",
			"proration_behavior": "always_invoice", "proration_date": "1797760800", "payment_behavior": "pending_if_incomplete"} {
			if got := sent[0].Get(k); got != v {
				t.Errorf("update %s=%q, want %q", k, got, v)
			}
		}
		keys := rec.Keys("POST /v1/subscriptions/sub_1")
		if keys[0] == "" || keys[0] != keys[1] {
			t.Errorf("idempotency keys %q, want one non-empty key for both submits", keys)
		}
		if n := len(rec.Sent("POST /v1/subscription_schedules")); n != 0 {
			t.Errorf("an upgrade created %d schedules", n)
		}
	})
	t.Run("UpgradeReleasesAWaitingDowngrade", func(t *testing.T) {
		c, rec := changeStripe(t, "price_pm", "sub_sched_waiting", nil)
		if _, err := c.ChangePlan(ctx, changeWorkspace(), "price_py", changeNow, changeNow); err != nil {
			t.Fatalf("ChangePlan: %v", err)
		}
		if n := len(rec.Sent("POST /v1/subscription_schedules/sub_sched_waiting/release")); n != 1 {
			t.Errorf("%d releases of the waiting schedule, want 1", n)
		}
	})
	t.Run("DowngradeWaitsForThePeriodEnd", func(t *testing.T) {
		c, rec := changeStripe(t, "price_by", "", nil)
		ch, err := c.ChangePlan(ctx, changeWorkspace(), "price_pm", changeNow, changeNow)
		if err != nil {
			t.Fatalf("ChangePlan: %v", err)
		}
		if ch.Kind != app.ChangeDowngrade || ch.ScheduleID == "" || !ch.EffectiveAt.Equal(periodEnd) {
			t.Errorf("change %+v, want a downgrade on a schedule at %s", *ch, periodEnd)
		}
		if n := len(rec.Sent("POST /v1/subscriptions/sub_1")); n != 0 {
			t.Errorf("a downgrade updated the subscription %d times, want none", n)
		}
		created := rec.Sent("POST /v1/subscription_schedules")
		if len(created) != 1 || created[0].Get("from_subscription") != "sub_1" {
			t.Fatalf("schedules created %v, want one from sub_1", created)
		}
		phases := rec.Sent("POST /v1/subscription_schedules/" + ch.ScheduleID)
		if len(phases) != 1 {
			t.Fatalf("%d schedule updates, want 1", len(phases))
		}
		for k, v := range map[string]string{"end_behavior": "release",
			"phases[0][items][0][price]": "price_by", "phases[0][items][0][quantity]": "2", "phases[0][end_date]": "1799143200",
			"phases[1][items][0][price]": "price_pm", "phases[1][items][0][quantity]": "2", "phases[1][proration_behavior]": "none",
			"metadata[workspace_id]": "42"} {
			if got := phases[0].Get(k); got != v {
				t.Errorf("phases %s=%q, want %q", k, got, v)
			}
		}
		if k := rec.Keys("POST /v1/subscription_schedules"); len(k) != 1 || k[0] == "" {
			t.Errorf("schedule creation keys %q, want one", k)
		}
	})
	t.Run("ExpiredPreview", func(t *testing.T) {
		c, rec := changeStripe(t, "price_pm", "", nil)
		for _, now := range []time.Time{changeNow.Add(billing.PreviewWindow + time.Second), changeNow.Add(-2 * time.Minute)} {
			if _, err := c.ChangePlan(ctx, changeWorkspace(), "price_bm", changeNow, now); !errors.Is(err, billing.ErrPreviewExpired) {
				t.Errorf("ChangePlan at %s: %v, want ErrPreviewExpired", now, err)
			}
		}
		if n := len(rec.Sent("POST /v1/subscriptions/sub_1")); n != 0 {
			t.Errorf("an expired preview made %d updates", n)
		}
	})
}

func TestClient_CancelAtPeriodEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, rec := changeStripe(t, "price_pm", "", nil)
	ws := changeWorkspace()
	for _, step := range []struct {
		cancel bool
		at     time.Time
	}{{true, changeNow}, {true, changeNow}, {false, changeNow.Add(time.Minute)}, {true, changeNow.Add(2 * time.Minute)}} {
		if err := c.CancelAtPeriodEnd(ctx, ws, step.cancel, step.at); err != nil {
			t.Fatalf("CancelAtPeriodEnd(%v): %v", step.cancel, err)
		}
	}
	sent, keys := rec.Sent("POST /v1/subscriptions/sub_1"), rec.Keys("POST /v1/subscriptions/sub_1")
	if len(sent) != 4 {
		t.Fatalf("%d updates, want 4", len(sent))
	}
	for i, want := range []string{"true", "true", "false", "true"} {
		if got := sent[i].Get("cancel_at_period_end"); got != want {
			t.Errorf("request %d cancel_at_period_end=%q, want %q", i, got, want)
		}
	}
	if keys[0] != keys[1] || keys[1] == keys[2] || keys[0] == keys[3] || keys[2] == keys[3] {
		t.Errorf("keys %q: want the double submit to share one, and cancel, resume, cancel to differ", keys)
	}

	t.Run("ReleasesAWaitingDowngrade", func(t *testing.T) {
		c, rec := changeStripe(t, "price_by", "sub_sched_waiting", nil)
		// Atrium recorded no waiting change (the schedule was made in the
		// dashboard): the subscription's own schedule is released anyway.
		if err := c.CancelAtPeriodEnd(ctx, changeWorkspace(), true, changeNow); err != nil {
			t.Fatalf("CancelAtPeriodEnd: %v", err)
		}
		if n := len(rec.Sent("POST /v1/subscription_schedules/sub_sched_waiting/release")); n != 1 {
			t.Errorf("%d releases, want 1 before cancelling", n)
		}
	})
}

// TestInterpret_ScheduleEnded: a schedule's end names the schedule and
// carries no subscription status, so it never moves the subscription state.
func TestInterpret_ScheduleEnded(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{billing.EventScheduleReleased, billing.EventScheduleCompleted, billing.EventScheduleCanceled} {
		ev := billingtest.Event{ID: "evt_s", Type: typ, Created: changeNow, Object: map[string]any{"id": "sub_sched_1",
			"object": "subscription_schedule", "customer": "cus_1", "status": "released", "subscription": nil,
			"released_subscription": "sub_1", "metadata": map[string]any{"workspace_id": "42"}}}
		upd, err := billing.Interpret(&app.StripeEvent{ID: ev.ID, Type: typ, Created: changeNow, Payload: ev.JSON()})
		if err != nil || upd == nil {
			t.Fatalf("%s: %v, %v", typ, upd, err)
		}
		want := app.BillingUpdate{WorkspaceID: 42, CustomerID: "cus_1", ScheduleID: "sub_sched_1", ScheduleStatus: "released",
			Action: app.ActionScheduleEnded, AsOf: changeNow}
		if *upd != want {
			t.Errorf("%s: %+v, want %+v", typ, *upd, want)
		}
	}
}
