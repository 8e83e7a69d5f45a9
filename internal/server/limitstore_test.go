package server_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	"atrium/internal/config"
	"atrium/internal/server"
)

// blackHole accepts connections and never answers, like a Redis behind a
// dropped route; it returns a redis:// URL to it.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "redis://" + ln.Addr().String() + "/0"
}

func limiterConfig(t *testing.T, env config.Env) *config.Config {
	t.Helper()
	cfg, err := config.Load(env)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestOpenLimiterStore_BlackHoledRedis(t *testing.T) {
	t.Parallel()
	url := blackHole(t)
	rate := limiter.Rate{Period: time.Minute, Limit: 2}

	t.Run("Memory", func(t *testing.T) {
		t.Parallel()
		var logs strings.Builder
		var mu sync.Mutex
		logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
		start := time.Now()
		st, err := server.OpenLimiterStore(context.Background(), limiterConfig(t, config.Env{"REDIS_URL": url}), logger, nil)
		if err != nil {
			t.Fatalf("OpenLimiterStore with RATE_LIMIT_STORE_FAILURE=memory: %v; want a start on the memory budget", err)
		}
		defer st.Close()
		for i := 1; i <= 3; i++ {
			lc, err := st.Get(context.Background(), "ip:192.0.2.1", rate)
			if err != nil {
				t.Fatalf("Get %d: %v", i, err)
			}
			if got, want := lc.Reached, i > 2; got != want {
				t.Fatalf("Get %d: Reached=%v, want %v (the per-instance budget counts)", i, got, want)
			}
		}
		// Start, then three checks: each wait is bounded by the 300 ms
		// timeout, and after a failure Redis is not tried for a second.
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("start and three checks took %v with a black-holed Redis, want well under 1.5s", d)
		}
		mu.Lock()
		defer mu.Unlock()
		if n := strings.Count(logs.String(), "using this instance's memory budget"); n != 1 {
			t.Errorf("the fallback warning was logged %d times, want once\n%s", n, logs.String())
		}
	})

	t.Run("Closed", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		_, err := server.OpenLimiterStore(context.Background(),
			limiterConfig(t, config.Env{"REDIS_URL": url, "RATE_LIMIT_STORE_FAILURE": "closed"}), slog.New(slog.DiscardHandler), nil)
		if err == nil || !strings.Contains(err.Error(), "connect to Redis") {
			t.Fatalf("OpenLimiterStore with RATE_LIMIT_STORE_FAILURE=closed: %v, want a refusal to start", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("the refusal took %v, want about REDIS_TIMEOUT_MS (300ms)", d)
		}
	})
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
