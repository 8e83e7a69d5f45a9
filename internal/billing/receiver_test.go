package billing_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// receiverFixture is a Receiver over a real store with an owner who can
// create workspaces.
type receiverFixture struct {
	db    *store.DB
	recv  *billing.Receiver
	owner context.Context
	now   time.Time
}

func newReceiverFixture(t *testing.T, db *store.DB, stripe billing.SubscriptionReader) *receiverFixture {
	t.Helper()
	ctx := context.Background()
	auth := store.NewAuthService(db)
	token, hash := app.NewToken()
	if err := auth.CreateLoginRequest(ctx, app.LoginRequest{Email: "owner@example.com", TokenHash: hash, Next: "/app",
		ExpiresAt: time.Now().Add(app.LoginTokenTTL)}, app.Email{To: "owner@example.com", Subject: "Sign in", Text: token, Ref: "login"}); err != nil {
		t.Fatal(err)
	}
	_, session := app.NewToken()
	u, _, err := auth.CompleteLogin(ctx, app.HashToken(token), app.NewSession{TokenHash: session, IP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	f := &receiverFixture{db: db, owner: app.WithPrincipal(ctx, &app.Principal{User: *u}), now: time.Now()}
	f.recv = &billing.Receiver{Store: store.NewBillingService(db), Stripe: stripe, Secret: secret, Now: func() time.Time { return f.now }}
	return f
}

// workspace creates a workspace.
func (f *receiverFixture) workspace(t *testing.T, slug string) int64 {
	t.Helper()
	ws, err := store.NewWorkspaceService(f.db).CreateWorkspace(f.owner, slug, slug)
	if err != nil {
		t.Fatal(err)
	}
	return ws.ID
}

// state reads a workspace's billing state back.
func (f *receiverFixture) state(t *testing.T, slug string) *app.Workspace {
	t.Helper()
	ws, err := store.NewBillingService(f.db).FindWorkspaceBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// receive signs ev as Stripe does, now, and receives it.
func (f *receiverFixture) receive(t *testing.T, ev billingtest.Event) string {
	t.Helper()
	p := ev.JSON()
	rc, err := f.recv.Receive(context.Background(), p, billingtest.Sign(p, secret, f.now))
	if err != nil {
		t.Fatalf("Receive %s: %v", ev.ID, err)
	}
	return rc.Result
}

// subEvent is a customer.subscription.* event of subscription sub for a
// workspace.
func subEvent(id, typ, sub, status string, created time.Time, wsID int64) billingtest.Event {
	return billingtest.Event{ID: id, Type: typ, Created: created, Object: map[string]any{
		"id": sub, "object": "subscription", "customer": "cus_" + strconv.FormatInt(wsID, 10), "status": status,
		"current_period_end": created.Add(30 * 24 * time.Hour).Unix(), "cancel_at_period_end": false,
		"metadata": map[string]any{"workspace_id": strconv.FormatInt(wsID, 10)}}}
}

// checkoutEvent is the checkout.session.completed of a subscription.
func checkoutEvent(id, sub string, created time.Time, wsID int64) billingtest.Event {
	ref := strconv.FormatInt(wsID, 10)
	return billingtest.Event{ID: id, Type: billing.EventCheckoutCompleted, Created: created, Object: map[string]any{
		"id": "cs_" + id, "object": "checkout.session", "mode": "subscription", "customer": "cus_" + ref,
		"subscription": sub, "client_reference_id": ref}}
}

var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// TestReceiver_Order runs the ordering rules through the pipeline on each
// database: same-second events in both arrival orders, a late Checkout,
// and two events for one workspace raced 30 times.
func TestReceiver_Order(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newReceiverFixture(t, db, nil)

		for _, order := range [][]string{{"deleted", "updated"}, {"updated", "deleted"}} {
			name := order[0] + "-then-" + order[1]
			t.Run("SameSecond/"+name, func(t *testing.T) {
				ws := f.workspace(t, name)
				if got := f.receive(t, subEvent("evt_c_"+name, billing.EventSubscriptionCreated, "sub_1", app.SubActive, t0, ws)); got != app.EventApplied {
					t.Fatalf("created: %s", got)
				}
				for _, kind := range order {
					status := app.SubActive
					if kind == "deleted" {
						status = app.SubCanceled
					}
					f.receive(t, subEvent("evt_"+kind+"_"+name, "customer.subscription."+kind, "sub_1", status, t0.Add(time.Minute), ws))
				}
				if got := f.state(t, name); got.Plan != app.PlanFree || got.SubscriptionStatus != app.SubCanceled {
					t.Errorf("plan %s status %s, want free canceled", got.Plan, got.SubscriptionStatus)
				}
			})
		}

		t.Run("LateCheckout", func(t *testing.T) {
			ws := f.workspace(t, "late")
			if got := f.receive(t, subEvent("evt_b", billing.EventSubscriptionCreated, "sub_B", app.SubActive, t0.Add(time.Hour), ws)); got != app.EventApplied {
				t.Fatalf("sub_B created: %s", got)
			}
			if got := f.receive(t, checkoutEvent("evt_a_checkout", "sub_A", t0, ws)); got != app.EventStale {
				t.Errorf("checkout of sub_A delivered late: %s, want stale", got)
			}
			if got := f.state(t, "late"); got.StripeSubscriptionID != "sub_B" {
				t.Errorf("subscription %s after the late checkout, want sub_B", got.StripeSubscriptionID)
			}
			if got := f.receive(t, subEvent("evt_b_end", billing.EventSubscriptionDeleted, "sub_B", app.SubCanceled, t0.Add(2*time.Hour), ws)); got != app.EventApplied {
				t.Errorf("sub_B deleted: %s, want applied", got)
			}
			if got := f.state(t, "late"); got.Plan != app.PlanFree {
				t.Errorf("plan %s after sub_B ended, want free", got.Plan)
			}
		})

		t.Run("Raced", func(t *testing.T) {
			wrong := 0
			for trial := range 30 {
				slug := fmt.Sprintf("race-%d", trial)
				ws := f.workspace(t, slug)
				events := []billingtest.Event{
					subEvent(fmt.Sprintf("evt_upd_%d", trial), billing.EventSubscriptionUpdated, "sub_1", app.SubActive, t0.Add(time.Second), ws),
					subEvent(fmt.Sprintf("evt_del_%d", trial), billing.EventSubscriptionDeleted, "sub_1", app.SubCanceled, t0.Add(2*time.Second), ws),
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				for _, ev := range events {
					p := ev.JSON()
					wg.Go(func() {
						<-start
						if _, err := f.recv.Receive(context.Background(), p, billingtest.Sign(p, secret, f.now)); err != nil {
							t.Errorf("trial %d: Receive %s: %v", trial, ev.ID, err)
						}
					})
				}
				close(start)
				wg.Wait()
				if got := f.state(t, slug); got.Plan != app.PlanFree || got.SubscriptionStatus != app.SubCanceled {
					wrong++
				}
			}
			if wrong != 0 {
				t.Errorf("%d of 30 raced trials ended on a live plan, want 0", wrong)
			}
		})
	})
}

// TestReceiver_LiveTie: two live statuses of one subscription in one
// second are settled by what Stripe (stripe-mock: active) says now, or
// without Stripe by the larger event id, whatever the arrival order.
func TestReceiver_LiveTie(t *testing.T) {
	mock := billingtest.StripeMock(t)
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		for _, tc := range []struct {
			name   string
			stripe billing.SubscriptionReader
		}{
			{"Stripe", newClient(mock)},
			{"NoStripe", nil},
		} {
			for _, first := range []string{"a", "b"} {
				t.Run(tc.name+"/"+first+"First", func(t *testing.T) {
					f := newReceiverFixture(t, storetest.Open(t, db.Dialect()), tc.stripe)
					ws := f.workspace(t, "tie")
					// evt_tie_b (active) has the larger id: it wins a tie
					// settled by id.
					evA := subEvent("evt_tie_a", billing.EventSubscriptionUpdated, "sub_1", app.SubPastDue, t0, ws)
					evB := subEvent("evt_tie_b", billing.EventSubscriptionUpdated, "sub_1", app.SubActive, t0, ws)
					if first == "b" {
						evA, evB = evB, evA
					}
					if got := f.receive(t, evA); got != app.EventApplied {
						t.Fatalf("first: %s", got)
					}
					second := f.receive(t, evB)
					if got := f.state(t, "tie"); got.SubscriptionStatus != app.SubActive {
						t.Errorf("status %s (second event %s), want active", got.SubscriptionStatus, second)
					}
				})
			}
		}
	})
}

// TestReceiver_Verify: only a delivery signed with the secret within
// SignatureTolerance of now, either way, is recorded.
func TestReceiver_Verify(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newReceiverFixture(t, db, nil)
	ws := f.workspace(t, "verify")
	ev := subEvent("evt_v", billing.EventSubscriptionCreated, "sub_1", app.SubActive, t0, ws)
	p := ev.JSON()
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"Future", f.now.Add(billing.SignatureTolerance + time.Second)},
		{"Past", f.now.Add(-billing.SignatureTolerance - time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.recv.Receive(context.Background(), p, billingtest.Sign(p, secret, tc.at))
			if !errors.Is(err, billing.ErrBadSignature) {
				t.Fatalf("Receive signed at now%+v: %v, want ErrBadSignature", tc.at.Sub(f.now), err)
			}
		})
	}
	if _, err := store.NewBillingService(db).FindStripeEvent(context.Background(), "evt_v"); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("a refused delivery was stored (%v)", err)
	}
	if rc, err := f.recv.Receive(context.Background(), p, billingtest.Sign(p, secret, f.now.Add(billing.SignatureTolerance-time.Second))); err != nil || rc.Result != app.EventApplied {
		t.Fatalf("signed just inside the tolerance: %+v, %v; want applied", rc, err)
	}
}

// TestReceiver_Replay: an event stored before its workspace was linked
// applies on replay, through the same pipeline.
func TestReceiver_Replay(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newReceiverFixture(t, db, nil)
		ev := subEvent("evt_early", billing.EventSubscriptionCreated, "sub_1", app.SubActive, t0, 0)
		ev.Object["customer"], ev.Object["metadata"] = "cus_later", map[string]any{}
		if got := f.receive(t, ev); got != app.EventUnmatched {
			t.Fatalf("before the workspace knows the customer: %s, want unmatched", got)
		}
		wsID := f.workspace(t, "later")
		if err := store.NewBillingService(db).RecordCheckoutStarted(f.owner, app.ScopeOf(f.owner, wsID), "cus_later", "cs_1"); err != nil {
			t.Fatal(err)
		}
		rc, err := f.recv.Replay(context.Background(), "evt_early")
		if err != nil || rc.Result != app.EventApplied || rc.Event.Status != app.EventUnmatched {
			t.Fatalf("Replay = %+v, %v; want applied (was unmatched)", rc, err)
		}
		if got := f.state(t, "later"); got.Plan != app.PlanPro || got.StripeSubscriptionID != "sub_1" {
			t.Errorf("after replay: plan %s subscription %s", got.Plan, got.StripeSubscriptionID)
		}
		if _, err := f.recv.Replay(context.Background(), "evt_nope"); app.ErrorCode(err) != app.ENOTFOUND {
			t.Errorf("Replay of an unknown id: %v, want %s", err, app.ENOTFOUND)
		}
	})
}
