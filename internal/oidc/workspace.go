package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/outbound"
)

// WorkspaceCallbackPath is the path a workspace's own identity provider
// sends the browser back to: one for every workspace, apart from the
// configured providers' /auth/oidc/<name>/callback, the workspace being
// named by the request in flight.
const WorkspaceCallbackPath = "/auth/sso/callback"

// ProviderName is the provider name of a workspace's identity provider in
// linked identities and audit entries.
func ProviderName(workspaceID int64) string { return fmt.Sprintf("sso-%d", workspaceID) }

// NewWorkspaceProvider returns a workspace's own OpenID Connect provider
// (single sign-on), built for one sign-in: its discovery document is read
// when it is first used. label names it to people ("Acme's sign-in").
func NewWorkspaceProvider(conn *app.SSOConnection, label, appURL string, client *http.Client) *Provider {
	return &Provider{cfg: config.Provider{Name: ProviderName(conn.WorkspaceID), Kind: config.ProviderOIDC, Label: label,
		Issuer: conn.Issuer, ClientID: conn.ClientID, ClientSecret: conn.ClientSecret},
		client: client, redirectURL: appURL + WorkspaceCallbackPath}
}

// ErrNoEndpoints is the detail Discover reports for a discovery document
// that names no authorization or token endpoint (any other detail means
// the document could not be read), so a page can say it in its reader's
// language.
var ErrNoEndpoints = errors.New("endpoints missing")

// Discover reads issuer's discovery document through client and reports
// why it is not a usable OpenID Connect provider, in a sentence for the
// owner typing it (the detail is for the log).
func Discover(ctx context.Context, client *http.Client, issuer string) (msg string, detail error) {
	ctx = gooidc.ClientContext(ctx, client)
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := gooidc.NewProvider(tctx, issuer)
	if err != nil {
		return "We couldn’t read this issuer’s OpenID Connect discovery document (" + issuer +
			"/.well-known/openid-configuration). Check the URL: it is the issuer your provider shows, without a trailing path.", outbound.Redact(err)
	}
	if p.Endpoint().AuthURL == "" || p.Endpoint().TokenURL == "" {
		return "This issuer’s discovery document names no authorization or token endpoint.", fmt.Errorf("discovery of %s: %w", issuer, ErrNoEndpoints)
	}
	return "", nil
}
