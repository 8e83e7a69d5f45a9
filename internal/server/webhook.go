package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/web/layout"
	"atrium/web/page"
)

// The outgoing webhooks' settings pages (owners and admins): endpoints,
// their secrets, test events and the delivery log with replay. Deliveries
// themselves run outside requests, as jobs (internal/jobs.DeliverWebhook).

// webhookEvents is the event catalog as the form offers it.
func webhookEvents() []page.WebhookEventOption {
	var out []page.WebhookEventOption
	for _, e := range app.SubscribableEventTypes() {
		out = append(out, page.WebhookEventOption{Code: e.Code, Description: e.Description})
	}
	return out
}

// webhookForm reads the endpoint form.
func webhookForm(r *http.Request) (page.WebhookForm, app.WebhookEndpointInput) {
	_ = r.ParseForm()
	in := app.WebhookEndpointInput{URL: r.PostFormValue("url"), Description: r.PostFormValue("description"), EventTypes: r.PostForm["event"]}
	f := page.WebhookForm{URL: in.URL, Description: in.Description, Events: map[string]bool{}}
	for _, e := range in.EventTypes {
		f.Events[e] = true
	}
	return f, in
}

// webhookPath is the path of an endpoint's page, or below it.
func webhookPath(ws *app.Workspace, id int64, rest string) string {
	return wsPath(ws, "/settings/webhooks/"+strconv.FormatInt(id, 10)+rest)
}

// endpointRow formats an endpoint for the list.
func endpointRow(ws *app.Workspace, e *app.WebhookEndpoint) page.WebhookEndpointRow {
	row := page.WebhookEndpointRow{ID: e.ID, URL: e.URL, Description: e.Description, Events: strings.Join(e.EventTypes, ", "),
		Status: "On", StatusKind: "success", Path: webhookPath(ws, e.ID, "")}
	switch {
	case !e.Enabled:
		row.Status, row.StatusKind = "Off", "muted"
	case !e.FailingSince.IsZero():
		row.Status, row.StatusKind = "Failing", "warning"
	}
	return row
}

// handleWebhooks handles "GET /w/{slug}/settings/webhooks".
func (s *Server) handleWebhooks(w http.ResponseWriter, r *http.Request) {
	s.renderWebhooks(w, r, http.StatusOK, page.WebhookForm{Events: map[string]bool{}})
}

// renderWebhooks renders the endpoints page with the add form.
func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, form page.WebhookForm) {
	sc := scopeFrom(r.Context())
	eps, err := s.Hooks.FindWebhookEndpoints(r.Context(), sc.scope())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := page.WebhooksView{URL: workspaceURL(sc.ws.Slug), Form: form, Events: webhookEvents(), DocsURL: "/docs/webhooks",
		HTTPAllowed: s.Config.WebhookAllowPrivate}
	for _, e := range eps {
		v.Endpoints = append(v.Endpoints, endpointRow(sc.ws, e))
	}
	s.render(w, r, status, page.Webhooks(s.workspacePage(w, r, "Webhooks", "webhooks"), v))
}

// handleWebhookCreate handles "POST /w/{slug}/settings/webhooks": the new
// endpoint's page shows its secret once.
func (s *Server) handleWebhookCreate(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	form, in := webhookForm(r)
	ep, err := s.Hooks.CreateWebhookEndpoint(r.Context(), sc.scope(), in)
	if err != nil {
		if app.ErrorCode(err) == app.ECONFLICT {
			s.setFlash(w, "error", app.ErrorMessage(err))
			redirect(w, r, wsPath(sc.ws, "/settings/webhooks"))
			return
		}
		if app.ErrorCode(err) != app.EINVALID {
			s.Error(w, r, err)
			return
		}
		form.Errors = fieldErrors(r.Context(), err, "url", "description", "events")
		s.renderWebhooks(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	redirect(w, r, webhookPath(sc.ws, ep.ID, "/secret"))
}

// handleWebhook handles "GET /w/{slug}/settings/webhooks/{endpointID}".
func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	s.renderWebhook(w, r, http.StatusOK, nil, webhookPageExtras{})
}

// webhookPageExtras are what one rendering of an endpoint's page adds: a
// secret, or the replay form's input and error.
type webhookPageExtras struct {
	secret, replaySince, replayError string
	secretGone                       bool
}

// renderWebhook renders an endpoint's page; form, when not nil, is the
// settings form as typed.
func (s *Server) renderWebhook(w http.ResponseWriter, r *http.Request, status int, form *page.WebhookForm, x webhookPageExtras) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "endpointID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	ep, err := s.Hooks.FindWebhookEndpoint(r.Context(), sc.scope(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ds, err := s.Hooks.FindWebhookDeliveries(r.Context(), sc.scope(), id, 50)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	tz := app.PrincipalFromContext(r.Context()).User.TimeZone
	loc := s.location(tz)
	wsURL := workspaceURL(sc.ws.Slug)
	v := page.WebhookEndpointView{URL: wsURL, Endpoint: endpointRow(sc.ws, ep), Events: webhookEvents(), Enabled: ep.Enabled,
		DisabledReason: ep.DisabledReason, NewSecret: x.secret, SecretGone: x.secretGone, ReplaySince: x.replaySince,
		ReplaySinceError: x.replayError, TimeZone: loc.String(), HTTPAllowed: s.Config.WebhookAllowPrivate,
		Delete: page.ConfirmDeleteWebhook(wsURL, ep.ID, ep.Label()), Rotate: page.ConfirmRotateWebhook(wsURL, ep.ID, ep.Label())}
	if form != nil {
		v.Form = *form
	} else {
		v.Form = page.WebhookForm{URL: ep.URL, Description: ep.Description, Events: map[string]bool{}}
		for _, e := range ep.EventTypes {
			v.Form.Events[e] = true
		}
	}
	now := s.Now()
	if !ep.FailingSince.IsZero() && ep.Enabled {
		v.FailingSince = "since " + ep.FailingSince.In(loc).Format("2 Jan 15:04 MST")
	}
	if ep.PreviousSecretUntil.After(now) {
		v.Rotation = ep.PreviousSecretUntil.In(loc).Format("2 Jan 2006 15:04 MST")
	}
	for _, d := range ds {
		v.Deliveries = append(v.Deliveries, s.deliveryRow(sc.ws, ep, d, loc))
	}
	if x.secret != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	s.render(w, r, status, page.WebhookEndpoint(s.workspacePage(w, r, "Webhook endpoint", "webhooks"), v))
}

// deliveryRow formats a delivery for the log in loc.
func (s *Server) deliveryRow(ws *app.Workspace, ep *app.WebhookEndpoint, d *app.WebhookDelivery, loc *time.Location) page.WebhookDeliveryRow {
	row := page.WebhookDeliveryRow{ID: d.ID, Event: d.EventType, MessageID: d.MessageID, Attempts: d.Attempts,
		Latency: "", Code: "—", Excerpt: d.Excerpt, Error: d.Error, ReplayOf: d.ReplayOfID,
		When: d.CreatedAt.In(loc).Format("2 Jan 2006 15:04:05 MST")}
	if d.Attempts > 0 && !d.LastAttemptAt.IsZero() {
		row.Latency = strconv.FormatInt(d.Latency.Milliseconds(), 10) + " ms"
	}
	if d.StatusCode != 0 {
		row.Code = strconv.Itoa(d.StatusCode)
	}
	switch d.Status {
	case app.DeliveryDelivered:
		row.Status, row.StatusKind = "Delivered", "success"
	case app.DeliveryFailed:
		row.Status, row.StatusKind = "Retrying", "warning"
		row.Next = d.NextAttemptAt.In(loc).Format("2 Jan 15:04 MST")
	case app.DeliveryGaveUp:
		row.Status, row.StatusKind = "Gave up", "danger"
	default:
		row.Status, row.StatusKind = "Pending", "info"
	}
	if ep.Enabled && d.Status != app.DeliveryPending {
		row.Replay = webhookPath(ws, ep.ID, "/deliveries/"+strconv.FormatInt(d.ID, 10)+"/replay")
	}
	return row
}

// handleWebhookSecret handles "GET /w/{slug}/settings/webhooks/{endpointID}/secret":
// the secret just made by this user's creation or rotation, shown once.
func (s *Server) handleWebhookSecret(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "endpointID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	secret, err := s.Hooks.RevealWebhookSecret(r.Context(), sc.scope(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.renderWebhook(w, r, http.StatusOK, nil, webhookPageExtras{secret: secret, secretGone: secret == ""})
}

// handleWebhookUpdate handles "POST /w/{slug}/settings/webhooks/{endpointID}".
func (s *Server) handleWebhookUpdate(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "endpointID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	form, in := webhookForm(r)
	if err := s.Hooks.UpdateWebhookEndpoint(r.Context(), sc.scope(), id, in); err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			s.Error(w, r, err)
			return
		}
		form.Errors = fieldErrors(r.Context(), err, "url", "description", "events")
		s.renderWebhook(w, r, http.StatusUnprocessableEntity, &form, webhookPageExtras{})
		return
	}
	s.setFlash(w, "success", "Endpoint saved.")
	redirect(w, r, webhookPath(sc.ws, id, ""))
}

// webhookAction runs one action on the endpoint named by the route and
// answers with a flash and a redirect to its page: the ECONFLICT and
// EINVALID refusals as an error flash, anything else as an error page.
func (s *Server) webhookAction(w http.ResponseWriter, r *http.Request, done string, act func(sc app.Scope, id int64) error) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "endpointID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if err := act(sc.scope(), id); err != nil {
		if c := app.ErrorCode(err); c != app.ECONFLICT && c != app.EINVALID {
			s.Error(w, r, err)
			return
		}
		s.setFlash(w, "error", app.ErrorMessage(err))
	} else if done != "" {
		s.setFlash(w, "success", done)
	}
	redirect(w, r, webhookPath(sc.ws, id, ""))
}

// handleWebhookEnable handles "POST /w/{slug}/settings/webhooks/{endpointID}/enable".
func (s *Server) handleWebhookEnable(w http.ResponseWriter, r *http.Request) {
	s.webhookAction(w, r, "Endpoint turned on. New events are sent to it again.", func(sc app.Scope, id int64) error {
		return s.Hooks.SetWebhookEndpointEnabled(r.Context(), sc, id, true)
	})
}

// handleWebhookDisable handles "POST /w/{slug}/settings/webhooks/{endpointID}/disable".
func (s *Server) handleWebhookDisable(w http.ResponseWriter, r *http.Request) {
	s.webhookAction(w, r, "Endpoint turned off. Its waiting deliveries were given up.", func(sc app.Scope, id int64) error {
		return s.Hooks.SetWebhookEndpointEnabled(r.Context(), sc, id, false)
	})
}

// handleWebhookTest handles "POST /w/{slug}/settings/webhooks/{endpointID}/test".
func (s *Server) handleWebhookTest(w http.ResponseWriter, r *http.Request) {
	s.webhookAction(w, r, "Test event queued. It appears below within seconds.", func(sc app.Scope, id int64) error {
		_, err := s.Hooks.SendWebhookTest(r.Context(), sc, id)
		s.webhookQueued()
		return err
	})
}

// webhookQueued wakes the delivery poller, when there is one.
func (s *Server) webhookQueued() {
}

// handleWebhookReplay handles "POST /w/{slug}/settings/webhooks/{endpointID}/deliveries/{deliveryID}/replay".
func (s *Server) handleWebhookReplay(w http.ResponseWriter, r *http.Request) {
	deliveryID, ok := idParam(r, "deliveryID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	s.webhookAction(w, r, "Delivery queued again, with the same webhook-id.", func(sc app.Scope, id int64) error {
		_, err := s.Hooks.ReplayWebhookDelivery(r.Context(), sc, id, deliveryID)
		s.webhookQueued()
		return err
	})
}

// handleWebhookReplaySince handles "POST /w/{slug}/settings/webhooks/{endpointID}/replay":
// every event since the time typed (in the viewer's time zone) is queued
// again.
func (s *Server) handleWebhookReplaySince(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "endpointID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	raw := strings.TrimSpace(r.PostFormValue("since"))
	loc := s.location(app.PrincipalFromContext(r.Context()).User.TimeZone)
	since, err := time.ParseInLocation("2006-01-02T15:04", raw, loc)
	if err != nil {
		s.renderWebhook(w, r, http.StatusUnprocessableEntity, nil,
			webhookPageExtras{replaySince: raw, replayError: "Enter a date and time, e.g. 2026-12-01T09:00."})
		return
	}
	n, err := s.Hooks.ReplayWebhookDeliveriesSince(r.Context(), sc.scope(), id, since)
	if err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			s.Error(w, r, err)
			return
		}
		s.renderWebhook(w, r, http.StatusUnprocessableEntity, nil, webhookPageExtras{replaySince: raw, replayError: app.ErrorMessage(err)})
		return
	}
	s.webhookQueued()
	s.setFlash(w, "success", strconv.Itoa(n)+" event(s) queued again, each with its original webhook-id.")
	redirect(w, r, webhookPath(sc.ws, id, ""))
}

// confirmEndpoint loads the endpoint the route names and, until the form
// says confirm=yes, answers with the confirmation step confirm makes; it
// returns the endpoint's id once the action is confirmed.
func (s *Server) confirmEndpoint(w http.ResponseWriter, r *http.Request,
	confirm func(ws layout.WorkspaceURL, endpointID int64, label string) page.Confirm) (int64, bool) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "endpointID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return 0, false
	}
	ep, err := s.Hooks.FindWebhookEndpoint(r.Context(), sc.scope(), id)
	if err != nil {
		s.Error(w, r, err)
		return 0, false
	}
	return id, s.confirmed(w, r, s.hooksPage(w, r), confirm(workspaceURL(sc.ws.Slug), id, ep.Label()))
}

// handleWebhookRotate handles "POST /w/{slug}/settings/webhooks/{endpointID}/rotate":
// without confirm=yes it answers with the confirmation step.
func (s *Server) handleWebhookRotate(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	id, ok := s.confirmEndpoint(w, r, page.ConfirmRotateWebhook)
	if !ok {
		return
	}
	if err := s.Hooks.RotateWebhookSecret(r.Context(), sc.scope(), id); err != nil {
		s.Error(w, r, err)
		return
	}
	redirect(w, r, webhookPath(sc.ws, id, "/secret"))
}

// handleWebhookDelete handles "POST /w/{slug}/settings/webhooks/{endpointID}/delete":
// without confirm=yes it answers with the confirmation step.
func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	id, ok := s.confirmEndpoint(w, r, page.ConfirmDeleteWebhook)
	if !ok {
		return
	}
	if err := s.Hooks.DeleteWebhookEndpoint(r.Context(), sc.scope(), id); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", "Endpoint deleted.")
	redirect(w, r, wsPath(sc.ws, "/settings/webhooks"))
}

// hooksPage returns a builder of the webhooks section's frame.
func (s *Server) hooksPage(w http.ResponseWriter, r *http.Request) func() layout.Page {
	return func() layout.Page { return s.workspacePage(w, r, "", "webhooks") }
}

// handleWebhookSchemas handles "GET /docs/webhooks/events.json": the JSON
// Schema of every event's payload, built from the event catalog (the
// OpenAPI document is version 3.0, which has no webhooks section).
func (s *Server) handleWebhookSchemas(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, app.EventSchemas())
}
