package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"atrium/internal/store/storetest"
)

// clusterServices returns TEST_DATABASE_URL and TEST_REDIS_URL. Without
// them the test is skipped with the reason; under CI=true it fails.
func clusterServices(t *testing.T) (pgURL, redisURL string) {
	t.Helper()
	pgURL, redisURL = os.Getenv("TEST_DATABASE_URL"), os.Getenv("TEST_REDIS_URL")
	if pgURL != "" && redisURL != "" {
		return pgURL, redisURL
	}
	msg := "TEST_DATABASE_URL and TEST_REDIS_URL must both be set: the multi-instance tests need PostgreSQL and Redis"
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but " + msg)
	}
	t.Skip(msg)
	return "", ""
}

// clusterSchema returns the DSN of a new, empty PostgreSQL schema (dropped
// when the test ends), the way several instances share one database.
func clusterSchema(t *testing.T) string {
	t.Helper()
	_, dsn := storetest.DSN(t, "postgres")
	return dsn
}

// withParam returns dsn with a query parameter set.
func withParam(t *testing.T, dsn, key, value string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// instance is one "atrium serve" process of the built binary.
type instance struct {
	Name       string
	URL        string // the public port
	MetricsURL string // the METRICS_ADDR listener, "" when off
	Out        *syncBuffer
	cmd        *exec.Cmd
	exited     chan struct{}
	exitErr    error
}

// startInstance starts the binary's serve command with env (over a few
// defaults: a free port, no .env file) and waits for /healthz. The process
// is killed at cleanup if it still runs.
func startInstance(t *testing.T, bin, name string, env map[string]string) *instance {
	t.Helper()
	inst := launchInstance(t, bin, name, env)
	if err := inst.waitHealthy(20 * time.Second); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, inst.Out)
	}
	return inst
}

// launchInstance starts the process without waiting for it to answer.
func launchInstance(t *testing.T, bin, name string, env map[string]string) *instance {
	t.Helper()
	port := freePort(t)
	inst := &instance{Name: name, URL: "http://127.0.0.1:" + strconv.Itoa(port), Out: &syncBuffer{}, exited: make(chan struct{})}
	vars := map[string]string{
		"PATH": os.Getenv("PATH"), "PORT": strconv.Itoa(port), "APP_URL": inst.URL,
		"SHUTDOWN_TIMEOUT_SECONDS": "5", "SHUTDOWN_DRAIN_SECONDS": "0",
	}
	for k, v := range env {
		vars[k] = v
	}
	if addr := vars["METRICS_ADDR"]; addr != "" {
		inst.MetricsURL = "http://" + addr + "/metrics"
	}
	inst.cmd = exec.Command(filepath.Join(bin, "atrium"), "--env-file=", "serve")
	for k, v := range vars {
		inst.cmd.Env = append(inst.cmd.Env, k+"="+v)
	}
	inst.cmd.Stdout, inst.cmd.Stderr = inst.Out, inst.Out
	if err := inst.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { inst.exitErr = inst.cmd.Wait(); close(inst.exited) }()
	t.Cleanup(func() {
		inst.Kill()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, inst.Out)
		}
	})
	return inst
}

func (inst *instance) waitHealthy(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-inst.exited:
			return errors.New("exited before /healthz answered: " + errString(inst.exitErr))
		default:
		}
		if res, err := client.Get(inst.URL + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("/healthz did not answer 200 in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func errString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// Kill ends the process with SIGKILL, as a crash or an OOM kill would, and
// waits for it.
func (inst *instance) Kill() {
	select {
	case <-inst.exited:
		return
	default:
	}
	_ = inst.cmd.Process.Signal(syscall.SIGKILL)
	<-inst.exited
}

// Terminate sends SIGTERM, as an orchestrator does for a rollout.
func (inst *instance) Terminate(t *testing.T) {
	t.Helper()
	if err := inst.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// Wait waits up to timeout for the process to exit and returns its error.
func (inst *instance) Wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-inst.exited:
		return inst.exitErr
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v", inst.Name, timeout)
		return nil
	}
}

// logs returns the process's JSON log lines with this msg.
func (inst *instance) logs(msg string) []map[string]any {
	var out []map[string]any
	for l := range strings.Lines(inst.Out.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// httpClient is a client with a cookie jar shared by every instance (the
// cookie is for the host, whatever the port, as behind a load balancer)
// that does not follow redirects. Each client starts with an address of its
// own in X-Forwarded-For (believed with TRUSTED_PROXIES=127.0.0.1), so
// runs sharing the machine's Redis never share a rate-limit budget.
type httpClient struct {
	t   *testing.T
	hc  *http.Client
	xff string // X-Forwarded-For sent with each request, when set
}

func newHTTPClient(t *testing.T) *httpClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &httpClient{t: t, hc: &http.Client{Jar: jar, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, xff: randomIPv6()}
}

// response is an answered request with its body read.
type response struct {
	Status   int
	Header   http.Header
	Body     string
	Duration time.Duration
}

// do sends a request to base+path; a form makes it a same-origin POST.
func (c *httpClient) do(method, base, path string, form url.Values) (*response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
	}
	if c.xff != "" {
		req.Header.Set("X-Forwarded-For", c.xff)
	}
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: string(b), Duration: time.Since(start)}, nil
}

// Get fetches base+path, failing the test on a transport error.
func (c *httpClient) Get(base, path string) *response {
	c.t.Helper()
	r, err := c.do(http.MethodGet, base, path, nil)
	if err != nil {
		c.t.Fatalf("GET %s%s: %v", base, path, err)
	}
	return r
}

// Post posts a form to base+path, failing the test on a transport error.
func (c *httpClient) Post(base, path string, form url.Values) *response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	r, err := c.do(http.MethodPost, base, path, form)
	if err != nil {
		c.t.Fatalf("POST %s%s: %v", base, path, err)
	}
	return r
}

// readyz returns the status and JSON body of GET /readyz.
func readyz(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	res, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer res.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(res.Body).Decode(&v)
	return res.StatusCode, v
}

// tcpProxy forwards a loopback port to a target, and can stop doing so:
// refusing (each connection closed at once) or black-holing (accepted and
// never answered), to make a dependency go away without touching the
// machine's real server.
type tcpProxy struct {
	Addr   string
	target string
	ln     net.Listener

	mu    sync.Mutex
	mode  string // "forward", "refuse", "blackhole"
	conns map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{Addr: ln.Addr().String(), target: target, ln: ln, mode: "forward", conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.SetMode("refuse") })
	return p
}

// SetMode switches the proxy; leaving "forward" cuts every open connection.
func (p *tcpProxy) SetMode(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if mode != "forward" {
		for c := range p.conns {
			_ = c.Close()
		}
		clear(p.conns)
	}
}

func (p *tcpProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode != "forward" {
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.mu.Unlock()
		switch mode {
		case "refuse":
			_ = c.Close()
		case "blackhole":
			p.mu.Lock()
			p.conns[c] = true // closed when the mode changes
			p.mu.Unlock()
		default:
			go p.forward(c)
		}
	}
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(c, up) {
		_ = c.Close()
		_ = up.Close()
		return
	}
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
}

// hostPort returns the host:port of a postgres:// or redis:// URL.
func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// withHost returns raw with its host:port replaced.
func withHost(t *testing.T, raw, host string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host
	return u.String()
}

// openAdmin opens a connection pool on the test server for checks.
func openAdmin(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}
