package app

import (
	"net/url"
	"time"
)

// PaymentUpdate is what an invoice event says about a payment of a
// subscription: invoice.payment_failed (Failed) or invoice.paid.
type PaymentUpdate struct {
	Failed bool
	// SubscriptionID is the invoice's subscription; an invoice of another
	// subscription than the workspace's current one changes no dunning
	// state.
	SubscriptionID string
	// InvoiceURL is the invoice's hosted page (https only, see
	// HostedInvoiceURL); AttemptCount how many times Stripe tried it.
	InvoiceURL   string
	AttemptCount int64
}

// Ranks of payment events within one second (see OrderDunning).
const (
	DunningRankFailed = 1
	DunningRankPaid   = 2 // a payment wins a same-second tie
)

// DunningMark is where a workspace's payment events stand: the creation
// second, rank and event id of the last one applied.
type DunningMark struct {
	At      time.Time
	Rank    int
	EventID string
}

// OrderDunning reports whether a payment event (created at, of rank, with
// eventID) comes after mark (nil: none applied yet). Payment events carry
// no subscription status, so they are ordered among themselves, like
// OrderBillingUpdate orders subscription states: the later second first;
// in one second a payment beats a failure (a retry that succeeded in the
// second it was reported failed has been paid); then the larger event id.
func OrderDunning(at time.Time, rank int, eventID string, mark *DunningMark) bool {
	if mark == nil || mark.At.IsZero() {
		return true
	}
	a, m := at.Unix(), mark.At.Unix()
	switch {
	case a != m:
		return a > m
	case rank != mark.Rank:
		return rank > mark.Rank
	}
	return eventID >= mark.EventID
}

// DunningState is a workspace's dunning episode: open while FailedAt is
// set, restricted once RestrictedAt is.
type DunningState struct {
	FailedAt     time.Time
	InvoiceURL   string
	RestrictedAt time.Time
}

// Open reports whether a dunning episode is open.
func (d DunningState) Open() bool { return !d.FailedAt.IsZero() }

// Dunning transitions (NextDunning).
const (
	DunningStale     = "stale"     // older than the last payment event: nothing changes
	DunningOpened    = "opened"    // the first failure of an episode: owners are emailed
	DunningFailed    = "failed"    // a later failure of an open episode: its invoice link is kept fresh
	DunningRecovered = "recovered" // a payment closed an open episode
	DunningPaid      = "paid"      // a payment with no episode open: nothing to clear
)

// NextDunning applies a payment event (created at, with eventID) to the
// state st whose last payment event is mark. It returns the new state, its
// mark and the transition. A failure opens an episode at its own time,
// or keeps the open one's start (a later failure only renews the invoice
// link); a payment clears the episode and any restriction. An event that
// comes before mark in OrderDunning changes nothing, so a late failure
// cannot re-open an episode a newer payment closed, nor a late payment
// close one a newer failure opened.
func NextDunning(st DunningState, mark *DunningMark, p PaymentUpdate, at time.Time, eventID string) (DunningState, DunningMark, string) {
	rank := DunningRankPaid
	if p.Failed {
		rank = DunningRankFailed
	}
	if !OrderDunning(at, rank, eventID, mark) {
		var m DunningMark
		if mark != nil {
			m = *mark
		}
		return st, m, DunningStale
	}
	next := DunningMark{At: at.UTC().Truncate(time.Second), Rank: rank, EventID: eventID}
	if !p.Failed {
		if !st.Open() && st.RestrictedAt.IsZero() {
			return st, next, DunningPaid
		}
		return DunningState{}, next, DunningRecovered
	}
	if st.Open() {
		if p.InvoiceURL != "" {
			st.InvoiceURL = p.InvoiceURL
		}
		return st, next, DunningFailed
	}
	return DunningState{FailedAt: at.UTC().Truncate(time.Second), InvoiceURL: p.InvoiceURL}, next, DunningOpened
}

// EndsDunning reports whether a subscription status closes an open
// dunning episode: active (the overdue invoice was paid, perhaps outside
// the invoice events) or a terminal status (the subscription is gone, and
// the workspace is on Free with its limits).
func EndsDunning(status string) bool {
	return status == SubActive || StatusRank(status) == RankTerminal
}

// HostedInvoiceURL returns s when it is an https URL with a host (Stripe's
// hosted invoice page), "" otherwise: the link goes into emails and pages.
func HostedInvoiceURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return ""
	}
	return u.String()
}

// GraceEnds returns when the grace period of the open episode of ws runs
// out (zero when none is open).
func (c *Catalog) GraceEnds(ws *Workspace) time.Time {
	if ws.PaymentFailedAt.IsZero() {
		return time.Time{}
	}
	return ws.PaymentFailedAt.Add(c.GracePeriod)
}

// Restricted reports whether w refuses additions because a payment is
// overdue past its grace period.
func (w *Workspace) Restricted() bool { return !w.RestrictedAt.IsZero() }

// ErrRestricted refuses an addition (a member, an invite, an API key, a
// webhook endpoint) to a restricted workspace. Reads, removals and billing
// stay allowed. It is a conflict (HTTP 409): the request is fine, the
// workspace's state refuses it until the invoice is paid.
var ErrRestricted = &Error{Code: ECONFLICT, Message: "Payments for this workspace are overdue, so new members, invites, API keys and webhooks can't be added. Pay the open invoice to continue."}

// CheckAdditions returns ErrRestricted when ws is restricted: the one
// rule every service that adds to a workspace calls.
func CheckAdditions(ws *Workspace) error {
	if ws.Restricted() {
		return ErrRestricted
	}
	return nil
}

// TrialDaysFor returns the trial a new Checkout for ws gets: the
// catalog's TrialDays, unless ws has had a subscription before (a stored
// subscription id or trial end, whatever its status): one trial per
// workspace.
func (c *Catalog) TrialDaysFor(ws *Workspace) int {
	if c.TrialDays <= 0 || ws.StripeSubscriptionID != "" || !ws.TrialEnd.IsZero() {
		return 0
	}
	return c.TrialDays
}

// Kinds of billing notices (emails to a workspace's owners).
const (
	NoticeTrialEnding   = "trial_ending"
	NoticePaymentFailed = "payment_failed"
)

// BillingNotice is what an email to an owner about the workspace's
// billing says: its trial ends soon (TrialEnd), or a payment failed
// (InvoiceURL, the hosted invoice to pay, and GraceEnds, when additions
// stop).
type BillingNotice struct {
	Kind       string
	To         string
	Workspace  string // its name
	Slug       string
	TrialEnd   time.Time
	InvoiceURL string
	FailedAt   time.Time
	// Language is the owner's saved language ("" when they chose none).
	Language string
}
