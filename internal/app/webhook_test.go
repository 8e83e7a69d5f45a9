package app_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
)

// TestEventCatalog: every event type is an audit action of the catalog,
// with a version, a description and typed fields, listed once; the
// direct ones cannot be subscribed to.
func TestEventCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range app.EventTypes() {
		a, ok := app.LookupAuditAction(e.Code)
		if !ok {
			t.Errorf("%s: not an audit action (internal/app/audit_catalog.go)", e.Code)
		}
		if !a.Public() {
			t.Errorf("%s: the audit action is not marked public", e.Code)
		}
		if seen[e.Code] {
			t.Errorf("%s: listed twice", e.Code)
		}
		seen[e.Code] = true
		if e.Version < 1 || e.Description == "" || e.Fields == nil {
			t.Errorf("%s: version %d, description %q, fields %v: want all set", e.Code, e.Version, e.Description, e.Fields)
		}
		for _, f := range e.Fields {
			if f.Name == "" || f.Description == "" || (f.Type != "string" && f.Type != "integer" && f.Type != "array") {
				t.Errorf("%s: field %+v incomplete", e.Code, f)
			}
			for _, secret := range []string{"token", "secret", "hash", "password"} {
				if strings.Contains(f.Name, secret) || strings.Contains(f.Key, secret) {
					t.Errorf("%s: field %q may carry a secret", e.Code, f.Name)
				}
			}
		}
	}
	for _, e := range app.SubscribableEventTypes() {
		if e.Direct {
			t.Errorf("%s: direct, yet offered to subscribers", e.Code)
		}
	}
	if a, _ := app.LookupAuditAction(app.ActionSignedIn); a.Public() {
		t.Error("auth.signed_in is public")
	}
}

// TestNewEventPayload: the payload carries the type, version, time,
// workspace, actor, target and the event's own fields, and nothing else
// of the entry.
func TestNewEventPayload(t *testing.T) {
	e := &app.AuditEntry{WorkspaceID: 7, ActorID: 3, ActorEmail: "ada@example.com", ActorName: "Ada", Action: app.ActionMemberRoleChanged,
		TargetID: "9", IP: "203.0.113.9", UserAgent: "curl", RequestID: "req-1", CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		Metadata: map[string]any{"email": "bo@example.com", "from": "member", "to": "admin", "token_hash": "abc"}}
	body, ok := app.NewEventPayload(e)
	if !ok {
		t.Fatal("member.role_changed is not public")
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	data, _ := p["data"].(map[string]any)
	actor, _ := data["actor"].(map[string]any)
	if p["type"] != app.ActionMemberRoleChanged || p["version"] != float64(1) || p["timestamp"] != "2026-12-01T09:00:00Z" ||
		data["workspace_id"] != float64(7) || data["target_id"] != "9" || data["email"] != "bo@example.com" ||
		data["from"] != "member" || data["to"] != "admin" || actor["type"] != "user" || actor["id"] != float64(3) {
		t.Errorf("payload %s", body)
	}
	for _, leak := range []string{"token_hash", "203.0.113.9", "curl", "req-1"} {
		if strings.Contains(string(body), leak) {
			t.Errorf("payload carries %q: %s", leak, body)
		}
	}
	key := e.ByAPIKey(&app.APIKey{ID: 5, Name: "bot", Prefix: "atr_abc"})
	key.ActorID = 0
	body, _ = app.NewEventPayload(&key)
	if !strings.Contains(string(body), `"actor":{"type":"api_key","id":5,"name":"API key 'bot' (atr_abc…)"}`) {
		t.Errorf("a key's event: %s", body)
	}
	if _, ok := app.NewEventPayload(&app.AuditEntry{Action: app.ActionSignedIn}); ok {
		t.Error("auth.signed_in has a payload")
	}
}

func TestValidateWebhookEndpoint(t *testing.T) {
	ok := app.WebhookEndpointInput{URL: "  https://hooks.example.com/in ", Description: " CRM   sync ",
		EventTypes: []string{app.ActionMemberLeft, app.ActionInviteSent}}
	got, err := app.ValidateWebhookEndpoint(ok)
	if err != nil || got.URL != "https://hooks.example.com/in" || got.Description != "CRM sync" ||
		strings.Join(got.EventTypes, " ") != "invite.sent member.left" {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, tc := range []struct {
		in    app.WebhookEndpointInput
		field string
	}{
		{app.WebhookEndpointInput{EventTypes: []string{app.ActionInviteSent}}, "url"},
		{app.WebhookEndpointInput{URL: "https://x.example/" + strings.Repeat("a", app.WebhookURLMax), EventTypes: []string{app.ActionInviteSent}}, "url"},
		{app.WebhookEndpointInput{URL: "https://x.example/\u202e", EventTypes: []string{app.ActionInviteSent}}, "url"},
		{app.WebhookEndpointInput{URL: "https://x.example/", Description: strings.Repeat("d", 201), EventTypes: []string{app.ActionInviteSent}}, "description"},
		{app.WebhookEndpointInput{URL: "https://x.example/"}, "events"},
		{app.WebhookEndpointInput{URL: "https://x.example/", EventTypes: []string{app.ActionInviteSent, "nope"}}, "events"},
	} {
		if _, err := app.ValidateWebhookEndpoint(tc.in); app.ErrorField(err) != tc.field {
			t.Errorf("%+v: %v, want an error beside %q", tc.in, err, tc.field)
		}
	}
}

func TestWebhookURLLabel(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hooks.example.com":                "https://hooks.example.com",
		"https://hooks.example.com/":               "https://hooks.example.com",
		"https://hooks.example.com/T0/B1/s3cr3t":   "https://hooks.example.com/…",
		"https://hooks.example.com:8443/?token=s3": "https://hooks.example.com:8443/…",
		"::": "(invalid address)",
	} {
		if got := app.WebhookURLLabel(raw); got != want {
			t.Errorf("WebhookURLLabel(%q) = %q, want %q", raw, got, want)
		}
	}
}
