package billing

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"atrium/internal/app"
)

// EventStore records and applies Stripe events; app.BillingService is one.
type EventStore interface {
	ApplyStripeEvent(ctx context.Context, ev app.StripeEvent, upd *app.BillingUpdate) (string, error)
	FindStripeEvent(ctx context.Context, id string) (*app.StripeEvent, error)
	ReapplyStripeEvent(ctx context.Context, id string, upd *app.BillingUpdate) (string, error)
}

// SubscriptionReader reads a subscription's current state from Stripe;
// *Client is one.
type SubscriptionReader interface {
	FetchSubscription(ctx context.Context, id string) (*app.BillingUpdate, error)
}

// Receiver is the webhook pipeline: verify → version check → interpret →
// apply. The HTTP handler, `atrium billing replay` and the tests call it.
type Receiver struct {
	Store EventStore
	// Stripe settles two live statuses of one second by re-reading the
	// subscription; nil (billing off) settles them by event id.
	Stripe SubscriptionReader
	// Plans names the plan of a subscription's price (nil: Pro).
	Plans *app.Catalog
	// Secret is STRIPE_WEBHOOK_SECRET.
	Secret string
	// Logger receives one line per event; nil discards them.
	Logger *slog.Logger
	// Now is the clock for signature timestamps; nil means time.Now.
	Now func() time.Time
}

// Receipt is what became of one event.
type Receipt struct {
	Event  *app.StripeEvent
	Result string // app.EventApplied, app.EventStale, ...
}

// Receive verifies a delivery against its Stripe-Signature header and
// records and applies its event. A signature that does not verify returns
// an error wrapping ErrBadSignature and touches nothing; any other error
// means the event was not recorded and Stripe should retry. An event
// whose payload cannot be read is stored with its error (answering it
// stops a retry loop over a payload that will never parse).
func (r *Receiver) Receive(ctx context.Context, payload []byte, signature string) (*Receipt, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	ev, err := verifyEventAt(payload, signature, r.Secret, now())
	if err != nil {
		return nil, err
	}
	log := r.logger().With("stripe_event_id", ev.ID, "stripe_event_type", ev.Type)
	if ev.APIVersion != "" && ev.APIVersion != APIVersion {
		log.WarnContext(ctx, "stripe webhook API version differs from the client's; pin the endpoint to it in the Stripe dashboard",
			"event_api_version", ev.APIVersion, "client_api_version", APIVersion)
	}
	upd, err := r.interpret(ev)
	if err != nil {
		log.ErrorContext(ctx, "stripe webhook event could not be read; stored for replay", "error", err.Error())
		ev.Error, upd = err.Error(), nil
	}
	result, err := r.settle(ctx, log, upd, func(upd *app.BillingUpdate) (string, error) {
		return r.Store.ApplyStripeEvent(ctx, *ev, upd)
	})
	if err != nil {
		log.ErrorContext(ctx, "stripe webhook event not applied; Stripe will retry", "error", err.Error())
		return nil, err
	}
	switch result {
	case app.EventUnmatched:
		log.WarnContext(ctx, "stripe webhook event matches no workspace; stored for replay (atrium billing replay)")
	default:
		log.InfoContext(ctx, "stripe webhook event "+result)
	}
	return &Receipt{Event: ev, Result: result}, nil
}

// Replay applies a stored event again, under the same order as a
// delivery: it never rolls a subscription back to an older state.
func (r *Receiver) Replay(ctx context.Context, eventID string) (*Receipt, error) {
	ev, err := r.Store.FindStripeEvent(ctx, eventID)
	if err != nil {
		return nil, err
	}
	upd, err := r.interpret(ev)
	if err != nil {
		return nil, err
	}
	log := r.logger().With("stripe_event_id", ev.ID, "stripe_event_type", ev.Type)
	result, err := r.settle(ctx, log, upd, func(upd *app.BillingUpdate) (string, error) {
		return r.Store.ReapplyStripeEvent(ctx, ev.ID, upd)
	})
	if err != nil {
		return nil, err
	}
	log.InfoContext(ctx, "stripe event replayed: "+result)
	return &Receipt{Event: ev, Result: result}, nil
}

// settle applies upd; when it ties with the applied state (two live
// statuses in one second) it re-reads the subscription from Stripe and
// applies what Stripe says now, or, without Stripe, lets the event id
// decide.
func (r *Receiver) settle(ctx context.Context, log *slog.Logger, upd *app.BillingUpdate, apply func(*app.BillingUpdate) (string, error)) (string, error) {
	result, err := apply(upd)
	if err != nil || result != app.EventTied {
		return result, err
	}
	if r.Stripe == nil || upd.SubscriptionID == "" {
		tie := *upd
		tie.TieByEventID = true
		log.InfoContext(ctx, "stripe webhook same-second tie settled by event id (billing is off)")
		return apply(&tie)
	}
	cur, err := r.Stripe.FetchSubscription(ctx, upd.SubscriptionID)
	if err != nil {
		return "", fmt.Errorf("settle a same-second tie: %w", err)
	}
	cur.WorkspaceID, cur.AsOf, cur.Action, cur.Refreshed = upd.WorkspaceID, upd.AsOf, upd.Action, true
	if cur.CustomerID == "" {
		cur.CustomerID = upd.CustomerID
	}
	log.InfoContext(ctx, "stripe webhook same-second tie settled by re-reading the subscription", "status", cur.Status)
	return apply(cur)
}

// interpret is Interpret with the plan of the subscription's price named
// from the catalog.
func (r *Receiver) interpret(ev *app.StripeEvent) (*app.BillingUpdate, error) {
	upd, err := Interpret(ev)
	if upd != nil && upd.Status != "" {
		upd.Plan = PlanOf(r.Plans, upd.PriceID)
	}
	return upd, err
}

func (r *Receiver) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return r.Logger
}
