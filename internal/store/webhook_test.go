package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"atrium/internal/app"
	"atrium/internal/outbound"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestWebhookService_Endpoints: owners and admins manage endpoints; the
// secret is sealed and shown once; bad input is an error beside its field;
// members, keys and other workspaces get nothing.
func TestWebhookService_Endpoints(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		prod := store.NewWebhookService(db, testKey, outbound.Options{})
		ada := signUpMember(t, db, c, "ada@example.com")
		bo := signUpMember(t, db, c, "bo@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		other := createWorkspace(t, db, eve, "Other")
		addMember(t, db, c, ada.ctx, ws.ID, bo, app.RoleMember)
		sc := app.ScopeOf(ada.ctx, ws.ID)

		ep, secret := createEndpoint(t, hooks, ada, ws.ID, "https://hooks.example.com/in?token=abc", app.ActionInviteSent, app.ActionMemberRemoved)
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("secret %q, want whsec_…", secret)
		}
		if got := rowCount(t, db, "SELECT COUNT(*) FROM webhook_endpoints WHERE secret_sealed LIKE ?", "%"+strings.TrimPrefix(secret, "whsec_")+"%"); got != 0 {
			t.Fatal("the secret is stored in clear")
		}
		if again, err := hooks.RevealWebhookSecret(ada.ctx, sc, ep.ID); again != "" || err != nil {
			t.Fatalf("second reveal: %q, %v; want nothing", again, err)
		}
		if got, want := ep.EventTypes, []string{app.ActionInviteSent, app.ActionMemberRemoved}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("EventTypes=%v, want %v", got, want)
		}
		e := latestAudit(t, db, ws.ID, app.ActionWebhookCreated)
		if got, want := e.Metadata["url"], "https://hooks.example.com/…"; got != want {
			t.Errorf("audit url=%v, want %q (no path or token)", got, want)
		}

		t.Run("Invalid", func(t *testing.T) {
			for _, tc := range []struct {
				in    app.WebhookEndpointInput
				field string
			}{
				{app.WebhookEndpointInput{URL: "", EventTypes: []string{app.ActionInviteSent}}, "url"},
				{app.WebhookEndpointInput{URL: "http://hooks.example.com/", EventTypes: []string{app.ActionInviteSent}}, "url"},
				{app.WebhookEndpointInput{URL: "https://127.0.0.1/", EventTypes: []string{app.ActionInviteSent}}, "url"},
				{app.WebhookEndpointInput{URL: "https://[::ffff:127.0.0.1]/", EventTypes: []string{app.ActionInviteSent}}, "url"},
				{app.WebhookEndpointInput{URL: "https://2130706433/", EventTypes: []string{app.ActionInviteSent}}, "url"},
				{app.WebhookEndpointInput{URL: "https://017700000001/", EventTypes: []string{app.ActionInviteSent}}, "url"},
				{app.WebhookEndpointInput{URL: "https://169.254.169.254/latest", EventTypes: []string{app.ActionInviteSent}}, "url"},
				{app.WebhookEndpointInput{URL: "https://hooks.example.com:8443/", EventTypes: []string{app.ActionInviteSent}}, "url"},
				{app.WebhookEndpointInput{URL: "https://hooks.example.com/\xff", EventTypes: []string{app.ActionInviteSent}}, "url"},
				{app.WebhookEndpointInput{URL: "https://hooks.example.com/", Description: "bad \xfe", EventTypes: []string{app.ActionInviteSent}}, "description"},
				{app.WebhookEndpointInput{URL: "https://hooks.example.com/"}, "events"},
				{app.WebhookEndpointInput{URL: "https://hooks.example.com/", EventTypes: []string{"auth.signed_in"}}, "events"},
				{app.WebhookEndpointInput{URL: "https://hooks.example.com/", EventTypes: []string{app.ActionWebhookTested}}, "events"},
			} {
				_, err := prod.CreateWebhookEndpoint(ada.ctx, sc, tc.in)
				if app.ErrorCode(err) != app.EINVALID || app.ErrorField(err) != tc.field {
					t.Errorf("%q %q %v: err=%v field %q, want invalid %q", tc.in.URL, tc.in.Description, tc.in.EventTypes, err, app.ErrorField(err), tc.field)
				}
			}
		})

		t.Run("MemberAndOtherTenant", func(t *testing.T) {
			in := app.WebhookEndpointInput{URL: "https://hooks.example.com/", EventTypes: []string{app.ActionInviteSent}}
			if _, err := hooks.CreateWebhookEndpoint(bo.ctx, app.ScopeOf(bo.ctx, ws.ID), in); app.ErrorCode(err) != app.EFORBIDDEN {
				t.Errorf("member creates: %v, want EFORBIDDEN", err)
			}
			if _, err := hooks.CreateWebhookEndpoint(eve.ctx, app.ScopeOf(eve.ctx, ws.ID), in); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("stranger creates: %v, want ENOTFOUND", err)
			}
			// Eve, owner of another workspace, names Acme's endpoint through hers.
			esc := app.ScopeOf(eve.ctx, other.ID)
			if _, err := hooks.FindWebhookEndpoint(eve.ctx, esc, ep.ID); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("find: %v", err)
			}
			if err := hooks.UpdateWebhookEndpoint(eve.ctx, esc, ep.ID, in); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("update: %v", err)
			}
			if err := hooks.RotateWebhookSecret(eve.ctx, esc, ep.ID); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("rotate: %v", err)
			}
			if err := hooks.SetWebhookEndpointEnabled(eve.ctx, esc, ep.ID, false); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("disable: %v", err)
			}
			if _, err := hooks.SendWebhookTest(eve.ctx, esc, ep.ID); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("test: %v", err)
			}
			if _, err := hooks.FindWebhookDeliveries(eve.ctx, esc, ep.ID, 10); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("deliveries: %v", err)
			}
			if _, err := hooks.ReplayWebhookDeliveriesSince(eve.ctx, esc, ep.ID, c.Now().Add(-time.Hour)); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("replay since: %v", err)
			}
			if err := hooks.DeleteWebhookEndpoint(eve.ctx, esc, ep.ID); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("delete: %v", err)
			}
			// Bo, a member, reads nothing either: the page is for admins.
			if err := hooks.DeleteWebhookEndpoint(bo.ctx, app.ScopeOf(bo.ctx, ws.ID), ep.ID); app.ErrorCode(err) != app.EFORBIDDEN {
				t.Errorf("member deletes: %v", err)
			}
			if _, err := hooks.FindWebhookEndpoint(ada.ctx, sc, ep.ID); err != nil {
				t.Fatalf("the endpoint is gone after the refusals: %v", err)
			}
		})

		t.Run("UpdateRotateDisableDelete", func(t *testing.T) {
			in := app.WebhookEndpointInput{URL: "https://hooks.example.com/v2", Description: "Orders", EventTypes: []string{app.ActionMemberLeft}}
			if err := hooks.UpdateWebhookEndpoint(ada.ctx, sc, ep.ID, in); err != nil {
				t.Fatal(err)
			}
			got, _ := hooks.FindWebhookEndpoint(ada.ctx, sc, ep.ID)
			if got.URL != in.URL || got.Description != "Orders" || fmt.Sprint(got.EventTypes) != "[member.left]" {
				t.Errorf("after update: %+v", got)
			}
			if err := hooks.RotateWebhookSecret(ada.ctx, sc, ep.ID); err != nil {
				t.Fatal(err)
			}
			rotated, err := hooks.RevealWebhookSecret(ada.ctx, sc, ep.ID)
			if err != nil || rotated == secret || !strings.HasPrefix(rotated, "whsec_") {
				t.Fatalf("rotated secret %q, %v", rotated, err)
			}
			got, _ = hooks.FindWebhookEndpoint(ada.ctx, sc, ep.ID)
			if want := c.Now().Add(app.WebhookRotationOverlap); !got.PreviousSecretUntil.Equal(want) {
				t.Errorf("PreviousSecretUntil=%v, want %v", got.PreviousSecretUntil, want)
			}
			if err := hooks.SetWebhookEndpointEnabled(ada.ctx, sc, ep.ID, false); err != nil {
				t.Fatal(err)
			}
			if _, err := hooks.SendWebhookTest(ada.ctx, sc, ep.ID); app.ErrorCode(err) != app.ECONFLICT {
				t.Errorf("test event to a turned-off endpoint: %v, want ECONFLICT", err)
			}
			if err := hooks.SetWebhookEndpointEnabled(ada.ctx, sc, ep.ID, true); err != nil {
				t.Fatal(err)
			}
			for _, a := range []string{app.ActionWebhookUpdated, app.ActionWebhookSecretRotated, app.ActionWebhookDisabled, app.ActionWebhookEnabled} {
				if countAudit(t, db, ws.ID, a) != 1 {
					t.Errorf("%s audited %d times, want 1", a, countAudit(t, db, ws.ID, a))
				}
			}
			if err := hooks.DeleteWebhookEndpoint(ada.ctx, sc, ep.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := hooks.FindWebhookEndpoint(ada.ctx, sc, ep.ID); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("after delete: %v", err)
			}
			if countAudit(t, db, ws.ID, app.ActionWebhookDeleted) != 1 {
				t.Error("delete not audited")
			}
		})
	})
}

// TestWebhookFanOut: a public action queues one delivery per enabled
// endpoint subscribed to it, in the transaction of the change, with one
// message id; other actions and other endpoints get none; the payload
// carries the event's fields and nothing else of the entry.
func TestWebhookFanOut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		sc := app.ScopeOf(ada.ctx, ws.ID)
		a, _ := createEndpoint(t, hooks, ada, ws.ID, "https://a.example.com/", app.ActionInviteSent)
		b, _ := createEndpoint(t, hooks, ada, ws.ID, "https://b.example.com/", app.ActionInviteSent, app.ActionInviteRevoked)
		off, _ := createEndpoint(t, hooks, ada, ws.ID, "https://off.example.com/", app.ActionInviteSent)
		none, _ := createEndpoint(t, hooks, ada, ws.ID, "https://none.example.com/", app.ActionMemberLeft)
		if err := hooks.SetWebhookEndpointEnabled(ada.ctx, sc, off.ID, false); err != nil {
			t.Fatal(err)
		}
		inv, _ := sendInvite(t, db, c, ada.ctx, ws.ID, "grace@example.com", app.RoleAdmin)

		da, db2 := deliveries(t, db, hooks, ada, ws.ID, a.ID), deliveries(t, db, hooks, ada, ws.ID, b.ID)
		if len(da) != 1 || len(db2) != 1 {
			t.Fatalf("%d and %d deliveries, want 1 each", len(da), len(db2))
		}
		if len(deliveries(t, db, hooks, ada, ws.ID, off.ID))+len(deliveries(t, db, hooks, ada, ws.ID, none.ID)) != 0 {
			t.Error("a turned-off or unsubscribed endpoint got a delivery")
		}
		d := da[0]
		if d.MessageID != db2[0].MessageID || !strings.HasPrefix(d.MessageID, "msg_") || d.Status != app.DeliveryPending || d.EventType != app.ActionInviteSent {
			t.Errorf("delivery %+v", d)
		}
		var p struct {
			Type      string         `json:"type"`
			Version   int            `json:"version"`
			Timestamp string         `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(d.Payload), &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != app.ActionInviteSent || p.Version != 1 || p.Data["email"] != "grace@example.com" || p.Data["role"] != "admin" ||
			p.Data["target_id"] != fmt.Sprint(inv.ID) || p.Data["workspace_id"] != float64(ws.ID) {
			t.Errorf("payload %s", d.Payload)
		}
		actor, _ := p.Data["actor"].(map[string]any)
		if actor["type"] != "user" || actor["email"] != "ada@example.com" {
			t.Errorf("actor %v", actor)
		}
		for _, leak := range []string{"token", "hash", "ip", "user_agent", "request_id"} {
			if strings.Contains(strings.ToLower(d.Payload), `"`+leak) {
				t.Errorf("payload carries %q: %s", leak, d.Payload)
			}
		}
		// An action that is not public queues nothing.
		before := rowCount(t, db, "SELECT COUNT(*) FROM webhook_deliveries")
		newName := "Acme Two"
		if _, err := store.NewWorkspaceService(db).UpdateWorkspace(ada.ctx, sc, app.WorkspaceUpdate{Name: &newName}); err != nil {
			t.Fatal(err)
		}
		if got := rowCount(t, db, "SELECT COUNT(*) FROM webhook_deliveries"); got != before {
			t.Errorf("%d deliveries after an unsubscribed change, want %d", got, before)
		}
	})
}

// TestWebhookDelivery_FailThenRecover: a receiver that fails twice then
// answers 200 gets three attempts of one message, in order, at the
// schedule's times, each verified by the reference library; the log
// records exactly one 2xx.
func TestWebhookDelivery_FailThenRecover(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		rc := startReceiver(t)
		rc.answers(func(n int) int {
			if n <= 2 {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		})
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		ep, secret := createEndpoint(t, hooks, ada, ws.ID, rc.URL+"/hook", app.ActionInviteSent)
		rc.holds(secret)
		sendInvite(t, db, c, ada.ctx, ws.ID, "grace@example.com", app.RoleMember)

		if n := deliverAll(t, db, hooks); n != 1 {
			t.Fatalf("first round: %d attempts, want 1", n)
		}
		d := deliveries(t, db, hooks, ada, ws.ID, ep.ID)[0]
		if d.Status != app.DeliveryFailed || d.Attempts != 1 || d.StatusCode != 500 || d.Excerpt != "answer 500" {
			t.Fatalf("after a 500: %+v", d)
		}
		wait := d.NextAttemptAt.Sub(c.Now())
		if wait < 4*time.Second || wait > 6*time.Second {
			t.Errorf("retry in %s, want about 5s", wait)
		}
		if n := deliverAll(t, db, hooks); n != 0 {
			t.Fatalf("%d attempts before the retry is due", n)
		}
		got, _ := hooks.FindWebhookEndpoint(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), ep.ID)
		if got.FailingSince.IsZero() {
			t.Error("FailingSince not set after a failure")
		}
		c.Add(6 * time.Second)
		deliverAll(t, db, hooks)
		d = deliveries(t, db, hooks, ada, ws.ID, ep.ID)[0]
		if d.Status != app.DeliveryFailed || d.Attempts != 2 {
			t.Fatalf("after the second 500: %+v", d)
		}
		c.Add(6 * time.Minute)
		deliverAll(t, db, hooks)
		d = deliveries(t, db, hooks, ada, ws.ID, ep.ID)[0]
		if d.Status != app.DeliveryDelivered || d.Attempts != 3 || d.StatusCode != 204 || d.DeliveredAt.IsZero() {
			t.Fatalf("after the 204: %+v", d)
		}
		c.Add(24 * time.Hour)
		if n := deliverAll(t, db, hooks); n != 0 {
			t.Errorf("%d attempts after delivery", n)
		}
		reqs := rc.requests()
		if len(reqs) != 3 {
			t.Fatalf("receiver got %d requests, want 3", len(reqs))
		}
		ok := 0
		for i, r := range reqs {
			if r.ID != d.MessageID || r.Body != d.Payload {
				t.Errorf("attempt %d: id %q body %q, want the same message each time", i+1, r.ID, r.Body)
			}
			if r.Status/100 == 2 {
				ok++
			}
		}
		if ok != 1 || reqs[2].Status != 204 {
			t.Errorf("2xx answers %d (last %d), want exactly one, the last", ok, reqs[2].Status)
		}
		got, _ = hooks.FindWebhookEndpoint(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), ep.ID)
		if !got.FailingSince.IsZero() {
			t.Error("FailingSince kept after a success")
		}
	})
}

// TestWebhookDelivery_Gone: a 410 turns the endpoint off, gives up its
// other waiting deliveries, audits it and tells the owners.
func TestWebhookDelivery_Gone(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		hooks.Concurrency = 1
		rc := startReceiver(t)
		rc.answers(func(int) int { return http.StatusGone })
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		ep, secret := createEndpoint(t, hooks, ada, ws.ID, rc.URL+"/hook?token=s3cr3t", app.ActionInviteSent)
		rc.holds(secret)
		sendInvite(t, db, c, ada.ctx, ws.ID, "a@example.com", app.RoleMember)
		sendInvite(t, db, c, ada.ctx, ws.ID, "b@example.com", app.RoleMember)
		deliverAll(t, db, hooks)
		if got := len(rc.requests()); got != 1 {
			t.Fatalf("receiver got %d requests, want 1 (the endpoint is off after the 410)", got)
		}
		got, _ := hooks.FindWebhookEndpoint(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), ep.ID)
		if got.Enabled || !strings.Contains(got.DisabledReason, "410") {
			t.Fatalf("endpoint %+v, want off because of the 410", got)
		}
		for _, d := range deliveries(t, db, hooks, ada, ws.ID, ep.ID) {
			if d.Status != app.DeliveryGaveUp {
				t.Errorf("delivery %d is %s, want gave_up", d.ID, d.Status)
			}
		}
		e := latestAudit(t, db, ws.ID, app.ActionWebhookDisabled)
		if e.ActorID != 0 || !strings.Contains(e.Summary(), "410") {
			t.Errorf("audit %q by %d", e.Summary(), e.ActorID)
		}
		if got := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ? AND ref = 'webhook_disabled' AND text_body NOT LIKE '%s3cr3t%'", "ada@example.com"); got != 1 {
			t.Errorf("%d notices to the owner without the token, want 1", got)
		}
	})
}

// TestWebhookDelivery_FailingFiveDays: an endpoint that fails every
// attempt for five days is turned off and every owner emailed once.
func TestWebhookDelivery_FailingFiveDays(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		rc := startReceiver(t)
		rc.answers(func(int) int { return http.StatusServiceUnavailable })
		ada := signUpMember(t, db, c, "ada@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		addMember(t, db, c, ada.ctx, ws.ID, cy, app.RoleOwner)
		ep, secret := createEndpoint(t, hooks, ada, ws.ID, rc.URL+"/hook", app.ActionInviteSent)
		rc.holds(secret)
		sc := app.ScopeOf(ada.ctx, ws.ID)
		for day := 0; day <= 5; day++ {
			sendInvite(t, db, c, ada.ctx, ws.ID, fmt.Sprintf("d%d@example.com", day), app.RoleMember)
			for range 12 {
				deliverAll(t, db, hooks)
				c.Add(2 * time.Hour)
			}
			got, _ := hooks.FindWebhookEndpoint(ada.ctx, sc, ep.ID)
			if day < 4 && !got.Enabled {
				t.Fatalf("day %d: turned off already (%s)", day, got.DisabledReason)
			}
		}
		got, _ := hooks.FindWebhookEndpoint(ada.ctx, sc, ep.ID)
		if got.Enabled || !strings.Contains(got.DisabledReason, "5 days") {
			t.Fatalf("after 5 days of failures: enabled %v, reason %q", got.Enabled, got.DisabledReason)
		}
		for _, to := range []string{"ada@example.com", "cy@example.com"} {
			if n := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ? AND ref = 'webhook_disabled'", to); n != 1 {
				t.Errorf("%s got %d notices, want 1", to, n)
			}
		}
	})
}

// TestWebhookDelivery_Rotation: during the 24-hour overlap every delivery
// carries two signatures and receivers holding the old or the new secret
// both verify it with the reference library; after it, only the new one.
func TestWebhookDelivery_Rotation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		rc := startReceiver(t)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		sc := app.ScopeOf(ada.ctx, ws.ID)
		ep, oldSecret := createEndpoint(t, hooks, ada, ws.ID, rc.URL+"/hook", app.ActionInviteSent)
		if err := hooks.RotateWebhookSecret(ada.ctx, sc, ep.ID); err != nil {
			t.Fatal(err)
		}
		newSecret, err := hooks.RevealWebhookSecret(ada.ctx, sc, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		rc.holds(oldSecret, newSecret) // the receiver checks the delivery with each
		sendInvite(t, db, c, ada.ctx, ws.ID, "a@example.com", app.RoleMember)
		deliverAll(t, db, hooks)
		c.Add(app.WebhookRotationOverlap + time.Minute)
		rc.holds(newSecret)
		sendInvite(t, db, c, ada.ctx, ws.ID, "b@example.com", app.RoleMember)
		deliverAll(t, db, hooks)
		reqs := rc.requests()
		if len(reqs) != 2 || reqs[0].Sigs != 2 || reqs[1].Sigs != 1 {
			t.Fatalf("requests %+v, want two signatures during the overlap and one after", reqs)
		}
		wh, _ := standardwebhooks.NewWebhook(oldSecret)
		if err := wh.VerifyIgnoringTimestamp([]byte(reqs[1].Body), reqs[1].Header); err == nil {
			t.Error("the old secret verifies after the overlap")
		}
	})
}

// TestWebhookDelivery_ReplayAndCrash: an attempt cut short (a crash after
// the claim) comes due again when its lease ends with the same webhook-id;
// replaying one delivery or all since a time sends the same messages
// again; another endpoint's or workspace's delivery ids are not found.
func TestWebhookDelivery_ReplayAndCrash(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		rc := startReceiver(t)
		ada := signUpMember(t, db, c, "ada@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		other := createWorkspace(t, db, eve, "Other")
		sc := app.ScopeOf(ada.ctx, ws.ID)
		ep, secret := createEndpoint(t, hooks, ada, ws.ID, rc.URL+"/hook", app.ActionInviteSent)
		ep2, _ := createEndpoint(t, hooks, ada, ws.ID, rc.URL+"/other", app.ActionMemberLeft)
		eveEP, _ := createEndpoint(t, hooks, eve, other.ID, rc.URL+"/eve", app.ActionInviteSent)
		rc.holds(secret)
		sendInvite(t, db, c, ada.ctx, ws.ID, "a@example.com", app.RoleMember)
		first := deliveries(t, db, hooks, ada, ws.ID, ep.ID)[0]

		// The crash: the attempt is claimed, then nothing is recorded.
		claim := db.Rebind(`UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?`)
		if _, err := db.SQL().ExecContext(context.Background(), claim, c.Now().Add(time.Minute), first.ID); err != nil {
			t.Fatal(err)
		}
		if n := deliverAll(t, db, hooks); n != 0 {
			t.Fatalf("%d attempts while the lease holds", n)
		}
		c.Add(2 * time.Minute)
		if n := deliverAll(t, db, hooks); n != 1 {
			t.Fatalf("%d attempts after the lease, want 1", n)
		}
		d := deliveries(t, db, hooks, ada, ws.ID, ep.ID)[0]
		if d.Status != app.DeliveryDelivered || d.Attempts != 2 {
			t.Fatalf("after the restart: %+v", d)
		}

		r, err := hooks.ReplayWebhookDelivery(ada.ctx, sc, ep.ID, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.MessageID != first.MessageID || r.ReplayOfID != first.ID || r.Status != app.DeliveryPending {
			t.Errorf("replay %+v", r)
		}
		deliverAll(t, db, hooks)
		for _, bad := range []struct {
			who  teamUser
			ws   int64
			ep   int64
			what string
		}{
			{ada, ws.ID, ep2.ID, "another endpoint's delivery"},
			{eve, other.ID, eveEP.ID, "another workspace's delivery, through its own endpoint"},
			{eve, other.ID, ep.ID, "another workspace's endpoint"},
		} {
			if _, err := hooks.ReplayWebhookDelivery(bad.who.ctx, app.ScopeOf(bad.who.ctx, bad.ws), bad.ep, first.ID); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("%s: %v, want ENOTFOUND", bad.what, err)
			}
		}
		sendInvite(t, db, c, ada.ctx, ws.ID, "b@example.com", app.RoleMember)
		deliverAll(t, db, hooks)
		n, err := hooks.ReplayWebhookDeliveriesSince(ada.ctx, sc, ep.ID, c.Now().Add(-time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("replay since: %d, %v; want the 2 original events", n, err)
		}
		if _, err := hooks.ReplayWebhookDeliveriesSince(ada.ctx, sc, ep.ID, c.Now().Add(time.Hour)); app.ErrorField(err) != "since" {
			t.Errorf("replay since the future: %v, want an error beside since", err)
		}
		deliverAll(t, db, hooks)
		ids := map[string]int{}
		for _, r := range rc.requests() {
			ids[r.ID]++
		}
		if len(rc.requests()) != 5 || len(ids) != 2 || ids[first.MessageID] != 3 {
			t.Errorf("receiver got %d requests over %d ids (%v), want 5: 1 after the crash, 1 replay, 1 new, 2 replayed since", len(rc.requests()), len(ids), ids)
		}
		if countAudit(t, db, ws.ID, app.ActionWebhookReplayed) != 2 {
			t.Error("replays not audited")
		}
	})
}

// TestWebhookDelivery_Flood: a thousand events to a slow receiver are
// sent in bounded batches, a few at a time, by two pollers at once, each
// message exactly once.
func TestWebhookDelivery_Flood(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		one, two := devWebhooks(db, nil), devWebhooks(db, nil)
		rc := startReceiver(t)
		rc.delay = 2 * time.Millisecond
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		ep, secret := createEndpoint(t, one, ada, ws.ID, rc.URL+"/hook", app.ActionInviteSent)
		rc.holds(secret)
		sc := app.ScopeOf(ada.ctx, ws.ID)
		const events = 1000
		for range events {
			if _, err := one.SendWebhookTest(ada.ctx, sc, ep.ID); err != nil {
				t.Fatal(err)
			}
		}
		const batch = 25
		done := make(chan int, 2)
		for _, h := range []*store.WebhookService{one, two} {
			go func() {
				total := 0
				for {
					n, err := h.DeliverDue(context.Background(), batch)
					if err != nil {
						t.Error(err)
					}
					if n > batch {
						t.Errorf("a batch of %d, want at most %d", n, batch)
					}
					if n == 0 {
						done <- total
						return
					}
					total += n
				}
			}()
		}
		total := <-done + <-done
		if total != events {
			t.Errorf("%d attempts, want %d", total, events)
		}
		ids := map[string]bool{}
		for _, r := range rc.requests() {
			if ids[r.ID] {
				t.Fatalf("message %s sent twice", r.ID)
			}
			ids[r.ID] = true
		}
		if len(ids) != events {
			t.Errorf("%d messages received, want %d", len(ids), events)
		}
		if got, limit := rc.maxInflight.Load(), int32(2*one.Concurrency); got > limit {
			t.Errorf("%d requests in flight at once, want at most %d", got, limit)
		}
	})
}

// TestWebhookDelivery_SSRF: endpoints whose address leads to this machine
// or the cloud metadata service are refused when the attempt connects,
// whatever the name resolved to when it was saved, and the refusal is
// logged without the secret, the path or the query string.
func TestWebhookDelivery_SSRF(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		rc := startReceiver(t)
		port := rc.port()
		resolver := startDNS(t, map[string][]string{
			"loopback.atrium.test": {"127.0.0.1"},
			"metadata.atrium.test": {"169.254.169.254"},
			"rebind.atrium.test":   {"8.8.8.8", "127.0.0.1"},
		})
		var logs bytes.Buffer
		dev := devWebhooks(db, nil)
		prod := store.NewWebhookService(db, testKey, outbound.Options{AllowHTTP: true, Ports: []int{port}, Resolver: resolver})
		prod.Logger = devWebhooks(db, &logs).Logger
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		sc := app.ScopeOf(ada.ctx, ws.ID)
		// The rebinding name answers a public address first, as a check
		// when saving would see it.
		if first, err := resolver.LookupHost(context.Background(), "rebind.atrium.test"); err != nil || first[0] != "8.8.8.8" {
			t.Fatalf("first answer %v, %v", first, err)
		}
		p := fmt.Sprint(port)
		var secrets []string
		for _, raw := range []string{
			"http://loopback.atrium.test:" + p + "/hook?token=s3cr3t",
			"http://metadata.atrium.test:" + p + "/latest/meta-data?token=s3cr3t",
			"http://rebind.atrium.test:" + p + "/s3cr3t-path",
			"http://[::ffff:127.0.0.1]:" + p + "/hook?token=s3cr3t",
			"http://2130706433:" + p + "/hook?token=s3cr3t",
			"http://017700000001:" + p + "/hook?token=s3cr3t",
			"http://127.0.0.1:" + p + "/hook?token=s3cr3t",
		} {
			// Names pass when saved (they are checked when connecting);
			// literal and numeric hosts are refused at once.
			_, err := prod.CreateWebhookEndpoint(ada.ctx, sc, app.WebhookEndpointInput{URL: raw, EventTypes: []string{app.ActionInviteSent}})
			named := strings.Contains(raw, ".atrium.test")
			if named && err != nil {
				t.Fatalf("save %s: %v", raw, err)
			}
			if !named && app.ErrorField(err) != "url" {
				t.Errorf("save %s: %v, want an error beside url", raw, err)
			}
			if !named {
				// Saved by an older release, or while WEBHOOK_ALLOW_PRIVATE
				// was on (numeric hosts are refused even then), sent after.
				ep, _ := createEndpoint(t, dev, ada, ws.ID, rc.URL+"/hook", app.ActionInviteSent)
				if _, err := db.SQL().ExecContext(context.Background(), db.Rebind(`UPDATE webhook_endpoints SET url = ? WHERE id = ?`), raw, ep.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, ep := range mustEndpoints(t, prod, ada, ws.ID) {
			if s, err := prod.RevealWebhookSecret(ada.ctx, sc, ep.ID); err == nil && s != "" {
				secrets = append(secrets, s)
			}
		}
		sendInvite(t, db, c, ada.ctx, ws.ID, "a@example.com", app.RoleMember)
		if n := deliverAll(t, db, prod); n != 7 {
			t.Fatalf("%d attempts, want 7", n)
		}
		if got := len(rc.requests()); got != 0 {
			t.Fatalf("the receiver on 127.0.0.1 got %d requests, want 0", got)
		}
		for _, ep := range mustEndpoints(t, prod, ada, ws.ID) {
			d := deliveries(t, db, prod, ada, ws.ID, ep.ID)[0]
			if d.Status != app.DeliveryFailed || d.StatusCode != 0 || !strings.Contains(d.Error, "Atrium only sends to public addresses") {
				t.Errorf("%s: %+v, want a refusal", ep.Label(), d)
			}
			if strings.Contains(d.Error, "s3cr3t") {
				t.Errorf("%s: the log shows the token: %q", ep.Label(), d.Error)
			}
		}
		out := logs.String()
		if got := strings.Count(out, "webhook address refused"); got != 7 {
			t.Errorf("%d refusals logged, want 7:\n%s", got, out)
		}
		for _, s := range append(secrets, "s3cr3t", strings.TrimPrefix(secrets[0], "whsec_")) {
			if strings.Contains(out, s) {
				t.Errorf("the log holds %q", s)
			}
		}
		if !strings.Contains(out, "rebind.atrium.test resolves to 127.0.0.1") || !strings.Contains(out, "169.254.169.254") {
			t.Errorf("the log does not name the refused addresses:\n%s", out)
		}
	})
}

// TestWebhookDelivery_Redirect: a redirect to the metadata address is not
// followed; the attempt is recorded as the 3xx it was and retried.
func TestWebhookDelivery_Redirect(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		var hits atomic.Int32
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}))
		defer redirector.Close()
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		ep, _ := createEndpoint(t, hooks, ada, ws.ID, redirector.URL+"/hook", app.ActionInviteSent)
		sendInvite(t, db, c, ada.ctx, ws.ID, "a@example.com", app.RoleMember)
		deliverAll(t, db, hooks)
		d := deliveries(t, db, hooks, ada, ws.ID, ep.ID)[0]
		if d.Status != app.DeliveryFailed || d.StatusCode != http.StatusFound {
			t.Errorf("after a redirect: %+v, want failed with 302", d)
		}
		if got := hits.Load(); got != 1 {
			t.Errorf("redirector got %d requests, want 1", got)
		}
	})
}

// mustEndpoints lists a workspace's endpoints.
func mustEndpoints(t *testing.T, hooks *store.WebhookService, who teamUser, workspaceID int64) []*app.WebhookEndpoint {
	t.Helper()
	eps, err := hooks.FindWebhookEndpoints(who.ctx, app.ScopeOf(who.ctx, workspaceID))
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

// TestWebhookDelivery_WrongKey: when the key that seals the secrets
// changed, an attempt is recorded as failed and retried on the schedule,
// never sent unsigned and never left claimed.
func TestWebhookDelivery_WrongKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		rc := startReceiver(t)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		ep, _ := createEndpoint(t, hooks, ada, ws.ID, rc.URL+"/hook", app.ActionInviteSent)
		sendInvite(t, db, c, ada.ctx, ws.ID, "a@example.com", app.RoleMember)
		other := store.NewWebhookService(db, bytes.Repeat([]byte{9}, 32), outbound.Options{AllowPrivate: true})
		if n := deliverAll(t, db, other); n != 1 {
			t.Fatalf("%d attempts, want 1", n)
		}
		d := deliveries(t, db, hooks, ada, ws.ID, ep.ID)[0]
		if d.Status != app.DeliveryFailed || d.Attempts != 1 || !strings.Contains(d.Error, "signing secret") {
			t.Errorf("after a wrong key: %+v", d)
		}
		if got := len(rc.requests()); got != 0 {
			t.Errorf("the receiver got %d requests, want 0", got)
		}
	})
}
