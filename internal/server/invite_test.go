package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestInviteJourney(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme Inc")

			// The owner invites a teammate from the members page.
			members := owner.Get("/w/" + slug + "/members")
			res := owner.Submit(members, "invite-form", url.Values{"email": {"Teammate@Example.com"}, "role": {"member"}})
			if got, want := res.Location(), "/w/"+slug+"/members"; got != want {
				t.Fatalf("invite: status %d Location=%q, want %q\n%s", res.StatusCode, got, want, res.Body)
			}
			members = owner.Follow(res)
			if got := members.Text("flash"); !strings.Contains(got, "teammate@example.com") {
				t.Errorf("flash=%q, want it to name the invitee", got)
			}
			if members.Doc.Find(inviteRowSel("teammate@example.com")).Length() != 1 {
				t.Fatalf("pending invite not listed:\n%s", members.Body)
			}
			inviteID := pendingInviteID(t, members, "teammate@example.com")

			// The email arrives through SMTP with a link to /invites/{token}.
			msg := a.SMTP.WaitForMessage(t, "teammate@example.com", 5*time.Second)
			if !strings.Contains(msg.Subject, "Acme Inc") || !strings.Contains(msg.Text, "owner@example.com") {
				t.Errorf("invite email does not name the workspace and inviter: %q\n%s", msg.Subject, msg.Text)
			}
			link := msg.Links()[0]
			if !regexp.MustCompile(`^` + regexp.QuoteMeta(a.URL) + `/invites/[A-Za-z0-9_-]+$`).MatchString(link) {
				t.Fatalf("invite link %q is not APP_URL/invites/{token}", link)
			}

			// Signed out, the link asks the teammate to sign in as the invited
			// address and brings them back to the invite.
			mate := a.newBrowser(t)
			res = mate.Get(link)
			loc, err := url.Parse(res.Location())
			if err != nil || res.StatusCode != http.StatusSeeOther || loc.Path != "/login" {
				t.Fatalf("anonymous invite link: status %d Location %q", res.StatusCode, res.Location())
			}
			if got, want := loc.Query().Get("next"), "/invitations/"+inviteID; got != want {
				t.Errorf("next=%q, want %q", got, want)
			}
			if strings.Contains(res.Location(), strings.TrimPrefix(link, a.URL+"/invites/")) {
				t.Errorf("the invite token leaks into the sign-in URL: %q", res.Location())
			}
			login := mate.Get(res.Location())
			if got, want := attrOf(login, "login-email", "value"), "teammate@example.com"; got != want {
				t.Errorf("login email prefilled=%q, want %q", got, want)
			}
			res = mate.Submit(login, "login-submit", nil)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("POST /login: status %d", res.StatusCode)
			}
			signInLink := a.SMTP.WaitForMessage(t, "teammate@example.com", 5*time.Second).Links()[0]
			res = mate.Submit(mate.Get(signInLink), "verify-submit", nil)
			if got, want := res.Location(), "/invitations/"+inviteID; got != want {
				t.Fatalf("after sign-in Location=%q, want %q", got, want)
			}
			invite := mate.Follow(res)
			if got := inviteState(invite); got != "ok" || invite.StatusCode != http.StatusOK {
				t.Fatalf("invite page: status %d state %q\n%s", invite.StatusCode, got, invite.Body)
			}
			if s := invite.Text("invite-summary"); !strings.Contains(s, "Acme Inc") || !strings.Contains(s, "owner@example.com") || !strings.Contains(s, "Member") {
				t.Errorf("invite summary=%q, want workspace, inviter and role", s)
			}

			// A newcomer is asked for a name once they have joined.
			res = mate.Submit(invite, "invite-accept", nil)
			if got, want := res.Location(), "/welcome?next=%2Fw%2F"+slug; got != want {
				t.Fatalf("accept Location=%q, want %q", got, want)
			}
			step := mate.Follow(res)
			if !step.Has("name-step") || !strings.Contains(step.Text("flash"), "Welcome") {
				t.Fatalf("after accept: name step %v flash %q", step.Has("name-step"), step.Text("flash"))
			}
			dash := mate.Follow(mate.Submit(step, "name-step-skip", url.Values{"skip": {"1"}}))
			if dash.Text("dashboard-name") != "Acme Inc" {
				t.Fatalf("after the name step: dashboard %q", dash.Text("dashboard-name"))
			}
			if got, want := dash.Text("nav-role"), "Member"; got != want {
				t.Errorf("nav role=%q, want %q", got, want)
			}

			members = owner.Get("/w/" + slug + "/members")
			if got, want := memberRole(members, "teammate@example.com"), "Member"; got != want {
				t.Errorf("owner's members page: teammate role=%q, want %q", got, want)
			}
			if members.Doc.Find(inviteRowSel("teammate@example.com")).Length() != 0 {
				t.Errorf("accepted invite still listed as pending")
			}
			wantActions(t, a, slug, "owner@example.com", app.ActionInviteSent, app.ActionInviteAccepted)
			audit := owner.Get("/w/" + slug + "/audit")
			for _, sentence := range []string{"invited teammate@example.com as Member", "joined as Member"} {
				if !strings.Contains(audit.Doc.Find(`[data-testid="audit-table"]`).Text(), sentence) {
					t.Errorf("audit page does not say %q", sentence)
				}
			}

			// A second click on Accept lands in the workspace and joins nobody twice.
			res = mate.Post("/invitations/"+inviteID+"/accept", nil)
			if got, want := res.Location(), "/w/"+slug; got != want {
				t.Errorf("second accept Location=%q, want %q", got, want)
			}
			if got := mate.Follow(res); got.StatusCode != http.StatusOK {
				t.Errorf("second accept ends on status %d", got.StatusCode)
			}
			if got, want := countMembers(t, a, slug, "owner@example.com", "teammate@example.com"), 1; got != want {
				t.Errorf("teammate has %d memberships, want %d", got, want)
			}
			if got, want := owner.Get("/w/"+slug+"/members").Text("member-count"), "2 members"; got != want {
				t.Errorf("member count=%q, want %q", got, want)
			}
			// The used link explains itself.
			if got := inviteState(a.newBrowser(t).Get(link)); got != "accepted" {
				t.Errorf("used link state=%q, want accepted", got)
			}
		})
	}
}

func TestInvite_Resend(t *testing.T) {
	a := newTestApp(t, "sqlite")
	// The outbox worker runs on real time: start six days in the past so
	// that every email is queued at or before it.
	a.Clock.Add(-6 * 24 * time.Hour)
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	owner.Post("/w/"+slug+"/invites", url.Values{"email": {"again@example.com"}, "role": {"admin"}})
	oldLink := emailedInviteLink(t, a, "again@example.com")
	b := a.newBrowser(t)
	b.signIn("again@example.com")

	// Six days on, a resend gives a new link good for another seven.
	a.Clock.Add(6 * 24 * time.Hour)
	res := owner.submitWithin(owner.Get("/w/"+slug+"/members"), inviteRowSel("again@example.com"), "invite-resend", nil)
	if got, want := res.Location(), "/w/"+slug+"/members"; got != want {
		t.Fatalf("resend Location=%q, want %q", got, want)
	}
	if got := owner.Follow(res).Text("flash"); !strings.Contains(got, "again@example.com") {
		t.Errorf("flash=%q", got)
	}
	newLink := emailedInviteLink(t, a, "again@example.com")
	if newLink == oldLink {
		t.Fatal("resend mailed the same link")
	}
	a.Clock.Add(3 * 24 * time.Hour)

	if page := b.Get(oldLink); inviteState(page) != "invalid" || page.StatusCode != http.StatusNotFound {
		t.Errorf("old link: status %d state %q, want 404 invalid", page.StatusCode, inviteState(page))
	}
	page := b.Get(newLink)
	if got := inviteState(page); got != "ok" {
		t.Fatalf("new link state=%q", got)
	}
	if got, want := b.Submit(page, "invite-accept", nil).Location(), "/w/"+slug; got != want {
		t.Fatalf("accept Location=%q, want %q", got, want)
	}
	if got, want := memberRole(owner.Get("/w/"+slug+"/members"), "again@example.com"), "Admin"; got != want {
		t.Errorf("role=%q, want %q", got, want)
	}
	if got, want := len(inviteEmails(a, "again@example.com")), 2; got != want {
		t.Errorf("%d invite emails, want %d", got, want)
	}
	wantActions(t, a, slug, "owner@example.com", app.ActionInviteResent)
}

func TestInvite_FormErrors(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("FREE_PLAN_SEATS", "10"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
	owner.Post("/w/"+slug+"/invites", url.Values{"email": {"dup@example.com"}, "role": {"member"}})
	emailedInviteLink(t, a, "dup@example.com")

	cases := []struct {
		name      string
		b         *browser
		email     string
		role      string
		errTestID string
	}{
		{"duplicate invite", owner, "DUP@example.com", "member", "field-email-error"},
		{"already a member", owner, "admin@example.com", "member", "field-email-error"},
		{"invalid address", owner, "not an email", "member", "field-email-error"},
		{"unknown role", owner, "new@example.com", "superuser", "field-role-error"},
		{"admin invites an owner", admin, "boss@example.com", "owner", "field-role-error"},
	}
	for _, tc := range cases {
		res := tc.b.Submit(tc.b.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {tc.email}, "role": {tc.role}})
		if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
			t.Errorf("%s: status=%d, want %d", tc.name, got, want)
			continue
		}
		if res.Text(tc.errTestID) == "" {
			t.Errorf("%s: no inline %s:\n%s", tc.name, tc.errTestID, res.Body)
		}
		if got, want := attrOf(res, "invite-email", "value"), strings.TrimSpace(tc.email); got != want {
			t.Errorf("%s: email input=%q, want %q", tc.name, got, want)
		}
	}

	// An admin is only offered roles up to their own.
	roles := admin.Get("/w/" + slug + "/members").Doc.Find(`[data-testid="invite-role"] option`)
	if got := roles.Map(func(_ int, s *goquery.Selection) string { v, _ := s.Attr("value"); return v }); strings.Join(got, ",") != "admin,member" {
		t.Errorf("admin's invite roles=%v, want [admin member]", got)
	}

	// A later invite's email arriving shows the refused ones were never queued.
	owner.Post("/w/"+slug+"/invites", url.Values{"email": {"later@example.com"}, "role": {"member"}})
	emailedInviteLink(t, a, "later@example.com")
	for _, to := range []string{"dup@example.com", "boss@example.com", "new@example.com"} {
		want := 0
		if to == "dup@example.com" {
			want = 1
		}
		if got := len(inviteEmails(a, to)); got != want {
			t.Errorf("%d invite emails to %s, want %d", got, to, want)
		}
	}
	members := owner.Get("/w/" + slug + "/members")
	if got, want := members.Doc.Find(`[data-testid="invite-row"]`).Length(), 2; got != want {
		t.Errorf("%d pending invites, want %d (dup and later)", got, want)
	}
}

func TestInvite_SeatLimit(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("FREE_PLAN_SEATS", "2"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")

	if page := owner.Get("/w/" + slug + "/members"); page.Has("seat-limit") {
		t.Fatalf("seat limit shown with 1 of 2 seats used")
	}
	owner.Post("/w/"+slug+"/invites", url.Values{"email": {"first@example.com"}, "role": {"member"}})
	emailedInviteLink(t, a, "first@example.com")

	page := owner.Get("/w/" + slug + "/members")
	if !page.Has("seat-limit") {
		t.Fatalf("no seat-limit notice with 2 of 2 seats used:\n%s", page.Body)
	}
	if got, want := attrOf(page, "seat-limit-billing", "href"), "/w/"+slug+"/billing"; got != want {
		t.Errorf("billing link=%q, want %q", got, want)
	}
	if _, disabled := page.Doc.Find(`[data-testid="invite-submit"]`).Attr("disabled"); !disabled {
		t.Errorf("the invite button is not disabled")
	}
	if got, want := statValue(owner.Get("/w/"+slug), "stat-seats"), "2 of 2"; got != want {
		t.Errorf("dashboard seats=%q, want %q", got, want)
	}

	res := owner.Post("/w/"+slug+"/invites", url.Values{"email": {"second@example.com"}, "role": {"member"}})
	if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
		t.Fatalf("invite past the limit: status=%d, want %d", got, want)
	}
	if !strings.Contains(res.Text("field-email-error")+res.Text("seat-limit"), "seats") {
		t.Errorf("refusal does not mention seats:\n%s", res.Body)
	}
	if res.Doc.Find(inviteRowSel("second@example.com")).Length() != 0 {
		t.Errorf("refused invite is listed")
	}

	// Revoking the pending invite frees the seat.
	res = owner.submitWithin(owner.Get("/w/"+slug+"/members"), inviteRowSel("first@example.com"), "invite-revoke", confirmYes)
	if page := owner.Follow(res); page.Has("seat-limit") {
		t.Errorf("seat limit still shown after revoking the only pending invite")
	}
	if res := owner.Post("/w/"+slug+"/invites", url.Values{"email": {"second@example.com"}, "role": {"member"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("invite after revoke: status %d", res.StatusCode)
	}
}

func TestInvite_PendingInvitationsList(t *testing.T) {
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	b := a.newBrowser(t)
	b.signIn("listed@example.com")
	owner.Post("/w/"+slug+"/invites", url.Values{"email": {"listed@example.com"}, "role": {"admin"}})
	emailedInviteLink(t, a, "listed@example.com")

	list := b.Get("/settings/workspaces")
	row := list.Doc.Find(`[data-testid="pending-invite"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "Acme Inc") {
		t.Fatalf("pending invitation not listed:\n%s", list.Body)
	}
	href, _ := row.Find(`[data-testid="pending-invite-link"]`).Attr("href")
	page := b.Get(href)
	if got := inviteState(page); got != "ok" || page.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d state %q", href, page.StatusCode, got)
	}
	if got, want := b.Submit(page, "invite-accept", nil).Location(), "/w/"+slug; got != want {
		t.Fatalf("accept from the list Location=%q, want %q", got, want)
	}
	if b.Get("/settings/workspaces").Has("pending-invite") {
		t.Errorf("accepted invitation still listed")
	}
}

// --- helpers ---

// inviteState returns the data-state of the invite page.
func inviteState(res *response) string {
	v, _ := res.Doc.Find(`[data-testid="invite-page"]`).Attr("data-state")
	return v
}

var inviteActionID = regexp.MustCompile(`/invites/(\d+)/`)

// pendingInviteID returns the id of the pending invite to email, read from
// its row's buttons on the members page (they submit a form shared by the
// rows, each with its own formaction).
func pendingInviteID(t *testing.T, members *response, email string) string {
	t.Helper()
	action, _ := members.Doc.Find(inviteRowSel(email) + " [formaction]").First().Attr("formaction")
	m := inviteActionID.FindStringSubmatch(action)
	if m == nil {
		t.Fatalf("no invite row for %s on the members page", email)
	}
	return m[1]
}

// tokenFromLink returns the token of an invite link.
func tokenFromLink(a *testApp, link string) string {
	return strings.TrimPrefix(link, a.URL+"/invites/")
}

// inviteEmails returns the received emails to address that carry an invite link.
func inviteEmails(a *testApp, address string) []string {
	var out []string
	for _, m := range a.SMTP.Messages() {
		for _, to := range m.To {
			if to != address {
				continue
			}
			for _, l := range m.Links() {
				if strings.HasPrefix(l, a.URL+"/invites/") {
					out = append(out, l)
				}
			}
		}
	}
	return out
}

// countMembers returns how many memberships of the workspace belong to email.
func countMembers(t *testing.T, a *testApp, slug, ownerEmail, email string) int {
	t.Helper()
	members, err := store.NewMemberService(a.DB).FindMembers(context.Background(), ownerScope(t, a.DB, workspaceID(t, a, slug, ownerEmail)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range members {
		if m.Email == email {
			n++
		}
	}
	return n
}

// TestInvite_ResendExpiredCountsSeats: an expired invite frees its seat, so
// renewing it must fit the plan again.
func TestInvite_ResendExpiredCountsSeats(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("FREE_PLAN_SEATS", "2"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	owner.Post("/w/"+slug+"/invites", url.Values{"email": {"first@example.com"}, "role": {"member"}})
	firstID := pendingInviteID(t, owner.Get("/w/"+slug+"/members"), "first@example.com")

	a.Clock.Add(app.InviteTTL + time.Minute) // the first invite expires and frees its seat
	if res := owner.Post("/w/"+slug+"/invites", url.Values{"email": {"second@example.com"}, "role": {"member"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second invite: %d", res.StatusCode)
	}
	res := owner.Follow(owner.Post("/w/"+slug+"/invites/"+firstID+"/resend", nil))
	if got := res.Text("flash"); !strings.Contains(got, "seats") {
		t.Fatalf("resend of an expired invite over the limit: flash %q, want the seat-limit message", got)
	}
	queued, err := store.NewOutboxService(a.DB).FindOutboxByRef(context.Background(), "invite:"+firstID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(queued); n != 1 {
		t.Fatalf("%d emails queued for the first invite, want 1 (the refused resend queues none)", n)
	}
}
