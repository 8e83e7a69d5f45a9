package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/mail/mailtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
	"atrium/internal/wire"
)

// testApp is a running Atrium: the real handler over a real database, with
// mail going through the outbox worker to a real SMTP server.
type testApp struct {
	URL   string
	DB    *store.DB
	SMTP  *mailtest.Server
	Cfg   *config.Config
	Clock *clock
	logs  *syncBuffer
}

// clock is a settable clock shared by the server and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type appOption func(env config.Env)

// testWriteTimeout, given to withEnv, sets the test server's
// WriteTimeout (a Go duration).
const testWriteTimeout = "TEST_HTTP_WRITE_TIMEOUT"

func withEnv(kv ...string) appOption {
	return func(env config.Env) {
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
	}
}

// newTestApp starts Atrium on the dialect's database.
func newTestApp(t testing.TB, dialect string, opts ...appOption) *testApp {
	t.Helper()
	db := storetest.Open(t, dialect)
	smtpSrv := mailtest.NewServer(t)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	env := config.Env{
		"APP_ENV":   "test",
		"APP_URL":   base,
		"SMTP_HOST": smtpSrv.Host(),
		"SMTP_PORT": itoa(smtpSrv.Port()),
		"SMTP_TLS":  "none",
		"SMTP_FROM": "Atrium <no-reply@atrium.test>",
		// Mail queued by a request goes out within a tenth of a second.
		"JOB_POLL_INTERVAL_MS": "100",
	}
	for _, o := range opts {
		o(env)
	}
	// testWriteTimeout is no setting of the app: it sets the test
	// server's WriteTimeout, as serve sets its http.Server's.
	if v := env[testWriteTimeout]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		ts.Config.WriteTimeout = d
		delete(env, testWriteTimeout)
	}
	cfg, err := config.Load(env)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := &clock{t: time.Now().UTC()}
	db.Now = clk.Now

	// withEnv("SMTP_HOST", "") puts mail in stub mode, as in development;
	// STRIPE_SECRET_KEY turns billing on and STRIPE_API_BASE points it at
	// a stripe-mock.
	atrium, err := wire.New(context.Background(), wire.Options{Config: cfg, DB: db, Logger: logger, Now: clk.Now,
		TwoFactorKey: testTwoFactorKey})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = atrium.Handler
	if err := atrium.Jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		atrium.Jobs.Stop(5 * time.Second)
		_ = atrium.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testApp{URL: base, DB: db, SMTP: smtpSrv, Cfg: cfg, Clock: clk, logs: logs}
}

func itoa(n int) string { return strconv.Itoa(n) }

// browser is a cookie-keeping client that behaves like a same-origin form
// post from a real browser and does not follow redirects by itself.
type browser struct {
	t      testing.TB
	app    *testApp
	client *http.Client
	// Origin is sent with POSTs; tests change it to play a foreign site.
	Origin string
	// Headers are added to every request.
	Headers http.Header
}

func (a *testApp) newBrowser(t testing.TB) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, app: a, Origin: a.URL, Headers: http.Header{},
		client: &http.Client{Jar: jar, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a finished response with its body read and parsed.
type response struct {
	*http.Response
	Body string
	Doc  *goquery.Document
}

// Location returns the redirect target's path and query.
func (r *response) Location() string { return r.Header.Get("Location") }

// Text returns the trimmed text of the first element matching a data-testid.
func (r *response) Text(testID string) string {
	return strings.TrimSpace(r.Doc.Find(`[data-testid="` + testID + `"]`).First().Text())
}

// Has reports whether an element with the data-testid exists.
func (r *response) Has(testID string) bool {
	return r.Doc.Find(`[data-testid="`+testID+`"]`).Length() > 0
}

func (b *browser) do(req *http.Request) *response {
	b.t.Helper()
	for k, vs := range b.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		b.t.Fatalf("parse %s: %v", req.URL, err)
	}
	return &response{Response: res, Body: string(body), Doc: doc}
}

func (b *browser) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return b.app.URL + path
}

// Get fetches a page without following redirects.
func (b *browser) Get(path string) *response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.url(path), nil)
	req.Header.Set("Sec-Fetch-Site", "none")
	return b.do(req)
}

// Post submits a form the way a browser on Origin would.
func (b *browser) Post(path string, form url.Values) *response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.Origin != "" {
		req.Header.Set("Origin", b.Origin)
		if b.Origin == b.app.URL {
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		} else {
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}
	}
	return b.do(req)
}

// Follow follows redirects from res until a page answers.
func (b *browser) Follow(res *response) *response {
	b.t.Helper()
	for i := 0; i < 10 && res.StatusCode >= 300 && res.StatusCode < 400; i++ {
		res = b.Get(res.Location())
	}
	return res
}

// Submit posts the form found by a data-testid selector inside res with
// its hidden and filled-in values, overridden by extra.
func (b *browser) Submit(res *response, formTestID string, extra url.Values) *response {
	b.t.Helper()
	form := res.Doc.Find(`form[data-testid="` + formTestID + `"]`)
	if form.Length() == 0 {
		form = res.Doc.Find(`[data-testid="` + formTestID + `"]`).Closest("form")
	}
	if form.Length() == 0 {
		b.t.Fatalf("no form %q on the page:\n%s", formTestID, res.Body)
	}
	action, _ := form.Attr("action")
	vals := url.Values{}
	form.Find("input[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v, _ := s.Attr("value")
		vals.Set(name, v)
	})
	for k, v := range extra {
		vals[k] = v
	}
	return b.Post(action, vals)
}

// signIn runs the whole magic-link journey for email and returns the page
// the browser lands on, skipping the name step a new user meets
// (TestNameStep covers it).
func (b *browser) signIn(email string) *response {
	b.t.Helper()
	res := b.signInSteps(email)
	if res.Has("name-step") {
		res = b.Follow(b.Submit(res, "name-step-skip", url.Values{"skip": {"1"}}))
	}
	return res
}

// signInSteps is signIn stopping at the first page after the sign-in.
func (b *browser) signInSteps(email string) *response {
	b.t.Helper()
	res := b.Post("/login", url.Values{"email": {email}})
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("POST /login: status %d, want 303\n%s", res.StatusCode, res.Body)
	}
	msg := b.app.SMTP.WaitForMessageMatching(b.t, strings.ToLower(strings.TrimSpace(email)), 5*time.Second,
		mailtest.LinkTo(b.app.URL+"/auth/verify"))
	links := msg.Links()
	if len(links) == 0 {
		b.t.Fatalf("sign-in email has no link:\n%s", msg.Text)
	}
	page := b.Get(links[0])
	if page.StatusCode != http.StatusOK {
		b.t.Fatalf("GET magic link: status %d\n%s", page.StatusCode, page.Body)
	}
	return b.Follow(b.Submit(page, "verify-submit", nil))
}

// auditActions returns the actions recorded for a user, newest first.
func (a *testApp) auditActions(t *testing.T, userID int64) []string {
	t.Helper()
	entries, err := store.NewAuditService(a.DB).FindAuditEntries(context.Background(), app.AuditFilter{ActorID: userID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

// testTwoFactorKey seals authenticator secrets in server tests.
var testTwoFactorKey = []byte("0123456789abcdef0123456789abcdef")
