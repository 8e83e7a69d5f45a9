package page

import (
	"strconv"
	"strings"

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
func ConfirmRemoveMember(ws layout.WorkspaceURL, workspace string, userID int64, who string) Confirm {
	return Confirm{
		Title:     "Remove " + who + "?",
		Message:   who + " loses access to " + workspace + " at once. To come back, they need a new invitation. " + keysTooNote("they"),
		Label:     "Remove member",
		Action:    ws.Page("members", strconv.FormatInt(userID, 10), "remove"),
		CancelURL: ws.Page("members"),
	}
}

// ConfirmTransfer confirms handing a workspace's ownership to a member.
func ConfirmTransfer(ws layout.WorkspaceURL, workspace string, userID int64, who string) Confirm {
	return Confirm{
		Title: "Make " + who + " the owner?",
		Message: who + " becomes the owner of " + workspace + " and you become an admin: you can no longer manage billing, " +
			"delete the workspace or make anyone owner. Only the new owner can give ownership back.",
		Label:     "Make owner",
		Action:    ws.Page("transfer"),
		Fields:    []HiddenField{{"user_id", strconv.FormatInt(userID, 10)}},
		CancelURL: ws.Page("members"),
	}
}

// ConfirmRevokeInvite confirms revoking a pending invitation; email may be
// "" when the page does not know it.
func ConfirmRevokeInvite(ws layout.WorkspaceURL, inviteID int64, email string) Confirm {
	who := "this invitation"
	if email != "" {
		who = "the invitation to " + email
	}
	return Confirm{
		Title:     "Revoke " + who + "?",
		Message:   "Its link stops working at once. You can invite the same address again later.",
		Label:     "Revoke invitation",
		Action:    ws.Page("invites", strconv.FormatInt(inviteID, 10), "revoke"),
		CancelURL: ws.Page("members"),
	}
}

// keysTooNote is what a confirmation that ends someone's access says of
// their API keys before it knows how many there are (the dialog a page
// builds); the server's step says how many with AlsoRevokesKeys.
func keysTooNote(creator string) string {
	return "Any API keys " + creator + " created are revoked too."
}

// AlsoRevokesKeys says in c that the action revokes the n live API keys
// the affected person (creator: "they", "you") created, in place of the
// general note, or nothing of keys when there are none.
func (c Confirm) AlsoRevokesKeys(n int, creator string) Confirm {
	c.Message = strings.TrimSuffix(c.Message, " "+keysTooNote(creator))
	if n > 0 {
		c.Message += " " + RevokesKeysNote(n, creator)
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
func ConfirmDemote(ws layout.WorkspaceURL, workspace string, userID int64, who, role, roleLabel string, keys int) Confirm {
	return Confirm{
		Title:     "Make " + who + " a " + roleLabel + "?",
		Message:   who + " becomes a " + roleLabel + " of " + workspace + " and can no longer manage API keys.",
		Label:     "Change role",
		Action:    ws.Page("members", strconv.FormatInt(userID, 10), "role"),
		Fields:    []HiddenField{{"role", role}},
		CancelURL: ws.Page("members"),
	}.AlsoRevokesKeys(keys, "they")
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
func ConfirmLeave(ws layout.WorkspaceURL, workspace string) Confirm {
	return Confirm{
		Title:     "Leave " + workspace + "?",
		Message:   "You lose access to " + workspace + " at once. To come back, someone will have to invite you again. " + keysTooNote("you"),
		Label:     "Leave workspace",
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
func ConfirmRequireTwoFactor(ws layout.WorkspaceURL, workspace string, without int, keys []KeyChoice) Confirm {
	msg := "Members without two-factor sign-in (" + strconv.Itoa(without) + " of them) won’t be able to open this workspace until they set it up."
	switch without {
	case -1:
		msg = "Members without two-factor sign-in won’t be able to open this workspace until they set it up."
	case 0:
		msg = "Every member has two-factor sign-in, so nobody loses access now; people who join later must set it up before they can open " + workspace + "."
	}
	return Confirm{
		Title:     "Require two-factor sign-in for " + workspace + "?",
		Message:   msg,
		Label:     "Require two-factor sign-in",
		Action:    ws.Page("settings", "two-factor"),
		Fields:    []HiddenField{{"required", "on"}},
		CancelURL: ws.Page("settings"),
	}.withKeys(keys)
}

// KeyChoice is an API key whose creator has no second factor, offered for
// revocation when the policy goes on.
type KeyChoice struct {
	ID    int64
	Label string // its name, prefix and creator
}

// withKeys lists keys as checked boxes "revoke_key" under the consequence
// of leaving them.
func (c Confirm) withKeys(keys []KeyChoice) Confirm {
	if len(keys) == 0 {
		return c
	}
	c.ChecksLegend = "These API keys were made by people without two-factor sign-in, and keep working after this change: anyone holding one reaches the workspace without a second factor. Revoke the ticked keys now (programs using them stop at once):"
	for _, k := range keys {
		c.Checks = append(c.Checks, ConfirmCheck{Name: "revoke_key", Value: strconv.FormatInt(k.ID, 10), Label: k.Label, Checked: true})
	}
	return c
}

// ConfirmOptionalTwoFactor confirms making two-factor sign-in optional in
// a workspace.
func ConfirmOptionalTwoFactor(ws layout.WorkspaceURL, workspace string) Confirm {
	return Confirm{
		Title: "Make two-factor sign-in optional for " + workspace + "?",
		Message: "Members without two-factor sign-in can open " + workspace + " again with a sign-in link alone: anyone who gets into a member’s mailbox gets into the workspace. " +
			"Members who set up an authenticator app or a passkey keep using it.",
		Label:     "Make it optional",
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
