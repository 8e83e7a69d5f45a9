package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"atrium/internal/app"
	"atrium/internal/store/storetest"
)

// TestPasskey_ConfirmItsYou: a passkey-only user whose session is stale
// confirms it's them with their passkey, and may then remove one; another
// user's passkey, or a replayed ceremony, confirms nothing.
func TestPasskey_ConfirmItsYou(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newPasskeyApp(t, dialect)
			b := a.newBrowser(t)
			b.signIn("pat@example.com")
			k := newSoftKey(t, a)
			if res := b.Follow(addPasskey(t, b, k, "Laptop")); !res.Has("recovery-codes") {
				t.Fatalf("first passkey: %d\n%s", res.StatusCode, res.Body)
			}
			mallory := a.newBrowser(t)
			mallory.signIn("mallory@example.com")
			km := newSoftKey(t, a)
			mallory.Follow(addPasskey(t, mallory, km, "Mallory's"))
			a.Clock.Add(app.ReauthWindow + time.Minute)

			remove := func() *response {
				t.Helper()
				form := b.Get("/settings/account").Doc.Find(`[data-testid="passkey-remove-form"]`)
				action, _ := form.Attr("action")
				return b.Post(action, url.Values{"confirm": {"yes"}})
			}
			if res := remove(); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/settings/account/confirm") {
				t.Fatalf("removing a passkey from a stale session: %d %q", res.StatusCode, res.Location())
			}
			if page := b.Get("/settings/account/confirm"); !page.Has("reauth-passkey-form") {
				t.Fatal("the confirm page offers no passkey to a passkey user")
			}

			var opts protocol.CredentialAssertion
			beginJSON(t, b, "/settings/account/confirm/passkey/begin", url.Values{"next": {"/settings/account"}}, &opts)
			if res := b.Post("/settings/account/confirm/passkey", url.Values{"credential": {km.get(&opts)}}); res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Fatalf("another user's passkey: %d, want a 4xx", res.StatusCode)
			}
			if res := remove(); !strings.HasPrefix(res.Location(), "/settings/account/confirm") {
				t.Fatal("another user's passkey confirmed this session")
			}

			beginJSON(t, b, "/settings/account/confirm/passkey/begin", url.Values{"next": {"/settings/account"}}, &opts)
			cred := k.get(&opts)
			ok := b.Post("/settings/account/confirm/passkey", url.Values{"credential": {cred}})
			if ok.StatusCode != http.StatusSeeOther || ok.Location() != "/settings/account" {
				t.Fatalf("own passkey: %d %q\n%s", ok.StatusCode, ok.Location(), ok.Body)
			}
			if again := b.Post("/settings/account/confirm/passkey", url.Values{"credential": {cred}}); again.StatusCode < 400 || again.StatusCode >= 500 {
				t.Fatalf("replayed ceremony: %d, want a 4xx", again.StatusCode)
			}
			if res := remove(); res.Location() != "/settings/account#two-factor" {
				t.Fatalf("removing after confirming: %d %q", res.StatusCode, res.Location())
			}
			if b.Get("/settings/account").Has("passkey-row") {
				t.Fatal("the passkey is still listed")
			}
		})
	}
}
