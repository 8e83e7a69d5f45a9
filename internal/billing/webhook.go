package billing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"atrium/internal/app"
)

// MaxWebhookBody caps a webhook request body; Stripe's events fit in 64 KiB.
const MaxWebhookBody = 64 << 10

// SignatureTolerance is how far a signed delivery's timestamp may be from
// now, in the past or in the future.
const SignatureTolerance = 5 * time.Minute

// APIVersion is the Stripe API version stripe-go v76 speaks. Webhook
// endpoints should be pinned to it in the Stripe dashboard.
const APIVersion = stripe.APIVersion

// ErrBadSignature reports a webhook body whose signature does not verify
// (missing, wrong secret, tampered, or signed further than
// SignatureTolerance from now, either way).
var ErrBadSignature = errors.New("stripe webhook signature does not verify")

// VerifyEvent checks payload against the Stripe-Signature header and
// returns the event. An event of another API version is accepted on
// purpose: Interpret reads only fields that every version has, so a
// version mismatch never turns into an endless 400 retry loop.
func VerifyEvent(payload []byte, header, secret string) (*app.StripeEvent, error) {
	return verifyEventAt(payload, header, secret, time.Now())
}

// verifyEventAt is VerifyEvent with the clock now: stripe-go refuses a
// timestamp too far in the past, this also one too far in the future.
func verifyEventAt(payload []byte, header, secret string, now time.Time) (*app.StripeEvent, error) {
	if at, ok := signedAt(header); ok && at.Sub(now) > SignatureTolerance {
		return nil, fmt.Errorf("%w: timestamp %s is more than %s in the future", ErrBadSignature, at.Format(time.RFC3339), SignatureTolerance)
	}
	ev, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
		Tolerance:                SignatureTolerance,
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if ev.ID == "" || ev.Type == "" {
		return nil, fmt.Errorf("%w: event without id or type", ErrBadSignature)
	}
	return &app.StripeEvent{ID: ev.ID, Type: string(ev.Type), APIVersion: ev.APIVersion,
		Created: time.Unix(ev.Created, 0).UTC(), Payload: payload}, nil
}

// signedAt reads the t= timestamp of a Stripe-Signature header.
func signedAt(header string) (time.Time, bool) {
	for part := range strings.SplitSeq(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			return time.Unix(sec, 0), err == nil
		}
	}
	return time.Time{}, false
}

// Event types Atrium acts on.
const (
	EventCheckoutCompleted   = "checkout.session.completed"
	EventSubscriptionCreated = "customer.subscription.created"
	EventSubscriptionUpdated = "customer.subscription.updated"
	EventSubscriptionDeleted = "customer.subscription.deleted"
	EventInvoicePaid         = "invoice.paid"
	EventInvoiceFailed       = "invoice.payment_failed"
	// A subscription schedule (a downgrade waiting for the period end)
	// that ended: its scheduled change is cleared (change.go).
	EventScheduleReleased  = "subscription_schedule.released"
	EventScheduleCompleted = "subscription_schedule.completed"
	EventScheduleCanceled  = "subscription_schedule.canceled"
)

// ActionCheckoutCompleted is audited when a Checkout links a subscription.
const ActionCheckoutCompleted = app.ActionCheckoutCompleted

// stripeID is a field Stripe sends either as an id or as an expanded object.
type stripeID string

func (s *stripeID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = stripeID(v)
	default:
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = stripeID(v.ID)
	}
	return nil
}

// object holds the fields of the event objects Atrium reads.
type object struct {
	ID                string            `json:"id"`
	Customer          stripeID          `json:"customer"`
	Subscription      stripeID          `json:"subscription"`
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]string `json:"metadata"`
	Status            string            `json:"status"`
	CurrentPeriodEnd  int64             `json:"current_period_end"`
	CancelAtPeriodEnd *bool             `json:"cancel_at_period_end"`
	Mode              string            `json:"mode"`
	TrialEnd          int64             `json:"trial_end"`
	Items             struct {
		Data []struct {
			Price    struct{ ID string } `json:"price"`
			Quantity int64               `json:"quantity"`
		} `json:"data"`
	} `json:"items"`
}

// Interpret turns an event into the billing update it implies, or nil for
// an event type Atrium ignores. Subscription state comes only from
// subscription events, ordered by the event's creation time.
func Interpret(ev *app.StripeEvent) (*app.BillingUpdate, error) {
	var env struct {
		Data struct {
			Object object `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(ev.Payload, &env); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", ev.Type, ev.ID, err)
	}
	o := env.Data.Object
	upd := &app.BillingUpdate{CustomerID: string(o.Customer), AsOf: ev.Created, WorkspaceID: workspaceID(o)}
	switch ev.Type {
	case EventCheckoutCompleted:
		if o.Mode != "" && o.Mode != "subscription" {
			return nil, nil
		}
		upd.SubscriptionID = string(o.Subscription)
		upd.Action = ActionCheckoutCompleted
	case EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionDeleted:
		upd.SubscriptionID = o.ID
		upd.Status = o.Status
		if ev.Type == EventSubscriptionDeleted && upd.Status == "" {
			upd.Status = app.SubCanceled
		}
		if o.CurrentPeriodEnd > 0 {
			upd.PeriodEnd = time.Unix(o.CurrentPeriodEnd, 0).UTC()
		}
		upd.CancelAtEnd = o.CancelAtPeriodEnd
		if len(o.Items.Data) > 0 {
			upd.PriceID, upd.Quantity = o.Items.Data[0].Price.ID, o.Items.Data[0].Quantity
		}
		if o.TrialEnd > 0 {
			upd.TrialEnd = time.Unix(o.TrialEnd, 0).UTC()
		}
		upd.Action = app.ActionSubscriptionUpdated
		if ev.Type == EventSubscriptionDeleted {
			upd.Action = app.ActionSubscriptionDeleted
		}
		if upd.Status == "" {
			return nil, fmt.Errorf("%s %s has no subscription status", ev.Type, ev.ID)
		}
	case EventInvoicePaid:
		upd.Action = app.ActionInvoicePaid
	case EventInvoiceFailed:
		upd.Action = app.ActionPaymentFailed
	case EventScheduleReleased, EventScheduleCompleted, EventScheduleCanceled:
		// No subscription status: it orders as an update without one and
		// never moves the subscription state (app.OrderBillingUpdate).
		upd.ScheduleID, upd.ScheduleStatus = o.ID, o.Status
		upd.Action = app.ActionScheduleEnded
	default:
		return nil, nil
	}
	return upd, nil
}

// workspaceID reads the workspace id Atrium puts on its Checkout Sessions
// and subscriptions (client_reference_id and metadata.workspace_id).
func workspaceID(o object) int64 {
	for _, s := range []string{o.ClientReferenceID, o.Metadata["workspace_id"]} {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			return id
		}
	}
	return 0
}
