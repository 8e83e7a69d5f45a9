package app

import "time"

// PlanChange is what moving a subscription from one price to another is.
type PlanChange int

// Kinds of plan change.
const (
	// ChangeNone is the price the subscription already has, or a price
	// the catalog does not sell.
	ChangeNone PlanChange = iota
	// ChangeUpgrade applies at once and charges the difference today: a
	// higher plan, or the same plan billed annually instead of monthly.
	ChangeUpgrade
	// ChangeDowngrade waits for the end of the billing period: a lower
	// plan, or the same plan billed monthly instead of annually.
	ChangeDowngrade
)

// ChangeKind says whether moving from the price from to the price to is
// an upgrade or a downgrade. The plan's rank in the catalog decides; in
// one plan the interval does (annual is the larger commitment, so it is
// the upgrade). It is the one rule of which changes apply now and which
// wait for the period end.
func (c *Catalog) ChangeKind(from, to string) PlanChange {
	tp, tiv, ok := c.ForPrice(to)
	if !ok || !tp.Paid() || from == to {
		return ChangeNone
	}
	fp, fiv, ok := c.ForPrice(from)
	if !ok {
		// A price the catalog no longer lists grants Pro (PlanForPrice):
		// compare against Pro billed monthly.
		fp, _ = c.Plan(PlanPro)
		fiv = Monthly
	}
	switch {
	case c.rank(tp.Key) > c.rank(fp.Key):
		return ChangeUpgrade
	case c.rank(tp.Key) < c.rank(fp.Key):
		return ChangeDowngrade
	case fiv == Monthly && tiv == Annual:
		return ChangeUpgrade
	case fiv == Annual && tiv == Monthly:
		return ChangeDowngrade
	}
	return ChangeNone
}

// ScheduledChange is a plan change waiting for the end of the billing
// period: the subscription schedule that makes it, the new price and when.
type ScheduledChange struct {
	PriceID    string
	At         time.Time
	ScheduleID string
	// Plan and Interval name PriceID in the catalog, for the audit entry.
	Plan     string
	Interval Interval
}

// BillingRequests lists the audit actions of an owner's requests to
// Stripe (RecordBillingRequest): the workspace changes when Stripe's
// webhook says so, the request is audited when it is made.
var BillingRequests = []string{ActionPlanChangeRequested, ActionCancelRequested, ActionResumed}
