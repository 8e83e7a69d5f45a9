package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"atrium/internal/app"
	"atrium/internal/mail/mailtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// phoneCode is the code an authenticator app shows for secret at t.
func phoneCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// turnOnTOTP sets up an authenticator app through the pages for the
// signed-in browser and returns the secret (as typed from the page) and the
// recovery codes shown once.
func turnOnTOTP(t *testing.T, a *testApp, b *browser) (string, []string) {
	t.Helper()
	setup := b.Get("/settings/account/two-factor/app")
	if setup.StatusCode != http.StatusOK || !strings.Contains(setup.Doc.Find(`[data-testid="totp-qr"]`).Text()+setup.Body, "<svg") {
		t.Fatalf("set-up page: %d, QR code present=%v\n%s", setup.StatusCode, strings.Contains(setup.Body, "<svg"), setup.Body)
	}
	if got := setup.Header.Get("Cache-Control"); got != "no-store" {
		t.Fatalf("set-up page Cache-Control=%q: the secret could be cached", got)
	}
	secret := strings.ReplaceAll(setup.Text("totp-secret"), " ", "")
	wrong := b.Submit(setup, "totp-confirm-form", url.Values{"code": {"000000"}})
	if wrong.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(wrong.Text("totp-confirm-form"), "didn’t match") {
		t.Fatalf("wrong first code: %d\n%s", wrong.StatusCode, wrong.Body)
	}
	if again := strings.ReplaceAll(wrong.Text("totp-secret"), " ", ""); again != secret {
		t.Fatal("after a wrong code the page offers a different key than the one scanned")
	}
	posted := b.Submit(setup, "totp-confirm-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}})
	if posted.StatusCode != http.StatusSeeOther || !strings.HasPrefix(posted.Location(), "/settings/account/two-factor/recovery-codes") {
		t.Fatalf("right first code: %d %q, want a redirect to the recovery codes\n%s", posted.StatusCode, posted.Location(), posted.Body)
	}
	shown := b.Follow(posted)
	if shown.StatusCode != http.StatusOK || !shown.Has("recovery-codes") {
		t.Fatalf("recovery codes page: %d\n%s", shown.StatusCode, shown.Body)
	}
	var codes []string
	shown.Doc.Find(`[data-testid="recovery-codes"] code`).Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.Text()) })
	if len(codes) != app.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown, want %d", len(codes), app.RecoveryCodeCount)
	}
	// The next code must come from a later time step.
	a.Clock.Add(app.TOTPPeriod)
	return secret, codes
}

// magicLinkTo runs the email part of a sign-in and returns the page after
// the link's button: the second step for a user with two-factor.
func magicLinkTo(t *testing.T, b *browser, email string) *response {
	t.Helper()
	res := b.Submit(b.Get("/login"), "login-submit", url.Values{"email": {email}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login: %d", res.StatusCode)
	}
	msg := b.app.SMTP.WaitForMessageMatching(t, email, 5*time.Second, mailtest.LinkTo(b.app.URL+"/auth/verify"))
	return b.Submit(b.Get(msg.Links()[0]), "verify-submit", nil)
}

// withAuthenticator starts an app on dialect where email has signed up,
// turned an authenticator app on and signed out again; it returns the
// app, that browser, the app's secret and the recovery codes.
func withAuthenticator(t *testing.T, dialect, email string) (*testApp, *browser, string, []string) {
	t.Helper()
	a := newTestApp(t, dialect)
	b := a.newBrowser(t)
	b.signIn(email)
	secret, codes := turnOnTOTP(t, a, b)
	b.Post("/logout", nil)
	return a, b, secret, codes
}

// enterCode follows a fresh sign-in link for email in b and enters code at
// the second step.
func enterCode(t *testing.T, b *browser, email, code string) *response {
	t.Helper()
	magicLinkTo(t, b, email)
	return b.Submit(b.Get("/login/two-factor"), "second-factor-form", url.Values{"code": {code}})
}

func TestTwoFactor_AuthenticatorApp(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			b := a.newBrowser(t)
			b.signIn("ada@example.com")
			account := b.Get("/settings/account")
			if v, _ := account.Doc.Find(`[data-testid="two-factor-status"]`).Attr("data-enabled"); v != "false" || !account.Has("totp-setup") {
				t.Fatalf("account before set-up: enabled=%q, set-up link=%v", v, account.Has("totp-setup"))
			}
			secret, codes := turnOnTOTP(t, a, b)
			notice := a.SMTP.WaitForMessageMatching(t, "ada@example.com", 5*time.Second,
				func(m *mailtest.Message) bool { return strings.Contains(m.Subject, "Two-factor sign-in changed") })
			if !strings.Contains(notice.Text, "An authenticator app was turned on") || !slices.Contains(notice.Links(), a.URL+"/settings/account") {
				t.Fatalf("security notice after turning the app on:\n%s", notice.Text)
			}
			account = b.Get("/settings/account")
			if v, _ := account.Doc.Find(`[data-testid="two-factor-status"]`).Attr("data-enabled"); v != "true" || !account.Has("totp-on") ||
				!strings.Contains(account.Text("recovery-left"), "10 unused") {
				t.Fatalf("account after set-up: enabled=%q totp-on=%v recovery=%q", v, account.Has("totp-on"), account.Text("recovery-left"))
			}

			// Sign out; the magic link now stops at the second step.
			b.Post("/logout", nil)
			step := magicLinkTo(t, b, "ada@example.com")
			if got := step.Location(); got != "/login/two-factor" {
				t.Fatalf("magic link with two-factor redirects to %q, want /login/two-factor", got)
			}
			if res := b.Get("/settings/account"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
				t.Fatalf("before the second factor, /settings/account = %d %q: the pending step acts as a session", res.StatusCode, res.Location())
			}
			page := b.Get("/login/two-factor")
			if page.StatusCode != http.StatusOK || page.Text("second-factor-email") != "ada@example.com" {
				t.Fatalf("second step: %d\n%s", page.StatusCode, page.Body)
			}
			wrong := b.Submit(page, "second-factor-form", url.Values{"code": {"123 456"}})
			if wrong.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(wrong.Text("second-factor-form"), "didn’t work") {
				t.Fatalf("wrong code: %d\n%s", wrong.StatusCode, wrong.Body)
			}
			code := phoneCode(t, secret, a.Clock.Now())
			done := b.Submit(page, "second-factor-form", url.Values{"code": {code}})
			if done.StatusCode != http.StatusSeeOther || done.Location() != "/app" {
				t.Fatalf("right code: %d → %q\n%s", done.StatusCode, done.Location(), done.Body)
			}
			if res := b.Get("/settings/account"); res.StatusCode != http.StatusOK {
				t.Fatalf("after the second factor, /settings/account = %d", res.StatusCode)
			}

			// The same code again, from another browser in the same step.
			thief := a.newBrowser(t)
			replay := enterCode(t, thief, "ada@example.com", code)
			if replay.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("replayed code: %d, want 422", replay.StatusCode)
			}

			// A recovery code works once and says how many are left.
			rec := thief.Submit(thief.Get("/login/two-factor"), "second-factor-form", url.Values{"code": {codes[0]}})
			if rec.StatusCode != http.StatusSeeOther {
				t.Fatalf("recovery code: %d\n%s", rec.StatusCode, rec.Body)
			}
			if landed := thief.Follow(rec); !strings.Contains(landed.Body, "9 left") {
				t.Fatalf("the page after a recovery code does not say 9 are left:\n%s", landed.Body)
			}
			if res := enterCode(t, a.newBrowser(t), "ada@example.com", codes[0]); res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("recovery code used twice: %d", res.StatusCode)
			}

			u, _ := store.NewUserService(a.DB).FindUserByEmail(context.Background(), "ada@example.com")
			actions := a.auditActions(t, u.ID)
			for _, want := range []string{app.ActionTOTPEnabled, app.ActionRecoveryCodesGenerated, app.ActionRecoveryCodeUsed} {
				if !slices.Contains(actions, want) {
					t.Errorf("audit lacks %s: %v", want, actions)
				}
			}
		})
	}
}

func TestTwoFactor_Lockout(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a, _, secret, _ := withAuthenticator(t, dialect, "grace@example.com")

			attacker := a.newBrowser(t)
			magicLinkTo(t, attacker, "grace@example.com")
			page := attacker.Get("/login/two-factor")
			var res *response
			for i := 1; i <= app.CodeFailureLimit; i++ {
				res = attacker.Submit(page, "second-factor-form", url.Values{"code": {"00000" + itoa(i)}})
			}
			if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(res.Body, "locked") {
				t.Fatalf("wrong code %d: %d, want 429 saying code entry is locked", app.CodeFailureLimit, res.StatusCode)
			}
			if res := attacker.Submit(page, "second-factor-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}}); res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("right code while locked: %d, want 429", res.StatusCode)
			}
			msg := a.SMTP.WaitForMessageMatching(t, "grace@example.com", 5*time.Second,
				func(m *mailtest.Message) bool { return strings.Contains(m.Subject, "locked") })
			if !strings.Contains(msg.Subject, "locked") || !strings.Contains(msg.Text, "change your email password") {
				t.Fatalf("lock email: %q\n%s", msg.Subject, msg.Text)
			}
			a.Clock.Add(app.CodeLockout + time.Second)
			if res := enterCode(t, a.newBrowser(t), "grace@example.com", phoneCode(t, secret, a.Clock.Now())); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("right code after the lock: %d", res.StatusCode)
			}
		})
	}
}

func TestTwoFactor_PendingStep(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a, b, secret, _ := withAuthenticator(t, dialect, "lin@example.com")

			// No pending step: back to the sign-in page with the reason.
			stranger := a.newBrowser(t)
			if res := stranger.Get("/login/two-factor"); res.StatusCode != http.StatusSeeOther || res.Location() != "/login" {
				t.Fatalf("GET /login/two-factor without a pending step: %d %q", res.StatusCode, res.Location())
			}
			if res := stranger.Post("/login/two-factor", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}}); res.StatusCode != http.StatusSeeOther || res.Location() != "/login" {
				t.Fatalf("POST a right code without a pending step: %d %q", res.StatusCode, res.Location())
			}

			magicLinkTo(t, b, "lin@example.com")
			page := b.Get("/login/two-factor")
			// Another site cannot post the code for the browser.
			b.Origin = "https://evil.example"
			if res := b.Submit(page, "second-factor-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}}); res.StatusCode != http.StatusForbidden {
				t.Fatalf("cross-site POST of the second step: %d, want 403", res.StatusCode)
			}
			b.Origin = a.URL
			for _, bad := range []string{"", "\xff\xfe", strings.Repeat("9", 100)} {
				if res := b.Submit(page, "second-factor-form", url.Values{"code": {bad}}); res.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("code %q: %d, want 422", bad, res.StatusCode)
				}
			}
			a.Clock.Add(app.SecondFactorTTL + time.Second)
			res := b.Submit(page, "second-factor-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}})
			if res.StatusCode != http.StatusSeeOther || res.Location() != "/login" {
				t.Fatalf("after %v: %d %q, want back to /login", app.SecondFactorTTL, res.StatusCode, res.Location())
			}
			if landed := b.Follow(res); !strings.Contains(landed.Body, "took too long") {
				t.Fatalf("the sign-in page does not say why:\n%s", landed.Body)
			}
		})
	}
}

func TestTwoFactor_TurnOffAndNewCodes(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			b := a.newBrowser(t)
			b.signIn("kay@example.com")
			_, codes := turnOnTOTP(t, a, b)

			// New codes: confirmed first, then the old ones stop working.
			if res := b.Post("/settings/account/two-factor/recovery-codes", nil); res.StatusCode != http.StatusOK || !res.Has("confirm-page") {
				t.Fatalf("unconfirmed new codes: %d, confirm page=%v", res.StatusCode, res.Has("confirm-page"))
			}
			fresh := b.Follow(b.Post("/settings/account/two-factor/recovery-codes", url.Values{"confirm": {"yes"}}))
			if !fresh.Has("recovery-codes") || strings.Contains(fresh.Body, codes[0]) {
				t.Fatalf("new recovery codes page: %d\n%s", fresh.StatusCode, fresh.Body)
			}

			// Turning the app off asks first and names the consequence.
			ask := b.Post("/settings/account/two-factor/app/disable", nil)
			if !ask.Has("confirm-page") || !strings.Contains(ask.Text("confirm-message"), "sign-in link alone") {
				t.Fatalf("unconfirmed turn-off: %d\n%s", ask.StatusCode, ask.Body)
			}
			if v, _ := b.Get("/settings/account").Doc.Find(`[data-testid="two-factor-status"]`).Attr("data-enabled"); v != "true" {
				t.Fatal("an unconfirmed turn-off changed something")
			}
			b.Follow(b.Post("/settings/account/two-factor/app/disable", url.Values{"confirm": {"yes"}}))
			// Each change is told to the account's address: on, new codes,
			// off (the queue sends them in parallel, in any order).
			for _, want := range []string{"An authenticator app was turned on", "A new set of recovery codes was made", "Your authenticator app was turned off"} {
				a.SMTP.WaitForMessageMatching(t, "kay@example.com", 5*time.Second, func(m *mailtest.Message) bool {
					return strings.Contains(m.Subject, "Two-factor sign-in changed") && strings.Contains(m.Text, want)
				})
			}
			b.Post("/logout", nil)
			if res := magicLinkTo(t, b, "kay@example.com"); res.Location() != "/app" {
				t.Fatalf("after turning the app off the magic link goes to %q, want /app", res.Location())
			}
		})
	}
}

// TestTwoFactor_SecretUnreadable: when a secret cannot be opened (the key
// changed, or the row was altered) the step answers 503 with the form
// kept, and a recovery code still signs in.
func TestTwoFactor_SecretUnreadable(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a, b, secret, codes := withAuthenticator(t, dialect, "ines@example.com")
			if _, err := a.DB.SQL().Exec("UPDATE user_totp SET secret_sealed = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'"); err != nil {
				t.Fatal(err)
			}
			magicLinkTo(t, b, "ines@example.com")
			page := b.Get("/login/two-factor")
			res := b.Submit(page, "second-factor-form", url.Values{"code": {phoneCode(t, secret, a.Clock.Now())}})
			if res.StatusCode != http.StatusServiceUnavailable || !res.Has("second-factor-form") || !strings.Contains(res.Body, "recovery code") {
				t.Fatalf("unreadable secret: %d, form kept=%v\n%s", res.StatusCode, res.Has("second-factor-form"), res.Body)
			}
			if res := b.Submit(page, "second-factor-form", url.Values{"code": {codes[1]}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("recovery code with the secret unreadable: %d", res.StatusCode)
			}
		})
	}
}
