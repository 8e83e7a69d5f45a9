package billing

import (
	"context"
	"errors"
	"net/http"

	"github.com/stripe/stripe-go/v76"

	"atrium/internal/app"
)

// StripePrice is what Stripe says about one price, for the configuration
// checks that hold the catalog's prices against it.
type StripePrice struct {
	ID string
	// Found is false when Stripe has no price with ID (in this mode).
	Found  bool
	Active bool
	// Recurring is false for a one-time price, which no subscription can
	// use; Interval and IntervalCount say how often a recurring one bills.
	Recurring     bool
	Interval      app.Interval
	IntervalCount int64
	Currency      string // lower-case ISO 4217
	// Amount is the unit amount in the currency's smallest unit; 0 for a
	// tiered or customer-chosen price.
	Amount int64
}

// Price reads one price from Stripe. A price Stripe does not know comes
// back with Found false and no error; any other failure is an error.
func (c *Client) Price(ctx context.Context, id string) (StripePrice, error) {
	params := &stripe.PriceParams{}
	params.Context = ctx
	p, err := c.prices.Get(id, params)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && (se.Code == stripe.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound) {
			return StripePrice{ID: id}, nil
		}
		return StripePrice{ID: id}, stripeError("read price "+id, err)
	}
	out := StripePrice{ID: id, Found: !p.Deleted, Active: p.Active, Currency: string(p.Currency), Amount: p.UnitAmount}
	if p.Recurring != nil && p.Type != stripe.PriceTypeOneTime {
		out.Recurring = true
		out.Interval = app.Interval(p.Recurring.Interval)
		out.IntervalCount = p.Recurring.IntervalCount
	}
	return out, nil
}
