package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
)

func TestInvite_WrongUser(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	owner.Post("/w/"+slug+"/invites", url.Values{"email": {"right@example.com"}, "role": {"member"}})
	link := emailedInviteLink(t, a, "right@example.com")
	inviteID := pendingInviteID(t, owner.Get("/w/"+slug+"/members"), "right@example.com")

	wrong := a.newBrowser(t)
	wrong.signIn("wrong@example.com")
	page := wrong.Get(link)
	if got, want := page.StatusCode, http.StatusForbidden; got != want {
		t.Fatalf("wrong user: status=%d, want %d", got, want)
	}
	if got := inviteState(page); got != "wrong_user" {
		t.Fatalf("wrong user: state=%q\n%s", got, page.Body)
	}
	if page.Text("invite-email") != "right@example.com" || page.Text("invite-signed-in-as") != "wrong@example.com" {
		t.Errorf("wrong-user page names %q and %q", page.Text("invite-email"), page.Text("invite-signed-in-as"))
	}
	if page.Has("invite-accept") {
		t.Errorf("wrong user is offered Accept")
	}

	// Forcing it changes nothing.
	for _, path := range []string{strings.TrimPrefix(link, a.URL) + "/accept", "/invitations/" + inviteID + "/accept",
		strings.TrimPrefix(link, a.URL) + "/decline", "/invitations/" + inviteID + "/decline"} {
		res := wrong.Post(path, nil)
		if res.StatusCode >= 500 || strings.HasPrefix(res.Location(), "/w/") {
			t.Errorf("POST %s as the wrong user: status %d Location %q", path, res.StatusCode, res.Location())
		}
	}
	// The invite's id says nothing to someone else.
	if got := wrong.Get("/invitations/" + inviteID).StatusCode; got != http.StatusNotFound {
		t.Errorf("wrong user GET /invitations/%s: status %d, want 404", inviteID, got)
	}
	if got := wrong.Get("/w/" + slug).StatusCode; got != http.StatusNotFound {
		t.Errorf("wrong user reached the workspace (status %d)", got)
	}
	if wrong.Get("/settings/workspaces").Has("workspace-row") {
		t.Errorf("wrong user lists a workspace")
	}
	inv, err := store.NewInviteService(a.DB).FindInviteByToken(context.Background(), app.HashToken(tokenFromLink(a, link)))
	if err != nil || inv.Status != app.InvitePending {
		t.Fatalf("invite after wrong-user attempts: %+v, %v", inv, err)
	}

	// The right person can still accept.
	right := a.newBrowser(t)
	right.signIn("right@example.com")
	page = right.Get(link)
	if got := inviteState(page); got != "ok" {
		t.Fatalf("right user: state=%q", got)
	}
	if got, want := right.Submit(page, "invite-accept", nil).Location(), "/w/"+slug; got != want {
		t.Fatalf("right user accept Location=%q, want %q", got, want)
	}
}

func TestInvite_Decline(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	owner.Post("/w/"+slug+"/invites", url.Values{"email": {"maybe@example.com"}, "role": {"member"}})
	link := emailedInviteLink(t, a, "maybe@example.com")

	b := a.newBrowser(t)
	b.signIn("maybe@example.com")
	res := b.Submit(b.Get(link), "invite-decline", nil)
	if got, want := res.Location(), "/settings/workspaces"; got != want {
		t.Fatalf("decline Location=%q, want %q", got, want)
	}
	if got := b.Follow(res).Text("flash"); !strings.Contains(got, "declined") {
		t.Errorf("flash=%q", got)
	}

	res = b.Post(strings.TrimPrefix(link, a.URL)+"/accept", nil)
	if strings.HasPrefix(res.Location(), "/w/") {
		t.Fatalf("a declined invite was accepted (Location %q)", res.Location())
	}
	if got := b.Get("/w/" + slug).StatusCode; got != http.StatusNotFound {
		t.Errorf("GET workspace after decline: status %d, want 404", got)
	}
	page := b.Get(link)
	if got := inviteState(page); got != "declined" || page.StatusCode != http.StatusGone {
		t.Errorf("declined link: status %d state %q", page.StatusCode, got)
	}
	if owner.Get("/w/"+slug+"/members").Doc.Find(inviteRowSel("maybe@example.com")).Length() != 0 {
		t.Errorf("declined invite still listed as pending")
	}
	wantActions(t, a, slug, "owner@example.com", app.ActionInviteDeclined)
}

func TestInvite_DeadLinks(t *testing.T) {
	cases := []struct {
		name   string
		kill   func(t *testing.T, a *testApp, owner *browser, slug, link string)
		status int
		state  string
	}{
		{"expired", func(t *testing.T, a *testApp, _ *browser, _, _ string) {
			a.Clock.Add(app.InviteTTL + time.Minute)
		}, http.StatusGone, "expired"},
		{"revoked", func(t *testing.T, a *testApp, owner *browser, slug, _ string) {
			res := owner.submitWithin(owner.Get("/w/"+slug+"/members"), inviteRowSel("late@example.com"), "invite-revoke", confirmYes)
			if got := owner.Follow(res).Text("flash"); !strings.Contains(got, "revoked") {
				t.Fatalf("revoke flash=%q", got)
			}
		}, http.StatusGone, "revoked"},
		{"accepted", func(t *testing.T, a *testApp, _ *browser, _, link string) {
			b := a.newBrowser(t)
			b.signIn("late@example.com")
			b.Submit(b.Get(link), "invite-accept", nil)
		}, http.StatusGone, "accepted"},
		{"unknown", func(t *testing.T, a *testApp, _ *browser, _, _ string) {}, http.StatusNotFound, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestApp(t, "sqlite")
			// Start in the past, so that "expired" brings the clock back to
			// the outbox worker's (real) time and later emails still go out.
			a.Clock.Add(-app.InviteTTL - time.Minute)
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme Inc")
			owner.Post("/w/"+slug+"/invites", url.Values{"email": {"late@example.com"}, "role": {"member"}})
			link := emailedInviteLink(t, a, "late@example.com")
			if tc.name == "unknown" {
				token, _ := app.NewToken()
				link = a.URL + "/invites/" + token
			}
			tc.kill(t, a, owner, slug, link)

			for _, who := range []string{"anonymous", "invitee"} {
				b := a.newBrowser(t)
				if who == "invitee" {
					b.signIn("late@example.com")
				}
				page := b.Get(link)
				if got := page.StatusCode; got != tc.status {
					t.Errorf("%s: status=%d, want %d", who, got, tc.status)
				}
				if got := inviteState(page); got != tc.state {
					t.Errorf("%s: state=%q, want %q", who, got, tc.state)
				}
				if page.Has("invite-accept") || !page.Has("invite-problem") {
					t.Errorf("%s: accept=%v problem=%v", who, page.Has("invite-accept"), page.Has("invite-problem"))
				}
				if who == "invitee" && tc.state != "accepted" {
					res := b.Post(strings.TrimPrefix(link, a.URL)+"/accept", nil)
					if strings.HasPrefix(res.Location(), "/w/") || b.Get("/w/"+slug).StatusCode != http.StatusNotFound {
						t.Errorf("a %s invite was accepted", tc.name)
					}
				}
			}
			for _, malformed := range []string{"/invites/short", "/invites/%3Cscript%3E"} {
				if page := a.newBrowser(t).Get(malformed); page.StatusCode != http.StatusNotFound || inviteState(page) != "invalid" {
					t.Errorf("GET %s: status %d state %q", malformed, page.StatusCode, inviteState(page))
				}
			}
		})
	}
}

func TestInvite_Undelivered(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	colleague := inviteAndJoin(t, a, owner, slug, "colleague@example.com", "member")
	mate := a.newBrowser(t)
	mate.signIn("offline@example.com")

	a.SMTP.FailNext(100)
	owner.Post("/w/"+slug+"/invites", url.Values{"email": {"offline@example.com"}, "role": {"member"}})

	// The page says the email has not gone out and, once an attempt has
	// failed, offers the link to share by hand.
	var page *response
	deadline := time.Now().Add(5 * time.Second)
	for {
		page = owner.Get("/w/" + slug + "/members")
		if strings.Contains(page.Text("invite-undelivered"), "failed") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	row := page.Doc.Find(inviteRowSel("offline@example.com"))
	if row.Find(`[data-testid="invite-undelivered"]`).Length() == 0 {
		t.Fatalf("no invite-undelivered notice:\n%s", page.Body)
	}
	if !strings.Contains(page.Text("invite-undelivered"), "failed") {
		t.Errorf("notice does not say an attempt failed: %q", page.Text("invite-undelivered"))
	}
	share, _ := row.Find(`[data-testid="invite-share-link"]`).Attr("value")
	if !strings.HasPrefix(share, a.URL+"/invites/") {
		t.Fatalf("share link=%q", share)
	}
	if len(inviteEmails(a, "offline@example.com")) != 0 {
		t.Fatalf("the invite email was delivered despite the failing server")
	}

	// Only those who manage invites see the link.
	if colleague.Get("/w/" + slug + "/members").Has("invite-share-link") {
		t.Errorf("a member sees the share link")
	}

	// The shared link is the working accept link.
	invite := mate.Get(share)
	if got := inviteState(invite); got != "ok" {
		t.Fatalf("share link state=%q", got)
	}
	if got, want := mate.Submit(invite, "invite-accept", nil).Location(), "/w/"+slug; got != want {
		t.Fatalf("accept via share link Location=%q, want %q", got, want)
	}
}

// stubLink waits for the stub-mode log line of an email to `to` whose link
// starts with prefix, as a developer copies it from the terminal.
func stubLink(t *testing.T, a *testApp, to, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(a.logs.String(), "\n") {
			var entry struct {
				Msg   string   `json:"msg"`
				To    string   `json:"to"`
				Links []string `json:"links"`
			}
			if json.Unmarshal([]byte(line), &entry) != nil || !strings.HasPrefix(entry.Msg, "email not sent (stub mode") || entry.To != to {
				continue
			}
			for _, l := range entry.Links {
				if strings.HasPrefix(l, a.URL+prefix) {
					return l
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no stub-mode email to %s with a %s link in the log", to, prefix)
	return ""
}

func TestInvite_StubModeShowsLink(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("SMTP_HOST", ""))
	signInStub := func(email string) *browser {
		b := a.newBrowser(t)
		b.Post("/login", url.Values{"email": {email}})
		link := stubLink(t, a, email, "/auth/verify?token=")
		b.Follow(b.Submit(b.Get(link), "verify-submit", nil))
		return b
	}
	owner := signInStub("owner@example.com")
	slug := createWorkspace(t, owner, "Stub Co")

	res := owner.Follow(owner.Post("/w/"+slug+"/invites", url.Values{"email": {"mate@example.com"}, "role": {"member"}}))
	link, _ := res.Doc.Find(`[data-testid="flash-link"]`).Attr("value")
	if !strings.HasPrefix(link, a.URL+"/invites/") {
		t.Fatalf("stub mode: no accept link in the flash (got %q):\n%s", link, res.Body)
	}
	if got := stubLink(t, a, "mate@example.com", "/invites/"); got != link {
		t.Fatalf("flash link %q differs from the logged email's link %q", link, got)
	}
	mate := signInStub("mate@example.com")
	invite := mate.Get(link)
	if got := inviteState(invite); got != "ok" {
		t.Fatalf("shared link state=%q", got)
	}
	if got, want := mate.Submit(invite, "invite-accept", nil).Location(), "/w/"+slug; got != want {
		t.Fatalf("accept Location=%q, want %q", got, want)
	}
}
