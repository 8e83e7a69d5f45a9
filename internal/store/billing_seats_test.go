package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"atrium/internal/app"
	"atrium/internal/jobs"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// seatJobs returns the SyncSeats jobs of a workspace by state.
func seatJobs(t *testing.T, db *store.DB, workspaceID int64) map[rivertype.JobState]int {
	t.Helper()
	res, err := db.Jobs().JobList(context.Background(), river.NewJobListParams().Kinds(jobs.SyncSeats{}.Kind()).First(1000))
	if err != nil {
		t.Fatalf("list jobs: %v", err)
	}
	out := map[rivertype.JobState]int{}
	for _, j := range res.Jobs {
		var args jobs.SyncSeats
		if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
			t.Fatalf("args of job %d: %v", j.ID, err)
		}
		if args.WorkspaceID == workspaceID {
			out[j.State]++
		}
	}
	return out
}

// clearSeatJobs deletes every SyncSeats job.
func clearSeatJobs(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := db.SQL().Exec(`DELETE FROM river_job WHERE kind = 'sync_seats'`); err != nil {
		t.Fatalf("clear jobs: %v", err)
	}
}

// subscribe gives a workspace a live per-seat subscription of quantity.
func subscribe(t *testing.T, db *store.DB, workspaceID int64, quantity int64) {
	t.Helper()
	if err := store.NewBillingService(db).SyncSubscription(context.Background(), workspaceID, app.BillingUpdate{
		SubscriptionID: fmt.Sprintf("sub_seats_%d", workspaceID), CustomerID: fmt.Sprintf("cus_%d", workspaceID),
		Status: app.SubActive, Plan: app.PlanPro, PriceID: "price_pro_monthly", Quantity: quantity, AsOf: time.Now()}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
}

// wantOneWaiting fails unless the workspace has exactly one SyncSeats job
// waiting to run (scheduled ahead) and none other but running ones.
func wantOneWaiting(t *testing.T, db *store.DB, workspaceID int64, running int) {
	t.Helper()
	got := seatJobs(t, db, workspaceID)
	if got[rivertype.JobStateScheduled] != 1 || got[rivertype.JobStateRunning] != running || len(got) > 2 ||
		(len(got) == 2 && running == 0) {
		t.Fatalf("seat jobs=%v, want one scheduled and %d running", got, running)
	}
}

func TestBillingService_SeatSyncQueue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		members := store.NewMemberService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Seats")
		free := createWorkspace(t, db, ada, "Free")
		subscribe(t, db, ws.ID, 1)
		clearSeatJobs(t, db)

		var people []teamUser
		for i := range 6 {
			people = append(people, signUpMember(t, db, c, fmt.Sprintf("p%d@example.com", i)))
		}

		t.Run("Join", func(t *testing.T) {
			addMember(t, db, c, ada.ctx, ws.ID, people[0], app.RoleMember)
			wantOneWaiting(t, db, ws.ID, 0)
			var at time.Time
			if err := db.SQL().QueryRow(`SELECT scheduled_at FROM river_job WHERE kind = 'sync_seats'`).Scan(&at); err != nil {
				t.Fatal(err)
			}
			if ahead := time.Until(at); ahead < time.Second || ahead > jobs.SyncSeatsDelay {
				t.Errorf("scheduled %s ahead, want about %s", ahead, jobs.SyncSeatsDelay)
			}
		})
		t.Run("BurstSharesOneJob", func(t *testing.T) {
			for _, p := range people[1:4] {
				addMember(t, db, c, ada.ctx, ws.ID, p, app.RoleMember)
			}
			wantOneWaiting(t, db, ws.ID, 0)
		})
		t.Run("Leave", func(t *testing.T) {
			clearSeatJobs(t, db)
			if err := members.LeaveWorkspace(people[0].ctx, app.ScopeOf(people[0].ctx, ws.ID)); err != nil {
				t.Fatalf("leave: %v", err)
			}
			wantOneWaiting(t, db, ws.ID, 0)
		})
		t.Run("Remove", func(t *testing.T) {
			clearSeatJobs(t, db)
			if err := members.RemoveMember(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), people[1].ID); err != nil {
				t.Fatalf("remove: %v", err)
			}
			wantOneWaiting(t, db, ws.ID, 0)
		})
		t.Run("RoleChangeQueuesNothing", func(t *testing.T) {
			clearSeatJobs(t, db)
			if err := members.ChangeMemberRole(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), people[2].ID, app.RoleAdmin); err != nil {
				t.Fatalf("change role: %v", err)
			}
			if got := seatJobs(t, db, ws.ID); len(got) != 0 {
				t.Fatalf("seat jobs=%v, want none", got)
			}
		})
		t.Run("ChangeWhileRunning", func(t *testing.T) {
			// The waiting job starts (it may count the members now); the
			// removal after it must queue the next.
			addMember(t, db, c, ada.ctx, ws.ID, people[4], app.RoleMember)
			if _, err := db.SQL().Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = CURRENT_TIMESTAMP WHERE kind = 'sync_seats'`); err != nil {
				t.Fatal(err)
			}
			if err := members.RemoveMember(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), people[4].ID); err != nil {
				t.Fatalf("remove: %v", err)
			}
			wantOneWaiting(t, db, ws.ID, 1)
		})
		t.Run("DeletedAccount", func(t *testing.T) {
			clearSeatJobs(t, db)
			if err := store.NewUserService(db).DeleteUser(people[3].ctx); err != nil {
				t.Fatalf("delete user: %v", err)
			}
			wantOneWaiting(t, db, ws.ID, 0)
		})
		t.Run("NoSubscriptionQueuesNothing", func(t *testing.T) {
			addMember(t, db, c, ada.ctx, free.ID, people[5], app.RoleMember)
			if got := seatJobs(t, db, free.ID); len(got) != 0 {
				t.Fatalf("seat jobs of the free workspace=%v, want none", got)
			}
		})
	})
}

func TestBillingService_SeatState(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewBillingService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Seats")
		other := createWorkspace(t, db, ada, "Other tenant")
		subscribe(t, db, ws.ID, 1)
		bo := signUpMember(t, db, c, "bo@example.com")
		addMember(t, db, c, ada.ctx, ws.ID, bo, app.RoleMember)
		// Pending invites do not count, nor another workspace's members.
		sendInvite(t, db, c, ada.ctx, ws.ID, "pending@example.com", app.RoleMember)
		for i := range 3 {
			addMember(t, db, c, ada.ctx, other.ID, signUpMember(t, db, c, fmt.Sprintf("o%d@example.com", i)), app.RoleMember)
		}
		got, n, err := svc.SeatState(context.Background(), ws.ID)
		if err != nil {
			t.Fatalf("SeatState: %v", err)
		}
		if n != 2 || got.SeatQuantity != 1 || got.StripeSubscriptionID == "" {
			t.Fatalf("members=%d quantity=%d sub=%q, want 2, 1 and the subscription", n, got.SeatQuantity, got.StripeSubscriptionID)
		}

		t.Run("Record", func(t *testing.T) {
			clearSeatJobs(t, db)
			if err := svc.RecordSeats(context.Background(), ws.ID, 1, 2); err != nil {
				t.Fatalf("RecordSeats: %v", err)
			}
			if ws, _, _ := svc.SeatState(context.Background(), ws.ID); ws.SeatQuantity != 2 {
				t.Fatalf("quantity=%d, want 2", ws.SeatQuantity)
			}
			entries := auditOf(t, db, ws.ID)
			if e := entries[0]; e.Action != app.ActionSeatsSynced || fmt.Sprint(e.Metadata["from"]) != "1" || fmt.Sprint(e.Metadata["to"]) != "2" {
				t.Fatalf("newest entry %s %v, want %s from 1 to 2", e.Action, e.Metadata, app.ActionSeatsSynced)
			}
			if got := seatJobs(t, db, ws.ID); len(got) != 0 {
				t.Fatalf("seat jobs=%v, want none (the count is in step)", got)
			}
		})
		t.Run("RecordBehindQueuesNext", func(t *testing.T) {
			// Stripe was given 3 while a member left meanwhile: the next
			// sync is queued.
			before := countAudit(t, db, ws.ID, app.ActionSeatsSynced)
			if err := svc.RecordSeats(context.Background(), ws.ID, 2, 3); err != nil {
				t.Fatalf("RecordSeats: %v", err)
			}
			wantOneWaiting(t, db, ws.ID, 0)
			if err := svc.RecordSeats(context.Background(), ws.ID, 3, 3); err != nil {
				t.Fatalf("RecordSeats: %v", err)
			}
			if got := countAudit(t, db, ws.ID, app.ActionSeatsSynced); got != before+1 {
				t.Fatalf("seats_synced entries=%d, want %d (an unchanged quantity is not audited)", got, before+1)
			}
		})
	})
}

// TestBillingService_SeatSyncQueue_SSOJoin: a just-in-time join by single
// sign-on queues the seat sync like an accepted invite.
func TestBillingService_SeatSyncQueue_SSOJoin(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewSSOService(db, bytes.Repeat([]byte{7}, 32), testPlans())
		ada := signUpMember(t, db, c, "ada@acme.test")
		ws := createWorkspace(t, db, ada, "Acme")
		subscribe(t, db, ws.ID, 1)
		sc := app.ScopeOf(ada.ctx, ws.ID)
		requireCode(t, "save", svc.SaveSSOConnection(ada.ctx, sc, "https://idp.acme.test", "client", "secret"), "")
		d, err := svc.AddSSODomain(ada.ctx, sc, "acme.test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MarkSSODomainVerified(ada.ctx, sc, d.ID); err != nil {
			t.Fatal(err)
		}
		requireCode(t, "jit on", svc.SetSSOSettings(ada.ctx, sc, app.SSOSettings{JIT: true, JITRole: app.RoleMember}), "")
		conn, err := svc.ConnectionFor(context.Background(), ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		clearSeatJobs(t, db)
		_, h := app.NewToken()
		res, err := svc.SignInWithSSO(context.Background(), conn, app.ExternalIdentity{Provider: "sso-1",
			Issuer: "https://idp.acme.test", Subject: "bea", Email: "bea@acme.test"}, false, "", app.NewSession{TokenHash: h})
		if err != nil || !res.Joined {
			t.Fatalf("sign-in: %+v %v, want joined", res, err)
		}
		wantOneWaiting(t, db, ws.ID, 0)
	})
}
