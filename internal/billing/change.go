package billing

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"

	"atrium/internal/app"
)

// PreviewWindow is how long a plan change preview may be confirmed: its
// proration date is when the amounts were computed, and a confirmation
// later than this asks for a fresh preview instead of charging an amount
// the owner no longer sees.
const PreviewWindow = 30 * time.Minute

// ErrPreviewExpired reports a confirmation whose preview is older than
// PreviewWindow (or dated in the future).
var ErrPreviewExpired = errors.New("plan change preview expired")

// ErrNoChange reports a price the subscription already has, or one the
// catalog does not sell.
var ErrNoChange = errors.New("not a plan change")

// Preview is what a plan change costs, read from Stripe before it is
// confirmed.
type Preview struct {
	Kind    app.PlanChange
	PriceID string // the new price
	// ProrationDate is the instant the prorations were computed for; the
	// change is made with the same one, so the charge is what was shown.
	ProrationDate time.Time
	// DueToday is what the customer pays at once, in Currency's smallest
	// unit (0 for a downgrade; may be negative: a credit).
	DueToday int64
	// Recurring is the new amount per Interval from RecurringFrom on.
	Recurring     int64
	Interval      app.Interval
	RecurringFrom time.Time
	Currency      string
	// NewPeriod is set when the change starts a new billing period now
	// (the interval changed): DueToday then includes its first payment.
	NewPeriod bool
}

// Change is the outcome of ChangePlan.
type Change struct {
	Kind app.PlanChange
	// ScheduleID and EffectiveAt, for a downgrade: the subscription
	// schedule that makes the change at the end of the period.
	ScheduleID  string
	EffectiveAt time.Time
}

// subscriptionItem reads the subscription's first item: its id, price
// and quantity, and the schedule that manages it, if any.
type subscriptionItem struct {
	subID, itemID, priceID, scheduleID string
	quantity                           int64
}

func (c *Client) item(ctx context.Context, subID string) (*subscriptionItem, error) {
	p := &stripe.SubscriptionParams{}
	p.Context = ctx
	sub, err := c.subscriptions.Get(subID, p)
	if err != nil {
		return nil, stripeError("fetch subscription "+subID, err)
	}
	if sub.Items == nil || len(sub.Items.Data) == 0 || sub.Items.Data[0] == nil {
		return nil, errors.New("stripe: subscription " + subID + " has no item")
	}
	it := sub.Items.Data[0]
	si := &subscriptionItem{subID: sub.ID, itemID: it.ID, quantity: it.Quantity}
	if it.Price != nil {
		si.priceID = it.Price.ID
	}
	if sub.Schedule != nil {
		si.scheduleID = sub.Schedule.ID
	}
	if si.quantity < 1 {
		si.quantity = 1
	}
	return si, nil
}

// changeOf reads ws's subscription from Stripe and returns its item and
// what moving it to newPriceID would be; ErrNoChange when it is no change
// (or there is no catalog to tell).
func (c *Client) changeOf(ctx context.Context, ws *app.Workspace, newPriceID string) (*subscriptionItem, app.PlanChange, error) {
	if c.plans == nil {
		return nil, app.ChangeNone, ErrNoChange
	}
	si, err := c.item(ctx, ws.StripeSubscriptionID)
	if err != nil {
		return nil, app.ChangeNone, err
	}
	kind := c.plans.ChangeKind(si.priceID, newPriceID)
	if kind == app.ChangeNone {
		return nil, kind, ErrNoChange
	}
	return si, kind, nil
}

// PreviewChange returns what moving ws's subscription to newPriceID
// costs, computed at at (the proration date). An upgrade is read from
// Stripe's upcoming invoice with the item swapped: its proration lines
// are due today, and the line of the next period is the new recurring
// amount (due today too when the interval changes, because Stripe then
// starts a new period at once). A downgrade changes nothing until the
// period ends, so its amount is the catalog's price for the same
// quantity, from ws's current period end.
func (c *Client) PreviewChange(ctx context.Context, ws *app.Workspace, newPriceID string, at time.Time) (*Preview, error) {
	si, kind, err := c.changeOf(ctx, ws, newPriceID)
	if err != nil {
		return nil, err
	}
	plan, iv, _ := c.plans.ForPrice(newPriceID)
	pr := plan.Price(iv)
	at = at.UTC().Truncate(time.Second)
	pv := &Preview{Kind: kind, PriceID: newPriceID, ProrationDate: at, Interval: iv, Currency: pr.Currency}
	if kind == app.ChangeDowngrade {
		pv.Recurring, pv.RecurringFrom = pr.Amount*si.quantity, ws.CurrentPeriodEnd
		if plan.Pricing == app.PricingFlat {
			pv.Recurring = pr.Amount
		}
		return pv, nil
	}
	inv, err := c.previewInvoice(ctx, previewChange{customer: ws.StripeCustomerID, subscription: si.subID,
		item: &stripe.SubscriptionItemsParams{ID: stripe.String(si.itemID), Price: stripe.String(newPriceID),
			Quantity: stripe.Int64(si.quantity)},
		prorationDate: at.Unix()})
	if err != nil {
		return nil, stripeError("preview the upcoming invoice", err)
	}
	if inv.Currency != "" {
		pv.Currency = string(inv.Currency)
	}
	if inv.Lines == nil {
		return pv, nil
	}
	for _, l := range inv.Lines.Data {
		switch {
		case l.Proration:
			pv.DueToday += l.Amount
		case l.Period != nil && l.Period.Start <= at.Unix()+60:
			// A new period that starts now (the interval changed) is
			// billed today and recurs from its end.
			pv.DueToday += l.Amount
			pv.Recurring, pv.RecurringFrom, pv.NewPeriod = l.Amount, time.Unix(l.Period.End, 0).UTC(), true
		default:
			pv.Recurring = l.Amount
			if l.Period != nil {
				pv.RecurringFrom = time.Unix(l.Period.Start, 0).UTC()
			}
		}
	}
	return pv, nil
}

// ChangePlan moves ws's subscription to newPriceID, as previewed at
// prorationDate.
//
// An upgrade applies now with proration_behavior=always_invoice: the
// difference for the rest of the period is invoiced and charged at once,
// so a workspace never holds the higher plan on credit until the next
// renewal, and the charge is the preview's (same proration_date).
// payment_behavior=pending_if_incomplete keeps the old price until that
// payment succeeds: a declined card changes nothing.
//
// A downgrade waits for the end of the period through a subscription
// schedule (from the subscription, then two phases: the current price
// until the period ends, the new one after). Changing the price now with
// proration_behavior=none would drop the plan's features at once for a
// period already paid for; a schedule keeps them and lets Stripe make the
// change on time even if Atrium is down then. An existing schedule (a
// downgrade already waiting) is rewritten rather than stacked.
//
// Every request carries an Idempotency-Key of the workspace, the target
// price and the proration date: a double submit of one preview reaches
// Stripe as one change.
func (c *Client) ChangePlan(ctx context.Context, ws *app.Workspace, newPriceID string, prorationDate, now time.Time) (*Change, error) {
	prorationDate = prorationDate.UTC().Truncate(time.Second)
	if now.Sub(prorationDate) > PreviewWindow || prorationDate.Sub(now) > time.Minute {
		return nil, ErrPreviewExpired
	}
	si, kind, err := c.changeOf(ctx, ws, newPriceID)
	if err != nil {
		return nil, err
	}
	pd := strconv.FormatInt(prorationDate.Unix(), 10)
	key := func(kind string, parts ...string) *string {
		return stripe.String(IdempotencyKey(kind, ws.ID, prorationDate, append([]string{si.subID, newPriceID, pd}, parts...)...))
	}
	if kind == app.ChangeUpgrade {
		// An upgrade supersedes a downgrade that was waiting.
		if si.scheduleID != "" {
			if err := c.releaseSchedule(ctx, si.scheduleID, key("plan-release", si.scheduleID)); err != nil {
				return nil, err
			}
		}
		p := &stripe.SubscriptionParams{
			Items: []*stripe.SubscriptionItemsParams{{ID: stripe.String(si.itemID), Price: stripe.String(newPriceID),
				Quantity: stripe.Int64(si.quantity)}},
			ProrationBehavior: stripe.String("always_invoice"),
			ProrationDate:     stripe.Int64(prorationDate.Unix()),
			PaymentBehavior:   stripe.String("pending_if_incomplete"),
		}
		p.Context = ctx
		p.IdempotencyKey = key("plan-upgrade")
		if _, err := c.subscriptions.Update(si.subID, p); err != nil {
			return nil, stripeError("upgrade subscription "+si.subID, err)
		}
		return &Change{Kind: kind}, nil
	}

	schedID := si.scheduleID
	if schedID == "" {
		p := &stripe.SubscriptionScheduleParams{FromSubscription: stripe.String(si.subID)}
		p.Context = ctx
		p.IdempotencyKey = key("plan-schedule")
		s, err := c.schedules.New(p)
		if err != nil {
			return nil, stripeError("schedule a change of subscription "+si.subID, err)
		}
		schedID = s.ID
	}
	g := &stripe.SubscriptionScheduleParams{}
	g.Context = ctx
	s, err := c.schedules.Get(schedID, g)
	if err != nil {
		return nil, stripeError("fetch subscription schedule "+schedID, err)
	}
	start, end := ws.CurrentPeriodEnd.Unix(), ws.CurrentPeriodEnd.Unix()
	if s.CurrentPhase != nil {
		start, end = s.CurrentPhase.StartDate, s.CurrentPhase.EndDate
	}
	if !ws.CurrentPeriodEnd.IsZero() {
		// The period end Atrium knows is the subscription's; a phase
		// another tool made may end elsewhere.
		end = ws.CurrentPeriodEnd.Unix()
	}
	p := &stripe.SubscriptionScheduleParams{
		EndBehavior: stripe.String("release"),
		Phases: []*stripe.SubscriptionSchedulePhaseParams{
			{Items: []*stripe.SubscriptionSchedulePhaseItemParams{{Price: stripe.String(si.priceID), Quantity: stripe.Int64(si.quantity)}},
				StartDate: stripe.Int64(start), EndDate: stripe.Int64(end), ProrationBehavior: stripe.String("none")},
			{Items: []*stripe.SubscriptionSchedulePhaseItemParams{{Price: stripe.String(newPriceID), Quantity: stripe.Int64(si.quantity)}},
				Iterations: stripe.Int64(1), ProrationBehavior: stripe.String("none")},
		},
	}
	p.Context = ctx
	p.IdempotencyKey = key("plan-phases", schedID)
	p.AddMetadata("workspace_id", strconv.FormatInt(ws.ID, 10))
	if _, err := c.schedules.Update(schedID, p); err != nil {
		return nil, stripeError("schedule the phases of "+schedID, err)
	}
	return &Change{Kind: kind, ScheduleID: schedID, EffectiveAt: time.Unix(end, 0).UTC()}, nil
}

// KeepPlan withdraws a downgrade waiting for the period end: the
// subscription's schedule is released, and the subscription stays as it
// is. No schedule is not an error. requestedAt is the instant the owner
// was shown the choice (its Idempotency-Key).
func (c *Client) KeepPlan(ctx context.Context, ws *app.Workspace, requestedAt time.Time) error {
	si, err := c.item(ctx, ws.StripeSubscriptionID)
	if err != nil || si.scheduleID == "" {
		return err
	}
	return c.releaseSchedule(ctx, si.scheduleID,
		stripe.String(IdempotencyKey("plan-keep", ws.ID, requestedAt, si.scheduleID, strconv.FormatInt(requestedAt.Unix(), 10))))
}

func (c *Client) releaseSchedule(ctx context.Context, id string, key *string) error {
	p := &stripe.SubscriptionScheduleReleaseParams{PreserveCancelDate: stripe.Bool(true)}
	p.Context = ctx
	p.IdempotencyKey = key
	if _, err := c.schedules.Release(id, p); err != nil {
		return stripeError("release subscription schedule "+id, err)
	}
	return nil
}

// CancelAtPeriodEnd sets the subscription's cancel_at_period_end: true
// ends it when the paid period ends (the workspace keeps its plan until
// then), false resumes it. Before a cancel, a schedule managing the
// subscription (a downgrade waiting) is released: Stripe refuses to cancel a subscription a schedule manages, and
// a cancellation supersedes it. requestedAt is the instant the owner was
// shown the confirmation: with the workspace and the choice it makes the
// Idempotency-Key, so a double submit is one request and a later cancel,
// resume, cancel are three.
func (c *Client) CancelAtPeriodEnd(ctx context.Context, ws *app.Workspace, cancel bool, requestedAt time.Time) error {
	subID := ws.StripeSubscriptionID
	parts := []string{subID, strconv.FormatBool(cancel), strconv.FormatInt(requestedAt.Unix(), 10)}
	if cancel {
		// The subscription is read for its schedule even when Atrium
		// recorded none: one made in the dashboard blocks a cancel too.
		if err := c.KeepPlan(ctx, ws, requestedAt); err != nil {
			return err
		}
	}
	p := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(cancel)}
	p.Context = ctx
	p.IdempotencyKey = stripe.String(IdempotencyKey("cancel-at-period-end", ws.ID, requestedAt, parts...))
	if _, err := c.subscriptions.Update(subID, p); err != nil {
		return stripeError("set cancel_at_period_end of "+subID, err)
	}
	return nil
}
