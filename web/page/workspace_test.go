package page_test

import (
	"testing"

	"github.com/PuerkitoBio/goquery"

	"atrium/web/layout"
	"atrium/web/page"
)

// inWorkspace is a signed-in page inside the "acme" workspace.
var inWorkspace = func() layout.Page {
	p := signedIn
	p.Workspace = &layout.WorkspaceNav{Name: "Acme", Slug: "acme", URL: "/w/acme", Role: "Owner", CanManage: true, CanSeeAudit: true}
	return p
}()

// checkCreateForm checks the shared form that creates a workspace, filled
// in with name and slug.
func checkCreateForm(t *testing.T, doc *goquery.Document, name, slug string) {
	t.Helper()
	form := one(t, doc, "workspace-create-form")
	if got, want := attr(form, "action"), "/workspaces"; got != want {
		t.Errorf("action=%q, want %q", got, want)
	}
	if got, want := attr(form, "method"), "post"; got != want {
		t.Errorf("method=%q, want %q", got, want)
	}
	fields := []struct{ testID, name, value, hint string }{
		{"workspace-name", "name", name, "2–80 characters"},
		{"workspace-slug", "slug", slug, "Lowercase letters, numbers and dashes; leave empty to derive it from the name"},
	}
	for _, f := range fields {
		in := form.Find(`[data-testid="` + f.testID + `"]`)
		if got, want := in.Length(), 1; got != want {
			t.Fatalf("%s in form=%d, want %d", f.testID, got, want)
		}
		if got := attr(in, "name"); got != f.name {
			t.Errorf("%s name=%q, want %q", f.testID, got, f.name)
		}
		if got := attr(in, "value"); got != f.value {
			t.Errorf("%s value=%q, want %q", f.testID, got, f.value)
		}
		if got := text(doc.Find("#" + attr(in, "id") + "-hint")); got != f.hint {
			t.Errorf("%s hint=%q, want %q", f.testID, got, f.hint)
		}
		if doc.Find(`label[for="`+attr(in, "id")+`"]`).Length() != 1 {
			t.Errorf("%s has no label", f.testID)
		}
	}
	if got, want := text(form.Find(`[data-testid="workspace-create-submit"]`)), "Create workspace"; got != want {
		t.Errorf("submit=%q, want %q", got, want)
	}
}

func TestWorkspaceNew(t *testing.T) {
	t.Parallel()

	t.Run("First", func(t *testing.T) {
		t.Parallel()
		doc, html := render(t, page.WorkspaceNew(signedIn, page.WorkspaceNewView{FirstWorkspace: true}))
		inert(t, doc, html)
		if got, want := text(doc.Find("h1")), "Create a workspace"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "workspace-first-intro")), "You’re signed in. Create a workspace for your team to get started."; got != want {
			t.Errorf("intro=%q, want %q", got, want)
		}
		checkCreateForm(t, doc, "", "")
		if _, ok := one(t, doc, "workspace-name").Attr("autofocus"); !ok {
			t.Error("name field not focused")
		}
		none(t, doc, "workspace-new-cancel")
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		v := page.WorkspaceNewView{Name: evil, Slug: `a"b`, Errors: page.FieldErrors{"name": "Too <long>.", "slug": "Taken <slug>."}}
		doc, html := render(t, page.WorkspaceNew(signedIn, v))
		inert(t, doc, html)
		none(t, doc, "workspace-first-intro")
		one(t, doc, "workspace-new-cancel")
		checkCreateForm(t, doc, evil, `a"b`)
		for id, want := range map[string]string{"workspace-name": "Too <long>.", "workspace-slug": "Taken <slug>."} {
			in := one(t, doc, id)
			if got := attr(in, "aria-invalid"); got != "true" {
				t.Errorf("%s aria-invalid=%q, want true", id, got)
			}
			if got := text(doc.Find("#" + attr(in, "id") + "-error")); got != want {
				t.Errorf("%s error=%q, want %q", id, got, want)
			}
		}
	})
}

func TestWorkspaces(t *testing.T) {
	t.Parallel()

	t.Run("Full", func(t *testing.T) {
		t.Parallel()
		v := page.WorkspacesView{
			Workspaces: []page.WorkspaceRow{
				{Name: evil, URL: "/w/acme", Role: "Owner", Members: 3},
				{Name: "Solo", URL: "/w/solo", Role: "Member", Members: 1},
			},
			Invites:          []page.PendingInviteRow{{Workspace: "<Initech>", Role: "Admin", Inviter: "Bill", AcceptURL: "/invites/tok", Expires: "in 6 days"}},
			New:              page.WorkspaceNewView{Name: "x", Errors: page.FieldErrors{"name": "Too short."}},
			TestInviteSentTo: "ada@example.com", CanTestEmail: true,
		}
		p := signedIn
		p.Section = "workspaces"
		doc, html := render(t, page.Workspaces(p, v))
		inert(t, doc, html)
		if got, want := text(doc.Find("h1")), "Workspaces"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		rows := doc.Find(`[data-testid="workspace-row"]`)
		if got, want := rows.Length(), 2; got != want {
			t.Fatalf("rows=%d, want %d", got, want)
		}
		first := rows.Eq(0)
		link := first.Find(`[data-testid="workspace-link"]`)
		if got, want := attr(link, "href"), "/w/acme"; got != want {
			t.Errorf("href=%q, want %q", got, want)
		}
		if got, want := text(link), evil; got != want {
			t.Errorf("name=%q, want %q", got, want)
		}
		if got, want := text(first.Find(".badge")), "Owner"; got != want {
			t.Errorf("role=%q, want %q", got, want)
		}
		if got, want := text(first.Find(".item-meta")), "3 members"; got != want {
			t.Errorf("members=%q, want %q", got, want)
		}
		if got, want := text(rows.Eq(1).Find(".item-meta")), "1 member"; got != want {
			t.Errorf("members=%q, want %q", got, want)
		}
		inv := one(t, doc, "pending-invite")
		if got, want := attr(inv.Find(`[data-testid="pending-invite-link"]`), "href"), "/invites/tok"; got != want {
			t.Errorf("invite href=%q, want %q", got, want)
		}
		if got, want := text(inv.Find(`[data-testid="pending-invite-link"]`)), "View invite"; got != want {
			t.Errorf("invite link=%q, want %q", got, want)
		}
		checkCreateForm(t, doc, "x", "")
		submit := one(t, doc, "test-invite-submit")
		if got, want := attr(submit.Closest("form"), "action"), "/settings/workspaces/test-invite"; got != want {
			t.Errorf("test invite action=%q, want %q", got, want)
		}
		if got := text(one(t, doc, "test-invite-sent")); got != "A test invite is on its way to ada@example.com." {
			t.Errorf("sent=%q", got)
		}
		if got, want := attr(one(t, doc, "nav-workspaces"), "aria-current"), "page"; got != want {
			t.Errorf("nav aria-current=%q, want %q", got, want)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, page.Workspaces(signedIn, page.WorkspacesView{}))
		none(t, doc, "workspace-row")
		none(t, doc, "pending-invite")
		none(t, doc, "test-invite-sent")
		one(t, doc, "empty-state")
		if doc.Find("#invitations-heading").Length() != 0 {
			t.Error("invitations section without invites")
		}
		checkCreateForm(t, doc, "", "")
		if _, ok := one(t, doc, "workspace-name").Attr("autofocus"); ok {
			t.Error("create form autofocused on the workspaces page")
		}
		// The email check is for owners of a workspace.
		none(t, doc, "test-invite-submit")
	})
}

func TestDashboard(t *testing.T) {
	t.Parallel()

	full := page.DashboardView{
		Name: evil, URL: "/w/acme", Plan: "Free", Status: "Past due", Members: 3, SeatsUsed: 3, SeatLimit: "3", PendingInvites: 2,
		CanSeeAudit: true, CanInvite: true,
	}
	for i := range 12 {
		row := page.AuditRow{ID: int64(i + 1), When: "2 hours ago", WhenFull: "29 Nov 2026, 10:00 CET", Actor: "Ada Lovelace",
			ActorEmail: "ada@example.com", Text: "<b>invited</b> someone", DetailURL: "/w/acme/audit/1"}
		full.Recent = append(full.Recent, row)
	}

	t.Run("Full", func(t *testing.T) {
		t.Parallel()
		p := inWorkspace
		p.Section = "dashboard"
		doc, html := render(t, page.Dashboard(p, full))
		inert(t, doc, html)
		one(t, doc, "dashboard")
		if got, want := text(doc.Find("h1")), evil; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		if got := text(one(t, doc, "stat-plan")); got != "Plan Free Past due" {
			t.Errorf("plan=%q (no Billing link for a role that cannot see billing)", got)
		}
		ws := *p.Workspace
		ws.CanSeeBilling = true
		billing := p
		billing.Workspace = &ws
		if doc, _ := render(t, page.Dashboard(billing, full)); text(one(t, doc, "stat-plan")) != "Plan Free Past due Billing" {
			t.Errorf("plan=%q for an owner who sees billing", text(one(t, doc, "stat-plan")))
		}
		members := one(t, doc, "stat-members")
		if got := text(members.Find(".stat-value")); got != "3" {
			t.Errorf("members=%q, want 3", got)
		}
		if got, want := attr(members.Find("a"), "href"), "/w/acme/members"; got != want {
			t.Errorf("members href=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "stat-seats").Find(".stat-value")), "3 of 3"; got != want {
			t.Errorf("seats=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "stat-invites").Find(".stat-value")), "2"; got != want {
			t.Errorf("invites=%q, want %q", got, want)
		}
		rows := doc.Find(`[data-testid="audit-row"]`)
		if got, want := rows.Length(), 10; got != want {
			t.Fatalf("audit rows=%d, want %d", got, want)
		}
		// A sentence with the actor's name (email on hover) and a relative
		// time (the zone's time on hover); no row is a link.
		if got, want := text(rows.Eq(0).Find(`[data-testid="audit-summary"]`)), "Ada Lovelace <b>invited</b> someone"; got != want {
			t.Errorf("summary=%q, want %q", got, want)
		}
		if got, want := attr(rows.Eq(0).Find(`[data-testid="audit-actor-name"]`), "title"), "ada@example.com"; got != want {
			t.Errorf("actor title=%q, want %q", got, want)
		}
		if got, want := attr(rows.Eq(0).Find("time"), "title"), "29 Nov 2026, 10:00 CET"; got != want {
			t.Errorf("time title=%q, want %q", got, want)
		}
		if rows.Find("a").Length() != 0 {
			t.Error("activity rows are links")
		}
		if doc.Find("main b").Length() != 0 {
			t.Error("summary rendered as HTML")
		}
		none(t, doc, "activity-empty")
		if got, want := attr(one(t, doc, "dashboard-audit-link"), "href"), "/w/acme/audit"; got != want {
			t.Errorf("audit link=%q, want %q", got, want)
		}
		invite := one(t, doc, "dashboard-invite")
		if got, want := attr(invite, "href"), "/w/acme/members#invite"; got != want {
			t.Errorf("invite href=%q, want %q", got, want)
		}
		if got, want := text(invite), "Invite a teammate"; got != want {
			t.Errorf("invite=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "nav-ws-dashboard"), "aria-current"), "page"; got != want {
			t.Errorf("nav aria-current=%q, want %q", got, want)
		}
	})

	t.Run("AdminEmpty", func(t *testing.T) {
		t.Parallel()
		v := page.DashboardView{Name: "Acme", URL: "/w/acme", Plan: "Free", Members: 1, SeatsUsed: 1, SeatLimit: "3", CanSeeAudit: true}
		doc, _ := render(t, page.Dashboard(inWorkspace, v))
		one(t, doc, "activity-empty")
		one(t, doc, "dashboard-audit-link")
	})

	t.Run("MemberEmpty", func(t *testing.T) {
		t.Parallel()
		v := page.DashboardView{Name: "Acme", URL: "/w/acme", Plan: "Pro", Members: 1, SeatsUsed: 1, SeatLimit: "Unlimited"}
		doc, _ := render(t, page.Dashboard(inWorkspace, v))
		// Members do not read the audit log, so no activity card at all.
		none(t, doc, "audit-row")
		none(t, doc, "activity-empty")
		none(t, doc, "dashboard-audit-link")
		none(t, doc, "dashboard-invite")
		none(t, doc, "stat-status")
		if got, want := text(one(t, doc, "stat-seats").Find(".stat-value")), "1 of Unlimited"; got != want {
			t.Errorf("seats=%q, want %q", got, want)
		}
	})
}

func TestWorkspaceSettings(t *testing.T) {
	t.Parallel()

	t.Run("Owner", func(t *testing.T) {
		t.Parallel()
		v := page.WorkspaceSettingsView{
			URL: "/w/acme", Name: evil, NewSlug: "new-acme", CanEdit: true, CanDelete: true,
			Errors: page.FieldErrors{"name": "Too <long>.", "slug": "Taken.", "confirm": "The name doesn’t <match>."},
		}
		doc, html := render(t, page.WorkspaceSettings(inWorkspace, v))
		inert(t, doc, html)
		if got, want := text(doc.Find("h1")), "Workspace settings"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		form := one(t, doc, "settings-form")
		if got, want := attr(form, "action"), "/w/acme/settings"; got != want {
			t.Errorf("action=%q, want %q", got, want)
		}
		name := one(t, doc, "settings-name")
		if got, want := attr(name, "value"), evil; got != want {
			t.Errorf("name=%q, want %q", got, want)
		}
		slug := one(t, doc, "settings-slug")
		if got, want := attr(slug, "value"), "new-acme"; got != want {
			t.Errorf("slug=%q, want %q", got, want)
		}
		if got := text(doc.Find("#" + attr(slug, "id") + "-hint")); got != "Changing it changes every link to this workspace; old links stop working" {
			t.Errorf("slug hint=%q", got)
		}
		for _, in := range []string{"settings-name", "settings-slug"} {
			if _, ok := one(t, doc, in).Attr("readonly"); ok {
				t.Errorf("%s is read-only for an editor", in)
			}
		}
		if got, want := text(doc.Find("#"+attr(name, "id")+"-error")), "Too <long>."; got != want {
			t.Errorf("name error=%q, want %q", got, want)
		}
		one(t, doc, "settings-submit")
		none(t, doc, "settings-readonly")
		confirm := one(t, doc, "delete-confirm")
		if got, want := attr(confirm, "name"), "confirm"; got != want {
			t.Errorf("confirm name=%q, want %q", got, want)
		}
		if got, want := attr(confirm.Closest("form"), "action"), "/w/acme/delete"; got != want {
			t.Errorf("delete action=%q, want %q", got, want)
		}
		if got, want := text(doc.Find("#"+attr(confirm, "id")+"-error")), "The name doesn’t <match>."; got != want {
			t.Errorf("confirm error=%q, want %q", got, want)
		}
		if got, want := text(doc.Find("#"+attr(confirm, "id")+"-hint")), "Enter “Acme” exactly as shown."; got != want {
			t.Errorf("confirm hint=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "delete-submit")), "Delete this workspace"; got != want {
			t.Errorf("delete=%q, want %q", got, want)
		}
	})

	t.Run("ReadOnly", func(t *testing.T) {
		t.Parallel()
		v := page.WorkspaceSettingsView{URL: "/w/acme", Name: "Acme", NewSlug: "acme"}
		doc, _ := render(t, page.WorkspaceSettings(inWorkspace, v))
		for _, in := range []string{"settings-name", "settings-slug"} {
			if _, ok := one(t, doc, in).Attr("readonly"); !ok {
				t.Errorf("%s is editable without CanEdit", in)
			}
		}
		one(t, doc, "settings-readonly")
		none(t, doc, "settings-submit")
		none(t, doc, "delete-confirm")
		none(t, doc, "delete-submit")
		none(t, doc, "danger-zone")
	})
}
