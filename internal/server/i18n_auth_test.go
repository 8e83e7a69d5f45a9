package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/oauth2-proxy/mockoidc"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/i18n/i18ntest"
	"atrium/internal/mail/mailtest"
	"atrium/internal/store"
)

// assertSectionTranslated is assertTranslated for the elements of res
// that selector matches: a section this area adds to another area's page.
func assertSectionTranslated(t testing.TB, res *response, selector string, allow ...string) {
	t.Helper()
	if got := res.Header.Get("Content-Language"); got != "en-XA" {
		t.Fatalf("%s: Content-Language=%q, want en-XA (ask with pseudo())", res.Request.URL.Path, got)
	}
	sel := res.Doc.Find(selector)
	if sel.Length() == 0 {
		t.Fatalf("%s: nothing matches %q:\n%s", res.Request.URL.Path, selector, res.Body)
	}
	var html strings.Builder
	sel.Each(func(_ int, s *goquery.Selection) {
		part, err := goquery.OuterHtml(s)
		if err != nil {
			t.Fatal(err)
		}
		html.WriteString(part)
	})
	if left := i18ntest.Untranslated(html.String(), allow...); len(left) > 0 {
		t.Errorf("%s (%s) shows untranslated text:\n  %s", res.Request.URL.Path, selector, strings.Join(left, "\n  "))
	}
}

// TestI18n_Auth fetches the sign-in pages and the two-step verification
// pages in the pseudo-locale, with their form errors and flash messages,
// and fails on any English left. App errors' own sentences are the errors
// catalog's: the allow lists name the ones these pages show.
func TestI18n_Auth(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	m.CodeChallengeMethodsSupported = []string{"S256"}
	mc := m.Config()
	// localhost: WebAuthn refuses an IP address as the relying party.
	a := newTestApp(t, store.SQLite, withEnv("RATE_LIMIT_MAX", "100000", "FREE_PLAN_SEATS", "100",
		"OIDC_MOCK_ISSUER", mc.Issuer, "OIDC_MOCK_CLIENT_ID", mc.ClientID, "OIDC_MOCK_CLIENT_SECRET", mc.ClientSecret,
		"OIDC_MOCK_LABEL", "Mock IdP"), func(env config.Env) {
		env["APP_URL"] = strings.Replace(env["APP_URL"], "//127.0.0.1:", "//localhost:", 1)
	})
	a.URL = a.Cfg.AppURL.String()
	const email, workspace, keyName = "ada@example.com", "Secure Ltd", "Laptop key"

	t.Run("SignIn", func(t *testing.T) {
		b := a.newBrowser(t).pseudo()
		login := b.Get("/login")
		assertTranslated(t, login)
		assertTranslated(t, b.Get("/login?via=link&email="+url.QueryEscape(email)), email)

		invalid := b.Submit(login, "login-submit", url.Values{"email": {""}})
		if got, want := invalid.StatusCode, http.StatusUnprocessableEntity; got != want {
			t.Fatalf("empty email: status=%d, want %d", got, want)
		}
		assertTranslated(t, invalid, "Enter your email address.")

		sent := b.Submit(login, "login-submit", url.Values{"email": {email}})
		if got, want := sent.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("POST /login: status=%d, want %d", got, want)
		}
		check := b.Follow(sent)
		if !check.Has("check-email") {
			t.Fatalf("after POST /login: no check-your-email page:\n%s", check.Body)
		}
		assertTranslated(t, check, email)

		msg := a.SMTP.WaitForMessageMatching(t, email, 5*time.Second, mailtest.LinkTo(a.URL+"/auth/verify"))
		verify := b.Get(msg.Links()[0])
		if !verify.Has("verify") {
			t.Fatalf("sign-in link: no confirmation page:\n%s", verify.Body)
		}
		assertTranslated(t, verify, email)
		for _, token := range []string{"not-a-token", strings.Repeat("A", 43)} {
			assertTranslated(t, b.Get("/auth/verify?token="+token))
		}
	})

	t.Run("Provider", func(t *testing.T) {
		b := a.newBrowser(t).pseudo()
		res := b.Get("/auth/oidc/mock/callback?state=" + strings.Repeat("A", 43) + "&code=x")
		if !res.Has("oidc-problem") {
			t.Fatalf("callback without a request in flight: no problem page:\n%s", res.Body)
		}
		assertTranslated(t, res, "This sign-in attempt expired or was already used. Start again from the sign-in page.")
	})

	in := a.newBrowser(t).pseudo()
	in.signIn(email)
	other := a.newBrowser(t)
	other.signIn(email)

	t.Run("TwoStepSetUp", func(t *testing.T) {
		acc := in.Get("/settings/account")
		assertSectionTranslated(t, acc, `[data-testid="two-factor"], [data-testid="identities"]`, email)
		assertTranslated(t, in.Get("/settings/account/confirm?next=%2Fsettings%2Faccount"), email)

		setup := in.Get("/settings/account/two-factor/app")
		if !setup.Has("totp-setup-page") {
			t.Fatalf("no set-up page:\n%s", setup.Body)
		}
		assertTranslated(t, setup)
		empty := in.Submit(setup, "totp-confirm-form", url.Values{"code": {""}})
		if got, want := empty.StatusCode, http.StatusUnprocessableEntity; got != want {
			t.Fatalf("empty first code: status=%d, want %d", got, want)
		}
		assertTranslated(t, empty)

		secret := strings.ReplaceAll(setup.Text("totp-secret"), " ", "")
		codes := in.Follow(in.Submit(setup, "totp-confirm-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}}))
		if !codes.Has("recovery-codes") || !codes.Has("recovery-sign-out-others") {
			t.Fatalf("recovery codes page without codes or the other browser:\n%s", codes.Body)
		}
		assertTranslated(t, codes)
		assertTranslated(t, in.Get("/settings/account/two-factor/recovery-codes"))

		a.Clock.Add(app.ReauthWindow + time.Minute)
		reauth := in.Get("/settings/account/confirm?next=" + url.QueryEscape("/settings/account/two-factor/recovery-codes"))
		if !reauth.Has("reauth-form") {
			t.Fatalf("confirm it's you with an authenticator app: no code form:\n%s", reauth.Body)
		}
		assertTranslated(t, reauth)
		empty = in.Submit(reauth, "reauth-form", url.Values{"code": {""}})
		if got, want := empty.StatusCode, http.StatusUnprocessableEntity; got != want {
			t.Fatalf("empty code: status=%d, want %d", got, want)
		}
		assertTranslated(t, empty)
		confirmed := in.Submit(reauth, "reauth-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}})
		if got, want := confirmed.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("right code: status=%d, want %d\n%s", got, want, confirmed.Body)
		}
		flashed := in.Follow(confirmed)
		if !flashed.Has("flash") {
			t.Fatalf("no flash after confirming:\n%s", flashed.Body)
		}
		assertTranslated(t, flashed)
	})

	t.Run("Passkey", func(t *testing.T) {
		added := addPasskey(t, in, newSoftKey(t, a), keyName)
		if got, want := added.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("add passkey: status=%d, want %d\n%s", got, want, added.Body)
		}
		acc := in.Follow(added)
		assertSectionTranslated(t, acc, `[data-testid="flash"], [data-testid="two-factor"]`, keyName)
		action, ok := acc.Doc.Find(`[data-testid="passkey-remove-form"]`).Attr("action")
		if !ok {
			t.Fatalf("no remove form for the passkey:\n%s", acc.Body)
		}
		ask := in.Post(action, nil)
		if !ask.Has("confirm-page") {
			t.Fatalf("remove without confirm=yes: no confirmation page:\n%s", ask.Body)
		}
		assertSectionTranslated(t, ask, `[data-testid="confirm-page"]`, keyName)
	})

	t.Run("Confirmations", func(t *testing.T) {
		for _, path := range []string{"/settings/account/two-factor/app/disable", "/settings/account/two-factor/recovery-codes"} {
			ask := in.Post(path, nil)
			if !ask.Has("confirm-page") {
				t.Fatalf("POST %s without confirm=yes: no confirmation page:\n%s", path, ask.Body)
			}
			assertSectionTranslated(t, ask, `[data-testid="confirm-page"]`)
		}
	})

	t.Run("LinkedAccount", func(t *testing.T) {
		m.QueueUser(&mockoidc.MockUser{Subject: "ada", Email: email, EmailVerified: true})
		start := in.Submit(in.Get("/settings/account"), "identity-link-mock", nil)
		acc := in.Follow(in.Get(atProvider(t, in, start)))
		if !acc.Has("identity-row") {
			t.Fatalf("no linked account listed:\n%s", acc.Body)
		}
		assertSectionTranslated(t, acc, `[data-testid="flash"], [data-testid="identities"]`, email)
		action, _ := acc.Doc.Find(`[data-testid="identity-unlink-form"]`).Attr("action")
		ask := in.Post(action, nil)
		if !ask.Has("confirm-page") {
			t.Fatalf("unlink without confirm=yes: no confirmation page:\n%s", ask.Body)
		}
		assertSectionTranslated(t, ask, `[data-testid="confirm-page"]`, email)
		done := in.Follow(in.Submit(ask, "confirm-form", nil))
		assertSectionTranslated(t, done, `[data-testid="flash"]`, email)
	})

	t.Run("SecondStep", func(t *testing.T) {
		b := a.newBrowser(t).pseudo()
		magicLinkTo(t, b, email)
		step := b.Get("/login/two-factor")
		if !step.Has("second-factor") {
			t.Fatalf("no second step:\n%s", step.Body)
		}
		assertTranslated(t, step, email)
		empty := b.Submit(step, "second-factor-form", url.Values{"code": {""}})
		if got, want := empty.StatusCode, http.StatusUnprocessableEntity; got != want {
			t.Fatalf("empty code: status=%d, want %d", got, want)
		}
		assertTranslated(t, empty, email)
		wrong := b.Submit(step, "second-factor-form", url.Values{"code": {"000000"}})
		if got, want := wrong.StatusCode, http.StatusUnprocessableEntity; got != want {
			t.Fatalf("wrong code: status=%d, want %d", got, want)
		}
		assertTranslated(t, wrong, email, app.ErrCodeWrong.Message)
	})

	t.Run("WorkspaceRequiresTwoStep", func(t *testing.T) {
		slug := createWorkspace(t, in, workspace)
		res := in.Post("/w/"+slug+"/settings/two-factor", url.Values{"required": {"on"}, "confirm": {"yes"}})
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("require two-step verification: status=%d, want %d\n%s", got, want, res.Body)
		}
		setUserTwoFactor(t, a, email, false)
		walk := in.Get("/w/" + slug)
		if !walk.Has("two-factor-required") {
			t.Fatalf("no walkthrough for an owner without a factor:\n%s", walk.Body)
		}
		assertSectionTranslated(t, walk, `[data-testid="two-factor-required"]`, workspace)
		setUserTwoFactor(t, a, email, true)
	})

	t.Run("SignOut", func(t *testing.T) {
		out := in.Follow(in.Post("/logout", nil))
		if !out.Has("flash") || !out.Has("login") {
			t.Fatalf("after signing out: want the sign-in page with a message:\n%s", out.Body)
		}
		assertTranslated(t, out)
	})

	t.Run("German", func(t *testing.T) {
		b := a.newBrowser(t).german()
		login := b.Get("/login")
		for testID, want := range map[string]string{"login-submit": "Anmeldelink senden", "provider-mock": "Mit Mock IdP anmelden"} {
			if got := login.Text(testID); got != want {
				t.Errorf("%s=%q, want %q", testID, got, want)
			}
		}
		if got, want := login.Doc.Find("h1").Text(), "Anmelden"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		check := b.Follow(b.Submit(login, "login-submit", url.Values{"email": {"grace@example.com"}}))
		if got, want := check.Doc.Find("h1").Text(), "Sehen Sie in Ihr Postfach"; got != want {
			t.Errorf("check your email: h1=%q, want %q", got, want)
		}
		if got := check.Doc.Find(`[data-testid="check-email"] p`).First().Text(); !strings.Contains(got, "Ein Anmeldelink ist unterwegs an grace@example.com.") {
			t.Errorf("check your email: %q, want the German sentence around the address", got)
		}
	})
}
