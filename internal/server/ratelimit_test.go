package server_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"atrium/internal/config"
	"atrium/internal/server"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
	"atrium/internal/wire"
)

func TestRateLimit_StateChangingRequests(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("RATE_LIMIT_MAX", "10"))
	b := a.newBrowser(t)

	// Reading pages costs nothing.
	for range 25 {
		if res := b.Get("/login"); res.StatusCode != http.StatusOK {
			t.Fatalf("GET /login: status %d", res.StatusCode)
		}
	}
	for i := 1; i <= 10; i++ {
		res := b.Post("/logout", nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %d of 10: status %d, want 303", i, res.StatusCode)
		}
		if got, want := res.Header.Get("X-RateLimit-Remaining"), strconv.Itoa(10-i); got != want {
			t.Fatalf("POST %d: X-RateLimit-Remaining=%q, want %q", i, got, want)
		}
	}

	res := b.Post("/logout", nil)
	assertTooMany(t, "POST 11", res, 10, a.Cfg.RateLimitWindow)
	if !strings.Contains(a.logs.String(), "rate limit reached") {
		t.Error("the refusal is not logged")
	}

	// Over budget, the site can still be read.
	if res := b.Get("/login"); res.StatusCode != http.StatusOK {
		t.Fatalf("GET /login over budget: status %d", res.StatusCode)
	}

	// A client talking to the server directly cannot claim another address.
	for _, xff := range []string{"203.0.113.77", "198.51.100.1, 203.0.113.78", "2001:db8::1"} {
		forged := a.newBrowser(t)
		forged.Headers.Set("X-Forwarded-For", xff)
		forged.Headers.Set("X-Real-IP", xff)
		assertTooMany(t, "forged X-Forwarded-For "+xff, forged.Post("/logout", nil), 10, a.Cfg.RateLimitWindow)
	}
}

// assertTooMany checks that res is the readable 429 page with the headers a
// client needs to back off.
func assertTooMany(t *testing.T, name string, res *response, limit int, window time.Duration) {
	t.Helper()
	if got, want := res.StatusCode, http.StatusTooManyRequests; got != want {
		t.Fatalf("%s: status=%d, want %d\n%s", name, got, want, res.Body)
	}
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > int(window/time.Second) {
		t.Errorf("%s: Retry-After=%q, want whole seconds from 1 to %d", name, res.Header.Get("Retry-After"), int(window/time.Second))
	}
	if got, want := res.Header.Get("X-RateLimit-Limit"), strconv.Itoa(limit); got != want {
		t.Errorf("%s: X-RateLimit-Limit=%q, want %q", name, got, want)
	}
	if got, want := res.Header.Get("X-RateLimit-Remaining"), "0"; got != want {
		t.Errorf("%s: X-RateLimit-Remaining=%q, want %q", name, got, want)
	}
	if !res.Has("error-page") || res.Text("error-status") != "429" || !strings.HasPrefix(res.Text("retry-after"), "Try again in ") {
		t.Errorf("%s: no readable 429 page with retry text:\n%s", name, res.Body)
	}
}

func TestRateLimit_TrustedProxy(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("RATE_LIMIT_MAX", "10", "TRUSTED_PROXIES", "127.0.0.1"))
	client := func(xff ...string) *browser {
		b := a.newBrowser(t)
		for _, v := range xff {
			b.Headers.Add("X-Forwarded-For", v)
		}
		return b
	}
	alice := client("203.0.113.1")
	for i := 1; i <= 10; i++ {
		if res := alice.Post("/logout", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("alice POST %d: status %d", i, res.StatusCode)
		}
	}
	assertTooMany(t, "alice POST 11", alice.Post("/logout", nil), 10, a.Cfg.RateLimitWindow)

	// Another client behind the same proxy has its own budget.
	if res := client("203.0.113.2").Post("/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob behind the proxy: status %d, want 303", res.StatusCode)
	}
	if res := a.newBrowser(t).Post("/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a direct client: status %d, want 303", res.StatusCode)
	}

	// Alice prepends a made-up hop; the proxy appends her real address, the
	// rightmost one it did not add itself, and that is what counts.
	for name, b := range map[string]*browser{
		"prepended hop":       client("198.51.100.7, 203.0.113.1"),
		"prepended header":    client("198.51.100.8", "203.0.113.1"),
		"second proxy":        client("198.51.100.9, 203.0.113.1, 127.0.0.1"),
		"garbage before real": client("not-an-ip, 203.0.113.1"),
	} {
		assertTooMany(t, name, b.Post("/logout", nil), 10, a.Cfg.RateLimitWindow)
	}
}

func TestRateLimit_MagicLinkPerEmail(t *testing.T) {
	a := newTestApp(t, "sqlite")
	limit := a.Cfg.LoginRateLimitMax
	b := a.newBrowser(t)
	for i := 1; i <= limit; i++ {
		if res := b.Post("/login", url.Values{"email": {"flood@example.com"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("request %d of %d: status %d, want 303", i, limit, res.StatusCode)
		}
	}
	// The same address in another case, from another browser, is the same budget.
	res := a.newBrowser(t).Post("/login", url.Values{"email": {" FLOOD@Example.com "}})
	assertTooMany(t, "request over the per-email limit", res, limit, a.Cfg.LoginRateLimitWindow)

	if res := b.Post("/login", url.Values{"email": {"calm@example.com"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another address: status %d, want 303", res.StatusCode)
	}
	a.SMTP.WaitForMessage(t, "calm@example.com", 5*time.Second)
	for range limit {
		a.SMTP.WaitForMessage(t, "flood@example.com", 5*time.Second)
	}
	n := 0
	for _, m := range a.SMTP.Messages() {
		if strings.Join(m.To, ",") == "flood@example.com" {
			n++
		}
	}
	if n != limit {
		t.Fatalf("%d emails to the flooded address, want %d", n, limit)
	}
}

// failingStore is a limiter store whose every call fails for keys that
// fail selects, like Redis going away; other keys go to a memory store.
type failingStore struct {
	limiter.Store
	fail func(key string) bool
}

var errStoreDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (s failingStore) Get(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	if s.fail(key) {
		return limiter.Context{}, errStoreDown
	}
	return s.Store.Get(ctx, key, rate)
}

func (s failingStore) Peek(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	if s.fail(key) {
		return limiter.Context{}, errStoreDown
	}
	return s.Store.Peek(ctx, key, rate)
}

func (s failingStore) Reset(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	if s.fail(key) {
		return limiter.Context{}, errStoreDown
	}
	return s.Store.Reset(ctx, key, rate)
}

func (s failingStore) Increment(ctx context.Context, key string, n int64, rate limiter.Rate) (limiter.Context, error) {
	if s.fail(key) {
		return limiter.Context{}, errStoreDown
	}
	return s.Store.Increment(ctx, key, n, rate)
}

// startInstance starts another Atrium process over db with its own limiter
// store, the way a second instance behind a load balancer would run. It has
// no mail worker: queued mail stays in the outbox.
func startInstance(t *testing.T, db *store.DB, ls limiter.Store, kv ...string) *testApp {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	env := config.Env{"APP_ENV": "test", "APP_URL": base}
	withEnv(kv...)(env)
	cfg, err := config.Load(env)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	atrium, err := wire.New(context.Background(), wire.Options{Config: cfg, DB: db, Logger: logger, LimitStore: ls,
		TwoFactorKey: testTwoFactorKey})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = atrium.Handler
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		if t.Failed() {
			t.Logf("server log of %s:\n%s", base, logs.String())
		}
	})
	return &testApp{URL: base, DB: db, Cfg: cfg, logs: logs}
}

func TestRateLimit_StoreDown(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(key string) bool
		post func(b *browser) *response
	}{
		{"Everything", func(string) bool { return true }, func(b *browser) *response { return b.Post("/logout", nil) }},
		{"PerEmail", func(k string) bool { return strings.HasPrefix(k, "login:") },
			func(b *browser) *response { return b.Post("/login", url.Values{"email": {"down@example.com"}}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.Open(t, "sqlite")
			ls := failingStore{Store: memory.NewStore(), fail: tc.fail}
			a := startInstance(t, db, ls)
			b := a.newBrowser(t)

			res := tc.post(b)
			if got, want := res.StatusCode, http.StatusServiceUnavailable; got != want {
				t.Fatalf("status=%d, want %d\n%s", got, want, res.Body)
			}
			if !res.Has("error-page") || res.Text("error-status") != "503" {
				t.Fatalf("no readable 503 page:\n%s", res.Body)
			}
			id := res.Header.Get("X-Request-Id")
			if id == "" || !strings.Contains(res.Text("request-id"), id) {
				t.Errorf("the page does not show the request id %q: %q", id, res.Text("request-id"))
			}
			if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs < 1 {
				t.Errorf("Retry-After=%q, want whole seconds", res.Header.Get("Retry-After"))
			}
			if strings.Contains(res.Body, errStoreDown.Error()) || strings.Contains(res.Body, "6379") {
				t.Error("the page shows the store's error")
			}
			logs := a.logs.String()
			if !strings.Contains(logs, "rate limiter unavailable") || !strings.Contains(logs, errStoreDown.Error()) ||
				!strings.Contains(logs, id) {
				t.Errorf("no log line with the store's error and request id:\n%s", logs)
			}

			// The server is still up, and pages still answer.
			if res := b.Get("/login"); res.StatusCode != http.StatusOK {
				t.Fatalf("GET /login while the store is down: %d", res.StatusCode)
			}
			if n := countOutbox(t, db); n != 0 {
				t.Fatalf("%d emails queued while the limiter was down", n)
			}
		})
	}
}

// countOutbox returns how many emails wait in the outbox.
func countOutbox(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow("SELECT count(*) FROM mail_outbox").Scan(&n); err != nil {
		t.Fatalf("count outbox: %v", err)
	}
	return n
}

func TestRateLimit_RedisSharedAcrossInstances(t *testing.T) {
	redisURL := os.Getenv("TEST_REDIS_URL")
	if redisURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_REDIS_URL is not set: the shared Redis rate-limit test must run in CI")
		}
		t.Skip("TEST_REDIS_URL is not set: skipping the shared Redis rate-limit test")
	}
	db := storetest.Open(t, "sqlite")
	instance := func() *testApp {
		ls, closeStore, err := server.NewLimiterStore(context.Background(), redisURL)
		if err != nil {
			t.Fatalf("NewLimiterStore(TEST_REDIS_URL): %v", err)
		}
		t.Cleanup(func() { _ = closeStore() })
		return startInstance(t, db, ls, "RATE_LIMIT_MAX", "10", "TRUSTED_PROXIES", "127.0.0.1")
	}
	one, two := instance(), instance()
	// A random /64 per run: parallel runs against one Redis never share a key.
	client := func(a *testApp, ip string) *browser {
		b := a.newBrowser(t)
		b.Headers.Set("X-Forwarded-For", ip)
		return b
	}
	ip := randomIPv6()
	clients := []*browser{client(one, ip), client(two, ip)}
	for i := 1; i <= 10; i++ {
		res := clients[i%2].Post("/logout", nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %d: status %d, want 303", i, res.StatusCode)
		}
		if got, want := res.Header.Get("X-RateLimit-Remaining"), strconv.Itoa(10-i); got != want {
			t.Fatalf("POST %d: X-RateLimit-Remaining=%q, want %q: the instances do not share a budget", i, got, want)
		}
	}
	for i, b := range clients {
		assertTooMany(t, fmt.Sprintf("instance %d, POST 11", i+1), b.Post("/logout", nil), 10, one.Cfg.RateLimitWindow)
	}
	if res := client(two, randomIPv6()).Post("/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another client: status %d, want 303", res.StatusCode)
	}

	// The per-email budget of one network is shared too.
	email := "redis-" + randomHex(6) + "@example.com"
	limit := one.Cfg.LoginRateLimitMax
	ip = randomIPv6()
	for i := 1; i <= limit; i++ {
		a := []*testApp{one, two}[i%2]
		if res := client(a, ip).Post("/login", url.Values{"email": {email}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("magic link %d of %d: status %d, want 303", i, limit, res.StatusCode)
		}
	}
	assertTooMany(t, "magic link over the limit", client(one, ip).Post("/login", url.Values{"email": {email}}),
		limit, one.Cfg.LoginRateLimitWindow)

	// So is the per-address ceiling: from other networks, through either
	// instance, no more than LoginAddressMax emails are queued.
	for i := 0; i < one.Cfg.LoginAddressMax; i++ {
		a := []*testApp{one, two}[i%2]
		if res := client(a, randomIPv6()).Post("/login", url.Values{"email": {email}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("magic link from a new network %d: status %d, want 303", i, res.StatusCode)
		}
	}
	if got, want := countOutbox(t, db), one.Cfg.LoginAddressMax; got != want {
		t.Fatalf("%d emails queued, want the per-address ceiling %d", got, want)
	}
}

// randomIPv6 returns an address in a random /64 of 2001:db8::/32, the
// documentation prefix.
func randomIPv6() string {
	h := randomHex(4)
	return "2001:db8:" + h[:4] + ":" + h[4:] + "::1"
}
