package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// webhookSecret is the STRIPE_WEBHOOK_SECRET of the billing tests.
const webhookSecret = "whsec_atrium_billing_test"

// webhookReply is the webhook's answer.
type webhookReply struct {
	Status int
	Result string // "result" of a 200 answer
	Body   string
	Header http.Header
}

// withWebhook turns billing on with the webhook secret set, plus the
// variables of kv. Stripe's API points at a closed port: these tests never
// call it.
func withWebhook(kv ...string) appOption {
	return withEnv(append([]string{"STRIPE_SECRET_KEY", "sk_test_atrium", "STRIPE_PRICE_ID", "price_pro",
		"STRIPE_WEBHOOK_SECRET", webhookSecret, "STRIPE_API_BASE", "http://127.0.0.1:9"}, kv...)...)
}

// postWebhook delivers payload to the webhook with the Stripe-Signature
// header sig (none when empty); forwardedFor, when set, is the client
// address a trusted proxy reports.
func (a *testApp) postWebhook(t *testing.T, payload []byte, sig, forwardedFor string) webhookReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.URL+"/api/billing/webhook", strings.NewReader(string(payload)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /api/billing/webhook: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var v struct {
		Result string `json:"result"`
	}
	_ = json.Unmarshal(body, &v)
	return webhookReply{Status: res.StatusCode, Result: v.Result, Body: string(body), Header: res.Header}
}

// deliver signs the event as Stripe does, now, and delivers it.
func (a *testApp) deliver(t *testing.T, ev billingtest.Event) webhookReply {
	t.Helper()
	p := ev.JSON()
	return a.postWebhook(t, p, billingtest.Sign(p, webhookSecret, time.Now()), "")
}

// mustApply delivers the event and fails unless the answer is 200 with
// result want.
func (a *testApp) mustApply(t *testing.T, ev billingtest.Event, want string) {
	t.Helper()
	if r := a.deliver(t, ev); r.Status != http.StatusOK || r.Result != want {
		t.Fatalf("deliver %s (%s): status %d result %q, want 200 %q\n%s", ev.ID, ev.Type, r.Status, r.Result, want, r.Body)
	}
}

// subscriptionEvent is a customer.subscription.* event for the workspace
// (named in metadata when wsID is not 0) and customer.
func subscriptionEvent(id, typ, status string, created time.Time, wsID int64, customer string) billingtest.Event {
	obj := map[string]any{"id": "sub_test", "object": "subscription", "customer": customer, "status": status,
		"current_period_end": created.Add(30 * 24 * time.Hour).Unix(), "cancel_at_period_end": false, "metadata": map[string]any{}}
	if wsID != 0 {
		obj["metadata"] = map[string]any{"workspace_id": fmt.Sprint(wsID)}
	}
	return billingtest.Event{ID: id, Type: typ, Created: created, Object: obj}
}

// storedEvent returns the stored Stripe event, or nil.
func (a *testApp) storedEvent(t *testing.T, id string) *app.StripeEvent {
	t.Helper()
	ev, err := store.NewBillingService(a.DB).FindStripeEvent(context.Background(), id)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// countStripeEvents counts the rows of stripe_events.
func (a *testApp) countStripeEvents(t *testing.T) int {
	t.Helper()
	var n int
	if err := a.DB.SQL().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM stripe_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStripeWebhook(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, dialect, withWebhook())
			_, slug, wsID := billingOwner(t, a, "owner@example.com")
			t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
			created := subscriptionEvent("evt_created", billing.EventSubscriptionCreated, app.SubActive, t0, wsID, "cus_acme")

			t.Run("Valid", func(t *testing.T) {
				a.mustApply(t, created, app.EventApplied)
				ws := a.billingState(t, slug)
				if ws.Plan != app.PlanPro || ws.SubscriptionStatus != app.SubActive || ws.StripeCustomerID != "cus_acme" || ws.StripeSubscriptionID != "sub_test" {
					t.Errorf("after the event: plan %q status %q customer %q subscription %q", ws.Plan, ws.SubscriptionStatus, ws.StripeCustomerID, ws.StripeSubscriptionID)
				}
				if ev := a.storedEvent(t, "evt_created"); ev == nil || ev.Status != app.EventApplied || ev.WorkspaceID != wsID {
					t.Errorf("stored event: %+v", ev)
				}
				if a.logLine(t, "stripe webhook event applied", "stripe_event_id", "evt_created") == nil {
					t.Errorf("no log line for the applied event:\n%s", a.logs)
				}
			})

			// Refused deliveries: 400, nothing stored, a warning logged.
			payload := subscriptionEvent("evt_refused", billing.EventSubscriptionUpdated, app.SubCanceled, t0.Add(time.Minute), wsID, "cus_acme").JSON()
			for _, tc := range []struct {
				name string
				sig  string
			}{
				{"BadSignature", billingtest.Sign(payload, "whsec_someone_else", time.Now())},
				{"StaleTimestamp", billingtest.Sign(payload, webhookSecret, time.Now().Add(-billing.SignatureTolerance-time.Minute))},
				{"FutureTimestamp", billingtest.Sign(payload, webhookSecret, time.Now().Add(billing.SignatureTolerance+time.Minute))},
				{"MissingHeader", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := a.postWebhook(t, payload, tc.sig, "")
					if r.Status != http.StatusBadRequest {
						t.Fatalf("status %d, want 400\n%s", r.Status, r.Body)
					}
					if a.storedEvent(t, "evt_refused") != nil {
						t.Errorf("a refused event was stored")
					}
					if ws := a.billingState(t, slug); ws.SubscriptionStatus != app.SubActive {
						t.Errorf("status %q after a refused event", ws.SubscriptionStatus)
					}
				})
			}
			if a.logLine(t, "stripe webhook refused: bad signature") == nil {
				t.Errorf("no warning for the refused signatures:\n%s", a.logs)
			}

			t.Run("Duplicate", func(t *testing.T) {
				before := a.billingState(t, slug)
				a.mustApply(t, created, app.EventDuplicate)
				if after := a.billingState(t, slug); *after != *before {
					t.Errorf("a duplicate changed the workspace:\nbefore %+v\nafter  %+v", before, after)
				}
				var n int
				if err := a.DB.SQL().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM stripe_events WHERE id = 'evt_created'").Scan(&n); err != nil || n != 1 {
					t.Errorf("%d stripe_events rows for the event (%v), want 1", n, err)
				}
				if n := a.auditCount(t, wsID, app.ActionSubscriptionUpdated); n != 1 {
					t.Errorf("%d %s audit entries, want 1", n, app.ActionSubscriptionUpdated)
				}
			})

			t.Run("OutOfOrder", func(t *testing.T) {
				a.mustApply(t, subscriptionEvent("evt_newer", billing.EventSubscriptionUpdated, app.SubActive, t0.Add(20*time.Minute), 0, "cus_acme"), app.EventApplied)
				a.mustApply(t, subscriptionEvent("evt_older", billing.EventSubscriptionUpdated, app.SubPastDue, t0.Add(10*time.Minute), 0, "cus_acme"), app.EventStale)
				if ws := a.billingState(t, slug); ws.SubscriptionStatus != app.SubActive || ws.Plan != app.PlanPro {
					t.Errorf("after the late past_due: status %q plan %q, want active pro", ws.SubscriptionStatus, ws.Plan)
				}
				if ev := a.storedEvent(t, "evt_older"); ev == nil || ev.Status != app.EventStale {
					t.Errorf("late event stored as %+v, want stale", ev)
				}
			})

			t.Run("UnknownType", func(t *testing.T) {
				a.mustApply(t, billingtest.Event{ID: "evt_unknown_type", Type: "customer.tax_id.created", Created: t0,
					Object: map[string]any{"id": "txi_1", "object": "tax_id", "customer": "cus_acme"}}, app.EventIgnored)
				if ev := a.storedEvent(t, "evt_unknown_type"); ev == nil || ev.Status != app.EventIgnored {
					t.Errorf("stored as %+v, want ignored", ev)
				}
			})

			t.Run("OtherAPIVersion", func(t *testing.T) {
				ev := billingtest.Event{ID: "evt_old_api", Type: billing.EventInvoiceFailed, APIVersion: "2020-08-27", Created: t0.Add(30 * time.Minute),
					Object: map[string]any{"id": "in_1", "object": "invoice", "customer": "cus_acme", "subscription": "sub_test"}}
				a.mustApply(t, ev, app.EventApplied)
				if n := a.auditCount(t, wsID, app.ActionPaymentFailed); n != 1 {
					t.Errorf("%d %s entries, want 1", n, app.ActionPaymentFailed)
				}
				line := a.logLine(t, "stripe webhook API version differs", "stripe_event_id", "evt_old_api")
				if line == nil || line["level"] != "WARN" || line["event_api_version"] != "2020-08-27" || line["client_api_version"] != billing.APIVersion {
					t.Errorf("API version warning: %v\n%s", line, a.logs)
				}
			})

			t.Run("UnknownCustomer", func(t *testing.T) {
				a.mustApply(t, subscriptionEvent("evt_stranger", billing.EventSubscriptionCreated, app.SubActive, t0, 0, "cus_stranger"), app.EventUnmatched)
				if ev := a.storedEvent(t, "evt_stranger"); ev == nil || ev.Status != app.EventUnmatched || ev.WorkspaceID != 0 {
					t.Errorf("stored as %+v, want unmatched", ev)
				}
				line := a.logLine(t, "stripe webhook event matches no workspace", "stripe_event_id", "evt_stranger")
				if line == nil || line["level"] != "WARN" || !strings.Contains(fmt.Sprint(line["msg"]), "atrium billing replay") {
					t.Errorf("unmatched warning: %v\n%s", line, a.logs)
				}
			})
		})
	}
}

// TestStripeWebhook_BillingOff: without STRIPE_SECRET_KEY there is no
// webhook: 404 like any unknown address, and no log line above debug but
// the access log's.
func TestStripeWebhook_BillingOff(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", withEnv("STRIPE_WEBHOOK_SECRET", webhookSecret))
	p := subscriptionEvent("evt_1", billing.EventSubscriptionCreated, app.SubActive, time.Now(), 1, "cus_1").JSON()
	for range 5 {
		if r := a.postWebhook(t, p, billingtest.Sign(p, webhookSecret, time.Now()), ""); r.Status != http.StatusNotFound {
			t.Fatalf("status %d, want 404\n%s", r.Status, r.Body)
		}
	}
	if n := a.countStripeEvents(t); n != 0 {
		t.Errorf("%d events stored, want 0", n)
	}
	for l := range strings.Lines(a.logs.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil || m["msg"] == "request" {
			continue
		}
		if m["level"] != "DEBUG" {
			t.Errorf("log line above debug: %s", l)
		}
	}
	if line := a.logLine(t, "request", "path", "/api/billing/webhook"); line == nil || line["status"] != float64(http.StatusNotFound) {
		t.Errorf("access log line %v, want status 404", line)
	}
}

// TestStripeWebhook_NoSecret: billing on without STRIPE_WEBHOOK_SECRET
// answers 503 (Stripe retries) and logs the missing variable at most once
// a minute, however often Stripe delivers.
func TestStripeWebhook_NoSecret(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", withWebhook("STRIPE_WEBHOOK_SECRET", ""))
	p := subscriptionEvent("evt_1", billing.EventSubscriptionCreated, app.SubActive, time.Now(), 1, "cus_1").JSON()
	deliver := func(n int) {
		t.Helper()
		for range n {
			if r := a.postWebhook(t, p, billingtest.Sign(p, webhookSecret, time.Now()), ""); r.Status != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503\n%s", r.Status, r.Body)
			}
		}
	}
	errorLines := func() int {
		n := 0
		for l := range strings.Lines(a.logs.String()) {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["level"] == "ERROR" && strings.Contains(fmt.Sprint(m["msg"]), "STRIPE_WEBHOOK_SECRET") {
				n++
			}
		}
		return n
	}
	deliver(10)
	if got, want := errorLines(), 1; got != want {
		t.Errorf("after 10 deliveries: %d error lines naming STRIPE_WEBHOOK_SECRET, want %d\n%s", got, want, a.logs)
	}
	a.Clock.Add(59 * time.Second)
	deliver(3)
	if got, want := errorLines(), 1; got != want {
		t.Errorf("59 s later: %d error lines, want %d", got, want)
	}
	a.Clock.Add(2 * time.Second)
	deliver(3)
	if got, want := errorLines(), 2; got != want {
		t.Errorf("61 s after the first: %d error lines, want %d", got, want)
	}
	if n := a.countStripeEvents(t); n != 0 {
		t.Errorf("%d events stored, want 0", n)
	}
}

func TestStripeWebhook_Oversize(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", withWebhook())
	ev := subscriptionEvent("evt_big", billing.EventSubscriptionCreated, app.SubActive, time.Now(), 1, "cus_1")
	ev.Object["description"] = strings.Repeat("x", billing.MaxWebhookBody)
	p := ev.JSON()
	if len(p) <= billing.MaxWebhookBody {
		t.Fatalf("payload of %d bytes is not over the limit", len(p))
	}
	r := a.postWebhook(t, p, billingtest.Sign(p, webhookSecret, time.Now()), "")
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413\n%s", r.Status, r.Body)
	}
	if n := a.countStripeEvents(t); n != 0 {
		t.Errorf("%d events stored, want 0", n)
	}
}

// TestStripeWebhook_Concurrent delivers one event from 8 goroutines at
// once, as Stripe may when a delivery times out and is retried: it is
// processed once.
func TestStripeWebhook_Concurrent(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, dialect, withWebhook())
			_, slug, wsID := billingOwner(t, a, "owner@example.com")
			ev := subscriptionEvent("evt_race", billing.EventSubscriptionCreated, app.SubActive, time.Now().Add(-time.Minute), wsID, "cus_race")
			p := ev.JSON()
			sig := billingtest.Sign(p, webhookSecret, time.Now())

			replies := make([]webhookReply, 8)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range replies {
				wg.Go(func() {
					<-start
					replies[i] = a.postWebhook(t, p, sig, "")
				})
			}
			close(start)
			wg.Wait()
			results := map[string]int{}
			for _, r := range replies {
				if r.Status != http.StatusOK {
					t.Errorf("status %d, want 200\n%s", r.Status, r.Body)
				}
				results[r.Result]++
			}
			if results[app.EventApplied] != 1 || results[app.EventDuplicate] != 7 {
				t.Errorf("results %v, want 1 applied and 7 duplicate", results)
			}
			if n := a.auditCount(t, wsID, app.ActionSubscriptionUpdated); n != 1 {
				t.Errorf("%d audit entries, want 1", n)
			}
			if n := a.countStripeEvents(t); n != 1 {
				t.Errorf("%d stored events, want 1", n)
			}
			if ws := a.billingState(t, slug); ws.Plan != app.PlanPro {
				t.Errorf("plan %q, want pro", ws.Plan)
			}
		})
	}
}

// TestStripeWebhook_Flood: a client sending unverifiable requests is
// refused with 429 once over its budget, without a signature check, while
// Stripe, another client, still gets through.
func TestStripeWebhook_Flood(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", withWebhook("TRUSTED_PROXIES", "127.0.0.1/32,::1/128"))
	_, slug, wsID := billingOwner(t, a, "owner@example.com")
	const attacker, stripeIP = "203.0.113.66", "198.51.100.7"
	const budget = 30 // webhookBadBudget: unverifiable requests per client per minute

	junk := []byte(`{"id":"evt_junk","type":"customer.subscription.deleted"}`)
	for i := 1; i <= budget; i++ {
		if r := a.postWebhook(t, junk, "t=1,v1=00", attacker); r.Status != http.StatusBadRequest {
			t.Fatalf("unsigned request %d of the budget: status %d, want 400", i, r.Status)
		}
	}
	r := a.postWebhook(t, junk, "t=1,v1=00", attacker)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("request %d: status %d Retry-After %q, want 429 with Retry-After", budget+1, r.Status, r.Header.Get("Retry-After"))
	}

	ev := subscriptionEvent("evt_from_stripe", billing.EventSubscriptionCreated, app.SubActive, time.Now().Add(-time.Minute), wsID, "cus_flood")
	p := ev.JSON()
	if r := a.postWebhook(t, p, billingtest.Sign(p, webhookSecret, time.Now()), stripeIP); r.Status != http.StatusOK || r.Result != app.EventApplied {
		t.Fatalf("signed event from another client during the flood: status %d result %q\n%s", r.Status, r.Result, r.Body)
	}
	// Forged posts from Stripe's own address (a shared egress, a spoofed
	// proxy header) spend its budget, yet its real deliveries still pass:
	// the signature is checked before the budget.
	for range budget + 5 {
		a.postWebhook(t, junk, "t=1,v1=00", stripeIP)
	}
	next := subscriptionEvent("evt_from_stripe_2", billing.EventSubscriptionUpdated, app.SubActive, time.Now().Add(-30*time.Second), wsID, "cus_flood")
	p = next.JSON()
	if r := a.postWebhook(t, p, billingtest.Sign(p, webhookSecret, time.Now()), stripeIP); r.Status != http.StatusOK || r.Result != app.EventApplied {
		t.Fatalf("signed event after %d forged posts from its address: status %d result %q, want 200 applied\n%s", budget+5, r.Status, r.Result, r.Body)
	}
	if r := a.postWebhook(t, junk, "t=1,v1=00", stripeIP); r.Status != http.StatusTooManyRequests {
		t.Errorf("forged post after the budget: status %d, want 429", r.Status)
	}
	if ws := a.billingState(t, slug); ws.Plan != app.PlanPro {
		t.Errorf("plan %q, want pro", ws.Plan)
	}
	if n := a.countStripeEvents(t); n != 2 {
		t.Errorf("%d stored events, want 2 (the junk is never stored)", n)
	}
}
