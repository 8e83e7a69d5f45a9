package webhook

import (
	"context"
	"log/slog"
	"time"
)

// Deliverer makes the due attempts of a bounded batch and returns how many
// it made (store.WebhookService is one).
type Deliverer interface {
	DeliverDue(ctx context.Context, limit int) (int, error)
}

// Poller runs due deliveries until it is stopped: a full batch is followed
// by the next at once, anything less by a pause of Interval (or a Notify).
// It is the one piece a job queue replaces: each delivery is already a
// unit of work (store.WebhookService.Deliver) that can run as a job, and
// claims keep two instances from sending the same attempt.
type Poller struct {
	Deliver  Deliverer
	Logger   *slog.Logger
	Interval time.Duration // default 1 second
	Batch    int           // default 50
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

// NewPoller returns a poller over d.
func NewPoller(d Deliverer, logger *slog.Logger) *Poller {
	return &Poller{Deliver: d, Logger: logger, Interval: time.Second, Batch: 50,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// Notify wakes the poller after deliveries were queued, without blocking.
func (p *Poller) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run delivers until Stop. The batch in progress when Stop is called
// finishes (each attempt is bounded by Timeout); an attempt a crash cuts
// short comes back when its claim's lease ends.
func (p *Poller) Run() {
	defer close(p.done)
	for {
		n, err := p.Deliver.DeliverDue(context.Background(), p.Batch)
		if err != nil && p.Logger != nil {
			p.Logger.Error("webhook deliveries", "error", err.Error())
		}
		if n >= p.Batch && err == nil {
			select {
			case <-p.stop:
				return
			default:
				continue
			}
		}
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-time.After(p.Interval):
		}
	}
}

// Stop asks Run to return after its current batch and waits up to wait
// for it; it reports whether Run returned.
func (p *Poller) Stop(wait time.Duration) bool {
	close(p.stop)
	select {
	case <-p.done:
		return true
	case <-time.After(wait):
		return false
	}
}
