package page_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/google/go-cmp/cmp"

	"atrium/web/layout"
	"atrium/web/page"
)

// public is the layout data of a public page as the server fills it in.
var public = layout.Page{AppName: "Acme <Co>", Description: `Invoices "for" <teams>.`,
	CanonicalURL: "https://acme.example/pricing"}

func TestHome(t *testing.T) {
	t.Parallel()

	t.Run("SignedOut", func(t *testing.T) {
		t.Parallel()
		doc, html := render(t, page.Home(public, page.HomeView{}))
		inert(t, doc, html)
		one(t, doc, "home")
		if got, want := text(one(t, doc, "home-product")), "Acme <Co>"; got != want {
			t.Errorf("product=%q, want %q", got, want)
		}
		if got := text(one(t, doc, "home-headline")); got == "" || doc.Find("h1").Length() != 1 {
			t.Errorf("headline=%q with %d h1, want one non-empty h1", got, doc.Find("h1").Length())
		}
		if got, want := text(one(t, doc, "home-lead")), `Invoices "for" <teams>.`; got != want {
			t.Errorf("lead=%q, want %q", got, want)
		}
		if got := doc.Find(`[data-testid="feature"]`).Length(); got != 3 {
			t.Errorf("%d feature blocks, want 3", got)
		}
		doc.Find(`[data-testid="feature"]`).Each(func(i int, f *goquery.Selection) {
			if f.Find("h3").Text() == "" || f.Find("p").Text() == "" {
				t.Errorf("feature %d lacks a heading or text", i)
			}
		})
		for id, href := range map[string]string{"cta-signin": "/login", "cta-docs": "/docs", "cta-pricing": "/pricing"} {
			if got := attr(one(t, doc, id), "href"); got != href {
				t.Errorf("%s href=%q, want %q", id, got, href)
			}
		}
		if got, want := text(one(t, doc, "cta-signin")), "Sign in"; got != want {
			t.Errorf("cta=%q, want %q", got, want)
		}
		none(t, doc, "cta-app")
	})

	t.Run("SignedIn", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, page.Home(signedIn, page.HomeView{SignedIn: true}))
		cta := one(t, doc, "cta-app")
		if got, want := attr(cta, "href"), "/app"; got != want {
			t.Errorf("cta href=%q, want %q", got, want)
		}
		if got, want := text(cta), "Open your workspace"; got != want {
			t.Errorf("cta=%q, want %q", got, want)
		}
		one(t, doc, "cta-docs")
		none(t, doc, "cta-signin")
	})
}

func TestHead(t *testing.T) {
	t.Parallel()

	t.Run("Public", func(t *testing.T) {
		t.Parallel()
		p := public
		p.Title = "Pricing"
		doc, _ := render(t, page.Pricing(p, page.PricingView{}))
		meta := func(attrName, name string) string {
			t.Helper()
			s := doc.Find(`meta[` + attrName + `="` + name + `"]`)
			if s.Length() != 1 {
				t.Fatalf("%d meta %s=%q, want 1", s.Length(), attrName, name)
			}
			return attr(s, "content")
		}
		for _, c := range []struct{ attr, name, want string }{
			{"name", "description", `Invoices "for" <teams>.`},
			{"property", "og:title", "Pricing · Acme <Co>"},
			{"property", "og:description", `Invoices "for" <teams>.`},
			{"property", "og:site_name", "Acme <Co>"},
			{"property", "og:type", "website"},
			{"property", "og:url", "https://acme.example/pricing"},
			{"name", "twitter:card", "summary"},
		} {
			if got := meta(c.attr, c.name); got != c.want {
				t.Errorf("%s=%q, want %q", c.name, got, c.want)
			}
		}
		if got, want := attr(doc.Find(`link[rel="canonical"]`), "href"), "https://acme.example/pricing"; got != want {
			t.Errorf("canonical=%q, want %q", got, want)
		}
		if doc.Find(`meta[name="robots"]`).Length() != 0 {
			t.Error("robots meta on an indexable page")
		}
	})

	t.Run("Private", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, page.Home(layout.Page{AppName: "Atrium"}, page.HomeView{}))
		for _, sel := range []string{`meta[name="description"]`, `meta[property="og:url"]`, `link[rel="canonical"]`} {
			if doc.Find(sel).Length() != 0 {
				t.Errorf("%s without a value to give", sel)
			}
		}
	})
}

func TestNav_PublicLinks(t *testing.T) {
	t.Parallel()
	for name, p := range map[string]layout.Page{"SignedOut": {AppName: "Atrium", Section: "docs"}, "SignedIn": signedIn} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc, _ := render(t, page.Home(p, page.HomeView{}))
			for id, href := range map[string]string{"nav-pricing": "/pricing", "nav-docs": "/docs",
				"footer-docs": "/docs", "footer-terms": "/terms", "footer-privacy": "/privacy"} {
				if got := attr(one(t, doc, id), "href"); got != href {
					t.Errorf("%s href=%q, want %q", id, got, href)
				}
			}
			_, current := one(t, doc, "nav-docs").Attr("aria-current")
			if want := p.Section == "docs"; current != want {
				t.Errorf("docs link current=%v, want %v", current, want)
			}
		})
	}
}

func TestPricing(t *testing.T) {
	t.Parallel()
	v := page.PricingView{Plans: []page.PricingPlan{
		{Key: "free", Name: "Free", Free: true, Price: "$0.00", Seats: "Up to 3 members"},
		{Key: "pro", Name: "Pro", Featured: true, Price: "<€19> / month", Seats: "Unlimited members", UpgradeLabel: "Upgrade to Pro"},
	}}

	t.Run("SignedOut", func(t *testing.T) {
		t.Parallel()
		doc, html := render(t, page.Pricing(public, v))
		inert(t, doc, html)
		one(t, doc, "pricing")
		for id, want := range map[string]string{
			"plan-free-seats": "Up to 3 members",
			"plan-pro-seats":  "Unlimited members",
			"plan-pro-price":  "<€19> / month",
			"pricing-upgrade": "Upgrade to Pro",
			"pricing-start":   "Start free",
		} {
			if got := text(one(t, doc, id)); got != want {
				t.Errorf("%s=%q, want %q", id, got, want)
			}
		}
		if got, want := attr(one(t, doc, "pricing-upgrade"), "href"), "/billing"; got != want {
			t.Errorf("upgrade href=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "pricing-start"), "href"), "/login"; got != want {
			t.Errorf("start href=%q, want %q", got, want)
		}
		if got, want := doc.Find("title").Text(), "Pricing · Acme <Co>"; got != want {
			t.Errorf("title=%q, want %q", got, want)
		}
	})

	t.Run("SignedIn", func(t *testing.T) {
		t.Parallel()
		w := v
		w.SignedIn = true
		doc, _ := render(t, page.Pricing(signedIn, w))
		if got, want := attr(one(t, doc, "pricing-start"), "href"), "/app"; got != want {
			t.Errorf("start href=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "pricing-upgrade"), "href"), "/billing"; got != want {
			t.Errorf("upgrade href=%q, want %q", got, want)
		}
	})
}

func TestDocs(t *testing.T) {
	t.Parallel()
	pages := []page.DocLink{
		{Slug: "install", Title: "Install", Summary: "Get <going>."},
		{Slug: "configuration", Title: "Configuration", Current: true},
		{Slug: "operations", Title: "Operations"},
	}

	t.Run("Index", func(t *testing.T) {
		t.Parallel()
		doc, html := render(t, page.DocsIndex(public, page.DocsIndexView{Pages: pages}))
		inert(t, doc, html)
		one(t, doc, "docs-index")
		links := doc.Find(`[data-testid="doc-link"]`)
		if got, want := links.Length(), 3; got != want {
			t.Fatalf("%d doc links, want %d", got, want)
		}
		if got, want := attr(links.First(), "href"), "/docs/install"; got != want {
			t.Errorf("first href=%q, want %q", got, want)
		}
		if !strings.Contains(text(doc.Find("main")), "Get <going>.") {
			t.Error("summary missing")
		}
	})

	t.Run("Page", func(t *testing.T) {
		t.Parallel()
		v := page.DocView{Title: "Configuration <all>", Body: `<p data-testid="body-marker">Body</p>`,
			TOC: []page.DocHeading{{ID: "essentials", Text: "The <essentials>", Sub: []page.DocHeading{{ID: "tls", Text: "TLS"}}},
				{ID: "proxies", Text: "Proxies"}},
			Pages: pages, Prev: &pages[0], Next: &pages[2]}
		doc, _ := render(t, page.Doc(public, v))
		if got, want := text(one(t, doc, "doc-title")), "Configuration <all>"; got != want {
			t.Errorf("title=%q, want %q", got, want)
		}
		if got, want := doc.Find("title").Text(), "Configuration <all> · Acme <Co>"; got != want {
			t.Errorf("document title=%q, want %q", got, want)
		}
		// The body is the trusted HTML from internal/docs, written as is.
		if one(t, doc, "body-marker").Closest(`[data-testid="doc-body"]`).Length() != 1 {
			t.Error("body not inside doc-body")
		}
		var toc []string
		one(t, doc, "doc-toc").Find("a").Each(func(_ int, a *goquery.Selection) {
			toc = append(toc, attr(a, "href")+" "+text(a))
		})
		if diff := cmp.Diff([]string{"#essentials The <essentials>", "#tls TLS", "#proxies Proxies"}, toc); diff != "" {
			t.Errorf("toc mismatch (-want +got):\n%s", diff)
		}
		// A subsection is listed inside its section.
		if got, want := attr(doc.Find(`[data-testid="doc-toc"] a[href="#tls"]`).Closest("ul").Parent().Children().First(), "href"), "#essentials"; got != want {
			t.Errorf("#tls listed under %q, want %q", got, want)
		}
		current := one(t, doc, "docs-nav").Find(`[aria-current="page"]`)
		if got, want := attr(current, "href"), "/docs/configuration"; got != want {
			t.Errorf("current=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "doc-prev"), "href"), "/docs/install"; got != want {
			t.Errorf("prev=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "doc-next"), "href"), "/docs/operations"; got != want {
			t.Errorf("next=%q, want %q", got, want)
		}
	})

	t.Run("FirstPage", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, page.Doc(public, page.DocView{Title: "Install", Pages: pages, Next: &pages[1]}))
		none(t, doc, "doc-prev")
		none(t, doc, "doc-toc")
		one(t, doc, "doc-next")
	})
}

func TestLegal(t *testing.T) {
	t.Parallel()
	v := page.LegalView{AppName: "Acme <Co>", SiteURL: "https://acme.example", ContactEmail: "legal@acme.example"}
	tests := []struct {
		name, testID, title string
		render              func(layout.Page, page.LegalView) templ.Component
	}{
		{"Terms", "terms", "Terms of service · Acme <Co>", page.Terms},
		{"Privacy", "privacy", "Privacy policy · Acme <Co>", page.Privacy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testID, title := tt.testID, tt.title
			comp := tt.render(public, v)
			doc, html := render(t, comp)
			inert(t, doc, html)
			body := one(t, doc, testID)
			if got, want := doc.Find("title").Text(), title; got != want {
				t.Errorf("title=%q, want %q", got, want)
			}
			notice := one(t, doc, "template-notice")
			if !strings.Contains(text(notice), "template") || !strings.Contains(text(notice), "review") {
				t.Errorf("notice=%q, want it to say this is a template to review", text(notice))
			}
			if !notice.Parent().Is(`[data-testid="`+testID+`"]`) || notice.Prev().Length() != 0 {
				t.Error("the template notice is not at the top of the page")
			}
			if !strings.Contains(text(body), "Acme <Co>") {
				t.Error("product name missing")
			}
			if got, want := text(one(t, doc, "legal-site")), "https://acme.example"; got != want {
				t.Errorf("site=%q, want %q", got, want)
			}
			contact := one(t, doc, "legal-contact")
			if got, want := attr(contact, "href"), "mailto:legal@acme.example"; got != want {
				t.Errorf("contact href=%q, want %q", got, want)
			}
			if got, want := text(contact), "legal@acme.example"; got != want {
				t.Errorf("contact=%q, want %q", got, want)
			}
		})
	}
}

func TestError_WayBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		page      layout.Page
		view      page.ErrorView
		links     map[string]string // data-testid → href
		hidden    []string
		requestID string
	}{
		{"NotFound", layout.Page{AppName: "Atrium"}, page.ErrorView{Status: 404, Title: "Page not found"},
			map[string]string{"home-link": "/", "docs-link": "/docs", "nav-pricing": "/pricing"}, []string{"app-link", "request-id"}, ""},
		{"NotFoundSignedIn", signedIn, page.ErrorView{Status: 404, Title: "Page not found"},
			map[string]string{"home-link": "/", "app-link": "/app"}, []string{"docs-link"}, ""},
		{"Forbidden", signedIn, page.ErrorView{Status: 403, Title: "Not allowed"},
			map[string]string{"home-link": "/", "app-link": "/app"}, []string{"request-id"}, ""},
		{"TooMany", layout.Page{AppName: "Atrium"}, page.ErrorView{Status: 429, Title: "Too many requests", RetryAfter: "1 minute"},
			map[string]string{"home-link": "/"}, []string{"app-link", "docs-link"}, ""},
		{"Internal", layout.Page{AppName: "Atrium"}, page.ErrorView{Status: 500, Title: "Something went wrong", RequestID: "0123abcd"},
			map[string]string{"home-link": "/", "brand": "/"}, []string{"app-link"}, "0123abcd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, _ := render(t, page.Error(tt.page, tt.view))
			one(t, doc, "error-page")
			for id, href := range tt.links {
				if got := attr(one(t, doc, id), "href"); got != href {
					t.Errorf("%s href=%q, want %q", id, got, href)
				}
			}
			for _, id := range tt.hidden {
				none(t, doc, id)
			}
			if tt.requestID != "" && !strings.Contains(text(one(t, doc, "request-id")), tt.requestID) {
				t.Errorf("request id=%q, want it to show %q", text(one(t, doc, "request-id")), tt.requestID)
			}
		})
	}
}
