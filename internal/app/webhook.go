package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Webhook delivery states.
const (
	// DeliveryPending: not attempted yet.
	DeliveryPending = "pending"
	// DeliveryFailed: the last attempt failed; another is scheduled.
	DeliveryFailed = "failed"
	// DeliveryDelivered: an attempt was answered with a 2xx.
	DeliveryDelivered = "delivered"
	// DeliveryGaveUp: no attempt is left (the retries ran out, or the
	// endpoint was turned off or deleted its way to 410).
	DeliveryGaveUp = "gave_up"
)

// Limits of webhook endpoints.
const (
	// WebhookEndpointsMax is how many endpoints a workspace may have.
	WebhookEndpointsMax = 20
	// WebhookURLMax is the longest endpoint address.
	WebhookURLMax = 2000
	// WebhookDescriptionMax is the longest description.
	WebhookDescriptionMax = 200
	// WebhookRotationOverlap is how long the previous secret keeps signing
	// after a rotation, so receivers can switch at their pace.
	WebhookRotationOverlap = 24 * time.Hour
	// WebhookFailingLimit is how long an endpoint may fail every attempt
	// before it is turned off and its workspace's owners are told.
	WebhookFailingLimit = 5 * 24 * time.Hour
	// WebhookRevealTTL is how long a new secret waits for its one showing.
	WebhookRevealTTL = 10 * time.Minute
	// WebhookReplayMax is the most deliveries one "replay since" queues.
	WebhookReplayMax = 1000
)

// WebhookEndpoint is a URL of a workspace's that hears about its events.
type WebhookEndpoint struct {
	ID          int64
	WorkspaceID int64
	URL         string
	Description string
	EventTypes  []string
	Enabled     bool
	// DisabledReason says why a turned-off endpoint is off ("" while on).
	DisabledReason string
	DisabledAt     time.Time
	// FailingSince is the first failed attempt of the current run of
	// failures (zero while deliveries succeed).
	FailingSince time.Time
	// PreviousSecretUntil is when the secret before the last rotation stops
	// signing (zero: no rotation in progress).
	PreviousSecretUntil time.Time
	CreatedByID         int64
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Label is the endpoint's address as logs and the audit log show it:
// scheme and host, with "/…" when the address has more (paths and query
// strings may hold a receiver's token).
func (e *WebhookEndpoint) Label() string { return WebhookURLLabel(e.URL) }

// Subscribes reports whether the endpoint wants events of type code.
func (e *WebhookEndpoint) Subscribes(code string) bool { return slices.Contains(e.EventTypes, code) }

// WebhookURLLabel returns raw's scheme and host, and "/…" when it has a
// path or query beyond "/".
func WebhookURLLabel(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid address)"
	}
	label := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		label += "/…"
	}
	return label
}

// WebhookEndpointInput is what an owner or admin types for an endpoint.
type WebhookEndpointInput struct {
	URL         string
	Description string
	EventTypes  []string
}

// ValidateWebhookEndpoint checks an endpoint's fields, except whether the
// address is one Atrium may send to (the store checks that with the
// outbound rules in force), and returns them cleaned. Event types keep the
// catalog's order.
func ValidateWebhookEndpoint(in WebhookEndpointInput) (WebhookEndpointInput, error) {
	u := strings.TrimSpace(in.URL)
	if err := checkText("url", "address", u); err != nil {
		return in, err
	}
	switch {
	case u == "":
		return in, FieldErrorf("url", "Enter the address that should receive the events.")
	case len(u) > WebhookURLMax:
		return in, FieldErrorf("url", "Use at most %d characters for the address.", WebhookURLMax)
	}
	in.URL = u
	d, err := CleanText("description", "description", in.Description, WebhookDescriptionMax)
	if err != nil {
		return in, err
	}
	in.Description = d
	var types []string
	for _, e := range SubscribableEventTypes() {
		if slices.Contains(in.EventTypes, e.Code) {
			types = append(types, e.Code)
		}
	}
	if len(types) == 0 {
		return in, FieldErrorf("events", "Choose at least one event.")
	}
	for _, t := range in.EventTypes {
		if !slices.Contains(types, t) {
			return in, FieldErrorf("events", "Choose events from the list.")
		}
	}
	in.EventTypes = types
	return in, nil
}

// CanManageWebhooks: owners and admins manage a workspace's endpoints, as
// its API keys; a key itself never can.
func CanManageWebhooks(actor Role) error {
	if !actor.AtLeast(RoleAdmin) {
		return Errorf(EFORBIDDEN, "Only owners and admins can manage webhooks.")
	}
	return nil
}

// WebhookDelivery is one event sent (or to send) to one endpoint.
type WebhookDelivery struct {
	ID          int64
	EndpointID  int64
	WorkspaceID int64
	// MessageID is the webhook-id header ("msg_…"), the same on every
	// attempt and replay of the event.
	MessageID     string
	EventType     string
	Payload       string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastAttemptAt time.Time
	// StatusCode is the last attempt's answer (0: none, see Error).
	StatusCode int
	Latency    time.Duration
	// Excerpt is the start of the last answer's body, at most 4 KB.
	Excerpt string
	// Error says why the last attempt got no answer, without the secret
	// or the address's path.
	Error       string
	ReplayOfID  int64
	CreatedAt   time.Time
	DeliveredAt time.Time
}

// WebhookService manages a workspace's endpoints and reads their delivery
// logs. Every method takes the acting scope: another workspace's ids are
// not found.
type WebhookService interface {
	// FindWebhookEndpoints lists the workspace's endpoints, oldest first.
	FindWebhookEndpoints(ctx context.Context, sc Scope) ([]*WebhookEndpoint, error)
	// FindWebhookEndpoint returns one of them.
	FindWebhookEndpoint(ctx context.Context, sc Scope, id int64) (*WebhookEndpoint, error)
	// CreateWebhookEndpoint stores an endpoint with a new signing secret,
	// which RevealWebhookSecret shows its creator once.
	CreateWebhookEndpoint(ctx context.Context, sc Scope, in WebhookEndpointInput) (*WebhookEndpoint, error)
	// UpdateWebhookEndpoint changes the address, description and events.
	UpdateWebhookEndpoint(ctx context.Context, sc Scope, id int64, in WebhookEndpointInput) error
	// RotateWebhookSecret makes a new secret (shown once, as at creation);
	// the old one keeps signing for WebhookRotationOverlap.
	RotateWebhookSecret(ctx context.Context, sc Scope, id int64) error
	// RevealWebhookSecret returns the secret made by the acting user's
	// creation or rotation, once, within WebhookRevealTTL; "" after.
	RevealWebhookSecret(ctx context.Context, sc Scope, id int64) (string, error)
	// SetWebhookEndpointEnabled turns an endpoint on or off; turning it off
	// gives up its waiting deliveries.
	SetWebhookEndpointEnabled(ctx context.Context, sc Scope, id int64, enabled bool) error
	// DeleteWebhookEndpoint deletes an endpoint and its delivery log.
	DeleteWebhookEndpoint(ctx context.Context, sc Scope, id int64) error
	// SendWebhookTest queues a webhook.tested event to the endpoint alone.
	SendWebhookTest(ctx context.Context, sc Scope, id int64) (*WebhookDelivery, error)
	// FindWebhookDeliveries returns an endpoint's newest deliveries.
	FindWebhookDeliveries(ctx context.Context, sc Scope, endpointID int64, limit int) ([]*WebhookDelivery, error)
	// ReplayWebhookDelivery queues one delivery again, as a new delivery
	// with the same message id and payload.
	ReplayWebhookDelivery(ctx context.Context, sc Scope, endpointID, deliveryID int64) (*WebhookDelivery, error)
	// ReplayWebhookDeliveriesSince queues again every event delivered (or
	// not) to the endpoint since a time, at most WebhookReplayMax, and
	// returns how many.
	ReplayWebhookDeliveriesSince(ctx context.Context, sc Scope, endpointID int64, since time.Time) (int, error)
}

// NewWebhookMessageID returns a new event's webhook-id: "msg_" and 16
// random bytes, URL-safe.
func NewWebhookMessageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + base64.RawURLEncoding.EncodeToString(b)
}

// EventActor is who caused an event, in its payload.
type EventActor struct {
	// Type is "user", "api_key" or "system" (Stripe, or Atrium itself).
	Type  string `json:"type"`
	ID    int64  `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// NewEventPayload returns the body of the event an audit entry of a public
// action makes: its type, version and time, and data with the workspace,
// the actor, the target's id and the event type's own fields read from the
// entry's metadata. Nothing else of the entry is sent (no IP, user agent or
// other metadata). ok is false when the action is not public.
func NewEventPayload(e *AuditEntry) (body []byte, ok bool) {
	ev, ok := LookupEventType(e.Action)
	if !ok {
		return nil, false
	}
	data := make(map[string]any, len(ev.Fields)+3)
	for _, f := range ev.Fields {
		key := f.Key
		if key == "" {
			key = f.Name
		}
		data[f.Name] = e.Metadata[key]
	}
	actor := EventActor{Type: "system"}
	switch {
	case e.Metadata["actor_api_key_id"] != nil:
		id, _ := e.Metadata["actor_api_key_id"].(int64)
		if f, isFloat := e.Metadata["actor_api_key_id"].(float64); isFloat {
			id = int64(f)
		}
		label, _ := e.Metadata["actor"].(string)
		actor = EventActor{Type: "api_key", ID: id, Name: label}
	case e.ActorID != 0:
		actor = EventActor{Type: "user", ID: e.ActorID, Email: e.ActorEmail, Name: e.ActorName}
	}
	data["workspace_id"] = e.WorkspaceID
	data["actor"] = actor
	if e.TargetID != "" {
		data["target_id"] = e.TargetID
	}
	b, err := json.Marshal(struct {
		Type      string         `json:"type"`
		Version   int            `json:"version"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}{ev.Code, ev.Version, e.CreatedAt.UTC().Format(time.RFC3339Nano), data})
	if err != nil {
		return nil, false
	}
	return b, true
}
