package app

import "strings"

// auditMetadataLabels are the human labels of the metadata keys audit
// entries record; AuditMetadataLabel spells out any other key.
var auditMetadataLabels = map[string]string{
	"email":                  "Email address",
	"role":                   "Role",
	"previous_role":          "Previous role",
	"name":                   "Name",
	"slug":                   "Address",
	"status":                 "Status",
	"previous_status":        "Previous status",
	"plan":                   "Plan",
	"from":                   "From",
	"to":                     "To",
	"time_zone":              "Time zone",
	"language":               "Language",
	"format":                 "Format",
	"rows":                   "Rows",
	"family":                 "Kind",
	"actor":                  "Person",
	"action":                 "Action",
	"prefix":                 "Key prefix",
	"scopes":                 "Permissions",
	"method":                 "Sign-in method",
	"new_user":               "First sign-in",
	"sessions_ended":         "Sessions ended",
	"from_user_id":           "From",
	"reason":                 "Reason",
	"demo":                   "Demo",
	"seed":                   "Demo data",
	"two_factor":             "Two-factor sign-in",
	"count":                  "Count",
	"cancel_at_period_end":   "Cancels at period end",
	"subscription_status":    "Subscription status",
	"stripe_subscription_id": "Stripe subscription",
	"stripe_event_id":        "Stripe event",
	"refreshed_from_stripe":  "Refreshed from Stripe",
	"expires_at":             "Expires",
	"provider":               "Identity provider",
	"issuer":                 "Issuer",
	"domain":                 "Domain",
	"client_id":              "Client ID",
	"new_secret":             "New client secret",
	"require_sso":            "Single sign-on required",
	"jit":                    "Join on first sign-in",
	"jit_role":               "Role on joining",
	"idp_mfa_counts":         "Provider’s multi-factor counts",
	"sso_workspace_id":       "Single sign-on workspace",
	"idp_mfa":                "Provider’s multi-factor sign-in",
}

// AuditMetadataLabel returns the label of an audit metadata key: its own
// from the list above, else the key with its words spelled out
// ("window_start" reads "Window start").
func AuditMetadataLabel(key string) string {
	if l, ok := auditMetadataLabels[key]; ok {
		return l
	}
	words := strings.ReplaceAll(strings.TrimSpace(key), "_", " ")
	if words == "" {
		return "Detail"
	}
	return strings.ToUpper(words[:1]) + words[1:]
}
