package app

import (
	"fmt"
	"strings"
)

// AuditFamily groups audit actions for filtering.
type AuditFamily string

// The audit families, in the order filters offer them.
const (
	FamilyAuth      AuditFamily = "auth"
	FamilyWorkspace AuditFamily = "workspace"
	FamilyMember    AuditFamily = "member"
	FamilyInvite    AuditFamily = "invite"
	FamilyBilling   AuditFamily = "billing"
	FamilyAPI       AuditFamily = "api"
	FamilySecurity  AuditFamily = "security"
)

// AuditFamilies lists every family, in display order.
func AuditFamilies() []AuditFamily {
	return []AuditFamily{FamilyAuth, FamilyWorkspace, FamilyMember, FamilyInvite, FamilyBilling, FamilyAPI, FamilySecurity}
}

// Label returns the family's name for people.
func (f AuditFamily) Label() string {
	switch f {
	case FamilyAPI:
		return "API"
	case "":
		return ""
	}
	return strings.ToUpper(string(f[:1])) + string(f[1:])
}

// Audit action codes, all of them here beside the catalog below that
// describes them (TestAuditCatalog fails on an Action… constant declared
// anywhere else). A code is "noun.verb".
const (
	// Sign-in and sessions.
	ActionSignedIn          = "auth.signed_in"
	ActionSignedOut         = "auth.signed_out"
	ActionSessionRevoked    = "session.revoked"
	ActionSessionRevokedAll = "session.revoked_all"

	// Users.
	ActionUserCreated = "user.created"
	ActionUserUpdated = "user.updated"
	ActionUserDeleted = "user.deleted"

	// Workspaces.
	ActionWorkspaceCreated     = "workspace.created"
	ActionWorkspaceRenamed     = "workspace.renamed"
	ActionWorkspaceSlugChanged = "workspace.slug_changed"
	ActionWorkspaceDeleted     = "workspace.deleted"
	ActionWorkspace2FARequired = "workspace.two_factor_required"
	ActionWorkspace2FAOptional = "workspace.two_factor_optional"

	// Members.
	ActionMemberRoleChanged    = "member.role_changed"
	ActionMemberRemoved        = "member.removed"
	ActionMemberLeft           = "member.left"
	ActionOwnershipTransferred = "ownership.transferred"

	// Invites.
	ActionInviteSent     = "invite.sent"
	ActionInviteResent   = "invite.resent"
	ActionInviteRevoked  = "invite.revoked"
	ActionInviteAccepted = "invite.accepted"
	ActionInviteDeclined = "invite.declined"
	ActionTestInviteSent = "invite.test_sent"

	// API keys.
	ActionAPIKeyCreated = "api_key.created"
	ActionAPIKeyRevoked = "api_key.revoked"

	// Two-factor sign-in.
	ActionTOTPEnabled            = "two_factor.totp_enabled"
	ActionTOTPDisabled           = "two_factor.totp_disabled"
	ActionPasskeyAdded           = "two_factor.passkey_added"
	ActionPasskeyRemoved         = "two_factor.passkey_removed"
	ActionRecoveryCodesGenerated = "two_factor.recovery_codes_generated"
	ActionRecoveryCodeUsed       = "two_factor.recovery_code_used"
	ActionCodeEntryLocked        = "two_factor.locked"
	ActionTwoFactorReset         = "two_factor.reset"

	// Accounts at identity providers that sign in to a user.
	ActionIdentityLinked   = "identity.linked"
	ActionIdentityUnlinked = "identity.unlinked"

	// Billing.
	// ActionCheckoutCompleted is written when a Checkout links a subscription.
	ActionCheckoutCompleted   = "billing.checkout_completed"
	ActionCheckoutStarted     = "billing.checkout_started"
	ActionPortalOpened        = "billing.portal_opened"
	ActionSubscriptionUpdated = "billing.subscription_updated"
	ActionSubscriptionDeleted = "billing.subscription_deleted"
	ActionPaymentFailed       = "billing.payment_failed"
	ActionInvoicePaid         = "billing.invoice_paid"
	ActionBillingSynced       = "billing.synced"
	ActionSeatsSynced         = "billing.seats_synced"
	ActionDemoUpgraded        = "billing.demo_upgraded"
	ActionDemoDowngraded      = "billing.demo_downgraded"
	// In-app plan changes (billing_change.go): the owner's requests, and
	// the downgrade that waits for the period end.
	ActionPlanChangeRequested = "billing.plan_change_requested"
	ActionPlanChangeScheduled = "billing.plan_change_scheduled"
	ActionPlanChangeWithdrawn = "billing.plan_change_withdrawn"
	ActionScheduleEnded       = "billing.schedule_ended"
	ActionCancelRequested     = "billing.cancel_requested"
	ActionResumed             = "billing.resumed"
	// Trials and dunning (billing_dunning.go).
	ActionTrialEnding      = "billing.trial_ending"
	ActionPaymentRecovered = "billing.payment_recovered"
	ActionRestricted       = "billing.restricted"

	// The audit log itself.
	ActionAuditExported = "audit.exported"
	ActionAuditPruned   = "audit.pruned"
	// The operator console (staff.go): staff grants, suspension, support
	// actions and "view as".
	ActionStaffGranted              = "staff.granted"
	ActionStaffRevoked              = "staff.revoked"
	ActionUserSuspended             = "user.suspended"
	ActionUserUnsuspended           = "user.unsuspended"
	ActionUserSessionsEnded         = "user.sessions_ended"
	ActionSignInLinkSent            = "user.sign_in_link_sent"
	ActionWorkspaceSuspended        = "workspace.suspended"
	ActionWorkspaceUnsuspended      = "workspace.unsuspended"
	ActionStaffBillingSync          = "staff.billing_sync"
	ActionImpersonationStarted      = "staff.impersonation_started"
	ActionImpersonationWriteStarted = "staff.write_session_started"
	ActionImpersonationEnded        = "staff.impersonation_ended"
	ActionJobRetried                = "job.retried"
	ActionJobCancelled              = "job.cancelled"

	// Outgoing webhooks.
	ActionWebhookCreated       = "webhook.created"
	ActionWebhookUpdated       = "webhook.updated"
	ActionWebhookSecretRotated = "webhook.secret_rotated"
	ActionWebhookEnabled       = "webhook.enabled"
	ActionWebhookDisabled      = "webhook.disabled"
	ActionWebhookDeleted       = "webhook.deleted"
	ActionWebhookTested        = "webhook.tested"
	ActionWebhookReplayed      = "webhook.replayed"
	// Workspace single sign-on (sso.go).
	ActionSSOConfigured     = "sso.configured"
	ActionSSOSettings       = "sso.settings_changed"
	ActionSSODomainAdded    = "sso.domain_added"
	ActionSSODomainVerified = "sso.domain_verified"
	ActionSSODomainRemoved  = "sso.domain_removed"
	ActionSSOJoined         = "sso.member_joined"
	ActionSSOBreakGlass     = "sso.break_glass"
	ActionSSODisabled       = "sso.disabled_by_operator"
	// scaffold:audit-actions (make scaffold adds its resources' actions above this line)
)

// AuditAction describes one action code the audit log may hold.
type AuditAction struct {
	Code   string
	Family AuditFamily
	// Summary is the sentence shown for an entry. It starts with {actor};
	// {key} is replaced by the entry's metadata value, {key|role} by that
	// value as a role label. Missing values read "someone" or "".
	Summary string
	// Target names the kind of thing the entry's target_id identifies
	// ("user", "workspace", "invite", "session", "api_key" or "" for none).
	Target string
}

// auditCatalog is every action written anywhere. The store refuses an
// entry whose action is missing here; TestAuditCatalog checks each entry
// is complete and that every Action constant is listed.
var auditCatalog = []AuditAction{
	{ActionSignedIn, FamilyAuth, "{actor} signed in", "session"},
	{ActionSignedOut, FamilyAuth, "{actor} signed out", "session"},
	{ActionUserCreated, FamilyAuth, "{actor} created an account", "user"},
	{ActionSessionRevoked, FamilySecurity, "{actor} signed out a session on another device", "session"},
	{ActionSessionRevokedAll, FamilySecurity, "{actor} signed out {count} other session(s)", "user"},
	{ActionUserUpdated, FamilySecurity, "{actor} updated their profile", "user"},
	{ActionUserDeleted, FamilySecurity, "{actor} deleted their account", "user"},
	{ActionAuditExported, FamilySecurity, "{actor} exported the audit log as {format}", "workspace"},
	{ActionAuditPruned, FamilySecurity, "{actor} pruned {count} audit entries from before {before}", ""},
	{ActionWorkspaceCreated, FamilyWorkspace, "{actor} created the workspace “{name}”", "workspace"},
	{ActionWorkspaceRenamed, FamilyWorkspace, "{actor} renamed the workspace from “{from}” to “{to}”", "workspace"},
	{ActionWorkspaceSlugChanged, FamilyWorkspace, "{actor} changed the address from /w/{from} to /w/{to}", "workspace"},
	{ActionWorkspaceDeleted, FamilyWorkspace, "{actor} deleted the workspace “{name}”", "workspace"},
	{ActionInviteSent, FamilyInvite, "{actor} invited {email} as {role|role}", "invite"},
	{ActionInviteResent, FamilyInvite, "{actor} resent the invite to {email}", "invite"},
	{ActionInviteRevoked, FamilyInvite, "{actor} revoked the invite to {email}", "invite"},
	{ActionInviteAccepted, FamilyInvite, "{actor} joined as {role|role}", "invite"},
	{ActionInviteDeclined, FamilyInvite, "{actor} declined the invite", "invite"},
	{ActionTestInviteSent, FamilyInvite, "{actor} sent a test invite to {email}", ""},
	{ActionMemberRoleChanged, FamilyMember, "{actor} changed {email}'s role from {from|role} to {to|role}", "user"},
	{ActionMemberRemoved, FamilyMember, "{actor} removed {email} from the workspace", "user"},
	{ActionMemberLeft, FamilyMember, "{actor} left the workspace", "user"},
	{ActionOwnershipTransferred, FamilyMember, "{actor} made {email} an owner and stepped down to admin", "user"},
	{ActionCheckoutStarted, FamilyBilling, "{actor} started a checkout for the Pro plan", "workspace"},
	{ActionCheckoutCompleted, FamilyBilling, "{actor} linked the Pro subscription after checkout", "workspace"},
	{ActionPortalOpened, FamilyBilling, "{actor} opened the billing portal", "workspace"},
	{ActionSubscriptionUpdated, FamilyBilling, "{actor} updated the subscription (now {status})", "workspace"},
	{ActionSubscriptionDeleted, FamilyBilling, "{actor} ended the Pro subscription", "workspace"},
	{ActionPaymentFailed, FamilyBilling, "{actor} reported a failed payment", "workspace"},
	{ActionInvoicePaid, FamilyBilling, "{actor} recorded a paid invoice", "workspace"},
	{ActionBillingSynced, FamilyBilling, "{actor} synced billing from Stripe (now {status})", "workspace"},
	{ActionSeatsSynced, FamilyBilling, "{actor} changed the subscription's seats from {from} to {to}", "workspace"},
	{ActionDemoUpgraded, FamilyBilling, "{actor} upgraded to Pro in demo mode", "workspace"},
	{ActionDemoDowngraded, FamilyBilling, "{actor} went back to the Free plan in demo mode", "workspace"},
	{ActionPlanChangeRequested, FamilyBilling, "{actor} asked Stripe to change the plan to {plan} ({interval}ly)", "workspace"},
	{ActionPlanChangeScheduled, FamilyBilling, "{actor} scheduled a move to {plan} ({interval}ly) at the end of the billing period", "workspace"},
	{ActionPlanChangeWithdrawn, FamilyBilling, "{actor} withdrew the scheduled plan change and kept the current plan", "workspace"},
	{ActionScheduleEnded, FamilyBilling, "{actor} reported the end of a subscription schedule ({status})", "workspace"},
	{ActionCancelRequested, FamilyBilling, "{actor} asked Stripe to cancel the subscription at the end of the billing period", "workspace"},
	{ActionResumed, FamilyBilling, "{actor} asked Stripe to resume the subscription", "workspace"},
	{ActionTrialEnding, FamilyBilling, "{actor} reported the trial ends soon; owners were emailed", "workspace"},
	{ActionPaymentRecovered, FamilyBilling, "{actor} recorded the overdue payment; the workspace is back in good standing", "workspace"},
	{ActionRestricted, FamilyBilling, "{actor} restricted the workspace: a payment is overdue past the grace period", "workspace"},
	{ActionAPIKeyCreated, FamilyAPI, "{actor} created the API key “{name}” ({prefix}…)", "api_key"},
	{ActionAPIKeyRevoked, FamilyAPI, "{actor} revoked the API key “{name}” ({prefix}…)", "api_key"},
	{ActionTOTPEnabled, FamilySecurity, "{actor} turned on an authenticator app for two-factor sign-in", "user"},
	{ActionTOTPDisabled, FamilySecurity, "{actor} turned off their authenticator app", "user"},
	{ActionPasskeyAdded, FamilySecurity, "{actor} added the passkey “{name}”", "user"},
	{ActionPasskeyRemoved, FamilySecurity, "{actor} removed the passkey “{name}”", "user"},
	{ActionRecoveryCodesGenerated, FamilySecurity, "{actor} got a new set of recovery codes", "user"},
	{ActionRecoveryCodeUsed, FamilySecurity, "{actor} signed in with a recovery code ({left} left)", "user"},
	{ActionCodeEntryLocked, FamilySecurity, "{actor} was locked out of code entry for 15 minutes after {failures} wrong two-factor codes", "user"},
	{ActionTwoFactorReset, FamilySecurity, "{actor} reset two-factor sign-in for {email}: {reason}", "user"},
	{ActionIdentityLinked, FamilySecurity, "{actor} linked their {provider} account {email} to sign in", "user"},
	{ActionIdentityUnlinked, FamilySecurity, "{actor} unlinked their {provider} account {email}", "user"},
	{ActionWorkspace2FARequired, FamilyWorkspace, "{actor} required two-factor sign-in for every member", "workspace"},
	{ActionWorkspace2FAOptional, FamilyWorkspace, "{actor} made two-factor sign-in optional", "workspace"},
	{ActionStaffGranted, FamilySecurity, "{actor} gave {email} staff access to the operator console", "user"},
	{ActionStaffRevoked, FamilySecurity, "{actor} removed {email}'s staff access", "user"},
	{ActionUserSuspended, FamilySecurity, "{actor} suspended the account {email}: {reason}", "user"},
	{ActionUserUnsuspended, FamilySecurity, "{actor} lifted the suspension of {email}: {reason}", "user"},
	{ActionUserSessionsEnded, FamilySecurity, "{actor} ended {count} session(s) of {email}: {reason}", "user"},
	{ActionSignInLinkSent, FamilyAuth, "{actor} sent a sign-in link to {email}: {reason}", "user"},
	{ActionWorkspaceSuspended, FamilyWorkspace, "{actor} suspended the workspace (it can be read, not changed): {reason}", "workspace"},
	{ActionWorkspaceUnsuspended, FamilyWorkspace, "{actor} lifted the workspace's suspension: {reason}", "workspace"},
	{ActionStaffBillingSync, FamilyBilling, "{actor} asked for a billing sync with Stripe: {reason}", "workspace"},
	{ActionImpersonationStarted, FamilySecurity, "{actor} started viewing as {email} ({mode}): {reason}", "user"},
	{ActionImpersonationWriteStarted, FamilySecurity, "{actor} started a write session as {email}: {reason}", "user"},
	{ActionImpersonationEnded, FamilySecurity, "{actor} stopped viewing as {email} ({how})", "user"},
	{ActionJobRetried, FamilySecurity, "{actor} ran the background job {job} ({kind}) again: {reason}", "job"},
	{ActionJobCancelled, FamilySecurity, "{actor} cancelled the background job {job} ({kind}): {reason}", "job"},
	{ActionWebhookCreated, FamilyAPI, "{actor} added the webhook endpoint {url}", "webhook_endpoint"},
	{ActionWebhookUpdated, FamilyAPI, "{actor} changed the webhook endpoint {url}", "webhook_endpoint"},
	{ActionWebhookSecretRotated, FamilyAPI, "{actor} rotated the signing secret of the webhook endpoint {url}", "webhook_endpoint"},
	{ActionWebhookEnabled, FamilyAPI, "{actor} turned on the webhook endpoint {url}", "webhook_endpoint"},
	{ActionWebhookDisabled, FamilyAPI, "{actor} turned off the webhook endpoint {url} ({reason})", "webhook_endpoint"},
	{ActionWebhookDeleted, FamilyAPI, "{actor} deleted the webhook endpoint {url}", "webhook_endpoint"},
	{ActionWebhookTested, FamilyAPI, "{actor} sent a test event to the webhook endpoint {url}", "webhook_endpoint"},
	{ActionWebhookReplayed, FamilyAPI, "{actor} replayed {count} webhook deliveries to {url}", "webhook_endpoint"},
	{ActionSSOConfigured, FamilySecurity, "{actor} saved the single sign-on connection to {issuer} (client ID {client_id}, new client secret: {new_secret})", "workspace"},
	{ActionSSOSettings, FamilySecurity, "{actor} changed single sign-on: required {require_sso}, join on first sign-in {jit} as {jit_role|role}, provider’s multi-factor counts {idp_mfa_counts}", "workspace"},
	{ActionSSODomainAdded, FamilySecurity, "{actor} added the domain {domain} for single sign-on", "workspace"},
	{ActionSSODomainVerified, FamilySecurity, "{actor} verified the domain {domain} by its DNS record", "workspace"},
	{ActionSSODomainRemoved, FamilySecurity, "{actor} removed the domain {domain}", "workspace"},
	{ActionSSOJoined, FamilyMember, "{actor} joined as {role|role} on first sign-in through single sign-on", "user"},
	{ActionSSOBreakGlass, FamilySecurity, "{actor} opened the workspace without single sign-on, as an owner, with an email link and a second factor", "workspace"},
	{ActionSSODisabled, FamilySecurity, "{actor} turned off required single sign-on from the command line: {reason}", "workspace"},
	// scaffold:audit-catalog (make scaffold adds its resources' entries above this line)
}

// auditByCode indexes auditCatalog.
var auditByCode = func() map[string]AuditAction {
	m := make(map[string]AuditAction, len(auditCatalog))
	for _, a := range auditCatalog {
		m[a.Code] = a
	}
	return m
}()

// AuditActions returns the catalog, grouped by family in display order.
func AuditActions() []AuditAction {
	out := make([]AuditAction, 0, len(auditCatalog))
	for _, f := range AuditFamilies() {
		for _, a := range auditCatalog {
			if a.Family == f {
				out = append(out, a)
			}
		}
	}
	return out
}

// LookupAuditAction returns the catalog entry of code.
func LookupAuditAction(code string) (AuditAction, bool) {
	a, ok := auditByCode[code]
	return a, ok
}

// AuditActionsOf returns the codes of a family's actions.
func AuditActionsOf(f AuditFamily) []string {
	var out []string
	for _, a := range auditCatalog {
		if a.Family == f {
			out = append(out, a.Code)
		}
	}
	return out
}

// CheckAuditAction returns an error unless code is in the catalog.
func CheckAuditAction(code string) error {
	if _, ok := auditByCode[code]; !ok {
		return fmt.Errorf("audit action %q is not in the catalog (internal/app/audit_catalog.go)", code)
	}
	return nil
}

// Who returns who an entry names as its actor: the name written with it,
// else the email, else "Stripe" for billing entries without an actor
// and "System" for other entries.
func (e *AuditEntry) Who() string {
	switch {
	case e.ActorName != "":
		return e.ActorName
	case e.ActorEmail != "":
		return e.ActorEmail
	case e.ActorID != 0:
		return "A deleted user"
	}
	if a, ok := auditByCode[e.Action]; ok && a.Family == FamilyBilling {
		return "Stripe"
	}
	return "System"
}

// SummaryText returns the entry's sentence without its leading actor
// ("invited grace@example.com as Admin"); Summary is the whole sentence.
func (e *AuditEntry) SummaryText() string {
	a, ok := auditByCode[e.Action]
	if !ok {
		return "recorded " + e.Action
	}
	return fillSummary(a.Summary, func(key, format string) string {
		val := ""
		if v, ok := e.Metadata[key]; ok && v != nil {
			val = fmt.Sprint(v)
		}
		switch {
		case format == "role":
			val = Role(val).Label()
		case val == "" && key == "email":
			val = "someone"
		}
		return val
	})
}

// Summary returns the entry as one sentence: "Ada Lovelace invited
// grace@example.com as Admin".
func (e *AuditEntry) Summary() string { return e.Who() + " " + e.SummaryText() }

// Family returns the entry's family from the catalog ("" when unknown).
func (e *AuditEntry) Family() AuditFamily { return auditByCode[e.Action].Family }

// Label describes the action for a filter list: its summary without the
// actor, each value shown as "…" ("invited … as …").
func (a AuditAction) Label() string {
	return fillSummary(a.Summary, func(string, string) string { return "…" })
}

// fillSummary returns a summary template without its leading {actor},
// each {key} or {key|format} replaced by value(key, format).
func fillSummary(summary string, value func(key, format string) string) string {
	tmpl := strings.TrimPrefix(summary, "{actor} ")
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		j := strings.IndexByte(tmpl, '}')
		if i < 0 || j < i {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		key, format, _ := strings.Cut(tmpl[i+1:j], "|")
		b.WriteString(value(key, format))
		tmpl = tmpl[j+1:]
	}
}

// EventType is an audit action that is public: workspaces' webhook
// endpoints may subscribe to it, and each entry of it is sent to them as
// an event of that type with a versioned JSON payload. The event catalog
// has no other home than this file: an event type is an audit action code
// listed in eventCatalog below, beside the audit catalog that describes it
// (TestEventCatalog checks both agree).
type EventType struct {
	// Code is the audit action code, which is the event's type.
	Code string
	// Version is the version of the payload's schema; a change that
	// removes or retypes a field adds a new version.
	Version int
	// Description says when the event is sent, for the docs and the
	// settings page.
	Description string
	// Fields are the event's own fields in the payload's data, each read
	// from the audit entry's metadata of the same name (Key when it
	// differs). Only these are sent: a metadata value not listed here
	// never leaves the server.
	Fields []EventField
	// Direct events are sent to one endpoint by an action on it (the test
	// event), never fanned out to subscribers.
	Direct bool
}

// EventField is one field of an event's data.
type EventField struct {
	Name string
	// Type is the field's JSON schema type: "string", "integer" or "array".
	Type        string
	Description string
	// Key is the metadata key the value is read from; "" means Name.
	Key string
}

// eventCatalog lists the public audit actions, in the order the settings
// page offers them. Payload fields never include a secret or token.
var eventCatalog = []EventType{
	{Code: ActionInviteSent, Version: 1, Description: "An owner, admin or API key invited someone to the workspace.",
		Fields: []EventField{{"email", "string", "The invited address.", ""}, {"role", "string", "The role offered: owner, admin or member.", ""}}},
	{Code: ActionInviteRevoked, Version: 1, Description: "A pending invite was revoked.",
		Fields: []EventField{{"email", "string", "The invited address.", ""}}},
	{Code: ActionInviteAccepted, Version: 1, Description: "Someone accepted an invite and joined the workspace (the actor is the new member).",
		Fields: []EventField{{"email", "string", "The address the invite was sent to.", ""}, {"role", "string", "The new member's role.", ""}}},
	{Code: ActionMemberRoleChanged, Version: 1, Description: "A member's role changed.",
		Fields: []EventField{{"email", "string", "The member's address.", ""}, {"from", "string", "The previous role.", ""}, {"to", "string", "The new role.", ""}}},
	{Code: ActionMemberRemoved, Version: 1, Description: "A member was removed from the workspace.",
		Fields: []EventField{{"email", "string", "The removed member's address.", ""}, {"role", "string", "The role they had.", ""}}},
	{Code: ActionMemberLeft, Version: 1, Description: "A member left the workspace (the actor is the member).",
		Fields: []EventField{{"role", "string", "The role they had.", ""}}},
	{Code: ActionOwnershipTransferred, Version: 1, Description: "An owner made another member an owner and stepped down to admin.",
		Fields: []EventField{{"email", "string", "The new owner's address.", ""}}},
	{Code: ActionWorkspaceRenamed, Version: 1, Description: "The workspace's name changed.",
		Fields: []EventField{{"from", "string", "The previous name.", ""}, {"to", "string", "The new name.", ""}}},
	{Code: ActionWorkspaceSlugChanged, Version: 1, Description: "The workspace's address (/w/slug) changed.",
		Fields: []EventField{{"from", "string", "The previous slug.", ""}, {"to", "string", "The new slug.", ""}}},
	{Code: ActionSubscriptionUpdated, Version: 1, Description: "The workspace's subscription changed (plan, status or renewal).",
		Fields: []EventField{{"status", "string", "The subscription's status, as Stripe names it.", ""}}},
	{Code: ActionSubscriptionDeleted, Version: 1, Description: "The workspace's subscription ended.", Fields: []EventField{}},
	{Code: ActionAPIKeyCreated, Version: 1, Description: "An API key was created (never its secret).",
		Fields: []EventField{{"name", "string", "The key's name.", ""}, {"prefix", "string", "The key's first characters, as lists show them.", ""}}},
	{Code: ActionAPIKeyRevoked, Version: 1, Description: "An API key was revoked.",
		Fields: []EventField{{"name", "string", "The key's name.", ""}, {"prefix", "string", "The key's first characters, as lists show them.", ""}}},
	{Code: ActionWebhookTested, Version: 1, Direct: true, Description: "Sent by the “Send test event” button to one endpoint only; nothing changed.",
		Fields: []EventField{{"url", "string", "The endpoint's address, without its path.", ""}}},
}

// eventByCode indexes eventCatalog.
var eventByCode = func() map[string]EventType {
	m := make(map[string]EventType, len(eventCatalog))
	for _, e := range eventCatalog {
		m[e.Code] = e
	}
	return m
}()

// EventTypes returns the public audit actions, in display order.
func EventTypes() []EventType { return eventCatalog }

// SubscribableEventTypes returns the event types an endpoint may choose:
// every public action but the direct ones.
func SubscribableEventTypes() []EventType {
	out := make([]EventType, 0, len(eventCatalog))
	for _, e := range eventCatalog {
		if !e.Direct {
			out = append(out, e)
		}
	}
	return out
}

// LookupEventType returns the event type of an audit action code, and
// false when the action is not public.
func LookupEventType(code string) (EventType, bool) {
	e, ok := eventByCode[code]
	return e, ok
}

// Public reports whether the action is an event type webhooks may carry.
func (a AuditAction) Public() bool {
	_, ok := eventByCode[a.Code]
	return ok
}
