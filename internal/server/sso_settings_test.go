package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/internal/dnstest"
	"atrium/internal/store/storetest"
)

// TestSSO_Settings walks the owner's single sign-on page: the Free plan's
// explanation, owners only, the connection checked by discovery with its
// secret never shown back or logged, a domain verified by its TXT record
// through a real DNS server (no record, a wrong value, then the right
// one), a domain verified elsewhere refused, and another tenant's ids.
func TestSSO_Settings(t *testing.T) {
	idp := startIdP(t)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			dnsSrv := dnstest.New(t)
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000", "FREE_PLAN_SEATS", "100", "SSO_DNS_RESOLVER", dnsSrv.Addr))
			owner := a.newBrowser(t)
			owner.signIn("owner@acme.test")
			slug := createWorkspace(t, owner, "Acme")
			admin := inviteAndJoin(t, a, owner, slug, "admin@acme.test", "admin")
			other := a.newBrowser(t)
			other.signIn("owner@rival.test")
			rival := createWorkspace(t, other, "Rival")
			base := "/w/" + slug + "/settings/sso"

			t.Run("FreePlan", func(t *testing.T) {
				if !owner.Get("/w/" + slug + "/settings").Has("settings-sso-link") {
					t.Fatal("the owner's settings page has no single sign-on link")
				}
				res := owner.Get(base)
				if res.StatusCode != http.StatusOK || !res.Has("sso-upgrade") || res.Has("sso-connection-form") {
					t.Fatalf("Free plan: status %d, want the plan's explanation and no form\n%s", res.StatusCode, res.Body)
				}
				if href, _ := res.Doc.Find(`[data-testid="sso-billing-link"]`).Attr("href"); href != "/w/"+slug+"/billing" {
					t.Fatalf("billing link %q", href)
				}
				if res := owner.Post(base, url.Values{"issuer": {idp.Config().Issuer}, "client_id": {"x"}, "client_secret": {"y"}}); res.StatusCode != http.StatusForbidden {
					t.Fatalf("saving on Free: status %d, want 403", res.StatusCode)
				}
			})
			makePro(t, a, slug)
			makePro(t, a, rival)

			t.Run("OwnersOnly", func(t *testing.T) {
				if admin.Get("/w/" + slug + "/settings").Has("settings-sso-link") {
					t.Fatal("an admin is shown the single sign-on link")
				}
				if res := admin.Get(base); res.StatusCode != http.StatusForbidden {
					t.Fatalf("admin GET: status %d, want 403", res.StatusCode)
				}
				if res := other.Get(base); res.StatusCode != http.StatusNotFound {
					t.Fatalf("non-member GET: status %d, want 404", res.StatusCode)
				}
			})

			t.Run("Connection", func(t *testing.T) {
				page := owner.Get(base)
				res := owner.Submit(page, "sso-connection-form", url.Values{"issuer": {"not a url"}, "client_id": {""}, "client_secret": {""}})
				if res.StatusCode != http.StatusUnprocessableEntity || res.Text("field-issuer-error") == "" ||
					res.Text("field-client_id-error") == "" || res.Text("field-client_secret-error") == "" {
					t.Fatalf("bad input: status %d, want 422 with errors beside each field\n%s", res.StatusCode, res.Body)
				}
				res = owner.Submit(page, "sso-connection-form", url.Values{"issuer": {a.URL + "/no-such-issuer"}, "client_id": {"c"}, "client_secret": {"s"}})
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Text("field-issuer-error"), "discovery document") {
					t.Fatalf("issuer without discovery: status %d, want 422 beside the issuer\n%s", res.StatusCode, res.Body)
				}
				evil := owner
				evil.Origin = "https://evil.example"
				assertRefused(t, "cross-site save", owner.Post(base, url.Values{"issuer": {idp.Config().Issuer}, "client_id": {"c"}, "client_secret": {"s"}}))
				evil.Origin = a.URL

				const secret = "very-secret-client-value-42"
				res = owner.Submit(page, "sso-connection-form", url.Values{"issuer": {idp.Config().Issuer}, "client_id": {"atrium"}, "client_secret": {secret}})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("save: status %d\n%s", res.StatusCode, res.Body)
				}
				page = owner.Follow(res)
				if v, _ := page.Doc.Find(`[data-testid="sso-client-secret"]`).Attr("value"); v != "" || strings.Contains(page.Body, secret) {
					t.Fatal("the saved client secret is shown back")
				}
				if strings.Contains(a.logs.String(), secret) {
					t.Fatal("the client secret is in the server log")
				}
				// Saving again without a secret keeps it.
				res = owner.Submit(page, "sso-connection-form", url.Values{"client_id": {"atrium-2"}})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("save without secret: status %d\n%s", res.StatusCode, res.Body)
				}
			})

			t.Run("DomainVerification", func(t *testing.T) {
				res := owner.Submit(owner.Get(base), "sso-domain-form", url.Values{"domain": {"https://acme.test/"}})
				if res.StatusCode != http.StatusUnprocessableEntity || res.Text("field-domain-error") == "" {
					t.Fatalf("a URL for a domain: status %d, want 422 beside the field", res.StatusCode)
				}
				res = owner.Submit(owner.Get(base), "sso-domain-form", url.Values{"domain": {"Acme.TEST"}})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("add: status %d\n%s", res.StatusCode, res.Body)
				}
				page := owner.Get(base)
				row := page.Doc.Find(`[data-testid="sso-domain"][data-domain="acme.test"]`)
				name, _ := row.Find(`[data-testid="sso-record-name"]`).Attr("value")
				value, _ := row.Find(`[data-testid="sso-record-value"]`).Attr("value")
				if name != "_atrium-challenge.acme.test" || !strings.HasPrefix(value, "atrium-verification=") {
					t.Fatalf("record %q = %q", name, value)
				}
				verify, _ := row.Find(`form:has([data-testid="sso-domain-verify"])`).Attr("action")

				res = owner.Post(verify, nil)
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Text("sso-domain-error"), "found no TXT record") {
					t.Fatalf("no record: status %d %q", res.StatusCode, res.Text("sso-domain-error"))
				}
				dnsSrv.SetTXT(name, "atrium-verification=wrong-token")
				res = owner.Post(verify, nil)
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Text("sso-domain-error"), "holds another value") {
					t.Fatalf("wrong token: status %d %q", res.StatusCode, res.Text("sso-domain-error"))
				}
				if !strings.Contains(owner.Get(base).Text("sso-domain-status"), "Not verified") {
					t.Fatal("a failed check verified the domain")
				}
				dnsSrv.SetTXT(name, "v=spf1 -all", value)
				res = owner.Post(verify, nil)
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("right token: status %d\n%s", res.StatusCode, res.Body)
				}
				if got := owner.Get(base).Text("sso-domain-status"); !strings.HasPrefix(got, "Verified") {
					t.Fatalf("status %q after verification", got)
				}

				// Another tenant: the domain is held; its ids are not theirs.
				res = other.Submit(other.Get("/w/"+rival+"/settings/sso"), "sso-connection-form",
					url.Values{"issuer": {idp.Config().Issuer}, "client_id": {"rival"}, "client_secret": {"rival-secret"}})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("rival connect: %d", res.StatusCode)
				}
				res = other.Submit(other.Get("/w/"+rival+"/settings/sso"), "sso-domain-form", url.Values{"domain": {"acme.test"}})
				if res.StatusCode != http.StatusConflict && res.StatusCode != http.StatusUnprocessableEntity ||
					!strings.Contains(res.Text("field-domain-error"), "Another workspace has already verified") {
					t.Fatalf("claiming a held domain: status %d %q", res.StatusCode, res.Text("field-domain-error"))
				}
				foreign := strings.Replace(verify, "/w/"+slug+"/", "/w/"+rival+"/", 1)
				if res := other.Post(foreign, nil); res.StatusCode != http.StatusNotFound {
					t.Fatalf("verifying another workspace's domain id: status %d, want 404", res.StatusCode)
				}
				if res := other.Post(verify, nil); res.StatusCode != http.StatusNotFound {
					t.Fatalf("a non-member posting to the workspace: status %d, want 404", res.StatusCode)
				}
			})
		})
	}
}
