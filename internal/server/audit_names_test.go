package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// auditEntryPage opens the detail page of the newest entry with action in
// the workspace.
func auditEntryPage(t *testing.T, a *testApp, b *browser, slug, action string) *response {
	t.Helper()
	list := b.Get("/w/" + slug + "/audit?action=" + url.QueryEscape(action))
	href, ok := list.Doc.Find(`[data-testid="audit-detail-link"]`).First().Attr("href")
	if !ok {
		t.Fatalf("no %s entry in the audit log", action)
	}
	d := b.Get(href)
	if d.StatusCode != http.StatusOK {
		t.Fatalf("entry %s: status %d", href, d.StatusCode)
	}
	return d
}

// TestAuditEntry_ReadsLikeASentence: an entry's page names the people and
// things it records by name and email (never "actor 2" or a bare id),
// labels its metadata for people, says "account deleted" for someone who
// left, and folds the hashes away under "Integrity details".
func TestAuditEntry_ReadsLikeASentence(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, dialect, withEnv("FREE_PLAN_SEATS", "10"))
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			if res := owner.Post("/settings/account", url.Values{"name": {"Olive Owner"}, "time_zone": {"UTC"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("set the owner's name: status %d", res.StatusCode)
			}
			slug := createWorkspace(t, owner, "Acme Inc")
			inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
			adminID := userIDOf(t, a, "admin@example.com")
			if res := owner.Post("/w/"+slug+"/members/"+itoa(int(adminID))+"/role", url.Values{"role": {"member"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("change the admin's role: status %d\n%s", res.StatusCode, res.Body)
			}

			d := auditEntryPage(t, a, owner, slug, app.ActionMemberRoleChanged)
			if got, want := d.Text("audit-entry-who"), "Olive Owner <owner@example.com>"; got != want {
				t.Errorf("who=%q, want %q", got, want)
			}
			if got, want := d.Text("audit-entry-target"), "admin@example.com"; got != want {
				t.Errorf("target=%q, want %q", got, want)
			}
			if got, want := d.Text("audit-entry-md-from")+" → "+d.Text("audit-entry-md-to"), "Admin → Member"; got != want {
				t.Errorf("role change=%q, want %q", got, want)
			}
			details := d.Doc.Find(`[data-testid="audit-entry-details"]`)
			for _, raw := range []string{"email", "user #", "actor ", "Target user", "admin\n"} {
				if strings.Contains(details.Text(), raw) {
					t.Errorf("entry details show %q:\n%s", raw, details.Text())
				}
			}
			if !strings.Contains(details.Text(), "Email address") {
				t.Errorf("no human label for the email key:\n%s", details.Text())
			}
			integrity := d.Doc.Find(`details[data-testid="audit-entry-integrity"]`)
			if integrity.Length() != 1 || !strings.Contains(integrity.Find("summary").Text(), "Integrity details") {
				t.Fatalf("no Integrity details disclosure")
			}
			if _, open := integrity.Attr("open"); open || integrity.Find(`[data-testid="audit-entry-hash"]`).Length() != 1 {
				t.Errorf("the hash is not folded away under Integrity details (open=%v)", open)
			}
			if details.Find(".hash").Length() != 0 {
				t.Error("a hash outside Integrity details")
			}

			created := auditEntryPage(t, a, owner, slug, app.ActionWorkspaceCreated)
			if got, want := created.Text("audit-entry-target"), "“Acme Inc” (this workspace)"; got != want {
				t.Errorf("workspace target=%q, want %q", got, want)
			}

			// Once the admin deletes their account, their entries say so.
			if err := store.NewUserService(a.DB).DeleteUser(app.WithPrincipal(context.Background(),
				&app.Principal{User: app.User{ID: adminID, Email: "admin@example.com"}})); err != nil {
				t.Fatalf("delete the admin: %v", err)
			}
			joined := auditEntryPage(t, a, owner, slug, app.ActionInviteAccepted)
			if got, want := joined.Text("audit-entry-who"), "admin@example.com (account deleted)"; got != want {
				t.Errorf("deleted actor: who=%q, want %q", got, want)
			}
		})
	}
}
