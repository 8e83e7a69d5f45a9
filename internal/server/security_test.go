package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"atrium/internal/store/storetest"
	"atrium/web/static"
)

func TestCrossOriginProtection(t *testing.T) {
	a := newTestApp(t, "sqlite")
	victim := a.newBrowser(t)
	victim.signIn("victim@example.com")

	evil := a.newBrowser(t)
	evil.Origin = "https://evil.example"
	res := evil.Post("/login", url.Values{"email": {"target@example.com"}})
	assertRefused(t, "cross-site POST /login", res)

	// A page on another site makes the signed-in victim's browser post.
	victim.Origin = "https://evil.example"
	res = victim.Post("/logout", nil)
	assertRefused(t, "cross-site POST /logout", res)
	victim.Origin = a.URL

	// Browsers without Fetch Metadata send only Origin; a sibling subdomain
	// is same-site but not same-origin.
	for name, h := range map[string]http.Header{
		"OriginOnly": {"Origin": {"https://evil.example"}},
		"SameSite":   {"Origin": {"https://sub." + strings.TrimPrefix(a.URL, "http://")}, "Sec-Fetch-Site": {"same-site"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/logout", nil)
		for k, v := range h {
			req.Header[k] = v
		}
		assertRefused(t, name+" POST /logout", victim.do(req))
	}

	if acct := victim.Get("/settings/account"); acct.StatusCode != http.StatusOK || !strings.Contains(acct.Text("nav-email"), "victim@example.com") {
		t.Fatalf("the victim was signed out by a cross-site request: status %d\n%s", acct.StatusCode, acct.Body)
	}

	// A link followed from another site is an ordinary visit, signed in or not.
	for _, v := range []struct {
		b    *browser
		path string
	}{{a.newBrowser(t), "/"}, {a.newBrowser(t), "/login"}, {victim, "/"}, {victim, "/settings/account"}} {
		req, _ := http.NewRequest(http.MethodGet, a.URL+v.path, nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Referer", "https://evil.example/page")
		if res := v.b.do(req); res.StatusCode != http.StatusOK || res.Has("error-page") {
			t.Errorf("cross-site GET %s: status %d, want 200 without the error page", v.path, res.StatusCode)
		}
	}

	// The same form from the site itself goes through.
	res = a.newBrowser(t).Post("/login", url.Values{"email": {"sentinel@example.com"}})
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("same-origin POST /login status=%d, want %d\n%s", got, want, res.Body)
	}
	a.SMTP.WaitForMessage(t, "sentinel@example.com", 5*time.Second)
	for _, m := range a.SMTP.Messages() {
		if strings.Contains(strings.Join(m.To, ","), "target@example.com") {
			t.Fatal("the cross-site POST /login sent a sign-in email")
		}
	}
	if !strings.Contains(a.logs.String(), "cross-origin request refused") {
		t.Error("refused cross-origin requests are not logged")
	}
}

// assertRefused checks that res is the 403 error page.
func assertRefused(t *testing.T, name string, res *response) {
	t.Helper()
	if got, want := res.StatusCode, http.StatusForbidden; got != want {
		t.Errorf("%s: status=%d, want %d", name, got, want)
	}
	if !res.Has("error-page") || res.Text("error-status") != "403" || !strings.Contains(res.Text("error-message"), "another site") {
		t.Errorf("%s: no readable 403 page:\n%s", name, res.Body)
	}
	for _, c := range res.Cookies() {
		if strings.Contains(c.Name, "session") {
			t.Errorf("%s: a refused request changed the session cookie: %v", name, c)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	plain := newTestApp(t, "sqlite")
	secure := newTestApp(t, "sqlite", withEnv("APP_URL", "https://atrium.example"))
	for _, tc := range []struct {
		name     string
		a        *testApp
		wantHSTS bool
	}{{"HTTP", plain, false}, {"HTTPS", secure, true}} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.a.newBrowser(t)
			evil := tc.a.newBrowser(t)
			evil.Origin = "https://evil.example"
			kinds := []struct {
				kind string
				res  *response
				want int
			}{
				{"page", b.Get("/login"), http.StatusOK},
				{"404", b.Get("/no/such/page"), http.StatusNotFound},
				{"redirect", b.Get("/settings/account"), http.StatusSeeOther},
				{"405", b.Post("/healthz", nil), http.StatusMethodNotAllowed},
				{"403", evil.Post("/logout", nil), http.StatusForbidden},
				{"form 422", b.Post("/login", url.Values{"email": {"nope"}}), http.StatusUnprocessableEntity},
				{"healthz", b.Get("/healthz"), http.StatusOK},
				{"readyz", b.Get("/readyz"), http.StatusOK},
				{"static", b.Get(static.Path("app.css")), http.StatusOK},
				{"static 404", b.Get("/static/missing.css"), http.StatusNotFound},
				{"verify 404", b.Get("/auth/verify?token=bad"), http.StatusNotFound},
				{"post redirect", b.Post("/logout", nil), http.StatusSeeOther},
			}
			for _, k := range kinds {
				if got := k.res.StatusCode; got != k.want {
					t.Errorf("%s: status=%d, want %d", k.kind, got, k.want)
				}
				assertSecurityHeaders(t, k.kind, k.res.Header, tc.wantHSTS)
			}
		})
	}
}

// assertSecurityHeaders checks the headers every response must carry.
func assertSecurityHeaders(t *testing.T, kind string, h http.Header, wantHSTS bool) {
	t.Helper()
	csp := parseCSP(h.Get("Content-Security-Policy"))
	if len(csp) == 0 {
		t.Errorf("%s: no Content-Security-Policy", kind)
	}
	scripts, ok := csp["script-src"]
	if !ok {
		scripts = csp["default-src"]
	}
	if len(scripts) == 0 {
		t.Errorf("%s: CSP does not restrict scripts: %q", kind, h.Get("Content-Security-Policy"))
	}
	for _, src := range scripts {
		switch strings.ToLower(src) {
		case "'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:":
			t.Errorf("%s: CSP script-src allows %s", kind, src)
		}
	}
	if got := strings.Join(csp["frame-ancestors"], " "); got != "'none'" {
		t.Errorf("%s: CSP frame-ancestors=%q, want 'none'", kind, got)
	}
	for name, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := h.Get(name); !strings.EqualFold(got, want) {
			t.Errorf("%s: %s=%q, want %q", kind, name, got, want)
		}
	}
	switch rp := h.Get("Referrer-Policy"); rp {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("%s: Referrer-Policy=%q leaks paths to other sites", kind, rp)
	}
	if pp := h.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") || !strings.Contains(pp, "microphone=()") {
		t.Errorf("%s: Permissions-Policy=%q does not turn off camera and microphone", kind, pp)
	}
	hsts := h.Get("Strict-Transport-Security")
	switch {
	case !wantHSTS && hsts != "":
		t.Errorf("%s: Strict-Transport-Security=%q on a plain-HTTP site", kind, hsts)
	case wantHSTS:
		age, _ := strings.CutPrefix(strings.Split(hsts, ";")[0], "max-age=")
		if n, err := strconv.Atoi(age); err != nil || n < 365*24*3600 {
			t.Errorf("%s: Strict-Transport-Security=%q, want max-age of at least a year", kind, hsts)
		}
	}
}

// parseCSP splits a Content-Security-Policy into its directives.
func parseCSP(policy string) map[string][]string {
	out := make(map[string][]string)
	for d := range strings.SplitSeq(policy, ";") {
		fields := strings.Fields(d)
		if len(fields) > 0 {
			out[strings.ToLower(fields[0])] = fields[1:]
		}
	}
	return out
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name, appURL, cookie string
		secure               bool
	}{
		{"HTTP", "", "atrium_session", false},
		{"HTTPS", "https://atrium.example", "__Host-atrium_session", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []appOption
			if tc.appURL != "" {
				opts = append(opts, withEnv("APP_URL", tc.appURL))
			}
			a := newTestApp(t, "sqlite", opts...)
			b := a.newBrowser(t)
			b.Post("/login", url.Values{"email": {"cookie@example.com"}})
			link := a.SMTP.WaitForMessage(t, "cookie@example.com", 5*time.Second).Links()[0]
			if tc.appURL != "" && !strings.HasPrefix(link, tc.appURL+"/auth/verify?") {
				t.Fatalf("link %q does not use APP_URL", link)
			}
			u, _ := url.Parse(link)
			res := b.Post("/auth/verify", url.Values{"token": {u.Query().Get("token")}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("POST /auth/verify: status %d\n%s", res.StatusCode, res.Body)
			}
			var session *http.Cookie
			for _, c := range res.Cookies() {
				if strings.Contains(c.Name, "session") {
					session = c
				}
				if c.Secure != tc.secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
					t.Errorf("cookie %s: Secure=%v HttpOnly=%v SameSite=%v Path=%q Domain=%q; want Secure=%v HttpOnly, Lax, Path /, no Domain",
						c.Name, c.Secure, c.HttpOnly, c.SameSite, c.Path, c.Domain, tc.secure)
				}
			}
			if session == nil {
				t.Fatalf("no session cookie set: %q", res.Header.Values("Set-Cookie"))
			}
			if got, want := session.Name, tc.cookie; got != want {
				t.Fatalf("session cookie name=%q, want %q", got, want)
			}
			if session.MaxAge <= 0 || len(session.Value) < 43 {
				t.Fatalf("session cookie MaxAge=%d, value length %d", session.MaxAge, len(session.Value))
			}
		})
	}
}

func TestSecretsNeverInResponses(t *testing.T) {
	secrets := map[string]string{
		"SMTP_USERNAME":         "smtp-user-" + randomHex(8),
		"SMTP_PASSWORD":         "smtp-pass-" + randomHex(16),
		"STRIPE_SECRET_KEY":     "sk_test_" + randomHex(24),
		"STRIPE_WEBHOOK_SECRET": "whsec_" + randomHex(24),
	}
	var kv []string
	for k, v := range secrets {
		kv = append(kv, k, v)
	}
	a := newTestApp(t, "sqlite", withEnv(kv...))
	// Mail only goes through when the app logs in with the configured password.
	a.SMTP.RequireAuth(secrets["SMTP_USERNAME"], secrets["SMTP_PASSWORD"])
	if got := len(a.Cfg.SecretValues()); got < 3 {
		t.Fatalf("Config.SecretValues has %d values, want the SMTP password and both Stripe secrets", got)
	}
	for i, v := range a.Cfg.SecretValues() {
		secrets["SecretValues()["+strconv.Itoa(i)+"]"] = v
	}

	checked := 0
	check := func(label string, res *response) {
		t.Helper()
		checked++
		for name, v := range secrets {
			if strings.Contains(res.Body, v) {
				t.Errorf("%s: the body contains %s", label, name)
			}
			for h, vs := range res.Header {
				if strings.Contains(strings.Join(vs, "\n"), v) {
					t.Errorf("%s: header %s contains %s", label, h, name)
				}
			}
		}
	}
	crawl := func(b *browser, state string, extra ...string) {
		t.Helper()
		paths := append([]string{"/", "/login", "/login?next=%2Fsettings%2Faccount", "/login/sent?email=crawl%40example.com",
			"/app", "/settings/account", "/no/such/page", "/auth/verify?token=bad", static.Path("app.css"),
			"/healthz", "/readyz"}, extra...)
		for _, p := range paths {
			check(state+" GET "+p, b.Get(p))
		}
		check(state+" GET /app, followed", b.Follow(b.Get("/app")))
	}
	requestLink := func(b *browser, email string) string {
		t.Helper()
		res := b.Post("/login", url.Values{"email": {email}})
		check("POST /login", res)
		msg := a.SMTP.WaitForMessage(t, email, 5*time.Second)
		if got, want := msg.AuthUser, secrets["SMTP_USERNAME"]; got != want {
			t.Fatalf("mail sent as %q, want %q", got, want)
		}
		for name, v := range secrets {
			if strings.Contains(string(msg.Raw), v) {
				t.Errorf("the sign-in email contains %s", name)
			}
		}
		return msg.Links()[0]
	}

	b := a.newBrowser(t)
	link := requestLink(b, "crawler@example.com")
	crawl(b, "signed out", link)
	verify := b.Get(link)
	res := b.Submit(verify, "verify-submit", nil)
	check("POST /auth/verify", res)
	u, _ := url.Parse(a.URL)
	session := cookieValue(b.client.Jar.Cookies(u), "atrium_session")
	if session == "" {
		t.Fatal("not signed in")
	}

	link2 := requestLink(b, "crawler@example.com")
	crawl(b, "signed in", link2)
	if got := b.Get("/settings/account"); !got.Has("account") {
		t.Fatalf("the signed-in crawl did not reach the account page:\n%s", got.Body)
	}
	check("POST /logout", b.Post("/logout", nil))
	if checked < 25 {
		t.Fatalf("only %d responses checked", checked)
	}

	logs := a.logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("no request log lines:\n%s", logs)
	}
	for name, v := range secrets {
		if strings.Contains(logs, v) {
			t.Errorf("the log contains %s", name)
		}
	}
	for name, v := range map[string]string{
		"the session cookie":    session,
		"the first link token":  tokenOf(t, link),
		"the second link token": tokenOf(t, link2),
		"a Cookie header":       "Cookie",
	} {
		if strings.Contains(logs, v) {
			t.Errorf("the log contains %s", name)
		}
	}
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || len(u.Query().Get("token")) < 43 {
		t.Fatalf("link %q has no token", link)
	}
	return u.Query().Get("token")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestReadyz(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			b := a.newBrowser(t)
			ready := func() (int, map[string]string) {
				t.Helper()
				res := b.Get("/readyz")
				var body struct {
					Status string            `json:"status"`
					Checks map[string]string `json:"checks"`
				}
				if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
					t.Fatalf("GET /readyz: %v\n%s", err, res.Body)
				}
				if ct := res.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type=%q", ct)
				}
				return res.StatusCode, body.Checks
			}

			if status, checks := ready(); status != http.StatusOK || checks["database"] != "ok" || checks["migrations"] != "ok" {
				t.Fatalf("migrated database: %d %v, want 200 and every check ok", status, checks)
			}

			ctx := context.Background()
			m, err := a.DB.MigrateDown(ctx)
			if err != nil || m == nil {
				t.Fatalf("MigrateDown: %v, %v", m, err)
			}
			if status, checks := ready(); status != http.StatusServiceUnavailable || checks["migrations"] != "pending" || checks["database"] != "ok" {
				t.Fatalf("after rolling back %s: %d %v, want 503 with migrations pending", m.Name, status, checks)
			}
			if _, err := a.DB.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			if status, _ := ready(); status != http.StatusOK {
				t.Fatalf("after migrating up again: %d, want 200", status)
			}

			if err := a.DB.Close(); err != nil {
				t.Fatal(err)
			}
			if status, checks := ready(); status != http.StatusServiceUnavailable || checks["database"] != "unreachable" {
				t.Fatalf("closed database: %d %v, want 503 with the database unreachable", status, checks)
			}
			if !strings.Contains(a.logs.String(), "readiness: database unreachable") {
				t.Error("an unreachable database is not logged")
			}
			// Liveness does not depend on the database.
			if res := b.Get("/healthz"); res.StatusCode != http.StatusOK {
				t.Fatalf("GET /healthz with the database closed: %d", res.StatusCode)
			}
		})
	}
}
