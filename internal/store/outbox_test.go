package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// pendingEmails returns the messages waiting for delivery, oldest first.
func pendingEmails(t *testing.T, db *store.DB) []*app.OutboxMessage {
	t.Helper()
	rows, err := db.SQL().Query("SELECT id FROM mail_outbox WHERE status = 'pending' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	ob := store.NewOutboxService(db)
	out := make([]*app.OutboxMessage, 0, len(ids))
	for _, id := range ids {
		m, err := ob.FindEmail(context.Background(), id)
		if err != nil || m == nil {
			t.Fatalf("FindEmail(%d) = %v, %v", id, m, err)
		}
		out = append(out, m)
	}
	return out
}

// emailJobs returns the outbox ids of the queued send_email jobs, in the
// order they were queued.
func emailJobs(t *testing.T, db *store.DB) []int64 {
	t.Helper()
	args := "args"
	if db.Dialect() == store.SQLite {
		args = "json(args)" // River keeps SQLite's binary JSON
	}
	rows, err := db.SQL().Query("SELECT " + args + ", queue FROM river_job WHERE kind = 'send_email' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var raw []byte
		var queue string
		if err := rows.Scan(&raw, &queue); err != nil {
			t.Fatal(err)
		}
		if queue != "mail" {
			t.Errorf("a send_email job is on queue %q, want mail", queue)
		}
		var args struct {
			OutboxID int64 `json:"outbox_id"`
		}
		if err := json.Unmarshal(raw, &args); err != nil {
			t.Fatalf("job args %q: %v", raw, err)
		}
		ids = append(ids, args.OutboxID)
	}
	return ids
}

func TestOutboxService(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		ob := store.NewOutboxService(db)
		if err := ob.EnqueueEmail(ctx, app.Email{To: "a@example.com", Subject: "Hi", Text: "x http://x.test/invites/tok", HTML: "<a>x</a>",
			Ref: "invite:1", LinkExpiresAt: c.Now().Add(app.InviteTTL)}); err != nil {
			t.Fatal(err)
		}
		msgs := pendingEmails(t, db)
		if len(msgs) != 1 {
			t.Fatalf("%d pending emails, want 1", len(msgs))
		}
		// The message and its delivery job are stored together.
		if got := emailJobs(t, db); len(got) != 1 || got[0] != msgs[0].ID {
			t.Fatalf("send_email jobs for outbox ids %v, want [%d]", got, msgs[0].ID)
		}
		retry := c.Now().Add(30 * time.Second)
		if err := ob.MarkEmailFailed(ctx, msgs[0].ID, "451 try later", retry); err != nil {
			t.Fatal(err)
		}
		m, err := ob.FindEmail(ctx, msgs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != app.OutboxPending || m.Attempts != 1 || m.LastError != "451 try later" || !m.NextAttemptAt.Equal(retry) {
			t.Fatalf("after a failed attempt: %+v", m)
		}
		if err := ob.MarkEmailSent(ctx, msgs[0].ID, retry); err != nil {
			t.Fatal(err)
		}
		got, err := ob.FindOutboxByRef(ctx, "invite:1")
		if err != nil || len(got) != 1 {
			t.Fatalf("FindOutboxByRef = %v, %v", got, err)
		}
		if got[0].Status != app.OutboxSent || got[0].Attempts != 2 || got[0].LastError != "" {
			t.Fatalf("after send: %+v", got[0])
		}
		// Delivered: the headers stay, the bodies (and the link in them) go.
		if e := got[0].Email; e.Text != "" || e.HTML != "" || e.To != "a@example.com" || e.Subject != "Hi" ||
			!e.LinkExpiresAt.Equal(c.Now().Add(app.InviteTTL)) {
			t.Fatalf("after send: email %+v, want headers without bodies", e)
		}
		if m, err := ob.FindEmail(ctx, 1<<40); m != nil || err != nil {
			t.Fatalf("FindEmail of an unknown id = %v, %v; want nil, nil", m, err)
		}
	})
}

// TestOutbox_JobWithTheChange checks that an email caused by a change is
// queued in the change's transaction: a sign-in link request stores the
// link, the email and its job together.
func TestOutbox_JobWithTheChange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		auth := store.NewAuthService(db)
		requestLogin(t, auth, c, "someone@example.com", "")
		msgs := pendingEmails(t, db)
		if len(msgs) != 1 || msgs[0].Email.To != "someone@example.com" {
			t.Fatalf("pending emails %v, want the sign-in link", msgs)
		}
		if got := emailJobs(t, db); len(got) != 1 || got[0] != msgs[0].ID {
			t.Fatalf("send_email jobs for outbox ids %v, want [%d]", got, msgs[0].ID)
		}
	})
}
