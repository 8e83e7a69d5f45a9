package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	atriummail "atrium/internal/mail"
	"atrium/internal/mail/mailtest"
)

// clock is a fake time source that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// outbox is an in-memory app.OutboxService. Attempts counts recorded
// failures; a claim hides a message until its lease ends.
type outbox struct {
	mu       sync.Mutex
	now      func() time.Time
	messages []*app.OutboxMessage
	claims   int
}

var _ app.OutboxService = (*outbox)(nil)

func newOutbox(now func() time.Time) *outbox { return &outbox{now: now} }

func (o *outbox) EnqueueEmail(_ context.Context, msg app.Email) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	o.messages = append(o.messages, &app.OutboxMessage{
		ID:            int64(len(o.messages) + 1),
		Email:         msg,
		Status:        app.OutboxPending,
		NextAttemptAt: now,
		CreatedAt:     now,
	})
	return nil
}

func (o *outbox) ClaimDueEmails(_ context.Context, now time.Time, lease time.Duration, limit int) ([]*app.OutboxMessage, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.claims++
	var due []*app.OutboxMessage
	for _, m := range o.messages {
		if len(due) == limit {
			break
		}
		if m.Status == app.OutboxPending && !m.NextAttemptAt.After(now) {
			m.NextAttemptAt = now.Add(lease)
			c := *m
			due = append(due, &c)
		}
	}
	return due, nil
}

func (o *outbox) MarkEmailSent(_ context.Context, id int64, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.messages[id-1]
	m.Status, m.SentAt = app.OutboxSent, at
	return nil
}

func (o *outbox) MarkEmailFailed(_ context.Context, id int64, errMsg string, retryAt time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.messages[id-1]
	m.Attempts++
	m.LastError = errMsg
	if retryAt.IsZero() {
		m.Status = app.OutboxFailed
	} else {
		m.NextAttemptAt = retryAt
	}
	return nil
}

// get returns a copy of message id.
func (o *outbox) get(id int64) app.OutboxMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *o.messages[id-1]
}

func (o *outbox) claimCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.claims
}

// workerSetup is a worker sending to a mailtest server, on a fake clock,
// logging JSON into logs.
type workerSetup struct {
	srv    *mailtest.Server
	clock  *clock
	outbox *outbox
	worker *atriummail.Worker
	logs   *syncBuffer
}

func newWorkerSetup(t *testing.T) *workerSetup {
	t.Helper()
	srv := mailtest.NewServer(t)
	clk := newClock()
	ob := newOutbox(clk.Now)
	logs := &syncBuffer{}
	w := atriummail.NewWorker(ob, newSender(t, srv, "", ""), slog.New(slog.NewJSONHandler(logs, nil)))
	w.Now = clk.Now
	return &workerSetup{srv: srv, clock: clk, outbox: ob, worker: w, logs: logs}
}

// syncBuffer is a bytes.Buffer safe for a logger in another goroutine.
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

// drain runs one Drain and checks its counts.
func (s *workerSetup) drain(t *testing.T, wantSent, wantFailed int) {
	t.Helper()
	sent, failed, err := s.worker.Drain(t.Context())
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if sent != wantSent || failed != wantFailed {
		t.Fatalf("Drain sent=%d failed=%d, want sent=%d failed=%d", sent, failed, wantSent, wantFailed)
	}
}

func (s *workerSetup) enqueue(t *testing.T, to string) {
	t.Helper()
	email := atriummail.MagicLinkEmail("Atrium", to, "http://localhost/auth/callback?token=abc")
	if err := s.outbox.EnqueueEmail(t.Context(), email); err != nil {
		t.Fatalf("EnqueueEmail: %v", err)
	}
}

func TestWorker_Drain(t *testing.T) {
	t.Parallel()

	t.Run("Delivers", func(t *testing.T) {
		t.Parallel()
		s := newWorkerSetup(t)
		s.enqueue(t, "jane@example.com")
		s.enqueue(t, "bob@example.com")

		s.drain(t, 2, 0)
		s.srv.WaitForMessage(t, "jane@example.com", 5*time.Second)
		s.srv.WaitForMessage(t, "bob@example.com", 5*time.Second)
		for id := int64(1); id <= 2; id++ {
			m := s.outbox.get(id)
			if m.Status != app.OutboxSent || !m.SentAt.Equal(s.clock.Now()) {
				t.Errorf("message %d: Status=%q SentAt=%v, want %q at %v", id, m.Status, m.SentAt, app.OutboxSent, s.clock.Now())
			}
		}
		s.drain(t, 0, 0) // nothing left

		logs := s.logs.String()
		if !strings.Contains(logs, `"msg":"email sent"`) || !strings.Contains(logs, `"to":"j***@example.com"`) {
			t.Errorf("logs lack a success line with the masked address:\n%s", logs)
		}
		if strings.Contains(logs, "jane@example.com") || strings.Contains(logs, "token=abc") {
			t.Errorf("logs leak the address or the link:\n%s", logs)
		}
	})

	t.Run("RetriesAfterBackoff", func(t *testing.T) {
		t.Parallel()
		s := newWorkerSetup(t)
		s.srv.FailNext(1)
		s.enqueue(t, "jane@example.com")
		start := s.clock.Now()

		s.drain(t, 0, 1)
		m := s.outbox.get(1)
		if m.Status != app.OutboxPending || m.Attempts != 1 {
			t.Fatalf("Status=%q Attempts=%d, want %q 1", m.Status, m.Attempts, app.OutboxPending)
		}
		if got, want := m.NextAttemptAt, start.Add(30*time.Second); !got.Equal(want) {
			t.Errorf("NextAttemptAt=%v, want %v", got, want)
		}
		if !strings.Contains(m.LastError, "451") {
			t.Errorf("LastError=%q, want the server's 451", m.LastError)
		}
		logs := s.logs.String()
		if !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, `"attempt":1`) ||
			!strings.Contains(logs, `"outbox_id":1`) || !strings.Contains(logs, "451") {
			t.Errorf("logs lack a warning with id, attempt and error:\n%s", logs)
		}
		if strings.Contains(logs, "jane@example.com") || strings.Contains(logs, "token=abc") {
			t.Errorf("logs leak the address or the link:\n%s", logs)
		}

		s.clock.Advance(29 * time.Second)
		s.drain(t, 0, 0) // not due yet
		s.clock.Advance(time.Second)
		s.drain(t, 1, 0)
		s.srv.WaitForMessage(t, "jane@example.com", 5*time.Second)
		if got := s.outbox.get(1).Status; got != app.OutboxSent {
			t.Errorf("Status=%q, want %q", got, app.OutboxSent)
		}
	})

	t.Run("GivesUp", func(t *testing.T) {
		t.Parallel()
		s := newWorkerSetup(t)
		s.worker.MaxAttempts = 3
		s.srv.FailNext(100)
		s.enqueue(t, "jane@example.com")

		for attempt, wait := range []time.Duration{30 * time.Second, time.Minute} {
			s.drain(t, 0, 1)
			m := s.outbox.get(1)
			if got, want := m.NextAttemptAt, s.clock.Now().Add(wait); m.Status != app.OutboxPending || !got.Equal(want) {
				t.Fatalf("after attempt %d: Status=%q NextAttemptAt=%v, want %q %v", attempt+1, m.Status, got, app.OutboxPending, want)
			}
			s.clock.Advance(wait)
		}
		s.drain(t, 0, 1)
		m := s.outbox.get(1)
		if m.Status != app.OutboxFailed || m.Attempts != 3 {
			t.Fatalf("Status=%q Attempts=%d, want %q 3", m.Status, m.Attempts, app.OutboxFailed)
		}
		s.clock.Advance(24 * time.Hour)
		s.drain(t, 0, 0)
		if got := len(s.srv.Messages()); got != 0 {
			t.Errorf("server received %d messages, want 0", got)
		}
		if !strings.Contains(s.logs.String(), `"giving_up":true`) {
			t.Errorf("logs do not say the message was given up:\n%s", s.logs.String())
		}
	})

	t.Run("ManyBatches", func(t *testing.T) {
		t.Parallel()
		s := newWorkerSetup(t)
		s.worker.Batch = 2
		for _, to := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"} {
			s.enqueue(t, to)
		}
		s.drain(t, 5, 0)
		if got := len(s.srv.Messages()); got != 5 {
			t.Errorf("server received %d messages, want 5", got)
		}
	})
}

// senderFunc is a Sender for failures a real server cannot easily stage.
type senderFunc func(ctx context.Context, msg app.Email) error

func (f senderFunc) Send(ctx context.Context, msg app.Email) error { return f(ctx, msg) }

func TestWorker_Drain_Failures(t *testing.T) {
	t.Parallel()

	t.Run("RedactsAddress", func(t *testing.T) {
		t.Parallel()
		s := newWorkerSetup(t)
		s.worker.Sender = senderFunc(func(context.Context, app.Email) error {
			return errors.New("550 5.1.1 <jane@example.com>: Recipient address rejected")
		})
		s.enqueue(t, "jane@example.com")

		s.drain(t, 0, 1)
		if got := s.outbox.get(1).LastError; !strings.Contains(got, "<jane@example.com>") {
			t.Errorf("LastError=%q, want the server's full answer", got)
		}
		logs := s.logs.String()
		if strings.Contains(logs, "jane@example.com") || !strings.Contains(logs, "<j***@example.com>: Recipient") {
			t.Errorf("logged error does not mask the address:\n%s", logs)
		}
	})

	t.Run("ShutdownMidSend", func(t *testing.T) {
		t.Parallel()
		s := newWorkerSetup(t)
		ctx, cancel := context.WithCancel(t.Context())
		s.worker.Sender = senderFunc(func(ctx context.Context, _ app.Email) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		})
		s.enqueue(t, "jane@example.com")

		sent, failed, err := s.worker.Drain(ctx)
		if !errors.Is(err, context.Canceled) || sent != 0 || failed != 0 {
			t.Fatalf("Drain=%d, %d, %v; want 0, 0, context.Canceled", sent, failed, err)
		}
		if m := s.outbox.get(1); m.Status != app.OutboxPending || m.Attempts != 0 {
			t.Errorf("Status=%q Attempts=%d, want %q 0 (the lease brings it back)", m.Status, m.Attempts, app.OutboxPending)
		}
	})
}

func TestWorker_Notify(t *testing.T) {
	t.Parallel()

	t.Run("WakesRun", func(t *testing.T) {
		t.Parallel()
		s := newWorkerSetup(t)
		s.worker.Interval = time.Hour
		s.worker.Now = time.Now // Run is real time

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.worker.Run(ctx)
		}()

		// Wait for the first, empty, pass so that only Notify can deliver.
		waitFor(t, "first drain", func() bool { return s.outbox.claimCount() >= 1 })
		s.enqueue(t, "jane@example.com")
		s.worker.Notify()
		s.srv.WaitForMessage(t, "jane@example.com", 5*time.Second)

		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context was canceled")
		}
	})

	t.Run("ZeroWorker", func(t *testing.T) {
		t.Parallel()
		var w atriummail.Worker
		w.Notify()
		w.Notify() // a second kick while one is pending must not block
	})
}

// waitFor polls cond until it holds, failing the test after five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
