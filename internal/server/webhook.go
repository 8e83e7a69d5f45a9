package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

// The outgoing webhooks' settings pages (owners and admins): endpoints,
// their secrets, test events and the delivery log with replay. Deliveries
// themselves run outside requests, as jobs (internal/jobs.DeliverWebhook).

// webhookEvents is the event catalog as the form offers it, each event
// described in the reader's language (webhooks.event.<code>).
func webhookEvents(ctx context.Context) []page.WebhookEventOption {
	var out []page.WebhookEventOption
	for _, e := range app.SubscribableEventTypes() {
		out = append(out, page.WebhookEventOption{Code: e.Code, Description: i18n.T(ctx, "webhooks.event."+e.Code)})
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
func endpointRow(ctx context.Context, ws *app.Workspace, e *app.WebhookEndpoint) page.WebhookEndpointRow {
	row := page.WebhookEndpointRow{ID: e.ID, URL: e.URL, Description: e.Description, Events: strings.Join(e.EventTypes, ", "),
		Status: i18n.T(ctx, "webhooks.status.on"), StatusKind: "success", Path: webhookPath(ws, e.ID, "")}
	switch {
	case !e.Enabled:
		row.Status, row.StatusKind = i18n.T(ctx, "webhooks.status.off"), "muted"
	case !e.FailingSince.IsZero():
		row.Status, row.StatusKind = i18n.T(ctx, "webhooks.status.failing"), "warning"
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
	v := page.WebhooksView{URL: workspaceURL(sc.ws.Slug), Form: form, Events: webhookEvents(r.Context()), DocsURL: "/docs/webhooks",
		HTTPAllowed: s.Config.WebhookAllowPrivate}
	for _, e := range eps {
		v.Endpoints = append(v.Endpoints, endpointRow(r.Context(), sc.ws, e))
	}
	s.render(w, r, status, page.Webhooks(s.workspacePage(w, r, i18n.T(r.Context(), "webhooks.title"), "webhooks"), v))
}

// handleWebhookCreate handles "POST /w/{slug}/settings/webhooks": the new
// endpoint's page shows its secret once.
func (s *Server) handleWebhookCreate(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	form, in := webhookForm(r)
	ep, err := s.Hooks.CreateWebhookEndpoint(r.Context(), sc.scope(), in)
	if err != nil {
		if app.ErrorCode(err) == app.ECONFLICT {
			s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
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
	ctx := r.Context()
	tz := app.PrincipalFromContext(ctx).User.TimeZone
	loc := s.location(tz)
	wsURL := workspaceURL(sc.ws.Slug)
	v := page.WebhookEndpointView{URL: wsURL, Endpoint: endpointRow(ctx, sc.ws, ep), Events: webhookEvents(ctx), Enabled: ep.Enabled,
		DisabledReason: disabledReason(ctx, ep.DisabledReason), NewSecret: x.secret, SecretGone: x.secretGone, ReplaySince: x.replaySince,
		ReplaySinceError: x.replayError, TimeZone: loc.String(), HTTPAllowed: s.Config.WebhookAllowPrivate,
		Delete: confirmDeleteWebhook(ctx)(wsURL, ep.ID, ep.Label()), Rotate: confirmRotateWebhook(ctx)(wsURL, ep.ID, ep.Label())}
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
		v.FailingSince = s.formatTime(ctx, ep.FailingSince, tz)
	}
	if ep.PreviousSecretUntil.After(now) {
		v.Rotation = s.formatTime(ctx, ep.PreviousSecretUntil, tz)
	}
	for _, d := range ds {
		v.Deliveries = append(v.Deliveries, s.deliveryRow(ctx, sc.ws, ep, d, tz))
	}
	if x.secret != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	s.render(w, r, status, page.WebhookEndpoint(s.workspacePage(w, r, i18n.T(ctx, "webhooks.endpoint.title"), "webhooks"), v))
}

// disabledReason is why an endpoint is off, in the reader's language: the
// store keeps the reason in English, as the audit log and the owners'
// email got it, so the reasons it writes are looked up here; any other
// shows as it was kept.
func disabledReason(ctx context.Context, reason string) string {
	var days int
	switch {
	case reason == "":
		return ""
	case reason == "Turned off by hand.":
		return i18n.T(ctx, "webhooks.reason.by_hand")
	case reason == "The endpoint answered 410 Gone.":
		return i18n.T(ctx, "webhooks.reason.gone")
	}
	if n, err := fmt.Sscanf(reason, "Every delivery failed for %d days.", &days); err == nil && n == 1 {
		return i18n.N(ctx, "webhooks.reason.failing", days)
	}
	return reason
}

// deliveryError is a delivery's recorded error in the reader's language,
// and whether it is the receiver's technical detail kept as it was (a
// network error, which stays as recorded).
func deliveryError(ctx context.Context, msg string) (string, bool) {
	switch msg {
	case "The endpoint is turned off.":
		return i18n.T(ctx, "webhooks.delivery.error_off"), false
	case "The endpoint was turned off.":
		return i18n.T(ctx, "webhooks.delivery.error_turned_off"), false
	}
	return msg, msg != ""
}

// deliveryRow formats a delivery for the log in the time zone tz and the
// reader's language; its time keeps the seconds.
func (s *Server) deliveryRow(ctx context.Context, ws *app.Workspace, ep *app.WebhookEndpoint, d *app.WebhookDelivery, tz string) page.WebhookDeliveryRow {
	loc := s.location(tz)
	row := page.WebhookDeliveryRow{ID: d.ID, Event: d.EventType, MessageID: d.MessageID, Attempts: d.Attempts,
		Latency: "", Code: "—", Excerpt: d.Excerpt, ReplayOf: d.ReplayOfID,
		When: d.CreatedAt.In(loc).Format("2 Jan 2006 15:04:05 MST")}
	if p := i18n.PrinterFrom(ctx); p != nil {
		t := d.CreatedAt.In(loc)
		row.When = p.T("date.time_format", "Date", p.Date(t, nil), "Time", t.Format("15:04:05"), "Zone", t.Format("MST"))
	}
	row.Error, row.ErrorRaw = deliveryError(ctx, d.Error)
	if d.Attempts > 0 && !d.LastAttemptAt.IsZero() {
		row.Latency = i18n.T(ctx, "webhooks.deliveries.latency", "Ms", i18n.Number(ctx, d.Latency.Milliseconds()))
	}
	if d.StatusCode != 0 {
		row.Code = strconv.Itoa(d.StatusCode)
	}
	switch d.Status {
	case app.DeliveryDelivered:
		row.Status, row.StatusKind = i18n.T(ctx, "webhooks.delivery.delivered"), "success"
	case app.DeliveryFailed:
		row.Status, row.StatusKind = i18n.T(ctx, "webhooks.delivery.retrying"), "warning"
		row.Next = s.formatTime(ctx, d.NextAttemptAt, tz)
	case app.DeliveryGaveUp:
		row.Status, row.StatusKind = i18n.T(ctx, "webhooks.delivery.gave_up"), "danger"
	default:
		row.Status, row.StatusKind = i18n.T(ctx, "webhooks.delivery.pending"), "info"
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
	s.setFlash(w, "success", i18n.T(r.Context(), "webhooks.flash.saved"))
	redirect(w, r, webhookPath(sc.ws, id, ""))
}

// webhookAction runs one action on the endpoint named by the route and
// answers with a flash (done is its catalog key) and a redirect to its
// page: the ECONFLICT and
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
		s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
	} else if done != "" {
		s.setFlash(w, "success", i18n.T(r.Context(), done))
	}
	redirect(w, r, webhookPath(sc.ws, id, ""))
}

// handleWebhookEnable handles "POST /w/{slug}/settings/webhooks/{endpointID}/enable".
func (s *Server) handleWebhookEnable(w http.ResponseWriter, r *http.Request) {
	s.webhookAction(w, r, "webhooks.flash.turned_on", func(sc app.Scope, id int64) error {
		return s.Hooks.SetWebhookEndpointEnabled(r.Context(), sc, id, true)
	})
}

// handleWebhookDisable handles "POST /w/{slug}/settings/webhooks/{endpointID}/disable".
func (s *Server) handleWebhookDisable(w http.ResponseWriter, r *http.Request) {
	s.webhookAction(w, r, "webhooks.flash.turned_off", func(sc app.Scope, id int64) error {
		return s.Hooks.SetWebhookEndpointEnabled(r.Context(), sc, id, false)
	})
}

// handleWebhookTest handles "POST /w/{slug}/settings/webhooks/{endpointID}/test".
func (s *Server) handleWebhookTest(w http.ResponseWriter, r *http.Request) {
	s.webhookAction(w, r, "webhooks.flash.test_queued", func(sc app.Scope, id int64) error {
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
	s.webhookAction(w, r, "webhooks.flash.replay_queued", func(sc app.Scope, id int64) error {
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
			webhookPageExtras{replaySince: raw, replayError: i18n.T(r.Context(), "webhooks.replay_since.invalid")})
		return
	}
	n, err := s.Hooks.ReplayWebhookDeliveriesSince(r.Context(), sc.scope(), id, since)
	if err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			s.Error(w, r, err)
			return
		}
		s.renderWebhook(w, r, http.StatusUnprocessableEntity, nil, webhookPageExtras{replaySince: raw, replayError: i18n.ErrorText(r.Context(), err)})
		return
	}
	s.webhookQueued()
	s.setFlash(w, "success", i18n.N(r.Context(), "webhooks.flash.replayed_since", n))
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

// confirmDeleteWebhook returns page.ConfirmDeleteWebhook in the reader's
// language.
func confirmDeleteWebhook(ctx context.Context) func(ws layout.WorkspaceURL, endpointID int64, label string) page.Confirm {
	return func(ws layout.WorkspaceURL, endpointID int64, label string) page.Confirm {
		c := page.ConfirmDeleteWebhook(ws, endpointID, label)
		c.Title = i18n.T(ctx, "webhooks.delete.title", "Label", label)
		c.Message, c.Label = i18n.T(ctx, "webhooks.delete.message"), i18n.T(ctx, "webhooks.delete.label")
		return c
	}
}

// confirmRotateWebhook returns page.ConfirmRotateWebhook in the reader's
// language.
func confirmRotateWebhook(ctx context.Context) func(ws layout.WorkspaceURL, endpointID int64, label string) page.Confirm {
	return func(ws layout.WorkspaceURL, endpointID int64, label string) page.Confirm {
		c := page.ConfirmRotateWebhook(ws, endpointID, label)
		c.Title = i18n.T(ctx, "webhooks.rotate.title", "Label", label)
		c.Message, c.Label = i18n.T(ctx, "webhooks.rotate.message"), i18n.T(ctx, "webhooks.rotate.label")
		return c
	}
}

// handleWebhookRotate handles "POST /w/{slug}/settings/webhooks/{endpointID}/rotate":
// without confirm=yes it answers with the confirmation step.
func (s *Server) handleWebhookRotate(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	id, ok := s.confirmEndpoint(w, r, confirmRotateWebhook(r.Context()))
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
	id, ok := s.confirmEndpoint(w, r, confirmDeleteWebhook(r.Context()))
	if !ok {
		return
	}
	if err := s.Hooks.DeleteWebhookEndpoint(r.Context(), sc.scope(), id); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "webhooks.flash.deleted"))
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
