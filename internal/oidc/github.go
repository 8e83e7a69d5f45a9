package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"atrium/internal/app"
)

// GitHub is not an OpenID Connect provider for people: its OAuth app
// gives an access token, and its REST API says who the token is for
// (GET /user) and which addresses they have (GET /user/emails). The
// identity is the user's numeric id, which never changes (their login
// does); the address is their primary one, and only when GitHub verified
// it.

// github returns the OAuth 2 settings of a GitHub provider.
func (p *Provider) github() *oauth2.Config {
	base := strings.TrimRight(p.cfg.Issuer, "/")
	return p.oauth(oauth2.Endpoint{AuthURL: base + "/login/oauth/authorize", TokenURL: base + "/login/oauth/access_token",
		AuthStyle: oauth2.AuthStyleInParams}, []string{"read:user", "user:email"})
}

// githubUser is the part of GET /user read.
type githubUser struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
}

// githubEmail is one address of GET /user/emails.
type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// exchangeGitHub trades the code for an access token and reads the user
// and their verified primary address.
func (p *Provider) exchangeGitHub(ctx context.Context, code string, req Request) (*app.ExternalIdentity, error) {
	tok, err := p.github().Exchange(p.ctx(ctx), code, oauth2.VerifierOption(req.Verifier))
	if err != nil {
		return nil, p.tokenError(err)
	}
	var u githubUser
	if err := p.githubGet(ctx, tok, "/user", &u); err != nil {
		return nil, err
	}
	if u.ID <= 0 {
		return nil, p.rejected(errors.New("GitHub's /user names no user id"))
	}
	var emails []githubEmail
	if err := p.githubGet(ctx, tok, "/user/emails", &emails); err != nil {
		return nil, err
	}
	id := &app.ExternalIdentity{Provider: p.cfg.Name, Issuer: p.cfg.Issuer, Subject: strconv.FormatInt(u.ID, 10), Name: u.Name}
	for _, e := range emails {
		if !e.Primary {
			continue
		}
		if email, err := app.NormalizeEmail(e.Email); err == nil {
			id.Email, id.EmailVerified = email, e.Verified
		}
	}
	return id, nil
}

// githubGet reads one GitHub API resource as JSON into out.
func (p *Provider) githubGet(ctx context.Context, tok *oauth2.Token, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(p.cfg.APIURL, "/")+path, nil)
	if err != nil {
		return p.unavailable(err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	tok.SetAuthHeader(req)
	resp, err := p.client.Do(req)
	if err != nil {
		return p.unavailable(fmt.Errorf("GitHub %s: %w", path, err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return p.unavailable(fmt.Errorf("GitHub %s answered %s", path, resp.Status))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return p.unavailable(fmt.Errorf("GitHub %s: %w", path, err))
	}
	return nil
}
