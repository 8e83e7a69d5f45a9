package store_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"atrium/internal/app"
	"atrium/internal/outbound"
	"atrium/internal/store"
	"atrium/internal/webhook"
)

// received is one request a test receiver got.
type received struct {
	ID     string
	Body   string
	Sigs   int
	Status int
	Header http.Header
}

// receiver is a real HTTP server standing for a customer's endpoint. It
// checks every request's signature with the Standard Webhooks reference
// library, with each secret the test says the receiver holds, and answers
// with the status answer gives the nth request (200 when nil).
type receiver struct {
	*httptest.Server
	t *testing.T

	mu      sync.Mutex
	secrets []string
	got     []received
	answer  func(n int) int
	delay   time.Duration

	inflight, maxInflight atomic.Int32
}

// startReceiver starts a receiver that verifies with no secret until
// holds is called.
func startReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{t: t}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	n := rc.inflight.Add(1)
	defer rc.inflight.Add(-1)
	for {
		m := rc.maxInflight.Load()
		if n <= m || rc.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	secrets, answer, delay := append([]string(nil), rc.secrets...), rc.answer, rc.delay
	rc.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if got, want := r.Header.Get("Content-Type"), "application/json"; got != want {
		rc.t.Errorf("Content-Type=%q, want %q", got, want)
	}
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			rc.t.Errorf("the reference library refuses the secret: %v", err)
			continue
		}
		if err := wh.Verify(body, r.Header); err != nil {
			rc.t.Errorf("the reference library does not verify delivery %s with a secret the receiver holds: %v",
				r.Header.Get(webhook.HeaderID), err)
		}
	}
	rc.mu.Lock()
	status := http.StatusOK
	if answer != nil {
		status = answer(len(rc.got) + 1)
	}
	rc.got = append(rc.got, received{ID: r.Header.Get(webhook.HeaderID), Body: string(body),
		Sigs: len(strings.Fields(r.Header.Get(webhook.HeaderSignature))), Status: status, Header: r.Header.Clone()})
	rc.mu.Unlock()
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "answer "+strconv.Itoa(status))
}

// holds sets the secrets the receiver verifies every request with.
func (rc *receiver) holds(secrets ...string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secrets = secrets
}

// answers sets how the receiver answers its nth request.
func (rc *receiver) answers(f func(n int) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = f
}

// requests returns what the receiver got so far.
func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// port returns the receiver's port.
func (rc *receiver) port() int {
	u, _ := url.Parse(rc.URL)
	p, _ := strconv.Atoi(u.Port())
	return p
}

// testKey seals webhook secrets in the tests.
var testKey = bytes.Repeat([]byte{7}, 32)

// notices collects the emails of turned-off endpoints.
func disabledNotice(to, _, endpoint string, reason app.Sentence) app.Email {
	return app.Email{To: to, Subject: "Webhook endpoint turned off: " + endpoint, Text: endpoint + " was turned off. " + reason.Key,
		Ref: "webhook_disabled"}
}

// devWebhooks returns a webhook service that may send to this machine, as
// WEBHOOK_ALLOW_PRIVATE allows, logging into logs.
func devWebhooks(db *store.DB, logs *bytes.Buffer) *store.WebhookService {
	s := store.NewWebhookService(db, testKey, outbound.Options{AllowPrivate: true})
	s.Notice = disabledNotice
	if logs != nil {
		s.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	return s
}

// createEndpoint creates an endpoint as who and returns it with its
// secret, revealed once.
func createEndpoint(t *testing.T, hooks *store.WebhookService, who teamUser, workspaceID int64, rawURL string, events ...string) (*app.WebhookEndpoint, string) {
	t.Helper()
	sc := app.ScopeOf(who.ctx, workspaceID)
	ep, err := hooks.CreateWebhookEndpoint(who.ctx, sc, app.WebhookEndpointInput{URL: rawURL, Description: "test", EventTypes: events})
	if err != nil {
		t.Fatalf("create endpoint %s: %v", rawURL, err)
	}
	secret, err := hooks.RevealWebhookSecret(who.ctx, sc, ep.ID)
	if err != nil || secret == "" {
		t.Fatalf("reveal secret: %q, %v", secret, err)
	}
	return ep, secret
}

// fanOut does what the fan_out_webhooks job does with the events waiting
// to be fanned out.
func fanOut(t *testing.T, db *store.DB, hooks *store.WebhookService) {
	t.Helper()
	if _, err := hooks.FanOutWebhookEvents(context.Background()); err != nil {
		t.Fatalf("fan out the webhook events: %v", err)
	}
	if n := rowCount(t, db, "SELECT COUNT(*) FROM webhook_events"); n != 0 {
		t.Fatalf("%d webhook events left after the fan-out", n)
	}
}

// deliverAll fans out the waiting events, then runs DeliverDue until
// nothing is due and returns how many attempts it made.
func deliverAll(t *testing.T, db *store.DB, hooks *store.WebhookService) int {
	t.Helper()
	fanOut(t, db, hooks)
	total := 0
	for {
		n, err := hooks.DeliverDue(context.Background(), 50)
		if err != nil {
			t.Fatalf("DeliverDue: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// deliveries returns an endpoint's deliveries, newest first, once the
// waiting events are fanned out.
func deliveries(t *testing.T, db *store.DB, hooks *store.WebhookService, who teamUser, workspaceID, endpointID int64) []*app.WebhookDelivery {
	t.Helper()
	fanOut(t, db, hooks)
	ds, err := hooks.FindWebhookDeliveries(who.ctx, app.ScopeOf(who.ctx, workspaceID), endpointID, 200)
	if err != nil {
		t.Fatalf("FindWebhookDeliveries: %v", err)
	}
	return ds
}
