package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"atrium/internal/app"
	"atrium/internal/jobs"
	"atrium/internal/mail"
	"atrium/internal/mail/mailtest"
	"atrium/internal/outbound"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// setup is a database, a real SMTP server and a runner over them.
type setup struct {
	db     *store.DB
	smtp   *mailtest.Server
	outbox *store.OutboxService
	logs   *logBuffer
	sender mail.Sender
}

func newSetup(t *testing.T, db *store.DB) *setup {
	t.Helper()
	srv := mailtest.NewServer(t)
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: "none",
		From: "Atrium <no-reply@atrium.test>"})
	if err != nil {
		t.Fatal(err)
	}
	return &setup{db: db, smtp: srv, outbox: store.NewOutboxService(db), logs: &logBuffer{}, sender: sender}
}

// start runs a runner until the test ends.
func (s *setup) start(t *testing.T, sender mail.Sender) *jobs.Runner {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(s.logs, nil))
	r, err := jobs.New(s.db.JobDriver(), jobs.Deps{
		Mail:        &mail.Deliverer{Outbox: s.outbox, Sender: sender, Logger: logger},
		Housekeeper: s.db,
		Webhooks:    store.NewWebhookService(s.db, make([]byte, 32), outbound.Options{}),
	}, jobs.Config{PollInterval: 50 * time.Millisecond, RescueAfter: time.Minute, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(5 * time.Second) })
	return r
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func emailStatus(t *testing.T, ob *store.OutboxService, id int64) *app.OutboxMessage {
	t.Helper()
	m, err := ob.FindEmail(context.Background(), id)
	if err != nil || m == nil {
		t.Fatalf("FindEmail(%d) = %v, %v", id, m, err)
	}
	return m
}

// onlyEmail returns the id of the one message in the outbox.
func onlyEmail(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var id int64
	if err := db.SQL().QueryRow("SELECT id FROM mail_outbox").Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSendEmail_Delivers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s := newSetup(t, db)
		s.start(t, s.sender)
		if err := s.outbox.EnqueueEmail(context.Background(), app.Email{To: "ada@example.com", Subject: "Your link",
			Text: "Open https://atrium.test/auth/verify?token=secret", Ref: "login"}); err != nil {
			t.Fatal(err)
		}
		msg := s.smtp.WaitForMessage(t, "ada@example.com", 10*time.Second)
		id := onlyEmail(t, db)
		waitFor(t, "the delivery to be recorded", func() bool { return emailStatus(t, s.outbox, id).Status == app.OutboxSent })
		m := emailStatus(t, s.outbox, id)
		if m.Email.Text != "" || m.Email.HTML != "" {
			t.Errorf("the delivered email kept its body: %+v", m.Email)
		}
		wantID := "outbox." + itoa(id) + "." + itoa(m.CreatedAt.UnixMicro())
		if got := msg.Header.Get("Message-Id"); !strings.Contains(got, wantID) {
			t.Errorf("Message-Id %q, want the stable %q", got, wantID)
		}
	})
}

// TestSendEmail_RetriesThenDelivers: a server that refuses the first
// attempt gets the message on the next one, delivered once, with the
// failure recorded in between and the retry scheduled 30 s out.
func TestSendEmail_RetriesThenDelivers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s := newSetup(t, db)
		s.smtp.FailNext(1)
		r := s.start(t, s.sender)
		ctx := context.Background()
		if err := s.outbox.EnqueueEmail(ctx, app.Email{To: "bob@example.com", Subject: "Hi", Text: "x"}); err != nil {
			t.Fatal(err)
		}
		id := onlyEmail(t, db)
		waitFor(t, "the failed attempt to be recorded", func() bool { return emailStatus(t, s.outbox, id).Attempts == 1 })
		m := emailStatus(t, s.outbox, id)
		if m.Status != app.OutboxPending || m.LastError == "" {
			t.Fatalf("after a refused attempt: %+v, want pending with the error", m)
		}
		if wait := time.Until(m.NextAttemptAt); wait < 20*time.Second || wait > 40*time.Second {
			t.Errorf("next attempt in %s, want about 30 s", wait)
		}
		job := sendJob(t, r)
		waitFor(t, "the job to wait for its retry", func() bool {
			j, err := r.Client().JobGet(ctx, job.ID)
			return err == nil && j.State == rivertype.JobStateRetryable
		})
		// An operator's `atrium jobs retry` runs it now.
		if _, err := r.Client().JobRetry(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		s.smtp.WaitForMessage(t, "bob@example.com", 10*time.Second)
		waitFor(t, "the delivery to be recorded", func() bool { return emailStatus(t, s.outbox, id).Status == app.OutboxSent })
		if m := emailStatus(t, s.outbox, id); m.Attempts != 2 || m.LastError != "" {
			t.Errorf("after the retry: attempts %d, error %q; want 2 and none", m.Attempts, m.LastError)
		}
		if n := len(s.smtp.Messages()); n != 1 {
			t.Errorf("%d messages received, want 1", n)
		}
	})
}

// TestSendEmail_GivesUp: the last attempt records the message as failed.
func TestSendEmail_GivesUp(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s := newSetup(t, db)
		s.smtp.FailNext(100)
		r := s.start(t, s.sender)
		ctx := context.Background()
		if err := s.outbox.EnqueueEmail(ctx, app.Email{To: "gone@example.com", Subject: "Hi", Text: "x"}); err != nil {
			t.Fatal(err)
		}
		id := onlyEmail(t, db)
		job := sendJob(t, r)
		for attempt := 1; attempt < mail.MaxAttempts; attempt++ {
			waitFor(t, "a failed attempt", func() bool { return emailStatus(t, s.outbox, id).Attempts == attempt })
			waitFor(t, "the retry to be scheduled", func() bool {
				j, err := r.Client().JobGet(ctx, job.ID)
				return err == nil && j.State == rivertype.JobStateRetryable
			})
			if _, err := r.Client().JobRetry(ctx, job.ID); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "the message to be given up", func() bool { return emailStatus(t, s.outbox, id).Status == app.OutboxFailed })
		waitFor(t, "the job to be discarded", func() bool {
			j, err := r.Client().JobGet(ctx, job.ID)
			return err == nil && j.State == rivertype.JobStateDiscarded
		})
		if m := emailStatus(t, s.outbox, id); m.Attempts != mail.MaxAttempts {
			t.Errorf("attempts %d, want %d", m.Attempts, mail.MaxAttempts)
		}
	})
}

// TestSendEmail_StopFinishesCurrentMessage: a graceful stop lets the
// email being sent finish and be recorded.
func TestSendEmail_StopFinishesCurrentMessage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s := newSetup(t, db)
		sending, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		slow := senderFunc(func(ctx context.Context, msg app.Email) error {
			once.Do(func() { close(sending) })
			<-release
			return s.sender.Send(ctx, msg)
		})
		logger := slog.New(slog.DiscardHandler)
		r, err := jobs.New(db.JobDriver(), jobs.Deps{
			Mail: &mail.Deliverer{Outbox: s.outbox, Sender: slow, Logger: logger}, Housekeeper: db,
			Webhooks: store.NewWebhookService(db, make([]byte, 32), outbound.Options{}),
		}, jobs.Config{PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.outbox.EnqueueEmail(context.Background(), app.Email{To: "first@example.com", Subject: "Hi", Text: "x"}); err != nil {
			t.Fatal(err)
		}
		<-sending
		stopped := make(chan struct{})
		go func() { r.Stop(10 * time.Second); close(stopped) }()
		time.Sleep(100 * time.Millisecond)
		close(release)
		select {
		case <-stopped:
		case <-time.After(15 * time.Second):
			t.Fatal("Stop did not return")
		}
		if m := emailStatus(t, s.outbox, onlyEmail(t, db)); m.Status != app.OutboxSent {
			t.Errorf("the email being sent at Stop: status %q, want sent", m.Status)
		}
	})
}

// TestHousekeeping_OncePerHour: the leader queues housekeeping when it
// starts; a second instance starting within the hour does not run it again.
func TestHousekeeping_OncePerHour(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s := newSetup(t, db)
		first := s.start(t, s.sender)
		waitFor(t, "housekeeping to run", func() bool { return s.logs.count(`"msg":"housekeeping ran"`) == 1 })
		first.Stop(5 * time.Second)
		s.start(t, s.sender)
		time.Sleep(2 * time.Second)
		if n := s.logs.count(`"msg":"housekeeping ran"`); n != 1 {
			t.Errorf("housekeeping ran %d times, want once in the hour", n)
		}
		var n int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = 'housekeeping'").Scan(&n); err != nil || n != 1 {
			t.Errorf("%d housekeeping jobs (%v), want 1", n, err)
		}
	})
}

// keeperFunc is a Housekeeper from a function.
type keeperFunc func(ctx context.Context) ([]slog.Attr, error)

func (f keeperFunc) Housekeep(ctx context.Context) ([]slog.Attr, error) { return f(ctx) }

// TestHousekeepingWorker works housekeeping jobs the way River works them
// (the store's own pass is TestDB_PurgeExpired, the schedule
// TestHousekeeping_OncePerHour): a pass logs what it deleted, and a pass
// that fails leaves the job to be retried and logs nothing as done.
func TestHousekeepingWorker(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		work := func(keeper jobs.Housekeeper) (*rivertest.WorkResult, *logBuffer, error) {
			logs := &logBuffer{}
			worker := &jobs.HousekeepingWorker{Keeper: keeper, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
			w := rivertest.NewWorker(t, db.JobDriver(), &river.Config{}, worker)
			tx, err := db.SQL().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			res, err := w.Work(ctx, t, tx, jobs.Housekeeping{}, nil)
			return res, logs, err
		}

		res, logs, err := work(keeperFunc(func(context.Context) ([]slog.Attr, error) {
			return []slog.Attr{slog.Int64("sessions", 3)}, nil
		}))
		if err != nil || res.EventKind != river.EventKindJobCompleted {
			t.Fatalf("a good pass ended as %v (%v), want completed", res, err)
		}
		if logs.count(`"msg":"housekeeping ran"`) != 1 || logs.count(`"sessions":3`) != 1 {
			t.Errorf("the log does not say what the pass deleted: %s", logs.buf.String())
		}

		res, logs, err = work(keeperFunc(func(context.Context) ([]slog.Attr, error) {
			return nil, errors.New("purge sessions: the database is gone")
		}))
		if err == nil || res.EventKind != river.EventKindJobFailed || res.Job.State == rivertype.JobStateDiscarded ||
			len(res.Job.Errors) != 1 || !strings.Contains(res.Job.Errors[0].Error, "the database is gone") {
			t.Fatalf("a failed pass ended as %s/%s (%v), want failed, kept for a retry, with its error", res.EventKind, res.Job.State, err)
		}
		if logs.count("housekeeping ran") != 0 {
			t.Errorf("a failed pass was logged as done: %s", logs.buf.String())
		}
	})
}

func sendJob(t *testing.T, r *jobs.Runner) *rivertype.JobRow {
	t.Helper()
	res, err := r.Client().JobList(context.Background(), river.NewJobListParams().Kinds("send_email"))
	if err != nil || len(res.Jobs) != 1 {
		t.Fatalf("send_email jobs: %d, %v; want 1", len(res.Jobs), err)
	}
	return res.Jobs[0]
}

type senderFunc func(ctx context.Context, msg app.Email) error

func (f senderFunc) Send(ctx context.Context, msg app.Email) error { return f(ctx, msg) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
