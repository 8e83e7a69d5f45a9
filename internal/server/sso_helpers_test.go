package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"atrium/internal/app"
	"atrium/internal/dnstest"
	"atrium/internal/store"
)

// startIdP starts an OpenID Connect provider of the test's own (the
// provider scripts/devidp runs), with S256 PKCE.
func startIdP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	m.CodeChallengeMethodsSupported = []string{"S256"}
	return m
}

// makePro puts the workspace on the Pro plan.
func makePro(t *testing.T, a *testApp, slug string) {
	t.Helper()
	a.exec(t, "UPDATE workspaces SET plan = 'pro', subscription_status = 'active' WHERE slug = ?", slug)
}

// ssoSetUp connects the workspace to the provider and verifies domain
// through the DNS server, as its owner would on the settings page.
func ssoSetUp(t *testing.T, owner *browser, slug string, idp *mockoidc.MockOIDC, dnsSrv *dnstest.Server, domain string) {
	t.Helper()
	cfg := idp.Config()
	page := owner.Get("/w/" + slug + "/settings/sso")
	res := owner.Submit(page, "sso-connection-form", url.Values{"issuer": {cfg.Issuer}, "client_id": {cfg.ClientID}, "client_secret": {cfg.ClientSecret}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("connect: status %d\n%s", res.StatusCode, res.Body)
	}
	page = owner.Get("/w/" + slug + "/settings/sso")
	res = owner.Submit(page, "sso-domain-form", url.Values{"domain": {domain}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add domain: status %d\n%s", res.StatusCode, res.Body)
	}
	page = owner.Get("/w/" + slug + "/settings/sso")
	row := page.Doc.Find(`[data-testid="sso-domain"][data-domain="` + domain + `"]`)
	name, _ := row.Find(`[data-testid="sso-record-name"]`).Attr("value")
	value, _ := row.Find(`[data-testid="sso-record-value"]`).Attr("value")
	dnsSrv.SetTXT(name, value)
	action, _ := row.Find(`form:has([data-testid="sso-domain-verify"])`).Attr("action")
	res = owner.Post(action, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("verify: status %d\n%s", res.StatusCode, res.Body)
	}
}

// amrUser is a provider's person whose ID token says how they signed in
// ("amr"), which mockoidc's own users do not.
type amrUser struct {
	*mockoidc.MockUser
	AMR []string
}

// amrClaims are an ID token's claims with "amr".
type amrClaims struct {
	*mockoidc.IDTokenClaims
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified,omitempty"`
	AMR           []string `json:"amr,omitempty"`
}

func (u *amrUser) Claims(_ []string, claims *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &amrClaims{IDTokenClaims: claims, Email: u.Email, EmailVerified: u.EmailVerified, AMR: u.AMR}, nil
}

// ssoSignIn signs in email through the sign-in page: the email step hands
// over to the workspace's provider, which signs in user; it returns the
// callback's answer.
func ssoSignIn(t *testing.T, a *testApp, b *browser, idp *mockoidc.MockOIDC, email string, user mockoidc.User) *response {
	t.Helper()
	res := b.Post("/login", url.Values{"email": {email}})
	if res.StatusCode != http.StatusOK || !res.Has("sso-handoff") {
		t.Fatalf("POST /login %s: status %d, want the hand-over to the workspace's provider\n%s", email, res.StatusCode, res.Body)
	}
	dest, _ := res.Doc.Find(`[data-testid="sso-continue"]`).Attr("href")
	u, _ := url.Parse(dest)
	if q := u.Query(); q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" ||
		q.Get("redirect_uri") != a.URL+"/auth/sso/callback" || q.Get("login_hint") != email {
		t.Fatalf("authorization request %s: want S256 PKCE, a nonce, a state, the login hint and /auth/sso/callback", dest)
	}
	idp.QueueUser(user)
	at := b.Get(dest)
	if at.StatusCode != http.StatusFound {
		t.Fatalf("provider: status %d\n%s", at.StatusCode, at.Body)
	}
	return b.Get(at.Location())
}

// countWorkspaceAudit counts a workspace's audit entries of action.
func countWorkspaceAudit(t *testing.T, a *testApp, wsID int64, action string) int {
	t.Helper()
	es, err := store.NewOperatorAuditService(a.DB).FindAuditEntries(context.Background(),
		app.AuditFilter{Scope: app.Scope{WorkspaceID: wsID}, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}
