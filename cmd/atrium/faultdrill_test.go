package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/internal/mail/mailtest"
)

// TestFaultDrill_PostgresConnectionsKilled kills the app's PostgreSQL
// backends (pg_terminate_backend) under load, then makes the database
// unreachable and brings it back: requests fail cleanly with a 503 page or
// succeed, never a 500 or a dropped connection, new requests succeed
// without a restart, and /readyz follows the database.
func TestFaultDrill_PostgresConnectionsKilled(t *testing.T) {
	pgURL, redisURL := clusterServices(t)
	bin := buildAtrium(t)
	dsn := clusterSchema(t)
	admin := openAdmin(t, pgURL)
	smtp := mailtest.NewServer(t)
	proxy := newTCPProxy(t, hostPort(t, dsn))
	appName := "atrium_drill_" + randomSuffix()
	appDSN := withParam(t, withHost(t, dsn, proxy.Addr), "application_name", appName)
	inst := startInstance(t, bin, "drill", with(clusterEnv(appDSN, redisURL, "", smtp), "APP_URL", "", "RATE_LIMIT_MAX", "100000"))

	user := newHTTPClient(t)
	user.xff = randomIPv6()
	signIn(t, user, inst.URL, smtp, "drill-"+randomSuffix()+"@example.com")

	terminate := func() int {
		var n int
		if err := admin.QueryRow("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
			appName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Load: signed-in page views and sign-in requests from 4 clients while
	// the backends are killed three times.
	var mu sync.Mutex
	statuses := map[int]int{}
	var transportErrs []error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	run := randomSuffix()
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var res *response
				var err error
				if (g+i)%2 == 0 {
					res, err = user.do(http.MethodGet, inst.URL, "/settings/account", nil)
				} else {
					c := newHTTPClient(t)
					c.xff = randomIPv6()
					res, err = c.do(http.MethodPost, inst.URL, "/login", url.Values{"email": {fmt.Sprintf("load%d-%d-%s@example.com", g, i, run)}})
				}
				mu.Lock()
				if err != nil {
					transportErrs = append(transportErrs, err)
				} else {
					statuses[res.Status]++
					if res.Status == http.StatusServiceUnavailable && !strings.Contains(res.Body, "Temporarily unavailable") {
						transportErrs = append(transportErrs, fmt.Errorf("503 without the error page: %.200s", res.Body))
					}
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond) // steady load, not a CPU hog on a shared machine
			}
		})
	}
	killed := 0
	for range 3 {
		time.Sleep(400 * time.Millisecond)
		killed += terminate()
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("killed %d backends; statuses under load: %v", killed, statuses)
	if killed == 0 {
		t.Fatal("no backend of the app was found to kill")
	}
	for _, err := range transportErrs {
		t.Errorf("request under load: %v", err)
	}
	for status, n := range statuses {
		if status != http.StatusOK && status != http.StatusSeeOther && status != http.StatusServiceUnavailable {
			t.Errorf("%d answers with status %d; want only 200, 303 or a clean 503", n, status)
		}
	}
	if !signedIn(t, user, inst.URL) {
		t.Fatal("after the kills a new request failed: the app needs a restart")
	}

	// The database goes away: /readyz says so, pages answer 503.
	proxy.SetMode("refuse")
	if st, body := readyz(t, inst.URL); st != http.StatusServiceUnavailable || checks(body)["database"] != "unreachable" {
		t.Fatalf("/readyz with the database unreachable: %d %v, want 503 naming the database", st, body)
	}
	if res := user.Get(inst.URL, "/settings/account"); res.Status != http.StatusServiceUnavailable {
		t.Fatalf("a page with the database unreachable: status %d, want 503", res.Status)
	}
	// It comes back: no restart needed.
	proxy.SetMode("forward")
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, body := readyz(t, inst.URL)
		if st == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the database came back: %d %v, want 200", st, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !signedIn(t, user, inst.URL) {
		t.Fatal("after the database came back the session page failed")
	}
	if strings.Contains(inst.Out.String(), `"msg":"panic"`) {
		t.Errorf("the log records a panic:\n%s", inst.Out)
	}
}

// checks returns the "checks" object of a /readyz body.
func checks(body map[string]any) map[string]any {
	c, _ := body["checks"].(map[string]any)
	return c
}

// TestFaultDrill_Redis makes Redis unreachable, then black-holed, under
// both settings of RATE_LIMIT_STORE_FAILURE, through a proxy the test
// controls (the machine's Redis keeps running for other tests).
func TestFaultDrill_Redis(t *testing.T) {
	_, redisURL := clusterServices(t)
	bin := buildAtrium(t)
	dsn := clusterSchema(t)
	smtp := mailtest.NewServer(t)
	proxy := newTCPProxy(t, hostPort(t, redisURL))
	env := with(clusterEnv(dsn, withHost(t, redisURL, proxy.Addr), "", smtp), "APP_URL", "", "RATE_LIMIT_MAX", "100000")
	metricsAddr := freeAddr(t)
	closed := startInstance(t, bin, "closed", with(env, "RATE_LIMIT_STORE_FAILURE", "closed"))
	memory := startInstance(t, bin, "memory", with(env, "RATE_LIMIT_STORE_FAILURE", "memory", "METRICS_ADDR", metricsAddr))
	c := newHTTPClient(t)
	c.xff = randomIPv6()
	post := func(inst *instance) *response {
		t.Helper()
		return c.Post(inst.URL, "/logout", nil)
	}
	for _, inst := range []*instance{closed, memory} {
		if st, body := readyz(t, inst.URL); st != http.StatusOK || checks(body)["redis"] != "ok" {
			t.Fatalf("%s: /readyz with Redis up: %d %v, want 200 and redis ok", inst.Name, st, body)
		}
		if res := post(inst); res.Status != http.StatusSeeOther {
			t.Fatalf("%s: POST with Redis up: status %d, want 303", inst.Name, res.Status)
		}
	}

	// A bound of the timeout (300 ms) with room for a busy machine.
	const bound = time.Second
	for _, mode := range []string{"refuse", "blackhole"} {
		proxy.SetMode(mode)
		t.Run(mode, func(t *testing.T) {
			st, body := readyz(t, closed.URL)
			if st != http.StatusServiceUnavailable || checks(body)["redis"] != "unreachable" {
				t.Errorf("closed: /readyz: %d %v, want 503 naming redis", st, body)
			}
			for i := range 3 {
				if res := post(closed); res.Status != http.StatusServiceUnavailable || res.Duration > bound {
					t.Errorf("closed: POST %d: status %d in %v, want 503 within %v", i, res.Status, res.Duration, bound)
				}
			}
			st, body = readyz(t, memory.URL)
			if st != http.StatusOK || checks(body)["redis"] != "unreachable" || body["status"] != "degraded" {
				t.Errorf("memory: /readyz: %d %v, want 200, degraded, redis unreachable", st, body)
			}
			for i := range 3 {
				if res := post(memory); res.Status != http.StatusSeeOther || res.Duration > bound {
					t.Errorf("memory: POST %d: status %d in %v, want 303 (per-instance budget) within %v", i, res.Status, res.Duration, bound)
				}
			}
		})
	}

	proxy.SetMode("forward")
	deadline := time.Now().Add(5 * time.Second)
	for _, inst := range []*instance{closed, memory} {
		for {
			st, body := readyz(t, inst.URL)
			if st == http.StatusOK && checks(body)["redis"] == "ok" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /readyz after Redis came back: %d %v", inst.Name, st, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(1100 * time.Millisecond) // past the one-second pause after a failure
	for _, inst := range []*instance{closed, memory} {
		if res := post(inst); res.Status != http.StatusSeeOther {
			t.Errorf("%s: POST after Redis came back: status %d, want 303", inst.Name, res.Status)
		}
	}

	if n := len(memory.logs("Redis rate-limit store failed; using this instance's memory budget (logged at most once a minute)")); n != 1 {
		t.Errorf("memory: the fallback warning was logged %d times, want once (at most once a minute)", n)
	}
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(b), "atrium_rate_limit_store_fallbacks_total 0") ||
		!strings.Contains(string(b), "atrium_rate_limit_store_fallbacks_total ") {
		t.Errorf("memory: the fallbacks are not counted in the metrics")
	}
}
