package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestWorkspaceService_FindWorkspacesByUser checks that every read of a
// workspace returns all of it: the switcher's list carries the billing
// state the workspace page reads, the same as the page's own lookup.
func TestWorkspaceService_FindWorkspacesByUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		end := c.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
		cancel := true
		if err := store.NewBillingService(db).SyncSubscription(context.Background(), ws.ID, app.BillingUpdate{
			CustomerID: "cus_7", SubscriptionID: "sub_7", Status: app.SubActive, PeriodEnd: end, CancelAtEnd: &cancel,
			AsOf: c.Now()}); err != nil {
			t.Fatal(err)
		}
		want, _, err := svc.FindWorkspaceForMember(context.Background(), ws.Slug, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want.StripeCustomerID != "cus_7" || want.StripeSubscriptionID != "sub_7" || !want.CurrentPeriodEnd.Equal(end) || !want.CancelAtPeriodEnd {
			t.Fatalf("FindWorkspaceForMember=%+v, want the billing state just synced", want)
		}

		t.Run("FullWorkspace", func(t *testing.T) {
			list, err := svc.FindWorkspacesByUser(context.Background(), ada.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 {
				t.Fatalf("%d workspaces, want 1", len(list))
			}
			if diff := cmp.Diff(*want, list[0].Workspace); diff != "" {
				t.Fatalf("workspace (-FindWorkspaceForMember +FindWorkspacesByUser):\n%s", diff)
			}
			if got, want := list[0].Role, app.RoleOwner; got != want {
				t.Fatalf("Role=%q, want %q", got, want)
			}
			if got, want := list[0].Members, 1; got != want {
				t.Fatalf("Members=%d, want %d", got, want)
			}
		})

		t.Run("BySlug", func(t *testing.T) {
			got, err := store.NewBillingService(db).FindWorkspaceBySlug(context.Background(), ws.Slug)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("workspace (-FindWorkspaceForMember +FindWorkspaceBySlug):\n%s", diff)
			}
		})
	})
}
