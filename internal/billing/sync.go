package billing

import (
	"context"
	"strconv"
	"time"

	"atrium/internal/app"
)

// SyncResult is what Sync did to a workspace's billing state.
type SyncResult struct {
	// NoCustomer says the workspace never started a Checkout: nothing was
	// read or changed.
	NoCustomer bool
	// NoSubscription says Stripe has no subscription for the customer: the
	// workspace went back to the free plan.
	NoSubscription bool
	// Update is the state written (zero with NoCustomer).
	Update app.BillingUpdate
	// Seats is the quantity reconciled after the sync (ReconcileSeats),
	// when svc is a SeatStore and a subscription was found.
	Seats *SeatResult
}

// Sync re-reads a workspace's subscription from Stripe (by its id, else
// the customer's newest) and overwrites the local billing state with it
// ("billing.synced"): the repair `atrium billing sync` and the operator
// console's "Sync billing" both run.
func Sync(ctx context.Context, c *Client, svc app.BillingService, ws *app.Workspace) (*SyncResult, error) {
	var (
		upd *app.BillingUpdate
		err error
	)
	switch {
	case ws.StripeSubscriptionID != "":
		upd, err = c.FetchSubscription(ctx, ws.StripeSubscriptionID)
	case ws.StripeCustomerID != "":
		upd, err = c.FindCustomerSubscription(ctx, ws.StripeCustomerID)
	default:
		return &SyncResult{NoCustomer: true}, nil
	}
	if err != nil {
		return nil, err
	}
	res := &SyncResult{}
	if upd == nil {
		upd = &app.BillingUpdate{Status: app.SubCanceled}
		res.NoSubscription = true
	}
	if err := svc.SyncSubscription(ctx, ws.ID, *upd); err != nil {
		return nil, err
	}
	res.Update = *upd
	if st, ok := svc.(SeatStore); ok && !res.NoSubscription {
		// An operator's run is one request: its own nonce (a second run
		// finds Stripe in step and sends nothing).
		if res.Seats, err = ReconcileSeats(ctx, c, st, ws.ID, "sync:"+strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
			return nil, err
		}
	}
	return res, nil
}
