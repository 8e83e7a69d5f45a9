package server

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-chi/chi/v5"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"atrium/internal/config"
	"atrium/internal/i18n"
)

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the JSON log lines decoded.
func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// newTestServer returns a Server with only what middleware needs: a
// logger, a config and a limiter trusting the given proxies.
func newTestServer(t *testing.T, trusted string) (*Server, *lockedBuffer) {
	t.Helper()
	cfg, err := config.Load(config.Env{"APP_ENV": "test", "TRUSTED_PROXIES": trusted})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	s := &Server{Deps: Deps{
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
		Config:  cfg,
		Limiter: NewRateLimiter(memory.NewStore(), cfg),
	}, sessionCookie: "atrium_session", catalog: i18n.MustNew(i18n.Options{})}
	return s, logs
}

func TestRecoverPanics(t *testing.T) {
	s, logs := newTestServer(t, "")
	r := chi.NewRouter()
	r.Use(s.logRequests, s.recoverPanics, s.securityHeaders)
	r.Get("/boom/{id}", func(http.ResponseWriter, *http.Request) { panic("nil map in handler") })
	ts := httptest.NewServer(r)
	defer ts.Close()

	res, err := http.Get(ts.URL + "/boom/7?secret=q")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if got, want := res.StatusCode, http.StatusInternalServerError; got != want {
		t.Fatalf("status=%d, want %d", got, want)
	}
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatal("no X-Request-Id")
	}
	if doc.Find(`[data-testid="error-page"]`).Length() == 0 {
		t.Fatal("no error page")
	}
	if got := doc.Find(`[data-testid="request-id"]`).Text(); !strings.Contains(got, id) {
		t.Fatalf("request-id on the page=%q, want it to show %q", got, id)
	}
	if strings.Contains(doc.Text(), "nil map") || strings.Contains(doc.Text(), "goroutine") {
		t.Fatal("the page shows the panic or its stack")
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Fatal("the 500 page lacks the security headers")
	}

	var panicLine, requestLine map[string]any
	for _, l := range logs.lines(t) {
		switch l["msg"] {
		case "panic":
			panicLine = l
		case "request":
			requestLine = l
		}
	}
	if panicLine == nil || panicLine["level"] != "ERROR" || panicLine["request_id"] != id ||
		panicLine["panic"] != "nil map in handler" || panicLine["route"] != "/boom/{id}" ||
		!strings.Contains(panicLine["stack"].(string), "TestRecoverPanics") {
		t.Fatalf("panic log line=%v", panicLine)
	}
	if requestLine == nil || requestLine["status"] != float64(500) || requestLine["level"] != "ERROR" ||
		requestLine["request_id"] != id || requestLine["path"] != "/boom/7" {
		t.Fatalf("request log line=%v", requestLine)
	}
	if strings.Contains(logs.String(), "secret=q") {
		t.Fatal("the query string reached the log")
	}

	// The server goes on serving.
	res2, err := http.Get(ts.URL + "/boom/8")
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusInternalServerError || res2.Header.Get("X-Request-Id") == id {
		t.Fatalf("second panic: status %d, id %q", res2.StatusCode, res2.Header.Get("X-Request-Id"))
	}
}

func TestRecoverPanics_AbortHandler(t *testing.T) {
	s, logs := newTestServer(t, "")
	h := s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler passed on to net/http", v)
		}
		if strings.Contains(logs.String(), `"msg":"panic"`) {
			t.Fatal("a deliberate abort was logged as a panic")
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
}

func TestLogRequests_RedactsTokens(t *testing.T) {
	s, logs := newTestServer(t, "")
	r := chi.NewRouter()
	r.Use(s.logRequests)
	r.Get("/invites/{token}", func(w http.ResponseWriter, r *http.Request) {})
	ts := httptest.NewServer(r)
	defer ts.Close()

	const token = "AbcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
	for _, path := range []string{
		"/invites/" + token,
		// The same token with one letter percent-encoded reaches the same route.
		"/invites/%41" + token[1:],
	} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Cookie", "atrium_session="+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	out := logs.String()
	if strings.Contains(out, token[1:]) || strings.Contains(out, "Cookie") {
		t.Fatalf("the token or the cookie reached the log:\n%s", out)
	}
	if n := strings.Count(out, `"path":"/invites/[redacted]"`); n != 2 {
		t.Fatalf("%d redacted paths logged, want 2:\n%s", n, out)
	}
}

func TestClientIP(t *testing.T) {
	cases := []struct {
		name, trusted, peer string
		xff                 []string
		want                string
	}{
		{"DirectClient", "", "192.0.2.1:5000", nil, "192.0.2.1"},
		{"DirectClientForgesHeader", "", "192.0.2.1:5000", []string{"203.0.113.9"}, "192.0.2.1"},
		{"UntrustedPeerForgesHeader", "10.0.0.0/8", "192.0.2.1:5000", []string{"203.0.113.9"}, "192.0.2.1"},
		{"BehindProxy", "10.0.0.0/8", "10.0.0.5:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"ProxyWithoutHeader", "10.0.0.0/8", "10.0.0.5:5000", nil, "10.0.0.5"},
		{"PrependedFakeHop", "10.0.0.0/8", "10.0.0.5:5000", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"PrependedFakeHeader", "10.0.0.0/8", "10.0.0.5:5000", []string{"198.51.100.1", "203.0.113.9"}, "203.0.113.9"},
		{"TwoProxies", "10.0.0.0/8", "10.0.0.5:5000", []string{"198.51.100.1, 203.0.113.9, 10.0.0.7"}, "203.0.113.9"},
		{"AllHopsTrusted", "10.0.0.0/8", "10.0.0.5:5000", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},
		{"GarbageHop", "10.0.0.0/8", "10.0.0.5:5000", []string{"garbage"}, "10.0.0.5"},
		{"GarbageBeforeClient", "10.0.0.0/8", "10.0.0.5:5000", []string{"garbage, 203.0.113.9"}, "203.0.113.9"},
		{"Spaces", "10.0.0.0/8", "10.0.0.5:5000", []string{"  203.0.113.9  "}, "203.0.113.9"},
		{"MappedHop", "10.0.0.0/8", "10.0.0.5:5000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"IPv6Hop", "10.0.0.0/8", "10.0.0.5:5000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv6Peer", "", "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"MappedPeer", "", "[::ffff:192.0.2.1]:443", nil, "192.0.2.1"},
		{"TrustedIPv6Proxy", "2001:db8:ffff::/48", "[2001:db8:ffff::1]:443", []string{"192.0.2.44"}, "192.0.2.44"},
		{"UnparsablePeer", "", "nonsense", nil, "0.0.0.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestServer(t, tc.trusted)
			r := httptest.NewRequest(http.MethodPost, "/login", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.Limiter.ClientIP(r).String(); got != tc.want {
				t.Fatalf("ClientIP=%s, want %s", got, tc.want)
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	s, _ := newTestServer(t, "")
	key := func(remote string) string {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = remote
		return clientKey(s.Limiter.ClientIP(r))
	}
	same := [][2]string{
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:2"},
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:2:abcd::1%eth0]:2"},
		{"192.0.2.1:1", "192.0.2.1:2"},
		{"192.0.2.1:1", "[::ffff:192.0.2.1]:2"},
	}
	for _, p := range same {
		if a, b := key(p[0]), key(p[1]); a != b {
			t.Errorf("%s and %s have keys %q and %q, want one", p[0], p[1], a, b)
		}
	}
	different := [][2]string{
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:3::1]:1"},
		{"[2001:db8:1:2::1]:1", "[2001:db9:1:2::1]:1"},
		{"192.0.2.1:1", "192.0.2.2:1"},
		{"[::ffff:192.0.2.1]:1", "[::ffff:192.0.2.2]:1"},
	}
	for _, p := range different {
		if a, b := key(p[0]), key(p[1]); a == b {
			t.Errorf("%s and %s share the key %q", p[0], p[1], a)
		}
	}
	if got, want := clientKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")), "ip:2001:db8:1:2::/64"; got != want {
		t.Errorf("clientKey=%q, want %q", got, want)
	}
}

func TestRetryAfterText(t *testing.T) {
	for in, want := range map[string]string{
		"":      "",
		"abc":   "",
		"0":     "",
		"-5":    "",
		"1":     "1 second",
		"2":     "2 seconds",
		"89":    "89 seconds",
		"90":    "2 minutes",
		"300":   "5 minutes",
		"301":   "6 minutes",
		"86400": "1,440 minutes",
	} {
		if got := retryAfterText(englishContext(t), in); got != want {
			t.Errorf("retryAfterText(%q)=%q, want %q", in, got, want)
		}
	}
}
