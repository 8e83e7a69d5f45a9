package store_test

import (
	"context"
	"testing"
	"time"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestDB_RunJob(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		runs := 0
		job := func(context.Context) error { runs++; return nil }
		if r, err := db.RunJob(ctx, "housekeeping", "a", time.Hour, job); err != nil || !r.Ran {
			t.Fatalf("first RunJob = %+v, %v; want it to run", r, err)
		}
		if r, err := db.RunJob(ctx, "housekeeping", "b", time.Hour, job); err != nil || r.Ran || r.Skipped != "recent" {
			t.Fatalf("second RunJob within the hour = %+v, %v; want skipped as recent", r, err)
		}
		if r, err := db.RunJob(ctx, "other", "b", time.Hour, job); err != nil || !r.Ran {
			t.Fatalf("another job = %+v, %v; want it to run", r, err)
		}
		if runs != 2 {
			t.Fatalf("the jobs ran %d times, want 2", runs)
		}

		if db.Dialect() != store.Postgres {
			return
		}
		// While one instance runs the job, another skips it.
		inside := make(chan struct{})
		release := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := db.RunJob(ctx, "slow", "a", 0, func(context.Context) error {
				close(inside)
				<-release
				return nil
			})
			done <- err
		}()
		<-inside
		r, err := db.RunJob(ctx, "slow", "b", 0, job)
		close(release)
		if err != nil || r.Ran || r.Skipped != "locked" {
			t.Fatalf("RunJob while another runs = %+v, %v; want skipped as locked", r, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if r, err := db.RunJob(ctx, "slow", "b", 0, job); err != nil || !r.Ran {
			t.Fatalf("RunJob after the other finished = %+v, %v; want it to run", r, err)
		}
	})
}
