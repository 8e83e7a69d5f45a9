package billing

import (
	"context"
	"errors"
	"net/http"

	"github.com/stripe/stripe-go/v76"
)

// createPreviewParams are the parameters of POST /v1/invoices/create_preview,
// Stripe's invoice preview. stripe-go v76 predates the endpoint, so the
// request goes through the client's backend with these parameters of our
// own, encoded like stripe-go's.
type createPreviewParams struct {
	stripe.Params       `form:"*"`
	Customer            *string                           `form:"customer"`
	Subscription        *string                           `form:"subscription"`
	SubscriptionDetails *createPreviewSubscriptionDetails `form:"subscription_details"`
}

type createPreviewSubscriptionDetails struct {
	Items             []*stripe.SubscriptionItemsParams `form:"items"`
	ProrationBehavior *string                           `form:"proration_behavior"`
	ProrationDate     *int64                            `form:"proration_date"`
}

// previewChange is a subscription change to preview: one item changed
// (its price or quantity), prorated as of prorationDate.
type previewChange struct {
	customer, subscription string
	item                   *stripe.SubscriptionItemsParams
	prorationBehavior      string
	prorationDate          int64
}

// previewInvoice asks Stripe what the change would invoice, changing
// nothing. It uses the Create Preview Invoice API, which Stripe serves to
// every API version and which replaced the upcoming invoice API in later
// ones (stripe-mock serves only it). A server that does not know that
// endpoint (it answers 404) is asked the upcoming invoice instead, which
// the pinned API version 2023-10-16 still serves.
func (c *Client) previewInvoice(ctx context.Context, ch previewChange) (*stripe.Invoice, error) {
	details := &createPreviewSubscriptionDetails{Items: []*stripe.SubscriptionItemsParams{ch.item},
		ProrationDate: stripe.Int64(ch.prorationDate)}
	if ch.prorationBehavior != "" {
		details.ProrationBehavior = stripe.String(ch.prorationBehavior)
	}
	p := &createPreviewParams{Subscription: stripe.String(ch.subscription), SubscriptionDetails: details}
	if ch.customer != "" {
		p.Customer = stripe.String(ch.customer)
	}
	p.Context = ctx
	inv := &stripe.Invoice{}
	err := c.invoices.B.Call(http.MethodPost, "/v1/invoices/create_preview", c.invoices.Key, p, inv)
	var se *stripe.Error
	if err == nil || !errors.As(err, &se) || se.HTTPStatusCode != http.StatusNotFound {
		return inv, err
	}
	up := &stripe.InvoiceUpcomingParams{Subscription: stripe.String(ch.subscription),
		SubscriptionItems: []*stripe.SubscriptionItemsParams{ch.item}, SubscriptionProrationDate: stripe.Int64(ch.prorationDate)}
	if ch.customer != "" {
		up.Customer = stripe.String(ch.customer)
	}
	if ch.prorationBehavior != "" {
		up.SubscriptionProrationBehavior = stripe.String(ch.prorationBehavior)
	}
	up.Context = ctx
	return c.invoices.Upcoming(up)
}
