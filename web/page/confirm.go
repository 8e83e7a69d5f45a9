package page

import "strconv"

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
}

// HiddenField is a form value posted again with the confirmation.
type HiddenField struct{ Name, Value string }

// MemberNamePlaceholder stands for the member's name in the confirmations
// the members page renders once for all its rows; app.js puts the chosen
// row's name (its data-name) in its place.
const MemberNamePlaceholder = "{name}"

// ConfirmRemoveMember confirms removing a member from a workspace.
func ConfirmRemoveMember(slug, workspace string, userID int64, who string) Confirm {
	return Confirm{
		Title:     "Remove " + who + "?",
		Message:   who + " loses access to " + workspace + " at once. To come back, they need a new invitation.",
		Label:     "Remove member",
		Action:    "/w/" + slug + "/members/" + strconv.FormatInt(userID, 10) + "/remove",
		CancelURL: "/w/" + slug + "/members",
	}
}

// ConfirmTransfer confirms handing a workspace's ownership to a member.
func ConfirmTransfer(slug, workspace string, userID int64, who string) Confirm {
	return Confirm{
		Title: "Make " + who + " the owner?",
		Message: who + " becomes the owner of " + workspace + " and you become an admin: you can no longer manage billing, " +
			"delete the workspace or make anyone owner. Only the new owner can give ownership back.",
		Label:     "Make owner",
		Action:    "/w/" + slug + "/transfer",
		Fields:    []HiddenField{{"user_id", strconv.FormatInt(userID, 10)}},
		CancelURL: "/w/" + slug + "/members",
	}
}

// ConfirmRevokeInvite confirms revoking a pending invitation; email may be
// "" when the page does not know it.
func ConfirmRevokeInvite(slug string, inviteID int64, email string) Confirm {
	who := "this invitation"
	if email != "" {
		who = "the invitation to " + email
	}
	return Confirm{
		Title:     "Revoke " + who + "?",
		Message:   "Its link stops working at once. You can invite the same address again later.",
		Label:     "Revoke invitation",
		Action:    "/w/" + slug + "/invites/" + strconv.FormatInt(inviteID, 10) + "/revoke",
		CancelURL: "/w/" + slug + "/members",
	}
}

// ConfirmLeave confirms leaving a workspace.
func ConfirmLeave(slug, workspace string) Confirm {
	return Confirm{
		Title:     "Leave " + workspace + "?",
		Message:   "You lose access to " + workspace + " at once. To come back, someone will have to invite you again.",
		Label:     "Leave workspace",
		Action:    "/w/" + slug + "/leave",
		CancelURL: "/w/" + slug + "/members",
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

// ConfirmDisableTOTP confirms turning the authenticator app off; last
// says it is the user's only second factor.
func ConfirmDisableTOTP(last bool) Confirm {
	c := Confirm{
		Title:     "Turn off your authenticator app?",
		Message:   "Sign-ins will no longer ask for its codes; your passkeys still work.",
		Label:     "Turn off",
		Action:    "/settings/account/two-factor/app/disable",
		CancelURL: "/settings/account#two-factor",
	}
	if last {
		c.Message = "Two-factor sign-in turns off: a sign-in link alone will get into your account, your recovery codes stop working, and workspaces that require two-factor sign-in will keep you out until you set it up again."
	}
	return c
}

// ConfirmNewRecoveryCodes confirms replacing the recovery codes.
func ConfirmNewRecoveryCodes() Confirm {
	return Confirm{
		Title:     "Get new recovery codes?",
		Message:   "Your current recovery codes stop working, and the new ones are shown once.",
		Label:     "Get new codes",
		Action:    "/settings/account/two-factor/recovery-codes",
		CancelURL: "/settings/account#two-factor",
	}
}

// ConfirmRequireTwoFactor confirms requiring two-factor sign-in of every
// member of a workspace; without counts the members who have none (-1
// when unknown).
func ConfirmRequireTwoFactor(slug, workspace string, without int) Confirm {
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
		Action:    "/w/" + slug + "/settings/two-factor",
		Fields:    []HiddenField{{"required", "on"}},
		CancelURL: "/w/" + slug + "/settings",
	}
}
