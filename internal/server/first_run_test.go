package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"atrium/internal/store"
)

// TestFirstRun_InviteBanner checks that someone invited who signs in
// directly, not through the emailed link, is shown the invitation at once
// with Accept and Decline, and that Accept joins the workspace.
func TestFirstRun_InviteBanner(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {"ada@example.com"}, "role": {"admin"}})
	a.SMTP.WaitForMessage(t, "ada@example.com", 5*time.Second) // the invitation, left unopened

	ada := a.newBrowser(t)
	home := ada.signIn("ada@example.com")
	if !home.Has("invite-banner") {
		t.Fatalf("no invitation banner after signing in directly:\n%s", home.Body)
	}
	if got := home.Text("invite-banner-item"); !strings.Contains(got, "Acme Inc") || !strings.Contains(got, "Admin") {
		t.Errorf("banner says %q, want the workspace and the role", got)
	}
	if !home.Has("invite-banner-decline") {
		t.Error("banner offers no Decline")
	}
	res := ada.Submit(home, "invite-banner-accept", nil)
	if got, want := res.Location(), "/w/"+slug; got != want {
		t.Fatalf("accept from the banner: Location=%q, want %q", got, want)
	}
	if ada.Get("/workspaces/new").Has("invite-banner") {
		t.Error("the banner stays after accepting")
	}
}

// TestFirstRun_SignInPageNamesInvitation checks that a signed-out visitor
// opening an invite link is told on the sign-in page which workspace and
// role the invitation is for.
func TestFirstRun_SignInPageNamesInvitation(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {"ada@example.com"}, "role": {"member"}})
	var link string
	for _, l := range a.SMTP.WaitForMessage(t, "ada@example.com", 5*time.Second).Links() {
		if strings.Contains(l, "/invites/") {
			link = l
		}
	}
	visitor := a.newBrowser(t)
	login := visitor.Follow(visitor.Get(link))
	if !login.Has("login") {
		t.Fatalf("the invite link did not lead to sign in:\n%s", login.Body)
	}
	if got := login.Text("flash"); !strings.Contains(got, "Acme Inc") || !strings.Contains(got, "Member") || !strings.Contains(got, "ada@example.com") {
		t.Errorf("sign-in page says %q, want the workspace, the role and the address", got)
	}
}

// TestFirstRun_TimeZoneFromBrowser checks that a first sign-in takes the
// time zone the browser reports, a bad one leaves UTC, and a later sign-in
// never changes a user's choice.
func TestFirstRun_TimeZoneFromBrowser(t *testing.T) {
	a := newTestApp(t, "sqlite")
	users := store.NewUserService(a.DB)
	signIn := func(email, tz string) *response {
		b := a.newBrowser(t)
		b.Post("/login", url.Values{"email": {email}})
		page := b.Get(a.SMTP.WaitForMessage(t, email, 5*time.Second).Links()[0])
		if got := page.Doc.Find(`form[action="/auth/verify"] input[name="tz"]`).Length(); got != 1 {
			t.Fatalf("verify form has %d tz fields, want 1", got)
		}
		return b.Follow(b.Submit(page, "verify-submit", url.Values{"tz": {tz}}))
	}
	for _, tc := range []struct{ email, tz, want string }{
		{"paris@example.com", "Europe/Paris", "Europe/Paris"},
		{"bogus@example.com", "Mars/Olympus", "UTC"},
		{"local@example.com", "Local", "UTC"},
		{"none@example.com", "", "UTC"},
	} {
		if res := signIn(tc.email, tc.tz); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", tc.email, res.StatusCode)
		}
		u, err := users.FindUserByEmail(context.Background(), tc.email)
		if err != nil {
			t.Fatal(err)
		}
		if u.TimeZone != tc.want {
			t.Errorf("%s with tz=%q: time zone %q, want %q", tc.email, tc.tz, u.TimeZone, tc.want)
		}
	}
	signIn("paris@example.com", "Asia/Tokyo")
	if u, _ := users.FindUserByEmail(context.Background(), "paris@example.com"); u.TimeZone != "Europe/Paris" {
		t.Errorf("a later sign-in changed the time zone to %q", u.TimeZone)
	}
}

// TestFirstRun_Checklist checks the new workspace's getting-started
// checklist: three steps for its owner, each ticked as it is done, gone
// once all are; a member never sees it.
func TestFirstRun_Checklist(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("APP_ENV", "development"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	done := func() map[string]bool {
		t.Helper()
		page := owner.Get("/w/" + slug)
		if !page.Has("checklist") {
			return nil
		}
		out := map[string]bool{}
		page.Doc.Find(`[data-testid="checklist-item"]`).Each(func(_ int, s *goquery.Selection) {
			_, ok := s.Attr("data-done")
			out[s.AttrOr("data-key", "")] = ok
		})
		return out
	}
	if diff := cmp.Diff(map[string]bool{"invite": false, "profile": false, "upgrade": false}, done()); diff != "" {
		t.Fatalf("new workspace's checklist (-want +got):\n%s", diff)
	}
	member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
	if member.Get("/w/" + slug).Has("checklist") {
		t.Error("a member sees the checklist")
	}
	owner.Post("/settings/account", url.Values{"name": {"Olive Owner"}, "time_zone": {"Europe/Paris"}})
	if diff := cmp.Diff(map[string]bool{"invite": true, "profile": true, "upgrade": false}, done()); diff != "" {
		t.Fatalf("after inviting and naming (-want +got):\n%s", diff)
	}
	if res := owner.Post("/w/"+slug+"/billing/demo-upgrade", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("demo upgrade: status %d\n%s", res.StatusCode, res.Body)
	}
	if got := done(); got != nil {
		t.Errorf("checklist still shown when every step is done: %v", got)
	}
}
