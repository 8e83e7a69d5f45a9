package billing

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"

	"atrium/internal/app"
)

// A per-seat plan bills the workspace's members (pending invites count
// once accepted). Every membership change of a workspace with a
// subscription queues a seat sync (jobs.SyncSeats, in the change's own
// transaction); the job runs SeatSync.SyncSeats, which brings Stripe's
// quantity to the member count through ReconcileSeats. `atrium billing
// sync` and the console's "Sync billing" run ReconcileSeats after Sync.

// SeatStore is what the seat sync reads and records (store.BillingService
// is one).
type SeatStore interface {
	// SeatState returns the workspace as stored now and its members.
	SeatState(ctx context.Context, workspaceID int64) (*app.Workspace, int, error)
	// RecordSeats stores the quantity Stripe bills now and audits a
	// change (billing.seats_synced, from and to) in one transaction.
	RecordSeats(ctx context.Context, workspaceID int64, from, to int) error
}

// SeatResult is what ReconcileSeats found and did.
type SeatResult struct {
	// NotPerSeat says the workspace has no live subscription to a per-seat
	// plan: Stripe was not asked.
	NotPerSeat bool
	// Stripe is the quantity Stripe had; Members the workspace's members.
	Stripe, Members int
	// Updated says Stripe's quantity was set to Members.
	Updated bool
}

// Sentence says what the reconcile found, for `atrium billing sync` and
// the operator console; "" when the workspace is not billed by seat.
func (r *SeatResult) Sentence() string {
	switch {
	case r == nil || r.NotPerSeat:
		return ""
	case r.Updated:
		return fmt.Sprintf("Seats: Stripe had %d, the workspace has %d members: updated to %d.", r.Stripe, r.Members, r.Members)
	}
	return fmt.Sprintf("Seats: in step (%d).", r.Members)
}

// PerSeat reports whether ws is billed by seat now: a live subscription to
// a plan of the catalog priced per seat.
func PerSeat(plans *app.Catalog, ws *app.Workspace) bool {
	return plans != nil && ws.HasLiveSubscription() && plans.Effective(ws).Pricing == app.PricingPerSeat
}

// ReconcileSeats brings the quantity of a workspace's per-seat subscription
// to its member count. When the count equals the quantity Stripe last
// reported (the stored SeatQuantity) it asks Stripe nothing; otherwise it
// reads the subscription, sets its item's quantity with prorations when
// Stripe's differs, and records the result. nonce goes into the request's
// Idempotency-Key (see SeatsKey).
func ReconcileSeats(ctx context.Context, c *Client, st SeatStore, workspaceID int64, nonce string) (*SeatResult, error) {
	ws, members, err := st.SeatState(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	if !PerSeat(c.plans, ws) {
		return &SeatResult{NotPerSeat: true, Members: members}, nil
	}
	res := &SeatResult{Stripe: ws.SeatQuantity, Members: members}
	if members == ws.SeatQuantity {
		return res, nil
	}
	from, err := c.SetSeats(ctx, ws.ID, ws.StripeSubscriptionID, members, nonce)
	if err != nil {
		return nil, err
	}
	res.Stripe, res.Updated = from, from != members
	if err := st.RecordSeats(ctx, ws.ID, from, members); err != nil {
		return nil, err
	}
	return res, nil
}

// SeatSync runs the SyncSeats job (it is a jobs.SeatSyncer).
type SeatSync struct {
	Client *Client
	Store  SeatStore
}

// SyncSeats reconciles a workspace's quantity; the job's id is the
// Idempotency-Key's nonce, so every attempt of one job sends one key.
func (s *SeatSync) SyncSeats(ctx context.Context, workspaceID, jobID int64) error {
	_, err := ReconcileSeats(ctx, s.Client, s.Store, workspaceID, "job:"+strconv.FormatInt(jobID, 10))
	return err
}

// SeatsKey is the Idempotency-Key of setting a workspace's subscription to
// quantity when Stripe has from. Stripe answers a repeated key with its
// first answer for 24 hours without acting again, so a key made of the
// workspace and the target alone would swallow a return to a quantity
// (5 → 6 → 5 → 6 within a day: the second "6" would be answered from the
// first and Stripe would stay at 5). The key therefore also holds from,
// the quantity Stripe had when asked, and nonce: the sync job's id, so
// that a later job (a later change) always makes a new request, while the
// retries of one job, which see the same state, send the same key and an
// update that reached Stripe before a crash is not made twice.
func SeatsKey(workspaceID int64, quantity, from int, nonce string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "seats\x00%d\x00%d\x00%d\x00%s", workspaceID, quantity, from, nonce))
	return fmt.Sprintf("atrium-seats-%d-%d-%x", workspaceID, quantity, h[:12])
}

// subscriptionItem reads a subscription's first item: the one a per-seat
// plan's quantity is on.
func (c *Client) subscriptionItem(ctx context.Context, subscriptionID string) (*stripe.SubscriptionItem, error) {
	p := &stripe.SubscriptionParams{}
	p.Context = ctx
	sub, err := c.subscriptions.Get(subscriptionID, p)
	if err != nil {
		return nil, seatError("fetch subscription "+subscriptionID, err)
	}
	if sub.Items == nil || len(sub.Items.Data) == 0 || sub.Items.Data[0] == nil {
		return nil, rejected{fmt.Errorf("stripe: subscription %s has no item", subscriptionID)}
	}
	return sub.Items.Data[0], nil
}

// SetSeats sets the quantity of a subscription's item, with prorations
// (Stripe adds the prorated difference to the next invoice), and returns
// the quantity Stripe had. It reads the subscription first and changes
// nothing when Stripe has quantity already. An error Stripe would repeat
// on every retry (400, 402, 404) says Permanent.
func (c *Client) SetSeats(ctx context.Context, workspaceID int64, subscriptionID string, quantity int, nonce string) (int, error) {
	item, err := c.subscriptionItem(ctx, subscriptionID)
	if err != nil {
		return 0, err
	}
	from := int(item.Quantity)
	if from == quantity {
		return from, nil
	}
	p := &stripe.SubscriptionItemParams{Quantity: stripe.Int64(int64(quantity)),
		ProrationBehavior: stripe.String(string(stripe.SubscriptionSchedulePhaseProrationBehaviorCreateProrations))}
	p.Context = ctx
	p.IdempotencyKey = stripe.String(SeatsKey(workspaceID, quantity, from, nonce))
	p.AddMetadata("workspace_id", strconv.FormatInt(workspaceID, 10))
	if _, err := c.items.Update(item.ID, p); err != nil {
		return 0, seatError("update subscription item "+item.ID, err)
	}
	return from, nil
}

// SeatPreview is what adding seats costs, from Stripe's upcoming invoice.
type SeatPreview struct {
	// Today is the prorated amount for the rest of the current period,
	// Recurring the bill of a whole period at the new quantity; both in
	// Currency's smallest unit.
	Today, Recurring int64
	Currency         string
	// Interval is the price's: month or year.
	Interval string
}

// PreviewSeats asks Stripe's upcoming invoice what setting a subscription's
// quantity to quantity at time at would cost: its proration lines (today's
// prorated amount) and the rest (the new recurring amount). It changes
// nothing.
func (c *Client) PreviewSeats(ctx context.Context, subscriptionID string, quantity int, at time.Time) (*SeatPreview, error) {
	item, err := c.subscriptionItem(ctx, subscriptionID)
	if err != nil {
		return nil, err
	}
	in, err := c.previewInvoice(ctx, previewChange{subscription: subscriptionID,
		item:              &stripe.SubscriptionItemsParams{ID: stripe.String(item.ID), Quantity: stripe.Int64(int64(quantity))},
		prorationBehavior: "create_prorations", prorationDate: at.Unix()})
	if err != nil {
		return nil, stripeError("preview invoice of "+subscriptionID, err)
	}
	pv := &SeatPreview{Currency: string(in.Currency), Interval: "month"}
	if item.Price != nil && item.Price.Recurring != nil {
		pv.Interval = string(item.Price.Recurring.Interval)
	}
	if in.Lines != nil {
		for _, l := range in.Lines.Data {
			if l.Proration {
				pv.Today += l.Amount
			} else {
				pv.Recurring += l.Amount
			}
		}
	}
	return pv, nil
}

// rejected is a Stripe refusal no retry changes.
type rejected struct{ error }

// Permanent tells the job queue not to retry.
func (rejected) Permanent() bool { return true }

func (r rejected) Unwrap() error { return r.error }

// seatError wraps a failure like stripeError and marks the refusals that
// every retry would meet again: a request Stripe finds invalid (400), a
// card refused (402) or a subscription that is gone (404). A rate limit,
// an authentication error (a key being rotated) or Stripe being down is
// retried.
func seatError(what string, err error) error {
	wrapped := stripeError(what, err)
	var se *stripe.Error
	if errors.As(err, &se) {
		switch se.HTTPStatusCode {
		case http.StatusBadRequest, http.StatusPaymentRequired, http.StatusNotFound:
			return rejected{wrapped}
		}
	}
	return wrapped
}
