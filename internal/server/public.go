package server

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/internal/docs"
	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

// publicPaths are the public pages besides the docs: what robots.txt
// allows and the sitemap lists.
var publicPaths = []string{"/", "/pricing", "/terms", "/privacy"}

// publicPage returns the layout data of a public page: s.page with the
// page's canonical address for rel=canonical and og:url.
func (s *Server) publicPage(w http.ResponseWriter, r *http.Request, title, section string) layout.Page {
	p := s.page(w, r, title)
	p.Section = section
	p.CanonicalURL = s.absURL(r.URL.Path)
	return p
}

// absURL returns the absolute address of a path on this site.
func (s *Server) absURL(path string) string {
	return s.Config.AppURL.String() + path
}

// handleHome handles "GET /".
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	p := s.publicPage(w, r, "", "")
	s.render(w, r, http.StatusOK, page.Home(p, page.HomeView{SignedIn: p.User != nil}))
}

// handleBillingShortcut handles "GET /billing", where the pricing page's
// upgrade button leads: to the billing page of the first workspace the
// user owns, else of one they administer (read-only there), else to a new
// workspace.
func (s *Server) handleBillingShortcut(w http.ResponseWriter, r *http.Request) {
	if !s.Config.BillingOffered() {
		s.handleNotFound(w, r)
		return
	}
	pr := app.PrincipalFromContext(r.Context())
	list, err := s.Workspaces.FindWorkspacesByUser(r.Context(), pr.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var target *app.UserWorkspace
	for _, ws := range list {
		if app.CanManageBilling(ws.Role) == nil {
			target = ws
			break
		}
		if target == nil && ws.Role.AtLeast(app.RoleAdmin) {
			target = ws
		}
	}
	switch {
	case target != nil:
		redirect(w, r, workspaceURL(target.Slug).Page("billing"))
	case len(list) > 0:
		s.setFlash(w, "info", i18n.T(r.Context(), "public.billing_shortcut.owner_only"))
		redirect(w, r, "/settings/workspaces")
	default:
		redirect(w, r, "/workspaces/new")
	}
}

// handleDocsIndex handles "GET /docs".
func (s *Server) handleDocsIndex(w http.ResponseWriter, r *http.Request) {
	v := page.DocsIndexView{Pages: docLinks(s.Docs, "")}
	s.render(w, r, http.StatusOK, page.DocsIndex(s.publicPage(w, r, i18n.T(r.Context(), "docs.title"), "docs"), v))
}

// handleDoc handles "GET /docs/{slug}"; an unknown slug is a 404.
func (s *Server) handleDoc(w http.ResponseWriter, r *http.Request) {
	slug := chi.URLParam(r, "slug")
	d, ok := s.Docs.Page(slug)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, i18n.T(r.Context(), "docs.not_found"))
		return
	}
	v := page.DocView{Title: d.Title, Body: d.HTML, Pages: docLinks(s.Docs, slug)}
	for _, h := range d.TOC {
		entry := page.DocHeading{ID: h.ID, Text: h.Text}
		if n := len(v.TOC); h.Level > 2 && n > 0 {
			v.TOC[n-1].Sub = append(v.TOC[n-1].Sub, entry)
		} else {
			v.TOC = append(v.TOC, entry)
		}
	}
	for i := range v.Pages {
		if v.Pages[i].Current {
			if i > 0 {
				v.Prev = &v.Pages[i-1]
			}
			if i+1 < len(v.Pages) {
				v.Next = &v.Pages[i+1]
			}
		}
	}
	p := s.publicPage(w, r, i18n.T(r.Context(), "docs.page_title", "Title", d.Title), "docs")
	if d.Summary != "" {
		p.Description = d.Summary
	}
	s.render(w, r, http.StatusOK, page.Doc(p, v))
}

// docLinks lists the library's pages, marking current.
func docLinks(lib *docs.Library, current string) []page.DocLink {
	var out []page.DocLink
	for _, d := range lib.Pages() {
		out = append(out, page.DocLink{Slug: d.Slug, Title: d.Title, Summary: d.Summary, Current: d.Slug == current})
	}
	return out
}

// handleTerms handles "GET /terms".
func (s *Server) handleTerms(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, page.Terms(s.publicPage(w, r, i18n.T(r.Context(), "public.terms.title"), ""), s.legalView()))
}

// handlePrivacy handles "GET /privacy".
func (s *Server) handlePrivacy(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, page.Privacy(s.publicPage(w, r, i18n.T(r.Context(), "public.privacy.title"), ""), s.legalView()))
}

func (s *Server) legalView() page.LegalView {
	return page.LegalView{AppName: s.Config.AppName, SiteURL: s.Config.AppURL.String(), ContactEmail: s.Config.ContactEmail}
}

// handleRobots handles "GET /robots.txt". With DISABLE_INDEXING it
// disallows everything; otherwise it allows the public pages (and the
// stylesheet they need) and nothing else, and names the sitemap.
func (s *Server) handleRobots(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	b.WriteString("User-agent: *\n")
	if s.Config.DisableIndexing {
		b.WriteString("Disallow: /\n")
	} else {
		for _, p := range publicPaths {
			if p == "/" {
				p = "/$" // the landing page alone, not everything under it
			}
			b.WriteString("Allow: " + p + "\n")
		}
		b.WriteString("Allow: /docs\nAllow: /static/\nDisallow: /\n\nSitemap: " + s.absURL("/sitemap.xml") + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write([]byte(b.String()))
}

// sitemap is the sitemaps.org document.
type sitemap struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc string `xml:"loc"`
}

// handleSitemap handles "GET /sitemap.xml": the public pages and every
// docs page. With DISABLE_INDEXING there is no sitemap (404).
func (s *Server) handleSitemap(w http.ResponseWriter, r *http.Request) {
	if s.Config.DisableIndexing {
		s.handleNotFound(w, r)
		return
	}
	sm := sitemap{}
	for _, p := range publicPaths {
		sm.URLs = append(sm.URLs, sitemapURL{Loc: s.absURL(p)})
	}
	sm.URLs = append(sm.URLs, sitemapURL{Loc: s.absURL("/docs")})
	for _, d := range s.Docs.Pages() {
		sm.URLs = append(sm.URLs, sitemapURL{Loc: s.absURL("/docs/" + d.Slug)})
	}
	out, err := xml.MarshalIndent(sm, "", "  ")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
	_, _ = w.Write([]byte("\n"))
}
