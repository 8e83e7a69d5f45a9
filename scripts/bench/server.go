package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Secrets the server under test is started with; nothing reaches Stripe
// (STRIPE_API_BASE points at a closed port) and mail stays in the log.
const (
	webhookSecret = "whsec_bench"
	benchEmail    = "founder@example.com"
)

// server is a running "atrium serve".
type server struct {
	cmd     *exec.Cmd
	base    string
	readyMS int64
	links   chan string // magic links the stub mailer logged for benchEmail

	mu   sync.Mutex
	last []string // the last lines of output, for error reports
	done chan struct{}
}

// startServer starts the binary on dbURL with the limits raised for load,
// and waits for /readyz to answer 200.
func startServer(ctx context.Context, bin, dbURL string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--env-file", "", "serve")
	cmd.Env = append(baseEnv(),
		"APP_ENV=development", "PORT="+strconv.Itoa(port), "APP_URL="+base, "DATABASE_URL="+dbURL,
		"LOG_LEVEL=info", "RATE_LIMIT_MAX=1000000000", "LOGIN_RATE_LIMIT_MAX=1000000000",
		"API_RATE_LIMIT_MAX=1000000000", "WEBHOOK_ALLOW_PRIVATE=true",
		"STRIPE_SECRET_KEY=sk_test_bench", "STRIPE_WEBHOOK_SECRET="+webhookSecret, "STRIPE_PRICE_ID=price_bench",
		"STRIPE_API_BASE=http://127.0.0.1:9")
	// An os.Pipe rather than StdoutPipe: Wait must not close it while the
	// reader still drains the last lines.
	out, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	s := &server{cmd: cmd, base: base, links: make(chan string, 16), done: make(chan struct{})}
	start := time.Now()
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go s.read(out)
	go func() { _ = cmd.Wait(); close(s.done) }()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.readyMS = time.Since(start).Milliseconds()
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("atrium serve exited before it was ready\n%s", s.tail())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("atrium serve not ready after 2 minutes\n%s", s.tail())
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

var verifyLink = regexp.MustCompile(`https?://[^"\s\\]*/auth/verify\?token=[A-Za-z0-9_%-]+`)

// read drains the server's output, keeping the last lines and passing on
// the sign-in links mailed to benchEmail.
func (s *server) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, `"to":"`+benchEmail+`"`) {
			if link := verifyLink.FindString(line); link != "" {
				select {
				case s.links <- link:
				default:
				}
			}
		}
		s.mu.Lock()
		s.last = append(s.last, line)
		if len(s.last) > 40 {
			s.last = s.last[len(s.last)-20:]
		}
		s.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
	if c, ok := r.(io.Closer); ok {
		_ = c.Close()
	}
}

// tail returns the last lines the server wrote.
func (s *server) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "server output (last lines):\n" + strings.Join(s.last, "\n")
}

// peakRSSMB returns the server's peak resident set (VmHWM) in MiB, or 0
// where /proc is not available.
func (s *server) peakRSSMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

// stop asks the server to shut down and waits for it (killing it after
// 20 seconds).
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
