package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/internal/app"
)

func TestMembers_RoleChangeRemoveLeave(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("FREE_PLAN_SEATS", "10"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
	member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
	leaver := inviteAndJoin(t, a, owner, slug, "leaver@example.com", "member")

	// The owner promotes a member to admin from the member's row.
	page := owner.Get("/w/" + slug + "/members")
	if got, want := page.Text("member-count"), "4 members"; got != want {
		t.Fatalf("member count=%q, want %q", got, want)
	}
	res := owner.submitWithin(page, memberRowSel("member@example.com"), "member-make-admin", url.Values{"role": {"admin"}})
	page = owner.Follow(res)
	if got, want := memberRole(page, "member@example.com"), "Admin"; got != want {
		t.Fatalf("after role change role=%q, want %q", got, want)
	}
	if !strings.Contains(page.Text("flash"), "Admin") {
		t.Errorf("flash=%q", page.Text("flash"))
	}
	// And back, so the rest reads as admin vs member.
	owner.submitWithin(page, memberRowSel("member@example.com"), "member-make-member", url.Values{"role": {"member"}})

	// An admin is not offered "owner" and cannot force it.
	page = admin.Get("/w/" + slug + "/members")
	if acts, _ := page.Doc.Find(memberRowSel("member@example.com") + ` [data-testid="member-actions-button"]`).Attr("data-acts"); strings.Contains(acts, "owner") {
		t.Errorf("admin is offered the owner role")
	}
	if page.Doc.Find(memberRowSel("owner@example.com")+` [data-testid="member-actions-button"]`).Length() != 0 {
		t.Errorf("admin is offered to remove the owner")
	}
	res = admin.Post("/w/"+slug+"/members/"+itoa(int(userIDOf(t, a, "member@example.com")))+"/role", url.Values{"role": {"owner"}})
	if got, want := res.StatusCode, http.StatusForbidden; got != want {
		t.Errorf("admin makes owner: status=%d, want %d", got, want)
	}
	res = admin.Post("/w/"+slug+"/members/"+itoa(int(userIDOf(t, a, "owner@example.com")))+"/remove", url.Values{"confirm": {"yes"}})
	if got, want := res.StatusCode, http.StatusForbidden; got != want {
		t.Errorf("admin removes owner: status=%d, want %d", got, want)
	}
	page = owner.Get("/w/" + slug + "/members")
	if got, want := memberRole(page, "member@example.com"), "Member"; got != want {
		t.Errorf("role=%q after refused change, want %q", got, want)
	}
	if got, want := memberRole(page, "owner@example.com"), "Owner"; got != want {
		t.Errorf("owner role=%q after refused removal, want %q", got, want)
	}

	// The admin removes the member, who loses access at once.
	res = admin.submitWithin(admin.Get("/w/"+slug+"/members"), memberRowSel("member@example.com"), "member-remove", confirmYes)
	page = admin.Follow(res)
	if !strings.Contains(page.Text("flash"), "removed") || hasMemberRow(page, "member@example.com") {
		t.Fatalf("member still listed after removal (flash %q)", page.Text("flash"))
	}
	if got := member.Get("/w/" + slug).StatusCode; got != http.StatusNotFound {
		t.Errorf("removed member GET dashboard status=%d, want 404", got)
	}

	// A member leaves by themselves.
	page = leaver.Get("/w/" + slug + "/members")
	if page.Has("leave-blocked") {
		t.Fatalf("a member is blocked from leaving: %q", page.Text("leave-blocked"))
	}
	res = leaver.Submit(page, "leave-form", confirmYes)
	if got, want := res.Location(), "/settings/workspaces"; got != want {
		t.Fatalf("leave Location=%q, want %q", got, want)
	}
	if !strings.Contains(leaver.Follow(res).Text("flash"), "Acme Inc") {
		t.Errorf("no flash naming the workspace left")
	}
	if got := leaver.Get("/w/" + slug).StatusCode; got != http.StatusNotFound {
		t.Errorf("after leaving GET dashboard status=%d, want 404", got)
	}

	// The last owner cannot leave: the page says why, and a forced POST changes nothing.
	page = owner.Get("/w/" + slug + "/members")
	if !page.Has("leave-blocked") || page.Has("leave-form") {
		t.Fatalf("last owner: leave-blocked=%v leave-form=%v", page.Has("leave-blocked"), page.Has("leave-form"))
	}
	if !strings.Contains(page.Text("leave-blocked"), "last owner") {
		t.Errorf("leave-blocked=%q", page.Text("leave-blocked"))
	}
	res = owner.Post("/w/"+slug+"/leave", confirmYes)
	if got := owner.Follow(res); got.StatusCode != http.StatusOK || got.Doc.Find(`[data-testid="flash"][data-kind="error"]`).Length() == 0 {
		t.Errorf("forced leave by last owner: status %d, no error flash", got.StatusCode)
	}
	if got := owner.Get("/w/" + slug).StatusCode; got != http.StatusOK {
		t.Errorf("last owner lost access after a refused leave (status %d)", got)
	}

	wantActions(t, a, slug, "owner@example.com", app.ActionMemberRoleChanged, app.ActionMemberRemoved, app.ActionMemberLeft)
}

func TestMembers_TransferOwnership(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	heir := inviteAndJoin(t, a, owner, slug, "heir@example.com", "member")

	page := owner.Get("/w/" + slug + "/members")
	if page.Doc.Find(memberRowSel("owner@example.com")+` [data-testid="member-actions-button"]`).Length() != 0 {
		t.Errorf("the owner is offered to transfer ownership to themselves")
	}
	res := owner.submitWithin(page, memberRowSel("heir@example.com"), "member-transfer", confirmYes)
	page = owner.Follow(res)
	if got, want := memberRole(page, "heir@example.com"), "Owner"; got != want {
		t.Fatalf("new owner role=%q, want %q", got, want)
	}
	if got, want := memberRole(page, "owner@example.com"), "Admin"; got != want {
		t.Fatalf("old owner role=%q, want %q", got, want)
	}
	if got, want := page.Text("nav-role"), "Admin"; got != want {
		t.Errorf("old owner's nav role=%q, want %q", got, want)
	}

	// The old owner keeps admin rights and loses owner rights.
	if got := owner.Get("/w/" + slug + "/settings").StatusCode; got != http.StatusOK {
		t.Errorf("old owner GET settings status=%d, want 200", got)
	}
	if got := owner.Post("/w/"+slug+"/delete", url.Values{"confirm": {"Acme Inc"}}).StatusCode; got != http.StatusForbidden {
		t.Errorf("old owner POST delete status=%d, want 403", got)
	}
	if got := owner.Post("/w/"+slug+"/transfer", url.Values{"user_id": {itoa(int(userIDOf(t, a, "owner@example.com")))}, "confirm": {"yes"}}).StatusCode; got != http.StatusForbidden {
		t.Errorf("old owner POST transfer status=%d, want 403", got)
	}
	// Leaving is now blocked for the new owner, not the old one.
	if !heir.Get("/w/" + slug + "/members").Has("leave-blocked") {
		t.Errorf("the new owner is not blocked from leaving as last owner")
	}
	if owner.Get("/w/" + slug + "/members").Has("leave-blocked") {
		t.Errorf("old owner (now admin) is still blocked from leaving")
	}
	wantActions(t, a, slug, "owner@example.com", app.ActionOwnershipTransferred)
}

// TestDashboard_ActivityFollowsAuditRule: the dashboard's recent activity
// is part of the audit log, so plain members do not see it.
func TestDashboard_ActivityFollowsAuditRule(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	member := inviteAndJoin(t, a, owner, slug, "plain@example.com", "member")

	if n := owner.Get("/w/" + slug).Doc.Find(`[data-testid="audit-row"]`).Length(); n == 0 {
		t.Fatal("the owner sees no recent activity")
	}
	dash := member.Get("/w/" + slug)
	if dash.StatusCode != http.StatusOK {
		t.Fatalf("member dashboard: %d", dash.StatusCode)
	}
	if dash.Has("audit-row") || dash.Has("activity-empty") {
		t.Fatal("a plain member sees the audit log's recent activity on the dashboard")
	}
}
