package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"atrium/internal/config"
	"atrium/internal/mail/mailtest"
	"atrium/internal/oidc/oidctest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// withProviders configures the identity providers of envs (OIDC_* maps).
func withProviders(envs ...map[string]string) appOption {
	return func(env config.Env) {
		for _, e := range envs {
			for k, v := range e {
				env[k] = v
			}
		}
	}
}

// providerStart presses "Sign in with …" on the sign-in page and returns
// the redirect to the provider.
func providerStart(t *testing.T, b *browser, name string) *response {
	t.Helper()
	login := b.Get("/login")
	if !login.Has("provider-" + name) {
		t.Fatalf("the sign-in page has no %s button:\n%s", name, login.Body)
	}
	return b.Submit(login, "provider-form-"+name, nil)
}

// atProvider follows the start's redirect to the provider and returns the
// provider's redirect back: the callback URL.
func atProvider(t *testing.T, b *browser, start *response) string {
	t.Helper()
	if start.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: status %d, want 303\n%s", start.StatusCode, start.Body)
	}
	at := b.Get(start.Location())
	if at.StatusCode != http.StatusFound {
		t.Fatalf("provider: status %d, want 302\n%s", at.StatusCode, at.Body)
	}
	return at.Location()
}

// providerSignIn runs the whole journey and returns the callback's answer.
func providerSignIn(t *testing.T, b *browser, name string) *response {
	t.Helper()
	return b.Get(atProvider(t, b, providerStart(t, b, name)))
}

// signedIn reports whether the browser has a session.
func signedIn(b *browser) bool {
	return b.Get("/settings/account").StatusCode == http.StatusOK
}

// countRows counts a table's rows.
func (a *testApp) countRows(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := a.DB.SQL().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// userID returns the id of the user with email, 0 when none.
func (a *testApp) userID(t *testing.T, email string) int64 {
	t.Helper()
	var id int64
	q := "SELECT id FROM users WHERE email = $1"
	if a.DB.Dialect() == store.SQLite {
		q = "SELECT id FROM users WHERE email = ?"
	}
	_ = a.DB.SQL().QueryRowContext(context.Background(), q, email).Scan(&id)
	return id
}

// wantProblem checks a callback answered the problem page with status and
// a message containing msg.
func wantProblem(t *testing.T, res *response, status int, msg string) {
	t.Helper()
	if res.StatusCode != status || !res.Has("oidc-problem") || !strings.Contains(res.Text("oidc-problem-message"), msg) {
		t.Fatalf("status %d, want %d with a problem page saying %q:\n%s", res.StatusCode, status, msg, res.Body)
	}
}

// TestOIDC_MockOIDC signs in through mockoidc, an OpenID Provider of its
// own: a new account from a verified email, then the same identity again.
func TestOIDC_MockOIDC(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	m.CodeChallengeMethodsSupported = []string{"S256"}
	mc := m.Config()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("OIDC_MOCK_ISSUER", mc.Issuer, "OIDC_MOCK_CLIENT_ID", mc.ClientID,
				"OIDC_MOCK_CLIENT_SECRET", mc.ClientSecret, "OIDC_MOCK_LABEL", "Mock IdP"))
			email := dialect + "-grace@example.com"
			m.QueueUser(&mockoidc.MockUser{Subject: "grace-" + dialect, Email: email, EmailVerified: true})
			b := a.newBrowser(t)
			start := providerStart(t, b, "mock")
			u, _ := url.Parse(start.Location())
			if q := u.Query(); q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" ||
				q.Get("redirect_uri") != a.URL+"/auth/oidc/mock/callback" {
				t.Fatalf("authorization request %s: want S256 PKCE, a nonce, a state and the exact redirect URI", start.Location())
			}
			res := b.Get(atProvider(t, b, start))
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/welcome") {
				t.Fatalf("callback: %d %q, want the new user's name step\n%s", res.StatusCode, res.Location(), res.Body)
			}
			if !signedIn(b) {
				t.Fatal("not signed in after the callback")
			}
			id := a.userID(t, email)
			if id == 0 {
				t.Fatal("no account was created for the verified email")
			}
			acts := a.auditActions(t, id)
			if !contains(acts, "identity.linked") || !contains(acts, "auth.signed_in") || !contains(acts, "user.created") {
				t.Fatalf("audit %v: want user.created, identity.linked and auth.signed_in", acts)
			}
			msg := a.SMTP.WaitForMessage(t, email, 5*time.Second)
			if !strings.Contains(msg.Subject, "Sign-in accounts changed") || !strings.Contains(msg.Text, "was linked") {
				t.Fatalf("notice: %q\n%s", msg.Subject, msg.Text)
			}
			acc := b.Get("/settings/account")
			if got := acc.Text("identity-name"); !strings.Contains(got, "Mock IdP") || !strings.Contains(got, email) {
				t.Fatalf("account page lists %q, want the Mock IdP identity", got)
			}

			// The same identity signs in again, to the same account.
			b2 := a.newBrowser(t)
			m.QueueUser(&mockoidc.MockUser{Subject: "grace-" + dialect, Email: email, EmailVerified: true})
			res = providerSignIn(t, b2, "mock")
			if res.StatusCode != http.StatusSeeOther || res.Location() != "/app" || !signedIn(b2) {
				t.Fatalf("second sign-in: %d %q\n%s", res.StatusCode, res.Location(), res.Body)
			}
			if n := a.countRows(t, "users"); n != 1 {
				t.Fatalf("%d users, want 1", n)
			}
		})
	}
}

// TestOIDC_GitHub signs in through GitHub's OAuth and REST endpoints: only
// a verified primary address signs in.
func TestOIDC_GitHub(t *testing.T) {
	gh := oidctest.New(oidctest.GitHub)
	t.Cleanup(gh.Close)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withProviders(gh.Env("github")))
			gh.Set(func(p *oidctest.Provider) {
				p.User = oidctest.User{GitHubID: 77, Name: "Octo Cat", GitHubEmails: []oidctest.GitHubEmail{
					{Email: "other@example.com", Primary: false, Verified: true},
					{Email: "octo@example.com", Primary: true, Verified: true}}}
			})
			b := a.newBrowser(t)
			res := providerSignIn(t, b, "github")
			if res.StatusCode != http.StatusSeeOther || !signedIn(b) || a.userID(t, "octo@example.com") == 0 {
				t.Fatalf("GitHub sign-in: %d %q\n%s", res.StatusCode, res.Location(), res.Body)
			}
			if a.userID(t, "other@example.com") != 0 {
				t.Fatal("a non-primary address made an account")
			}

			t.Run("UnverifiedPrimary", func(t *testing.T) {
				gh.Set(func(p *oidctest.Provider) {
					p.User = oidctest.User{GitHubID: 78, GitHubEmails: []oidctest.GitHubEmail{
						{Email: "octo@example.com", Primary: true, Verified: false}}}
				})
				b := a.newBrowser(t)
				res := providerSignIn(t, b, "github")
				wantProblem(t, res, http.StatusForbidden, "did not confirm")
				if !res.Has("oidc-unverified") || signedIn(b) {
					t.Fatalf("an unverified primary address signed in:\n%s", res.Body)
				}
				if n := a.countRows(t, "user_identities"); n != 1 {
					t.Fatalf("%d identities, want 1: the unverified one was linked", n)
				}
			})
		})
	}
}

// TestOIDC_Microsoft signs in through Entra ID's multi-tenant endpoint and
// refuses the "nOAuth" takeover: an email claim without xms_edov.
func TestOIDC_Microsoft(t *testing.T) {
	ms := oidctest.New(oidctest.Microsoft)
	t.Cleanup(ms.Close)
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withProviders(ms.Env("microsoft")))
			victim := a.newBrowser(t)
			victim.signIn("victim@contoso.com")
			victimID := a.userID(t, "victim@contoso.com")

			t.Run("NOAuthUnverifiedDomain", func(t *testing.T) {
				// An attacker's own tenant sets any address as a user's
				// email; without xms_edov it must not reach the victim.
				ms.Set(func(p *oidctest.Provider) {
					p.User = oidctest.User{Subject: "attacker", Email: "victim@contoso.com",
						Extra: map[string]any{"tid": "00000000-0000-0000-0000-0000000a77ac", "xms_edov": false}}
				})
				b := a.newBrowser(t)
				res := providerSignIn(t, b, "microsoft")
				wantProblem(t, res, http.StatusForbidden, "did not confirm")
				if signedIn(b) || a.countRows(t, "user_identities") != 0 {
					t.Fatal("an unverified Microsoft email claim took over the account")
				}
				// Without the claim at all, the same.
				ms.Set(func(p *oidctest.Provider) { delete(p.User.Extra, "xms_edov") })
				wantProblem(t, providerSignIn(t, a.newBrowser(t), "microsoft"), http.StatusForbidden, "did not confirm")
			})
			t.Run("IssuerOfAnotherTenant", func(t *testing.T) {
				ms.Set(func(p *oidctest.Provider) {
					p.User = oidctest.User{Subject: "ms-1", Email: "victim@contoso.com",
						Extra: map[string]any{"tid": tenant, "xms_edov": true}}
					p.Mutate = func(c map[string]any) { c["iss"] = ms.TenantIssuer("11111111-1111-1111-1111-111111111111") }
				})
				t.Cleanup(func() { ms.Set(func(p *oidctest.Provider) { p.Mutate = nil }) })
				res := providerSignIn(t, a.newBrowser(t), "microsoft")
				wantProblem(t, res, http.StatusUnauthorized, "couldn’t verify")
			})
			t.Run("VerifiedDomain", func(t *testing.T) {
				ms.Set(func(p *oidctest.Provider) {
					p.Mutate = nil
					p.User = oidctest.User{Subject: "ms-1", Email: "Victim@Contoso.com",
						Extra: map[string]any{"tid": tenant, "xms_edov": true}}
				})
				b := a.newBrowser(t)
				res := providerSignIn(t, b, "microsoft")
				if res.StatusCode != http.StatusSeeOther || !signedIn(b) {
					t.Fatalf("verified Microsoft sign-in: %d\n%s", res.StatusCode, res.Body)
				}
				var iss string
				if err := a.DB.SQL().QueryRow("SELECT issuer FROM user_identities").Scan(&iss); err != nil || iss != ms.TenantIssuer(tenant) {
					t.Fatalf("identity issuer %q (%v), want the tenant's", iss, err)
				}
				if got := a.auditActions(t, victimID); !contains(got, "identity.linked") {
					t.Fatalf("audit %v: the link to the existing account is not recorded", got)
				}
			})
		})
	}
}

// TestOIDC_Attacks plays a hostile network, browser or provider against
// the callback, on both databases.
func TestOIDC_Attacks(t *testing.T) {
	p := oidctest.New(oidctest.OIDC)
	t.Cleanup(p.Close)
	reset := func() {
		p.Set(func(p *oidctest.Provider) {
			p.User = oidctest.User{Subject: "subject-1", Email: "ada@example.com", EmailVerified: true, Name: "Ada"}
			p.Mutate, p.Unsigned, p.Rogue, p.Down = nil, false, false, false
		})
	}
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withProviders(p.Env("acme")))
			reset()

			t.Run("StateReplay", func(t *testing.T) {
				b := a.newBrowser(t)
				start := providerStart(t, b, "acme")
				callback := atProvider(t, b, start)
				if res := b.Get(callback); res.StatusCode != http.StatusSeeOther || !signedIn(b) {
					t.Fatalf("first use: %d\n%s", res.StatusCode, res.Body)
				}
				// The same callback again (a replayed URL, or the back
				// button) finds its request used up.
				b2 := a.newBrowser(t)
				wantProblem(t, b2.Get(callback), http.StatusBadRequest, "expired or was already used")
				wantProblem(t, b.Get(callback), http.StatusBadRequest, "expired or was already used")
			})
			t.Run("StateMismatch", func(t *testing.T) {
				// Login CSRF: the attacker starts a sign-in as themselves and
				// sends the victim the callback URL. The victim's browser has
				// no such state cookie.
				attacker := a.newBrowser(t)
				callback := atProvider(t, attacker, providerStart(t, attacker, "acme"))
				victim := a.newBrowser(t)
				wantProblem(t, victim.Get(callback), http.StatusBadRequest, "not started in this browser")
				if signedIn(victim) {
					t.Fatal("the victim was signed in as the attacker")
				}
				// A state the server never issued, and none at all.
				u, _ := url.Parse(callback)
				q := u.Query()
				q.Set("state", strings.Repeat("A", 43))
				u.RawQuery = q.Encode()
				wantProblem(t, victim.Get(u.String()), http.StatusBadRequest, "expired")
				wantProblem(t, victim.Get("/auth/oidc/acme/callback?code=x"), http.StatusBadRequest, "expired")
			})
			t.Run("ProviderSwap", func(t *testing.T) {
				b := a.newBrowser(t)
				callback := atProvider(t, b, providerStart(t, b, "acme"))
				swapped := strings.Replace(callback, "/auth/oidc/acme/", "/auth/oidc/other/", 1)
				wantProblem(t, b.Get(swapped), http.StatusBadRequest, "expired")
			})
			for _, tc := range []struct {
				name   string
				set    func(p *oidctest.Provider)
				status int
			}{
				{"NonceMismatch", func(p *oidctest.Provider) { p.Mutate = func(c map[string]any) { c["nonce"] = "someone-elses" } }, http.StatusUnauthorized},
				{"NoNonce", func(p *oidctest.Provider) { p.Mutate = func(c map[string]any) { delete(c, "nonce") } }, http.StatusUnauthorized},
				{"Expired", func(p *oidctest.Provider) {
					p.Mutate = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
				}, http.StatusUnauthorized},
				{"WrongAudience", func(p *oidctest.Provider) { p.Mutate = func(c map[string]any) { c["aud"] = "another-client" } }, http.StatusUnauthorized},
				{"WrongIssuer", func(p *oidctest.Provider) {
					p.Mutate = func(c map[string]any) { c["iss"] = "https://evil.example.com" }
				}, http.StatusUnauthorized},
				{"AlgNone", func(p *oidctest.Provider) { p.Unsigned = true }, http.StatusUnauthorized},
				{"UnknownKey", func(p *oidctest.Provider) { p.Rogue = true }, http.StatusUnauthorized},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p.Set(func(p *oidctest.Provider) {
						p.User = oidctest.User{Subject: "mallory-" + tc.name, Email: "mallory-" + strings.ToLower(tc.name) + "@example.com", EmailVerified: true}
					})
					p.Set(tc.set)
					t.Cleanup(reset)
					users := a.countRows(t, "users")
					b := a.newBrowser(t)
					wantProblem(t, providerSignIn(t, b, "acme"), tc.status, "couldn’t verify")
					if signedIn(b) || a.countRows(t, "users") != users {
						t.Fatal("a refused token signed in or made an account")
					}
				})
			}
			t.Run("UnverifiedEmailCannotTakeOver", func(t *testing.T) {
				owner := a.newBrowser(t)
				owner.signIn("owner@example.com")
				ownerID := a.userID(t, "owner@example.com")
				p.Set(func(p *oidctest.Provider) {
					p.User = oidctest.User{Subject: "impostor", Email: "owner@example.com", EmailVerified: false}
				})
				t.Cleanup(reset)
				b := a.newBrowser(t)
				res := providerSignIn(t, b, "acme")
				wantProblem(t, res, http.StatusForbidden, "did not confirm")
				if href, _ := res.Doc.Find(`[data-testid="oidc-problem-login"]`).Attr("href"); href != "/login?email=owner%40example.com" {
					t.Fatalf("the page offers %q, want a sign-in link to the address", href)
				}
				if signedIn(b) || contains(a.auditActions(t, ownerID), "identity.linked") {
					t.Fatal("an unverified email took over the account")
				}
			})
			t.Run("SameEmailFromAnotherIssuer", func(t *testing.T) {
				// Another provider vouches for an address that already has
				// an account linked to the first: the same person, the same
				// account, a second identity, and no second account.
				other := oidctest.New(oidctest.OIDC)
				t.Cleanup(other.Close)
				a2 := newTestApp(t, dialect, withProviders(p.Env("acme"), other.Env("other")))
				reset()
				if res := providerSignIn(t, a2.newBrowser(t), "acme"); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("first provider: %d\n%s", res.StatusCode, res.Body)
				}
				other.Set(func(o *oidctest.Provider) {
					o.User = oidctest.User{Subject: "subject-1", Email: "ada@example.com", EmailVerified: true}
				})
				b := a2.newBrowser(t)
				if res := providerSignIn(t, b, "other"); res.StatusCode != http.StatusSeeOther || !signedIn(b) {
					t.Fatalf("second provider: %d\n%s", res.StatusCode, res.Body)
				}
				if u, i := a2.countRows(t, "users"), a2.countRows(t, "user_identities"); u != 1 || i != 2 {
					t.Fatalf("%d users and %d identities, want 1 and 2 (the same subject at two issuers is two identities)", u, i)
				}
				// The same subject from the second issuer, with an
				// unverified address of someone else, still signs in as
				// its own linked account: identities match by (issuer,
				// subject), never by email.
				other.Set(func(o *oidctest.Provider) { o.User.Email, o.User.EmailVerified = "eve@example.com", false })
				b = a2.newBrowser(t)
				if res := providerSignIn(t, b, "other"); res.StatusCode != http.StatusSeeOther || a2.userID(t, "eve@example.com") != 0 {
					t.Fatalf("linked identity with a new address: %d\n%s", res.StatusCode, res.Body)
				}
			})
			t.Run("KeyRotation", func(t *testing.T) {
				reset()
				if res := providerSignIn(t, a.newBrowser(t), "acme"); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("before rotation: %d\n%s", res.StatusCode, res.Body)
				}
				fetched := p.Requests("/jwks")
				p.Rotate(false)
				t.Cleanup(reset)
				b := a.newBrowser(t)
				if res := providerSignIn(t, b, "acme"); res.StatusCode != http.StatusSeeOther || !signedIn(b) {
					t.Fatalf("after rotation: %d\n%s", res.StatusCode, res.Body)
				}
				if p.Requests("/jwks") <= fetched {
					t.Fatal("the new key was accepted without fetching the JWKS again")
				}
			})
			t.Run("ProviderDown", func(t *testing.T) {
				// Down at the token step: a clear page, nothing created.
				p.Set(func(p *oidctest.Provider) {
					p.User = oidctest.User{Subject: "late", Email: "late@example.com", EmailVerified: true}
				})
				t.Cleanup(reset)
				b := a.newBrowser(t)
				callback := atProvider(t, b, providerStart(t, b, "acme"))
				p.Set(func(p *oidctest.Provider) { p.Down = true })
				users, ids := a.countRows(t, "users"), a.countRows(t, "user_identities")
				wantProblem(t, b.Get(callback), http.StatusServiceUnavailable, "not answering")
				if a.countRows(t, "users") != users || a.countRows(t, "user_identities") != ids || signedIn(b) {
					t.Fatal("a failed sign-in left an account or identity behind")
				}
				// Down before discovery: a new app has not read it yet.
				a3 := newTestApp(t, dialect, withProviders(p.Env("acme")))
				b3 := a3.newBrowser(t)
				res := b3.Submit(b3.Get("/login"), "provider-form-acme", nil)
				wantProblem(t, res, http.StatusServiceUnavailable, "not answering")
				if n := a3.countRows(t, "auth_challenges"); n != 0 {
					t.Fatalf("%d requests in flight stored for a provider that is down", n)
				}
			})
			t.Run("CSRF", func(t *testing.T) {
				reset()
				// The start is a state-changing POST: a foreign page cannot
				// send a browser to the provider.
				b := a.newBrowser(t)
				b.Origin = "https://evil.example.com"
				if res := b.Post("/auth/oidc/acme/start", nil); res.StatusCode != http.StatusForbidden {
					t.Fatalf("cross-site start: %d, want 403", res.StatusCode)
				}
				// GET does not start one.
				if res := b.Get("/auth/oidc/acme/start"); res.StatusCode != http.StatusMethodNotAllowed {
					t.Fatalf("GET start: %d, want 405", res.StatusCode)
				}
				// An unknown provider is not found.
				b.Origin = a.URL
				if res := b.Post("/auth/oidc/nope/start", nil); res.StatusCode != http.StatusNotFound {
					t.Fatalf("unknown provider: %d, want 404", res.StatusCode)
				}
			})
			t.Run("Cancelled", func(t *testing.T) {
				b := a.newBrowser(t)
				start := providerStart(t, b, "acme")
				u, _ := url.Parse(start.Location())
				res := b.Get("/auth/oidc/acme/callback?error=access_denied&state=" + url.QueryEscape(u.Query().Get("state")))
				wantProblem(t, res, http.StatusForbidden, "cancelled")
			})
		})
	}
}

// TestOIDC_TwoFactor: a user with a second factor gives it after the
// provider, as after a magic link.
func TestOIDC_TwoFactor(t *testing.T) {
	p := oidctest.New(oidctest.OIDC)
	t.Cleanup(p.Close)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withProviders(p.Env("acme")))
			b := a.newBrowser(t)
			b.signIn("ada@example.com")
			secret, _ := turnOnTOTP(t, a, b)
			b.Post("/logout", nil)
			p.Set(func(p *oidctest.Provider) {
				p.User = oidctest.User{Subject: "ada-2fa", Email: "ada@example.com", EmailVerified: true}
			})
			res := providerSignIn(t, b, "acme")
			if res.StatusCode != http.StatusSeeOther || res.Location() != "/login/two-factor" {
				t.Fatalf("callback: %d %q, want the second-factor step", res.StatusCode, res.Location())
			}
			if signedIn(b) {
				t.Fatal("signed in before the second factor")
			}
			done := b.Submit(b.Get("/login/two-factor"), "second-factor-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}})
			if done.StatusCode != http.StatusSeeOther || !signedIn(b) {
				t.Fatalf("second factor: %d\n%s", done.StatusCode, done.Body)
			}
		})
	}
}

// TestOIDC_LinkAndUnlink links accounts from the account page and unlinks
// them, with the abuse cases around it.
func TestOIDC_LinkAndUnlink(t *testing.T) {
	p := oidctest.New(oidctest.OIDC)
	t.Cleanup(p.Close)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withProviders(p.Env("acme")))
			b := a.newBrowser(t)
			b.signIn("ada@example.com")
			adaID := a.userID(t, "ada@example.com")
			// The provider's address need not be the account's, nor
			// verified: the person is signed in here and at the provider.
			p.Set(func(p *oidctest.Provider) {
				p.User = oidctest.User{Subject: "ada-work", Email: "ada@corp.example", EmailVerified: false}
			})
			acc := b.Get("/settings/account")
			if !acc.Has("identities-empty") || !acc.Has("identity-link-acme") {
				t.Fatalf("account page: want an empty list and a Link button\n%s", acc.Body)
			}
			start := b.Submit(acc, "identity-link-acme", nil)
			res := b.Get(atProvider(t, b, start))
			if res.StatusCode != http.StatusSeeOther || res.Location() != "/settings/account#identities" {
				t.Fatalf("link callback: %d %q\n%s", res.StatusCode, res.Location(), res.Body)
			}
			acc = b.Follow(res)
			if got := acc.Text("identity-name"); got != "Acme (ada@corp.example)" {
				t.Fatalf("linked identity %q", got)
			}
			if !contains(a.auditActions(t, adaID), "identity.linked") {
				t.Fatal("the link is not audited")
			}
			a.SMTP.WaitForMessageMatching(t, "ada@example.com", 5*time.Second, func(m *mailtest.Message) bool {
				return strings.Contains(m.Text, "was linked")
			})

			// The linked identity signs in to Ada's account.
			b2 := a.newBrowser(t)
			if res := providerSignIn(t, b2, "acme"); res.StatusCode != http.StatusSeeOther || !signedIn(b2) {
				t.Fatalf("sign-in with the linked identity: %d\n%s", res.StatusCode, res.Body)
			}

			t.Run("TakenByAnother", func(t *testing.T) {
				eve := a.newBrowser(t)
				eve.signIn("eve@example.com")
				res := eve.Get(atProvider(t, eve, eve.Submit(eve.Get("/settings/account"), "identity-link-acme", nil)))
				page := eve.Follow(res)
				if !strings.Contains(page.Body, "already linked to another user") || a.countRows(t, "user_identities") != 1 {
					t.Fatalf("linking Ada's identity to Eve: %d\n%s", res.StatusCode, page.Body)
				}
			})
			t.Run("StaleSession", func(t *testing.T) {
				a.Clock.Add(11 * time.Minute)
				t.Cleanup(func() { a.Clock.Add(-11 * time.Minute) })
				res := b.Post("/settings/account/identities/acme/link", nil)
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/settings/account/confirm") {
					t.Fatalf("link without a recent sign-in: %d %q, want confirm-it's-you", res.StatusCode, res.Location())
				}
			})
			t.Run("SignedOutBeforeCallback", func(t *testing.T) {
				c := a.newBrowser(t)
				c.signIn("carol@example.com")
				start := c.Submit(c.Get("/settings/account"), "identity-link-acme", nil)
				callback := atProvider(t, c, start)
				c.Post("/logout", nil)
				wantProblem(t, c.Get(callback), http.StatusBadRequest, "no longer signed in")
			})
			t.Run("Unlink", func(t *testing.T) {
				acc := b.Get("/settings/account")
				form := acc.Doc.Find(`form[data-testid="identity-unlink-form"]`)
				action, _ := form.Attr("action")
				// Another user's identity id is not found.
				eve := a.newBrowser(t)
				eve.signIn("eve2@example.com")
				if res := eve.Post(action, url.Values{"confirm": {"yes"}}); res.StatusCode != http.StatusNotFound {
					t.Fatalf("unlink another user's identity: %d, want 404", res.StatusCode)
				}
				// Unconfirmed: the confirmation, naming the consequence.
				conf := b.Post(action, nil)
				if conf.StatusCode != http.StatusOK || !strings.Contains(conf.Body, "no longer sign you in") {
					t.Fatalf("unconfirmed unlink: %d\n%s", conf.StatusCode, conf.Body)
				}
				if a.countRows(t, "user_identities") != 1 {
					t.Fatal("unlinked without confirmation")
				}
				res := b.Post(action, url.Values{"confirm": {"yes"}})
				if res.StatusCode != http.StatusSeeOther || a.countRows(t, "user_identities") != 0 {
					t.Fatalf("confirmed unlink: %d", res.StatusCode)
				}
				if again := b.Post(action, url.Values{"confirm": {"yes"}}); again.StatusCode != http.StatusNotFound {
					t.Fatalf("unlink twice: %d, want 404", again.StatusCode)
				}
				if !contains(a.auditActions(t, adaID), "identity.unlinked") {
					t.Fatal("the unlink is not audited")
				}
				a.SMTP.WaitForMessageMatching(t, "ada@example.com", 5*time.Second, func(m *mailtest.Message) bool {
					return strings.Contains(m.Text, "was unlinked")
				})
				// The unlinked identity, with an unverified address, no
				// longer signs in.
				wantProblem(t, providerSignIn(t, a.newBrowser(t), "acme"), http.StatusForbidden, "did not confirm")
			})
		})
	}
}

// TestOIDC_Input sends the callback what no provider sends, and checks
// the page that posts to the provider may do so under its CSP.
func TestOIDC_Input(t *testing.T) {
	p := oidctest.New(oidctest.OIDC)
	t.Cleanup(p.Close)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withProviders(p.Env("acme")), withEnv("RATE_LIMIT_MAX", "10"))
			b := a.newBrowser(t)
			if csp := b.Get("/login").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+p.Server.URL) {
				t.Fatalf("CSP %q: the provider's origin is not a form-action", csp)
			}
			for _, q := range []string{
				"state=%ff%fe&code=x",
				"state=" + strings.Repeat("a", 5000),
				"state=%00&code=%00",
				"error=%ff%fe%3Cscript%3E&state=" + strings.Repeat("B", 43),
			} {
				res := b.Get("/auth/oidc/acme/callback?" + q)
				if res.StatusCode != http.StatusBadRequest || strings.Contains(res.Body, "<script>") {
					t.Fatalf("callback?%.40s: %d, want 400\n%s", q, res.StatusCode, res.Body)
				}
			}
			// A real state with an invalid UTF-8 code and an error code
			// full of markup: refused, the markup shown as text.
			start := providerStart(t, b, "acme")
			u, _ := url.Parse(start.Location())
			state := url.QueryEscape(u.Query().Get("state"))
			res := b.Get("/auth/oidc/acme/callback?state=" + state + "&error=%3Cb%3Ebad%ff")
			wantProblem(t, res, http.StatusUnauthorized, "did not sign you in")
			if strings.Contains(res.Body, "<b>bad") {
				t.Fatal("the provider's error code reached the page as markup")
			}
			start = providerStart(t, b, "acme")
			u, _ = url.Parse(start.Location())
			res = b.Get("/auth/oidc/acme/callback?state=" + url.QueryEscape(u.Query().Get("state")) + "&code=%ff%fe")
			wantProblem(t, res, http.StatusUnauthorized, "couldn’t verify")

			// A flood of starts meets the rate limit before it fills the
			// table of requests in flight.
			limited := false
			for range 20 {
				if res := b.Post("/auth/oidc/acme/start", nil); res.StatusCode == http.StatusTooManyRequests {
					limited = true
					break
				}
			}
			if !limited || a.countRows(t, "auth_challenges") > 10 {
				t.Fatalf("20 starts: limited=%v, %d requests in flight stored", limited, a.countRows(t, "auth_challenges"))
			}
		})
	}
}
