// Package oidc signs people in with identity providers: OpenID Connect
// issuers (Google, Microsoft Entra ID's multi-tenant endpoint, any issuer
// found through discovery) with golang.org/x/oauth2 and go-oidc, and
// GitHub through OAuth 2 and its REST API. Every request uses the
// authorization code flow with PKCE (S256); ID tokens are verified by
// go-oidc (signature through the issuer's JWKS, refetched when a token
// names a key it does not know, issuer, audience, expiry) and their nonce
// here. It turns what a provider says into an app.ExternalIdentity and
// keeps nothing: the state, nonce and verifier live in the caller's
// single-use server-side record.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/outbound"
)

// Registry holds the configured providers, in the configuration's order.
type Registry struct {
	list   []*Provider
	byName map[string]*Provider
}

// New returns the providers of cfg. Their requests go through client
// (outbound.NewClient in production); redirects come back to
// APP_URL/auth/oidc/<name>/callback. Nothing is fetched yet: each
// provider reads its discovery document on first use, so a provider that
// is down stops nobody from starting the app or signing in otherwise.
func New(cfg *config.Config, client *http.Client) *Registry {
	r := &Registry{byName: make(map[string]*Provider)}
	for _, pc := range cfg.Providers {
		p := &Provider{cfg: pc, client: client,
			redirectURL: cfg.AppURL.String() + CallbackPath(pc.Name)}
		r.list = append(r.list, p)
		r.byName[pc.Name] = p
	}
	return r
}

// ClientOptions returns the outbound client's options for provider
// requests: public https addresses only in production; anything outside
// it, where the test provider runs on this machine.
func ClientOptions(cfg *config.Config) outbound.Options {
	return outbound.Options{AllowPrivate: !cfg.IsProduction(), Timeout: 10 * time.Second}
}

// CallbackPath is the path a provider sends the browser back to.
func CallbackPath(name string) string { return "/auth/oidc/" + name + "/callback" }

// Providers returns the providers, in order.
func (r *Registry) Providers() []*Provider {
	if r == nil {
		return nil
	}
	return r.list
}

// Origins returns the origins of the providers' sign-in pages, for the
// form-action of the Content Security Policy: a provider's authorization
// endpoint is on its issuer's origin (Google, Microsoft, GitHub, Okta,
// Auth0, Keycloak and Dex all do so).
func (r *Registry) Origins() []string {
	var out []string
	for _, p := range r.Providers() {
		u, err := url.Parse(p.cfg.Issuer)
		if err != nil || u.Host == "" {
			continue
		}
		if o := u.Scheme + "://" + u.Host; !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// Provider returns the provider named name.
func (r *Registry) Provider(name string) (*Provider, bool) {
	if r == nil {
		return nil, false
	}
	p, ok := r.byName[name]
	return p, ok
}

// Provider is one identity provider.
type Provider struct {
	cfg         config.Provider
	client      *http.Client
	redirectURL string

	mu   sync.Mutex
	disc *discovered // nil until discovery succeeds
}

// discovered is what an OpenID Connect provider's discovery gave.
type discovered struct {
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	// issuerTemplate is the discovery document's issuer for Microsoft's
	// multi-tenant endpoint, with "{tenantid}" where each token's tenant
	// goes.
	issuerTemplate string
}

// Name returns the provider's name (in its URLs).
func (p *Provider) Name() string { return p.cfg.Name }

// Label returns the provider's display name.
func (p *Provider) Label() string { return p.cfg.Label }

// Kind returns the provider's kind (config.Provider*).
func (p *Provider) Kind() string { return p.cfg.Kind }

// Request is one authorization request's secrets.
type Request struct {
	State    string
	Nonce    string
	Verifier string // PKCE code verifier
	// LoginHint is the address the person typed, passed to an OpenID
	// Connect provider as login_hint; optional, not kept.
	LoginHint string
}

// NewRequest returns fresh, random state, nonce and PKCE verifier.
func NewRequest() Request {
	state, _ := app.NewToken()
	nonce, _ := app.NewToken()
	return Request{State: state, Nonce: nonce, Verifier: oauth2.GenerateVerifier()}
}

// unavailable is the error of a provider that does not answer, or
// answers nonsense, with what went wrong for the log.
func (p *Provider) unavailable(detail error) error {
	return &Failure{Err: &app.Error{Code: app.EUNAVAILABLE,
		Message: p.cfg.Label + " is not answering right now, so we can’t sign you in with it. Try again in a few minutes, or sign in with an email link."},
		Detail: outbound.Redact(detail)}
}

// rejected is the error of an answer that does not verify.
func (p *Provider) rejected(detail error) error {
	return &Failure{Err: &app.Error{Code: app.EUNAUTHORIZED,
		Message: "We couldn’t verify the answer from " + p.cfg.Label + ", so you are not signed in. Start again from the sign-in page."},
		Detail: detail}
}

// Failure is a provider step that failed: Err is what the person is told,
// Detail what the log gets.
type Failure struct {
	Err    *app.Error
	Detail error
}

func (f *Failure) Error() string { return f.Err.Message + ": " + f.Detail.Error() }

// Unwrap lets app.ErrorCode and app.ErrorMessage find the *app.Error.
func (f *Failure) Unwrap() error { return f.Err }

// ctx returns ctx carrying the provider's HTTP client for oauth2 and go-oidc.
func (p *Provider) ctx(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	return gooidc.ClientContext(ctx, p.client)
}

// discover returns the provider's discovery, fetching it when not yet
// known. A failure is not kept: the next sign-in tries again.
func (p *Provider) discover(ctx context.Context) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc, nil
	}
	// The key set go-oidc builds keeps this context's client, without its
	// deadline, for the JWKS requests of later sign-ins.
	dctx := p.ctx(context.WithoutCancel(ctx))
	d := &discovered{}
	conf := &gooidc.Config{ClientID: p.cfg.ClientID, SupportedSigningAlgs: []string{gooidc.RS256, gooidc.ES256, gooidc.PS256}}
	if p.cfg.Kind == config.ProviderMicrosoft {
		// The multi-tenant endpoint's document names no one issuer but a
		// template; each token's issuer is checked against it below.
		d.issuerTemplate = tenantTemplate(p.cfg.Issuer)
		dctx = gooidc.InsecureIssuerURLContext(dctx, d.issuerTemplate)
		conf.SkipIssuerCheck = true
	}
	tctx, cancel := context.WithTimeout(dctx, 10*time.Second)
	defer cancel()
	prov, err := gooidc.NewProvider(tctx, p.cfg.Issuer)
	if err != nil {
		return nil, p.unavailable(fmt.Errorf("discovery of %s: %w", p.cfg.Issuer, err))
	}
	d.provider = prov
	d.verifier = prov.Verifier(conf)
	p.disc = d
	return d, nil
}

// tenantTemplate returns the issuer template of a Microsoft multi-tenant
// issuer: ".../common/v2.0" becomes ".../{tenantid}/v2.0".
func tenantTemplate(issuer string) string {
	for _, t := range []string{"/common/", "/organizations/", "/consumers/"} {
		if i := strings.LastIndex(issuer, t); i >= 0 {
			return issuer[:i] + "/{tenantid}/" + issuer[i+len(t):]
		}
	}
	return issuer
}

// oauth returns the OAuth 2 settings for endpoint.
func (p *Provider) oauth(endpoint oauth2.Endpoint, scopes []string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: endpoint,
		RedirectURL: p.redirectURL, Scopes: scopes}
}

// AuthCodeURL returns the provider's authorization URL for req, with the
// PKCE S256 challenge and, for OpenID Connect, the nonce. For an OpenID
// Connect provider it reads the discovery document first, which fails
// with an EUNAVAILABLE Failure when the provider is down.
func (p *Provider) AuthCodeURL(ctx context.Context, req Request) (string, error) {
	if p.cfg.Kind == config.ProviderGitHub {
		return p.github().AuthCodeURL(req.State, oauth2.S256ChallengeOption(req.Verifier)), nil
	}
	d, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	c := p.oauth(d.provider.Endpoint(), []string{gooidc.ScopeOpenID, "email", "profile"})
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(req.Verifier), gooidc.Nonce(req.Nonce)}
	if req.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.LoginHint))
	}
	return c.AuthCodeURL(req.State, opts...), nil
}

// Exchange trades the authorization code for tokens with the PKCE
// verifier and returns who signed in: for OpenID Connect from the ID
// token, verified and bound to req's nonce; for GitHub from its API.
func (p *Provider) Exchange(ctx context.Context, code string, req Request) (*app.ExternalIdentity, error) {
	if code == "" || len(code) > 2048 {
		return nil, p.rejected(errors.New("no usable code in the callback"))
	}
	if p.cfg.Kind == config.ProviderGitHub {
		return p.exchangeGitHub(ctx, code, req)
	}
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := p.oauth(d.provider.Endpoint(), nil).Exchange(p.ctx(ctx), code, oauth2.VerifierOption(req.Verifier))
	if err != nil {
		return nil, p.tokenError(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, p.rejected(errors.New("the token response holds no id_token"))
	}
	idt, err := d.verifier.Verify(p.ctx(ctx), raw)
	if err != nil {
		var expired *gooidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, p.rejected(fmt.Errorf("id token expired: %w", err))
		}
		return nil, p.rejected(fmt.Errorf("verify id token: %w", err))
	}
	if idt.Nonce == "" || idt.Nonce != req.Nonce {
		return nil, p.rejected(errors.New("the id token's nonce is not this request's"))
	}
	var claims idClaims
	if err := idt.Claims(&claims); err != nil {
		return nil, p.rejected(fmt.Errorf("read id token claims: %w", err))
	}
	id := &app.ExternalIdentity{Provider: p.cfg.Name, Issuer: idt.Issuer, Subject: idt.Subject, Name: claims.Name, AMR: claims.AMR}
	if p.cfg.Kind == config.ProviderMicrosoft {
		if err := p.checkTenant(d, idt.Issuer, claims); err != nil {
			return nil, err
		}
	}
	if email, err := app.NormalizeEmail(claims.Email); err == nil {
		id.Email = email
		id.EmailVerified = p.emailVerified(claims)
	}
	return id, nil
}

// tokenError sorts a failed token request: the provider refusing the code
// (a used, expired or forged one; a wrong verifier) is a rejection,
// anything else the provider being unavailable.
func (p *Provider) tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
		return p.rejected(fmt.Errorf("token request refused: %s", re.ErrorCode))
	}
	return p.unavailable(fmt.Errorf("token request: %w", err))
}

// idClaims are the ID token claims read beyond go-oidc's.
type idClaims struct {
	Email         string   `json:"email"`
	EmailVerified flexBool `json:"email_verified"`
	Name          string   `json:"name"`
	// AMR are the authentication methods the provider used ("pwd",
	// "mfa", "hwk", …; RFC 8176).
	AMR []string `json:"amr"`
	// Microsoft: the tenant, and whether the email's domain is verified
	// as the tenant's (optional claim xms_edov).
	TenantID   string   `json:"tid"`
	DomainOwns flexBool `json:"xms_edov"`
}

// flexBool reads a JSON boolean some providers send as a string.
type flexBool bool

// UnmarshalJSON accepts true, false, "true" and "false".
func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true":
		*b = true
	default:
		*b = false
	}
	return nil
}

// emailVerified reports whether the provider vouches for the token's
// email. Microsoft's "email" claim is whatever the tenant's admin typed,
// for any domain (the "nOAuth" flaw): it counts only with xms_edov, the
// claim saying the address's domain is verified as the tenant's.
func (p *Provider) emailVerified(c idClaims) bool {
	if p.cfg.Kind == config.ProviderMicrosoft {
		return bool(c.DomainOwns)
	}
	return bool(c.EmailVerified)
}

// checkTenant checks a Microsoft token's issuer: it must be the template
// with the token's own tenant, so a token of one tenant cannot pose as
// another's.
func (p *Provider) checkTenant(d *discovered, issuer string, c idClaims) error {
	if c.TenantID == "" || strings.ContainsAny(c.TenantID, "/?#{}") {
		return p.rejected(errors.New("the id token names no tenant"))
	}
	if want := strings.Replace(d.issuerTemplate, "{tenantid}", c.TenantID, 1); issuer != want {
		return p.rejected(fmt.Errorf("the id token's issuer %q is not its tenant's %q", issuer, want))
	}
	return nil
}
