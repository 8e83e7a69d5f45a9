package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/i18n"
	"atrium/web/page"
)

// seatPreviewTimeout bounds the Stripe reads of the seat cost, so that a
// slow Stripe delays the members page by at most this.
const seatPreviewTimeout = 5 * time.Second

// seatCost returns what the seat an invite would add costs, for the
// invite form: only for owners and admins of a workspace on a live
// per-seat subscription, when members, pending invites and this one would
// pass the quantity paid for (nil otherwise). A Stripe failure gives a
// sentence instead of the amounts; inviting is never blocked by it.
//
// A quantity of 0 is one Stripe has not reported yet (a subscription
// from before quantities were kept, until its next event or seat sync):
// nothing is shown rather than a guess. Answers are kept a minute per
// workspace, subscription and quantity, and a failure half a minute, so
// a busy members page asks Stripe at most about once a minute.
func (s *Server) seatCost(r *http.Request, ws *app.Workspace, actor app.Role, seatsUsed int) *page.SeatCost {
	if s.Stripe == nil || app.CanManageInvites(actor) != nil || !billing.PerSeat(s.Config.Plans, ws) ||
		ws.SeatQuantity == 0 || seatsUsed+1 <= ws.SeatQuantity {
		return nil
	}
	key := strconv.FormatInt(ws.ID, 10) + "\x00" + ws.StripeSubscriptionID + "\x00" + strconv.Itoa(ws.SeatQuantity+1)
	now := s.Now()
	pv, err, ok := s.seatCosts.get(key, now)
	if !ok {
		ctx, cancel := context.WithTimeout(r.Context(), seatPreviewTimeout)
		defer cancel()
		pv, err = s.Stripe.PreviewSeats(ctx, ws.StripeSubscriptionID, ws.SeatQuantity+1, time.Now())
		s.seatCosts.put(key, pv, err, now)
	}
	if err != nil {
		s.Logger.Warn("seat cost preview", "workspace_id", ws.ID, "error", err.Error())
		return &page.SeatCost{Unavailable: i18n.T(r.Context(), "billing.seat_cost.unavailable")}
	}
	return &page.SeatCost{Today: i18n.Money(r.Context(), pv.Today, pv.Currency),
		Recurring: i18n.Money(r.Context(), pv.Recurring, pv.Currency), Interval: pv.Interval}
}

// Lifetimes of a kept seat cost.
const (
	seatCostTTL       = time.Minute
	seatCostFailedTTL = 30 * time.Second
)

// keepSeatCost keeps a seat cost a minute and a failure half a minute.
func keepSeatCost(_ *billing.SeatPreview, err error) time.Duration {
	if err != nil {
		return seatCostFailedTTL
	}
	return seatCostTTL
}
