package server_test

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"atrium/internal/config"
	"atrium/internal/docs"
	"atrium/internal/server"
	"atrium/web/static"
)

// publicEnv configures the public pages with recognisable values.
var publicEnv = withEnv(
	"PUBLIC_APP_NAME", "Acme",
	"PUBLIC_APP_DESCRIPTION", "Acme keeps <teams> in step.",
	"PUBLIC_CONTACT_EMAIL", "legal@acme.example",
	"PRO_PLAN_PRICE_LABEL", "€19 per workspace / month",
	"FREE_PLAN_SEATS", "5",
	"PRO_PLAN_SEATS", "0",
	"STRIPE_SECRET_KEY", "sk_test_pagesneverholdthis",
	"STRIPE_WEBHOOK_SECRET", "whsec_pagesneverholdthis",
)

// TestPublicPages fetches every public page signed out: each answers 200
// with its key text, the layout's meta tags from config and no-store.
func TestPublicPages(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", publicEnv)
	b := a.newBrowser(t)
	tests := []struct {
		path, testID, title string
		text                map[string]string // data-testid → text
	}{
		{"/", "home", "Acme", map[string]string{"home-lead": "Acme keeps <teams> in step.", "cta-signin": "Sign in"}},
		{"/pricing", "pricing", "Pricing · Acme", map[string]string{
			"plan-free-seats": "Up to 5 members", "plan-pro-seats": "Unlimited members",
			"plan-pro-price": "€19 per workspace / month", "pricing-upgrade": "Upgrade to Pro"}},
		{"/docs", "docs-index", "Docs · Acme", nil},
		{"/docs/install", "doc", "Install · Docs · Acme", map[string]string{"doc-title": "Install"}},
		{"/docs/operations", "doc", "Operations · Docs · Acme", map[string]string{"doc-title": "Operations"}},
		{"/terms", "terms", "Terms of service · Acme", map[string]string{"legal-contact": "legal@acme.example"}},
		{"/privacy", "privacy", "Privacy policy · Acme", map[string]string{"legal-contact": "legal@acme.example"}},
	}
	for _, tt := range tests {
		res := b.Get(tt.path)
		if res.StatusCode != http.StatusOK || !res.Has(tt.testID) {
			t.Errorf("GET %s: status %d, [data-testid=%s] found: %v", tt.path, res.StatusCode, tt.testID, res.Has(tt.testID))
			continue
		}
		if got, want := res.Doc.Find("title").Text(), tt.title; got != want {
			t.Errorf("GET %s: title=%q, want %q", tt.path, got, want)
		}
		for id, want := range tt.text {
			if got := res.Text(id); got != want {
				t.Errorf("GET %s: %s=%q, want %q", tt.path, id, got, want)
			}
		}
		if got, want := res.Header.Get("Cache-Control"), "no-store"; got != want {
			t.Errorf("GET %s: Cache-Control=%q, want %q", tt.path, got, want)
		}
		if got, want := attr(res.Doc.Find(`meta[property="og:url"]`), "content"), a.URL+tt.path; got != want {
			t.Errorf("GET %s: og:url=%q, want %q", tt.path, got, want)
		}
		if got, want := attr(res.Doc.Find(`link[rel="canonical"]`), "href"), a.URL+tt.path; got != want {
			t.Errorf("GET %s: canonical=%q, want %q", tt.path, got, want)
		}
		if got, want := attr(res.Doc.Find(`meta[property="og:site_name"]`), "content"), "Acme"; got != want {
			t.Errorf("GET %s: og:site_name=%q, want %q", tt.path, got, want)
		}
		if got := attr(res.Doc.Find(`meta[name="description"]`), "content"); got == "" {
			t.Errorf("GET %s: no meta description", tt.path)
		}
		if res.Doc.Find(`meta[name="robots"]`).Length() != 0 {
			t.Errorf("GET %s: noindex with DISABLE_INDEXING unset", tt.path)
		}
		for _, secret := range a.Cfg.SecretValues() {
			if strings.Contains(res.Body, secret) {
				t.Errorf("GET %s: the page holds a secret", tt.path)
			}
		}
	}
	// The site's description is the default; a docs page describes itself.
	if got, want := attr(b.Get("/pricing").Doc.Find(`meta[name="description"]`), "content"), "Acme keeps <teams> in step."; got != want {
		t.Errorf("pricing description=%q, want %q", got, want)
	}
	install, _ := docs.Builtin().Page("install")
	if got, want := attr(b.Get("/docs/install").Doc.Find(`meta[property="og:description"]`), "content"), install.Summary; got != want {
		t.Errorf("docs og:description=%q, want %q", got, want)
	}
}

func attr(s *goquery.Selection, name string) string { v, _ := s.Attr(name); return v }

// TestPublicPages_SignedIn: signed-in visitors get the way into their
// workspace instead of signing in.
func TestPublicPages_SignedIn(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	b.signIn("ada@example.com")

	home := b.Get("/")
	if got, want := attr(home.Doc.Find(`[data-testid="cta-app"]`), "href"), "/app"; got != want {
		t.Errorf("cta-app href=%q, want %q", got, want)
	}
	if home.Has("cta-signin") || home.Has("nav-signin") {
		t.Error("signed-in landing page offers to sign in")
	}
	if !home.Has("nav-pricing") || !home.Has("nav-docs") || !home.Has("nav-account") {
		t.Error("header lacks Pricing, Docs or Account")
	}
	pricing := b.Get("/pricing")
	if got, want := attr(pricing.Doc.Find(`[data-testid="pricing-start"]`), "href"), "/app"; got != want {
		t.Errorf("pricing-start href=%q, want %q", got, want)
	}
	if got, want := attr(pricing.Doc.Find(`[data-testid="nav-pricing"]`), "aria-current"), "page"; got != want {
		t.Errorf("nav-pricing aria-current=%q, want %q", got, want)
	}
}

// TestBillingShortcut follows the pricing page's upgrade button, GET
// /billing, for each kind of visitor.
func TestBillingShortcut(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")

	t.Run("SignedOut", func(t *testing.T) {
		res := a.newBrowser(t).Get("/billing")
		if got, want := res.Location(), "/login?next=%2Fbilling"; res.StatusCode != http.StatusSeeOther || got != want {
			t.Errorf("status %d Location=%q, want 303 to %q", res.StatusCode, got, want)
		}
	})

	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	t.Run("NoWorkspace", func(t *testing.T) {
		if got, want := owner.Get("/billing").Location(), "/workspaces/new"; got != want {
			t.Errorf("Location=%q, want %q", got, want)
		}
	})

	slug := createWorkspace(t, owner, "Acme Billing")
	t.Run("Owner", func(t *testing.T) {
		res := owner.Get("/billing")
		if got, want := res.Location(), "/w/"+slug+"/billing"; got != want {
			t.Fatalf("Location=%q, want %q", got, want)
		}
		if page := owner.Follow(res); page.StatusCode != http.StatusOK || !page.Has("billing") {
			t.Errorf("billing page: status %d", page.StatusCode)
		}
	})

	member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
	t.Run("MemberOnly", func(t *testing.T) {
		res := member.Get("/billing")
		if got, want := res.Location(), "/settings/workspaces"; got != want {
			t.Fatalf("Location=%q, want %q", got, want)
		}
		if got := member.Follow(res).Text("flash"); !strings.Contains(got, "owner") {
			t.Errorf("flash=%q, want it to mention the owner", got)
		}
	})

	admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
	t.Run("Admin", func(t *testing.T) {
		if got, want := admin.Get("/billing").Location(), "/w/"+slug+"/billing"; got != want {
			t.Errorf("Location=%q, want %q", got, want)
		}
	})
}

// TestDocs covers the docs routes: the index lists every page, each page
// has a table of contents whose anchors exist, and unknown slugs are 404.
func TestDocs(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	lib := docs.Builtin()

	index := b.Get("/docs")
	var hrefs []string
	index.Doc.Find(`[data-testid="doc-link"]`).Each(func(_ int, s *goquery.Selection) { hrefs = append(hrefs, attr(s, "href")) })
	var want []string
	for _, p := range lib.Pages() {
		want = append(want, "/docs/"+p.Slug)
	}
	if diff := cmp.Diff(want, hrefs); diff != "" {
		t.Fatalf("docs index links mismatch (-want +got):\n%s", diff)
	}
	for _, href := range hrefs {
		res := b.Get(href)
		toc := res.Doc.Find(`[data-testid="doc-toc"] a`)
		if res.StatusCode != http.StatusOK || toc.Length() == 0 {
			t.Errorf("GET %s: status %d, %d table of contents entries", href, res.StatusCode, toc.Length())
		}
		toc.Each(func(_ int, s *goquery.Selection) {
			id := strings.TrimPrefix(attr(s, "href"), "#")
			if res.Doc.Find(`[data-testid="doc-body"] [id="`+id+`"]`).Length() != 1 {
				t.Errorf("GET %s: contents entry #%s has no heading", href, id)
			}
		})
		if res.Doc.Find(`script:not([src^="/static/app.js"]), main script`).Length() != 0 {
			t.Errorf("GET %s: page holds a script", href)
		}
	}
	// The operations page is the runbook.
	if ops := b.Get("/docs/operations"); !strings.Contains(ops.Text("doc-body"), "/readyz") {
		t.Error("operations page does not hold the runbook's health checks")
	}

	for _, path := range []string{"/docs/nope", "/docs/Install", "/docs/install.md", "/docs/../etc/passwd", "/docs/"} {
		res := b.Get(path)
		if res.StatusCode != http.StatusNotFound || !res.Has("error-page") || !res.Has("home-link") {
			t.Errorf("GET %s: status %d, error page %v; want the 404 page", path, res.StatusCode, res.Has("error-page"))
		}
	}
}

// TestDocs_MarkdownIsInert serves a library holding hostile Markdown and
// checks the page carries no script.
func TestDocs_MarkdownIsInert(t *testing.T) {
	t.Parallel()
	lib, err := docs.New(docs.Source{Name: "10-evil.md", Slug: "evil", Markdown: []byte("# Evil\n\n" +
		"<script>alert(1)</script>\n\nHi <img src=x onerror=alert(2)> [x](javascript:alert(3)) <javascript:alert(4)>\n\n" +
		"## Part <script>alert(5)</script>\n")})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Env{"APP_ENV": "test"})
	if err != nil {
		t.Fatal(err)
	}
	limitStore, closeLimiter, err := server.NewLimiterStore(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeLimiter() })
	ts := httptest.NewServer(server.New(server.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config: cfg, Limiter: server.NewRateLimiter(limitStore, cfg), Docs: lib}))
	t.Cleanup(ts.Close)

	res, err := http.Get(ts.URL + "/docs/evil")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || doc.Find(`[data-testid="doc-title"]`).Text() != "Evil" {
		t.Fatalf("status %d, title %q", res.StatusCode, doc.Find(`[data-testid="doc-title"]`).Text())
	}
	if n := doc.Find(`script:not([src^="/static/app.js"]), main script, img`).Length(); n != 0 {
		t.Errorf("%d script or img elements:\n%s", n, body)
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			isURL := a.Key == "href" || a.Key == "src" || a.Key == "action"
			if strings.HasPrefix(a.Key, "on") || isURL && strings.Contains(strings.ToLower(a.Val), "javascript:") {
				t.Errorf("dangerous attribute %s=%q", a.Key, a.Val)
			}
		}
	})
}

// TestIndexing checks DISABLE_INDEXING both ways: "false" must mean false.
func TestIndexing(t *testing.T) {
	t.Parallel()
	pages := []string{"/", "/pricing", "/docs", "/docs/install", "/terms", "/privacy", "/login"}

	t.Run("Disabled", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, "sqlite", withEnv("DISABLE_INDEXING", "true"))
		b := a.newBrowser(t)
		for _, p := range append(pages, "/no/such/page") {
			if got := attr(b.Get(p).Doc.Find(`meta[name="robots"]`), "content"); got != "noindex" {
				t.Errorf("GET %s: robots meta=%q, want noindex", p, got)
			}
		}
		res := b.Get("/robots.txt")
		if got, want := res.Body, "User-agent: *\nDisallow: /\n"; got != want {
			t.Errorf("robots.txt=%q, want %q", got, want)
		}
		if got, want := res.Header.Get("Content-Type"), "text/plain; charset=utf-8"; got != want {
			t.Errorf("robots.txt Content-Type=%q, want %q", got, want)
		}
		if got := b.Get("/sitemap.xml").StatusCode; got != http.StatusNotFound {
			t.Errorf("sitemap.xml status=%d, want 404", got)
		}
	})

	t.Run("Enabled", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, "sqlite", withEnv("DISABLE_INDEXING", "false"))
		b := a.newBrowser(t)
		for _, p := range pages {
			if n := b.Get(p).Doc.Find(`meta[name="robots"]`).Length(); n != 0 {
				t.Errorf("GET %s: robots meta with DISABLE_INDEXING=false", p)
			}
		}
		robots := b.Get("/robots.txt").Body
		for _, line := range []string{"User-agent: *", "Allow: /$", "Allow: /pricing", "Allow: /docs",
			"Allow: /terms", "Allow: /privacy", "Disallow: /", "Sitemap: " + a.URL + "/sitemap.xml"} {
			if !strings.Contains(robots, "\n"+line+"\n") && !strings.HasPrefix(robots, line+"\n") {
				t.Errorf("robots.txt lacks %q:\n%s", line, robots)
			}
		}
		if strings.Contains(robots, "/app") || strings.Contains(robots, "/w/") {
			t.Errorf("robots.txt names private pages:\n%s", robots)
		}

		res := b.Get("/sitemap.xml")
		if got, want := res.Header.Get("Content-Type"), "application/xml; charset=utf-8"; got != want {
			t.Errorf("sitemap Content-Type=%q, want %q", got, want)
		}
		var sm struct {
			URLs []string `xml:"url>loc"`
		}
		if err := xml.Unmarshal([]byte(res.Body), &sm); err != nil {
			t.Fatalf("sitemap.xml: %v\n%s", err, res.Body)
		}
		want := []string{a.URL + "/", a.URL + "/pricing", a.URL + "/terms", a.URL + "/privacy", a.URL + "/docs"}
		for _, p := range docs.Builtin().Pages() {
			want = append(want, a.URL+"/docs/"+p.Slug)
		}
		if diff := cmp.Diff(want, sm.URLs); diff != "" {
			t.Errorf("sitemap mismatch (-want +got):\n%s", diff)
		}
		for _, u := range sm.URLs {
			if res := b.Get(u); res.StatusCode != http.StatusOK {
				t.Errorf("sitemap lists %s, which answers %d", u, res.StatusCode)
			}
		}
	})
}

// TestErrorPages checks that the 404 and 403 pages share the layout and
// offer a way back.
func TestErrorPages(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)

	nf := b.Get("/no/such/page")
	if nf.StatusCode != http.StatusNotFound || nf.Text("error-status") != "404" {
		t.Fatalf("status %d, error-status %q", nf.StatusCode, nf.Text("error-status"))
	}
	for id, href := range map[string]string{"home-link": "/", "docs-link": "/docs", "brand": "/", "nav-pricing": "/pricing"} {
		if got := attr(nf.Doc.Find(`[data-testid="`+id+`"]`), "href"); got != href {
			t.Errorf("404 %s href=%q, want %q", id, got, href)
		}
	}

	evil := a.newBrowser(t)
	evil.Origin = "https://evil.example"
	forbidden := evil.Post("/logout", nil)
	if forbidden.StatusCode != http.StatusForbidden || forbidden.Text("error-status") != "403" {
		t.Fatalf("status %d, error-status %q", forbidden.StatusCode, forbidden.Text("error-status"))
	}
	if got := attr(forbidden.Doc.Find(`[data-testid="home-link"]`), "href"); got != "/" {
		t.Errorf("403 home-link href=%q, want /", got)
	}

	b.signIn("ada@example.com")
	nf = b.Get("/no/such/page")
	if got := attr(nf.Doc.Find(`[data-testid="app-link"]`), "href"); got != "/app" {
		t.Errorf("signed-in 404 app-link href=%q, want /app", got)
	}
}

// TestStaticCaching: the stylesheet the pages link is fingerprinted and
// cached for a year; without the fingerprint it must revalidate.
func TestStaticCaching(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	href := attr(b.Get("/").Doc.Find(`link[rel="stylesheet"]`), "href")
	if got, want := href, static.Path("app.css"); got != want || !strings.Contains(href, "?v=") {
		t.Fatalf("stylesheet href=%q, want the fingerprinted %q", got, want)
	}
	res := b.Get(href)
	if got, want := res.Header.Get("Cache-Control"), "public, max-age=31536000, immutable"; res.StatusCode != http.StatusOK || got != want {
		t.Errorf("GET %s: status %d, Cache-Control=%q, want 200 and %q", href, res.StatusCode, got, want)
	}
	u, _ := url.Parse(href)
	if got, want := b.Get(u.Path).Header.Get("Cache-Control"), "no-cache"; got != want {
		t.Errorf("GET %s: Cache-Control=%q, want %q", u.Path, got, want)
	}
}
