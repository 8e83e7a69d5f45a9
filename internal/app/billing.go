package app

import (
	"context"
	"time"
)

// Subscription statuses that matter to Atrium (Stripe's names).
const (
	SubActive   = "active"
	SubTrialing = "trialing"
	SubPastDue  = "past_due"
	SubCanceled = "canceled"
	SubUnpaid   = "unpaid"
	// SubIncompleteExpired is a first payment that never succeeded; like
	// canceled, the subscription can never become live again.
	SubIncompleteExpired = "incomplete_expired"
)

// Results of applying a Stripe event.
const (
	EventApplied    = "applied"    // the workspace changed
	EventDuplicate  = "duplicate"  // seen before; nothing changed
	EventStale      = "stale"      // older than the state already applied
	EventIgnored    = "ignored"    // a type Atrium does not act on
	EventUnmatched  = "unmatched"  // no workspace for it; kept for replay
	EventUnreadable = "unreadable" // its payload could not be read; kept for replay
	// EventTied is never stored: the update ties with the applied state
	// (see OrderBillingUpdate) and nothing was recorded. The caller settles
	// the tie (re-reading the subscription from Stripe) and applies again.
	EventTied = "tied"
)

// StripeEvent is a verified webhook event as Atrium stores it.
type StripeEvent struct {
	ID         string
	Type       string
	APIVersion string
	Created    time.Time
	Payload    []byte
	// Error, when set on a new event, says why it could not be read.
	Error string
	// Filled on reads.
	Status      string
	WorkspaceID int64
	ReceivedAt  time.Time
}

// BillingUpdate is what an event (or a sync) says about a workspace's
// subscription. Empty fields leave the stored value alone.
type BillingUpdate struct {
	// WorkspaceID, when the event names it (Checkout's client_reference_id
	// or metadata); otherwise the workspace is found by CustomerID.
	WorkspaceID    int64
	CustomerID     string
	SubscriptionID string
	Status         string
	PeriodEnd      time.Time
	CancelAtEnd    *bool
	// PriceID and Quantity are the subscription's (first) item; Plan is
	// the catalog plan PriceID grants (Catalog.PlanForPrice), set by the
	// billing package before the update is applied. TrialEnd is when its
	// trial ends (zero: no trial). A subscription update (one with a
	// Status) writes all four.
	PriceID  string
	Plan     string
	Quantity int64
	TrialEnd time.Time
	// Action is the audit action recorded when the update applies.
	Action string
	// AsOf orders updates: one older than the last applied is stale (see
	// OrderBillingUpdate). Stripe events carry whole seconds.
	AsOf time.Time
	// Refreshed marks a state re-read from Stripe to settle a tie: it wins
	// a same-second tie of equal rank.
	Refreshed bool
	// TieByEventID settles a same-second tie of equal rank by event id
	// (the larger wins) when Stripe cannot be asked.
	TieByEventID bool
	// ScheduleID and ScheduleStatus are a subscription schedule that
	// ended (released, completed or canceled): the workspace's scheduled
	// plan change is cleared when it is this schedule's.
	ScheduleID, ScheduleStatus string
}

// ProStatus reports whether a subscription status grants Pro: active,
// trialing, or past_due (Stripe is retrying a failed payment, and access
// stays meanwhile). It is the one list of the statuses that count as Pro.
func ProStatus(status string) bool {
	switch status {
	case SubActive, SubTrialing, SubPastDue:
		return true
	}
	return false
}

// PlanFor returns the plan a subscription status grants: paid (the
// subscription's plan; Pro when it is not known) while the status counts,
// Free otherwise.
func PlanFor(status, paid string) string {
	switch {
	case !ProStatus(status):
		return PlanFree
	case paid == "" || paid == PlanFree:
		return PlanPro
	}
	return paid
}

// HasLiveSubscription reports whether w has a subscription that still
// grants Pro: it must be cancelled before the workspace can be deleted,
// and a second checkout is refused.
func (w *Workspace) HasLiveSubscription() bool {
	return ProStatus(w.SubscriptionStatus) && w.StripeSubscriptionID != ""
}

// IsPaid reports whether w is on a paid plan in good standing.
func (w *Workspace) IsPaid() bool { return w.Plan != PlanFree && ProStatus(w.SubscriptionStatus) }

// BillingService keeps workspaces' billing state. Webhook application runs
// without a principal (Stripe is the caller); the others act as the
// principal in ctx and check they own the workspace.
type BillingService interface {
	// ApplyStripeEvent records ev and applies upd in one transaction, under
	// a lock on the workspace: a duplicate changes nothing, an update that
	// comes before the applied state (OrderBillingUpdate) is recorded as
	// stale, an event for no known workspace as unmatched. upd nil records
	// the event as ignored. A tie records nothing and returns EventTied.
	ApplyStripeEvent(ctx context.Context, ev StripeEvent, upd *BillingUpdate) (string, error)
	// FindStripeEvent returns a stored event (for replay).
	FindStripeEvent(ctx context.Context, id string) (*StripeEvent, error)
	// ReapplyStripeEvent applies a stored event's update again, under the
	// same order (EventTied included).
	ReapplyStripeEvent(ctx context.Context, id string, upd *BillingUpdate) (string, error)
	// RecordCheckoutStarted stores the Stripe customer of a workspace and
	// audits the start of a Checkout (owners only).
	RecordCheckoutStarted(ctx context.Context, sc Scope, customerID, sessionID string) error
	// SyncSubscription overwrites a workspace's billing state with what
	// Stripe says now (operator repair; no principal needed).
	SyncSubscription(ctx context.Context, workspaceID int64, upd BillingUpdate) error
	// DemoUpgrade switches a workspace to pro without Stripe (development
	// demo mode; owners only).
	DemoUpgrade(ctx context.Context, sc Scope) error
	// DemoDowngrade puts a workspace back on the free plan without Stripe,
	// forgetting its subscription (development demo mode; owners only).
	DemoDowngrade(ctx context.Context, sc Scope) error
	// FindWorkspaceBySlug finds a workspace for operator commands.
	FindWorkspaceBySlug(ctx context.Context, slug string) (*Workspace, error)
	// RecordBillingRequest audits an owner's request to Stripe (one of
	// BillingRequests) with md; the workspace itself changes when Stripe's
	// webhook reports it (owners only).
	RecordBillingRequest(ctx context.Context, sc Scope, action string, md map[string]any) error
	// SchedulePlanChange records a downgrade waiting for the period end
	// (owners only); recording the same one again changes nothing.
	SchedulePlanChange(ctx context.Context, sc Scope, ch ScheduledChange) error
	// WithdrawPlanChange forgets the scheduled plan change after its
	// schedule was released (owners only); none is not an error.
	WithdrawPlanChange(ctx context.Context, sc Scope) error
}
