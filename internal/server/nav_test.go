package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestNav_SwitcherAndTabs checks the header a member and an owner see: the
// switcher lists every workspace of the user with the current one marked,
// an owner has an API keys tab, a member is shown no Billing, Audit,
// Settings or API keys tab, and the 403 a member
// still reaches by address keeps the workspace navigation.
func TestNav_SwitcherAndTabs(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("FREE_PLAN_SEATS", "10"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	acme := createWorkspace(t, owner, "Acme Inc")
	beta := createWorkspace(t, owner, "Beta Labs")
	member := inviteAndJoin(t, a, owner, acme, "member@example.com", "member")

	page := owner.Get("/w/" + beta + "/members")
	var listed []string
	page.Doc.Find(`[data-testid="ws-switch-item"]`).Each(func(_ int, s *goquery.Selection) {
		slug, _ := s.Attr("data-slug")
		if _, cur := s.Attr("aria-current"); cur {
			slug += "*"
		}
		listed = append(listed, slug)
	})
	if got, want := strings.Join(listed, " "), acme+" "+beta+"*"; got != want {
		t.Errorf("switcher lists %q, want %q (current starred)", got, want)
	}
	for _, id := range []string{"nav-ws-billing", "nav-ws-audit", "nav-ws-settings", "nav-ws-api-keys", "m-nav-ws-api-keys"} {
		if !page.Has(id) {
			t.Errorf("owner: no %s tab", id)
		}
	}
	keys := owner.Get("/w/" + beta + "/settings/api-keys")
	if _, cur := keys.Doc.Find(`[data-testid="nav-ws-api-keys"]`).Attr("aria-current"); !cur {
		t.Error("the API keys page does not mark its tab current")
	}

	page = member.Get("/w/" + acme)
	for _, id := range []string{"nav-ws-billing", "nav-ws-audit", "nav-ws-settings", "m-nav-ws-billing", "nav-ws-api-keys", "m-nav-ws-api-keys"} {
		if page.Has(id) {
			t.Errorf("member is shown the %s tab", id)
		}
	}
	if got := page.Doc.Find(`[data-testid="ws-switch-item"]`).Length(); got != 1 {
		t.Errorf("member's switcher lists %d workspaces, want 1", got)
	}
	forbidden := member.Get("/w/" + acme + "/billing")
	if got, want := forbidden.StatusCode, http.StatusForbidden; got != want {
		t.Fatalf("member GET billing: status %d, want %d", got, want)
	}
	if !forbidden.Has("nav-ws-dashboard") || !forbidden.Has("ws-switcher") {
		t.Errorf("the 403 page lost the workspace navigation:\n%s", forbidden.Body)
	}
}

// TestAppHome_OpensLastWorkspace checks that /app opens the workspace last
// used, not the first in the list, and falls back to the first when the
// user has left the remembered one.
func TestAppHome_OpensLastWorkspace(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	acme := createWorkspace(t, owner, "Acme Inc")
	zeta := createWorkspace(t, owner, "Zeta Works")

	owner.Get("/w/" + zeta)
	if got, want := owner.Get("/app").Location(), "/w/"+zeta; got != want {
		t.Errorf("after opening %s, /app goes to %q, want %q", zeta, got, want)
	}
	owner.Get("/w/" + acme + "/members")
	if got, want := owner.Get("/app").Location(), "/w/"+acme; got != want {
		t.Errorf("after opening %s, /app goes to %q, want %q", acme, got, want)
	}

	// Someone else on the same browser never gets sent to a workspace that
	// is not theirs.
	owner.Post("/logout", nil)
	owner.signIn("other@example.com")
	if got, want := owner.Get("/app").Location(), "/workspaces/new"; got != want {
		t.Errorf("non-member: /app goes to %q, want %q", got, want)
	}
}
