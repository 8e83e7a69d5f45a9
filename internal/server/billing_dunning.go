package server

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
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

// billingBannerFor is billingBanner on any page, in the reader's language.
func (s *Server) billingBannerFor(r *http.Request, ws *app.Workspace, role app.Role) *layout.BillingBanner {
	if !s.Config.BillingOffered() {
		return nil
	}
	ctx, plans := r.Context(), s.Config.Plans
	loc := time.UTC
	if pr := app.PrincipalFromContext(ctx); pr != nil {
		loc = s.location(pr.User.TimeZone)
	}
	if !ws.PaymentFailedAt.IsZero() || ws.Restricted() {
		if !role.AtLeast(app.RoleAdmin) {
			return nil
		}
		b := &layout.BillingBanner{Kind: "payment_failed", LinkText: i18n.T(ctx, "billing.banner.pay_invoice"),
			LinkURL: ws.PaymentInvoiceURL, External: true}
		if b.LinkURL == "" {
			b.LinkText, b.LinkURL, b.External = i18n.T(ctx, "billing.banner.open_billing"), wsPath(ws, "/billing"), false
		}
		if ws.Restricted() {
			b.Kind, b.Message = "restricted", i18n.T(ctx, "billing.banner.restricted")
			return b
		}
		b.Message = i18n.T(ctx, "billing.banner.payment_failed", "Date", shortDate(ctx, plans.GraceEnds(ws).In(loc)))
		return b
	}
	if ws.SubscriptionStatus != app.SubTrialing || ws.TrialEnd.IsZero() {
		return nil
	}
	name := planName(ctx, plans.Effective(ws))
	msg := trialLeft(ctx, name, ws.TrialEnd.Sub(s.Now()))
	if role != app.RoleOwner {
		return &layout.BillingBanner{Kind: "trial", Message: msg}
	}
	if plans.TrialNeedsCard {
		msg += " " + i18n.T(ctx, "billing.banner.trial_starts", "Date", shortDate(ctx, ws.TrialEnd.In(loc)))
	} else {
		msg += " " + i18n.T(ctx, "billing.banner.trial_add_card", "Plan", name, "Date", shortDate(ctx, ws.TrialEnd.In(loc)))
	}
	return &layout.BillingBanner{Kind: "trial", Message: msg, LinkText: i18n.T(ctx, "billing.banner.open_billing"),
		LinkURL: wsPath(ws, "/billing")}
}

// shortDate formats a date of the banners without its year, "14 Dec"
// (billing.banner.date.format), kept on one line. t is in the reader's
// zone already.
func shortDate(ctx context.Context, t time.Time) string {
	return i18n.T(ctx, "billing.banner.date.format", "Day", strconv.Itoa(t.Day()),
		"Month", i18n.T(ctx, "date.month."+strconv.Itoa(int(t.Month()))))
}

// trialLeft words the time left in a trial of plan: "Pro trial: 9 days
// left.", "Pro trial: ends today."
func trialLeft(ctx context.Context, plan string, d time.Duration) string {
	days := int(math.Ceil(d.Hours() / 24))
	if days <= 0 {
		return i18n.T(ctx, "billing.banner.trial_today", "Plan", plan)
	}
	return i18n.N(ctx, "billing.banner.trial_left", days, "Plan", plan)
}
