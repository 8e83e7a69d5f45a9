package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"atrium/internal/store/storetest"
	"atrium/internal/wire"
)

// hookReceiver is a real endpoint that verifies every delivery with the
// Standard Webhooks reference library once it knows the secret.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	ids    []string
}

func startHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	rc := &hookReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(rc.secret)
		if err != nil {
			t.Errorf("the reference library refuses the secret: %v", err)
		} else if err := wh.Verify(body, r.Header); err != nil {
			t.Errorf("the reference library does not verify the delivery: %v", err)
		}
		rc.ids = append(rc.ids, r.Header.Get("webhook-id"))
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// deliverNow runs the app's due webhook deliveries, as the poller would.
func deliverNow(t *testing.T, a *testApp) {
	t.Helper()
	hooks := wire.NewWebhooks(a.Cfg, a.DB, testTwoFactorKey, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := hooks.DeliverDue(context.Background(), 50); err != nil {
		t.Fatal(err)
	}
}

// TestWebhooksPage: an owner adds an endpoint (bad input is answered
// beside its field), sees its secret once, sends a test event that the
// receiver verifies, sees it delivered in the log, and replays it with
// the same webhook-id; a member cannot open the page.
func TestWebhooksPage(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("WEBHOOK_ALLOW_PRIVATE", "true"))
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme")
			base := "/w/" + slug + "/settings/webhooks"
			list := owner.Get(base)
			if !list.Has("webhooks-empty") || !owner.Get("/w/"+slug).Has("nav-ws-webhooks") {
				t.Fatalf("empty page or nav link missing:\n%s", list.Body)
			}
			for _, tc := range []struct {
				form  url.Values
				field string
			}{
				{url.Values{"url": {"ftp://example.com/"}, "event": {"invite.sent"}}, "field-url-error"},
				{url.Values{"url": {"https://example.com/\xff"}, "event": {"invite.sent"}}, "field-url-error"},
				{url.Values{"url": {"https://example.com/"}}, "field-events-error"},
				{url.Values{"url": {"https://example.com/"}, "event": {"auth.signed_in"}}, "field-events-error"},
				{url.Values{"url": {"https://example.com/"}, "description": {"a\x00b"}, "event": {"invite.sent"}}, "field-description-error"},
			} {
				res := owner.Post(base, tc.form)
				if res.StatusCode != http.StatusUnprocessableEntity || !res.Has(tc.field) {
					t.Errorf("%v: status %d, %s shown %v", tc.form, res.StatusCode, tc.field, res.Has(tc.field))
				}
			}

			rc := startHookReceiver(t)
			res := owner.Post(base, url.Values{"url": {rc.URL + "/hook"}, "description": {"CRM"}, "event": {"invite.sent", "member.left"}})
			if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Location(), "/secret") {
				t.Fatalf("create: %d %s", res.StatusCode, res.Location())
			}
			shown := owner.Follow(res)
			secret, _ := shown.Doc.Find(`[data-testid="webhook-secret-value"]`).Attr("value")
			if !strings.HasPrefix(secret, "whsec_") || shown.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("secret %q (Cache-Control %q)", secret, shown.Header.Get("Cache-Control"))
			}
			rc.mu.Lock()
			rc.secret = secret
			rc.mu.Unlock()
			again := owner.Get(res.Location())
			if !again.Has("webhook-secret-gone") || strings.Contains(again.Body, secret) {
				t.Fatal("the secret is shown twice")
			}
			endpoint := strings.TrimSuffix(res.Location(), "/secret")
			if strings.Contains(owner.Get(endpoint).Body, secret) {
				t.Fatal("the endpoint page shows the secret")
			}

			test := owner.Submit(owner.Get(endpoint), "webhook-test-form", nil)
			if test.StatusCode != http.StatusSeeOther {
				t.Fatalf("test event: %d", test.StatusCode)
			}
			// The app's own queue may hold the attempt when the test
			// asks: poll, sending what is due each time.
			var page *response
			for deadline := time.Now().Add(20 * time.Second); ; {
				deliverNow(t, a)
				page = owner.Follow(test)
				if page.Text("webhook-delivery-status") == "Delivered" || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if got := page.Text("webhook-delivery-status"); got != "Delivered" {
				t.Fatalf("delivery status %q, want Delivered\n%s", got, page.Body)
			}
			if got := page.Text("webhook-delivery-code"); got != "200" {
				t.Errorf("code %q, want 200", got)
			}
			replay := owner.Submit(page, "webhook-replay", nil)
			if replay.StatusCode != http.StatusSeeOther {
				t.Fatalf("replay: %d", replay.StatusCode)
			}
			var ids []string
			for deadline := time.Now().Add(20 * time.Second); ; {
				deliverNow(t, a)
				rc.mu.Lock()
				ids = append([]string(nil), rc.ids...)
				rc.mu.Unlock()
				if len(ids) >= 2 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(ids) != 2 || ids[0] != ids[1] || !strings.HasPrefix(ids[0], "msg_") {
				t.Errorf("receiver got ids %v, want one message twice", ids)
			}
			if got := a.auditCount(t, workspaceID(t, a, slug, "owner@example.com"), "webhook.replayed"); got != 1 {
				t.Errorf("%d replay entries, want 1", got)
			}

			// Replay since: a bad time is answered beside the field.
			bad := owner.Post(endpoint+"/replay", url.Values{"since": {"yesterday"}})
			if bad.StatusCode != http.StatusUnprocessableEntity || !bad.Has("field-since-error") {
				t.Errorf("replay since yesterday: %d", bad.StatusCode)
			}

			// The docs page and the payloads' schemas, built from the catalog.
			if doc := owner.Get("/docs/webhooks"); doc.StatusCode != http.StatusOK || !strings.Contains(doc.Body, "invite.accepted") {
				t.Errorf("/docs/webhooks: %d", doc.StatusCode)
			}
			schemas := a.newBrowser(t).Get("/docs/webhooks/events.json")
			if schemas.StatusCode != http.StatusOK || !strings.Contains(schemas.Body, `"invite.accepted.v1"`) ||
				!strings.HasPrefix(schemas.Header.Get("Content-Type"), "application/json") {
				t.Errorf("/docs/webhooks/events.json: %d %s", schemas.StatusCode, schemas.Header.Get("Content-Type"))
			}

			member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
			if res := member.Get(base); res.StatusCode != http.StatusForbidden {
				t.Errorf("member opens the webhooks page: %d", res.StatusCode)
			}
		})
	}
}
