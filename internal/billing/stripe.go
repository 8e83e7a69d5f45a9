// Package billing talks to Stripe: Checkout and Customer Portal sessions,
// subscription reads, and verification and interpretation of webhook
// events. It holds no state; the store keeps the workspaces' billing state.
package billing

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"
	portalsession "github.com/stripe/stripe-go/v76/billingportal/session"
	checkoutsession "github.com/stripe/stripe-go/v76/checkout/session"
	"github.com/stripe/stripe-go/v76/customer"
	"github.com/stripe/stripe-go/v76/invoice"
	"github.com/stripe/stripe-go/v76/price"
	"github.com/stripe/stripe-go/v76/subscription"
	"github.com/stripe/stripe-go/v76/subscriptionitem"
	"github.com/stripe/stripe-go/v76/subscriptionschedule"

	"atrium/internal/app"
)

// Config says how to reach Stripe.
type Config struct {
	SecretKey string
	PriceID   string
	// Logger receives stripe-go's own warnings and errors; nil discards them.
	Logger *slog.Logger
	// APIBase points the client at another server (a local stripe-mock);
	// empty means Stripe's API.
	APIBase string
	// AutomaticTax turns on Stripe Tax in Checkout (STRIPE_AUTOMATIC_TAX):
	// Stripe computes the tax from the address and collects tax ids.
	AutomaticTax bool
	// Plans is the plan catalog: it names the plan of a subscription's
	// price. nil grants Pro to every paid subscription.
	Plans *app.Catalog
}

// Client makes the outbound Stripe calls Atrium needs. Its clients are
// built once, with their own backend: no package-level Stripe state.
type Client struct {
	priceID       string
	plans         *app.Catalog
	automaticTax  bool
	checkout      checkoutsession.Client
	portal        portalsession.Client
	customers     customer.Client
	subscriptions subscription.Client
	invoices      invoice.Client
	items         subscriptionitem.Client
	schedules     subscriptionschedule.Client
	prices        price.Client
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	bc := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: 20 * time.Second},
		MaxNetworkRetries: stripe.Int64(2),
		LeveledLogger:     slogAdapter{cfg.Logger},
	}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(cfg.APIBase)
	}
	b := stripe.GetBackendWithConfig(stripe.APIBackend, bc)
	return &Client{
		priceID:       cfg.PriceID,
		plans:         cfg.Plans,
		automaticTax:  cfg.AutomaticTax,
		checkout:      checkoutsession.Client{B: b, Key: cfg.SecretKey},
		portal:        portalsession.Client{B: b, Key: cfg.SecretKey},
		customers:     customer.Client{B: b, Key: cfg.SecretKey},
		subscriptions: subscription.Client{B: b, Key: cfg.SecretKey},
		invoices:      invoice.Client{B: b, Key: cfg.SecretKey},
		items:         subscriptionitem.Client{B: b, Key: cfg.SecretKey},
		schedules:     subscriptionschedule.Client{B: b, Key: cfg.SecretKey},
		prices:        price.Client{B: b, Key: cfg.SecretKey},
	}
}

// Checkout is a started Checkout Session.
type Checkout struct {
	URL        string
	SessionID  string
	CustomerID string
}

// CheckoutWindow is how long one workspace's identical Checkout requests
// share an idempotency key: a double click, or five, within it reach
// Stripe as one request and get the first Checkout Session back.
const CheckoutWindow = 10 * time.Minute

// IdempotencyKey returns the Idempotency-Key of a Stripe request of kind
// for a workspace at time at: the same for identical requests (parts)
// within one CheckoutWindow, different otherwise. Stripe answers a
// repeated key with the first response for 24 hours; the parts are in the
// key so a changed request never collides with an earlier one (Stripe
// refuses a reused key with other parameters).
func IdempotencyKey(kind string, workspaceID int64, at time.Time, parts ...string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%d", kind, workspaceID, at.Unix()/int64(CheckoutWindow/time.Second))
	for _, p := range parts {
		fmt.Fprintf(h, "\x00%s", p)
	}
	return fmt.Sprintf("atrium-%s-%d-%x", kind, workspaceID, h.Sum(nil)[:16])
}

// StartCheckout creates a subscription Checkout Session for a workspace,
// reusing its Stripe customer or creating one (named after the workspace,
// with its id in metadata) so every later event can be matched to it.
// Both requests carry an IdempotencyKey of the workspace, the parameters
// and at's CheckoutWindow, so repeated clicks get one customer and one
// Checkout Session from Stripe. Customers may enter a promotion code;
// with AutomaticTax, Stripe Tax computes the tax and may update the
// customer's name and address from what they type.
func (c *Client) StartCheckout(ctx context.Context, ws *app.Workspace, ownerEmail, successURL, cancelURL string, at time.Time) (*Checkout, error) {
	wsID := strconv.FormatInt(ws.ID, 10)
	customerID := ws.StripeCustomerID
	if customerID == "" {
		cp := &stripe.CustomerParams{Email: stripe.String(ownerEmail), Name: stripe.String(ws.Name)}
		cp.Context = ctx
		cp.IdempotencyKey = stripe.String(IdempotencyKey("customer", ws.ID, at, ownerEmail, ws.Name))
		cp.AddMetadata("workspace_id", wsID)
		cust, err := c.customers.New(cp)
		if err != nil {
			return nil, stripeError("create customer", err)
		}
		customerID = cust.ID
	}
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		Customer:          stripe.String(customerID),
		ClientReferenceID: stripe.String(wsID),
		SuccessURL:        stripe.String(successURL),
		CancelURL:         stripe.String(cancelURL),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(c.priceID), Quantity: stripe.Int64(1)}},
		SubscriptionData:  &stripe.CheckoutSessionSubscriptionDataParams{},
		// Promotion codes are made in the Stripe dashboard; Checkout shows
		// the field only when at least one is active.
		AllowPromotionCodes: stripe.Bool(true),
	}
	if c.automaticTax {
		p.AutomaticTax = &stripe.CheckoutSessionAutomaticTaxParams{Enabled: stripe.Bool(true)}
		p.TaxIDCollection = &stripe.CheckoutSessionTaxIDCollectionParams{Enabled: stripe.Bool(true)}
		// Stripe refuses automatic tax and tax id collection for an
		// existing customer unless Checkout may save the address and name
		// typed there onto the customer.
		p.CustomerUpdate = &stripe.CheckoutSessionCustomerUpdateParams{Address: stripe.String("auto"), Name: stripe.String("auto")}
	}
	trial := c.trial(p, ws)
	p.Context = ctx
	p.IdempotencyKey = stripe.String(IdempotencyKey("checkout", ws.ID, at, customerID, c.priceID, successURL, cancelURL, strconv.FormatBool(c.automaticTax), trial))
	p.AddMetadata("workspace_id", wsID)
	p.SubscriptionData.AddMetadata("workspace_id", wsID)
	s, err := c.checkout.New(p)
	if err != nil {
		return nil, stripeError("create checkout session", err)
	}
	return &Checkout{URL: s.URL, SessionID: s.ID, CustomerID: customerID}, nil
}

// trial adds the catalog's trial to a Checkout for ws, when ws may have
// one (app.Catalog.TrialDaysFor: one trial per workspace, never after an
// earlier subscription), and returns its settings as an idempotency key
// part. Without TrialNeedsCard, Checkout asks for no payment method
// (payment_method_collection=if_required) and a trial that ends without
// one cancels the subscription: its customer.subscription.deleted puts
// the workspace on Free, whose limits then refuse additions. Nothing is
// deleted.
func (c *Client) trial(p *stripe.CheckoutSessionParams, ws *app.Workspace) string {
	if c.plans == nil {
		return "no-trial"
	}
	days := c.plans.TrialDaysFor(ws)
	if days == 0 {
		return "no-trial"
	}
	p.SubscriptionData.TrialPeriodDays = stripe.Int64(int64(days))
	if c.plans.TrialNeedsCard {
		return fmt.Sprintf("trial-%d-card", days)
	}
	p.PaymentMethodCollection = stripe.String("if_required")
	p.SubscriptionData.TrialSettings = &stripe.CheckoutSessionSubscriptionDataTrialSettingsParams{
		EndBehavior: &stripe.CheckoutSessionSubscriptionDataTrialSettingsEndBehaviorParams{
			MissingPaymentMethod: stripe.String("cancel"),
		},
	}
	return fmt.Sprintf("trial-%d-no-card", days)
}

// PortalURL opens a Customer Portal session for a Stripe customer.
func (c *Client) PortalURL(ctx context.Context, customerID, returnURL string) (string, error) {
	p := &stripe.BillingPortalSessionParams{Customer: stripe.String(customerID), ReturnURL: stripe.String(returnURL)}
	p.Context = ctx
	s, err := c.portal.New(p)
	if err != nil {
		return "", stripeError("create portal session", err)
	}
	return s.URL, nil
}

// FetchSubscription reads a subscription's current state from Stripe.
func (c *Client) FetchSubscription(ctx context.Context, id string) (*app.BillingUpdate, error) {
	p := &stripe.SubscriptionParams{}
	p.Context = ctx
	sub, err := c.subscriptions.Get(id, p)
	if err != nil {
		return nil, stripeError("fetch subscription "+id, err)
	}
	upd := &app.BillingUpdate{SubscriptionID: sub.ID, Status: string(sub.Status), CancelAtEnd: stripe.Bool(sub.CancelAtPeriodEnd),
		AsOf: time.Now().UTC(), Action: app.ActionBillingSynced}
	if sub.Customer != nil {
		upd.CustomerID = sub.Customer.ID
	}
	if sub.CurrentPeriodEnd > 0 {
		upd.PeriodEnd = time.Unix(sub.CurrentPeriodEnd, 0).UTC()
	}
	if sub.TrialEnd > 0 {
		upd.TrialEnd = time.Unix(sub.TrialEnd, 0).UTC()
	}
	if sub.Items != nil && len(sub.Items.Data) > 0 && sub.Items.Data[0] != nil {
		item := sub.Items.Data[0]
		upd.Quantity = item.Quantity
		if item.Price != nil {
			upd.PriceID = item.Price.ID
		}
	}
	upd.Plan = PlanOf(c.plans, upd.PriceID)
	return upd, nil
}

// FindCustomerSubscription returns the newest subscription of a customer,
// or nil when it has none.
func (c *Client) FindCustomerSubscription(ctx context.Context, customerID string) (*app.BillingUpdate, error) {
	p := &stripe.SubscriptionListParams{Customer: stripe.String(customerID), Status: stripe.String("all")}
	p.Context = ctx
	p.Limit = stripe.Int64(1)
	it := c.subscriptions.List(p)
	if it.Next() {
		return c.FetchSubscription(ctx, it.Subscription().ID)
	}
	if err := it.Err(); err != nil {
		return nil, stripeError("list subscriptions", err)
	}
	return nil, nil
}

// PlanOf returns the catalog plan a subscription to priceID grants (Pro
// without a catalog).
func PlanOf(plans *app.Catalog, priceID string) string {
	if plans == nil {
		return app.PlanPro
	}
	return plans.PlanForPrice(priceID)
}

// slogAdapter sends stripe-go's log lines to the app's JSON log instead of
// stderr.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) log(level slog.Level, format string, v ...any) {
	if a.l != nil {
		a.l.Log(context.Background(), level, "stripe-go: "+fmt.Sprintf(format, v...))
	}
}

func (a slogAdapter) Debugf(format string, v ...any) {} // request-by-request chatter
func (a slogAdapter) Infof(format string, v ...any)  {}
func (a slogAdapter) Warnf(format string, v ...any)  { a.log(slog.LevelWarn, format, v...) }
func (a slogAdapter) Errorf(format string, v ...any) { a.log(slog.LevelError, format, v...) }

// stripeError wraps a Stripe failure with what was being done; the
// message a user sees stays generic.
func stripeError(what string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		return fmt.Errorf("stripe: %s: %s (%s, request %s): %w", what, se.Msg, se.Code, se.RequestID, err)
	}
	return fmt.Errorf("stripe: %s: %w", what, err)
}
