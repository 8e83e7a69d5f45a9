package billing_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
)

// seatCatalog is the catalog with Pro priced per seat, or flat.
func seatCatalog(pricing app.Pricing) *app.Catalog {
	c := app.NewCatalog(app.CatalogConfig{Currency: "usd", ProMonthly: "price_pro_monthly", BusinessMonthly: "price_bus_monthly"})
	for i := range c.Plans {
		if c.Plans[i].Key == app.PlanPro {
			c.Plans[i].Pricing = pricing
		}
	}
	return c
}

// fakeSeats is a SeatStore over one workspace.
type fakeSeats struct {
	ws       app.Workspace
	members  int
	recorded [][2]int
}

func (f *fakeSeats) SeatState(context.Context, int64) (*app.Workspace, int, error) {
	ws := f.ws
	return &ws, f.members, nil
}

func (f *fakeSeats) RecordSeats(_ context.Context, _ int64, from, to int) error {
	f.recorded = append(f.recorded, [2]int{from, to})
	f.ws.SeatQuantity = to
	return nil
}

// proWorkspace is a workspace on a live Pro subscription of quantity.
func proWorkspace(quantity int) app.Workspace {
	return app.Workspace{ID: 7, Plan: app.PlanPro, SubscriptionStatus: app.SubActive, StripeSubscriptionID: "sub_seats",
		StripeCustomerID: "cus_1", PriceID: "price_pro_monthly", SeatQuantity: quantity}
}

func TestSeatsKey(t *testing.T) {
	t.Parallel()
	a := billing.SeatsKey(7, 6, 5, "job:41")
	if b := billing.SeatsKey(7, 6, 5, "job:41"); a != b {
		t.Errorf("two attempts of one job: %q and %q, want equal", a, b)
	}
	// 5 → 6, back to 5 by a later job, then 6 again by a third: a new key.
	if b := billing.SeatsKey(7, 6, 5, "job:43"); a == b {
		t.Errorf("a return to 6 by a later job reuses %q", a)
	}
	for _, other := range []string{billing.SeatsKey(8, 6, 5, "job:41"), billing.SeatsKey(7, 7, 5, "job:41"), billing.SeatsKey(7, 6, 4, "job:41")} {
		if other == a {
			t.Errorf("another workspace, target or starting quantity shares %q", a)
		}
	}
}

func TestReconcileSeats(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	item := billingtest.SubscriptionItemID(t, mock)
	updates := "POST /v1/subscription_items/" + item

	t.Run("Behind", func(t *testing.T) {
		t.Parallel()
		rec := billingtest.NewRecorder(t, mock)
		c := billing.New(billing.Config{SecretKey: "sk_test_123", APIBase: rec.URL, Plans: seatCatalog(app.PricingPerSeat)})
		st := &fakeSeats{ws: proWorkspace(4), members: 6}
		res, err := billing.ReconcileSeats(context.Background(), c, st, 7, "job:41")
		if err != nil {
			t.Fatalf("ReconcileSeats: %v", err)
		}
		// stripe-mock's item has quantity 1, whatever was stored.
		if !res.Updated || res.Stripe != 1 || res.Members != 6 {
			t.Fatalf("result %+v, want updated from 1 to 6", res)
		}
		sent := rec.Sent(updates)
		if len(sent) != 1 {
			t.Fatalf("%d item updates, want 1", len(sent))
		}
		if got := sent[0].Get("quantity"); got != "6" {
			t.Errorf("quantity=%q, want 6", got)
		}
		if got := sent[0].Get("proration_behavior"); got != "create_prorations" {
			t.Errorf("proration_behavior=%q, want create_prorations", got)
		}
		if got, want := rec.Keys(updates)[0], billing.SeatsKey(7, 6, 1, "job:41"); got != want {
			t.Errorf("Idempotency-Key=%q, want %q", got, want)
		}
		if len(st.recorded) != 1 || st.recorded[0] != [2]int{1, 6} {
			t.Errorf("recorded %v, want [[1 6]]", st.recorded)
		}
		if got, want := res.Sentence(), "Seats: Stripe had 1, the workspace has 6 members: updated to 6."; got != want {
			t.Errorf("sentence %q, want %q", got, want)
		}
	})

	t.Run("RetrySendsTheSameKey", func(t *testing.T) {
		t.Parallel()
		rec := billingtest.NewRecorder(t, mock)
		c := billing.New(billing.Config{SecretKey: "sk_test_123", APIBase: rec.URL, Plans: seatCatalog(app.PricingPerSeat)})
		for range 2 {
			// The record failed or the process died: the stored quantity
			// stays behind and the job's next attempt asks again.
			st := &fakeSeats{ws: proWorkspace(4), members: 6}
			if _, err := billing.ReconcileSeats(context.Background(), c, st, 7, "job:41"); err != nil {
				t.Fatal(err)
			}
		}
		st := &fakeSeats{ws: proWorkspace(4), members: 6}
		if _, err := billing.ReconcileSeats(context.Background(), c, st, 7, "job:57"); err != nil {
			t.Fatal(err)
		}
		keys := rec.Keys(updates)
		if len(keys) != 3 || keys[0] != keys[1] || keys[2] == keys[0] {
			t.Fatalf("keys %q: want the first two equal (one job) and the third new (a later job)", keys)
		}
	})

	t.Run("NeverAsked", func(t *testing.T) {
		t.Parallel()
		free := app.Workspace{ID: 7, Plan: app.PlanFree}
		canceled := proWorkspace(2)
		canceled.SubscriptionStatus = app.SubCanceled
		cases := []struct {
			name    string
			pricing app.Pricing
			ws      app.Workspace
			members int
		}{
			{"Free", app.PricingPerSeat, free, 6},
			{"FlatPlan", app.PricingFlat, proWorkspace(1), 6},
			{"Canceled", app.PricingPerSeat, canceled, 6},
			{"InStep", app.PricingPerSeat, proWorkspace(6), 6},
		}
		for _, tc := range cases {
			rec := billingtest.NewRecorder(t, mock)
			c := billing.New(billing.Config{SecretKey: "sk_test_123", APIBase: rec.URL, Plans: seatCatalog(tc.pricing)})
			st := &fakeSeats{ws: tc.ws, members: tc.members}
			res, err := billing.ReconcileSeats(context.Background(), c, st, 7, "job:1")
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if n := len(rec.Sent("GET /v1/subscriptions/sub_seats")) + len(rec.Sent(updates)); n != 0 || len(st.recorded) != 0 || res.Updated {
				t.Errorf("%s: %d Stripe requests, recorded %v, result %+v; want none", tc.name, n, st.recorded, res)
			}
		}
	})

	t.Run("StripeDown", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + l.Addr().String()
		_ = l.Close()
		c := billing.New(billing.Config{SecretKey: "sk_test_123", APIBase: closed, Plans: seatCatalog(app.PricingPerSeat)})
		st := &fakeSeats{ws: proWorkspace(4), members: 6}
		_, err = billing.ReconcileSeats(context.Background(), c, st, 7, "job:1")
		if err == nil {
			t.Fatal("no error with Stripe down")
		}
		var p interface{ Permanent() bool }
		if errors.As(err, &p) && p.Permanent() {
			t.Errorf("Stripe down is permanent: %v; want a retry", err)
		}
		if len(st.recorded) != 0 {
			t.Errorf("recorded %v with Stripe down", st.recorded)
		}
	})
}

func TestClient_PreviewSeats(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	item := billingtest.SubscriptionItemID(t, mock)
	base, sent := billingtest.WithInvoicePreview(t, mock, billingtest.UpcomingSeatInvoice)
	c := billing.New(billing.Config{SecretKey: "sk_test_123", APIBase: base, Plans: seatCatalog(app.PricingPerSeat)})
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	pv, err := c.PreviewSeats(context.Background(), "sub_seats", 4, at)
	if err != nil {
		t.Fatalf("PreviewSeats: %v", err)
	}
	if want := (billing.SeatPreview{Today: 387, Recurring: 4800, Currency: "usd", Interval: "month"}); *pv != want {
		t.Errorf("preview %+v, want %+v", *pv, want)
	}
	q := sent()
	if len(q) != 1 {
		t.Fatalf("%d upcoming invoice reads, want 1", len(q))
	}
	for k, want := range map[string]string{"subscription": "sub_seats", "subscription_details[items][0][id]": item,
		"subscription_details[items][0][quantity]": "4", "subscription_details[proration_behavior]": "create_prorations",
		"subscription_details[proration_date]": "1796472000"} {
		if got := q[0].Get(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
}
