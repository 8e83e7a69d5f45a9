package server_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/dnstest"
	"atrium/internal/i18n"
	"atrium/internal/i18n/i18ntest"
	"atrium/internal/store"
)

// assertIntegrationTranslated fails when the part of res the integrations
// pages render (the document's title and <main>, with its flash) shows
// English that escaped translation in the pseudo-locale. The header,
// navigation and footer around it are the shell's, checked by its own
// test.
func assertIntegrationTranslated(t testing.TB, res *response, allow ...string) {
	t.Helper()
	if got := res.Header.Get("Content-Language"); got != "en-XA" {
		t.Fatalf("%s: Content-Language=%q, want en-XA (ask with pseudo())", res.Request.URL.Path, got)
	}
	main, err := res.Doc.Find("main").Html()
	if err != nil || main == "" {
		t.Fatalf("%s: no <main> (status %d)\n%s", res.Request.URL.Path, res.StatusCode, res.Body)
	}
	doc := "<title>" + html.EscapeString(res.Doc.Find("title").Text()) + "</title>" + main
	if left := i18ntest.Untranslated(doc, allow...); len(left) > 0 {
		t.Errorf("%s (status %d) shows untranslated text:\n  %s", res.Request.URL.Path, res.StatusCode, strings.Join(left, "\n  "))
	}
}

// TestI18n_Integrations fetches every page of API keys, outgoing webhooks,
// single sign-on and the API reference in the pseudo-locale — empty, with
// data, after a flash and with each form's error — and finds no English
// left.
func TestI18n_Integrations(t *testing.T) {
	dnsSrv := dnstest.New(t)
	idp := startIdP(t)
	a := newTestApp(t, store.SQLite, withEnv("WEBHOOK_ALLOW_PRIVATE", "true", "RATE_LIMIT_MAX", "100000",
		"FREE_PLAN_SEATS", "100", "SSO_DNS_RESOLVER", dnsSrv.Addr))
	owner := a.newBrowser(t).pseudo()
	owner.signIn("owner@acme.test")
	slug := createWorkspace(t, owner, "Acme")
	owner.Get("/w/" + slug) // the workspace's welcome flash
	allow := []string{"Acme", "owner@acme.test"}
	check := func(t *testing.T, what string, res *response, wantStatus int, more ...string) *response {
		t.Helper()
		if res.StatusCode != wantStatus {
			t.Fatalf("%s: status %d, want %d\n%s", what, res.StatusCode, wantStatus, res.Body)
		}
		assertIntegrationTranslated(t, res, append(append([]string(nil), allow...), more...)...)
		return res
	}

	t.Run("APIKeys", func(t *testing.T) {
		base := "/w/" + slug + "/settings/api-keys"
		page := check(t, "empty", owner.Get(base), http.StatusOK)
		check(t, "form error", owner.Submit(page, "api-key-form", url.Values{"name": {""}, "scope": {"read"}}), http.StatusUnprocessableEntity)
		check(t, "bad date", owner.Submit(page, "api-key-form", url.Values{"name": {"deploy bot"}, "scope": {"read"}, "expires": {"soon"}}),
			http.StatusUnprocessableEntity, "deploy bot")
		res := owner.Submit(page, "api-key-form", url.Values{"name": {"deploy bot"}, "scope": {"read", "write"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: status %d\n%s", res.StatusCode, res.Body)
		}
		created := check(t, "just created", owner.Follow(res), http.StatusOK, "deploy bot")
		if !created.Has("api-key-created") {
			t.Fatal("no panel with the new key")
		}
		check(t, "created again", owner.Get(res.Location()), http.StatusOK, "deploy bot")
		list := check(t, "with a key", owner.Get(base), http.StatusOK, "deploy bot")
		revoke, _ := list.Doc.Find(`[data-testid="api-key-revoke"]`).Attr("href")
		check(t, "revoked", owner.Follow(owner.Post(revoke, url.Values{"confirm": {"yes"}})), http.StatusOK, "deploy bot")
	})

	t.Run("Webhooks", func(t *testing.T) {
		base := "/w/" + slug + "/settings/webhooks"
		page := check(t, "empty", owner.Get(base), http.StatusOK)
		check(t, "form error", owner.Post(base, url.Values{"url": {"https://example.com/"}}), http.StatusUnprocessableEntity)
		rc := startHookReceiver(t)
		res := owner.Submit(page, "webhook-form", url.Values{"url": {rc.URL + "/hook"}, "description": {"CRM"},
			"event": {"invite.sent", "member.left"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: status %d\n%s", res.StatusCode, res.Body)
		}
		shown := check(t, "secret", owner.Follow(res), http.StatusOK, "CRM")
		secret, _ := shown.Doc.Find(`[data-testid="webhook-secret-value"]`).Attr("value")
		rc.mu.Lock()
		rc.secret = secret
		rc.mu.Unlock()
		check(t, "secret gone", owner.Get(res.Location()), http.StatusOK, "CRM")
		endpoint := strings.TrimSuffix(res.Location(), "/secret")
		ep := check(t, "endpoint", owner.Get(endpoint), http.StatusOK, "CRM")
		test := owner.Submit(ep, "webhook-test-form", nil)
		check(t, "test queued", owner.Follow(test), http.StatusOK, "CRM")
		var log *response
		for deadline := time.Now().Add(20 * time.Second); ; {
			deliverNow(t, a)
			log = owner.Get(endpoint)
			if log.Has("webhook-delivery") || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		check(t, "deliveries", log, http.StatusOK, "CRM")
		check(t, "replay since error", owner.Post(endpoint+"/replay", url.Values{"since": {"yesterday"}}), http.StatusUnprocessableEntity, "CRM")
		check(t, "edit error", owner.Post(endpoint, url.Values{"url": {"ftp://example.com/"}, "event": {"invite.sent"}}), http.StatusUnprocessableEntity, "CRM")
		check(t, "turned off", owner.Follow(owner.Post(endpoint+"/disable", nil)), http.StatusOK, "CRM")
		check(t, "with an endpoint", owner.Get(base), http.StatusOK, "CRM")
	})

	t.Run("SSO", func(t *testing.T) {
		base := "/w/" + slug + "/settings/sso"
		check(t, "free plan", owner.Get(base), http.StatusOK)
		makePro(t, a, slug)
		grace := inviteAndJoin(t, a, owner, slug, "grace@acme.test", "member").pseudo()
		grace.Get("/w/" + slug) // her welcome flash
		owner.Get("/w/" + slug) // the invitation's flash
		page := check(t, "empty", owner.Get(base), http.StatusOK)
		check(t, "connection error", owner.Submit(page, "sso-connection-form", url.Values{"issuer": {"not a url"}, "client_id": {""}, "client_secret": {""}}),
			http.StatusUnprocessableEntity)
		check(t, "discovery error", owner.Submit(page, "sso-connection-form", url.Values{"issuer": {a.URL + "/no-such-issuer"}, "client_id": {"c"}, "client_secret": {"s"}}),
			http.StatusUnprocessableEntity)
		cfg := idp.Config()
		res := owner.Submit(page, "sso-connection-form", url.Values{"issuer": {cfg.Issuer}, "client_id": {cfg.ClientID}, "client_secret": {cfg.ClientSecret}})
		page = check(t, "connected", owner.Follow(res), http.StatusOK)
		check(t, "domain error", owner.Submit(page, "sso-domain-form", url.Values{"domain": {"not a domain"}}), http.StatusUnprocessableEntity)
		page = check(t, "domain added", owner.Follow(owner.Submit(page, "sso-domain-form", url.Values{"domain": {"acme.test"}})), http.StatusOK)
		row := page.Doc.Find(`[data-testid="sso-domain"][data-domain="acme.test"]`)
		verify, _ := row.Find(`form:has([data-testid="sso-domain-verify"])`).Attr("action")
		check(t, "no TXT record", owner.Post(verify, nil), http.StatusUnprocessableEntity)
		name, _ := row.Find(`[data-testid="sso-record-name"]`).Attr("value")
		value, _ := row.Find(`[data-testid="sso-record-value"]`).Attr("value")
		dnsSrv.SetTXT(name, "something else")
		check(t, "wrong TXT record", owner.Post(verify, nil), http.StatusUnprocessableEntity)
		dnsSrv.SetTXT(name, value)
		page = check(t, "verified", owner.Follow(owner.Post(verify, nil)), http.StatusOK)
		check(t, "options saved", owner.Follow(owner.Post(base+"/options", url.Values{"jit": {"on"}, "jit_role": {"member"}})), http.StatusOK)
		check(t, "options error", owner.Post(base+"/options", url.Values{"jit": {"on"}, "jit_role": {"owner"}}), http.StatusUnprocessableEntity)

		// Requiring it: the flash, and the walkthrough that replaces the
		// workspace's pages for a member and for an owner signed in by
		// email link.
		confirm := owner.Post(base+"/options", url.Values{"require_sso": {"on"}, "jit_role": {"member"}})
		if !confirm.Has("confirm-form") {
			t.Fatalf("require: status %d, want a confirmation\n%s", confirm.StatusCode, confirm.Body)
		}
		assertIntegrationTranslatedText(t, "require confirmation", confirm.Text("confirm-title")+" "+confirm.Text("confirm-message"))
		// The owner's own address is in the domain: the flash shows on
		// the walkthrough, with the owners' way in.
		if res := check(t, "required", owner.Follow(owner.Submit(confirm, "confirm-form", nil)), http.StatusForbidden); !res.Has("sso-break-glass") {
			t.Fatalf("the owner is not offered the owners' way in:\n%s", res.Body)
		}
		check(t, "walkthrough (member)", grace.Get("/w/"+slug+"/"), http.StatusForbidden)

		// Sign-in by the address's domain: the hand-over to the provider,
		// and the page when the provider declines.
		b := a.newBrowser(t).pseudo()
		handoff := check(t, "hand-over", b.Post("/login", url.Values{"email": {"ada@acme.test"}}), http.StatusOK, "ada@acme.test")
		if !handoff.Has("sso-handoff") {
			t.Fatalf("no hand-over to the provider:\n%s", handoff.Body)
		}
		dest, _ := handoff.Doc.Find(`[data-testid="sso-continue"]`).Attr("href")
		u, _ := url.Parse(dest)
		declined := b.Get("/auth/sso/callback?" + url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}}.Encode())
		if declined.StatusCode != http.StatusForbidden || !declined.Has("oidc-problem") {
			t.Fatalf("declined: status %d\n%s", declined.StatusCode, declined.Body)
		}
		// The page around the message is the sign-in area's; its title is
		// this one's.
		assertIntegrationTranslatedText(t, "declined title", declined.Doc.Find("main h1").Text())
	})

	t.Run("APIDocs", func(t *testing.T) {
		check(t, "reference", a.newBrowser(t).pseudo().Get("/api/v1/docs"), http.StatusOK)
	})
}

// assertIntegrationTranslatedText fails when text is English left
// untranslated in the pseudo-locale.
func assertIntegrationTranslatedText(t testing.TB, what, text string) {
	t.Helper()
	if strings.TrimSpace(text) == "" {
		t.Fatalf("%s: empty", what)
	}
	if left := i18ntest.UntranslatedText(text); len(left) > 0 {
		t.Errorf("%s is untranslated: %q", what, left)
	}
}

// TestI18n_IntegrationsGerman checks a few German words on the API keys
// and webhooks pages.
func TestI18n_IntegrationsGerman(t *testing.T) {
	a := newTestApp(t, store.SQLite)
	b := a.newBrowser(t).german()
	b.signIn("owner@acme.test")
	slug := createWorkspace(t, b, "Acme")
	keys := b.Get("/w/" + slug + "/settings/api-keys")
	if got, want := strings.TrimSpace(keys.Doc.Find("h1").Text()), "API-Schlüssel"; got != want {
		t.Errorf("API keys heading=%q, want %q", got, want)
	}
	if got, want := keys.Text("api-key-submit"), "Schlüssel erstellen"; got != want {
		t.Errorf("create button=%q, want %q", got, want)
	}
	if got, want := keys.Text("api-keys-empty"), "Noch keine Schlüssel."; got != want {
		t.Errorf("empty list=%q, want %q", got, want)
	}
	hooks := b.Get("/w/" + slug + "/settings/webhooks")
	if got, want := hooks.Text("webhook-submit"), "Endpunkt hinzufügen"; got != want {
		t.Errorf("add button=%q, want %q", got, want)
	}
	if got := hooks.Doc.Find(`[data-testid="webhook-event-member.left"]`).Parent().Text(); !strings.Contains(got, "Ein Mitglied hat den Workspace verlassen") {
		t.Errorf("member.left is described as %q, want the German description", got)
	}
}

// TestI18n_WebhookEventsDescribed checks that every event an endpoint can
// choose has its description in the webhooks catalog, so a new event type
// cannot reach the settings page as a bare key.
func TestI18n_WebhookEventsDescribed(t *testing.T) {
	c, err := i18n.New(i18n.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, k := range c.Keys(i18n.Source) {
		keys[k] = true
	}
	for _, e := range app.SubscribableEventTypes() {
		if !keys["webhooks.event."+e.Code] {
			t.Errorf("event %s has no description webhooks.event.%s in en/webhooks.json", e.Code, e.Code)
		}
	}
}
