package app

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// Workspace single sign-on. An owner of a workspace whose plan includes
// FeatureSSO (Pro and Business) connects the workspace's own OpenID
// Connect provider and proves domains by a DNS TXT record; people whose
// address is in a verified domain sign in through that provider, and the
// workspace may require it of its members of those domains. Owners keep a
// break-glass way in: an email link confirmed with their second factor,
// audited.

// MethodSSO is the sign-in method of a session started by a workspace's
// own identity provider. After a second step it reads "sso+totp",
// "sso+recovery_code" or "sso+passkey".
const MethodSSO = "sso"

// SSOChallengePrefix is the label in front of a domain whose TXT record
// proves it: _atrium-challenge.example.com.
const SSOChallengePrefix = "_atrium-challenge."

// MaxSSODomains bounds the domains one workspace may claim.
const MaxSSODomains = 20

// WorkspaceSSO is a workspace's identity provider connection. The client
// secret is never read back: HasSecret says one is kept.
type WorkspaceSSO struct {
	WorkspaceID int64
	Issuer      string
	ClientID    string
	HasSecret   bool
	// RequireSSO keeps members whose address is in a verified domain out
	// of the workspace unless their session came from its provider.
	RequireSSO bool
	// JIT makes a person of a verified domain who signs in through the
	// provider a member, as JITRole, when they are not one yet.
	JIT     bool
	JITRole Role
	// IdPMFACounts lets the provider's multi-factor sign-in (an "amr"
	// claim holding "mfa" or "hwk") stand for Atrium's second factor.
	IdPMFACounts bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// WorkspaceDomain is a domain a workspace claims.
type WorkspaceDomain struct {
	ID          int64
	WorkspaceID int64
	Domain      string
	// Token is the value of the TXT record that proves the domain.
	Token      string
	CreatedAt  time.Time
	VerifiedAt *time.Time
}

// Verified reports whether the domain was proved.
func (d *WorkspaceDomain) Verified() bool { return d.VerifiedAt != nil }

// RecordName is the DNS name of the TXT record to create.
func (d *WorkspaceDomain) RecordName() string { return SSOChallengePrefix + d.Domain }

// RecordValue is the TXT record's value.
func (d *WorkspaceDomain) RecordValue() string { return "atrium-verification=" + d.Token }

// SSOConnection is what signing in through a workspace's provider needs,
// the client secret opened.
type SSOConnection struct {
	WorkspaceID   int64
	WorkspaceSlug string
	WorkspaceName string
	Issuer        string
	ClientID      string
	ClientSecret  string
	JIT           bool
	JITRole       Role
	IdPMFACounts  bool
	// Limits are the plans' seat limits, which joining on first sign-in
	// respects; the caller sets them from its configuration.
	Limits PlanLimits
}

// SSOSettings are the options an owner sets once connected.
type SSOSettings struct {
	RequireSSO   bool
	JIT          bool
	JITRole      Role
	IdPMFACounts bool
}

// SSOSignIn is the result of a sign-in through a workspace's provider.
type SSOSignIn struct {
	User    *User
	NewUser bool
	// Joined reports that the sign-in made the user a member (JIT).
	Joined bool
	// JoinRefused says why a JIT membership was not given (no seat left);
	// the sign-in went ahead.
	JoinRefused string
}

// SSOService keeps workspaces' provider connections and verified domains
// and signs people in through them. Owner methods take the Scope they act
// in and are refused (EFORBIDDEN) to anyone else; every change writes its
// audit entry in the same transaction.
type SSOService interface {
	// FindSSO returns the workspace's connection (nil when none) and its
	// domains, verified first then by name.
	FindSSO(ctx context.Context, sc Scope) (*WorkspaceSSO, []*WorkspaceDomain, error)
	// SaveSSOConnection stores the issuer and client id and, unless secret
	// is "", the client secret (sealed). The first save needs a secret.
	SaveSSOConnection(ctx context.Context, sc Scope, issuer, clientID, secret string) error
	// SetSSOSettings changes the options of a connection (ENOTFOUND
	// without one). Requiring single sign-on needs a verified domain.
	SetSSOSettings(ctx context.Context, sc Scope, set SSOSettings) error
	// AddSSODomain claims a domain with a fresh token; ECONFLICT when the
	// workspace claims it already or another workspace verified it.
	AddSSODomain(ctx context.Context, sc Scope, domain string) (*WorkspaceDomain, error)
	// MarkSSODomainVerified records that the domain's TXT record was found
	// (the caller looked it up); ECONFLICT when another workspace verified
	// it first, ENOTFOUND for another workspace's domain id.
	MarkSSODomainVerified(ctx context.Context, sc Scope, domainID int64) (*WorkspaceDomain, error)
	// RemoveSSODomain drops a domain; the last verified one cannot go while
	// single sign-on is required.
	RemoveSSODomain(ctx context.Context, sc Scope, domainID int64) (*WorkspaceDomain, error)
	// ConnectionForEmail returns the connection of the workspace that
	// verified the address's domain, when its plan includes FeatureSSO, or
	// nil.
	ConnectionForEmail(ctx context.Context, email string) (*SSOConnection, error)
	// ConnectionFor returns a workspace's connection for signing in, or
	// ENOTFOUND (none, or its plan lacks FeatureSSO).
	ConnectionFor(ctx context.Context, workspaceID int64) (*SSOConnection, error)
	// SignInWithSSO signs in a person the connection's provider vouches
	// for: their address must be in a domain the workspace verified. The
	// session names the workspace; with JIT a non-member joins. A user
	// with a second factor gets ErrSecondFactorRequired (a pending sign-in
	// under ns.PendingHash) unless idpMFA and the workspace counts it.
	SignInWithSSO(ctx context.Context, conn *SSOConnection, id ExternalIdentity, idpMFA bool, next string, ns NewSession) (*SSOSignIn, error)
	// SSORequired reports whether the workspace requires single sign-on of
	// an address: it does, verified the address's domain, and its plan
	// includes FeatureSSO.
	SSORequired(ctx context.Context, workspaceID int64, email string) (bool, error)
	// RecordBreakGlass audits, once per session and workspace, an owner
	// reaching a workspace that requires single sign-on by an email link
	// and a second factor.
	RecordBreakGlass(ctx context.Context, sc Scope, sessionID int64) error
	// DisableSSO turns "require single sign-on" off for the workspace with
	// slug, for an operator (no actor); reason goes into the audit entry.
	DisableSSO(ctx context.Context, slug, reason string) (*Workspace, error)
}

// CanManageSSO: owners only.
func CanManageSSO(actor Role) error {
	if actor != RoleOwner {
		return Errorf(EFORBIDDEN, "Only an owner can change single sign-on.")
	}
	return nil
}

// EmailDomain returns the domain of a normalized address.
func EmailDomain(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[i+1:]
	}
	return ""
}

// NormalizeDomain checks and lower-cases a domain an owner types; errors
// are EINVALID about "domain".
func NormalizeDomain(s string) (string, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" {
		return "", FieldErrorf("domain", "Enter the domain of your organisation’s addresses, such as example.com.")
	}
	if strings.ContainsAny(s, "@/: ") {
		return "", FieldErrorf("domain", "Enter a domain alone, such as example.com, without an address or https://.")
	}
	d, err := idna.Lookup.ToASCII(s)
	if err != nil || !validDomain(strings.ToLower(d)) {
		return "", FieldErrorf("domain", "That isn’t a domain. Enter one such as example.com.")
	}
	return strings.ToLower(d), nil
}

// ValidateIssuer checks an issuer URL an owner types; errors are EINVALID
// about "issuer". Production allows https only (allowHTTP false).
func ValidateIssuer(s string, allowHTTP bool) (string, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "/")
	if s == "" {
		return "", FieldErrorf("issuer", "Enter your identity provider’s issuer URL.")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(s) > 500 ||
		(u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
		return "", FieldErrorf("issuer", "Enter the issuer as an https:// URL, such as https://login.example.com.")
	}
	return s, nil
}

// ValidateClientID checks a client id; errors are about "client_id".
func ValidateClientID(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", FieldErrorf("client_id", "Enter the client ID your identity provider gave this app.")
	case len(s) > 300 || strings.IndexFunc(s, invisibleRune) >= 0:
		return "", FieldErrorf("client_id", "That client ID is too long or holds invisible characters.")
	}
	return s, nil
}

// ValidateClientSecret checks a client secret; "" is allowed when one is
// kept already (keep). Errors are about "client_secret".
func ValidateClientSecret(s string, keep bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && keep:
		return "", nil
	case s == "":
		return "", FieldErrorf("client_secret", "Enter the client secret your identity provider gave this app.")
	case len(s) > 1000 || strings.IndexFunc(s, invisibleRune) >= 0:
		return "", FieldErrorf("client_secret", "That client secret is too long or holds invisible characters.")
	}
	return s, nil
}

// IdPMFA reports whether an ID token's "amr" claim says the provider used
// more than one factor ("mfa") or a hardware key ("hwk").
func IdPMFA(amr []string) bool {
	return slices.Contains(amr, "mfa") || slices.Contains(amr, "hwk")
}

// JITRoles are the roles JIT membership may give.
var JITRoles = []Role{RoleMember, RoleAdmin}
