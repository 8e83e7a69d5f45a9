package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"atrium/internal/config"
	"atrium/internal/mail/mailtest"
)

// shutdownTimeout is the SHUTDOWN_TIMEOUT_SECONDS the serve tests use.
const shutdownTimeout = 5 * time.Second

// firstWorkspacePath is where /app sends a signed-in user who belongs to no
// workspace yet, as everyone does right after their first sign-in.
const firstWorkspacePath = "/workspaces/new"

// testServer is "atrium serve" running through run() in a goroutine.
type testServer struct {
	URL    string // APP_URL, http://127.0.0.1:PORT
	Port   int
	Stdout *syncBuffer // the JSON log
	Stderr *syncBuffer // the banner and configuration errors

	cancel context.CancelFunc
	done   chan error // receives run's result, once
	err    error      // run's result, after Stop
	ended  bool
}

// startServe runs "atrium serve" with env on a free port of 127.0.0.1 and a
// fresh SQLite file (unless env names a database), waits until /healthz
// answers, and stops the server when the test ends.
func startServe(t *testing.T, env config.Env) *testServer {
	t.Helper()
	dir := t.TempDir()
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		e := config.Env{
			"PORT":                     strconv.Itoa(port),
			"APP_URL":                  "http://127.0.0.1:" + strconv.Itoa(port),
			"DATABASE_URL":             "sqlite:" + filepath.Join(dir, "atrium.db"),
			"SHUTDOWN_TIMEOUT_SECONDS": strconv.Itoa(int(shutdownTimeout / time.Second)),
			"SHUTDOWN_DRAIN_SECONDS":   "0",
		}
		for k, v := range env {
			e[k] = v
		}
		s := &testServer{URL: e["APP_URL"], Port: port, Stdout: &syncBuffer{}, Stderr: &syncBuffer{},
			done: make(chan error, 1)}
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		go func() { s.done <- run(ctx, []string{"--env-file=", "serve"}, e, s.Stdout, s.Stderr) }()

		// Start-up migrates a fresh database under the race detector; on a
		// shared 2-core machine running other builds that took over 10 s.
		err := s.waitHealthy(30 * time.Second)
		if err == nil {
			t.Cleanup(func() {
				if err := s.Stop(t); err != nil {
					t.Errorf("serve returned %v at cleanup", err)
				}
				if t.Failed() {
					t.Logf("serve stdout:\n%s\nserve stderr:\n%s", s.Stdout, s.Stderr)
				}
			})
			return s
		}
		s.cancel()
		// Another process may have taken the port between freePort and
		// run's own Listen; try another one.
		if strings.Contains(err.Error(), "listen on PORT=") && attempt < 3 {
			t.Logf("attempt %d: %v; retrying on another port", attempt, err)
			continue
		}
		t.Fatalf("serve did not become healthy: %v\nstdout:\n%s\nstderr:\n%s", err, s.Stdout, s.Stderr)
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitHealthy polls GET /healthz until it answers 200, run returns, or
// timeout passes.
func (s *testServer) waitHealthy(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-s.done:
			s.ended, s.err = true, err
			return fmt.Errorf("run returned before /healthz answered: %v", err)
		default:
		}
		res, err := client.Get(s.URL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET /healthz: no 200 within %v (last error: %v)", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop cancels run's context, as SIGINT would, and returns run's result. It
// fails the test if run does not return within the shutdown timeout (plus
// a margin). Calling it again returns the same result.
func (s *testServer) Stop(t *testing.T) error {
	t.Helper()
	if s.ended {
		return s.err
	}
	s.cancel()
	select {
	case s.err = <-s.done:
		s.ended = true
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatalf("run did not return within %v of the context ending", shutdownTimeout+5*time.Second)
	}
	return s.err
}

// logLines parses the JSON log lines on stdout, failing the test on a line
// that is not a JSON object.
func (s *testServer) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.Lines(s.Stdout.String()) {
		if strings.TrimSpace(l) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("stdout line is not a JSON object: %v\n%s", err, l)
		}
		out = append(out, m)
	}
	return out
}

// waitForLog waits up to timeout for a log line whose msg starts with
// prefix and returns it.
func (s *testServer) waitForLog(t *testing.T, prefix string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, l := range s.logLines(t) {
			if msg, _ := l["msg"].(string); strings.HasPrefix(msg, prefix) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q within %v:\n%s", prefix, timeout, s.Stdout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logIndex returns the position of the first log line with this msg, or -1.
func logIndex(lines []map[string]any, msg string) int {
	for i, l := range lines {
		if l["msg"] == msg {
			return i
		}
	}
	return -1
}

// requestLink asks for a sign-in link for email and checks the "check your
// email" page.
func requestLink(t *testing.T, c *client, email string) {
	t.Helper()
	res := c.Post("/login", url.Values{"email": {email}})
	if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login/sent") {
		t.Fatalf("POST /login: status %d, Location %q; want 303 to /login/sent\n%s", res.Status, res.Location, res.Body)
	}
	sent := c.Follow(res)
	if got := sent.Text("check-email-address"); sent.Status != http.StatusOK || got != email {
		t.Fatalf("check-email page: status %d, address %q; want 200, %q\n%s", sent.Status, got, email, sent.Body)
	}
}

// followLink opens a sign-in link, presses "Sign in" and checks where a new
// user lands: the name step, whose Skip goes on to /app, which sends
// someone without a workspace on to create their first one, with their
// email in the header.
func followLink(t *testing.T, c *client, link, email string) {
	t.Helper()
	if !strings.HasPrefix(link, c.base+"/auth/verify?token=") {
		t.Fatalf("sign-in link %q does not point to %s/auth/verify", link, c.base)
	}
	verify := c.Get(link)
	if verify.Status != http.StatusOK || !verify.Has("verify-submit") {
		t.Fatalf("GET sign-in link: status %d, want 200 with a verify-submit button\n%s", verify.Status, verify.Body)
	}
	res := c.Submit(verify, "verify-submit")
	if res.Status != http.StatusSeeOther || res.Location != "/welcome" {
		t.Fatalf("POST /auth/verify: status %d, Location %q; want 303 to the name step\n%s", res.Status, res.Location, res.Body)
	}
	if step := c.Get(res.Location); step.Status != http.StatusOK || !step.Has("name-step-skip") {
		t.Fatalf("GET /welcome: status %d, want 200 with Skip\n%s", step.Status, step.Body)
	}
	res = c.Post("/welcome", url.Values{"skip": {"1"}})
	if res.Status != http.StatusSeeOther || res.Location != "/app" {
		t.Fatalf("skip the name step: status %d, Location %q; want 303 to /app\n%s", res.Status, res.Location, res.Body)
	}
	landing := c.Get(res.Location)
	if landing.Status != http.StatusSeeOther || landing.Location != firstWorkspacePath {
		t.Fatalf("GET /app: status %d, Location %q; want 303 to %s\n%s", landing.Status, landing.Location, firstWorkspacePath, landing.Body)
	}
	home := c.Follow(landing)
	if home.Status != http.StatusOK || !home.Has("workspace-new") || !home.Has("workspace-first-intro") {
		t.Fatalf("GET %s: status %d, want 200 with the first-workspace form\n%s", firstWorkspacePath, home.Status, home.Body)
	}
	if got := home.Text("nav-email"); !strings.Contains(got, email) {
		t.Fatalf("nav-email=%q, want it to show %q", got, email)
	}
}

// TestServe_SignIn runs the binary's serve command with real SMTP and signs
// in over HTTP with the emailed magic link, then stops it as SIGINT would.
func TestServe_SignIn(t *testing.T) {
	t.Parallel()
	smtp := mailtest.NewServer(t)
	srv := startServe(t, config.Env{
		"SMTP_HOST": smtp.Host(),
		"SMTP_PORT": strconv.Itoa(smtp.Port()),
		"SMTP_TLS":  "none",
		"SMTP_FROM": "Atrium <no-reply@atrium.test>",
	})

	c := newClient(t, srv.URL)
	if ready := c.Get("/readyz"); ready.Status != http.StatusOK {
		t.Fatalf("GET /readyz: status %d, want 200\n%s", ready.Status, ready.Body)
	}

	const email = "ada@example.com"
	requestLink(t, c, email)
	msg := smtp.WaitForMessage(t, email, 10*time.Second)
	links := msg.Links()
	if len(links) == 0 {
		t.Fatalf("sign-in email has no link:\n%s", msg.Text)
	}
	followLink(t, c, links[0], email)

	if err := srv.Stop(t); err != nil {
		t.Fatalf("run returned %v after the context ended, want nil", err)
	}
	lines := srv.logLines(t)
	started, stopped := logIndex(lines, "server started"), logIndex(lines, "server stopped")
	if started < 0 || stopped < started {
		t.Fatalf("log lacks \"server started\" followed by \"server stopped\":\n%s", srv.Stdout)
	}
	if got, want := lines[started]["mail"], "smtp"; got != want {
		t.Errorf("server started: mail=%v, want %q", got, want)
	}
	if logIndex(lines, "request") < 0 {
		t.Errorf("log has no request lines:\n%s", srv.Stdout)
	}
	// With a real mail server, the link goes only to the inbox.
	token := strings.TrimPrefix(links[0], srv.URL+"/auth/verify?token=")
	if strings.Contains(srv.Stdout.String(), token) {
		t.Errorf("the log holds the sign-in token:\n%s", srv.Stdout)
	}
	if want := "Atrium " + version + " is running at " + srv.URL; !strings.Contains(srv.Stderr.String(), want) {
		t.Errorf("banner lacks %q:\n%s", want, srv.Stderr)
	}
}

// TestServe_StubModeSignIn follows the README: without SMTP_HOST the
// sign-in link is in the "email not sent (stub mode ...)" log line, and it
// works.
func TestServe_StubModeSignIn(t *testing.T) {
	t.Parallel()
	srv := startServe(t, config.Env{})
	if want := "Mail is in stub mode"; !strings.Contains(srv.Stderr.String(), want) {
		t.Errorf("banner lacks %q:\n%s", want, srv.Stderr)
	}

	c := newClient(t, srv.URL)
	const email = "grace@example.com"
	requestLink(t, c, email)
	line := srv.waitForLog(t, "email not sent (stub mode", 10*time.Second)
	if got := line["to"]; got != email {
		t.Errorf("stub mail line: to=%v, want %q", got, email)
	}
	links, _ := line["links"].([]any)
	if len(links) == 0 {
		t.Fatalf("stub mail line has no links: %v", line)
	}
	link, _ := links[0].(string)
	followLink(t, c, link, email)

	if err := srv.Stop(t); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
	if lines := srv.logLines(t); logIndex(lines, "server stopped") < 0 {
		t.Errorf("log lacks \"server stopped\":\n%s", srv.Stdout)
	}
}

// TestServe_GracefulShutdown checks that a request in a handler when the
// context ends still gets its answer, and that run waits for it. The
// request is held in the handler by sending its body only after shutdown
// has begun: "Expect: 100-continue" tells the test when the handler is
// reading the body.
func TestServe_GracefulShutdown(t *testing.T) {
	t.Parallel()
	srv := startServe(t, config.Env{})

	body := url.Values{"email": {"linus@example.com"}}.Encode()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(srv.Port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		srv.Port, srv.URL, len(body))
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("read 100 Continue: %v", err)
	}
	if cont.StatusCode != http.StatusContinue {
		t.Fatalf("status %d before the body was sent, want 100", cont.StatusCode)
	}

	// The handler is now reading the body. Stop the server, and wait until
	// it no longer accepts connections: shutdown has begun.
	srv.cancel()
	srv.waitForLog(t, "shutting down", 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(srv.Port), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 5s after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-srv.done:
		srv.ended, srv.err = true, err
		t.Fatalf("run returned (%v) while a request was in flight", err)
	default:
	}

	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatalf("send the body: %v", err)
	}
	res, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("read the response of the in-flight request: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login/sent") {
		t.Fatalf("in-flight POST /login: status %d, Location %q; want 303 to /login/sent", res.StatusCode, res.Header.Get("Location"))
	}
	if !res.Close {
		t.Errorf("response during shutdown does not close the connection")
	}

	if err := srv.Stop(t); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
	lines := srv.logLines(t)
	if logIndex(lines, "server stopped") < 0 {
		t.Errorf("log lacks \"server stopped\":\n%s", srv.Stdout)
	}
	var sawRequest bool
	for _, l := range lines {
		if l["msg"] == "request" && l["path"] == "/login" && l["method"] == http.MethodPost {
			sawRequest = true
			if got, want := l["status"], float64(http.StatusSeeOther); got != want {
				t.Errorf("logged status %v for the in-flight request, want %v", got, want)
			}
		}
	}
	if !sawRequest {
		t.Errorf("the in-flight request was not logged:\n%s", srv.Stdout)
	}
}
