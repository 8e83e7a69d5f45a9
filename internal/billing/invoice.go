package billing

import (
	"context"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// InvoiceLimit is how many of a customer's latest invoices Invoices reads.
const InvoiceLimit = 12

// Invoice is one of a customer's Stripe invoices, as the billing page
// shows it.
type Invoice struct {
	Number   string // "A1B2C3D-0001"; empty for a draft
	Created  time.Time
	Amount   int64  // in the currency's smallest unit: total for a draft or open invoice, paid otherwise
	Currency string // ISO code, lower case: "usd"
	Status   string // draft, open, paid, uncollectible or void
	// HostedURL is Stripe's hosted invoice page, PDFURL the PDF; either may
	// be empty (a draft has neither).
	HostedURL string
	PDFURL    string
}

// Discount is the discount a subscription has now.
type Discount struct {
	Name       string  // the coupon's name; may be empty
	PercentOff float64 // 20 for 20% off; 0 when AmountOff applies
	AmountOff  int64   // in Currency's smallest unit
	Currency   string
	Duration   string    // once, repeating or forever
	Months     int64     // for repeating
	End        time.Time // for repeating; zero otherwise
}

// Invoices returns a customer's latest invoices, newest first, at most
// InvoiceLimit.
func (c *Client) Invoices(ctx context.Context, customerID string) ([]Invoice, error) {
	p := &stripe.InvoiceListParams{Customer: stripe.String(customerID)}
	p.Context = ctx
	p.Limit = stripe.Int64(InvoiceLimit)
	// One page only: the list iterator would otherwise follow has_more.
	p.Single = true
	it := c.invoices.List(p)
	var out []Invoice
	for it.Next() && len(out) < InvoiceLimit {
		out = append(out, invoiceOf(it.Invoice()))
	}
	if err := it.Err(); err != nil {
		return nil, stripeError("list invoices", err)
	}
	return out, nil
}

func invoiceOf(in *stripe.Invoice) Invoice {
	inv := Invoice{Number: in.Number, Currency: string(in.Currency), Status: string(in.Status),
		HostedURL: in.HostedInvoiceURL, PDFURL: in.InvoicePDF, Amount: in.AmountPaid}
	if in.Created > 0 {
		inv.Created = time.Unix(in.Created, 0).UTC()
	}
	// Until it is paid, the amount that matters is what is due.
	if in.Status != stripe.InvoiceStatusPaid {
		inv.Amount = in.Total
	}
	return inv
}

// SubscriptionDiscount returns the discount a subscription has now, or nil
// when it has none.
func (c *Client) SubscriptionDiscount(ctx context.Context, subscriptionID string) (*Discount, error) {
	p := &stripe.SubscriptionParams{}
	p.Context = ctx
	sub, err := c.subscriptions.Get(subscriptionID, p)
	if err != nil {
		return nil, stripeError("fetch subscription "+subscriptionID, err)
	}
	if sub.Discount == nil || sub.Discount.Coupon == nil {
		return nil, nil
	}
	return discountOf(sub.Discount), nil
}

func discountOf(d *stripe.Discount) *Discount {
	cp := d.Coupon
	out := &Discount{Name: cp.Name, PercentOff: cp.PercentOff, AmountOff: cp.AmountOff, Currency: string(cp.Currency),
		Duration: string(cp.Duration), Months: cp.DurationInMonths}
	if d.End > 0 {
		out.End = time.Unix(d.End, 0).UTC()
	}
	return out
}
