package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
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

// billingWebhookSecret is the STRIPE_WEBHOOK_SECRET of these tests.
const billingWebhookSecret = "whsec_atrium_cmd_test"

// billingDatabase returns the DATABASE_URL of a fresh, migrated database
// of the dialect and a handle on it for setting up and checking state.
func billingDatabase(t *testing.T, dialect string) (string, *store.DB) {
	t.Helper()
	driver, dsn := storetest.DSN(t, dialect)
	db, err := store.Open(context.Background(), driver, dsn, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if driver == store.SQLite {
		return "sqlite:" + dsn, db
	}
	return dsn, db
}

// billingOwnerWorkspace creates a user through the sign-in flow and a
// workspace they own, and returns the workspace and a context acting as
// the owner.
func billingOwnerWorkspace(t *testing.T, db *store.DB, email, name, slug string) (*app.Workspace, context.Context) {
	t.Helper()
	ctx := context.Background()
	auth := store.NewAuthService(db)
	token, hash := app.NewToken()
	if err := auth.CreateLoginRequest(ctx, app.LoginRequest{Email: email, TokenHash: hash, Next: "/app",
		ExpiresAt: time.Now().Add(app.LoginTokenTTL)}, app.Email{To: email, Subject: "Sign in", Text: token, Ref: "login"}); err != nil {
		t.Fatal(err)
	}
	_, session := app.NewToken()
	u, _, err := auth.CompleteLogin(ctx, app.HashToken(token), app.NewSession{TokenHash: session, IP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	owner := app.WithPrincipal(ctx, &app.Principal{User: *u})
	ws, err := store.NewWorkspaceService(db).CreateWorkspace(owner, name, slug)
	if err != nil {
		t.Fatal(err)
	}
	return ws, owner
}

// billingWorkspace reads a workspace back.
func billingWorkspace(t *testing.T, db *store.DB, slug string) *app.Workspace {
	t.Helper()
	ws, err := store.NewBillingService(db).FindWorkspaceBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// billingAudits counts a workspace's audit entries with action.
func billingAudits(t *testing.T, db *store.DB, wsID int64, action string) int {
	t.Helper()
	entries, err := store.NewOperatorAuditService(db).FindAuditEntries(context.Background(), app.AuditFilter{Scope: app.Scope{WorkspaceID: wsID}, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// deliverStripeEvent signs ev as Stripe does and posts it to the webhook
// of the server at base; it returns the status and the result.
func deliverStripeEvent(t *testing.T, base string, ev billingtest.Event) (int, string) {
	t.Helper()
	p := ev.JSON()
	req, err := http.NewRequest(http.MethodPost, base+"/api/billing/webhook", strings.NewReader(string(p)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", billingtest.Sign(p, billingWebhookSecret, time.Now()))
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("deliver %s: %v", ev.ID, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var v struct {
		Result string `json:"result"`
	}
	_ = json.Unmarshal(body, &v)
	return res.StatusCode, v.Result
}

// checkoutCompleted is the checkout.session.completed event of a
// subscription Checkout that Atrium started for the workspace.
func checkoutCompleted(id string, created time.Time, wsID int64, customer, subscription string) billingtest.Event {
	ref := strconv.FormatInt(wsID, 10)
	return billingtest.Event{ID: id, Type: billing.EventCheckoutCompleted, Created: created, Object: map[string]any{
		"id": "cs_test_" + id, "object": "checkout.session", "mode": "subscription", "status": "complete",
		"customer": customer, "subscription": subscription, "client_reference_id": ref,
		"metadata": map[string]any{"workspace_id": ref},
	}}
}

// activeSubscription is a customer.subscription.* event with status
// active; wsID 0 leaves the workspace out of its metadata.
func activeSubscription(id, typ string, created time.Time, wsID int64, customer, subscription string) billingtest.Event {
	md := map[string]any{}
	if wsID != 0 {
		md["workspace_id"] = strconv.FormatInt(wsID, 10)
	}
	return billingtest.Event{ID: id, Type: typ, Created: created, Object: map[string]any{
		"id": subscription, "object": "subscription", "customer": customer, "status": "active",
		"current_period_end": created.Add(30 * 24 * time.Hour).Unix(), "cancel_at_period_end": false, "metadata": md,
	}}
}

// TestBilling_Sync runs "atrium billing sync" against stripe-mock, whose
// subscriptions are all its fixture: active.
func TestBilling_Sync(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbURL, db := billingDatabase(t, dialect)
			env := config.Env{"DATABASE_URL": dbURL, "STRIPE_SECRET_KEY": "sk_test_atrium", "STRIPE_PRICE_ID": "price_pro",
				"STRIPE_API_BASE": mock}
			billingSvc := store.NewBillingService(db)
			ctx := context.Background()

			t.Run("BySubscription", func(t *testing.T) {
				ws, _ := billingOwnerWorkspace(t, db, "alpha@example.com", "Alpha", "alpha")
				upd := &app.BillingUpdate{WorkspaceID: ws.ID, CustomerID: "cus_alpha", SubscriptionID: "sub_alpha",
					Action: billing.ActionCheckoutCompleted, AsOf: time.Now().Add(-time.Hour)}
				if _, err := billingSvc.ApplyStripeEvent(ctx, app.StripeEvent{ID: "evt_alpha", Type: billing.EventCheckoutCompleted,
					Created: upd.AsOf, Payload: []byte(`{}`)}, upd); err != nil {
					t.Fatal(err)
				}
				res := runAtrium(t, env, "billing", "sync", "--workspace", "alpha")
				if res.Code != 0 {
					t.Fatalf("exit status %d, want 0\n%s", res.Code, res.Output())
				}
				for _, want := range []string{
					`Workspace "Alpha" (alpha): plan free, status "", customer "cus_alpha", subscription "sub_alpha"`,
					`Synced: plan pro, status "active". The change is in the audit log as billing.synced.`,
				} {
					if !strings.Contains(res.Stdout, want+"\n") {
						t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
					}
				}
				got := billingWorkspace(t, db, "alpha")
				if got.Plan != app.PlanPro || got.SubscriptionStatus != app.SubActive || got.StripeSubscriptionID != "sub_alpha" {
					t.Errorf("after sync: plan %q status %q subscription %q, want pro active sub_alpha", got.Plan, got.SubscriptionStatus, got.StripeSubscriptionID)
				}
				if n := billingAudits(t, db, ws.ID, app.ActionBillingSynced); n != 1 {
					t.Errorf("%d %s entries, want 1", n, app.ActionBillingSynced)
				}
			})

			t.Run("ByCustomer", func(t *testing.T) {
				ws, owner := billingOwnerWorkspace(t, db, "beta@example.com", "Beta", "beta")
				if err := billingSvc.RecordCheckoutStarted(owner, app.ScopeOf(owner, ws.ID), "cus_beta", "cs_beta"); err != nil {
					t.Fatal(err)
				}
				res := runAtrium(t, env, "billing", "sync", "--workspace", "beta")
				if res.Code != 0 || !strings.Contains(res.Stdout, `Synced: plan pro, status "active"`) {
					t.Fatalf("exit status %d, want 0 and a sync to active\n%s", res.Code, res.Output())
				}
				got := billingWorkspace(t, db, "beta")
				if got.Plan != app.PlanPro || got.SubscriptionStatus != app.SubActive || !strings.HasPrefix(got.StripeSubscriptionID, "sub_") {
					t.Errorf("after sync: plan %q status %q subscription %q, want pro active and the fixture's sub_", got.Plan, got.SubscriptionStatus, got.StripeSubscriptionID)
				}
			})

			t.Run("NoCustomer", func(t *testing.T) {
				billingOwnerWorkspace(t, db, "gamma@example.com", "Gamma", "gamma")
				res := runAtrium(t, env, "billing", "sync", "--workspace", "gamma")
				if res.Code != 0 || !strings.Contains(res.Stdout, "The workspace has no Stripe customer: nothing to sync") {
					t.Fatalf("exit status %d, want 0 and nothing to sync\n%s", res.Code, res.Output())
				}
				if got := billingWorkspace(t, db, "gamma"); got.Plan != app.PlanFree || got.SubscriptionStatus != "" {
					t.Errorf("plan %q status %q, want free and no status", got.Plan, got.SubscriptionStatus)
				}
			})

			t.Run("UnknownWorkspace", func(t *testing.T) {
				res := runAtrium(t, env, "billing", "sync", "--workspace", "nope")
				if res.Code != 1 || !strings.Contains(res.Stderr, "atrium: No workspace with slug nope.\n") {
					t.Errorf("exit status %d, want 1 naming the slug\n%s", res.Code, res.Output())
				}
			})

			t.Run("BillingOff", func(t *testing.T) {
				res := runAtrium(t, config.Env{"DATABASE_URL": dbURL}, "billing", "sync", "--workspace", "alpha")
				if res.Code != 1 || !strings.Contains(res.Stderr, "billing is off: set STRIPE_SECRET_KEY") {
					t.Errorf("exit status %d, want 1 saying billing is off\n%s", res.Code, res.Output())
				}
			})
		})
	}
}

// TestBilling_Replay follows the runbook: an event for a customer no
// workspace has yet is stored as unmatched; once Checkout's event links
// the customer, "atrium billing replay" applies it, and never rolls back
// newer state.
func TestBilling_Replay(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbURL, db := billingDatabase(t, dialect)
			ws, _ := billingOwnerWorkspace(t, db, "owner@example.com", "Acme Inc", "acme")
			// Billing on; Stripe's API is a closed port: nothing here calls it.
			srv := startServe(t, config.Env{"DATABASE_URL": dbURL, "STRIPE_WEBHOOK_SECRET": billingWebhookSecret,
				"STRIPE_SECRET_KEY": "sk_test_atrium", "STRIPE_PRICE_ID": "price_pro", "STRIPE_API_BASE": "http://127.0.0.1:9"})
			env := config.Env{"DATABASE_URL": dbURL}
			t0 := time.Now().Add(-time.Hour).Truncate(time.Second)

			// The subscription event arrives before the customer is linked.
			lost := activeSubscription("evt_lost", billing.EventSubscriptionCreated, t0, 0, "cus_late", "sub_late")
			if status, result := deliverStripeEvent(t, srv.URL, lost); status != http.StatusOK || result != app.EventUnmatched {
				t.Fatalf("deliver evt_lost: status %d result %q, want 200 unmatched", status, result)
			}
			line := srv.waitForLog(t, "stripe webhook event matches no workspace", 5*time.Second)
			if line["level"] != "WARN" || line["stripe_event_id"] != "evt_lost" {
				t.Errorf("unmatched log line: %v", line)
			}

			res := runAtrium(t, env, "billing", "replay", "evt_lost")
			if res.Code != 0 || !strings.Contains(res.Stdout, "was unmatched): unmatched.\n") || !strings.Contains(res.Stdout, "No workspace matches its customer yet") {
				t.Fatalf("replay before linking: exit %d, want 0, still unmatched\n%s", res.Code, res.Output())
			}

			if status, result := deliverStripeEvent(t, srv.URL, checkoutCompleted("evt_checkout", t0, ws.ID, "cus_late", "sub_late")); status != http.StatusOK || result != app.EventApplied {
				t.Fatalf("deliver checkout.session.completed: status %d result %q, want 200 applied", status, result)
			}
			if got := billingWorkspace(t, db, "acme"); got.StripeCustomerID != "cus_late" || got.Plan != app.PlanFree {
				t.Fatalf("after checkout: customer %q plan %q, want cus_late and still free", got.StripeCustomerID, got.Plan)
			}

			res = runAtrium(t, env, "billing", "replay", "evt_lost")
			if res.Code != 0 || !strings.Contains(res.Stdout, "Event evt_lost (customer.subscription.created, received ") ||
				!strings.Contains(res.Stdout, "was unmatched): applied.\n") {
				t.Fatalf("replay after linking: exit %d, want 0 and applied\n%s", res.Code, res.Output())
			}
			got := billingWorkspace(t, db, "acme")
			if got.Plan != app.PlanPro || got.SubscriptionStatus != app.SubActive || got.StripeSubscriptionID != "sub_late" {
				t.Errorf("after replay: plan %q status %q subscription %q, want pro active sub_late", got.Plan, got.SubscriptionStatus, got.StripeSubscriptionID)
			}
			if ev, err := store.NewBillingService(db).FindStripeEvent(context.Background(), "evt_lost"); err != nil || ev.Status != app.EventApplied || ev.WorkspaceID != ws.ID {
				t.Errorf("stored event after replay: %+v, %v", ev, err)
			}

			// A newer cancellation, then a replay of the old activation:
			// nothing rolls back.
			canceled := activeSubscription("evt_canceled", billing.EventSubscriptionDeleted, t0.Add(30*time.Minute), 0, "cus_late", "sub_late")
			canceled.Object["status"] = app.SubCanceled
			if status, result := deliverStripeEvent(t, srv.URL, canceled); status != http.StatusOK || result != app.EventApplied {
				t.Fatalf("deliver evt_canceled: status %d result %q", status, result)
			}
			res = runAtrium(t, env, "billing", "replay", "evt_lost")
			if res.Code != 0 || !strings.Contains(res.Stdout, "): stale.\n") || !strings.Contains(res.Stdout, "A newer update was already applied; nothing changed.") {
				t.Errorf("replay of an older event: exit %d, want 0 and stale\n%s", res.Code, res.Output())
			}
			if got := billingWorkspace(t, db, "acme"); got.SubscriptionStatus != app.SubCanceled || got.Plan != app.PlanFree {
				t.Errorf("after the stale replay: status %q plan %q, want canceled free", got.SubscriptionStatus, got.Plan)
			}

			res = runAtrium(t, env, "billing", "replay", "evt_nope")
			if res.Code != 1 || !strings.Contains(res.Stderr, "atrium: No stored Stripe event evt_nope. Events are stored when the webhook receives them") {
				t.Errorf("replay of an unknown id: exit %d, want 1 with a clear line\n%s", res.Code, res.Output())
			}
		})
	}
}

func TestBilling_UsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"NoAction", []string{"billing"}, "atrium: billing needs an action: sync, replay or restrict"},
		{"UnknownAction", []string{"billing", "refund"}, `atrium: billing: unknown action "refund" (want sync, replay or restrict)`},
		{"SyncWithoutWorkspace", []string{"billing", "sync"}, "atrium: billing sync needs --workspace SLUG and no other arguments"},
		{"SyncExtraArgument", []string{"billing", "sync", "--workspace", "acme", "now"}, "atrium: billing sync needs --workspace SLUG and no other arguments"},
		{"SyncUnknownFlag", []string{"billing", "sync", "--force"}, "atrium: billing: flag provided but not defined: -force"},
		{"ReplayWithoutID", []string{"billing", "replay"}, "atrium: billing replay needs one event id (evt_...)"},
		{"ReplayTwoIDs", []string{"billing", "replay", "evt_1", "evt_2"}, "atrium: billing replay needs one event id (evt_...)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runAtrium(t, config.Env{}, tc.args...)
			var ue *usageError
			if !errors.As(res.Err, &ue) || res.Code != 2 {
				t.Fatalf("err=%v exit %d, want a usage error and exit status 2", res.Err, res.Code)
			}
			if !strings.Contains(res.Stderr, tc.want+"\n") {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.Stderr)
			}
		})
	}

	res := runAtrium(t, config.Env{}, "billing", "--help")
	if res.Code != 0 || !strings.Contains(res.Stderr, "Usage: atrium billing sync --workspace SLUG | billing replay EVENT_ID") {
		t.Errorf("billing --help: exit %d\n%s", res.Code, res.Output())
	}
}
