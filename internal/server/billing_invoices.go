package server

import (
	"context"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/i18n"
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
		v.InvoicesError = i18n.T(ctx, "billing.invoices.error")
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
	row := page.BillingInvoice{Number: in.Number, Numbered: in.Number != "", Date: s.formatDate(ctx, in.Created, tz),
		Amount: i18n.Money(ctx, in.Amount, in.Currency), HostedURL: httpsOnly(in.HostedURL), PDFURL: httpsOnly(in.PDFURL)}
	if row.Number == "" {
		row.Number = i18n.T(ctx, "billing.invoices.not_numbered")
	}
	switch in.Status {
	case "paid":
		row.StatusKind = "success"
	case "open":
		row.StatusKind = "warning"
	case "uncollectible":
		row.StatusKind = "danger"
	}
	// A status Stripe adds later still reads as a word.
	row.Status = catalogText(ctx, "billing.invoices.status_"+in.Status, strings.ReplaceAll(in.Status, "_", " "))
	return row
}

// discountSentence says what a discount takes off and for how long, like
// "Launch offer: 20% off until 5 Mar 2027". The coupon's name is the
// operator's, shown as Stripe has it.
func (s *Server) discountSentence(ctx context.Context, d *billing.Discount, tz string) string {
	var off string
	switch {
	case d.PercentOff > 0:
		off = i18n.T(ctx, "billing.discount.percent", "Percent", decimal(ctx, d.PercentOff))
	case d.AmountOff > 0:
		off = i18n.Money(ctx, d.AmountOff, d.Currency)
	default:
		return ""
	}
	var text string
	switch {
	case !d.End.IsZero():
		text = i18n.T(ctx, "billing.discount.until", "Off", off, "Date", s.formatDate(ctx, d.End, tz))
	case d.Duration == "forever":
		text = i18n.T(ctx, "billing.discount.forever", "Off", off)
	case d.Duration == "once":
		text = i18n.T(ctx, "billing.discount.once", "Off", off)
	case d.Duration == "repeating" && d.Months > 0:
		text = i18n.N(ctx, "billing.discount.months", int(d.Months), "Off", off)
	default:
		text = i18n.T(ctx, "billing.discount.off", "Off", off)
	}
	if d.Name != "" {
		return i18n.T(ctx, "billing.discount.named", "Name", d.Name, "Discount", text)
	}
	return text
}

// decimal writes a number that may have a fraction (12.5) with the
// decimal mark of the reader's language.
func decimal(ctx context.Context, f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	whole, frac, ok := strings.Cut(s, ".")
	if !ok {
		return s
	}
	// The printer's own mark: what 1.5 looks like in the language.
	mark := strings.Trim(message.NewPrinter(language.Make(i18n.Lang(ctx))).Sprintf("%.1f", 1.5), "15")
	if mark == "" {
		mark = "."
	}
	return whole + mark + frac
}

// httpsOnly keeps a Stripe link only when it is an https URL, so a
// surprising value never becomes a link on the page.
func httpsOnly(u string) string {
	if strings.HasPrefix(u, "https://") {
		return u
	}
	return ""
}
