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
//
// On the billing page itself (section "billing") no banner links to it.
func (s *Server) billingBanner(r *http.Request, ws *app.Workspace, role app.Role, section string) *layout.BillingBanner {
	b := s.billingBannerFor(r, ws, role)
	if b != nil && section == "billing" && !b.External {
		b.LinkText, b.LinkURL = "", ""
	}
	return b
}

// billingBannerFor is billingBanner on any page.
func (s *Server) billingBannerFor(r *http.Request, ws *app.Workspace, role app.Role) *layout.BillingBanner {
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
			shortDate(plans.GraceEnds(ws).In(loc)))
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
		msg += fmt.Sprintf(" Your subscription starts on %s.", shortDate(ws.TrialEnd.In(loc)))
	} else {
		msg += fmt.Sprintf(" Add a payment method to keep %s after %s.", name, shortDate(ws.TrialEnd.In(loc)))
	}
	return &layout.BillingBanner{Kind: "trial", Message: msg, LinkText: "Open billing", LinkURL: wsPath(ws, "/billing")}
}

// shortDate formats a date of the banners, "14 Dec", kept on one line.
func shortDate(t time.Time) string { return t.Format("2\u00a0Jan") }

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
