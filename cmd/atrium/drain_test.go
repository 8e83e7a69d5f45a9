package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"atrium/internal/config"
)

// TestServe_DrainBeforeShutdown checks a rollout's order: when the
// process is told to stop (SIGTERM ends run's context), /readyz answers
// 503 at once while requests are still served for SHUTDOWN_DRAIN_SECONDS;
// then the server stops taking connections and the request in flight
// finishes.
func TestServe_DrainBeforeShutdown(t *testing.T) {
	t.Parallel()
	const drain = 2 * time.Second
	srv := startServe(t, config.Env{"SHUTDOWN_DRAIN_SECONDS": strconv.Itoa(int(drain / time.Second))})

	// A request in flight: headers sent, the body still to come.
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(srv.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := url.Values{"email": {"drain@example.com"}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", nil)
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		srv.Port, srv.URL, len(body))
	br := bufio.NewReader(conn)
	if cont, err := http.ReadResponse(br, req); err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("read 100 Continue: %v %v", err, cont)
	}

	stopAt := time.Now()
	srv.cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		res, err := client.Get(srv.URL + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusServiceUnavailable {
				if !strings.Contains(string(b), `"draining"`) {
					t.Errorf("/readyz while draining: %s, want status draining", b)
				}
				break
			}
		}
		if time.Since(stopAt) > drain/2 {
			t.Fatalf("/readyz did not answer 503 within %v of the stop signal (last: %v)", drain/2, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Still serving while the balancer catches up.
	c := newClient(t, srv.URL)
	if res := c.Post("/login", url.Values{"email": {"during-drain@example.com"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("POST /login during the drain: status %d, want 303", res.Status)
	}
	if res := c.Get("/healthz"); res.Status != http.StatusOK {
		t.Fatalf("/healthz during the drain: status %d, want 200 (the process is alive)", res.Status)
	}

	srv.waitForLog(t, "shutting down", drain+5*time.Second)
	if waited := time.Since(stopAt); waited < drain {
		t.Errorf("shutdown began %v after the stop signal, want at least SHUTDOWN_DRAIN_SECONDS=%v", waited, drain)
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatalf("send the body: %v", err)
	}
	res, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("in-flight POST /login: status %d, want 303", res.StatusCode)
	}
	if err := srv.Stop(t); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
}
