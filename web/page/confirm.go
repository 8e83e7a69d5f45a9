package page

import (
	"context"
	"strconv"
	"strings"

	"atrium/internal/i18n"
	"atrium/web/layout"
)

// Confirm is a destructive action's confirmation: what it does, in words a
// person can weigh, and the form that does it. The server shows it as a
// page when a POST arrives without confirm=yes; app.js shows the same words
// in a <dialog> before the form is sent.
type Confirm struct {
	Title     string // the question, e.g. "Remove Ada Lovelace?"
	Message   string // the consequence
	Label     string // the confirming button, e.g. "Remove member"
	Action    string // the form's action URL
	Fields    []HiddenField
	CancelURL string // where Cancel leads
	// Checks are choices made with the confirmation (checkboxes under
	// ChecksLegend); the page shows them, so a form with Checks is
	// confirmed on the server's page rather than in a dialog.
	Checks       []ConfirmCheck
	ChecksLegend string
}

// ConfirmCheck is one checkbox of a confirmation.
type ConfirmCheck struct {
	Name, Value, Label string
	Checked            bool
}

// HiddenField is a form value posted again with the confirmation.
type HiddenField struct{ Name, Value string }

// MemberNamePlaceholder stands for the member's name in the confirmations
// the members page renders once for all its rows; app.js puts the chosen
// row's name (its data-name) in its place.
const MemberNamePlaceholder = "{name}"

// ConfirmRemoveMember confirms removing a member from a workspace.
func ConfirmRemoveMember(ctx context.Context, ws layout.WorkspaceURL, workspace string, userID int64, who string) Confirm {
	return Confirm{
		Title: i18n.T(ctx, "members.confirm.remove.title", "Name", who),
		Message: i18n.T(ctx, "members.confirm.remove.message", "Name", who, "Workspace", workspace) + " " +
			memberKeysTooNote(ctx, "they"),
		Label:     i18n.T(ctx, "members.confirm.remove.label"),
		Action:    ws.Page("members", strconv.FormatInt(userID, 10), "remove"),
		CancelURL: ws.Page("members"),
	}
}

// ConfirmTransfer confirms handing a workspace's ownership to a member.
func ConfirmTransfer(ctx context.Context, ws layout.WorkspaceURL, workspace string, userID int64, who string) Confirm {
	return Confirm{
		Title:     i18n.T(ctx, "members.confirm.transfer.title", "Name", who),
		Message:   i18n.T(ctx, "members.confirm.transfer.message", "Name", who, "Workspace", workspace),
		Label:     i18n.T(ctx, "members.confirm.transfer.label"),
		Action:    ws.Page("transfer"),
		Fields:    []HiddenField{{"user_id", strconv.FormatInt(userID, 10)}},
		CancelURL: ws.Page("members"),
	}
}

// ConfirmRevokeInvite confirms revoking a pending invitation; email may be
// "" when the page does not know it.
func ConfirmRevokeInvite(ctx context.Context, ws layout.WorkspaceURL, inviteID int64, email string) Confirm {
	title := i18n.T(ctx, "invites.confirm.revoke.title_unknown")
	if email != "" {
		title = i18n.T(ctx, "invites.confirm.revoke.title", "Email", email)
	}
	return Confirm{
		Title:     title,
		Message:   i18n.T(ctx, "invites.confirm.revoke.message"),
		Label:     i18n.T(ctx, "invites.confirm.revoke.label"),
		Action:    ws.Page("invites", strconv.FormatInt(inviteID, 10), "revoke"),
		CancelURL: ws.Page("members"),
	}
}

// memberKeysTooNote is what a confirmation that ends someone's access
// says of their API keys before it knows how many there are (the dialog a
// page builds); the server's step says how many with AlsoRevokesKeys.
func memberKeysTooNote(ctx context.Context, creator string) string {
	if creator == "you" {
		return i18n.T(ctx, "members.confirm.keys_too_you")
	}
	return i18n.T(ctx, "members.confirm.keys_too_they")
}

// AlsoRevokesKeys says in c that the action revokes the n live API keys
// the affected person (creator: "they", "you") created, in place of the
// general note of ConfirmRemoveMember and ConfirmLeave, or nothing of keys
// when there are none.
func (c Confirm) AlsoRevokesKeys(ctx context.Context, n int, creator string) Confirm {
	c.Message = strings.TrimSuffix(c.Message, " "+memberKeysTooNote(ctx, creator))
	if n > 0 {
		key := "members.confirm.revokes_keys_they"
		if creator == "you" {
			key = "members.confirm.revokes_keys_you"
		}
		c.Message += " " + i18n.N(ctx, key, n)
	}
	return c
}

// RevokesKeysNote says that n API keys creator made are revoked too.
func RevokesKeysNote(n int, creator string) string {
	keys := "1 API key"
	if n != 1 {
		keys = strconv.Itoa(n) + " API keys"
	}
	return "This also revokes " + keys + " " + creator + " created."
}

// ConfirmDemote confirms changing a member's role to one that cannot
// manage API keys, which revokes the keys they created.
func ConfirmDemote(ctx context.Context, ws layout.WorkspaceURL, workspace string, userID int64, who, role, roleLabel string, keys int) Confirm {
	return Confirm{
		Title:     i18n.T(ctx, "members.confirm.demote.title", "Name", who, "Role", roleLabel),
		Message:   i18n.T(ctx, "members.confirm.demote.message", "Name", who, "Role", roleLabel, "Workspace", workspace),
		Label:     i18n.T(ctx, "members.confirm.demote.label"),
		Action:    ws.Page("members", strconv.FormatInt(userID, 10), "role"),
		Fields:    []HiddenField{{"role", role}},
		CancelURL: ws.Page("members"),
	}.AlsoRevokesKeys(ctx, keys, "they")
}

// ConfirmRevokeAPIKey confirms revoking a workspace's API key; prefix is
// the key's displayed start ("atr_ab12cd3e…").
func ConfirmRevokeAPIKey(ws layout.WorkspaceURL, keyID int64, name, prefix string) Confirm {
	return Confirm{
		Title:     "Revoke the API key “" + name + "”?",
		Message:   "Scripts using " + prefix + " will get 401 from their next request on. This cannot be undone.",
		Label:     "Revoke key",
		Action:    ws.Page("settings", "api-keys", strconv.FormatInt(keyID, 10), "revoke"),
		CancelURL: ws.Page("settings", "api-keys"),
	}
}

// ConfirmLeave confirms leaving a workspace.
func ConfirmLeave(ctx context.Context, ws layout.WorkspaceURL, workspace string) Confirm {
	return Confirm{
		Title: i18n.T(ctx, "members.confirm.leave.title", "Workspace", workspace),
		Message: i18n.T(ctx, "members.confirm.leave.message", "Workspace", workspace) + " " +
			memberKeysTooNote(ctx, "you"),
		Label:     i18n.T(ctx, "members.confirm.leave.label"),
		Action:    ws.Page("leave"),
		CancelURL: ws.Page("members"),
	}
}

// ConfirmRevokeSession confirms signing one device out; current says it is
// the device in use.
func ConfirmRevokeSession(sessionID int64, device string, current bool) Confirm {
	c := Confirm{
		Title:     "Sign out " + device + "?",
		Message:   "That device will need a new sign-in link to get back in.",
		Label:     "Sign out device",
		Action:    "/settings/account/sessions/" + strconv.FormatInt(sessionID, 10) + "/revoke",
		CancelURL: "/settings/account",
	}
	if current {
		c.Title = "Sign out this device?"
		c.Message = "This is the device you are using: you will be signed out here and need a new sign-in link."
	}
	return c
}

// ConfirmRevokeOthers confirms signing out every other session.
func ConfirmRevokeOthers() Confirm {
	return Confirm{
		Title:     "Sign out everywhere else?",
		Message:   "Every other browser and device signed in to your account is signed out at once; this one stays signed in.",
		Label:     "Sign out everywhere else",
		Action:    "/settings/account/sessions/revoke-others",
		CancelURL: "/settings/account",
	}
}

// ConfirmRequireTwoFactor confirms requiring two-factor sign-in of every
// member of a workspace; without counts the members who have none (-1
// when unknown).
func ConfirmRequireTwoFactor(ctx context.Context, ws layout.WorkspaceURL, workspace string, without int, keys []KeyChoice) Confirm {
	var msg string
	switch {
	case without < 0:
		msg = i18n.T(ctx, "workspaces.two_factor.confirm_require.message_unknown")
	case without == 0:
		msg = i18n.T(ctx, "workspaces.two_factor.confirm_require.message_none", "Workspace", workspace)
	default:
		msg = i18n.N(ctx, "workspaces.two_factor.confirm_require.message", without)
	}
	return Confirm{
		Title:     i18n.T(ctx, "workspaces.two_factor.confirm_require.title", "Workspace", workspace),
		Message:   msg,
		Label:     i18n.T(ctx, "workspaces.two_factor.require"),
		Action:    ws.Page("settings", "two-factor"),
		Fields:    []HiddenField{{"required", "on"}},
		CancelURL: ws.Page("settings"),
	}.withKeys(ctx, keys)
}

// KeyChoice is an API key whose creator has no second factor, offered for
// revocation when the policy goes on.
type KeyChoice struct {
	ID    int64
	Label string // its name, prefix and creator
}

// withKeys lists keys as checked boxes "revoke_key" under the consequence
// of leaving them.
func (c Confirm) withKeys(ctx context.Context, keys []KeyChoice) Confirm {
	if len(keys) == 0 {
		return c
	}
	c.ChecksLegend = i18n.T(ctx, "workspaces.two_factor.confirm_require.keys")
	for _, k := range keys {
		c.Checks = append(c.Checks, ConfirmCheck{Name: "revoke_key", Value: strconv.FormatInt(k.ID, 10), Label: k.Label, Checked: true})
	}
	return c
}

// ConfirmOptionalTwoFactor confirms making two-factor sign-in optional in
// a workspace.
func ConfirmOptionalTwoFactor(ctx context.Context, ws layout.WorkspaceURL, workspace string) Confirm {
	return Confirm{
		Title:     i18n.T(ctx, "workspaces.two_factor.confirm_optional.title", "Workspace", workspace),
		Message:   i18n.T(ctx, "workspaces.two_factor.confirm_optional.message", "Workspace", workspace),
		Label:     i18n.T(ctx, "workspaces.two_factor.confirm_optional.label"),
		Action:    ws.Page("settings", "two-factor"),
		Fields:    []HiddenField{{"required", "off"}},
		CancelURL: ws.Page("settings"),
	}
}

// ConfirmDeleteWebhook confirms deleting a webhook endpoint.
func ConfirmDeleteWebhook(ws layout.WorkspaceURL, endpointID int64, label string) Confirm {
	id := strconv.FormatInt(endpointID, 10)
	return Confirm{
		Title:     "Delete the endpoint " + label + "?",
		Message:   "It stops receiving events at once, and its delivery log is deleted with it. This cannot be undone.",
		Label:     "Delete endpoint",
		Action:    ws.Page("settings", "webhooks", id, "delete"),
		CancelURL: ws.Page("settings", "webhooks", id),
	}
}

// ConfirmRotateWebhook confirms rotating a webhook endpoint's secret.
func ConfirmRotateWebhook(ws layout.WorkspaceURL, endpointID int64, label string) Confirm {
	id := strconv.FormatInt(endpointID, 10)
	return Confirm{
		Title: "Rotate the signing secret of " + label + "?",
		Message: "A new secret is made and shown once. For 24 hours deliveries carry signatures with both the new and the " +
			"current secret; after that, only the new one verifies. Put the new secret in your receiver within a day.",
		Label:     "Rotate secret",
		Action:    ws.Page("settings", "webhooks", id, "rotate"),
		CancelURL: ws.Page("settings", "webhooks", id),
	}
}
