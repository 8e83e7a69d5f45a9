package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"atrium/internal/app"
	"atrium/internal/dnstest"
	"atrium/internal/store/storetest"
)

// TestSSO_SignIn: an address in a verified domain is handed to the
// workspace's provider after the email step, with PKCE, a nonce and its
// own callback; the provider's person signs in (an account made for a new
// address), joins only when JIT is on, and an address outside the
// workspace's domains is refused. Other addresses, and an explicit email
// link, keep the magic link. A second factor still applies unless the
// workspace counts the provider's multi-factor sign-in.
func TestSSO_SignIn(t *testing.T) {
	idp := startIdP(t)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			dnsSrv := dnstest.New(t)
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000", "FREE_PLAN_SEATS", "100", "SSO_DNS_RESOLVER", dnsSrv.Addr))
			owner := a.newBrowser(t)
			owner.signIn("owner@acme.test")
			slug := createWorkspace(t, owner, "Acme")
			makePro(t, a, slug)
			ssoSetUp(t, owner, slug, idp, dnsSrv, "acme.test")
			wsID := workspaceID(t, a, slug, "owner@acme.test")
			person := func(sub, email string) *mockoidc.MockUser {
				return &mockoidc.MockUser{Subject: dialect + "-" + sub, Email: email, EmailVerified: false}
			}

			t.Run("NoJIT", func(t *testing.T) {
				b := a.newBrowser(t)
				res := ssoSignIn(t, a, b, idp, "grace@acme.test", person("grace", "grace@acme.test"))
				if res.StatusCode != http.StatusSeeOther || !signedIn(b) {
					t.Fatalf("callback: %d %q\n%s", res.StatusCode, res.Location(), res.Body)
				}
				// The workspace verified the domain: the provider is trusted
				// for it even without email_verified.
				id := a.userID(t, "grace@acme.test")
				if id == 0 || !contains(a.auditActions(t, id), "identity.linked") {
					t.Fatal("no account linked for the provider's person")
				}
				if res := b.Get("/w/" + slug + "/"); res.StatusCode != http.StatusNotFound {
					t.Fatalf("without JIT a non-member opened the workspace: %d", res.StatusCode)
				}
				if acc := b.Get("/settings/account"); !strings.Contains(acc.Text("identity-name"), "single sign-on") {
					t.Fatalf("account page names the identity %q", acc.Text("identity-name"))
				}
				msg := a.SMTP.WaitForMessage(t, "grace@acme.test", 5*time.Second)
				if !strings.Contains(msg.Text, "Your single sign-on account (grace@acme.test) was linked") || strings.Contains(msg.Text, "sso-") {
					t.Fatalf("the notice names the provider by its code:\n%s", msg.Text)
				}
			})

			t.Run("JIT", func(t *testing.T) {
				bad := owner.Post("/w/"+slug+"/settings/sso/options", url.Values{"jit": {"on"}, "jit_role": {"owner"}})
				if bad.StatusCode != http.StatusUnprocessableEntity || bad.Text("field-jit_role-error") == "" {
					t.Fatalf("JIT as owner: status %d, want 422 beside the role\n%s", bad.StatusCode, bad.Body)
				}
				res := owner.Post("/w/"+slug+"/settings/sso/options", url.Values{"jit": {"on"}, "jit_role": {"member"}})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("options: %d\n%s", res.StatusCode, res.Body)
				}
				b := a.newBrowser(t)
				res = ssoSignIn(t, a, b, idp, "hank@acme.test", person("hank", "hank@acme.test"))
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("callback: %d\n%s", res.StatusCode, res.Body)
				}
				if res := b.Follow(res); res.StatusCode != http.StatusOK {
					t.Fatalf("after JIT: %d", res.StatusCode)
				}
				if res := b.Get("/w/" + slug + "/"); res.StatusCode != http.StatusOK {
					t.Fatalf("the JIT member cannot open the workspace: %d", res.StatusCode)
				}
				if n := countWorkspaceAudit(t, a, wsID, app.ActionSSOJoined); n != 1 {
					t.Fatalf("%d %s entries, want 1", n, app.ActionSSOJoined)
				}
				// The admin role is not given: the member is a member.
				if res := b.Get("/w/" + slug + "/settings"); res.StatusCode != http.StatusForbidden {
					t.Fatalf("the JIT member opened settings: %d", res.StatusCode)
				}
			})

			t.Run("AddressOutsideTheDomain", func(t *testing.T) {
				b := a.newBrowser(t)
				res := ssoSignIn(t, a, b, idp, "ivy@acme.test", person("ivy", "ivy@elsewhere.test"))
				wantProblem(t, res, http.StatusForbidden, "outside the domains")
				if signedIn(b) || a.userID(t, "ivy@elsewhere.test") != 0 {
					t.Fatal("an address outside the verified domains signed in")
				}
			})

			t.Run("CallbacksKeptApart", func(t *testing.T) {
				// A workspace provider's answer brought to the configured
				// providers' callback signs nobody in, nor does a forged one.
				b := a.newBrowser(t)
				res := b.Post("/login", url.Values{"email": {"grace@acme.test"}})
				dest, _ := res.Doc.Find(`[data-testid="sso-continue"]`).Attr("href")
				idp.QueueUser(person("grace", "grace@acme.test"))
				back := b.Get(dest).Location()
				moved := strings.Replace(back, "/auth/sso/callback", "/auth/oidc/mock/callback", 1)
				if res := b.Get(moved); res.StatusCode < 400 || res.StatusCode >= 500 || signedIn(b) {
					t.Fatalf("the answer at another callback: status %d, signed in %v", res.StatusCode, signedIn(b))
				}
				if res := b.Get(back); res.StatusCode != http.StatusBadRequest || signedIn(b) {
					t.Fatalf("the answer after its state was used: status %d", res.StatusCode)
				}
				if res := b.Get("/auth/sso/callback?state=forged&code=x"); res.StatusCode != http.StatusBadRequest || signedIn(b) {
					t.Fatalf("a forged answer: status %d", res.StatusCode)
				}
			})

			t.Run("OtherAddressesKeepTheLink", func(t *testing.T) {
				b := a.newBrowser(t)
				if res := b.Post("/login", url.Values{"email": {"someone@other.test"}}); res.StatusCode != http.StatusSeeOther ||
					!strings.HasPrefix(res.Location(), "/login/sent") {
					t.Fatalf("an unverified domain: %d %q", res.StatusCode, res.Location())
				}
				handoff := b.Post("/login", url.Values{"email": {"grace@acme.test"}})
				if href, _ := handoff.Doc.Find(`[data-testid="sso-email-link"]`).Attr("href"); href != "/login?email=grace%40acme.test&via=link" {
					t.Fatalf("the hand-over's email link is %q", href)
				}
				if res := b.Get("/login?email=grace%40acme.test&via=link"); !res.Has("login-email-link-note") {
					t.Fatal("the sign-in page does not say it sends a link")
				}
				if res := b.Post("/login", url.Values{"email": {"grace@acme.test"}, "via": {"link"}}); res.StatusCode != http.StatusSeeOther ||
					!strings.HasPrefix(res.Location(), "/login/sent") {
					t.Fatalf("an email link asked for: %d %q", res.StatusCode, res.Location())
				}
			})

			t.Run("SecondFactor", func(t *testing.T) {
				setUserTwoFactor(t, a, "grace@acme.test", true)
				b := a.newBrowser(t)
				res := ssoSignIn(t, a, b, idp, "grace@acme.test", &amrUser{MockUser: person("grace", "grace@acme.test"), AMR: []string{"pwd", "mfa"}})
				if res.StatusCode != http.StatusSeeOther || res.Location() != "/login/two-factor" || signedIn(b) {
					t.Fatalf("a user with a second factor: %d %q, want the second-factor step", res.StatusCode, res.Location())
				}
				res = owner.Post("/w/"+slug+"/settings/sso/options", url.Values{"jit": {"on"}, "jit_role": {"member"}, "idp_mfa_counts": {"on"}})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("options: %d", res.StatusCode)
				}
				b = a.newBrowser(t)
				res = ssoSignIn(t, a, b, idp, "grace@acme.test", &amrUser{MockUser: person("grace", "grace@acme.test"), AMR: []string{"pwd"}})
				if res.Location() != "/login/two-factor" {
					t.Fatalf("a password alone at the provider skipped the second factor: %q", res.Location())
				}
				b = a.newBrowser(t)
				res = ssoSignIn(t, a, b, idp, "grace@acme.test", &amrUser{MockUser: person("grace", "grace@acme.test"), AMR: []string{"pwd", "mfa"}})
				if res.StatusCode != http.StatusSeeOther || res.Location() == "/login/two-factor" || !signedIn(b) {
					t.Fatalf("the provider's multi-factor sign-in did not count: %d %q", res.StatusCode, res.Location())
				}
			})

			t.Run("ProviderDown", func(t *testing.T) {
				// A workspace whose own provider stops answering at the
				// token step, with JIT on: a clear page, and no account,
				// identity or membership half made.
				down := startIdP(t)
				slug2 := createWorkspace(t, owner, "Down")
				makePro(t, a, slug2)
				ssoSetUp(t, owner, slug2, down, dnsSrv, "down.test")
				if res := owner.Post("/w/"+slug2+"/settings/sso/options", url.Values{"jit": {"on"}, "jit_role": {"member"}}); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("options: %d\n%s", res.StatusCode, res.Body)
				}
				b := a.newBrowser(t)
				res := b.Post("/login", url.Values{"email": {"dora@down.test"}})
				dest, _ := res.Doc.Find(`[data-testid="sso-continue"]`).Attr("href")
				down.QueueUser(person("dora", "dora@down.test"))
				at := b.Get(dest)
				if at.StatusCode != http.StatusFound {
					t.Fatalf("provider: status %d\n%s", at.StatusCode, at.Body)
				}
				if err := down.Shutdown(); err != nil {
					t.Fatal(err)
				}
				users, ids, members := a.countRows(t, "users"), a.countRows(t, "user_identities"), a.countRows(t, "memberships")
				wantProblem(t, b.Get(at.Location()), http.StatusServiceUnavailable, "not answering")
				if a.countRows(t, "users") != users || a.countRows(t, "user_identities") != ids || a.countRows(t, "memberships") != members || signedIn(b) {
					t.Fatal("a sign-in through a provider that is down left an account, identity or membership behind")
				}
			})
		})
	}
}
