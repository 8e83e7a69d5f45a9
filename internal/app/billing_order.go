package app

import "time"

// Ranks of subscription updates within one second (see OrderBillingUpdate).
const (
	// RankNoStatus is an update that carries no subscription status
	// (checkout.session.completed): it loses every tie.
	RankNoStatus = 0
	// RankLive is any status a subscription can still leave.
	RankLive = 1
	// RankTerminal is canceled or incomplete_expired: the subscription can
	// never become live again, so it wins a tie.
	RankTerminal = 2
)

// StatusRank returns the rank of an update with status.
func StatusRank(status string) int {
	switch status {
	case "":
		return RankNoStatus
	case SubCanceled, SubIncompleteExpired:
		return RankTerminal
	}
	return RankLive
}

// BillingMark is where a workspace's billing state stands in the order of
// updates: the whole second, rank and event id of the last update applied
// to its subscription state.
type BillingMark struct {
	At      time.Time
	Rank    int
	EventID string
}

// Results of OrderBillingUpdate.
const (
	OrderOlder = -1 // the update is stale
	OrderTie   = 0  // same second and rank, both live: Stripe must settle it
	OrderNewer = 1  // the update may apply
)

// OrderBillingUpdate places an update, from the event eventID, against the
// applied state's mark (nil when nothing was applied yet). The order is
// total and does not depend on arrival:
//
//  1. the event's creation second, later first;
//  2. in one second, the rank: a terminal status beats a live one, which
//     beats an update without status;
//  3. same second and rank: an update re-read from Stripe (Refreshed)
//     wins; two live statuses tie (OrderTie) and the caller re-reads the
//     subscription from Stripe; otherwise, or when Stripe cannot be asked
//     (TieByEventID), the larger event id wins, and the event already
//     applied is not older than itself.
func OrderBillingUpdate(upd *BillingUpdate, eventID string, mark *BillingMark) int {
	if mark == nil || mark.At.IsZero() {
		return OrderNewer
	}
	at, cur := upd.AsOf.Unix(), mark.At.Unix()
	switch {
	case at > cur:
		return OrderNewer
	case at < cur:
		return OrderOlder
	}
	rank := StatusRank(upd.Status)
	switch {
	case rank > mark.Rank:
		return OrderNewer
	case rank < mark.Rank:
		return OrderOlder
	case upd.Refreshed:
		return OrderNewer
	case rank == RankLive && !upd.TieByEventID && eventID != mark.EventID:
		return OrderTie
	case eventID >= mark.EventID:
		return OrderNewer
	}
	return OrderOlder
}
