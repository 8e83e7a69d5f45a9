package store_test

import (
	"context"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestOutboxService_Stats(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		ob := store.NewOutboxService(db)
		if st, err := ob.Stats(ctx); err != nil || st != (store.OutboxStats{}) {
			t.Fatalf("Stats of an empty outbox = %+v, %v; want zero", st, err)
		}
		for _, to := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			if err := ob.EnqueueEmail(ctx, app.Email{To: to, Subject: "Hi", Text: "x"}); err != nil {
				t.Fatal(err)
			}
			c.Add(time.Minute)
		}
		// a is sent, b waits for a retry in an hour, c is due since a minute.
		msgs := pendingEmails(t, db)
		if len(msgs) != 3 {
			t.Fatalf("%d pending emails, want 3", len(msgs))
		}
		if err := ob.MarkEmailSent(ctx, msgs[0].ID, c.Now()); err != nil {
			t.Fatal(err)
		}
		if err := ob.MarkEmailFailed(ctx, msgs[1].ID, "451", c.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		st, err := ob.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := (store.OutboxStats{Pending: 2, OldestDue: time.Minute}); st != want {
			t.Fatalf("Stats = %+v, want %+v", st, want)
		}
	})
}
