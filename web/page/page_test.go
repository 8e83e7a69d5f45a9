package page_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/google/go-cmp/cmp"

	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

// english is the context pages render in: the English printer, as a
// request without Accept-Language gets.
var english = i18n.WithLocale(context.Background(), i18n.MustNew(i18n.Options{}).Printer(i18n.Source), nil)

const evil = `<script>alert(1)</script>@example.com`

// render renders c in English and parses the result.
func render(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(english, &buf); err != nil {
		t.Fatalf("Render: %v", err)
	}
	html := buf.String()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc, html
}

// one returns the single element with the data-testid, failing otherwise.
func one(t *testing.T, doc *goquery.Document, testID string) *goquery.Selection {
	t.Helper()
	s := doc.Find(`[data-testid="` + testID + `"]`)
	if got := s.Length(); got != 1 {
		t.Fatalf("found %d [data-testid=%q], want 1", got, testID)
	}
	return s
}

// none fails if any element has the data-testid.
func none(t *testing.T, doc *goquery.Document, testID string) {
	t.Helper()
	if got := doc.Find(`[data-testid="` + testID + `"]`).Length(); got != 0 {
		t.Fatalf("found %d [data-testid=%q], want 0", got, testID)
	}
}

// inert fails if the rendered HTML contains a <script> element other than
// the site's own static app.js and passkey.js.
func inert(t *testing.T, doc *goquery.Document, html string) {
	t.Helper()
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		src, _ := s.Attr("src")
		own := strings.HasPrefix(src, "/static/app.js?") || strings.HasPrefix(src, "/static/passkey.js?")
		if !own || strings.TrimSpace(s.Text()) != "" {
			t.Fatalf("found a <script> other than /static/app.js and passkey.js: src=%q", src)
		}
	})
	if strings.Contains(html, "<script>") {
		t.Fatal("raw <script> in output")
	}
}

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

func attr(s *goquery.Selection, name string) string { v, _ := s.Attr(name); return v }

var signedIn = layout.Page{AppName: "Atrium", User: &layout.Nav{Email: evil, Name: "Ada"}}

func TestLayout(t *testing.T) {
	t.Parallel()

	t.Run("SignedOut", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, page.Home(layout.Page{AppName: "Atrium"}, page.HomeView{}))
		if got, want := doc.Find("title").Text(), "Atrium"; got != want {
			t.Errorf("title=%q, want %q", got, want)
		}
		if got, want := attr(doc.Find("html"), "lang"), "en"; got != want {
			t.Errorf("lang=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "nav-signin"), "href"), "/login"; got != want {
			t.Errorf("sign-in href=%q, want %q", got, want)
		}
		if got := attr(doc.Find(`link[rel="stylesheet"]`), "href"); !strings.HasPrefix(got, "/static/app.css?v=") {
			t.Errorf("stylesheet href=%q, want a fingerprinted /static/app.css", got)
		}
		if doc.Find(`a.skip-link[href="#main"]`).Length() != 1 || doc.Find("main#main").Length() != 1 {
			t.Error("missing skip link or main#main")
		}
		none(t, doc, "logout")
		none(t, doc, "flash")
		none(t, doc, "nav-workspace")
		if doc.Find(`meta[name="robots"]`).Length() != 0 {
			t.Error("robots meta without NoIndex")
		}
	})

	t.Run("SignedIn", func(t *testing.T) {
		t.Parallel()
		p := signedIn
		p.Title = "Dashboard"
		p.Flash = &layout.Flash{Kind: "success", Message: "<b>Saved</b>"}
		p.Workspace = &layout.WorkspaceNav{Name: "Acme <Inc>", Slug: "acme", URL: "/w/acme"}
		p.NoIndex = true
		doc, html := render(t, page.WorkspaceNew(p, page.WorkspaceNewView{Name: evil}))
		inert(t, doc, html)
		if got, want := doc.Find("title").Text(), "Dashboard · Atrium"; got != want {
			t.Errorf("title=%q, want %q", got, want)
		}
		logout := one(t, doc, "logout")
		if got, want := attr(logout, "action"), "/logout"; got != want {
			t.Errorf("logout action=%q, want %q", got, want)
		}
		if got, want := attr(logout, "method"), "post"; got != want {
			t.Errorf("logout method=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "nav-email")), "Signed in as "+evil; got != want {
			t.Errorf("nav email=%q, want %q", got, want)
		}
		flash := one(t, doc, "flash")
		if got, want := text(flash), "<b>Saved</b>"; got != want {
			t.Errorf("flash=%q, want %q", got, want)
		}
		if !flash.HasClass("flash-success") || attr(flash, "role") != "status" {
			t.Errorf("flash class=%q role=%q", attr(flash, "class"), attr(flash, "role"))
		}
		ws := one(t, doc, "nav-workspace")
		if got, want := attr(one(t, doc, "ws-switch-item"), "href"), "/w/acme"; got != want {
			t.Errorf("switcher item href=%q, want %q", got, want)
		}
		if got, want := text(ws), "Acme <Inc>"; got != want {
			t.Errorf("workspace=%q, want %q", got, want)
		}
		if got, want := attr(doc.Find(`meta[name="robots"]`), "content"), "noindex"; got != want {
			t.Errorf("robots=%q, want %q", got, want)
		}
	})

	t.Run("MainNav", func(t *testing.T) {
		t.Parallel()
		p := signedIn
		p.Section = "workspaces"
		doc, _ := render(t, page.Home(p, page.HomeView{SignedIn: true}))
		none(t, doc, "nav-app")
		none(t, doc, "nav-workspace")
		ws := one(t, doc, "nav-workspaces")
		if got, want := attr(ws, "href"), "/settings/workspaces"; got != want {
			t.Errorf("workspaces href=%q, want %q", got, want)
		}
		if got, want := attr(ws, "aria-current"), "page"; got != want {
			t.Errorf("workspaces aria-current=%q, want %q", got, want)
		}
		acct := one(t, doc, "nav-account")
		if got, want := attr(acct, "href"), "/settings/account"; got != want {
			t.Errorf("account href=%q, want %q", got, want)
		}
		if _, ok := acct.Attr("aria-current"); ok {
			t.Error("account link marked current")
		}
	})

	t.Run("WorkspaceNav", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name      string
			workspace layout.WorkspaceNav
			section   string
			links     map[string]string // data-testid → href
			hidden    []string
			current   string
		}{
			{
				name: "Owner",
				workspace: layout.WorkspaceNav{Name: "Acme <Inc>", Slug: "acme", URL: "/w/acme", Role: "Owner", CanManage: true, CanSeeAudit: true, CanSeeBilling: true,
					Switch: []layout.WorkspaceLink{{Name: "Acme <Inc>", Slug: "acme", URL: "/w/acme", Role: "Owner", Current: true}, {Name: "Beta", Slug: "beta", URL: "/w/beta", Role: "Member"}}},
				section: "audit",
				links: map[string]string{
					"nav-ws-dashboard": "/w/acme",
					"nav-ws-members":   "/w/acme/members",
					"nav-ws-settings":  "/w/acme/settings",
					"nav-ws-audit":     "/w/acme/audit",
					"nav-ws-billing":   "/w/acme/billing",
					"ws-switch-create": "/workspaces/new",
					"ws-switch-all":    "/settings/workspaces",
				},
				current: "nav-ws-audit",
			},
			{
				name:      "Member",
				workspace: layout.WorkspaceNav{Name: "Acme", Slug: "acme", URL: "/w/acme", Role: "Member"},
				section:   "members",
				links: map[string]string{
					"nav-ws-dashboard": "/w/acme",
					"nav-ws-members":   "/w/acme/members",
					"ws-switch-create": "/workspaces/new",
					"ws-switch-all":    "/settings/workspaces",
				},
				// A member sees no tab that would answer 403, on wide
				// screens or in the phone menu.
				hidden:  []string{"nav-ws-settings", "nav-ws-audit", "nav-ws-billing", "m-nav-ws-settings", "m-nav-ws-audit", "m-nav-ws-billing"},
				current: "nav-ws-members",
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				p := signedIn
				p.Workspace = &tt.workspace
				p.Section = tt.section
				doc, html := render(t, page.Home(p, page.HomeView{SignedIn: true}))
				inert(t, doc, html)
				for id, href := range tt.links {
					if got := attr(one(t, doc, id), "href"); got != href {
						t.Errorf("%s href=%q, want %q", id, got, href)
					}
				}
				for _, id := range tt.hidden {
					none(t, doc, id)
				}
				if got, want := text(one(t, doc, "nav-workspace")), tt.workspace.Name; got != want {
					t.Errorf("workspace=%q, want %q", got, want)
				}
				if got, want := text(one(t, doc, "nav-role")), tt.workspace.Role; got != want {
					t.Errorf("role=%q, want %q", got, want)
				}
				// The current tab, its copy in the phone menu, and the
				// current workspace in the switcher and its phone copy.
				var current []string
				doc.Find(`[aria-current="page"]`).Each(func(_ int, s *goquery.Selection) {
					current = append(current, attr(s, "data-testid"))
				})
				if diff := cmp.Diff([]string{"ws-switch-item", "m-" + tt.current, "m-ws-switch-item", tt.current}, current); diff != "" {
					t.Errorf("aria-current (-want +got):\n%s", diff)
				}
				items := doc.Find(`[data-testid="ws-switch-item"]`)
				if got, want := items.Length(), max(1, len(tt.workspace.Switch)); got != want {
					t.Errorf("switcher lists %d workspaces, want %d", got, want)
				}
				if got, want := text(doc.Find(`[data-testid="ws-switch-item"][aria-current="page"]`)), tt.workspace.Name+" ✓ (current)"; got != want {
					t.Errorf("current switcher item=%q, want %q", got, want)
				}
				if got, want := attr(one(t, doc, "nav-ws-members").Closest("nav"), "aria-label"), "Workspace"; got != want {
					t.Errorf("nav aria-label=%q, want %q", got, want)
				}
			})
		}
	})

	t.Run("FlashLink", func(t *testing.T) {
		t.Parallel()
		p := signedIn
		p.Flash = &layout.Flash{Kind: "info", Message: "Share this link.", Link: `https://example.com/invites/a"b<c>`}
		doc, html := render(t, page.Home(p, page.HomeView{}))
		inert(t, doc, html)
		link := one(t, doc, "flash-link")
		if got, want := attr(link, "value"), `https://example.com/invites/a"b<c>`; got != want {
			t.Errorf("value=%q, want %q", got, want)
		}
		if _, ok := link.Attr("readonly"); !ok {
			t.Error("flash link is editable")
		}
		if link.Closest(`[data-testid="flash"]`).Length() != 1 {
			t.Error("flash link outside the flash")
		}
		if got, want := text(doc.Find(`label[for="`+attr(link, "id")+`"]`)), "Link to share"; got != want {
			t.Errorf("label=%q, want %q", got, want)
		}
	})

	t.Run("FlashWithoutLink", func(t *testing.T) {
		t.Parallel()
		p := signedIn
		p.Flash = &layout.Flash{Kind: "success", Message: "Saved."}
		doc, _ := render(t, page.Home(p, page.HomeView{}))
		one(t, doc, "flash")
		none(t, doc, "flash-link")
	})

	t.Run("UnknownFlashKind", func(t *testing.T) {
		t.Parallel()
		p := layout.Page{AppName: "Atrium", Flash: &layout.Flash{Kind: `x" onclick="y`, Message: "hi"}}
		doc, _ := render(t, page.Home(p, page.HomeView{}))
		if got, want := attr(one(t, doc, "flash"), "class"), "flash flash-info"; got != want {
			t.Errorf("class=%q, want %q", got, want)
		}
	})
}

func TestError(t *testing.T) {
	t.Parallel()

	t.Run("Full", func(t *testing.T) {
		t.Parallel()
		v := page.ErrorView{Status: 429, Title: "Too many requests", Message: "Slow <down>.", RequestID: "req-<1>", RetryAfter: "30 seconds"}
		doc, html := render(t, page.Error(layout.Page{AppName: "Atrium"}, v))
		inert(t, doc, html)
		one(t, doc, "error-page")
		if got, want := text(one(t, doc, "error-status")), "429"; got != want {
			t.Errorf("status=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "request-id")), "Request id: req-<1>"; got != want {
			t.Errorf("request id=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "retry-after")), "Try again in 30 seconds."; got != want {
			t.Errorf("retry=%q, want %q", got, want)
		}
		if got, want := doc.Find("title").Text(), "Too many requests · Atrium"; got != want {
			t.Errorf("title=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "home-link"), "href"), "/"; got != want {
			t.Errorf("home href=%q, want %q", got, want)
		}
	})

	t.Run("Minimal", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, page.Error(layout.Page{AppName: "Atrium"}, page.ErrorView{Status: 404, Title: "Not found"}))
		none(t, doc, "request-id")
		none(t, doc, "retry-after")
	})
}
