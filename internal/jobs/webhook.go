package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// QueueWebhooks is the queue of outgoing webhook deliveries: a slow
// receiver holds one of its workers, never a mail or housekeeping one.
const QueueWebhooks = "webhooks"

// WebhookDeliverer fans events out to their endpoints and makes the next
// attempt of a delivery when it is due (store.WebhookService is one).
type WebhookDeliverer interface {
	// FanOutWebhookEvents turns every event waiting to be fanned out into
	// a delivery and a DeliverWebhook job per endpoint, one event per
	// transaction, until none waits; it returns how many it fanned out.
	FanOutWebhookEvents(ctx context.Context) (int, error)
	// DeliverWebhook says how long until the delivery wants another
	// attempt, or done when it needs none (delivered, given up, or gone).
	DeliverWebhook(ctx context.Context, id int64) (retryIn time.Duration, done bool, err error)
}

// FanOutWebhooks fans out the events waiting in the store (the
// webhook_events table). A change writes its event there, in its own
// transaction, rather than a job: a row of that small table costs a change
// almost nothing, where a job row (the queue's indexes, its JSON) cost
// SQLite a third of the change (the webhook_fanout bench). The store queues
// this job once the change has committed, a burst of changes sharing one;
// every FanOutWebhooksEvery it also runs on its own, for an event whose
// instance stopped before it could queue the job.
type FanOutWebhooks struct{}

// FanOutWebhooksEvery is how often the fan-out runs without being asked.
const FanOutWebhooksEvery = time.Minute

// Kind names the job in the queue.
func (FanOutWebhooks) Kind() string { return "fan_out_webhooks" }

// InsertOpts puts the fan-out on the webhook queue.
func (FanOutWebhooks) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueWebhooks}
}

type fanOutWorker struct {
	river.WorkerDefaults[FanOutWebhooks]
	hooks WebhookDeliverer
}

func (w *fanOutWorker) Work(ctx context.Context, _ *river.Job[FanOutWebhooks]) error {
	_, err := w.hooks.FanOutWebhookEvents(ctx)
	return err
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
