package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestAuditService_FindAuditPeople: the audit page's person list is read
// again after every append (a new actor, a renamed one) and costs one
// single-row statement while nothing was appended.
func TestAuditService_FindAuditPeople(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		owner := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, owner, "Acme")
		audit := store.NewAuditService(db)
		people := func() []app.AuditPerson {
			t.Helper()
			p, err := audit.FindAuditPeople(owner.ctx, app.ScopeOf(owner.ctx, ws.ID))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		ada := app.AuditPerson{UserID: owner.ID, Email: "ada@example.com"}
		if diff := cmp.Diff([]app.AuditPerson{ada}, people()); diff != "" {
			t.Fatalf("people (-want +got):\n%s", diff)
		}
		before := db.Statements()
		if diff := cmp.Diff([]app.AuditPerson{ada}, people()); diff != "" {
			t.Fatalf("people again (-want +got):\n%s", diff)
		}
		if got, want := db.Statements()-before, int64(1); got != want {
			t.Errorf("statements of an unchanged list = %d, want %d", got, want)
		}

		grace := signUpMember(t, db, c, "grace@example.com")
		addMember(t, db, c, owner.ctx, ws.ID, grace, app.RoleAdmin)
		g := app.AuditPerson{UserID: grace.ID, Email: "grace@example.com"}
		if diff := cmp.Diff([]app.AuditPerson{ada, g}, people()); diff != "" {
			t.Errorf("people after grace joined (-want +got):\n%s", diff)
		}

		name := "Aardvark Grace"
		if _, err := store.NewUserService(db).UpdateUser(grace.ctx, app.UserUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
		grace.ctx = app.WithPrincipal(grace.ctx, &app.Principal{User: app.User{ID: grace.ID, Email: grace.Email, Name: name}})
		sendInvite(t, db, c, grace.ctx, ws.ID, "lin@example.com", app.RoleMember)
		g.Name = name
		if diff := cmp.Diff([]app.AuditPerson{g, ada}, people()); diff != "" {
			t.Errorf("people after grace, renamed, acted (-want +got):\n%s", diff)
		}
	})
}
