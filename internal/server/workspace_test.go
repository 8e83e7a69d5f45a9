package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestWorkspaceJourney(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			b := a.newBrowser(t)

			// A first sign-in lands on "create a workspace".
			home := b.signIn("founder@example.com")
			if !home.Has("workspace-create-form") || !home.Has("workspace-first-intro") {
				t.Fatalf("first sign-in did not land on the create-workspace page:\n%s", home.Body)
			}

			res := b.Submit(home, "workspace-create-form", url.Values{"name": {"Acme Inc"}})
			if got, want := res.Location(), "/w/acme-inc"; res.StatusCode != http.StatusSeeOther || got != want {
				t.Fatalf("create: status %d Location=%q, want 303 %q\n%s", res.StatusCode, got, want, res.Body)
			}
			dash := b.Follow(res)
			if got, want := dash.Text("dashboard-name"), "Acme Inc"; got != want {
				t.Fatalf("dashboard name=%q, want %q", got, want)
			}
			if got, want := statValue(dash, "stat-plan"), "Free"; got != want {
				t.Errorf("plan=%q, want %q", got, want)
			}
			if got, want := statValue(dash, "stat-members"), "1"; got != want {
				t.Errorf("members=%q, want %q", got, want)
			}
			if got, want := dash.Text("nav-role"), "Owner"; got != want {
				t.Errorf("nav role=%q, want %q", got, want)
			}
			if !strings.Contains(dash.Text("flash"), "Acme Inc") {
				t.Errorf("flash=%q, want it to name the workspace", dash.Text("flash"))
			}

			// Another user's "Acme Inc" gets the next free slug, and neither
			// sees the other's workspace.
			other := a.newBrowser(t)
			other.signIn("rival@example.com")
			res = other.Post("/workspaces", url.Values{"name": {"Acme Inc"}})
			if got, want := res.Location(), "/w/acme-inc-2"; got != want {
				t.Fatalf("second Acme Inc Location=%q, want %q", got, want)
			}
			if got := other.Get("/w/acme-inc").StatusCode; got != http.StatusNotFound {
				t.Errorf("rival GET /w/acme-inc status=%d, want 404", got)
			}
			if got := b.Get("/w/acme-inc-2").StatusCode; got != http.StatusNotFound {
				t.Errorf("founder GET /w/acme-inc-2 status=%d, want 404", got)
			}

			// A one-character name re-renders the form with the input kept.
			res = b.Submit(b.Get("/workspaces/new"), "workspace-create-form", url.Values{"name": {"A"}})
			if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
				t.Fatalf("short name: status=%d, want %d", got, want)
			}
			if res.Text("field-name-error") == "" {
				t.Errorf("short name: no inline error:\n%s", res.Body)
			}
			if got := attrOf(res, "workspace-name", "value"); got != "A" {
				t.Errorf("short name: input value=%q, want %q", got, "A")
			}

			// An explicit slug that is taken is an error on the slug field.
			res = b.Post("/workspaces", url.Values{"name": {"Other Co"}, "slug": {"acme-inc"}})
			if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
				t.Fatalf("taken slug: status=%d, want %d", got, want)
			}
			if res.Text("field-slug-error") == "" || res.Has("field-name-error") {
				t.Errorf("taken slug: slug error=%q, name error present=%v", res.Text("field-slug-error"), res.Has("field-name-error"))
			}
			if got, want := attrOf(res, "workspace-name", "value"), "Other Co"; got != want {
				t.Errorf("taken slug: name value=%q, want %q", got, want)
			}
			if got, want := attrOf(res, "workspace-slug", "value"), "acme-inc"; got != want {
				t.Errorf("taken slug: slug value=%q, want %q", got, want)
			}

			if got, want := b.Get("/app").Location(), "/w/acme-inc"; got != want {
				t.Errorf("/app Location=%q, want %q", got, want)
			}

			list := b.Get("/settings/workspaces")
			rows := list.Doc.Find(`[data-testid="workspace-row"]`)
			if got, want := rows.Length(), 1; got != want {
				t.Fatalf("%d workspace rows, want %d (failed creates must not create anything)", got, want)
			}
			if got, want := strings.TrimSpace(rows.Find(`[data-testid="workspace-link"]`).Text()), "Acme Inc"; got != want {
				t.Errorf("workspace row name=%q, want %q", got, want)
			}
			if href, _ := rows.Find(`[data-testid="workspace-link"]`).Attr("href"); href != "/w/acme-inc" {
				t.Errorf("workspace row href=%q", href)
			}
			if got, want := strings.TrimSpace(rows.Find(".badge").Text()), "Owner"; got != want {
				t.Errorf("workspace row role=%q, want %q", got, want)
			}
		})
	}
}

func TestWorkspaceSettings_RenameAndSlug(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme Inc")
			createWorkspace(t, owner, "Taken Co")
			admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")

			// Admins see the settings read-only and cannot save them.
			page := admin.Get("/w/" + slug + "/settings")
			if page.StatusCode != http.StatusOK || !page.Has("settings-readonly") || page.Has("settings-submit") || page.Has("danger-zone") {
				t.Fatalf("admin settings: status %d readonly=%v submit=%v danger=%v", page.StatusCode,
					page.Has("settings-readonly"), page.Has("settings-submit"), page.Has("danger-zone"))
			}
			if got := admin.Post("/w/"+slug+"/settings", url.Values{"name": {"Hijacked"}, "slug": {"hijacked"}}).StatusCode; got != http.StatusForbidden {
				t.Errorf("admin POST settings status=%d, want 403", got)
			}

			page = owner.Get("/w/" + slug + "/settings")
			for _, tc := range []struct {
				name, slug, errField string
			}{
				{"A", "acme-inc", "field-name-error"},
				{"Acme Inc", "Not A Slug!", "field-slug-error"},
				{"Acme Inc", "taken-co", "field-slug-error"},
			} {
				res := owner.Submit(page, "settings-form", url.Values{"name": {tc.name}, "slug": {tc.slug}})
				if res.StatusCode != http.StatusUnprocessableEntity || res.Text(tc.errField) == "" {
					t.Errorf("name %q slug %q: status %d, %s=%q", tc.name, tc.slug, res.StatusCode, tc.errField, res.Text(tc.errField))
				}
				if got := attrOf(res, "settings-name", "value"); got != tc.name {
					t.Errorf("name %q slug %q: name input=%q", tc.name, tc.slug, got)
				}
				if got := attrOf(res, "settings-slug", "value"); got != tc.slug {
					t.Errorf("name %q slug %q: slug input=%q", tc.name, tc.slug, got)
				}
			}

			res := owner.Submit(page, "settings-form", url.Values{"name": {"Acme Labs"}, "slug": {"acme-labs"}})
			if got, want := res.Location(), "/w/acme-labs/settings"; got != want {
				t.Fatalf("save Location=%q, want %q (status %d)\n%s", got, want, res.StatusCode, res.Body)
			}
			page = owner.Follow(res)
			if got := attrOf(page, "settings-name", "value"); got != "Acme Labs" {
				t.Errorf("saved name=%q", got)
			}
			if got := owner.Get("/w/acme-labs").Text("dashboard-name"); got != "Acme Labs" {
				t.Errorf("dashboard name=%q", got)
			}
			for _, b := range []*browser{owner, admin} {
				if got := b.Get("/w/" + slug).StatusCode; got != http.StatusNotFound {
					t.Errorf("old address /w/%s status=%d, want 404", slug, got)
				}
			}
			if got := admin.Get("/w/acme-labs/members").StatusCode; got != http.StatusOK {
				t.Errorf("admin at the new address: status %d", got)
			}
			wantActions(t, a, "acme-labs", "owner@example.com", app.ActionWorkspaceRenamed, app.ActionWorkspaceSlugChanged)
		})
	}
}

func TestWorkspaceSettings_Delete(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")

	page := owner.Get("/w/" + slug + "/settings")
	res := owner.Submit(page, "delete-form", url.Values{"confirm": {"acme inc"}})
	if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
		t.Fatalf("wrong confirmation: status=%d, want %d", got, want)
	}
	if res.Text("field-confirm-error") == "" {
		t.Errorf("wrong confirmation: no inline error")
	}
	if got := owner.Get("/w/" + slug).StatusCode; got != http.StatusOK {
		t.Fatalf("workspace gone after a wrong confirmation (status %d)", got)
	}

	res = owner.Submit(page, "delete-form", url.Values{"confirm": {"Acme Inc"}})
	if got, want := res.Location(), "/settings/workspaces"; got != want {
		t.Fatalf("delete Location=%q, want %q", got, want)
	}
	list := owner.Follow(res)
	if !strings.Contains(list.Text("flash"), "deleted") || list.Has("workspace-row") {
		t.Errorf("after delete: flash %q, rows left=%v", list.Text("flash"), list.Has("workspace-row"))
	}
	for name, b := range map[string]*browser{"owner": owner, "member": member} {
		if got := b.Get("/w/" + slug).StatusCode; got != http.StatusNotFound {
			t.Errorf("%s GET deleted workspace: status %d, want 404", name, got)
		}
	}
	if got, want := owner.Get("/app").Location(), "/workspaces/new"; got != want {
		t.Errorf("/app after delete Location=%q, want %q", got, want)
	}
}

// --- helpers shared by the workspace, invite and isolation tests ---

// createWorkspace creates a workspace through the form and returns its slug.
func createWorkspace(t *testing.T, b *browser, name string) string {
	t.Helper()
	res := b.Post("/workspaces", url.Values{"name": {name}})
	loc := res.Location()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/w/") {
		t.Fatalf("create workspace %q: status %d Location %q\n%s", name, res.StatusCode, loc, res.Body)
	}
	return strings.TrimPrefix(loc, "/w/")
}

// inviteAndJoin has owner invite email as role from the members page, then
// signs the invitee in with a new browser and accepts from the emailed link.
func inviteAndJoin(t *testing.T, a *testApp, owner *browser, slug, email, role string) *browser {
	t.Helper()
	res := owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {email}, "role": {role}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite %s: status %d\n%s", email, res.StatusCode, res.Body)
	}
	link := emailedInviteLink(t, a, email)
	b := a.newBrowser(t)
	b.signIn(email)
	page := b.Get(link)
	if got, _ := page.Doc.Find(`[data-testid="invite-page"]`).Attr("data-state"); got != "ok" {
		t.Fatalf("invite page for %s: state %q status %d", email, got, page.StatusCode)
	}
	if got, want := b.Submit(page, "invite-accept", nil).Location(), "/w/"+slug; got != want {
		t.Fatalf("accept as %s: Location=%q, want %q", email, got, want)
	}
	return b
}

// emailedInviteLink waits for the next email to address and returns its
// invite link.
func emailedInviteLink(t *testing.T, a *testApp, address string) string {
	t.Helper()
	msg := a.SMTP.WaitForMessage(t, address, 5*time.Second)
	for _, l := range msg.Links() {
		if strings.HasPrefix(l, a.URL+"/invites/") {
			return l
		}
	}
	t.Fatalf("email to %s (%q) has no invite link:\n%s", address, msg.Subject, msg.Text)
	return ""
}

// submitWithin posts the form with formTestID found inside the first
// element matching scope, as Submit does for a whole page: for pages with
// one form per row.
func (b *browser) submitWithin(res *response, scope, formTestID string, extra url.Values) *response {
	b.t.Helper()
	row := res.Doc.Find(scope).First()
	if href, ok := row.Find(`a[data-testid="member-actions-button"]`).Attr("href"); ok {
		// A members page's row: its actions are on the member's page, where
		// Actions leads without scripts.
		res = b.Get(href)
		row = res.Doc.Find(`[data-testid="member-page"]`)
	}
	form := row.Find(`form[data-testid="` + formTestID + `"]`)
	vals := url.Values{}
	var formAction string
	if form.Length() == 0 {
		// A button may submit a form outside the row (its form attribute)
		// with its own action and value, as a browser sends them.
		button := row.Find(`[data-testid="` + formTestID + `"]`).First()
		form = button.Closest("form")
		if id, ok := button.Attr("form"); ok {
			form = res.Doc.Find(`form[id="` + id + `"]`)
			formAction, _ = button.Attr("formaction")
			if name, ok := button.Attr("name"); ok {
				v, _ := button.Attr("value")
				vals.Set(name, v)
			}
		}
	}
	if form.Length() == 0 {
		b.t.Fatalf("no form %q inside %s", formTestID, scope)
	}
	action, _ := form.Attr("action")
	if formAction != "" {
		action = formAction
	}
	form.Find("input[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v, _ := s.Attr("value")
		vals.Set(name, v)
	})
	for k, v := range extra {
		vals[k] = v
	}
	return b.Post(action, vals)
}

func memberRowSel(email string) string {
	return `[data-testid="member-row"][data-email="` + email + `"]`
}
func inviteRowSel(email string) string {
	return `[data-testid="invite-row"][data-email="` + email + `"]`
}

func hasMemberRow(res *response, email string) bool {
	return res.Doc.Find(memberRowSel(email)).Length() > 0
}

// memberRole returns the role label shown on a member's row, "" when the
// member is not listed.
func memberRole(res *response, email string) string {
	return strings.TrimSpace(res.Doc.Find(memberRowSel(email) + ` [data-testid="member-role"]`).Text())
}

// statValue returns the value of a dashboard statistic.
func statValue(res *response, testID string) string {
	return strings.Join(strings.Fields(res.Doc.Find(`[data-testid="`+testID+`"] .stat-value`).First().Text()), " ")
}

// attrOf returns an attribute of the first element with a data-testid.
func attrOf(res *response, testID, name string) string {
	v, _ := res.Doc.Find(`[data-testid="` + testID + `"]`).First().Attr(name)
	return v
}

// selectedOption returns the value of the selected option of a select.
func selectedOption(res *response, testID string) string {
	v, _ := res.Doc.Find(`[data-testid="` + testID + `"] option[selected]`).First().Attr("value")
	return v
}

// userIDOf returns the id of the user with email.
func userIDOf(t *testing.T, a *testApp, email string) int64 {
	t.Helper()
	u, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("find user %s: %v", email, err)
	}
	return u.ID
}

// workspaceID returns the id of the workspace with slug, of which email is
// a member.
func workspaceID(t *testing.T, a *testApp, slug, email string) int64 {
	t.Helper()
	ws, _, err := store.NewWorkspaceService(a.DB).FindWorkspaceForMember(context.Background(), slug, userIDOf(t, a, email))
	if err != nil {
		t.Fatalf("find workspace %q of %s: %v", slug, email, err)
	}
	return ws.ID
}

// wantActions fails unless the audit log of the workspace with slug, of
// which email is a member, holds each action.
func wantActions(t *testing.T, a *testApp, slug, email string, actions ...string) {
	t.Helper()
	id := workspaceID(t, a, slug, email)
	for _, action := range actions {
		entries, err := store.NewOperatorAuditService(a.DB).FindAuditEntries(context.Background(), app.AuditFilter{Scope: app.Scope{WorkspaceID: id}, Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Errorf("no %q audit entry for /w/%s", action, slug)
		}
	}
}
