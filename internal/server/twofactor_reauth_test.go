package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/mail/mailtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// recoveryLeft reads how many unused recovery codes the account page says
// the user has.
func recoveryLeft(b *browser) string {
	return b.Get("/settings/account").Text("recovery-left")
}

// TestTwoFactor_StaleSessionCannotChangeFactors: a session cookie on its
// own (here, one that proved who it is longer ago than app.ReauthWindow,
// as a stolen one would have) cannot turn the app off, make new recovery
// codes or start adding a passkey, even with confirm=yes: it is sent to
// confirm it's them first, and a code brings it back to the action.
func TestTwoFactor_StaleSessionCannotChangeFactors(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newPasskeyApp(t, dialect)
			b := a.newBrowser(t)
			b.signIn("ada@example.com")
			secret, _ := turnOnTOTP(t, a, b)
			a.Clock.Add(app.ReauthWindow + time.Minute)

			wantConfirm := func(what string, res *response) {
				t.Helper()
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/settings/account/confirm?next=") {
					t.Fatalf("%s from a stale session: %d %q, want a redirect to confirm it's you", what, res.StatusCode, res.Location())
				}
			}
			wantConfirm("turning the app off", b.Post("/settings/account/two-factor/app/disable", url.Values{"confirm": {"yes"}}))
			wantConfirm("new recovery codes", b.Post("/settings/account/two-factor/recovery-codes", url.Values{"confirm": {"yes"}}))
			wantConfirm("adding a passkey", b.Post("/settings/account/passkeys", url.Values{"passkey_name": {"Mine"}, "credential": {"{}"}}))
			begin := b.Post("/settings/account/passkeys/begin", url.Values{"passkey_name": {"Mine"}})
			if begin.StatusCode != http.StatusForbidden || !strings.Contains(begin.Body, "Confirm it’s you") {
				t.Fatalf("passkey registration begin from a stale session: %d %s", begin.StatusCode, begin.Body)
			}
			account := b.Get("/settings/account")
			if !account.Has("totp-on") || !strings.Contains(account.Text("recovery-left"), "10 unused") {
				t.Fatalf("a stale session changed the factors: totp-on=%v recovery=%q", account.Has("totp-on"), account.Text("recovery-left"))
			}
			if href, _ := account.Doc.Find(`[data-testid="passkey-confirm-link"]`).Attr("href"); !strings.HasPrefix(href, "/settings/account/confirm") || account.Has("passkey-add-form") {
				t.Fatalf("account page offers to add a passkey without confirming (link %q, form %v)", href, account.Has("passkey-add-form"))
			}

			// Confirm it's you: a wrong code is refused beside the field,
			// the right one returns to the account page.
			confirm := b.Get("/settings/account/confirm?next=" + url.QueryEscape("/settings/account#two-factor"))
			if confirm.StatusCode != http.StatusOK || !confirm.Has("reauth-form") || confirm.Has("reauth-link-form") {
				t.Fatalf("confirm page: %d\n%s", confirm.StatusCode, confirm.Body)
			}
			wrong := b.Submit(confirm, "reauth-form", url.Values{"code": {"000000"}})
			if wrong.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(wrong.Text("reauth-form"), "didn’t work") {
				t.Fatalf("wrong code: %d\n%s", wrong.StatusCode, wrong.Body)
			}
			ok := b.Submit(confirm, "reauth-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}})
			if ok.StatusCode != http.StatusSeeOther || ok.Location() != "/settings/account#two-factor" {
				t.Fatalf("right code: %d %q", ok.StatusCode, ok.Location())
			}
			if res := b.Post("/settings/account/two-factor/app/disable", url.Values{"confirm": {"yes"}}); res.Location() != "/settings/account#two-factor" {
				t.Fatalf("turning the app off after confirming: %d %q", res.StatusCode, res.Location())
			}
			if b.Get("/settings/account").Has("totp-on") {
				t.Fatal("the app is still on after a confirmed turn-off")
			}
		})
	}
}

// TestTwoFactor_FirstFactorNeedsFreshLink: without a factor, a stale
// session confirms with a fresh sign-in link, which comes back to the
// set-up, and a session from that link may set it up.
func TestTwoFactor_FirstFactorNeedsFreshLink(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			other := a.newBrowser(t)
			other.signIn("bo@example.com")
			b := a.newBrowser(t)
			b.signIn("bo@example.com")
			a.Clock.Add(app.ReauthWindow + time.Minute)

			res := b.Get("/settings/account/two-factor/app")
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/settings/account/confirm") {
				t.Fatalf("set-up from a stale session: %d %q", res.StatusCode, res.Location())
			}
			confirm := b.Follow(res)
			if !confirm.Has("reauth-link-form") || confirm.Has("reauth-form") || confirm.Text("reauth-email") != "bo@example.com" {
				t.Fatalf("confirm page without a factor:\n%s", confirm.Body)
			}
			if sent := b.Submit(confirm, "reauth-link-form", nil); sent.StatusCode != http.StatusSeeOther {
				t.Fatalf("asking for a link: %d", sent.StatusCode)
			}
			msg := a.SMTP.WaitForMessageMatching(t, "bo@example.com", 5*time.Second, mailtest.LinkTo(a.URL+"/auth/verify"))
			back := b.Submit(b.Get(msg.Links()[0]), "verify-submit", nil)
			if back.Location() != "/settings/account/two-factor/app" {
				t.Fatalf("the fresh link leads to %q, want the set-up", back.Location())
			}
			turnOnTOTP(t, a, b) // fails unless the set-up opens and the codes show
		})
	}
}

// TestTwoFactor_RecoveryCodesShownOnce: new recovery codes come after a
// redirect, once: a reload says they were shown and offers new ones, and
// makes none.
func TestTwoFactor_RecoveryCodesShownOnce(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			other := a.newBrowser(t)
			other.signIn("cy@example.com")
			b := a.newBrowser(t)
			b.signIn("cy@example.com")
			setup := b.Get("/settings/account/two-factor/app")
			secret := strings.ReplaceAll(setup.Text("totp-secret"), " ", "")
			posted := b.Submit(setup, "totp-confirm-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}})
			if posted.StatusCode != http.StatusSeeOther || posted.Has("recovery-codes") {
				t.Fatalf("turning the app on answers %d with codes=%v, want a redirect without them", posted.StatusCode, posted.Has("recovery-codes"))
			}
			first := b.Get(posted.Location())
			if n := first.Doc.Find(`[data-testid="recovery-codes"] code`).Length(); n != app.RecoveryCodeCount {
				t.Fatalf("first view shows %d codes, want %d", n, app.RecoveryCodeCount)
			}
			if first.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("the codes page may be cached")
			}
			if !first.Has("recovery-sign-out-others") || !first.Has("recovery-revoke-others-form") {
				t.Fatal("enrolling with another browser signed in does not offer to sign it out")
			}
			code := first.Doc.Find(`[data-testid="recovery-codes"] code`).First().Text()
			again := b.Get(posted.Location())
			if again.StatusCode != http.StatusOK || again.Has("recovery-codes") || strings.Contains(again.Body, code) ||
				!again.Has("recovery-codes-gone") || !again.Has("recovery-regenerate-form") {
				t.Fatalf("reload of the codes page: %d\n%s", again.StatusCode, again.Body)
			}
			if got := recoveryLeft(b); !strings.Contains(got, "10 unused") {
				t.Fatalf("after a reload: %q", got)
			}
			// Another user's browser gets nothing from the page.
			stranger := a.newBrowser(t)
			stranger.signIn("eve@example.com")
			if res := stranger.Get(posted.Location()); res.Has("recovery-codes") {
				t.Fatal("another user saw recovery codes")
			}
			// Codes not viewed in time are gone too.
			a.Clock.Add(app.TOTPPeriod)
			fresh := b.Post("/settings/account/two-factor/recovery-codes", url.Values{"confirm": {"yes"}})
			a.Clock.Add(app.RecoveryCodesRevealTTL + time.Second)
			if late := b.Get(fresh.Location()); late.Has("recovery-codes") || !late.Has("recovery-codes-gone") {
				t.Fatalf("codes shown after %v:\n%s", app.RecoveryCodesRevealTTL, late.Body)
			}
		})
	}
}

// TestTwoFactor_JustEnrolledCode: signing in again within the time step of
// the code that turned the app on: the same code is refused with "just
// used", beside the field, and is not counted as a wrong guess.
func TestTwoFactor_JustEnrolledCode(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			b := a.newBrowser(t)
			b.signIn("di@example.com")
			setup := b.Get("/settings/account/two-factor/app")
			secret := strings.ReplaceAll(setup.Text("totp-secret"), " ", "")
			code := phoneCode(t, secret, a.Clock.Now())
			b.Follow(b.Submit(setup, "totp-confirm-form", url.Values{"code": {code}}))
			b.Post("/logout", nil)

			magicLinkTo(t, b, "di@example.com")
			for i := range app.CodeFailureLimit + 1 {
				res := b.Submit(b.Get("/login/two-factor"), "second-factor-form", url.Values{"code": {code}})
				if res.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("attempt %d with the just-used code: %d\n%s", i, res.StatusCode, res.Body)
				}
				if got, want := res.Text("second-factor-form"), "This code was just used — wait for the next one."; !strings.Contains(got, want) {
					t.Fatalf("attempt %d: form says %q, want %q beside the field", i, got, want)
				}
				if v, _ := res.Doc.Find(`#field-code`).Attr("aria-invalid"); v != "true" {
					t.Fatalf("attempt %d: the code field is not marked invalid", i)
				}
			}
			a.Clock.Add(app.TOTPPeriod)
			if res := b.Submit(b.Get("/login/two-factor"), "second-factor-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("the next code after %d replays: %d (locked?)\n%s", app.CodeFailureLimit+1, res.StatusCode, res.Body)
			}
		})
	}
}

// TestWorkspaceTwoFactor_SessionBeforeEnrolment: a member who set up an
// authenticator app in one browser is still asked for it in a browser
// that signed in with a link alone before, by a workspace that requires
// two-factor sign-in; confirming there lets that browser in.
func TestWorkspaceTwoFactor_SessionBeforeEnrolment(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000"))
			owner := a.newBrowser(t)
			owner.signIn("owner@secure.test")
			slug := createWorkspace(t, owner, "Secure")
			old := inviteAndJoin(t, a, owner, slug, "member@secure.test", "member")
			turnOnTOTP(t, a, owner)
			if res := owner.Post("/w/"+slug+"/settings/two-factor", url.Values{"required": {"on"}, "confirm": {"yes"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("turning the policy on: %d\n%s", res.StatusCode, res.Body)
			}
			if res := old.Get("/w/" + slug + "/"); res.StatusCode != http.StatusForbidden || !res.Has("two-factor-required") {
				t.Fatalf("member without a factor: %d", res.StatusCode)
			}
			enrolled := a.newBrowser(t)
			enrolled.signIn("member@secure.test")
			secret, _ := turnOnTOTP(t, a, enrolled)

			if res := enrolled.Get("/w/" + slug + "/"); res.StatusCode != http.StatusOK {
				t.Fatalf("the browser that set up the app: %d", res.StatusCode)
			}
			res := old.Get("/w/" + slug + "/members")
			if res.StatusCode != http.StatusSeeOther || res.Location() != "/settings/account/confirm?next="+url.QueryEscape("/w/"+slug+"/") {
				t.Fatalf("the browser signed in with a link before the app was set up: %d %q, want a redirect to confirm", res.StatusCode, res.Location())
			}
			confirm := old.Follow(res)
			if !strings.Contains(confirm.Text("reauth-reason"), "requires two-factor sign-in") {
				t.Fatalf("confirm page reason %q", confirm.Text("reauth-reason"))
			}
			done := old.Submit(confirm, "reauth-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}})
			if done.Location() != "/w/"+slug+"/" {
				t.Fatalf("after confirming: %d %q", done.StatusCode, done.Location())
			}
			if res := old.Get("/w/" + slug + "/members"); res.StatusCode != http.StatusOK {
				t.Fatalf("after confirming, members page: %d", res.StatusCode)
			}
		})
	}
}

// TestWorkspaceTwoFactor_KeysWithoutTwoFactor: turning the policy on lists
// the API keys made by members without a second factor and revokes the
// ticked ones with it; a key id of another workspace, or not a number, is
// refused and changes nothing.
func TestWorkspaceTwoFactor_KeysWithoutTwoFactor(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000"))
			owner := a.newBrowser(t)
			owner.signIn("owner@keys.test")
			slug := createWorkspace(t, owner, "Keys")
			inviteAndJoin(t, a, owner, slug, "admin@keys.test", "admin")
			keys := store.NewAPIKeyService(a.DB)
			wsID := workspaceID(t, a, slug, "owner@keys.test")
			mk := func(email string, wsID int64, name string) int64 {
				t.Helper()
				u, err := store.NewUserService(a.DB).FindUserByID(context.Background(), userIDOf(t, a, email))
				if err != nil {
					t.Fatal(err)
				}
				_, prefix, hash := app.NewAPIKeySecret()
				uctx := app.WithPrincipal(context.Background(), &app.Principal{User: *u})
				k, err := keys.CreateAPIKey(uctx, app.ScopeOf(uctx, wsID),
					app.NewAPIKey{Name: name, Scopes: []string{app.ScopeRead}, Prefix: prefix, TokenHash: hash})
				if err != nil {
					t.Fatal(err)
				}
				return k.ID
			}
			adminKey := mk("admin@keys.test", wsID, "CI deploys")
			other := a.newBrowser(t)
			other.signIn("owner@other.test")
			otherSlug := createWorkspace(t, other, "Other")
			foreignKey := mk("owner@other.test", workspaceID(t, a, otherSlug, "owner@other.test"), "Theirs")
			turnOnTOTP(t, a, owner)
			revoked := func() int {
				t.Helper()
				var n int
				if err := a.DB.SQL().QueryRow("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			policy := "/w/" + slug + "/settings/two-factor"

			settings := owner.Get("/w/" + slug + "/settings")
			if _, dialog := settings.Doc.Find(`[data-testid="two-factor-form"]`).Attr("data-confirm"); dialog {
				t.Fatal("with keys at risk the form confirms in a dialog that cannot list them")
			}
			ask := owner.Submit(settings, "two-factor-form", nil)
			checks := ask.Doc.Find(`[data-testid="confirm-check"]`)
			if ask.StatusCode != http.StatusOK || checks.Length() != 1 || !strings.Contains(ask.Text("confirm-checks"), "“CI deploys”") ||
				!strings.Contains(ask.Text("confirm-checks"), "admin@keys.test") || strings.Contains(ask.Body, "Theirs") {
				t.Fatalf("confirmation: %d, %d keys listed\n%s", ask.StatusCode, checks.Length(), ask.Text("confirm-checks"))
			}
			if v, _ := checks.Attr("value"); v != itoa(int(adminKey)) {
				t.Fatalf("listed key value %q, want %d", v, adminKey)
			}

			for _, bad := range []struct {
				ids  []string
				want int
			}{{[]string{itoa(int(foreignKey))}, http.StatusNotFound}, {[]string{"abc"}, http.StatusBadRequest}, {[]string{"-1"}, http.StatusBadRequest}} {
				res := owner.Post(policy, url.Values{"required": {"on"}, "confirm": {"yes"}, "revoke_key": bad.ids})
				if res.StatusCode != bad.want || policyOn(t, a, slug, "owner@keys.test") || revoked() != 0 {
					t.Fatalf("revoke_key=%v: %d (want %d), policy on=%v, %d revoked; want nothing changed", bad.ids, res.StatusCode, bad.want,
						policyOn(t, a, slug, "owner@keys.test"), revoked())
				}
			}

			done := owner.Submit(ask, "confirm-form", nil)
			if done.StatusCode != http.StatusSeeOther || !policyOn(t, a, slug, "owner@keys.test") || revoked() != 1 {
				t.Fatalf("confirmed with the key ticked: %d, policy on=%v, %d revoked", done.StatusCode, policyOn(t, a, slug, "owner@keys.test"), revoked())
			}
			if flash := owner.Follow(done).Text("flash"); !strings.Contains(flash, "1 API key was revoked") {
				t.Errorf("flash %q does not say the key was revoked", flash)
			}
		})
	}
}
