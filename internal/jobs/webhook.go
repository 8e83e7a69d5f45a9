package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// QueueWebhooks is the queue of outgoing webhook deliveries: a slow
// receiver holds one of its workers, never a mail or housekeeping one.
const QueueWebhooks = "webhooks"

// WebhookDeliverer fans an event out to its endpoints and makes the next
// attempt of a delivery when it is due (store.WebhookService is one).
type WebhookDeliverer interface {
	// FanOutWebhookEvent writes the event's delivery to each of its
	// endpoints and queues a DeliverWebhook job for each, in one
	// transaction; run again, it writes only the deliveries still missing.
	FanOutWebhookEvent(ctx context.Context, ev WebhookEvent) error
	// DeliverWebhook says how long until the delivery wants another
	// attempt, or done when it needs none (delivered, given up, or gone).
	DeliverWebhook(ctx context.Context, id int64) (retryIn time.Duration, done bool, err error)
}

// WebhookEvent fans one event out: queued in the transaction of the change
// (with its audit entry), it writes a delivery per subscribed endpoint and
// a DeliverWebhook job per delivery. The change's own transaction writes
// this one job, not ten deliveries and ten jobs, so a change costs the
// same however many endpoints listen (the webhook_fanout bench).
type WebhookEvent struct {
	// AuditID is the event's audit entry, the payload's source.
	AuditID int64 `json:"audit_id"`
	// MessageID is the event's webhook-id, the same for every endpoint
	// and every attempt; it also keeps a second run from writing a
	// delivery twice.
	MessageID string `json:"message_id"`
	// Endpoints are the endpoints subscribed to the event when it
	// happened; one turned off or deleted since gets nothing.
	Endpoints []int64 `json:"endpoints"`
}

// Kind names the job in the queue.
func (WebhookEvent) Kind() string { return "webhook_event" }

// InsertOpts puts the fan-out on the webhook queue.
func (WebhookEvent) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueWebhooks}
}

type webhookEventWorker struct {
	river.WorkerDefaults[WebhookEvent]
	fanOut WebhookDeliverer
}

func (w *webhookEventWorker) Work(ctx context.Context, job *river.Job[WebhookEvent]) error {
	return w.fanOut.FanOutWebhookEvent(ctx, job.Args)
}

// DeliverWebhook carries one delivery of an outgoing webhook through its
// attempts: queued in the transaction that writes the delivery (an
// event's fan-out, a test event, a replay), it makes each attempt
// when it is due and sleeps (River's snooze, which spends no attempt)
// until the next, following the delivery's own retry schedule (about three
// days, internal/webhook). The delivery row's claim keeps two jobs or
// instances from sending one attempt twice.
type DeliverWebhook struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind names the job in the queue.
func (DeliverWebhook) Kind() string { return "deliver_webhook" }

// InsertOpts puts deliveries on their own queue. The delivery keeps its
// own attempt count; River's attempts only count errors of the database.
func (DeliverWebhook) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueWebhooks, MaxAttempts: 25}
}

type webhookWorker struct {
	river.WorkerDefaults[DeliverWebhook]
	deliver WebhookDeliverer
	timeout time.Duration
}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[DeliverWebhook]) error {
	retryIn, done, err := w.deliver.DeliverWebhook(ctx, job.Args.DeliveryID)
	if err != nil {
		return err
	}
	if done {
		return nil
	}
	return river.JobSnooze(max(retryIn, 0))
}

// Timeout leaves an attempt its 10 seconds and the record its moment, at
// most half the rescue delay.
func (w *webhookWorker) Timeout(*river.Job[DeliverWebhook]) time.Duration { return w.timeout }
