package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/jobs"
	"atrium/internal/mail"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestWebhookJobs_ThroughTheQueue runs a delivery the way serve does: the
// change writes its event in its own transaction and queues the fan-out
// job once committed, a River client fans the event out to a delivery and
// its deliver_webhook job and works that, the first attempt fails, the job
// sleeps until the delivery's retry is due and the second attempt is
// delivered, once.
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

		// The invite's transaction wrote one waiting event and no delivery
		// yet; the fan-out job, queued once it committed, writes them.
		waitUntil(t, "the fan-out job", func() bool {
			return rowCount(t, db, "SELECT COUNT(*) FROM river_job WHERE kind = 'fan_out_webhooks' AND queue = 'webhooks'") == 1
		})
		for q, want := range map[string]int{
			"SELECT COUNT(*) FROM webhook_events":                           1,
			"SELECT COUNT(*) FROM river_job WHERE kind = 'deliver_webhook'": 0,
			"SELECT COUNT(*) FROM webhook_deliveries":                       0,
		} {
			if n := rowCount(t, db, q); n != want {
				t.Fatalf("%s: %d, want %d", q, n, want)
			}
		}
		// The endpoint's log as its page reads it, without the tests'
		// own fan-out.
		logOf := func() []*app.WebhookDelivery {
			ds, err := hooks.FindWebhookDeliveries(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), ep.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			return ds
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
			ds := logOf()
			return len(ds) == 1 && ds[0].Status == app.DeliveryFailed
		})
		d := logOf()[0]
		if d.Attempts != 1 || d.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("after a 503: %+v", d)
		}
		// The store's clock reaches the retry; the job, asleep until
		// then by the real one, makes the second attempt.
		c.Add(10 * time.Second)
		waitUntil(t, "the retry to be delivered", func() bool {
			return logOf()[0].Status == app.DeliveryDelivered
		})
		d = logOf()[0]
		if d.Attempts != 2 || d.StatusCode != http.StatusOK {
			t.Fatalf("after the retry: %+v", d)
		}
		reqs := rc.requests()
		if len(reqs) != 2 || reqs[0].ID != reqs[1].ID || reqs[1].Status != http.StatusOK {
			t.Fatalf("receiver got %+v, want two attempts of one message, the second answered 200", reqs)
		}
		var state string
		waitUntil(t, "the jobs to complete", func() bool {
			return db.SQL().QueryRow("SELECT state FROM river_job WHERE kind = 'deliver_webhook'").Scan(&state) == nil && state == "completed" &&
				rowCount(t, db, "SELECT COUNT(*) FROM river_job WHERE kind = 'fan_out_webhooks' AND state <> 'completed'") == 0 &&
				rowCount(t, db, "SELECT COUNT(*) FROM webhook_events") == 0
		})
		if n := rowCount(t, db, "SELECT COUNT(*) FROM webhook_deliveries"); n != 1 {
			t.Errorf("%d deliveries, want the one", n)
		}
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
		deliverAll(t, db, hooks)
		c.Add(29 * 24 * time.Hour)
		rc.answers(func(int) int { return http.StatusInternalServerError })
		sendInvite(t, db, c, ada.ctx, ws.ID, "bo@example.com", app.RoleMember)
		deliverAll(t, db, hooks)
		c.Add(2 * 24 * time.Hour)
		p, err := db.PurgeExpired(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if p.WebhookDeliveries != 1 {
			t.Errorf("purged %d deliveries, want the one delivered a month ago", p.WebhookDeliveries)
		}
		ds := deliveries(t, db, hooks, ada, ws.ID, ep.ID)
		if len(ds) != 1 || ds[0].Status != app.DeliveryFailed {
			t.Fatalf("left %+v, want the failing delivery still being tried", ds)
		}
	})
}

// TestWebhookFanOut_Job: the change's transaction writes one waiting event
// naming the endpoints subscribed then, and queues the fan-out job once it
// commits; the fan-out writes one delivery per endpoint still subscribed,
// run once or twice, at the same time or again after a crash; an endpoint
// turned off before it runs, or made after the event, gets nothing.
func TestWebhookFanOut_Job(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		sc := app.ScopeOf(ada.ctx, ws.ID)
		a, _ := createEndpoint(t, hooks, ada, ws.ID, "https://a.example.com/", app.ActionInviteSent)
		b, _ := createEndpoint(t, hooks, ada, ws.ID, "https://b.example.com/", app.ActionInviteSent)
		off, _ := createEndpoint(t, hooks, ada, ws.ID, "https://off.example.com/", app.ActionInviteSent)

		sendInvite(t, db, c, ada.ctx, ws.ID, "grace@example.com", app.RoleMember)
		var endpoints string
		if err := db.SQL().QueryRowContext(ctx, "SELECT endpoints FROM webhook_events").Scan(&endpoints); err != nil {
			t.Fatalf("the one waiting event: %v (%d rows)", err, rowCount(t, db, "SELECT COUNT(*) FROM webhook_events"))
		}
		if want := fmt.Sprintf("%d %d %d", a.ID, b.ID, off.ID); endpoints != want {
			t.Fatalf("the event names endpoints %q, want the three subscribed, %q", endpoints, want)
		}
		// The fan-out job is queued beside the request, once it committed.
		waitUntil(t, "the fan-out job", func() bool {
			return rowCount(t, db, "SELECT COUNT(*) FROM river_job WHERE kind = 'fan_out_webhooks'") == 1
		})

		// Between the change and its fan-out: one endpoint is turned
		// off, another is made.
		if err := hooks.SetWebhookEndpointEnabled(ada.ctx, sc, off.ID, false); err != nil {
			t.Fatal(err)
		}
		late, _ := createEndpoint(t, hooks, ada, ws.ID, "https://late.example.com/", app.ActionInviteSent)

		// Two runs at once, then a third after them.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		counts := make([]int, 2)
		for i := range errs {
			wg.Go(func() { counts[i], errs[i] = hooks.FanOutWebhookEvents(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && app.ErrorCode(err) != app.EUNAVAILABLE {
				t.Errorf("a run of the fan-out: %v", err)
			}
		}
		if n, err := hooks.FanOutWebhookEvents(ctx); err != nil {
			t.Fatalf("the run after: %v", err)
		} else if counts[0]+counts[1]+n != 1 {
			t.Errorf("the runs fanned out %d, %d and %d events, want one in all", counts[0], counts[1], n)
		}
		for ep, want := range map[int64]int{a.ID: 1, b.ID: 1, off.ID: 0, late.ID: 0} {
			got := rowCount(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?", ep)
			if got != want {
				t.Errorf("endpoint %d has %d deliveries, want %d", ep, got, want)
			}
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM river_job WHERE kind = 'deliver_webhook'"); n != 2 {
			t.Errorf("%d deliver_webhook jobs, want 2", n)
		}
		msgs := rowCount(t, db, "SELECT COUNT(DISTINCT message_id) FROM webhook_deliveries")
		if msgs != 1 {
			t.Errorf("%d message ids, want the event's one", msgs)
		}

		// An event whose entry is gone (its workspace deleted before the
		// fan-out ran): nothing to send, and the event is dropped.
		if _, err := db.SQL().ExecContext(ctx, db.Rebind("INSERT INTO webhook_events (audit_id, message_id, endpoints, created_at) VALUES (?, ?, ?, ?)"),
			int64(1<<40), "msg_gone", fmt.Sprint(a.ID), time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		if n, err := hooks.FanOutWebhookEvents(ctx); err != nil || n != 1 {
			t.Errorf("the fan-out of an event whose entry is gone: %d, %v", n, err)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM webhook_events"); n != 0 {
			t.Errorf("%d events left", n)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE message_id = 'msg_gone'"); n != 0 {
			t.Errorf("%d deliveries of an event whose entry is gone", n)
		}
	})
}

// TestWebhookFanOut_WhileDeleting: an endpoint deleted while its event is
// fanned out never deadlocks the two (on PostgreSQL the delete's cascade
// and the fan-out's insert once waited for each other); the fan-out then
// leaves the deleted endpoint out.
func TestWebhookFanOut_WhileDeleting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		hooks := devWebhooks(db, nil)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		sc := app.ScopeOf(ada.ctx, ws.ID)
		for i := range 10 {
			ep, _ := createEndpoint(t, hooks, ada, ws.ID, fmt.Sprintf("https://e%d.example.com/", i), app.ActionInviteSent)
			keep, _ := createEndpoint(t, hooks, ada, ws.ID, fmt.Sprintf("https://k%d.example.com/", i), app.ActionInviteSent)
			sendInvite(t, db, c, ada.ctx, ws.ID, fmt.Sprintf("p%d@example.com", i), app.RoleMember)
			var msg string
			if err := db.SQL().QueryRowContext(ctx, "SELECT message_id FROM webhook_events").Scan(&msg); err != nil {
				t.Fatalf("round %d: the waiting event: %v", i, err)
			}
			var fanErr, delErr error
			var wg sync.WaitGroup
			wg.Go(func() { _, fanErr = hooks.FanOutWebhookEvents(ctx) })
			wg.Go(func() { delErr = hooks.DeleteWebhookEndpoint(ada.ctx, sc, ep.ID) })
			wg.Wait()
			if fanErr != nil || delErr != nil {
				t.Fatalf("round %d: fan-out %v, delete %v", i, fanErr, delErr)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?", ep.ID); n != 0 {
				t.Fatalf("round %d: %d deliveries to the deleted endpoint", i, n)
			}
			if n := rowCount(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ? AND message_id = ?", keep.ID, msg); n != 1 {
				t.Fatalf("round %d: the endpoint kept has %d deliveries of the event, want 1", i, n)
			}
		}
	})
}
