package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"atrium/internal/app"
	"atrium/internal/store/storetest"
)

// fuzzTables are the tables a form can add rows to.
var fuzzTables = []string{"users", "sessions", "login_tokens", "audit_logs", "mail_outbox", "workspaces", "memberships", "invites"}

// rowCounts returns the number of rows of each table in fuzzTables.
func rowCounts(t *testing.T, a *testApp) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tbl := range fuzzTables {
		var n int64
		if err := a.DB.SQL().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	return out
}

// badInput reports text that no form field accepts: not UTF-8, or holding
// a control or invisible direction character.
func badInput(s string) bool {
	_, err := app.CleanText("f", "f", s, 0)
	return err != nil
}

// fuzzTarget is one signed-in app of the fuzz test.
type fuzzTarget struct {
	app   *testApp
	owner *browser // owns the workspace "acme"
	anon  *browser
}

// FuzzForms posts each input to every form field and to the path
// parameters of the workspace and invite routes, on every database. It
// asserts what a user (or an attacker) can check: never a 5xx, never an
// ERROR log line, and when the input is not valid text, no new row. Under
// `go test` it runs the seed corpus, including the cases once reported as
// 500s on PostgreSQL.
func FuzzForms(f *testing.F) {
	for _, s := range []string{
		"", "Ada", "acme-2", "DELETE", "ada@example.com", "/settings/account", "Europe/Paris", "admin",
		"\xff", "/\xff", "Caf\xe9", "a\x00b", "\x00", "Acme\u202eTeam", "\x1b[31m", "\u0085", "\xed\xa0\x80",
		"founder\u200b@example.com", "ｆｏｕｎｄｅｒ@example.com", "a@-example.com", "\xfe\xff@x.example",
		strings.Repeat("x", 300), strings.Repeat("\u00e9", 81), "%FF", "../../etc", "<script>",
	} {
		f.Add(s)
	}
	var targets []*fuzzTarget
	for _, d := range storetest.Dialects(f) {
		a := newTestApp(f, d, withEnv("RATE_LIMIT_MAX", "100000", "LOGIN_RATE_LIMIT_MAX", "100000"))
		owner := a.newBrowser(f)
		owner.signIn("owner@example.com")
		if res := owner.Post("/workspaces", url.Values{"name": {"Acme"}, "slug": {"acme"}}); res.StatusCode != http.StatusSeeOther {
			f.Fatalf("%s: create workspace: status %d", d, res.StatusCode)
		}
		targets = append(targets, &fuzzTarget{app: a, owner: owner, anon: a.newBrowser(f)})
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, tg := range targets {
			a := tg.app
			owner, anon := *tg.owner, *tg.anon
			owner.t, anon.t = t, t
			bad := badInput(in)
			check := func(what string, res *response, mayStore bool) {
				t.Helper()
				if res.StatusCode >= 500 {
					t.Fatalf("%s with %q: status %d\n%s", what, in, res.StatusCode, res.Body)
				}
				noErrorLines(t, a)
				_ = mayStore
			}
			post := func(b *browser, path string, form url.Values, stores bool) {
				t.Helper()
				before := rowCounts(t, a)
				res := b.Post(path, form)
				check("POST "+path+" "+form.Encode(), res, stores)
				if bad && !stores {
					if after := rowCounts(t, a); !equalCounts(before, after) {
						t.Fatalf("POST %s with %q stored rows: before %v, after %v", path, in, before, after)
					}
				}
			}
			post(&anon, "/login", url.Values{"email": {in}}, false)
			// A refused next falls back to the default page; the sign-in
			// request itself is stored.
			post(&anon, "/login", url.Values{"email": {"next@example.com"}, "next": {in}}, true)
			post(&anon, "/auth/verify", url.Values{"token": {in}}, false)
			post(&owner, "/settings/account", url.Values{"name": {in}, "time_zone": {"UTC"}}, false)
			post(&owner, "/settings/account", url.Values{"name": {"Owner"}, "time_zone": {in}}, false)
			if !strings.EqualFold(strings.TrimSpace(in), "owner@example.com") {
				post(&owner, "/settings/account/delete", url.Values{"confirm": {in}}, false)
			}
			post(&owner, "/workspaces", url.Values{"name": {in}}, false)
			post(&owner, "/workspaces", url.Values{"name": {"Fuzz"}, "slug": {in}}, false)
			if strings.TrimSpace(in) != "Acme" {
				post(&owner, "/w/acme/delete", url.Values{"confirm": {in}}, false)
			}
			post(&owner, "/w/acme/settings", url.Values{"name": {in}, "slug": {"acme"}}, false)
			owner.Post("/w/acme/settings", url.Values{"name": {"Acme"}, "slug": {"acme"}})
			if !app.ValidSlugSyntax(strings.ToLower(strings.TrimSpace(in))) {
				post(&owner, "/w/acme/settings", url.Values{"name": {"Acme"}, "slug": {in}}, false)
			}
			post(&owner, "/w/acme/invites", url.Values{"email": {in}, "role": {"member"}}, false)
			post(&owner, "/w/acme/invites", url.Values{"email": {"new@example.com"}, "role": {in}}, false)
			post(&owner, "/w/acme/transfer", url.Values{"user_id": {in}}, false)
			post(&owner, "/w/acme/members/1/role", url.Values{"role": {in}}, false)

			esc := url.PathEscape(in)
			for _, p := range []string{"/w/" + esc, "/w/" + esc + "/members", "/invites/" + esc, "/docs/" + esc,
				"/login?next=" + url.QueryEscape(in), "/auth/verify?token=" + url.QueryEscape(in),
				"/login/sent?email=" + url.QueryEscape(in), "/w/acme/audit?action=" + url.QueryEscape(in) + "&before=" + url.QueryEscape(in)} {
				check("GET "+p, owner.Get(p), false)
				check("GET "+p, anon.Get(p), false)
			}
			// A user agent the HTTP client can send (no control bytes;
			// Latin-1 is fine) never stops a request.
			if httpguts.ValidHeaderFieldValue(in) {
				ua := anon
				ua.Headers = http.Header{"User-Agent": {in}}
				check("POST /auth/verify with User-Agent", ua.Post("/auth/verify", url.Values{"token": {"x"}}), false)
			}
			if !utf8.ValidString(a.logs.String()) {
				t.Fatalf("the log is not valid UTF-8 after %q", in)
			}
		}
	})
}

func equalCounts(a, b map[string]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
