package server

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/page"
)

// handleAuditEntry handles "GET /w/{slug}/audit/{entryID}" (owners and
// admins): one entry with everything recorded about it, the people and
// things it names resolved to what the reader may see. An entry of
// another workspace is not found.
func (s *Server) handleAuditEntry(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "entryID"), 10, 64)
	if err != nil || id <= 0 {
		s.Error(w, r, app.Errorf(app.ENOTFOUND, "No such audit entry."))
		return
	}
	e, err := s.Audit.FindAuditEntry(r.Context(), sc.scope(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	names, err := s.auditNames(r, sc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := page.AuditEntryView{
		Row:    s.auditRow(r.Context(), e, sc.ws, p.User.TimeZone),
		URL:    workspaceURL(sc.ws.Slug),
		Action: e.Action,
		Family: auditFamilyLabel(r.Context(), e.Family()),
		Who:    names.actor(r, e),
		Target: names.target(r, e),
		IP:     e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID,
		Hash: e.Hash, PrevHash: e.PrevHash,
	}
	keys := make([]string, 0, len(e.Metadata))
	for k := range e.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		val, recorded := names.metadataValue(r, k, e.Metadata[k])
		v.Metadata = append(v.Metadata, page.AuditDetail{Key: k, Label: auditMetadataLabel(r.Context(), k),
			Value: val, Recorded: recorded})
	}
	s.render(w, r, http.StatusOK, page.AuditEntry(s.workspacePage(w, r, i18n.T(r.Context(), "audit.entry.title"), "audit"), v))
}

// exportWriteWindow is how long an export may take to send one batch of
// entries (a flush) to the client.
const exportWriteWindow = time.Minute

// handleAuditExport handles "GET /w/{slug}/audit/export?format=csv|jsonl"
// with the audit page's filters (owners and admins): the matching entries
// as an attachment, written as they are read, then an audit.exported
// entry naming the filter. A plan without app.FeatureAuditExport is
// refused; the plan's history window applies as on the page.
func (s *Server) handleAuditExport(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	if !s.Config.Plans.CanUse(sc.ws, app.FeatureAuditExport) {
		s.refusePlan(w, r, sc.ws, app.FeatureAuditExport, "Exporting the audit log")
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = app.ExportCSV
	}
	if format != app.ExportCSV && format != app.ExportJSONL {
		s.Error(w, r, app.Errorf(app.EINVALID, "The export format must be csv or jsonl."))
		return
	}
	var v page.AuditView
	f, ok, err := s.auditFilter(r, sc.scope(), p.User.TimeZone, &v)
	if err == nil && !ok {
		err = app.Errorf(app.EINVALID, "The filter is not valid: open the audit page to correct it.")
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f.Before, f.After = app.AuditCursor{}, app.AuditCursor{}
	ctype := "text/csv; charset=utf-8"
	if format == app.ExportJSONL {
		ctype = "application/x-ndjson"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+app.ExportFilename(sc.ws.Slug, format, s.Now())+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// The server's WriteTimeout would cut a long export at a fixed time
	// however steadily the client reads: each batch gets its own window
	// instead, so only a client that stops reading for exportWriteWindow
	// is cut off.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
	flush := func() {
		_ = rc.Flush()
		_ = rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
	}
	var n int64
	if f.Scope != (app.Scope{}) {
		n, err = app.ExportAudit(r.Context(), s.Audit, f, format, w, flush)
		if err != nil {
			// The status is sent: the log says why the file is short.
			s.Logger.ErrorContext(r.Context(), "audit export failed", "workspace", sc.ws.ID, "rows", n, "error", err)
			return
		}
	}
	md := map[string]any{"format": format, "rows": n}
	for k, val := range map[string]string{"actor": v.Actor, "family": v.Family, "action": v.Action, "from": v.From, "to": v.To} {
		if val != "" {
			md[k] = val
		}
	}
	if err := s.Audit.RecordAuditExport(r.Context(), sc.scope(), md); err != nil {
		s.Logger.ErrorContext(r.Context(), "record audit export", "workspace", sc.ws.ID, "error", err)
	}
}
