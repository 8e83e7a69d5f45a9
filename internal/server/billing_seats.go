package server

import (
	"context"
	"net/http"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
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
func (s *Server) seatCost(r *http.Request, ws *app.Workspace, actor app.Role, seatsUsed int) *page.SeatCost {
	if s.Stripe == nil || app.CanManageInvites(actor) != nil || !billing.PerSeat(s.Config.Plans, ws) ||
		seatsUsed+1 <= ws.SeatQuantity {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), seatPreviewTimeout)
	defer cancel()
	pv, err := s.Stripe.PreviewSeats(ctx, ws.StripeSubscriptionID, ws.SeatQuantity+1, time.Now())
	if err != nil {
		s.Logger.Warn("seat cost preview", "workspace_id", ws.ID, "error", err.Error())
		return &page.SeatCost{Unavailable: "Stripe could not tell us what another seat costs just now. " +
			"You can still send the invite: your bill follows the members who join."}
	}
	return &page.SeatCost{Today: formatMoney(pv.Today, pv.Currency), Recurring: formatMoney(pv.Recurring, pv.Currency),
		Interval: pv.Interval}
}
