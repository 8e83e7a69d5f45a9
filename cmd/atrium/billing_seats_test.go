package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/config"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestBilling_SyncSeats: "atrium billing sync" also brings a per-seat
// subscription's quantity to the member count (stripe-mock's subscription
// always has quantity 1) and says so, or says it is in step.
func TestBilling_SyncSeats(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbURL, db := billingDatabase(t, dialect)
			rec := billingtest.NewRecorder(t, mock)
			env := config.Env{"DATABASE_URL": dbURL, "STRIPE_SECRET_KEY": "sk_test_atrium", "STRIPE_PRICE_ID": "price_pro",
				"STRIPE_API_BASE": rec.URL}
			ctx := context.Background()
			subscribed := func(ws *app.Workspace, slug string) {
				t.Helper()
				upd := &app.BillingUpdate{WorkspaceID: ws.ID, CustomerID: "cus_" + slug, SubscriptionID: "sub_" + slug,
					Action: billing.ActionCheckoutCompleted, AsOf: time.Now().Add(-time.Hour)}
				if _, err := store.NewBillingService(db).ApplyStripeEvent(ctx, app.StripeEvent{ID: "evt_" + slug, Type: billing.EventCheckoutCompleted,
					Created: upd.AsOf, Payload: []byte(`{}`)}, upd); err != nil {
					t.Fatal(err)
				}
			}

			solo, _ := billingOwnerWorkspace(t, db, "solo@example.com", "Solo", "solo")
			subscribed(solo, "solo")
			res := runAtrium(t, env, "billing", "sync", "--workspace", "solo")
			if res.Code != 0 || !strings.Contains(res.Stdout, "Seats: in step (1).\n") {
				t.Fatalf("exit status %d, want 0 and the seats in step\n%s", res.Code, res.Output())
			}

			pair, owner := billingOwnerWorkspace(t, db, "pair@example.com", "Pair", "pair")
			_, joiner := billingOwnerWorkspace(t, db, "joiner@example.com", "Joiner's own", "joiner")
			token, hash := app.NewToken()
			invites := store.NewInviteService(db)
			if _, err := invites.CreateInvite(owner, app.ScopeOf(owner, pair.ID), app.NewInvite{Email: "joiner@example.com", Role: app.RoleMember,
				TokenHash: hash, ExpiresAt: time.Now().Add(app.InviteTTL)}, app.PlanLimits{}, func(inv *app.Invite, _ string) app.InviteEmail {
				return app.InviteEmail{Email: app.Email{To: inv.Email, Subject: "Join", Text: token, Ref: "invite"}}
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := invites.AcceptInvite(joiner, app.InviteKey{TokenHash: hash}, app.PlanLimits{}); err != nil {
				t.Fatal(err)
			}
			subscribed(pair, "pair")
			res = runAtrium(t, env, "billing", "sync", "--workspace", "pair")
			if res.Code != 0 || !strings.Contains(res.Stdout, "Seats: Stripe had 1, the workspace has 2 members: updated to 2.\n") {
				t.Fatalf("exit status %d, want 0 and the seats updated\n%s", res.Code, res.Output())
			}
			if got := billingWorkspace(t, db, "pair"); got.SeatQuantity != 2 {
				t.Errorf("seat quantity %d, want 2", got.SeatQuantity)
			}
			if n := billingAudits(t, db, pair.ID, app.ActionSeatsSynced); n != 1 {
				t.Errorf("%d %s entries, want 1", n, app.ActionSeatsSynced)
			}
		})
	}
}
