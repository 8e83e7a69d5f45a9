package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store/storetest"
)

// setCookies returns the Set-Cookie lines of res for the named cookie.
func setCookies(res *response, name string) []string {
	var out []string
	for _, v := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			out = append(out, v)
		}
	}
	return out
}

func TestLogout_SetsSessionCookieOnce(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	b.signIn("ada@example.com")
	// Within a minute of signing in, every request renews the cookie; the
	// sign-out answer must still say one thing about it: cleared.
	res := b.Post("/logout", nil)
	got := setCookies(res, "atrium_session")
	if len(got) != 1 || !strings.Contains(got[0], "Max-Age=0") {
		t.Fatalf("logout Set-Cookie for the session=%q, want one line that clears it", got)
	}
	if n := len(setCookies(res, "atrium_flash")); n != 1 {
		t.Fatalf("logout sets the flash cookie %d times", n)
	}
}

func TestLogRequests_RedactsTokenShapedSegments(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	token, _ := app.NewToken()
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/invites/" + token + "/"},
		{http.MethodGet, "/invites/" + token + "/accept"},
		{http.MethodPut, "/invites/" + token},
		{http.MethodGet, "/invites//" + token},
		{http.MethodGet, "/INVITES/" + token},
		{http.MethodGet, "/anything/" + token + "/else"},
		{http.MethodDelete, "/auth/verify/" + token},
	} {
		req, _ := http.NewRequest(tc.method, b.url(tc.path), nil)
		res := b.do(req)
		if res.StatusCode < 300 || res.StatusCode >= 500 {
			t.Fatalf("%s %s: status %d", tc.method, tc.path, res.StatusCode)
		}
	}
	logs := a.logs.String()
	if strings.Contains(logs, token) {
		t.Fatalf("a token reached the log:\n%s", logs)
	}
	if n := strings.Count(logs, "[redacted]"); n < 7 {
		t.Fatalf("%d redactions in the log, want at least 7:\n%s", n, logs)
	}
}

// TestLogRequests_RedactsTokenRuns: a path segment holding a token-shaped
// run is redacted whatever surrounds the run (an API key's "atr_", one
// extra character, a file extension, a percent-escape) and whether or not
// a route matched, while slugs and the app's own segments stay readable.
func TestLogRequests_RedactsTokenRuns(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	token, _ := app.NewToken()
	key, _, _ := app.NewAPIKeySecret()
	secrets := map[string]string{ // the path sent: the secret in it
		"/api/v1/" + key:                          key,
		"/api/v1/workspaces/" + key + "/members":  key,
		"/" + token + "x":                         token,
		"/x" + token:                              token,
		"/invites/" + token + ".json":             token,
		"/invites/" + token + "%7E":               token,
		"/auth/verify/" + token[:30]:              token[:30],
		"/w/acme/" + token[5:] + "~!":             token[5:],
		"/static/" + token + "/" + token + "/app": token,
		"/a.b/" + "zz_" + token + "_zz":           token,
	}
	for path := range secrets {
		res := b.Get(path)
		if res.StatusCode >= 500 {
			t.Fatalf("GET %s: status %d", path, res.StatusCode)
		}
	}
	kept := "/w/a-long-but-ordinary-workspace-slug-2026/settings/two-factor"
	b.Get(kept)
	logs := a.logs.String()
	for path, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("GET %s: the secret reached the log", path)
		}
	}
	if !strings.Contains(logs, `"path":"`+kept+`"`) {
		t.Errorf("the ordinary path %s was not logged as it is", kept)
	}
	for _, want := range []string{`"path":"/api/v1/[redacted]"`, `"path":"/[redacted]"`, `"path":"/api/v1/workspaces/[redacted]/members"`,
		`"path":"/static/[redacted]/[redacted]/app"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs)
	}
}

func TestFlash_SignedAndHostPrefixed(t *testing.T) {
	t.Run("HTTPS", func(t *testing.T) {
		a := newTestApp(t, "sqlite", withEnv("APP_URL", "https://atrium.example"))
		res := a.newBrowser(t).Post("/logout", nil)
		got := setCookies(res, "__Host-atrium_flash")
		if len(got) != 1 || !strings.Contains(got[0], "Secure") || !strings.Contains(got[0], "Path=/") ||
			strings.Contains(got[0], "Domain=") {
			t.Fatalf("flash Set-Cookie under https=%q, want one __Host- cookie, Secure, Path=/, no Domain\nall: %q",
				got, res.Header.Values("Set-Cookie"))
		}
		if n := len(setCookies(res, "atrium_flash")); n != 0 {
			t.Fatal("a flash cookie without the __Host- prefix was set under https")
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		a := newTestApp(t, "sqlite")
		b := a.newBrowser(t)
		b.signIn("ada@example.com")
		res := b.Post("/logout", nil)
		lines := setCookies(res, "atrium_flash")
		if len(lines) != 1 {
			t.Fatalf("flash Set-Cookie=%q", lines)
		}
		genuine := strings.TrimPrefix(strings.SplitN(lines[0], ";", 2)[0], "atrium_flash=")
		u, _ := url.Parse(a.URL)
		show := func(value string) *response {
			t.Helper()
			b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "atrium_flash", Value: value, Path: "/"}})
			return b.Get("/login")
		}
		if got := show(genuine).Text("flash"); got != "You have signed out." {
			t.Fatalf("genuine flash shows %q", got)
		}
		if res := show("error:Your+account+was+suspended"); res.Has("flash") {
			t.Fatalf("an unsigned flash cookie is shown: %q", res.Text("flash"))
		}
		payload, mac, ok := strings.Cut(genuine, ".")
		if !ok || len(mac) < 40 {
			t.Fatalf("flash cookie %q carries no signature", genuine)
		}
		for name, v := range map[string]string{
			"UnsignedWithDot": "error:Your+account+was+suspended.+Call+us.",
			"OtherMessage":    "error:Your+account+was+suspended." + "." + mac,
			"OtherKind":       strings.Replace(payload, "info", "error", 1) + "." + mac,
			"BadSignature":    payload + ".AAAA" + mac[4:],
			"SignatureOnly":   "." + mac,
			"MissingMessage":  payload,
			"TruncatedMAC":    payload + "." + mac[:10],
			"ExtraAfterMAC":   genuine + "x",
			"EmptyCookieBody": "",
		} {
			if res := show(v); res.Has("flash") {
				t.Errorf("%s flash cookie %q is shown: %q", name, v, res.Text("flash"))
			}
		}
	})
}

// TestFlash_ExpiresInsideSignature: a genuine flash cookie copied from a
// response shows its message only until the expiry signed inside it,
// whatever the cookie's Max-Age; changing that expiry breaks the signature.
func TestFlash_ExpiresInsideSignature(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	b.signIn("ada@example.com")
	lines := setCookies(b.Post("/logout", nil), "atrium_flash")
	if len(lines) != 1 {
		t.Fatalf("flash Set-Cookie=%q", lines)
	}
	genuine := strings.TrimPrefix(strings.SplitN(lines[0], ";", 2)[0], "atrium_flash=")
	u, _ := url.Parse(a.URL)
	show := func(value string) string {
		t.Helper()
		b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "atrium_flash", Value: value, Path: "/"}})
		return b.Get("/login").Text("flash")
	}
	if got := show(genuine); got != "You have signed out." {
		t.Fatalf("genuine flash shows %q", got)
	}
	a.Clock.Add(90 * time.Second)
	if got := show(genuine); got != "You have signed out." {
		t.Fatalf("genuine flash replayed within its two minutes shows %q", got)
	}
	a.Clock.Add(time.Minute)
	if got := show(genuine); got != "" {
		t.Fatalf("genuine flash replayed after its expiry shows %q", got)
	}
	exp, rest, ok := strings.Cut(genuine, ":")
	if !ok || len(exp) < 10 {
		t.Fatalf("flash cookie %q does not start with its expiry", genuine)
	}
	if got := show("9999999999:" + rest); got != "" {
		t.Fatalf("flash with a pushed-back expiry shows %q", got)
	}
}

// TestLastWorkspaceCookie_HostPrefixed: under https the cookie naming the
// last workspace opened carries the __Host- prefix (Secure, Path=/, no
// Domain), like the session and flash cookies, and /app honours it.
func TestLastWorkspaceCookie_HostPrefixed(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("APP_URL", "https://atrium.example"))
	b := a.newBrowser(t)
	b.Post("/login", url.Values{"email": {"ada@example.com"}})
	link, _ := url.Parse(a.SMTP.WaitForMessage(t, "ada@example.com", 5*time.Second).Links()[0])
	res := b.Post("/auth/verify", url.Values{"token": {link.Query().Get("token")}})
	var session string
	for _, c := range res.Cookies() {
		if c.Name == "__Host-atrium_session" {
			session = c.Name + "=" + c.Value
		}
	}
	if session == "" {
		t.Fatalf("no session cookie: %q", res.Header.Values("Set-Cookie"))
	}
	// The jar keeps Secure cookies from this plain-HTTP test server, so
	// the browser sends them by hand.
	b.Headers.Set("Cookie", session)
	first := createWorkspace(t, b, "Acme")
	second := createWorkspace(t, b, "Globex")
	res = b.Get("/w/" + first)
	if n := len(setCookies(res, "atrium_last_ws")); n != 0 {
		t.Errorf("an atrium_last_ws cookie without the __Host- prefix was set under https")
	}
	got := setCookies(res, "__Host-atrium_last_ws")
	if len(got) != 1 || !strings.Contains(got[0], "Secure") || !strings.Contains(got[0], "Path=/") ||
		strings.Contains(got[0], "Domain=") {
		t.Fatalf("last-workspace Set-Cookie under https=%q, want one __Host- cookie, Secure, Path=/, no Domain\nall: %q",
			got, res.Header.Values("Set-Cookie"))
	}
	for _, name := range []string{"__Host-atrium_last_ws", "atrium_last_ws"} {
		b.Headers.Set("Cookie", session+"; "+name+"="+second)
		loc := b.Get("/app").Location()
		want := "/w/" + second
		if name == "atrium_last_ws" {
			want = "/w/" + first // an unprefixed cookie is not the app's under https
		}
		if loc != want {
			t.Errorf("/app with %s=%s goes to %q, want %q", name, second, loc, want)
		}
	}
}

func TestHead_AnsweredWhereGetIs(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	head := func(path string) *response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodHead, b.url(path), nil)
		return b.do(req)
	}
	for _, p := range []string{"/", "/login", "/pricing", "/docs", "/healthz", "/robots.txt", "/login/sent?email=a%40example.com"} {
		if res := head(p); res.StatusCode != http.StatusOK || res.Body != "" {
			t.Errorf("HEAD %s: status %d, body %d bytes; want 200 and no body", p, res.StatusCode, len(res.Body))
		}
	}
	if res := head("/app"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("HEAD /app signed out: status %d, want 303 like GET", res.StatusCode)
	}
	if res := head("/no-such-page"); res.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD /no-such-page: status %d, want 404", res.StatusCode)
	}
	if res := head("/logout"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD /logout: status %d, want 405 (no GET there)", res.StatusCode)
	}

	// A link checker's HEAD on the sign-in link uses nothing up.
	b.Post("/login", url.Values{"email": {"ada@example.com"}})
	link := a.SMTP.WaitForMessage(t, "ada@example.com", 5*time.Second).Links()[0]
	for i := 0; i < 3; i++ {
		if res := head(link); res.StatusCode != http.StatusOK {
			t.Fatalf("HEAD sign-in link: status %d, want 200", res.StatusCode)
		}
	}
	if res := b.Follow(skipNameStep(t, b, b.Submit(b.Get(link), "verify-submit", nil))); res.StatusCode != http.StatusOK || !res.Has("workspace-create-form") {
		t.Fatalf("sign-in after HEAD: status %d\n%s", res.StatusCode, res.Body)
	}

	// Signed in: workspace pages answer HEAD, and HEAD leaves the flash
	// message for the page that shows it.
	res := b.Post("/workspaces", url.Values{"name": {"Acme"}})
	slug := strings.TrimPrefix(res.Location(), "/w/")
	for _, p := range []string{"/w/" + slug, "/w/" + slug + "/members", "/settings/account"} {
		if res := head(p); res.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: status %d", p, res.StatusCode)
		}
	}
	if got := b.Get("/w/" + slug).Text("flash"); !strings.Contains(got, "Acme") {
		t.Fatalf("the flash after HEAD requests=%q, want the created message", got)
	}
}

func TestWorkspaceCreate_Cap(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("MAX_WORKSPACES_PER_USER", "2"))
			b := a.newBrowser(t)
			b.signIn("ada@example.com")
			for _, name := range []string{"One", "Two"} {
				if res := b.Post("/workspaces", url.Values{"name": {name}}); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("create %s: status %d", name, res.StatusCode)
				}
			}
			res := b.Post("/workspaces", url.Values{"name": {"Three"}})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Text("field-name-error"), "You own 2 workspaces") {
				t.Fatalf("third workspace: status %d, name error %q", res.StatusCode, res.Text("field-name-error"))
			}
			if v, _ := res.Doc.Find(`input[name="name"]`).Attr("value"); v != "Three" {
				t.Fatalf("the form lost the name: %q", v)
			}
		})
	}
}
