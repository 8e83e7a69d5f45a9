// Package oidctest is an identity provider for tests and local trials,
// served over HTTP on this machine: OpenID Connect discovery, a JWKS of
// real RSA keys, an authorization endpoint (approving at once, or after a
// consent page), a token endpoint checking PKCE and issuing RS256-signed
// ID tokens, and GitHub's OAuth and REST endpoints. Tests turn its knobs to
// make the tokens a hostile or broken provider would: expired, for another
// audience or issuer, unsigned (alg none), signed by an unknown key, with a
// rotated key, or no answer at all.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Mode says which kind of provider the server plays.
type Mode int

// The modes.
const (
	// OIDC is a plain OpenID Connect issuer at the server's root.
	OIDC Mode = iota
	// Microsoft is Entra ID's multi-tenant endpoint: the issuer to
	// configure is URL/common/v2.0, the discovery document names
	// URL/{tenantid}/v2.0, and each token's issuer carries its tid.
	Microsoft
	// GitHub serves /login/oauth/authorize, /login/oauth/access_token,
	// /user and /user/emails.
	GitHub
)

// User is the person the provider signs in next.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// Extra are more ID token claims ("tid", "xms_edov", …).
	Extra map[string]any
	// GitHub: the numeric id, and the addresses /user/emails lists.
	GitHubID     int64
	GitHubEmails []GitHubEmail
}

// GitHubEmail is one address of GitHub's /user/emails.
type GitHubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// Provider is a running test provider. Its exported fields may be changed
// between requests with Set (or before the first one).
type Provider struct {
	Server       *httptest.Server
	Mode         Mode
	ClientID     string
	ClientSecret string

	mu sync.Mutex
	// User is who signs in next.
	User User
	// Mutate, when set, edits the ID token's claims before signing.
	Mutate func(claims map[string]any)
	// Unsigned makes ID tokens with alg "none" and no signature.
	Unsigned bool
	// Rogue signs ID tokens with a key the JWKS does not publish, under
	// the current key's id.
	Rogue bool
	// Down makes every endpoint answer 503.
	Down bool
	// Consent shows a page with an Allow button before redirecting.
	Consent bool

	keys   []*rsa.PrivateKey // keys[len-1] signs; all are published
	kids   []string
	rogue  *rsa.PrivateKey
	codes  map[string]grant
	tokens map[string]User
	// Requests counts requests per path.
	requests map[string]int
}

// grant is an authorization code's request.
type grant struct {
	nonce, challenge, redirect string
	user                       User
}

// New starts a provider in mode; Close it when done.
func New(mode Mode) *Provider {
	p := &Provider{Mode: mode, ClientID: "test-client", ClientSecret: "test-secret-0123456789",
		codes: map[string]grant{}, tokens: map[string]User{}, requests: map[string]int{}}
	p.User = User{Subject: "subject-1", Email: "ada@example.com", EmailVerified: true, Name: "Ada Lovelace",
		GitHubID: 4242, GitHubEmails: []GitHubEmail{{Email: "ada@example.com", Primary: true, Verified: true}}}
	p.rotateLocked()
	p.rogue, _ = rsa.GenerateKey(rand.Reader, 2048)
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

// Close stops the server.
func (p *Provider) Close() { p.Server.Close() }

// Set runs f on the provider under its lock.
func (p *Provider) Set(f func(p *Provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// Issuer is the issuer URL to configure (OIDC_<NAME>_ISSUER).
func (p *Provider) Issuer() string {
	switch p.Mode {
	case Microsoft:
		return p.Server.URL + "/common/v2.0"
	}
	return p.Server.URL
}

// TenantIssuer is a Microsoft tenant's issuer.
func (p *Provider) TenantIssuer(tid string) string { return p.Server.URL + "/" + tid + "/v2.0" }

// Env returns the OIDC_<NAME>_* variables that configure the provider.
func (p *Provider) Env(name string) map[string]string {
	n := "OIDC_" + strings.ToUpper(name) + "_"
	env := map[string]string{n + "ISSUER": p.Issuer(), n + "CLIENT_ID": p.ClientID, n + "CLIENT_SECRET": p.ClientSecret}
	switch p.Mode {
	case Microsoft:
		env[n+"KIND"] = "microsoft"
	case GitHub:
		env[n+"KIND"] = "github"
		env[n+"API_URL"] = p.Server.URL + "/api"
	}
	return env
}

// Rotate makes a new signing key; keep says whether the old ones stay in
// the JWKS.
func (p *Provider) Rotate(keep bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !keep {
		p.keys, p.kids = nil, nil
	}
	p.rotateLocked()
}

func (p *Provider) rotateLocked() {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	p.keys = append(p.keys, k)
	p.kids = append(p.kids, "key-"+strconv.Itoa(len(p.kids)+1)+"-"+randomString(4))
}

// Requests returns how many requests path got.
func (p *Provider) Requests(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[path]
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests[r.URL.Path]++
	down := p.Down
	p.mu.Unlock()
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	base := strings.TrimPrefix(p.Issuer(), p.Server.URL)
	switch path := r.URL.Path; {
	case p.Mode != GitHub && path == base+"/.well-known/openid-configuration":
		p.discovery(w)
	case p.Mode != GitHub && path == "/jwks":
		p.jwks(w)
	case path == "/authorize" || path == "/login/oauth/authorize":
		p.authorize(w, r)
	case path == "/token" || path == "/login/oauth/access_token":
		p.token(w, r)
	case p.Mode == GitHub && (path == "/api/user" || path == "/api/user/emails"):
		p.githubAPI(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (p *Provider) discovery(w http.ResponseWriter) {
	iss := p.Issuer()
	if p.Mode == Microsoft {
		iss = p.Server.URL + "/{tenantid}/v2.0"
	}
	writeJSON(w, map[string]any{
		"issuer": iss, "authorization_endpoint": p.Server.URL + "/authorize", "token_endpoint": p.Server.URL + "/token",
		"jwks_uri": p.Server.URL + "/jwks", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported": []string{"S256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var set jose.JSONWebKeySet
	for i, k := range p.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: p.kids[i], Algorithm: "RS256", Use: "sig"})
	}
	writeJSON(w, set)
}

// authorize checks the request as a provider would and answers with a
// code (after the consent page when Consent is on).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	q := r.Form
	redirect := q.Get("redirect_uri")
	switch {
	case q.Get("client_id") != p.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	case q.Get("state") == "" || !strings.HasPrefix(redirect, "http"):
		http.Error(w, "state and redirect_uri are required", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	consent := p.Consent
	p.mu.Unlock()
	if consent && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fields := ""
		for k, vs := range q {
			for _, v := range vs {
				fields += `<input type="hidden" name="` + html.EscapeString(k) + `" value="` + html.EscapeString(v) + `">`
			}
		}
		_, _ = fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Test provider</title><h1>Test provider</h1>
<p>%s wants to know who you are.</p><form method="post" action="%s">%s
<button type="submit" id="allow">Allow</button></form>`, html.EscapeString(q.Get("client_id")), html.EscapeString(r.URL.Path), fields)
		return
	}
	code := randomString(16)
	p.mu.Lock()
	p.codes[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: redirect, user: p.User}
	p.mu.Unlock()
	u, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// token trades a code for tokens, checking the client, the redirect URI
// and the PKCE verifier; a code works once.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case id != p.ClientID || secret != p.ClientSecret:
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	case !found || g.redirect != r.PostForm.Get("redirect_uri"):
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	access := randomString(24)
	p.tokens[access] = g.user
	resp := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3600}
	if p.Mode != GitHub {
		resp["id_token"] = p.idTokenLocked(g)
	}
	writeJSON(w, resp)
}

// idTokenLocked makes the ID token of a grant.
func (p *Provider) idTokenLocked(g grant) string {
	now := time.Now()
	iss := p.Issuer()
	if p.Mode == Microsoft {
		tid, _ := g.user.Extra["tid"].(string)
		iss = p.TenantIssuer(tid)
	}
	claims := map[string]any{"iss": iss, "sub": g.user.Subject, "aud": p.ClientID, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "name": g.user.Name}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if g.user.Email != "" {
		claims["email"] = g.user.Email
		if p.Mode != Microsoft {
			claims["email_verified"] = g.user.EmailVerified
		}
	}
	for k, v := range g.user.Extra {
		claims[k] = v
	}
	if p.Mutate != nil {
		p.Mutate(claims)
	}
	payload, _ := json.Marshal(claims)
	if p.Unsigned {
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	}
	key, kid := p.keys[len(p.keys)-1], p.kids[len(p.kids)-1]
	if p.Rogue {
		key = p.rogue
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// githubAPI serves GitHub's /user and /user/emails for a token it issued.
func (p *Provider) githubAPI(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	u, found := p.tokens[tok]
	p.mu.Unlock()
	if !ok || !found {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"message": "Bad credentials"})
		return
	}
	if r.URL.Path == "/api/user" {
		writeJSON(w, map[string]any{"id": u.GitHubID, "login": "octo" + strconv.FormatInt(u.GitHubID, 10), "name": u.Name})
		return
	}
	writeJSON(w, u.GitHubEmails)
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
