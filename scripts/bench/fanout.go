package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"atrium/internal/app"
	"atrium/internal/outbound"
	"atrium/internal/store"
)

// fanoutEndpoints is how many webhook endpoints the webhook_fanout
// scenario's workspace has, each subscribed to workspace.renamed.
const fanoutEndpoints = 10

// fanoutSlug is the slug of the run's workspace with n endpoints (n is 0
// or fanoutEndpoints).
func (h *harness) fanoutSlug(n int) string { return fmt.Sprintf("fan%d-%s", n, h.runID) }

// renameRequest renames the workspace of slug to a name unique to request
// n, through the settings form, as its owner: one change, one audit entry
// (workspace.renamed, a public event) and, with endpoints, one delivery
// row per endpoint, in one transaction.
func renameRequest(endpoints int) func(h *harness, n int64) (*http.Request, error) {
	return func(h *harness, n int64) (*http.Request, error) {
		slug := h.fanoutSlug(endpoints)
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
func setupFanout(ctx context.Context, h *harness) error {
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
		ws, err := store.NewWorkspaceService(h.db).CreateWorkspace(actx, "Fan-out", h.fanoutSlug(n))
		if err != nil {
			return fmt.Errorf("create workspace %s: %w", h.fanoutSlug(n), err)
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

// fanoutStored counts the deliveries the fan-out workspace's renames
// queued, per endpoint: one per accepted request.
func fanoutStored(h *harness) (map[string]int64, error) {
	n, err := h.count(`SELECT COUNT(*) FROM webhook_deliveries d JOIN workspaces w ON w.id = d.workspace_id
		WHERE w.slug = ?`, h.fanoutSlug(fanoutEndpoints))
	if err != nil {
		return nil, err
	}
	if n%fanoutEndpoints != 0 {
		return map[string]int64{"webhook_deliveries (not a multiple of 10)": n}, nil
	}
	return map[string]int64{"webhook_deliveries / 10": n / fanoutEndpoints}, nil
}
