package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// freeThree is the free plan with three seats.
var freeThree = app.PlanLimits{FreeSeats: 3}

func TestInviteService_AcceptInvite_SeatLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		invites := store.NewInviteService(db)
		ada := signUpMember(t, db, c, "ada@example.com")

		t.Run("AfterDowngrade", func(t *testing.T) {
			ws := createWorkspace(t, db, ada, "Downgraded")
			// Four invites sent while the plan allowed them (no limit here),
			// accepted on the free plan's three seats.
			var toks []string
			var users []teamUser
			for i := range 4 {
				email := fmt.Sprintf("p%d@example.com", i)
				_, tok := sendInvite(t, db, c, ada.ctx, ws.ID, email, app.RoleMember)
				toks = append(toks, tok)
				users = append(users, signUpMember(t, db, c, email))
			}
			for i, u := range users {
				_, err := invites.AcceptInvite(u.ctx, app.InviteKey{TokenHash: app.HashToken(toks[i])}, freeThree)
				if i < 2 {
					if err != nil {
						t.Fatalf("accept %d: %v", i, err)
					}
					continue
				}
				if !errors.Is(err, app.ErrWorkspaceFull) {
					t.Fatalf("accept %d: err=%v, want ErrWorkspaceFull", i, err)
				}
				if got, want := app.ErrorMessage(err), "This workspace is full; ask an owner to upgrade."; got != want {
					t.Fatalf("message=%q, want %q", got, want)
				}
				if got := inviteStatus(t, db, toks[i]); got != app.InvitePending {
					t.Fatalf("invite %d status=%q, want pending", i, got)
				}
				if got := membershipCount(t, db, ws.ID, u.ID); got != 0 {
					t.Fatalf("user %d memberships=%d, want 0", i, got)
				}
			}
			if got, want := rowCount(t, db, "SELECT COUNT(*) FROM memberships WHERE workspace_id = ?", ws.ID), 3; got != want {
				t.Fatalf("members=%d, want %d", got, want)
			}
			if got, want := countAudit(t, db, ws.ID, app.ActionInviteAccepted), 2; got != want {
				t.Fatalf("invite.accepted entries=%d, want %d", got, want)
			}
			// Upgrading (here: a larger limit) lets the waiting invite in.
			if _, err := invites.AcceptInvite(users[2].ctx, app.InviteKey{TokenHash: app.HashToken(toks[2])}, app.PlanLimits{FreeSeats: 4}); err != nil {
				t.Fatalf("accept after upgrade: %v", err)
			}
		})

		t.Run("ConcurrentLastSeat", func(t *testing.T) {
			ws := createWorkspace(t, db, ada, "Last seat")
			bo := signUpMember(t, db, c, "bo@example.com")
			addMember(t, db, c, ada.ctx, ws.ID, bo, app.RoleMember)
			// Owner and one member: one seat left, n invitees racing for it
			// (the other invites were sent while the plan allowed them).
			const n = 6
			var toks [n]string
			var users [n]teamUser
			for i := range n {
				email := fmt.Sprintf("race%d@example.com", i)
				_, toks[i] = sendInvite(t, db, c, ada.ctx, ws.ID, email, app.RoleMember)
				users[i] = signUpMember(t, db, c, email)
			}
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				errs  [n]error
			)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = invites.AcceptInvite(users[i].ctx, app.InviteKey{TokenHash: app.HashToken(toks[i])}, freeThree)
				}()
			}
			close(start)
			wg.Wait()
			ok, full := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, app.ErrWorkspaceFull):
					full++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if ok != 1 || full != n-1 {
				t.Fatalf("accepted=%d full=%d, want 1 and %d", ok, full, n-1)
			}
			if got, want := rowCount(t, db, "SELECT COUNT(*) FROM memberships WHERE workspace_id = ?", ws.ID), 3; got != want {
				t.Fatalf("members=%d, want %d", got, want)
			}
		})
	})
}
