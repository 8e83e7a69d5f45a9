package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/a-h/templ"

	"atrium/web/layout"
	"atrium/web/page"
	"atrium/web/static"
)

func main() {
	dir := os.Args[1]
	user := &layout.Nav{Email: "ada.lovelace@example.com", Name: "Ada"}
	ws := &layout.WorkspaceNav{Name: "Acme Rocket Company", Slug: "acme", Role: "Owner", CanManage: true, CanSeeAudit: true}
	pg := func(section string, flash *layout.Flash) layout.Page {
		return layout.Page{AppName: "Atrium", User: user, Workspace: ws, Section: section, Flash: flash}
	}
	recent := []page.AuditRow{
		{When: "2 min ago", Actor: "Ada Lovelace", Action: "invite.create", Summary: "Invited grace@example.com as Admin", Link: "/w/acme/members"},
		{When: "1 h ago", Actor: "Grace Hopper", Action: "member.role", Summary: "Changed Linus’s role from Member to Admin"},
		{When: "Yesterday", Actor: "Ada Lovelace", Action: "workspace.update", Summary: "Renamed the workspace to Acme Rocket Company", Link: "/w/acme/settings"},
		{When: "3 Jan 2026", Actor: "System", Action: "billing.past_due", Summary: "Payment failed: card declined"},
	}
	pages := map[string]templ.Component{
		"dashboard": page.Dashboard(pg("dashboard", nil), page.DashboardView{Name: "Acme Rocket Company", Slug: "acme", Plan: "Free", Status: "Past due", Members: 3, SeatsUsed: 3, SeatLimit: "3", PendingInvites: 2, Recent: recent, CanSeeAudit: true, CanInvite: true}),
		"dashboard-empty": page.Dashboard(pg("dashboard", nil), page.DashboardView{Name: "Acme", Slug: "acme", Plan: "Pro", Status: "Active", Members: 1, SeatsUsed: 1, SeatLimit: "Unlimited"}),
		"members": page.Members(pg("members", &layout.Flash{Kind: "success", Message: "Invite created. The email could not be sent yet; share this link instead.", Link: "https://atrium.example.com/invites/Zx8yR2kLq0-abcdefghijklmnop"}), page.MembersView{
			Slug: "acme",
			Members: []page.MemberRow{
				{UserID: 1, Name: "Ada Lovelace", Email: "ada.lovelace@example.com", Role: "owner", RoleLabel: "Owner", Joined: "1 Jan 2026", IsYou: true},
				{UserID: 2, Name: "Grace Hopper", Email: "grace@example.com", Role: "admin", RoleLabel: "Admin", Joined: "2 Jan 2026", CanChangeRole: true, RoleChoices: []string{"admin", "member"}, CanRemove: true, CanTransfer: true},
				{UserID: 3, Email: "linus.with.a.very.long.address@subdomain.example.org", Role: "member", RoleLabel: "Member", Joined: "3 Jan 2026", CanChangeRole: true, RoleChoices: []string{"admin", "member"}, CanRemove: true, CanTransfer: true},
			},
			Invites: []page.InviteRow{
				{ID: 7, Email: "margaret@example.com", Role: "Member", InvitedBy: "Ada Lovelace", Sent: "2 min ago", Expires: "in 7 days", Delivery: "failed", DeliveryNote: "The mail server refused the message (535 authentication failed). Share the link below or resend later.", ShareLink: "https://atrium.example.com/invites/Zx8yR2kLq0-abcdefghijklmnop", CanManage: true},
				{ID: 8, Email: "ken@example.com", Role: "Admin", InvitedBy: "Grace Hopper", Sent: "8 days ago", Expires: "yesterday", Expired: true, Delivery: "sent", CanManage: true},
				{ID: 9, Email: "dennis@example.com", Role: "Member", InvitedBy: "Grace Hopper", Sent: "1 min ago", Expires: "in 7 days", Delivery: "pending", DeliveryNote: "Queued; it usually goes out within a minute.", CanManage: true},
			},
			CanInvite: true,
			Invite:    page.InviteForm{Email: "bad@", EmailError: "Enter a valid email address.", Role: "member", RoleChoices: []string{"admin", "member"}, SeatsFull: true, SeatMessage: "All 3 seats of the Free plan are in use. Remove a member or revoke an invite, or upgrade to Pro for unlimited seats.", BillingURL: "/w/acme/billing"},
			LeaveBlocked: "You are the last owner: transfer ownership first.",
		}),
		"settings": page.WorkspaceSettings(pg("settings", nil), page.WorkspaceSettingsView{Slug: "acme", Name: "Acme Rocket Company", NewSlug: "acme", SlugError: "That slug is taken.", CanEdit: true, CanDelete: true, ConfirmError: "The name doesn’t match."}),
		"audit": page.Audit(pg("audit", nil), page.AuditView{Slug: "acme", Rows: recent, Action: "invite.create", Actions: []string{"invite.create", "member.role", "workspace.update"}, NextCursor: "abc"}),
		"invite": page.Invite(layout.Page{AppName: "Atrium", User: user}, page.InviteView{Token: "t", Workspace: "Acme Rocket Company", Inviter: "Grace Hopper", Role: "Admin", Email: "ada.lovelace@example.com", State: "ok"}),
		"invite-wrong": page.Invite(layout.Page{AppName: "Atrium", User: user}, page.InviteView{Token: "t", Workspace: "Acme", Inviter: "Grace Hopper", Role: "Admin", Email: "ada@work.example", SignedInAs: "ada.lovelace@example.com", State: "wrong_user", LoginURL: "/login?next=/invites/t"}),
		"workspaces": page.Workspaces(layout.Page{AppName: "Atrium", User: user, Section: "workspaces"}, page.WorkspacesView{
			Workspaces: []page.WorkspaceRow{{Name: "Acme Rocket Company", Slug: "acme", Role: "Owner", Members: 3}, {Name: "Side project", Slug: "side", Role: "Member", Members: 1}},
			Invites:    []page.PendingInviteRow{{Workspace: "Initech", Role: "Admin", Inviter: "Bill Lumbergh", AcceptURL: "/invites/x", Expires: "in 6 days"}},
			New:        page.WorkspaceNewView{NameError: "Enter a name of 2 to 80 characters."},
			TestInviteSentTo: "ada.lovelace@example.com",
		}),
		"workspace-new": page.WorkspaceNew(layout.Page{AppName: "Atrium", User: user}, page.WorkspaceNewView{FirstWorkspace: true}),
		"account": page.Account(layout.Page{AppName: "Atrium", User: user, Section: "account"}, page.AccountView{Email: "ada.lovelace@example.com", Name: "Ada", TimeZone: "Europe/London", TimeZones: []string{"UTC", "Europe/London", "Europe/Paris"},
			Sessions: []page.SessionRow{{ID: 1, Current: true, Device: "Firefox on Linux", IP: "192.0.2.1", Created: "2 Jan", LastSeen: "now"}}, DeleteBlocked: "You own Acme Rocket Company. Transfer ownership or delete the workspace first."}),
	}
	for name, c := range pages {
		var buf bytes.Buffer
		if err := c.Render(context.Background(), &buf); err != nil {
			panic(err)
		}
		html := strings.ReplaceAll(buf.String(), static.Path("app.css"), "app.css")
		if err := os.WriteFile(filepath.Join(dir, name+".html"), []byte(html), 0o644); err != nil {
			panic(err)
		}
	}
}
