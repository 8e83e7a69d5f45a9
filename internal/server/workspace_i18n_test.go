package server_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// inMain returns res with its body cut down to the page's <title> and
// <main>, less the elements matching skip, and the words of its
// confirmation dialogs: what the workspace pages write themselves. The header and footer around it are the layout's, checked
// with it; skip leaves out parts other pages' code renders inside main
// (the dashboard's audit sentences).
func inMain(t *testing.T, res *response, skip ...string) *response {
	t.Helper()
	main := res.Doc.Find("main").First().Clone()
	if main.Length() == 0 {
		t.Fatalf("%s: no <main>:\n%s", res.Request.URL.Path, res.Body)
	}
	for _, sel := range skip {
		main.Find(sel).Remove()
	}
	body, err := goquery.OuterHtml(main)
	if err != nil {
		t.Fatal(err)
	}
	// The words of the confirmation dialogs, which app.js shows.
	main.Find("[data-confirm]").Each(func(_ int, f *goquery.Selection) {
		for _, name := range []string{"data-confirm-title", "data-confirm", "data-confirm-label"} {
			body += "<p>" + html.EscapeString(f.AttrOr(name, "")) + "</p>"
		}
	})
	cut := *res
	cut.Body = "<!DOCTYPE html><html><head><title>" + html.EscapeString(res.Doc.Find("title").Text()) +
		"</title></head><body>" + body + "</body></html>"
	return &cut
}

// wantStatus fails unless res answered with status.
func wantStatus(t *testing.T, res *response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, res.Body)
	}
}

// TestI18n_Workspace renders every page of workspaces, members, invites
// and the dashboard in the pseudo-locale, with their form errors and
// flashes, and fails on English left untranslated; then checks a few
// German words of the members page.
func TestI18n_Workspace(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t).pseudo()
	owner.signIn("owner@example.com")
	allow := []string{"Acme Inc",
		// Messages of app errors: their words come from errors.json, not
		// from these pages.
		"Enter a name.", "Enter a valid email address, like name@example.com.", "already has a pending invite.",
		"You are the last owner. Transfer ownership to another member before leaving."}
	check := func(res *response, status int, skip ...string) {
		t.Helper()
		wantStatus(t, res, status)
		assertTranslated(t, inMain(t, res, skip...), allow...)
	}

	// No workspace yet: the empty list, the create form and its error.
	check(owner.Get("/settings/workspaces"), http.StatusOK)
	check(owner.Get("/workspaces/new"), http.StatusOK)
	check(owner.Post("/workspaces", url.Values{"name": {""}}), http.StatusUnprocessableEntity)

	// Created: the flash on the dashboard, then the list.
	res := owner.Post("/workspaces", url.Values{"name": {"Acme Inc"}})
	wantStatus(t, res, http.StatusSeeOther)
	slug := strings.TrimPrefix(res.Location(), "/w/")
	dash := owner.Follow(res)
	if !dash.Has("flash") || !dash.Has("checklist") {
		t.Fatalf("dashboard after create: flash %v, checklist %v", dash.Has("flash"), dash.Has("checklist"))
	}
	// The recent activity's sentences are the audit log's, the
	// getting-started checklist the welcome steps'.
	check(dash, http.StatusOK, `[data-testid="activity"]`, `[data-testid="checklist"]`)
	check(owner.Get("/settings/workspaces"), http.StatusOK)

	// The members page with an invite pending, after the flash; the form's
	// error; the seat-free page of one member.
	members := owner.Get("/w/" + slug + "/members")
	res = owner.Submit(members, "invite-form", url.Values{"email": {"grace@example.com"}, "role": {"admin"}})
	wantStatus(t, res, http.StatusSeeOther)
	members = owner.Follow(res)
	if !members.Has("flash") || !members.Has("invite-row") {
		t.Fatalf("members after invite: flash %v, invite row %v", members.Has("flash"), members.Has("invite-row"))
	}
	check(members, http.StatusOK)
	check(owner.Submit(members, "invite-form", url.Values{"email": {"not an address"}, "role": {"member"}}), http.StatusUnprocessableEntity)
	check(owner.Submit(members, "invite-form", url.Values{"email": {"grace@example.com"}, "role": {"member"}}), http.StatusUnprocessableEntity)

	// Settings: the page with its two-factor policy, the delete
	// confirmation's error, the flash of a save.
	settings := owner.Get("/w/" + slug + "/settings")
	if !settings.Has("two-factor-policy") || !settings.Has("two-factor-hint") {
		t.Fatalf("settings: two-factor policy %v, hint %v", settings.Has("two-factor-policy"), settings.Has("two-factor-hint"))
	}
	check(settings, http.StatusOK)
	check(owner.Submit(settings, "delete-form", url.Values{"confirm": {"Acme"}}), http.StatusUnprocessableEntity)
	check(owner.Follow(owner.Submit(settings, "settings-form", url.Values{"name": {"Acme Inc"}, "slug": {slug}})), http.StatusOK)

	// The invitee: their list and the new-workspace page with the waiting
	// invitation, then the invite page the emailed link opens.
	link := emailedInviteLink(t, a, "grace@example.com")
	grace := a.newBrowser(t).pseudo()
	grace.signIn("grace@example.com")
	list := grace.Get("/settings/workspaces")
	if !list.Has("pending-invite") {
		t.Fatalf("the invitee's list shows no invitation:\n%s", list.Body)
	}
	check(list, http.StatusOK)
	check(grace.Get("/workspaces/new"), http.StatusOK)
	invite := grace.Get(link)
	if got := inviteState(invite); got != "ok" {
		t.Fatalf("invite page state %q", got)
	}
	check(invite, http.StatusOK)
	res = grace.Submit(invite, "invite-accept", nil)
	wantStatus(t, res, http.StatusSeeOther)
	// Opened again, the used link says so.
	check(grace.Get(link), http.StatusGone)

	// A role change's flash, and a member's own page.
	members = owner.Get("/w/" + slug + "/members")
	res = owner.submitWithin(members, memberRowSel("grace@example.com"), "member-make-member", url.Values{"role": {"member"}})
	members = owner.Follow(res)
	if !members.Has("flash") {
		t.Fatal("no flash after the role change")
	}
	check(members, http.StatusOK)
	href, _ := members.Doc.Find(memberRowSel("grace@example.com") + ` [data-testid="member-actions-button"]`).Attr("href")
	check(owner.Get(href), http.StatusOK)
	// What a plain member sees of the workspace.
	check(grace.Get("/w/"+slug), http.StatusOK)
	check(grace.Get("/w/"+slug+"/members"), http.StatusOK)

	// German: the members page's heading, table and invite form.
	de := a.newBrowser(t).german()
	de.signIn("owner@example.com")
	page := de.Get("/w/" + slug + "/members")
	for _, tc := range []struct{ what, got, want string }{
		{"h1", strings.TrimSpace(page.Doc.Find("main h1").First().Text()), "Mitglieder"},
		{"count", page.Text("member-count"), "2 Mitglieder"},
		{"role header", strings.TrimSpace(page.Doc.Find(`[data-testid="member-list"] th`).Eq(1).Text()), "Rolle"},
		{"owner's role", memberRole(page, "owner@example.com"), "Inhaber"},
		{"invite button", page.Text("invite-submit"), "Einladung senden"},
		{"leave heading", strings.TrimSpace(page.Doc.Find("#leave-heading").Text()), "Workspace verlassen"},
	} {
		if tc.got != tc.want {
			t.Errorf("German members page: %s=%q, want %q", tc.what, tc.got, tc.want)
		}
	}
}
