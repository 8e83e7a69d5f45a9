package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"atrium/internal/app"
	"atrium/internal/metrics"
)

// Worker defaults, used for zero fields.
const (
	// DefaultInterval is how often Run polls the outbox.
	DefaultInterval = 5 * time.Second
	// DefaultLease is how long a claimed message stays claimed.
	DefaultLease = 2 * time.Minute
	// DefaultBatch is how many messages one claim takes.
	DefaultBatch = 20
	// DefaultMaxAttempts is how many failed attempts give a message up.
	DefaultMaxAttempts = 10
)

const (
	// sendTimeout bounds one delivery so a slow server cannot stall the loop.
	sendTimeout = 30 * time.Second
	// markTimeout bounds recording a result, even after shutdown began.
	markTimeout = 5 * time.Second
	// firstRetry and maxRetry bound the backoff between attempts.
	firstRetry = 30 * time.Second
	maxRetry   = time.Hour
	// maxErrorLength caps the error stored with a failed attempt.
	maxErrorLength = 1000
)

// Worker delivers the emails queued in an outbox. Services enqueue mail in
// their own transactions and call Notify; the worker claims due messages,
// sends them and records each result, retrying failures with exponential
// backoff.
//
// A message's Attempts counts the failed attempts already recorded
// (MarkEmailFailed adds one); after the n-th the worker retries in
// 30s·2^(n-1), at most an hour, and gives up after MaxAttempts.
//
// Zero fields take the defaults above; Now defaults to time.Now and Logger
// to a logger that discards. Do not change fields once Run has started.
type Worker struct {
	Outbox app.OutboxService
	Sender Sender
	Logger *slog.Logger
	Now    func() time.Time
	// Interval is how often Run polls the outbox when not notified.
	Interval time.Duration
	// Lease is how long a claimed message is hidden from other workers.
	Lease time.Duration
	// Batch is how many messages one claim takes.
	Batch int
	// MaxAttempts is how many failed attempts give a message up.
	MaxAttempts int
	// Metrics counts deliveries and failures; optional.
	Metrics *metrics.Metrics

	kickOnce sync.Once
	kick     chan struct{}
	stopInit sync.Once
	stopOnce sync.Once
	stop     chan struct{}
}

// NewWorker returns a Worker with the default settings.
func NewWorker(outbox app.OutboxService, sender Sender, logger *slog.Logger) *Worker {
	w := &Worker{
		Outbox:      outbox,
		Sender:      sender,
		Logger:      logger,
		Now:         time.Now,
		Interval:    DefaultInterval,
		Lease:       DefaultLease,
		Batch:       DefaultBatch,
		MaxAttempts: DefaultMaxAttempts,
	}
	w.kickChan()
	return w
}

// Notify asks a running worker to drain the outbox now instead of at the
// next poll. It never blocks, and a notification sent before Run starts is
// kept until it does.
func (w *Worker) Notify() {
	select {
	case w.kickChan() <- struct{}{}:
	default: // a kick is already pending
	}
}

// Run drains the outbox, then waits for Interval or a Notify, until ctx is
// done or Stop is called.
func (w *Worker) Run(ctx context.Context) {
	kick := w.kickChan()
	stop := w.stopChan()
	timer := time.NewTimer(w.interval())
	defer timer.Stop()
	for {
		if _, _, err := w.Drain(ctx); err != nil && ctx.Err() == nil {
			w.logger().ErrorContext(ctx, "drain outbox", slog.Any("error", err))
		}
		timer.Reset(w.interval())
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-timer.C:
		case <-kick:
		}
	}
}

// Stop asks Run and Drain to return once the message being sent now is
// sent and recorded, for a graceful shutdown; canceling their context
// instead abandons that message to its lease.
func (w *Worker) Stop() {
	ch := w.stopChan()
	w.stopOnce.Do(func() { close(ch) })
}

func (w *Worker) stopping() bool {
	select {
	case <-w.stopChan():
		return true
	default:
		return false
	}
}

// Drain sends every message that is due, in batches, and reports how many
// were sent and how many failed. It returns early with an error when the
// outbox cannot be read or ctx is done; a result that cannot be recorded is
// reported in err after the pass.
func (w *Worker) Drain(ctx context.Context) (sent, failed int, err error) {
	var errs []error
	for ctx.Err() == nil && !w.stopping() {
		claimedAt := w.now()
		msgs, err := w.Outbox.ClaimDueEmails(ctx, claimedAt, w.lease(), w.batch())
		if err != nil {
			errs = append(errs, fmt.Errorf("claim due emails: %w", err))
			break
		}
		// Leave the rest of a slow batch once its lease could run out
		// mid-send; another worker could claim and send it a second time.
		// The lease expires and the next claim picks those messages up.
		leaseEnd := claimedAt.Add(w.lease() - w.sendTimeout())
		for i, msg := range msgs {
			if i > 0 && (w.now().After(leaseEnd) || w.stopping()) {
				return sent, failed, errors.Join(errs...)
			}
			ok, err := w.deliver(ctx, msg)
			if err != nil {
				errs = append(errs, err)
			}
			switch {
			case ok:
				sent++
			case ctx.Err() == nil:
				failed++
			}
			if ctx.Err() != nil {
				break
			}
		}
		if len(msgs) < w.batch() {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return sent, failed, errors.Join(errs...)
}

// deliver sends one message and records the result. It reports whether the
// message was sent; err is set when the result could not be recorded. When
// ctx ends during the send nothing is recorded: the lease runs out and the
// message is tried again.
func (w *Worker) deliver(ctx context.Context, msg *app.OutboxMessage) (ok bool, err error) {
	logger := w.logger().With(
		slog.Int64("outbox_id", msg.ID),
		slog.String("to", app.MaskEmail(msg.Email.To)),
		slog.String("ref", msg.Email.Ref),
	)
	email := msg.Email
	if email.MessageID == "" {
		email.MessageID = fmt.Sprintf("outbox.%d.%d", msg.ID, msg.CreatedAt.UnixMicro())
	}
	sendCtx, cancel := context.WithTimeout(ctx, w.sendTimeout())
	sendErr := w.Sender.Send(sendCtx, email)
	cancel()
	if sendErr != nil && ctx.Err() != nil {
		return false, nil
	}

	// Record the result even if shutdown begins now: a sent message that
	// is not marked would be sent twice.
	markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()

	if sendErr == nil {
		w.Metrics.EmailDelivered()
		logger.InfoContext(ctx, "email sent")
		if err := retryMark(markCtx, func() error { return w.Outbox.MarkEmailSent(markCtx, msg.ID, w.now()) }); err != nil {
			return true, fmt.Errorf("mark email %d sent: %w", msg.ID, err)
		}
		return true, nil
	}

	w.Metrics.EmailFailed()
	attempt := msg.Attempts + 1
	var retryAt time.Time
	if attempt < w.maxAttempts() {
		retryAt = w.now().Add(backoff(attempt))
	}
	logger.WarnContext(ctx, "email not sent",
		slog.Int("attempt", attempt),
		slog.Bool("giving_up", retryAt.IsZero()),
		slog.String("error", redact(sendErr.Error(), msg.Email.To)),
	)
	if err := retryMark(markCtx, func() error {
		return w.Outbox.MarkEmailFailed(markCtx, msg.ID, truncate(sendErr.Error(), maxErrorLength), retryAt)
	}); err != nil {
		return false, fmt.Errorf("mark email %d failed: %w", msg.ID, err)
	}
	return false, nil
}

// retryMark records a result, trying again after 50 ms, 200 ms and 800 ms
// while ctx allows: a sent message whose row is not marked is sent again
// once its lease ends, and a database connection that was just cut is
// usually replaced within a moment.
func retryMark(ctx context.Context, mark func() error) error {
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := mark()
		if err == nil || attempt == 4 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 4
	}
}

// backoff is the wait after the attempt-th failed attempt: 30s, 1m, 2m, …
// up to an hour.
func backoff(attempt int) time.Duration {
	d := firstRetry
	for i := 1; i < attempt && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

// redact masks the recipient's address in an SMTP error (go-mail names the
// affected recipients) before it is logged.
func redact(errMsg, to string) string {
	if to == "" {
		return errMsg
	}
	return strings.ReplaceAll(errMsg, to, app.MaskEmail(to))
}

// truncate shortens s to at most n bytes without splitting a UTF-8
// sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (w *Worker) kickChan() chan struct{} {
	w.kickOnce.Do(func() { w.kick = make(chan struct{}, 1) })
	return w.kick
}

func (w *Worker) stopChan() chan struct{} {
	w.stopInit.Do(func() { w.stop = make(chan struct{}) })
	return w.stop
}

// sendTimeout bounds one send: 30 s, or half the lease when the lease is
// shorter than a minute, so a send always ends while its lease holds.
func (w *Worker) sendTimeout() time.Duration { return min(sendTimeout, w.lease()/2) }

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

func (w *Worker) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

func (w *Worker) interval() time.Duration {
	if w.Interval <= 0 {
		return DefaultInterval
	}
	return w.Interval
}

func (w *Worker) lease() time.Duration {
	if w.Lease <= 0 {
		return DefaultLease
	}
	return w.Lease
}

func (w *Worker) batch() int {
	if w.Batch <= 0 {
		return DefaultBatch
	}
	return w.Batch
}

func (w *Worker) maxAttempts() int {
	if w.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return w.MaxAttempts
}
