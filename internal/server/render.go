package server

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/a-h/templ"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/i18n"
	"atrium/web/layout"
)

// renderBuffers are the buffers pages render into, reused across requests.
var renderBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 32<<10)) }}

// render writes a templ component as a full HTML response. It renders into a
// pooled buffer first so a failure cannot leave half a page behind. A render
// or a write that fails because the client went away (templ stops at a
// cancelled context) is logged as 499 at info level, like Error does.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := renderBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 { // an unusually large page is left to the collector
			renderBuffers.Put(buf)
		}
	}()
	if err := c.Render(i18n.Hoist(r.Context()), buf); err != nil {
		if clientGone(r) {
			markClientGone(r.Context())
			return
		}
		s.Logger.ErrorContext(r.Context(), "render failed", "request_id", requestIDFrom(r.Context()), "error", err.Error())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(i18n.T(r.Context(), "errorpage.render_failed", "ID", requestIDFrom(r.Context())) + "\n"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil && clientGone(r) {
		markClientGone(r.Context())
	}
}

// page returns the layout data of a page: the product name and description,
// the signed-in user, the pending flash message (which it consumes), and
// noindex when DISABLE_INDEXING is on.
func (s *Server) page(w http.ResponseWriter, r *http.Request, title string) layout.Page {
	p := layout.Page{Title: title, AppName: s.Config.AppName, Flash: s.takeFlash(w, r),
		Description: s.Config.Description, NoIndex: s.Config.DisableIndexing}
	if p.Description == config.DefaultDescription {
		// The shipped pitch is the product's own text, so it is translated;
		// a configured one is shown as the operator wrote it.
		p.Description = i18n.T(r.Context(), "layout.description")
	}
	if pr := app.PrincipalFromContext(r.Context()); pr != nil {
		p.User = &layout.Nav{Email: pr.User.Email, Name: pr.User.Name}
	}
	// A staff member's view as a user: its banner on every page.
	p.ViewAs = s.viewAsBanner(r)
	return p
}

// redirect answers 303 See Other, the POST-redirect-GET answer.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
