package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/web/page"
)

// stripeDetailsTTL is how long the billing page reuses a workspace's
// invoices and discount read from Stripe, so reloads do not call Stripe
// each time. README.md's "Billing" section says so; change both together.
const stripeDetailsTTL = 60 * time.Second

// stripeDetails is what the billing page reads from Stripe for one
// workspace.
type stripeDetails struct {
	invoices []billing.Invoice
	discount *billing.Discount
}

// keepStripeDetails is how long the billing page keeps details: a
// minute, and failures not at all, so the next reload tries Stripe again.
func keepStripeDetails(_ stripeDetails, err error) time.Duration {
	if err != nil {
		return 0
	}
	return stripeDetailsTTL
}

// stripeDetails returns ws's invoices and discount from the cache or, when
// stale, from Stripe. The key holds the workspace's customer and
// subscription, so a new subscription is read at once.
func (s *Server) stripeDetails(ctx context.Context, ws *app.Workspace) (stripeDetails, error) {
	key := strconv.FormatInt(ws.ID, 10) + "\x00" + ws.StripeCustomerID + "\x00" + ws.StripeSubscriptionID
	now := s.Now()
	if d, _, ok := s.detailsCache.get(key, now); ok {
		return d, nil
	}
	var d stripeDetails
	var err error
	if d.invoices, err = s.Stripe.Invoices(ctx, ws.StripeCustomerID); err != nil {
		return d, err
	}
	if ws.StripeSubscriptionID != "" && ws.HasLiveSubscription() {
		if d.discount, err = s.Stripe.SubscriptionDiscount(ctx, ws.StripeSubscriptionID); err != nil {
			return d, err
		}
	}
	s.detailsCache.put(key, d, nil, now)
	return d, nil
}

// addStripeDetails fills the invoices and the discount of an owner's
// billing page. A failed Stripe call is logged and leaves a sentence in
// place of the list: the rest of the page does not depend on Stripe.
func (s *Server) addStripeDetails(ctx context.Context, v *page.BillingView, ws *app.Workspace, tz string) {
	if s.Stripe == nil || ws.StripeCustomerID == "" {
		return
	}
	v.ShowInvoices = true
	d, err := s.stripeDetails(ctx, ws)
	if err != nil {
		s.Logger.ErrorContext(ctx, "stripe call failed: billing page details", "request_id", requestIDFrom(ctx), "workspace_id", ws.ID, "error", err.Error())
		v.InvoicesError = "We could not load the invoices from Stripe just now. Reload the page in a minute, or open Manage billing to see them in Stripe."
		return
	}
	for _, in := range d.invoices {
		v.Invoices = append(v.Invoices, s.invoiceRow(ctx, in, tz))
	}
	if d.discount != nil {
		v.Discount = s.discountSentence(ctx, d.discount, tz)
	}
}

// invoiceRow is one line of the invoice table.
func (s *Server) invoiceRow(ctx context.Context, in billing.Invoice, tz string) page.BillingInvoice {
	row := page.BillingInvoice{Number: in.Number, Date: s.formatDate(ctx, in.Created, tz), Amount: formatMoney(in.Amount, in.Currency),
		HostedURL: httpsOnly(in.HostedURL), PDFURL: httpsOnly(in.PDFURL)}
	if row.Number == "" {
		row.Number = "Not numbered yet"
	}
	switch in.Status {
	case "paid":
		row.Status, row.StatusKind = "Paid", "success"
	case "open":
		row.Status, row.StatusKind = "Due", "warning"
	case "draft":
		row.Status = "Draft"
	case "uncollectible":
		row.Status, row.StatusKind = "Unpaid", "danger"
	case "void":
		row.Status = "Cancelled"
	default:
		// A status Stripe adds later still reads as a word.
		row.Status = strings.ReplaceAll(in.Status, "_", " ")
	}
	return row
}

// discountSentence says what a discount takes off and for how long, like
// "Launch offer: 20% off until 5 Mar 2027".
func (s *Server) discountSentence(ctx context.Context, d *billing.Discount, tz string) string {
	var off string
	switch {
	case d.PercentOff > 0:
		off = strconv.FormatFloat(d.PercentOff, 'f', -1, 64) + "% off"
	case d.AmountOff > 0:
		off = formatMoney(d.AmountOff, d.Currency) + " off"
	default:
		return ""
	}
	switch {
	case !d.End.IsZero():
		off += " until " + s.formatDate(ctx, d.End, tz)
	case d.Duration == "forever":
		off += " every invoice, for as long as the subscription lasts"
	case d.Duration == "once":
		off += " the next invoice"
	case d.Duration == "repeating" && d.Months > 0:
		off += fmt.Sprintf(" for %d months", d.Months)
	}
	if d.Name != "" {
		return d.Name + ": " + off
	}
	return strings.ToUpper(off[:1]) + off[1:]
}

// formatMoney formats an amount in a currency's smallest unit (see
// app.FormatMoney).
func formatMoney(amount int64, currency string) string { return app.FormatMoney(amount, currency) }

// httpsOnly keeps a Stripe link only when it is an https URL, so a
// surprising value never becomes a link on the page.
func httpsOnly(u string) string {
	if strings.HasPrefix(u, "https://") {
		return u
	}
	return ""
}
