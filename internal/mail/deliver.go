package mail

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"atrium/internal/app"
	"atrium/internal/metrics"
)

// Delivery limits.
const (
	// MaxAttempts is how many failed attempts give a message up.
	MaxAttempts = 10
	// SendTimeout bounds one delivery so a slow server cannot hold a job
	// worker; the job's timeout leaves room for recording the result.
	SendTimeout = 30 * time.Second
	// markTimeout bounds recording a result, even after shutdown began.
	markTimeout = 5 * time.Second
	// firstRetry and maxRetry bound the backoff between attempts.
	firstRetry = 30 * time.Second
	maxRetry   = time.Hour
	// maxErrorLength caps the error stored with a failed attempt.
	maxErrorLength = 1000
)

// Deliverer sends one queued email and records the result in the outbox.
// The job queue calls it (internal/jobs): services store the message and
// queue its job in the transaction of the change that causes it, so the
// queue decides when an email is tried and retried, and Deliverer what a
// try does.
//
// A message keeps a stable Message-ID (derived from its outbox row), so a
// copy sent again after a crash, before its delivery was recorded, carries
// the same id and mail clients show it once. Once delivered, the stored
// bodies are cleared (MarkEmailSent).
type Deliverer struct {
	Outbox app.OutboxService
	Sender Sender
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// Metrics counts deliveries and failures; optional.
	Metrics *metrics.Metrics
}

// ErrSendFailed wraps the reason an attempt failed, for the job queue to
// schedule the next try.
type ErrSendFailed struct{ Reason string }

func (e *ErrSendFailed) Error() string { return "email not sent: " + e.Reason }

// Deliver sends the outbox message id. attempt counts this try (1 for the
// first); retryAt is when the queue tries again after a failure, zero when
// this is the last try. A message already sent (a try repeated after a
// crash) or gone is not sent again. It returns *ErrSendFailed when the
// server refused or could not be reached, and another error when the
// outbox could not be read or the result not recorded; either makes the
// queue try again.
func (d *Deliverer) Deliver(ctx context.Context, id int64, attempt int, retryAt time.Time) error {
	msg, err := d.Outbox.FindEmail(ctx, id)
	if err != nil {
		return fmt.Errorf("read email %d: %w", id, err)
	}
	if msg == nil || msg.Status != app.OutboxPending {
		return nil
	}
	logger := d.logger().With(
		slog.Int64("outbox_id", msg.ID),
		slog.String("to", app.MaskEmail(msg.Email.To)),
		slog.String("ref", msg.Email.Ref),
	)
	email := msg.Email
	if email.MessageID == "" {
		email.MessageID = fmt.Sprintf("outbox.%d.%d", msg.ID, msg.CreatedAt.UnixMicro())
	}
	sendCtx, cancel := context.WithTimeout(ctx, SendTimeout)
	sendErr := d.Sender.Send(sendCtx, email)
	cancel()
	if sendErr != nil && ctx.Err() != nil {
		// Shutdown or the job's timeout cut the send: nothing is recorded
		// and the queue tries again.
		return ctx.Err()
	}

	// Record the result even if shutdown begins now: a sent message that
	// is not marked would be sent twice.
	markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()

	if sendErr == nil {
		d.Metrics.EmailDelivered()
		logger.InfoContext(ctx, "email sent", slog.Int("attempt", attempt))
		if err := retryMark(markCtx, func() error { return d.Outbox.MarkEmailSent(markCtx, msg.ID, d.now()) }); err != nil {
			return fmt.Errorf("mark email %d sent: %w", msg.ID, err)
		}
		return nil
	}

	d.Metrics.EmailFailed()
	reason := truncate(redact(sendErr.Error(), msg.Email.To), maxErrorLength)
	logger.WarnContext(ctx, "email not sent",
		slog.Int("attempt", attempt),
		slog.Bool("giving_up", retryAt.IsZero()),
		slog.String("error", reason),
	)
	if err := retryMark(markCtx, func() error {
		return d.Outbox.MarkEmailFailed(markCtx, msg.ID, reason, retryAt)
	}); err != nil {
		return fmt.Errorf("mark email %d failed: %w", msg.ID, err)
	}
	return &ErrSendFailed{Reason: reason}
}

// retryMark records a result, trying again after 50 ms, 200 ms and 800 ms
// while ctx allows: a sent message whose row is not marked is sent again
// by the next try, and a database connection that was just cut is usually
// replaced within a moment.
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

// Backoff is the wait after the attempt-th failed attempt: 30s, 1m, 2m, …
// up to an hour.
func Backoff(attempt int) time.Duration {
	d := firstRetry
	for i := 1; i < attempt && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

// redact masks the recipient's address in an SMTP error (go-mail names the
// affected recipients) before it is logged or stored.
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

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

func (d *Deliverer) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}
