package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
)

// TestWorker_StopFinishesCurrentMessage checks a graceful stop: the email
// being sent is sent and recorded, the next one stays queued, and Run
// returns.
func TestWorker_StopFinishesCurrentMessage(t *testing.T) {
	t.Parallel()
	s := newWorkerSetup(t)
	sending := make(chan struct{})
	release := make(chan struct{})
	inner := s.worker.Sender
	calls := 0
	s.worker.Sender = senderFunc(func(ctx context.Context, msg app.Email) error {
		calls++
		if calls == 1 {
			close(sending)
			<-release
		}
		return inner.Send(ctx, msg)
	})
	s.enqueue(t, "first@example.com")
	s.enqueue(t, "second@example.com")

	done := make(chan struct{})
	go func() {
		defer close(done)
		s.worker.Run(t.Context())
	}()
	<-sending
	s.worker.Stop()
	close(release)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Stop")
	}
	if m := s.outbox.get(1); m.Status != app.OutboxSent {
		t.Errorf("the email being sent at Stop: status %q, want %q", m.Status, app.OutboxSent)
	}
	if m := s.outbox.get(2); m.Status != app.OutboxPending || m.Attempts != 0 {
		t.Errorf("the next email: status %q attempts %d, want %q 0 (left for the next worker)", m.Status, m.Attempts, app.OutboxPending)
	}
	s.srv.WaitForMessage(t, "first@example.com", time.Second)
}

// flakyMarks fails the first MarkEmailSent, as a cut database connection
// would.
type flakyMarks struct {
	app.OutboxService
	failed bool
}

func (f *flakyMarks) MarkEmailSent(ctx context.Context, id int64, at time.Time) error {
	if !f.failed {
		f.failed = true
		return errors.New("FATAL: terminating connection due to administrator command (SQLSTATE 57P01)")
	}
	return f.OutboxService.MarkEmailSent(ctx, id, at)
}

// TestWorker_MarkSentRetried checks that a sent email whose row could not
// be marked at the first try is marked at the next, instead of being sent
// again when its lease ends.
func TestWorker_MarkSentRetried(t *testing.T) {
	t.Parallel()
	s := newWorkerSetup(t)
	s.worker.Outbox = &flakyMarks{OutboxService: s.worker.Outbox}
	s.enqueue(t, "jane@example.com")
	s.drain(t, 1, 0)
	if m := s.outbox.get(1); m.Status != app.OutboxSent {
		t.Fatalf("status %q after a failed first mark, want %q", m.Status, app.OutboxSent)
	}
}

// lostMarks never records a delivery, as when the process dies right
// after the SMTP server accepted the message.
type lostMarks struct{ app.OutboxService }

func (lostMarks) MarkEmailSent(context.Context, int64, time.Time) error {
	return errors.New("connection lost")
}

// TestWorker_ResendKeepsMessageID checks that an email sent again after
// its delivery went unrecorded carries the same Message-ID, so the
// recipient's mail client shows it once.
func TestWorker_ResendKeepsMessageID(t *testing.T) {
	t.Parallel()
	s := newWorkerSetup(t)
	s.worker.Outbox = lostMarks{s.worker.Outbox}
	s.enqueue(t, "jane@example.com")
	if _, _, err := s.worker.Drain(t.Context()); err == nil {
		t.Fatal("Drain reported no error for a delivery it could not record")
	}
	s.clock.Advance(s.worker.Lease + time.Second)
	_, _, _ = s.worker.Drain(t.Context())

	first := s.srv.WaitForMessage(t, "jane@example.com", time.Second)
	second := s.srv.WaitForMessage(t, "jane@example.com", time.Second)
	id := first.Header.Get("Message-Id")
	if id == "" || id != second.Header.Get("Message-Id") || !strings.HasPrefix(id, "<outbox.1.") {
		t.Fatalf("Message-IDs %q and %q, want one stable <outbox.1.…> id", id, second.Header.Get("Message-Id"))
	}
}
