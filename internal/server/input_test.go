package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"atrium/internal/store/storetest"
)

// noErrorLines fails when the server logged at level ERROR.
func noErrorLines(t testing.TB, a *testApp) {
	t.Helper()
	if strings.Contains(a.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("the server logged an ERROR:\n%s", a.logs.String())
	}
}

// TestBadBytes checks the reported cases of invalid UTF-8 and NUL bytes:
// each is answered with a 4xx (422 with a message beside the field for
// forms) or, for the user agent, made valid and accepted; none logs an
// error.
func TestBadBytes(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			b := a.newBrowser(t)
			b.signIn("ada@example.com")

			for _, name := range []string{"Caf\xe9", "Ada\x00", "Ada\u202eevil"} {
				res := b.Post("/settings/account", url.Values{"name": {name}, "time_zone": {"UTC"}})
				if res.StatusCode != http.StatusUnprocessableEntity || res.Text("field-name-error") == "" {
					t.Fatalf("profile name %q: status %d, field error %q", name, res.StatusCode, res.Text("field-name-error"))
				}
				if !utf8.ValidString(res.Body) {
					t.Fatalf("profile name %q: the page is not valid UTF-8", name)
				}
			}
			res := b.Post("/settings/account", url.Values{"name": {"Ada"}, "time_zone": {"Europe/Paris\x00"}})
			if res.StatusCode != http.StatusUnprocessableEntity || res.Text("field-time_zone-error") == "" {
				t.Fatalf("time zone with NUL: status %d", res.StatusCode)
			}

			for _, name := range []string{"Caf\xe9 Team", "Acme\x00", "\xff\xfe"} {
				res := b.Post("/workspaces", url.Values{"name": {name}})
				if res.StatusCode != http.StatusUnprocessableEntity || res.Text("field-name-error") == "" {
					t.Fatalf("workspace name %q: status %d, field error %q\n%s", name, res.StatusCode, res.Text("field-name-error"), res.Body)
				}
			}
			slug := strings.TrimPrefix(b.Post("/workspaces", url.Values{"name": {"Acme"}}).Location(), "/w/")
			for _, name := range []string{"Caf\xe9", "Acme\x00"} {
				res := b.Post("/w/"+slug+"/settings", url.Values{"name": {name}, "slug": {slug}})
				if res.StatusCode != http.StatusUnprocessableEntity || res.Text("field-name-error") == "" {
					t.Fatalf("rename to %q: status %d, field error %q", name, res.StatusCode, res.Text("field-name-error"))
				}
			}
			for _, p := range []string{"/w/%FF", "/w/%FF/settings", "/w/acme%00", "/w/%C3%28/members"} {
				if res := b.Get(p); res.StatusCode != http.StatusNotFound {
					t.Fatalf("GET %s: status %d, want 404", p, res.StatusCode)
				}
			}

			// Signed out: a sign-in request whose next is not UTF-8 goes
			// ahead and lands on the default page.
			anon := a.newBrowser(t)
			res = anon.Post("/login", url.Values{"email": {"bob@example.com"}, "next": {"/\xff"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("POST /login next=/%%FF: status %d\n%s", res.StatusCode, res.Body)
			}

			// A browser sending its user agent in Latin-1 can sign in.
			anon.Headers.Set("User-Agent", "Mozilla/5.0 (Caf\xe9 OS)")
			if got := anon.signIn("carol@example.com"); got.StatusCode != http.StatusOK {
				t.Fatalf("sign-in with a Latin-1 user agent: status %d", got.StatusCode)
			}
			acct := anon.Get("/settings/account")
			if dev := acct.Text("session-row"); !utf8.ValidString(dev) {
				t.Fatalf("session row is not valid UTF-8: %q", dev)
			}
			noErrorLines(t, a)
		})
	}
}

// TestLookAlikeEmails checks that an address with an invisible character
// is refused rather than becoming a second account, and that an IDN
// domain signs in to one account whichever form it is typed in.
func TestLookAlikeEmails(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			a.newBrowser(t).signIn("founder@example.com")
			for _, in := range []string{"founder\u200b@example.com", "foun\u00adder@example.com", "ｆｏｕｎｄｅｒ@example.com", "founder@-example.com"} {
				res := a.newBrowser(t).Post("/login", url.Values{"email": {in}})
				if res.StatusCode != http.StatusUnprocessableEntity || res.Text("field-email-error") == "" {
					t.Fatalf("email %q: status %d, want 422 with a message", in, res.StatusCode)
				}
			}
			a.newBrowser(t).signIn("ada@xn--exmple-cua.com")
			b := a.newBrowser(t)
			res := b.Post("/login", url.Values{"email": {"Ada@EXÄMPLE.com"}})
			if got, want := res.Location(), "/login/sent?email="+url.QueryEscape("ada@xn--exmple-cua.com"); got != want {
				t.Fatalf("Location=%q, want %q", got, want)
			}
			var n int64
			if err := a.DB.SQL().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Fatalf("%d users, want 2", n)
			}
			noErrorLines(t, a)
		})
	}
}
