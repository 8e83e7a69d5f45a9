package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/outbound"
	"atrium/internal/store"
)

// fanoutEndpoints is how many webhook endpoints the webhook_fanout
// scenario's workspace has, each subscribed to workspace.renamed.
const fanoutEndpoints = 10

// fanoutSlug is the slug of the run's workspace of a scenario (tag) with n
// endpoints (n is 0 or fanoutEndpoints).
func (h *harness) fanoutSlug(tag string, n int) string {
	return fmt.Sprintf("%s%d-%s", tag, n, h.runID)
}

// renameRequest renames the workspace of slug to a name unique to request
// n, through the settings form, as its owner: one change, one audit entry
// (workspace.renamed, a public event) and, with endpoints, one waiting
// event (a webhook_events row), in one transaction.
func renameRequest(tag string, endpoints int) func(h *harness, n int64) (*http.Request, error) {
	return func(h *harness, n int64) (*http.Request, error) {
		slug := h.fanoutSlug(tag, endpoints)
		form := url.Values{"name": {fmt.Sprintf("Fan-out %d", n)}, "slug": {slug}}
		req, err := http.NewRequest(http.MethodPost, "/w/"+slug+"/settings", strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
}

// setupFanout makes the run's two workspaces, owned by the founder: one
// with fanoutEndpoints endpoints subscribed to workspace.renamed, pointing
// at a receiver of the bench's that answers 204 at once (the server runs
// with WEBHOOK_ALLOW_PRIVATE), and one without endpoints.
func setupFanout(tag string) func(ctx context.Context, h *harness) error {
	return func(ctx context.Context, h *harness) error { return h.setupFanout(ctx, tag) }
}

func (h *harness) setupFanout(ctx context.Context, tag string) error {
	if h.hookReceiver == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})}
		go func() { _ = srv.Serve(ln) }()
		h.hookReceiver = srv
		h.hookURL = "http://" + ln.Addr().String()
	}
	actx := app.WithPrincipal(ctx, &app.Principal{User: app.User{ID: h.founderID, Email: benchEmail}})
	key, err := h.db.Secret(ctx, "two_factor_key")
	if err != nil {
		return fmt.Errorf("read the key sealing webhook secrets: %w", err)
	}
	hooks := store.NewWebhookService(h.db, key, outbound.Options{AllowPrivate: true})
	for _, n := range []int{0, fanoutEndpoints} {
		ws, err := store.NewWorkspaceService(h.db).CreateWorkspace(actx, "Fan-out", h.fanoutSlug(tag, n))
		if err != nil {
			return fmt.Errorf("create workspace %s: %w", h.fanoutSlug(tag, n), err)
		}
		for i := range n {
			_, err := hooks.CreateWebhookEndpoint(actx, app.ScopeOf(actx, ws.ID), app.WebhookEndpointInput{
				URL: fmt.Sprintf("%s/hook/%d", h.hookURL, i), EventTypes: []string{app.ActionWorkspaceRenamed}})
			if err != nil {
				return fmt.Errorf("create endpoint %d: %w", i, err)
			}
		}
	}
	return nil
}

// fanoutStored waits for the webhooks queue to finish its work (at most
// ten minutes), then counts the deliveries the scenario's renames made,
// per endpoint, and those delivered: each one per accepted request.
func fanoutStored(tag string) func(h *harness) (map[string]int64, error) {
	return func(h *harness) (map[string]int64, error) {
		start := time.Now()
		for {
			left, err := h.count(`SELECT COUNT(*) FROM river_job WHERE queue = ?
				AND state IN ('available', 'pending', 'running', 'retryable', 'scheduled')`, "webhooks")
			if err != nil {
				return nil, err
			}
			if left == 0 {
				break
			}
			if time.Since(start) > 10*time.Minute {
				return nil, fmt.Errorf("%d webhook jobs still unfinished after 10 minutes", left)
			}
			time.Sleep(200 * time.Millisecond)
		}
		h.drained = time.Since(start)
		counts := map[string]int64{}
		for _, c := range []struct{ name, where string }{
			{"webhook_deliveries / 10", ""},
			{"delivered / 10", " AND d.status = 'delivered'"},
		} {
			n, err := h.count(`SELECT COUNT(*) FROM webhook_deliveries d JOIN workspaces w ON w.id = d.workspace_id
				WHERE w.slug = ?`+c.where, h.fanoutSlug(tag, fanoutEndpoints))
			if err != nil {
				return nil, err
			}
			if n%fanoutEndpoints != 0 {
				counts[c.name+" (not a multiple of 10)"] = n
				continue
			}
			counts[c.name] = n / fanoutEndpoints
		}
		return counts, nil
	}
}
