package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"atrium/internal/store"
)

// scenario is one request shape driven at Atrium and at the baseline.
type scenario struct {
	name string
	// minRatio is the target: Atrium's req/s at least this share of the
	// baseline's. maxP99x, when set, caps p99 at this multiple of the
	// baseline's p99.
	minRatio float64
	maxP99x  float64
	status   int  // the answer that counts as success
	signedIn bool // sends the founder's session cookie
	apiKey   bool // sends the run's read key of big as a bearer token
	// request builds the n-th request (n is unique across the run).
	request func(h *harness, n int64) (*http.Request, error)
	// stored counts the rows the scenario's accepted requests left, by
	// table; each must equal the number accepted.
	stored func(h *harness) (map[string]int64, error)
	// setup, when set, prepares the scenario's data before it runs.
	setup func(ctx context.Context, h *harness) error
	// versus, when set, replaces the bare baseline: Atrium itself
	// answering this request, so the ratio is the cost of what the
	// scenario's request does more.
	versus func(h *harness, n int64) (*http.Request, error)
	// pause, when set, is a job queue the harness pauses while the
	// scenario is measured and resumes before stored counts: the ratio is
	// then the request path's alone, with the queue's work left for after.
	pause string
}

// scenarios lists every scenario in the order they run.
func scenarios() []scenario {
	get := func(path func(h *harness) string) func(h *harness, n int64) (*http.Request, error) {
		return func(h *harness, n int64) (*http.Request, error) {
			return http.NewRequest(http.MethodGet, path(h), nil)
		}
	}
	fixed := func(p string) func(h *harness) string { return func(*harness) string { return p } }
	return []scenario{
		{name: "landing", minRatio: 0.60, status: http.StatusOK, request: get(fixed("/"))},
		{name: "login_page", minRatio: 0.60, status: http.StatusOK, request: get(fixed("/login"))},
		{name: "dashboard", minRatio: 0.30, maxP99x: 3, status: http.StatusOK, signedIn: true, request: get(fixed("/w/acme"))},
		{name: "members", minRatio: 0.30, maxP99x: 3, status: http.StatusOK, signedIn: true, request: get(fixed("/w/big/members"))},
		// api_members is members' first page (50 of big's 2,000) through
		// the JSON API: a key lookup in place of the session, a page read
		// of the same rows, JSON in place of templ and no counts or pending
		// invites. It reads as someone, as members does, and has the same
		// target (0.30, p99 ≤ 3×) so the two read side by side: doing less,
		// it should pass wherever members does.
		{name: "api_members", minRatio: 0.30, maxP99x: 3, status: http.StatusOK, apiKey: true, request: get(fixed("/api/v1/members"))},
		{name: "audit_first", minRatio: 0.30, maxP99x: 3, status: http.StatusOK, signedIn: true, request: get(fixed("/w/acme/audit"))},
		{name: "audit_filtered", minRatio: 0.20, status: http.StatusOK, signedIn: true, request: get(func(h *harness) string {
			q := url.Values{"actor": {strconv.FormatInt(h.founderID, 10)}, "action": {"invite.sent"},
				"from": {"2025-06-01"}, "to": {"2025-08-31"}}
			return "/w/acme/audit?" + q.Encode()
		})},
		{name: "account", minRatio: 0.30, maxP99x: 3, status: http.StatusOK, signedIn: true, request: get(fixed("/settings/account"))},
		{name: "webhook", minRatio: 0.20, status: http.StatusOK, request: webhookRequest, stored: func(h *harness) (map[string]int64, error) {
			n, err := h.count("SELECT COUNT(*) FROM stripe_events WHERE id LIKE ?", h.eventID("")+"%")
			return map[string]int64{"stripe_events": n}, err
		}},
		// webhook_fanout renames a workspace whose 10 webhook endpoints
		// subscribe to workspace.renamed: the request's transaction writes
		// the audit entry and one waiting event (a webhook_events row); the
		// fan_out_webhooks job, queued after the commit, writes the 10
		// deliveries and the queue sends them to a receiver of the bench's.
		// Its baseline is the same rename of a workspace without
		// endpoints, through Atrium, alternated with it. The webhooks
		// queue is paused while it is measured, so the ratio is what the
		// fan-out costs the request itself (target: within 10%); stored
		// then waits for the queue to deliver every event to every
		// endpoint.
		{name: "webhook_fanout", minRatio: 0.90, status: http.StatusSeeOther, signedIn: true, setup: setupFanout("fan"),
			request: renameRequest("fan", fanoutEndpoints), versus: renameRequest("fan", 0), stored: fanoutStored("fan"),
			pause: "webhooks"},
		// webhook_fanout_live is the same with the queue working during
		// the measure, on the same cores: ten deliveries (each a claim, an
		// HTTP request and its record) for every rename compete with the
		// renames, so its target is lower.
		{name: "webhook_fanout_live", minRatio: 0.50, status: http.StatusSeeOther, signedIn: true, setup: setupFanout("live"),
			request: renameRequest("live", fanoutEndpoints), versus: renameRequest("live", 0), stored: fanoutStored("live")},
		{name: "magic_link", minRatio: 0.08, status: http.StatusSeeOther, request: magicLinkRequest, stored: func(h *harness) (map[string]int64, error) {
			tokens, err := h.count("SELECT COUNT(*) FROM login_tokens WHERE email LIKE ?", h.loginEmail(-1)+"%")
			if err != nil {
				return nil, err
			}
			mails, err := h.count("SELECT COUNT(*) FROM mail_outbox WHERE to_addr LIKE ?", h.loginEmail(-1)+"%")
			return map[string]int64{"login_tokens": tokens, "mail_outbox": mails}, err
		}},
	}
}

// postgresSignedInRatio is the target of the signed-in pages and the API
// on PostgreSQL, whose every statement is a round trip to another process.
const postgresSignedInRatio = 0.15

// target returns the scenario's minimum ratio on db.
func (sc scenario) target(db string) float64 {
	if db == store.Postgres && (sc.signedIn || sc.apiKey) && sc.versus == nil {
		return min(sc.minRatio, postgresSignedInRatio)
	}
	return sc.minRatio
}

// selectScenarios returns the scenarios named, all when names is empty.
func selectScenarios(names []string) ([]scenario, error) {
	all := scenarios()
	if len(names) == 0 {
		return all, nil
	}
	var out []scenario
	for _, n := range names {
		found := false
		for _, sc := range all {
			if sc.name == strings.TrimSpace(n) {
				out, found = append(out, sc), true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown scenario %q", n)
		}
	}
	return out, nil
}

// eventID is the id of the n-th webhook event of this run ("" for the
// prefix they share).
func (h *harness) eventID(n string) string { return "evt_bench_" + h.runID + "_" + n }

// loginEmail is the address of the n-th magic-link request of this run
// (n < 0: the prefix they share).
func (h *harness) loginEmail(n int64) string {
	if n < 0 {
		return "bench-" + h.runID + "-"
	}
	return fmt.Sprintf("bench-%s-%d@example.com", h.runID, n)
}

// webhookRequest is a unique event, signed as Stripe signs deliveries,
// for a customer no workspace has: Atrium stores it (unmatched) without
// calling Stripe.
func webhookRequest(h *harness, n int64) (*http.Request, error) {
	id := h.eventID(strconv.FormatInt(n, 10))
	now := time.Now().Unix()
	payload := fmt.Sprintf(`{"id":"%s","object":"event","type":"invoice.paid","api_version":"2023-10-16","created":%d,`+
		`"livemode":false,"pending_webhooks":1,"data":{"object":{"id":"in_bench_%d","object":"invoice","customer":"cus_bench_%s_%d"}}}`,
		id, now, n, h.runID, n)
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	fmt.Fprintf(mac, "%d.%s", now, payload)
	req, err := http.NewRequest(http.MethodPost, "/api/billing/webhook", strings.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", fmt.Sprintf("t=%d,v1=%s", now, hex.EncodeToString(mac.Sum(nil))))
	return req, nil
}

// magicLinkRequest asks for a sign-in link for a unique address.
func magicLinkRequest(h *harness, n int64) (*http.Request, error) {
	form := url.Values{"email": {h.loginEmail(n)}}
	req, err := http.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
