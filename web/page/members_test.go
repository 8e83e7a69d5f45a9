package page_test

import (
	"strings"
	"testing"

	"atrium/web/page"
)

// TestMemberPage: a member's own page holds the actions the members page's
// shared menu offers, each a form of its own, the destructive ones asking
// first.
func TestMemberPage(t *testing.T) {
	t.Parallel()
	v := page.MemberView{URL: "/w/acme", WorkspaceName: "Acme", Member: page.MemberRow{UserID: 42, Name: "<i>Grace</i>", Email: evil, Role: "member",
		RoleLabel: "Member", Joined: "2 Jan 2026", CanChangeRole: true, RoleChoices: []string{"admin", "member"}, CanRemove: true, CanTransfer: true}}
	doc, html := render(t, page.MemberPage(inWorkspace, v))
	inert(t, doc, html)
	if got, want := text(doc.Find("h1")), "<i>Grace</i>"; got != want {
		t.Errorf("h1=%q, want %q", got, want)
	}
	makeAdmin := one(t, doc, "member-make-admin")
	if got, want := attr(makeAdmin.Closest("form"), "action"), "/w/acme/members/42/role"; got != want {
		t.Errorf("role action=%q, want %q", got, want)
	}
	if got, want := attr(makeAdmin.Closest("form").Find(`input[name="role"]`), "value"), "admin"; got != want {
		t.Errorf("role value=%q, want %q", got, want)
	}
	none(t, doc, "member-make-member")
	remove := one(t, doc, "member-remove").Closest("form")
	if got, want := attr(remove, "action"), "/w/acme/members/42/remove"; got != want {
		t.Errorf("remove action=%q, want %q", got, want)
	}
	if got := attr(remove, "data-confirm"); !strings.Contains(got, "<i>Grace</i> loses access to Acme") {
		t.Errorf("remove data-confirm=%q", got)
	}
	if remove.Find(`input[name="confirm"]`).Length() != 0 {
		t.Error("the remove form is confirmed before anyone is asked")
	}
	transfer := one(t, doc, "member-transfer").Closest("form")
	if got, want := attr(transfer.Find(`input[name="user_id"]`), "value"), "42"; got != want {
		t.Errorf("transfer user_id=%q, want %q", got, want)
	}
}

func TestMembers(t *testing.T) {
	t.Parallel()

	admin := page.MembersView{
		URL: "/w/acme",
		Members: []page.MemberRow{
			{UserID: 1, Name: "Ada", Email: "ada@example.com", Role: "owner", RoleLabel: "Owner", Joined: "1 Jan 2026", IsYou: true},
			{UserID: 42, Name: "<i>Grace</i>", Email: evil, Role: "member", RoleLabel: "Member", Joined: "2 Jan 2026",
				CanChangeRole: true, RoleChoices: []string{"admin", "member"}, CanRemove: true, CanTransfer: true},
		},
		Invites: []page.InviteRow{
			{ID: 7, Email: "new@example.com", Role: "Member", InvitedBy: "Ada", Sent: "today", Expires: "in 7 days",
				Status: "failed", Delivery: "failed", DeliveryNote: "SMTP said <no>.", ShareLink: "https://atrium.test/invites/tok", CanManage: true},
			{ID: 8, Email: "old@example.com", Role: "Admin", InvitedBy: "Ada", Sent: "8 days ago", Expires: "yesterday",
				Expired: true, Status: "expired", Delivery: "sent", CanManage: true},
		},
		CanInvite:   true,
		ShowInvites: true,
		Invite: page.InviteForm{Email: evil, EmailError: "Enter a valid <email>.", Role: "admin", RoleError: "Pick a <role>.",
			RoleChoices: []string{"admin", "member"}},
		CanLeave: true,
	}

	t.Run("Admin", func(t *testing.T) {
		t.Parallel()
		p := inWorkspace
		p.Section = "members"
		doc, html := render(t, page.Members(p, admin))
		inert(t, doc, html)
		if doc.Find("main i").Length() != 0 {
			t.Error("member name rendered as HTML")
		}
		if got, want := text(doc.Find("h1")), "Members"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		rows := doc.Find(`[data-testid="member-row"]`)
		if got, want := rows.Length(), 2; got != want {
			t.Fatalf("member rows=%d, want %d", got, want)
		}
		you, other := rows.Eq(0), rows.Eq(1)
		if got, want := attr(you, "data-email"), "ada@example.com"; got != want {
			t.Errorf("data-email=%q, want %q", got, want)
		}
		if got, want := attr(other, "data-email"), evil; got != want {
			t.Errorf("data-email=%q, want %q", got, want)
		}
		if you.Find(`[data-testid="member-you"]`).Length() != 1 || other.Find(`[data-testid="member-you"]`).Length() != 0 {
			t.Error("(you) marker on the wrong row")
		}
		if got, want := text(you.Find(`[data-testid="member-role"]`)), "Owner"; got != want {
			t.Errorf("role=%q, want %q", got, want)
		}
		if you.Find("form").Length() != 0 {
			t.Error("own row has forms without the flags")
		}

		// One Actions button per row, leading to the member's page and
		// naming what the shared menu offers for them; the menu and its
		// forms are on the page once.
		button := other.Find(`[data-testid="member-actions-button"]`)
		if got, want := button.Length(), 1; got != want {
			t.Fatalf("actions buttons in the row=%d, want %d", got, want)
		}
		if got, want := text(button), "Actions for <i>Grace</i>"; got != want {
			t.Errorf("actions button=%q, want %q", got, want)
		}
		if got, want := attr(button, "href"), "/w/acme/members/42"; got != want {
			t.Errorf("actions href=%q, want %q", got, want)
		}
		if got, want := attr(button, "data-acts"), "admin transfer remove"; got != want {
			t.Errorf("data-acts=%q, want %q (not the member's current role)", got, want)
		}
		if got := doc.Find("form").Length(); got > 10 {
			t.Errorf("%d forms on the page", got)
		}
		removeForm := one(t, doc, "member-remove-form")
		if got := attr(removeForm, "data-confirm"); !strings.Contains(got, page.MemberNamePlaceholder+" loses access") {
			t.Errorf("remove data-confirm=%q", got)
		}
		if got, want := attr(one(t, doc, "member-remove"), "form"), attr(removeForm, "id"); got != want {
			t.Errorf("remove button submits form %q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "member-transfer-form"), "action"), "/w/acme/transfer"; got != want {
			t.Errorf("transfer action=%q, want %q", got, want)
		}

		if got, want := attr(one(t, doc, "invite-form").Closest("section"), "id"), "invite"; got != want {
			t.Errorf("invite section id=%q, want %q", got, want)
		}
		form := one(t, doc, "invite-form")
		if got, want := attr(form, "action"), "/w/acme/invites"; got != want {
			t.Errorf("invite action=%q, want %q", got, want)
		}
		email := one(t, doc, "invite-email")
		if got, want := attr(email, "name"), "email"; got != want {
			t.Errorf("email name=%q, want %q", got, want)
		}
		if got, want := attr(email, "value"), evil; got != want {
			t.Errorf("email value=%q, want %q", got, want)
		}
		inviteRole := one(t, doc, "invite-role")
		if got, want := attr(inviteRole, "name"), "role"; got != want {
			t.Errorf("role name=%q, want %q", got, want)
		}
		if got, want := attr(inviteRole.Find("option[selected]"), "value"), "admin"; got != want {
			t.Errorf("invite role=%q, want %q", got, want)
		}
		if got, want := text(inviteRole.Find("option[selected]")), "Admin"; got != want {
			t.Errorf("invite role label=%q, want %q", got, want)
		}
		if got, want := text(doc.Find("#"+attr(inviteRole, "id")+"-error")), "Pick a <role>."; got != want {
			t.Errorf("role error=%q, want %q", got, want)
		}
		if got, want := text(doc.Find("#"+attr(email, "id")+"-error")), "Enter a valid <email>."; got != want {
			t.Errorf("email error=%q, want %q", got, want)
		}
		if _, ok := one(t, doc, "invite-submit").Attr("disabled"); ok {
			t.Error("invite submit disabled with seats left")
		}
		none(t, doc, "seat-limit")

		invites := doc.Find(`[data-testid="invite-row"]`)
		if got, want := invites.Length(), 2; got != want {
			t.Fatalf("invite rows=%d, want %d", got, want)
		}
		failed, expired := invites.Eq(0), invites.Eq(1)
		if got, want := attr(failed, "data-email"), "new@example.com"; got != want {
			t.Errorf("invite data-email=%q, want %q", got, want)
		}
		undelivered := failed.Find(`[data-testid="invite-undelivered"]`).Find("p")
		if got, want := text(undelivered.Eq(0)), "Email not delivered yet"; got != want {
			t.Errorf("undelivered=%q, want %q", got, want)
		}
		if got, want := text(undelivered.Eq(1)), "SMTP said <no>."; got != want {
			t.Errorf("delivery note=%q, want %q", got, want)
		}
		link := failed.Find(`[data-testid="invite-share-link"]`)
		if got, want := attr(link, "value"), "https://atrium.test/invites/tok"; got != want {
			t.Errorf("share link=%q, want %q", got, want)
		}
		if _, ok := link.Attr("readonly"); !ok {
			t.Error("share link is editable")
		}
		// The copy button names the link's field and waits, hidden, for
		// the script; the page has one live region to say it copied.
		copyLink := failed.Find(`[data-testid="invite-share-copy"]`)
		if got, want := attr(copyLink, "data-copy"), attr(link, "id"); got == "" || got != want {
			t.Errorf("copy button copies #%q, want #%q", got, want)
		}
		if _, hidden := copyLink.Attr("hidden"); !hidden {
			t.Error("copy button shown without scripts")
		}
		one(t, doc, "invite-copy-status")
		if got, want := text(doc.Find(`label[for="`+attr(link, "id")+`"]`)), "Accept link to share"; got != want {
			t.Errorf("share label=%q, want %q", got, want)
		}
		if got, want := attr(failed.Find(`[data-testid="invite-resend"]`), "formaction"), "/w/acme/invites/7/resend"; got != want {
			t.Errorf("resend action=%q, want %q", got, want)
		}
		if got, want := attr(failed.Find(`[data-testid="invite-revoke"]`), "formaction"), "/w/acme/invites/7/revoke"; got != want {
			t.Errorf("revoke action=%q, want %q", got, want)
		}
		if failed.Find(`[data-testid="invite-expired"]`).Length() != 0 {
			t.Error("live invite marked expired")
		}
		if expired.Find(`[data-testid="invite-expired"]`).Length() != 1 {
			t.Error("expired invite not marked")
		}
		if got, want := text(failed.Find(`[data-testid="invite-status"]`)), "Delivery failed"; got != want {
			t.Errorf("failed invite status=%q, want %q", got, want)
		}
		if expired.Find(`[data-testid="invite-undelivered"]`).Length() != 0 || expired.Find(`[data-testid="invite-share-link"]`).Length() != 0 {
			t.Error("delivered invite shows a delivery problem or a link")
		}
		none(t, doc, "invites-empty")

		if got, want := attr(one(t, doc, "leave-submit").Closest("form"), "action"), "/w/acme/leave"; got != want {
			t.Errorf("leave action=%q, want %q", got, want)
		}
		none(t, doc, "leave-blocked")
	})

	t.Run("SeatsFull", func(t *testing.T) {
		t.Parallel()
		v := admin
		v.Invite = page.InviteForm{Role: "member", RoleChoices: []string{"member"}, SeatsFull: true,
			SeatMessage: "All 3 seats are <used>.", BillingURL: "/w/acme/billing"}
		doc, html := render(t, page.Members(inWorkspace, v))
		inert(t, doc, html)
		seat := one(t, doc, "seat-limit")
		if got, want := text(seat.Find("p").First()), "All 3 seats are <used>."; got != want {
			t.Errorf("seat message=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "invite-submit"), "aria-describedby"), attr(seat, "id"); got != want || got == "" {
			t.Errorf("submit described by %q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "seat-limit-billing"), "href"), "/w/acme/billing"; got != want {
			t.Errorf("billing href=%q, want %q", got, want)
		}
		if _, ok := one(t, doc, "invite-submit").Attr("disabled"); !ok {
			t.Error("invite submit enabled with no seat left")
		}
	})

	t.Run("Member", func(t *testing.T) {
		t.Parallel()
		v := page.MembersView{
			URL: "/w/acme",
			Members: []page.MemberRow{
				{UserID: 1, Name: "Ada", Email: "ada@example.com", Role: "owner", RoleLabel: "Owner", Joined: "1 Jan"},
				{UserID: 2, Email: "me@example.com", Role: "member", RoleLabel: "Member", Joined: "2 Jan", IsYou: true},
			},
			PendingCount: 1,
			LeaveBlocked: "You are the last owner: transfer ownership first.",
		}
		doc, html := render(t, page.Members(inWorkspace, v))
		inert(t, doc, html)
		if got, want := doc.Find(`[data-testid="member-row"]`).Length(), 2; got != want {
			t.Errorf("rows=%d, want %d", got, want)
		}
		for _, id := range []string{"member-role-submit", "member-remove", "member-transfer", "invite-form", "invite-submit",
			"seat-limit", "invite-resend", "invite-revoke", "invite-share-link", "leave-submit"} {
			none(t, doc, id)
		}
		if doc.Find("#invite").Length() != 0 {
			t.Error("invite section without CanInvite")
		}
		none(t, doc, "invite-row")
		if got, want := text(one(t, doc, "invites-count")), "1 pending invite"; got != want {
			t.Errorf("invites count=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "leave-blocked")), "You are the last owner: transfer ownership first."; got != want {
			t.Errorf("leave blocked=%q, want %q", got, want)
		}
	})

	t.Run("NoInvites", func(t *testing.T) {
		t.Parallel()
		v := page.MembersView{URL: "/w/acme", ShowInvites: true, Members: []page.MemberRow{{UserID: 1, Email: "a@example.com", Role: "owner", RoleLabel: "Owner", IsYou: true}}}
		doc, _ := render(t, page.Members(inWorkspace, v))
		if got, want := text(one(t, doc, "invites-empty")), "No pending invites"; got != want {
			t.Errorf("empty=%q, want %q", got, want)
		}
		none(t, doc, "invite-row")
		none(t, doc, "leave-submit")
		none(t, doc, "leave-blocked")
	})
}
