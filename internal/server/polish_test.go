package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestWorkspaceCreate_EmptyName checks that an empty name asks for a name
// instead of quoting the length rule.
func TestWorkspaceCreate_EmptyName(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	b.signIn("ada@example.com")
	res := b.Post("/workspaces", url.Values{"name": {"  "}})
	if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	if got := res.Doc.Find("#field-name-error").Text(); !strings.Contains(got, "Enter a name.") {
		t.Errorf("name error=%q, want \"Enter a name.\"", got)
	}
}

// TestTestInvite_OwnersOnly checks that the email check is offered to, and
// run for, owners of a workspace only.
func TestTestInvite_OwnersOnly(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
	if !owner.Get("/settings/workspaces").Has("test-invite-form") {
		t.Error("an owner is not offered the email check")
	}
	if member.Get("/settings/workspaces").Has("test-invite-form") {
		t.Error("a member is offered the email check")
	}
	if got := member.Post("/settings/workspaces/test-invite", nil).StatusCode; got != http.StatusForbidden {
		t.Errorf("member's test invite: status %d, want 403", got)
	}
	if got := owner.Post("/settings/workspaces/test-invite", nil).StatusCode; got != http.StatusSeeOther {
		t.Errorf("owner's test invite: status %d, want 303", got)
	}
}

// TestAccount_DeleteBlockedLinks checks that the account page names each
// workspace that blocks deleting the account, with links to fix it, and
// speaks of several workspaces as several.
func TestAccount_DeleteBlockedLinks(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	b.signIn("owner@example.com")
	acme := createWorkspace(t, b, "Acme Inc")
	zeta := createWorkspace(t, b, "Zeta Labs")
	page := b.Get("/settings/account")
	msg := page.Text("delete-account-blocked")
	if !strings.Contains(msg, "Acme Inc and Zeta Labs") || strings.Contains(msg, "the workspace") {
		t.Errorf("blocked message=%q, want both names and no \"the workspace\"", msg)
	}
	var hrefs []string
	page.Doc.Find(`[data-testid="delete-account-blocking"] a`).Each(func(_ int, s *goquery.Selection) {
		hrefs = append(hrefs, s.AttrOr("href", ""))
	})
	want := []string{"/w/" + acme + "/members", "/w/" + acme + "/settings", "/w/" + zeta + "/members", "/w/" + zeta + "/settings"}
	if strings.Join(hrefs, " ") != strings.Join(want, " ") {
		t.Errorf("links=%v, want %v", hrefs, want)
	}
}
