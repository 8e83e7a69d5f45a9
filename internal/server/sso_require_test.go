package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/dnstest"
	"atrium/internal/store/storetest"
)

// TestSSO_Require walks "require single sign-on": turning it on asks
// first; a member of a verified domain signed in by email link or passkey gets the
// walkthrough on every workspace page and gets in through the provider; a
// member of another domain is unaffected; an owner gets in by the
// break-glass way only with a second factor, audited once per session; API
// keys keep working.
func TestSSO_Require(t *testing.T) {
	idp := startIdP(t)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			dnsSrv := dnstest.New(t)
			// At http://localhost:PORT, as WebAuthn wants, for the passkey
			// case.
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000", "FREE_PLAN_SEATS", "100", "SSO_DNS_RESOLVER", dnsSrv.Addr),
				func(env config.Env) {
					env["APP_URL"] = strings.Replace(env["APP_URL"], "//127.0.0.1:", "//localhost:", 1)
				})
			a.URL = a.Cfg.AppURL.String()
			owner := a.newBrowser(t)
			owner.signIn("owner@acme.test")
			slug := createWorkspace(t, owner, "Acme")
			makePro(t, a, slug)
			grace := inviteAndJoin(t, a, owner, slug, "grace@acme.test", "member")
			olga := inviteAndJoin(t, a, owner, slug, "olga@partner.test", "member")
			key := createKeyInBrowser(t, owner, slug, "deploy", "read")
			ssoSetUp(t, owner, slug, idp, dnsSrv, "acme.test")
			wsID := workspaceID(t, a, slug, "owner@acme.test")
			base := "/w/" + slug

			res := owner.Post(base+"/settings/sso/options", url.Values{"require_sso": {"on"}})
			if res.StatusCode != http.StatusOK || !res.Has("confirm-form") {
				t.Fatalf("turning it on: status %d, want a confirmation first\n%s", res.StatusCode, res.Body)
			}
			if res = owner.Submit(res, "confirm-form", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("confirmed: status %d\n%s", res.StatusCode, res.Body)
			}

			t.Run("MemberWalkedToTheProvider", func(t *testing.T) {
				for _, p := range []string{"/", "/members"} {
					res := grace.Get(base + p)
					if res.StatusCode != http.StatusForbidden || !res.Has("sso-required") || res.Has("sso-break-glass") {
						t.Fatalf("GET %s: status %d, want the walkthrough without the owners' way\n%s", p, res.StatusCode, res.Body)
					}
				}
				// A second factor is no way around it for a member.
				setUserTwoFactor(t, a, "grace@acme.test", true)
				if res := grace.Get(base + "/"); res.StatusCode != http.StatusForbidden {
					t.Fatalf("a member with a second factor passed: %d", res.StatusCode)
				}
				setUserTwoFactor(t, a, "grace@acme.test", false)
				res := grace.Submit(grace.Get(base+"/"), "sso-start-form", nil)
				if !res.Has("sso-handoff") {
					t.Fatalf("start: status %d\n%s", res.StatusCode, res.Body)
				}
				dest, _ := res.Doc.Find(`[data-testid="sso-continue"]`).Attr("href")
				idp.QueueUser(&mockoidc.MockUser{Subject: dialect + "-grace", Email: "grace@acme.test"})
				at := grace.Get(dest)
				if at.StatusCode != http.StatusFound {
					t.Fatalf("provider: %d", at.StatusCode)
				}
				res = grace.Get(at.Location())
				if res.StatusCode != http.StatusSeeOther || res.Location() != base+"/" {
					t.Fatalf("callback: %d %q, want back to the workspace\n%s", res.StatusCode, res.Location(), res.Body)
				}
				if res := grace.Get(base + "/members"); res.StatusCode != http.StatusOK {
					t.Fatalf("after single sign-on: status %d", res.StatusCode)
				}
			})

			t.Run("PasskeyWalkedToo", func(t *testing.T) {
				// A passkey is a way to sign in, not through the provider:
				// the same walkthrough.
				k := newSoftKey(t, a)
				if res := addPasskey(t, grace, k, "Laptop"); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("add a passkey: status %d\n%s", res.StatusCode, res.Body)
				}
				p := a.newBrowser(t)
				if res := passkeySignIn(t, p, k, base+"/"); res.StatusCode != http.StatusSeeOther || !signedIn(p) {
					t.Fatalf("passkey sign-in: status %d\n%s", res.StatusCode, res.Body)
				}
				if res := p.Get(base + "/"); res.StatusCode != http.StatusForbidden || !res.Has("sso-required") {
					t.Fatalf("after a passkey sign-in: status %d, want the walkthrough", res.StatusCode)
				}
			})

			t.Run("OtherDomainUnaffected", func(t *testing.T) {
				if res := olga.Get(base + "/"); res.StatusCode != http.StatusOK {
					t.Fatalf("a member outside the verified domains: status %d", res.StatusCode)
				}
			})

			t.Run("APIKeysUnaffected", func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodGet, a.URL+"/api/v1/workspace", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("API with a key: status %d", res.StatusCode)
				}
			})

			t.Run("BreakGlass", func(t *testing.T) {
				res := owner.Get(base + "/")
				if res.StatusCode != http.StatusForbidden || !res.Has("sso-break-glass") || !res.Has("sso-break-glass-setup") {
					t.Fatalf("an owner without a second factor: status %d, want the walkthrough offering the set-up\n%s", res.StatusCode, res.Body)
				}
				setUserTwoFactor(t, a, "owner@acme.test", true)
				for range 2 {
					if res := owner.Get(base + "/"); res.StatusCode != http.StatusOK {
						t.Fatalf("an owner with a second factor: status %d", res.StatusCode)
					}
				}
				if n := countWorkspaceAudit(t, a, wsID, app.ActionSSOBreakGlass); n != 1 {
					t.Fatalf("%d break-glass entries, want 1 for the session", n)
				}
			})
		})
	}
}
