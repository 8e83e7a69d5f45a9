package server

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"atrium/internal/app"
	"atrium/web/layout"
)

// billingBanner returns the line every page of ws shows about its billing
// state, for a member of role, or nil:
//
//   - during a dunning episode, to owners and admins: the failed payment
//     and the date additions stop, with the hosted invoice to pay; once
//     restricted, that the workspace is restricted;
//   - during a trial: the days left; owners also get the date Pro ends
//     without a payment method, and a link to the billing page.
func (s *Server) billingBanner(r *http.Request, ws *app.Workspace, role app.Role) *layout.BillingBanner {
	if !s.Config.BillingOffered() {
		return nil
	}
	plans := s.Config.Plans
	loc := time.UTC
	if pr := app.PrincipalFromContext(r.Context()); pr != nil {
		loc = s.location(pr.User.TimeZone)
	}
	if !ws.PaymentFailedAt.IsZero() || ws.Restricted() {
		if !role.AtLeast(app.RoleAdmin) {
			return nil
		}
		b := &layout.BillingBanner{Kind: "payment_failed", LinkText: "Pay the invoice", LinkURL: ws.PaymentInvoiceURL, External: true}
		if b.LinkURL == "" {
			b.LinkText, b.LinkURL, b.External = "Open billing", wsPath(ws, "/billing"), false
		}
		if ws.Restricted() {
			b.Kind, b.Message = "restricted", "This workspace is restricted until the overdue invoice is paid."
			return b
		}
		b.Message = fmt.Sprintf("A payment failed. Pay the invoice by %s to avoid restrictions.",
			plans.GraceEnds(ws).In(loc).Format("2 Jan"))
		return b
	}
	if ws.SubscriptionStatus != app.SubTrialing || ws.TrialEnd.IsZero() {
		return nil
	}
	name := plans.Effective(ws).Name
	msg := fmt.Sprintf("%s trial: %s.", name, daysLeft(ws.TrialEnd.Sub(s.Now())))
	if role != app.RoleOwner {
		return &layout.BillingBanner{Kind: "trial", Message: msg}
	}
	if plans.TrialNeedsCard {
		msg += fmt.Sprintf(" Your subscription starts on %s.", ws.TrialEnd.In(loc).Format("2 Jan"))
	} else {
		msg += fmt.Sprintf(" Add a payment method to keep %s after %s.", name, ws.TrialEnd.In(loc).Format("2 Jan"))
	}
	return &layout.BillingBanner{Kind: "trial", Message: msg, LinkText: "Open billing", LinkURL: wsPath(ws, "/billing")}
}

// daysLeft words the time left in a trial: "9 days left", "1 day left",
// "ends today".
func daysLeft(d time.Duration) string {
	days := int(math.Ceil(d.Hours() / 24))
	switch {
	case days <= 0:
		return "ends today"
	case days == 1:
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", days)
}
