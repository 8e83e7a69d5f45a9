package store_test

import (
	"context"
	"testing"
	"time"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestLastStripeEvent returns nil on an empty table and the newest event
// otherwise.
func TestLastStripeEvent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ev, err := db.LastStripeEvent(ctx)
		if err != nil || ev != nil {
			t.Fatalf("LastStripeEvent on an empty table = %+v, %v; want nil, nil", ev, err)
		}
		base := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		for i, id := range []string{"evt_old", "evt_new", "evt_middle"} {
			at := base.Add([]time.Duration{0, 2 * time.Hour, time.Hour}[i])
			status := []string{"applied", "unmatched", "ignored"}[i]
			if err := db.SQL().QueryRowContext(ctx, db.Rebind(`INSERT INTO stripe_events
				(id, type, created_at, received_at, status, error, payload) VALUES (?, ?, ?, ?, ?, '', '{}') RETURNING id`),
				id, "customer.subscription.updated", at, at, status).Scan(new(string)); err != nil {
				t.Fatal(err)
			}
		}
		ev, err = db.LastStripeEvent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := store.StripeEventSummary{ID: "evt_new", Type: "customer.subscription.updated", Status: "unmatched",
			ReceivedAt: base.Add(2 * time.Hour)}
		if ev == nil || *ev != want {
			t.Errorf("LastStripeEvent = %+v, want %+v", ev, want)
		}
	})
}
