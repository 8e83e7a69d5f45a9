package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/internal/i18n/i18ntest"
)

// assertTranslatedSection is assertTranslated for the parts of a page that
// selector matches: the frame around another area's page, say.
func assertTranslatedSection(t testing.TB, res *response, selector string, allow ...string) {
	t.Helper()
	if got := res.Header.Get("Content-Language"); got != "en-XA" {
		t.Fatalf("%s: Content-Language=%q, want en-XA (ask with pseudo())", res.Request.URL.Path, got)
	}
	sel := res.Doc.Find(selector)
	if sel.Length() == 0 {
		t.Fatalf("%s: nothing matches %q", res.Request.URL.Path, selector)
	}
	var html strings.Builder
	for i := range sel.Nodes {
		part, err := sel.Eq(i).Html()
		if err != nil {
			t.Fatal(err)
		}
		html.WriteString("<div>" + part + "</div>")
	}
	if left := i18ntest.Untranslated(html.String(), allow...); len(left) > 0 {
		t.Errorf("%s (%s) shows untranslated text:\n  %s", res.Request.URL.Path, selector, strings.Join(left, "\n  "))
	}
}

// frame selects the shared frame of every page: the skip link, header and
// footer.
const frame = ".skip-link, header.site-header, footer.site-footer"

// TestI18n_Shell fetches the frame every page shares and the public pages
// in the pseudo-locale, signed out and signed in, with their error states
// (404, 405, 429, an unconfirmed destructive action, an empty name), and
// fails on any English left.
func TestI18n_Shell(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")
	const name, email, workspace = "Ada Lovelace", "ada@example.com", "Acme Inc"
	allow := []string{name, email, workspace}

	out := a.newBrowser(t).pseudo()
	docs := out.Get("/docs")
	doc, ok := docs.Doc.Find(`[data-testid="doc-link"]`).First().Attr("href")
	if !ok {
		t.Fatalf("/docs lists no page:\n%s", docs.Body)
	}
	public := []string{"/", "/terms", "/privacy", "/docs", doc, "/docs/no-such-page", "/no/such/page"}

	t.Run("SignedOut", func(t *testing.T) {
		for _, path := range public {
			assertTranslated(t, out.Get(path))
		}
		res := out.Post("/", nil)
		if got, want := res.StatusCode, http.StatusMethodNotAllowed; got != want {
			t.Fatalf("POST /: status=%d, want %d", got, want)
		}
		assertTranslated(t, res)
		foreign := a.newBrowser(t).pseudo()
		foreign.Origin = "https://evil.example"
		assertTranslated(t, foreign.Post("/logout", nil))
	})

	in := a.newBrowser(t).pseudo()
	in.signIn(email)

	t.Run("NameStep", func(t *testing.T) {
		step := in.Get("/welcome?next=%2Fsettings%2Fworkspaces")
		assertTranslated(t, step)
		empty := in.Submit(step, "name-step-form", url.Values{"name": {" "}})
		if got, want := empty.StatusCode, http.StatusUnprocessableEntity; got != want {
			t.Fatalf("empty name: status=%d, want %d", got, want)
		}
		if empty.Text("field-name-error") == "" {
			t.Fatal("empty name: no error beside the field")
		}
		assertTranslated(t, empty)
		saved := in.Submit(step, "name-step-form", url.Values{"name": {name}})
		if got, want := saved.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("save name: status=%d, want %d\n%s", got, want, saved.Body)
		}
		next := in.Follow(saved)
		assertTranslatedSection(t, next, `[data-testid="flash"]`, allow...)
		assertTranslatedSection(t, next, frame, allow...)
	})

	t.Run("SignedIn", func(t *testing.T) {
		for _, path := range public {
			assertTranslated(t, in.Get(path), allow...)
		}
		assertTranslated(t, in.Post("/", nil), allow...)
	})

	t.Run("Workspace", func(t *testing.T) {
		slug := createWorkspace(t, in, workspace)
		// The dashboard is another area's page: its frame, switcher and
		// getting-started checklist are this one's.
		dash := in.Get("/w/" + slug)
		if !dash.Has("checklist") || !dash.Has("ws-switcher") {
			t.Fatalf("dashboard without checklist or switcher:\n%s", dash.Body)
		}
		assertTranslatedSection(t, dash, frame, allow...)
		assertTranslatedSection(t, dash, `[data-testid="checklist"]`, allow...)
		assertTranslated(t, in.Get("/w/"+slug+"/no-such-page"), allow...)
	})

	t.Run("Confirm", func(t *testing.T) {
		// Signing the other devices out, posted without confirm=yes: the
		// question and its consequence are the account area's words.
		res := in.Post("/settings/account/sessions/revoke-others", nil)
		if !res.Has("confirm-page") {
			t.Fatalf("no confirmation page: status %d\n%s", res.StatusCode, res.Body)
		}
		assertTranslatedSection(t, res, frame, allow...)
		assertTranslatedSection(t, res, `[data-testid="confirm-cancel"]`)
	})
}

// TestI18n_ShellTooManyRequests checks the 429 page, wait included, in
// the pseudo-locale.
func TestI18n_ShellTooManyRequests(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", withEnv("RATE_LIMIT_MAX", "10"))
	b := a.newBrowser(t).pseudo()
	for range 10 {
		b.Post("/logout", nil)
	}
	b.Get("/terms") // shows, and so clears, the signing out's flash
	res := b.Post("/logout", nil)
	if got, want := res.StatusCode, http.StatusTooManyRequests; got != want {
		t.Fatalf("status=%d, want %d", got, want)
	}
	if res.Text("retry-after") == "" {
		t.Error("no wait on the 429 page")
	}
	assertTranslated(t, res)
}

// TestI18n_ShellGerman checks a few of the frame's and public pages'
// words in German.
func TestI18n_ShellGerman(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t).german()

	home := b.Get("/")
	for id, want := range map[string]string{
		"home-headline": "Der Workspace für Ihr Team, startklar ab dem ersten Tag.",
		"nav-pricing":   "Preise",
		"nav-signin":    "Anmelden",
		"footer-terms":  "AGB",
		"cta-docs":      "Zur Dokumentation",
	} {
		if got := home.Text(id); got != want {
			t.Errorf("home %s=%q, want %q", id, got, want)
		}
	}
	nf := b.Get("/no/such/page")
	if got, want := nf.Doc.Find("h1").Text(), "Seite nicht gefunden"; got != want {
		t.Errorf("404 heading=%q, want %q", got, want)
	}
	if got, want := nf.Text("home-link"), "Zur Startseite"; got != want {
		t.Errorf("404 home link=%q, want %q", got, want)
	}
	terms := b.Get("/terms")
	if got, want := terms.Doc.Find("h1").Text(), "Nutzungsbedingungen"; got != want {
		t.Errorf("terms heading=%q, want %q", got, want)
	}
}
