package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Kinds of identity provider (Provider.Kind, OIDC_<NAME>_KIND).
const (
	ProviderOIDC      = "oidc"      // any OpenID Connect issuer, found through discovery
	ProviderGoogle    = "google"    // Google
	ProviderMicrosoft = "microsoft" // Microsoft Entra ID, multi-tenant
	ProviderGitHub    = "github"    // GitHub OAuth app with its user and emails API
)

// The issuers a kind uses when OIDC_<NAME>_ISSUER is unset.
const (
	GoogleIssuer    = "https://accounts.google.com"
	MicrosoftIssuer = "https://login.microsoftonline.com/common/v2.0"
	GitHubIssuer    = "https://github.com"
	GitHubAPI       = "https://api.github.com"
)

// Provider is one identity provider people may sign in with, from the
// OIDC_<NAME>_* variables. NAME is letters and digits; the provider's
// Name is it in lower case and appears in its callback URL,
// APP_URL/auth/oidc/<name>/callback.
type Provider struct {
	Name  string // lower-case NAME
	Kind  string // OIDC_<NAME>_KIND, default google, microsoft or github for those names, oidc otherwise
	Label string // OIDC_<NAME>_LABEL, the button's "Sign in with …" name; default from the kind or NAME
	// Issuer is OIDC_<NAME>_ISSUER: the OpenID Connect issuer URL
	// (required for kind oidc); for GitHub, the web address its
	// /login/oauth/… endpoints are under.
	Issuer       string
	ClientID     string // OIDC_<NAME>_CLIENT_ID, required
	ClientSecret string // OIDC_<NAME>_CLIENT_SECRET, required
	// APIURL is OIDC_<NAME>_API_URL, for GitHub only: its REST API,
	// default https://api.github.com (GitHub Enterprise has its own).
	APIURL string
}

// providerVar matches an OIDC_<NAME>_<FIELD> variable.
var providerVar = regexp.MustCompile(`^OIDC_([A-Z0-9]+)_(ISSUER|CLIENT_ID|CLIENT_SECRET|LABEL|KIND|API_URL)$`)

// providers reads every OIDC_<NAME>_* group, sorted by name. A group with
// any variable set is a provider and must be complete.
func (l *loader) providers(env string) []Provider {
	var names []string
	for name, value := range l.env {
		if m := providerVar.FindStringSubmatch(name); m != nil && isSet(value) && !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	var out []Provider
	for _, n := range names {
		if p, ok := l.provider(n, env); ok {
			out = append(out, p)
		}
	}
	return out
}

// provider reads the OIDC_<n>_* group.
func (l *loader) provider(n, env string) (Provider, bool) {
	v := func(field string) string { return "OIDC_" + n + "_" + field }
	p := Provider{Name: strings.ToLower(n), ClientID: l.value(v("CLIENT_ID")), Label: l.value(v("LABEL"))}
	if isSet(l.env[v("CLIENT_SECRET")]) {
		p.ClientSecret = strings.TrimSpace(l.env[v("CLIENT_SECRET")])
	}
	before := len(l.problems)
	def := ProviderOIDC
	switch p.Name {
	case ProviderGoogle, ProviderMicrosoft, ProviderGitHub:
		def = p.Name
	}
	p.Kind = l.choice(v("KIND"), def, "expected oidc, google, microsoft or github",
		ProviderOIDC, ProviderGoogle, ProviderMicrosoft, ProviderGitHub)
	defIssuer, defLabel := "", strings.ToUpper(p.Name[:1])+p.Name[1:]
	switch p.Kind {
	case ProviderGoogle:
		defIssuer, defLabel = GoogleIssuer, "Google"
	case ProviderMicrosoft:
		defIssuer, defLabel = MicrosoftIssuer, "Microsoft"
	case ProviderGitHub:
		defIssuer, defLabel = GitHubIssuer, "GitHub"
		p.APIURL = l.providerURL(v("API_URL"), GitHubAPI, env)
	}
	if p.Label == "" {
		p.Label = defLabel
	}
	if secretValue(p.Label) || len(p.Label) > 40 {
		l.add(Problem{Var: v("LABEL"), Value: hiddenValue, Message: "expected a short name for the button, like Google or Okta"})
	}
	if p.Kind == ProviderOIDC && l.value(v("ISSUER")) == "" {
		l.add(Problem{Var: v("ISSUER"), Message: "required: the provider's issuer URL, like https://example.okta.com"})
	} else {
		p.Issuer = l.providerURL(v("ISSUER"), defIssuer, env)
	}
	if p.ClientID == "" {
		l.add(Problem{Var: v("CLIENT_ID"), Message: "required: the client id the provider gave this app"})
	}
	if p.ClientSecret == "" {
		l.add(Problem{Var: v("CLIENT_SECRET"), Message: "required: the client secret the provider gave this app"})
	}
	return p, len(l.problems) == before
}

// providerURL reads a provider's URL: https, or http outside production
// (a test provider on this machine), without query or fragment,
// kept as written: an issuer must match the provider's to the character.
func (l *loader) providerURL(name, def, env string) string {
	raw := l.str(name, def)
	u, err := url.Parse(raw)
	ok := err == nil && u.Hostname() != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" &&
		(u.Scheme == "https" || (u.Scheme == "http" && env != EnvProduction))
	if !ok {
		l.problem(name, "expected an https:// URL without query, like https://accounts.google.com (http:// only outside production)")
		return ""
	}
	return strings.TrimSpace(raw)
}

// Provider returns the configured provider named name.
func (c *Config) Provider(name string) (Provider, bool) {
	for _, p := range c.Providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}
