package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestUserService_UpdateUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		users := store.NewUserService(db)
		audit := store.NewAuditService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ptr := func(s string) *string { return &s }
		updates := func(t *testing.T) []*app.AuditEntry {
			t.Helper()
			entries, err := audit.FindAuditEntries(context.Background(), app.AuditFilter{ActorID: ada.ID, Action: app.ActionUserUpdated})
			if err != nil {
				t.Fatal(err)
			}
			return entries
		}

		cases := []struct {
			name           string
			upd            app.UserUpdate
			wantName, zone string
			audited        map[string]any // nil: no entry
		}{
			{name: "NameAndTimeZone", upd: app.UserUpdate{Name: ptr("Ada Lovelace"), TimeZone: ptr("Europe/London")},
				wantName: "Ada Lovelace", zone: "Europe/London", audited: map[string]any{"name": "Ada Lovelace", "time_zone": "Europe/London"}},
			{name: "NameOnly", upd: app.UserUpdate{Name: ptr("Ada")},
				wantName: "Ada", zone: "Europe/London", audited: map[string]any{"name": "Ada"}},
			{name: "TimeZoneOnly", upd: app.UserUpdate{TimeZone: ptr("America/New_York")},
				wantName: "Ada", zone: "America/New_York", audited: map[string]any{"time_zone": "America/New_York"}},
			{name: "Unchanged", upd: app.UserUpdate{Name: ptr("Ada"), TimeZone: ptr("America/New_York")},
				wantName: "Ada", zone: "America/New_York"},
			{name: "Nothing", wantName: "Ada", zone: "America/New_York"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(updates(t))
				got, err := users.UpdateUser(ada.ctx, tc.upd)
				if err != nil {
					t.Fatal(err)
				}
				stored, err := users.FindUserByID(context.Background(), ada.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range []*app.User{got, stored} {
					if u.ID != ada.ID || u.Email != ada.Email || u.Name != tc.wantName || u.TimeZone != tc.zone {
						t.Fatalf("user=%+v, want name %q, time zone %q", u, tc.wantName, tc.zone)
					}
				}
				entries := updates(t)
				if tc.audited == nil {
					if len(entries) != before {
						t.Fatalf("user.updated entries=%d, want %d", len(entries), before)
					}
					return
				}
				if len(entries) != before+1 {
					t.Fatalf("user.updated entries=%d, want %d", len(entries), before+1)
				}
				e := entries[0]
				if e.TargetID != fmt.Sprint(ada.ID) || e.WorkspaceID != 0 || len(e.Metadata) != len(tc.audited) {
					t.Fatalf("audit entry=%+v, want metadata %v", e, tc.audited)
				}
				checkMetadata(t, e, tc.audited)
			})
		}

		t.Run("NoPrincipal", func(t *testing.T) {
			_, err := users.UpdateUser(context.Background(), app.UserUpdate{Name: ptr("Nobody")})
			requireCode(t, "UpdateUser", err, app.EUNAUTHORIZED)
		})
	})
}

func TestUserService_DeleteUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		users := store.NewUserService(db)
		auth := store.NewAuthService(db)
		audit := store.NewAuditService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		acme := createWorkspace(t, db, ada, "Acme Inc")
		createWorkspace(t, db, ada, "Zeta Labs")
		shared := createWorkspace(t, db, ada, "Shared")
		addMember(t, db, c, ada.ctx, shared.ID, ben, app.RoleOwner)
		addMember(t, db, c, ada.ctx, acme.ID, cy, app.RoleMember)
		benInvite, _ := sendInvite(t, db, c, ben.ctx, shared.ID, "friend@example.com", app.RoleMember)

		t.Run("LastOwnerRefused", func(t *testing.T) {
			refs, err := users.FindSoleOwnerships(context.Background(), ada.ID)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range refs {
				names = append(names, r.Name)
			}
			if want := []string{"Acme Inc", "Zeta Labs"}; !slices.Equal(names, want) {
				t.Fatalf("FindSoleOwnerships=%v, want %v", names, want)
			}
			err = users.DeleteUser(ada.ctx)
			requireCode(t, "DeleteUser", err, app.ECONFLICT)
			msg := app.ErrorMessage(err)
			if !strings.Contains(msg, "Acme Inc") || !strings.Contains(msg, "Zeta Labs") || strings.Contains(msg, "Shared") {
				t.Fatalf("message %q should name Acme Inc and Zeta Labs, not Shared", msg)
			}
			if _, err := users.FindUserByID(context.Background(), ada.ID); err != nil {
				t.Fatalf("refused deletion removed the user: %v", err)
			}
			if _, err := auth.Authenticate(context.Background(), ada.sessionHash); err != nil {
				t.Fatalf("refused deletion ended the session: %v", err)
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM memberships WHERE user_id = ?", ada.ID); got != 3 {
				t.Fatalf("memberships=%d, want 3", got)
			}
		})

		cases := []struct {
			name string
			who  teamUser
			ws   *app.Workspace // a workspace they belonged to
		}{
			{name: "CoOwner", who: ben, ws: shared},
			{name: "Member", who: cy, ws: acme},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE actor_user_id = ?", tc.who.ID)
				if before == 0 {
					t.Fatal("no audit entries to keep")
				}
				if err := users.DeleteUser(tc.who.ctx); err != nil {
					t.Fatalf("DeleteUser: %v", err)
				}
				_, err := users.FindUserByID(context.Background(), tc.who.ID)
				requireCode(t, "FindUserByID after delete", err, app.ENOTFOUND)
				_, err = auth.Authenticate(context.Background(), tc.who.sessionHash)
				requireCode(t, "Authenticate after delete", err, app.EUNAUTHORIZED)
				for _, table := range []string{"sessions", "memberships"} {
					if got := rowCount(t, db, "SELECT COUNT(*) FROM "+table+" WHERE user_id = ?", tc.who.ID); got != 0 {
						t.Errorf("%s rows=%d, want 0", table, got)
					}
				}
				if got := rowCount(t, db, "SELECT COUNT(*) FROM login_tokens WHERE email = ?", tc.who.Email); got != 0 {
					t.Errorf("login_tokens rows=%d, want 0", got)
				}
				if got := roleIn(t, db, tc.ws.ID, tc.who.ID); got != "" {
					t.Fatalf("still listed as %q in %s", got, tc.ws.Name)
				}
				if got := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE actor_user_id = ?", tc.who.ID); got != before+1 {
					t.Fatalf("audit entries by the deleted user=%d, want the %d earlier ones plus user.deleted", got, before)
				}
				entries, err := audit.FindAuditEntries(context.Background(), app.AuditFilter{ActorID: tc.who.ID, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				if e := entries[0]; e.Action != app.ActionUserDeleted || e.TargetID != fmt.Sprint(tc.who.ID) {
					t.Fatalf("newest entry=%+v, want user.deleted", e)
				}
				if got := ownerCount(t, db, tc.ws.ID); got < 1 {
					t.Fatalf("%s has no owner left", tc.ws.Name)
				}
			})
		}

		t.Run("InvitesOutliveTheirSender", func(t *testing.T) {
			got, err := store.NewInviteService(db).FindInviteForEmail(context.Background(), benInvite.ID, "friend@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != app.InvitePending || got.InvitedByID != 0 || got.InvitedBy() != "A former member" {
				t.Fatalf("invite=%+v, want pending from a former member", got)
			}
		})

		t.Run("NoPrincipal", func(t *testing.T) {
			requireCode(t, "DeleteUser", users.DeleteUser(context.Background()), app.EUNAUTHORIZED)
		})
	})
}

// TestUserService_DeleteUserRace has the only two owners of a workspace
// delete their accounts at the same moment: at most one may go, and the
// workspace keeps an owner.
func TestUserService_DeleteUserRace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		users := store.NewUserService(db)
		for round := range 5 {
			a := signUpMember(t, db, c, fmt.Sprintf("a%d@example.com", round))
			b := signUpMember(t, db, c, fmt.Sprintf("b%d@example.com", round))
			ws := createWorkspace(t, db, a, fmt.Sprintf("Race %d", round))
			addMember(t, db, c, a.ctx, ws.ID, b, app.RoleOwner)
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				errs  [2]error
			)
			for i, u := range []teamUser{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = users.DeleteUser(u.ctx)
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch app.ErrorCode(err) {
				case "":
					ok++
				case app.ECONFLICT:
				default:
					t.Errorf("round %d: unexpected error: %v", round, err)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d of 2 deletions succeeded, want 1", round, ok)
			}
			if got := ownerCount(t, db, ws.ID); got != 1 {
				t.Fatalf("round %d: the workspace has %d owners, want 1", round, got)
			}
		}
	})
}
