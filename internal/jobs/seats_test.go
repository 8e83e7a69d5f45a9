package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"atrium/internal/jobs"
	"atrium/internal/mail"
	"atrium/internal/outbound"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// fakeSeats answers SyncSeats with the errors it is given, one a call.
type fakeSeats struct {
	mu    sync.Mutex
	errs  []error
	calls []int64 // the job ids
}

func (f *fakeSeats) SyncSeats(_ context.Context, _, jobID int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, jobID)
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

func (f *fakeSeats) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// refusal is an error that says no retry would help.
type refusal struct{}

func (refusal) Error() string   { return "stripe: No such subscription" }
func (refusal) Permanent() bool { return true }

// startSeats runs a runner whose seat syncer is seats.
func startSeats(t *testing.T, s *setup, seats jobs.SeatSyncer) *jobs.Runner {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(s.logs, nil))
	r, err := jobs.New(s.db.JobDriver(), jobs.Deps{
		Mail:        &mail.Deliverer{Outbox: s.outbox, Sender: s.sender, Logger: logger},
		Housekeeper: s.db,
		Webhooks:    store.NewWebhookService(s.db, make([]byte, 32), outbound.Options{}),
		Seats:       seats,
	}, jobs.Config{PollInterval: 50 * time.Millisecond, RescueAfter: time.Minute, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(5 * time.Second) })
	return r
}

// jobState reads a job's state.
func jobState(t *testing.T, r *jobs.Runner, id int64) rivertype.JobState {
	t.Helper()
	j, err := r.Client().JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j.State
}

func TestSyncSeats_Worker(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s := newSetup(t, db)
		ctx := context.Background()

		t.Run("RetriedAfterAnError", func(t *testing.T) {
			seats := &fakeSeats{errs: []error{errors.New("stripe: connection refused")}}
			r := startSeats(t, s, seats)
			res, err := r.Client().Insert(ctx, jobs.SyncSeats{WorkspaceID: 7}, nil)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the retry to complete", func() bool { return jobState(t, r, res.Job.ID) == rivertype.JobStateCompleted })
			if seats.count() != 2 || seats.calls[0] != res.Job.ID || seats.calls[1] != res.Job.ID {
				t.Errorf("calls %v, want two with the job's id %d", seats.calls, res.Job.ID)
			}
		})

		t.Run("CancelledWhenRefused", func(t *testing.T) {
			seats := &fakeSeats{errs: []error{refusal{}}}
			r := startSeats(t, s, seats)
			res, err := r.Client().Insert(ctx, jobs.SyncSeats{WorkspaceID: 8}, &river.InsertOpts{})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the job to be cancelled", func() bool { return jobState(t, r, res.Job.ID) == rivertype.JobStateCancelled })
			if seats.count() != 1 {
				t.Errorf("%d calls, want 1 (no retry)", seats.count())
			}
			if s.logs.count("seat sync refused by Stripe") == 0 {
				t.Errorf("no log line for the refusal")
			}
		})
	})
}
