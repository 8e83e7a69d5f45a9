package store_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/jobs"
	"atrium/internal/mail"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestWebhookJobs_ThroughTheQueue runs a delivery the way serve does: the
// change queues a deliver_webhook job in its own transaction, a River
// client works it, the first attempt fails, the job sleeps until the
// delivery's retry is due and the second attempt is delivered, once.
func TestWebhookJobs_ThroughTheQueue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		rc := startReceiver(t)
		rc.answers(func(n int) int {
			if n == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		ep, secret := createEndpoint(t, hooks, ada, ws.ID, rc.URL+"/hook", app.ActionInviteSent)
		rc.holds(secret)
		sendInvite(t, db, c, ada.ctx, ws.ID, "grace@example.com", app.RoleMember)

		// The delivery and its job were written with the invite.
		d := deliveries(t, hooks, ada, ws.ID, ep.ID)[0]
		if d.Status != app.DeliveryPending || d.Attempts != 0 {
			t.Fatalf("the new delivery: %+v, want pending and not tried", d)
		}
		var queued int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = 'deliver_webhook' AND queue = 'webhooks'").Scan(&queued); err != nil || queued != 1 {
			t.Fatalf("%d deliver_webhook jobs (%v), want 1", queued, err)
		}

		r, err := jobs.New(db.JobDriver(), jobs.Deps{
			Mail:        &mail.Deliverer{Outbox: store.NewOutboxService(db), Sender: mail.NewLogSender(slog.New(slog.DiscardHandler))},
			Housekeeper: db, Webhooks: hooks,
		}, jobs.Config{PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Stop(5 * time.Second) })

		// The claim counts the attempt before the answer is recorded:
		// wait for the recorded failure.
		waitUntil(t, "the first attempt's failure", func() bool {
			return deliveries(t, hooks, ada, ws.ID, ep.ID)[0].Status == app.DeliveryFailed
		})
		d = deliveries(t, hooks, ada, ws.ID, ep.ID)[0]
		if d.Attempts != 1 || d.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("after a 503: %+v", d)
		}
		// The store's clock reaches the retry; the job, asleep until
		// then by the real one, makes the second attempt.
		c.Add(10 * time.Second)
		waitUntil(t, "the retry to be delivered", func() bool {
			return deliveries(t, hooks, ada, ws.ID, ep.ID)[0].Status == app.DeliveryDelivered
		})
		d = deliveries(t, hooks, ada, ws.ID, ep.ID)[0]
		if d.Attempts != 2 || d.StatusCode != http.StatusOK {
			t.Fatalf("after the retry: %+v", d)
		}
		reqs := rc.requests()
		if len(reqs) != 2 || reqs[0].ID != reqs[1].ID || reqs[1].Status != http.StatusOK {
			t.Fatalf("receiver got %+v, want two attempts of one message, the second answered 200", reqs)
		}
		var state string
		waitUntil(t, "the job to complete", func() bool {
			return db.SQL().QueryRow("SELECT state FROM river_job WHERE kind = 'deliver_webhook'").Scan(&state) == nil && state == "completed"
		})
	})
}

// waitUntil polls cond for up to 20 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWebhookDeliveries_Retention: housekeeping deletes finished
// deliveries after a month and keeps the ones still being tried.
func TestWebhookDeliveries_Retention(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		rc := startReceiver(t)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		ep, secret := createEndpoint(t, hooks, ada, ws.ID, rc.URL+"/hook", app.ActionInviteSent)
		rc.holds(secret)
		sendInvite(t, db, c, ada.ctx, ws.ID, "grace@example.com", app.RoleMember)
		deliverAll(t, hooks)
		c.Add(29 * 24 * time.Hour)
		rc.answers(func(int) int { return http.StatusInternalServerError })
		sendInvite(t, db, c, ada.ctx, ws.ID, "bo@example.com", app.RoleMember)
		deliverAll(t, hooks)
		c.Add(2 * 24 * time.Hour)
		p, err := db.PurgeExpired(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if p.WebhookDeliveries != 1 {
			t.Errorf("purged %d deliveries, want the one delivered a month ago", p.WebhookDeliveries)
		}
		ds := deliveries(t, hooks, ada, ws.ID, ep.ID)
		if len(ds) != 1 || ds[0].Status != app.DeliveryFailed {
			t.Fatalf("left %+v, want the failing delivery still being tried", ds)
		}
	})
}
