package page_test

import (
	"strings"
	"testing"

	"atrium/web/page"
)

func TestInvite(t *testing.T) {
	t.Parallel()

	base := page.InviteView{ActionBase: "/invites/tok", Workspace: "<Acme>", Inviter: "Grace", Role: "Admin", Email: evil,
		SignedInAs: "ada@example.com", LoginURL: "/login?next=%2Finvites%2Ftok"}

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		v := base
		v.State = "ok"
		doc, html := render(t, page.Invite(signedIn, v))
		inert(t, doc, html)
		pg := one(t, doc, "invite-page")
		if got, want := attr(pg, "data-state"), "ok"; got != want {
			t.Errorf("state=%q, want %q", got, want)
		}
		if got, want := text(doc.Find("h1")), "Join <Acme>"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "invite-summary")), "Grace invited you ("+evil+") to join <Acme> as Admin."; got != want {
			t.Errorf("summary=%q, want %q", got, want)
		}
		accept := one(t, doc, "invite-accept")
		if got, want := attr(accept.Closest("form"), "action"), "/invites/tok/accept"; got != want {
			t.Errorf("accept action=%q, want %q", got, want)
		}
		if got, want := text(accept), "Accept invite"; got != want {
			t.Errorf("accept=%q, want %q", got, want)
		}
		decline := one(t, doc, "invite-decline")
		if got, want := attr(decline.Closest("form"), "action"), "/invites/tok/decline"; got != want {
			t.Errorf("decline action=%q, want %q", got, want)
		}
		if !decline.HasClass("btn-secondary") {
			t.Error("decline is not secondary")
		}
		if got, want := attr(decline.Closest("form"), "method"), "post"; got != want {
			t.Errorf("method=%q, want %q", got, want)
		}
		none(t, doc, "invite-problem")
		none(t, doc, "invite-signout")
		if doc.Find(`meta[name="robots"]`).Length() != 1 {
			t.Error("invite page is indexable")
		}
	})

	t.Run("WrongUser", func(t *testing.T) {
		t.Parallel()
		v := base
		v.State = "wrong_user"
		doc, html := render(t, page.Invite(signedIn, v))
		inert(t, doc, html)
		if got, want := text(one(t, doc, "invite-email")), evil; got != want {
			t.Errorf("email=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "invite-signed-in-as")), "ada@example.com"; got != want {
			t.Errorf("signed in as=%q, want %q", got, want)
		}
		if !strings.Contains(text(one(t, doc, "invite-page")), "Nothing was accepted.") {
			t.Error("no reassurance that nothing was accepted")
		}
		signout := one(t, doc, "invite-signout")
		if got, want := attr(signout.Closest("form"), "action"), "/logout"; got != want {
			t.Errorf("sign-out action=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "invite-login"), "href"), "/login?next=%2Finvites%2Ftok"; got != want {
			t.Errorf("login href=%q, want %q", got, want)
		}
		none(t, doc, "invite-accept")
		none(t, doc, "invite-decline")
		none(t, doc, "invite-problem")
	})

	tests := []struct {
		state string
		title string
		want  string
	}{
		{"expired", "This invite has expired", "Ask Grace"},
		{"revoked", "This invite was withdrawn", "withdrew"},
		{"accepted", "This invite has already been used", "accepted"},
		{"declined", "You declined this invite", "chose not to join"},
		{"invalid", "This invite link isn’t valid", "incomplete"},
		{"bogus", "This invite link isn’t valid", "incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			t.Parallel()
			v := base
			v.State = tt.state
			doc, html := render(t, page.Invite(signedIn, v))
			inert(t, doc, html)
			problem := one(t, doc, "invite-problem")
			if got := text(problem.Find("h1")); got != tt.title {
				t.Errorf("h1=%q, want %q", got, tt.title)
			}
			if got := text(problem); !strings.Contains(got, tt.want) {
				t.Errorf("text=%q, want it to contain %q", got, tt.want)
			}
			if got, want := attr(one(t, doc, "invite-workspaces"), "href"), "/settings/workspaces"; got != want {
				t.Errorf("workspaces href=%q, want %q", got, want)
			}
			none(t, doc, "invite-accept")
			none(t, doc, "invite-decline")
			none(t, doc, "invite-signout")
		})
	}
}
