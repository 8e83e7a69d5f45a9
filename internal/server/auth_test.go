package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestMagicLinkSignIn(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			b := a.newBrowser(t)

			login := b.Get("/login")
			if login.StatusCode != http.StatusOK || !login.Has("login-email") {
				t.Fatalf("GET /login: %d, email field present=%v", login.StatusCode, login.Has("login-email"))
			}

			// Mixed case and spaces: the address is normalized.
			res := b.Submit(login, "login-submit", url.Values{"email": {"  Ada@Example.COM "}})
			if got, want := res.StatusCode, http.StatusSeeOther; got != want {
				t.Fatalf("POST /login status=%d, want %d", got, want)
			}
			sent := b.Follow(res)
			if !sent.Has("check-email") || !strings.Contains(sent.Text("check-email"), "ada@example.com") {
				t.Fatalf("check-email page does not name the address:\n%s", sent.Body)
			}

			msg := a.SMTP.WaitForMessage(t, "ada@example.com", 5*time.Second)
			if got, want := msg.Subject, "Sign in to "+a.Cfg.AppName; got != want {
				t.Fatalf("Subject=%q, want %q", got, want)
			}
			link := msg.Links()[0]
			if !strings.HasPrefix(link, a.URL+"/auth/verify?token=") {
				t.Fatalf("link %q does not point at APP_URL/auth/verify", link)
			}

			// Opening the link twice (a mail scanner, then the person) uses nothing.
			for range 2 {
				page := b.Get(link)
				if page.StatusCode != http.StatusOK || !strings.Contains(page.Text("verify-email"), "ada@example.com") {
					t.Fatalf("GET link: %d\n%s", page.StatusCode, page.Body)
				}
			}
			if _, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), "ada@example.com"); app.ErrorCode(err) != app.ENOTFOUND {
				t.Fatalf("a GET created the user: %v", err)
			}

			page := b.Get(link)
			res = b.Submit(page, "verify-submit", nil)
			// A first sign-in asks for a name on the way (TestNameStep).
			if got, want := res.Location(), "/welcome"; got != want {
				t.Fatalf("after verify Location=%q, want %q", got, want)
			}
			res = skipNameStep(t, b, res)
			if got, want := res.Location(), "/app"; got != want {
				t.Fatalf("after skipping the name step Location=%q, want %q", got, want)
			}
			home := b.Follow(res)
			// A first sign-in with no workspace lands on "create a workspace".
			if !home.Has("workspace-create-form") || !strings.Contains(home.Text("nav-email"), "ada@example.com") {
				t.Fatalf("not signed in after verify:\n%s", home.Body)
			}
			// The page itself shows who is signed in: no flash says it again.
			if home.Has("flash") {
				t.Errorf("flash=%q after signing in, want none", home.Text("flash"))
			}

			u, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), "ada@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := a.auditActions(t, u.ID), []string{app.ActionSignedIn, app.ActionUserCreated}; !slices.Equal(got, want) {
				t.Fatalf("audit=%v, want %v", got, want)
			}
			entries, _ := store.NewAuditService(a.DB).FindAuditEntries(context.Background(), app.AuditFilter{Action: app.ActionSignedIn})
			if e := entries[0]; e.IP != "127.0.0.1" || e.RequestID == "" || e.UserAgent == "" {
				t.Fatalf("audit entry lacks request details: %+v", e)
			}

			// The used link now explains itself and offers a new one.
			used := b.Get(link)
			if got, want := used.StatusCode, http.StatusGone; got != want {
				t.Fatalf("used link status=%d, want %d", got, want)
			}
			if !used.Has("link-problem") || !used.Has("new-link") {
				t.Fatalf("used-link page lacks explanation or new-link:\n%s", used.Body)
			}

			// A signed-in visitor to /login goes into the app.
			if got, want := b.Get("/login").Location(), "/app"; got != want {
				t.Fatalf("signed-in GET /login Location=%q, want %q", got, want)
			}

			// No token reached the log.
			token := strings.TrimPrefix(link, a.URL+"/auth/verify?token=")
			if strings.Contains(a.logs.String(), token) {
				t.Fatal("the sign-in token appears in the log")
			}
		})
	}
}

func TestLogin_InvalidEmail(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	for _, in := range []string{"", "not-an-email", "a@b", "Ada <ada@example.com>", strings.Repeat("a", 250) + "@example.com"} {
		res := b.Post("/login", url.Values{"email": {in}})
		if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
			t.Fatalf("email %q: status=%d, want %d", in, got, want)
		}
		if res.Text("field-email-error") == "" {
			t.Fatalf("email %q: no inline error:\n%s", in, res.Body)
		}
		if got, _ := res.Doc.Find(`input[name="email"]`).Attr("value"); got != strings.TrimSpace(in) {
			t.Fatalf("email %q: the form lost the input (value=%q)", in, got)
		}
	}
	if n := len(a.SMTP.Messages()); n != 0 {
		t.Fatalf("%d emails sent for invalid addresses", n)
	}
}

func TestLogin_SameAnswerForKnownAndUnknown(t *testing.T) {
	a := newTestApp(t, "sqlite")
	known := a.newBrowser(t)
	known.signIn("known@example.com")
	known.Post("/logout", nil)

	first := a.newBrowser(t).Post("/login", url.Values{"email": {"known@example.com"}})
	second := a.newBrowser(t).Post("/login", url.Values{"email": {"unknown@example.com"}})
	if first.StatusCode != second.StatusCode {
		t.Fatalf("status differs: known %d, unknown %d", first.StatusCode, second.StatusCode)
	}
	k := strings.ReplaceAll(a.newBrowser(t).Follow(first).Text("check-email"), "known@", "X@")
	u := strings.ReplaceAll(a.newBrowser(t).Follow(second).Text("check-email"), "unknown@", "X@")
	if k != u {
		t.Fatalf("pages differ:\nknown:   %q\nunknown: %q", k, u)
	}
}

func TestVerify_BadLinks(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	b.Post("/login", url.Values{"email": {"late@example.com"}})
	link := a.SMTP.WaitForMessage(t, "late@example.com", 5*time.Second).Links()[0]
	page := b.Get(link)

	a.Clock.Add(app.LoginTokenTTL + time.Second)
	expired := b.Submit(page, "verify-submit", nil)
	if got, want := expired.StatusCode, http.StatusGone; got != want {
		t.Fatalf("expired link status=%d, want %d", got, want)
	}
	if reason, _ := expired.Doc.Find(`[data-testid="link-problem"]`).Attr("data-reason"); reason != "expired" {
		t.Fatalf("expired link reason=%q\n%s", reason, expired.Body)
	}

	unknown, _ := app.NewToken()
	for name, path := range map[string]string{
		"unknown":   "/auth/verify?token=" + unknown,
		"malformed": "/auth/verify?token=abc%3Cscript%3E",
		"missing":   "/auth/verify",
	} {
		res := b.Get(path)
		if res.StatusCode != http.StatusNotFound || !res.Has("new-link") {
			t.Errorf("%s token: status %d, new-link=%v", name, res.StatusCode, res.Has("new-link"))
		}
	}
	res := b.Post("/auth/verify", url.Values{"token": {unknown}})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("POST unknown token: status %d", res.StatusCode)
	}
}

func TestVerify_NextIsAlwaysLocal(t *testing.T) {
	a := newTestApp(t, "sqlite")
	cases := []struct {
		next, want string
	}{
		{"/settings/account", "/settings/account"},
		{"//evil.example/x", "/app"},
		{"https://evil.example/", "/app"},
		{`/\evil.example`, "/app"},
		{"/%2F%2Fevil.example", "/app"},
		{"javascript:alert(1)", "/app"},
	}
	for i, tc := range cases {
		b := a.newBrowser(t)
		email := "next" + itoa(i) + "@example.com"
		b.Post("/login", url.Values{"email": {email}, "next": {tc.next}})
		link := a.SMTP.WaitForMessage(t, email, 5*time.Second).Links()[0]
		res := skipNameStep(t, b, b.Submit(b.Get(link), "verify-submit", nil))
		if got := res.Location(); got != tc.want {
			t.Errorf("next=%q: Location=%q, want %q", tc.next, got, tc.want)
		}
	}

	// A requested page survives the trip through sign-in.
	b := a.newBrowser(t)
	res := b.Get("/settings/account")
	if got, want := res.Location(), "/login?next=%2Fsettings%2Faccount"; got != want {
		t.Fatalf("anonymous /settings/account Location=%q, want %q", got, want)
	}
	login := b.Get(res.Location())
	if v, _ := login.Doc.Find(`input[name="next"]`).Attr("value"); v != "/settings/account" {
		t.Fatalf("login form next=%q", v)
	}
	b.Submit(login, "login-submit", url.Values{"email": {"back@example.com"}})
	link := a.SMTP.WaitForMessage(t, "back@example.com", 5*time.Second).Links()[0]
	if got := skipNameStep(t, b, b.Submit(b.Get(link), "verify-submit", nil)).Location(); got != "/settings/account" {
		t.Fatalf("Location=%q, want /settings/account", got)
	}
}

func TestSignIn_FreshSessionAndSignOut(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	b.signIn("first@example.com")
	u, _ := url.Parse(a.URL)
	before := b.client.Jar.Cookies(u)

	b.signIn("second@example.com")
	after := b.client.Jar.Cookies(u)
	old, fresh := cookieValue(before, "atrium_session"), cookieValue(after, "atrium_session")
	if old == "" || fresh == "" || old == fresh {
		t.Fatalf("session cookie not replaced on sign-in: before %q after %q", old, fresh)
	}
	if _, err := store.NewAuthService(a.DB).Authenticate(context.Background(), app.HashToken(old)); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Fatalf("the pre-sign-in session still works: %v", err)
	}

	res := b.Submit(b.Get("/settings/account"), "logout", nil)
	if got, want := res.Location(), "/login"; got != want {
		t.Fatalf("logout Location=%q, want %q", got, want)
	}
	if got := b.Get("/settings/account").Location(); !strings.HasPrefix(got, "/login") {
		t.Fatalf("after logout /app Location=%q, want the login page", got)
	}
	if _, err := store.NewAuthService(a.DB).Authenticate(context.Background(), app.HashToken(fresh)); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Fatalf("session still valid after logout: %v", err)
	}
}

func cookieValue(cs []*http.Cookie, name string) string {
	for _, c := range cs {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func TestAccount_Sessions(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			laptop, phone := a.newBrowser(t), a.newBrowser(t)
			laptop.Headers.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
			phone.Headers.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1")
			laptop.signIn("multi@example.com")
			phone.signIn("multi@example.com")

			acct := laptop.Get("/settings/account")
			rows := acct.Doc.Find(`[data-testid="session-row"]`)
			if got, want := rows.Length(), 2; got != want {
				t.Fatalf("%d session rows, want %d", got, want)
			}
			if !strings.Contains(acct.Body, "Firefox on Linux") || !strings.Contains(acct.Body, "Safari on iOS") {
				t.Fatalf("devices not described:\n%s", acct.Body)
			}
			if n := acct.Doc.Find(`[data-testid="this-device"]`).Length(); n != 1 {
				t.Fatalf("%d rows marked as this device, want 1", n)
			}

			res := laptop.Follow(laptop.Submit(acct, "revoke-session", confirmYes))
			if got := res.Text("flash"); !strings.Contains(got, "signed out") {
				t.Fatalf("flash=%q", got)
			}
			if got := phone.Get("/settings/account").Location(); !strings.HasPrefix(got, "/login") {
				t.Fatalf("revoked phone still signed in (Location=%q)", got)
			}
			if laptop.Get("/settings/account").StatusCode != http.StatusOK {
				t.Fatal("laptop was signed out too")
			}

			// Sign out everywhere else.
			phone.signIn("multi@example.com")
			res = laptop.Follow(laptop.Submit(laptop.Get("/settings/account"), "revoke-others", confirmYes))
			if got := res.Text("flash"); !strings.Contains(got, "1 other device") {
				t.Fatalf("flash=%q", got)
			}
			if got := phone.Get("/settings/account").Location(); !strings.HasPrefix(got, "/login") {
				t.Fatal("phone still signed in after sign-out everywhere else")
			}

			// Another user's session id is not ours to revoke.
			other := a.newBrowser(t)
			other.signIn("other@example.com")
			res = other.Post("/settings/account/sessions/1/revoke", nil)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("revoke foreign session: status %d", res.StatusCode)
			}
			if laptop.Get("/settings/account").StatusCode != http.StatusOK {
				t.Fatal("another user signed the laptop out")
			}
		})
	}
}
