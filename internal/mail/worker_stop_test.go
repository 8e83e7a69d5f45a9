package mail_test

import (
	"context"
	"errors"
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
