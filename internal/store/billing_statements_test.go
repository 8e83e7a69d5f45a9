package store_test

import (
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestBillingService_ApplyStripeEvent_Statements holds the deliveries that
// change nothing to their fewest statements: an ignored event is one
// insert, an event for no workspace the workspace lookup and one insert
// that stores its outcome. They are stored as before, and a second
// delivery is still a duplicate.
func TestBillingService_ApplyStripeEvent_Statements(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		unmatched := &app.BillingUpdate{CustomerID: "cus_nobody", SubscriptionID: "sub_nobody", Status: app.SubActive,
			Action: app.ActionSubscriptionUpdated, AsOf: t0}
		for _, c := range []struct {
			id         string
			upd        *app.BillingUpdate
			want       string
			statements int64
		}{
			{"evt_stmt_ignored", nil, app.EventIgnored, 1},
			{"evt_stmt_unmatched", unmatched, app.EventUnmatched, 2},
		} {
			before := db.Statements()
			if got := f.apply(t, c.id, "customer.subscription.created", t0, c.upd); got != c.want {
				t.Fatalf("%s: result=%q, want %q", c.id, got, c.want)
			}
			if got := db.Statements() - before; got != c.statements {
				t.Errorf("%s: %d statements, want %d", c.id, got, c.statements)
			}
			if ev := f.event(t, c.id); ev.Status != c.want || ev.WorkspaceID != 0 {
				t.Errorf("%s: stored as %q for workspace %d, want %q for none", c.id, ev.Status, ev.WorkspaceID, c.want)
			}
			if got, want := f.apply(t, c.id, "customer.subscription.created", t0, c.upd), app.EventDuplicate; got != want {
				t.Errorf("%s again: result=%q, want %q", c.id, got, want)
			}
		}
	})
}
