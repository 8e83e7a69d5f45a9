package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/mail/mailtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// newPasskeyApp starts Atrium at http://localhost:PORT: WebAuthn refuses an
// IP address as the relying party.
func newPasskeyApp(t *testing.T, dialect string) *testApp {
	t.Helper()
	a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000"), func(env config.Env) {
		env["APP_URL"] = strings.Replace(env["APP_URL"], "//127.0.0.1:", "//localhost:", 1)
	})
	a.URL = a.Cfg.AppURL.String()
	return a
}

// softKey is a software authenticator: one discoverable P-256 passkey that
// always verifies its user.
type softKey struct {
	t      *testing.T
	origin string
	rpID   string
	id     []byte
	key    *ecdsa.PrivateKey
	handle []byte
	count  uint32
}

func newSoftKey(t *testing.T, a *testApp) *softKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &softKey{t: t, origin: a.URL, rpID: a.Cfg.AppURL.Hostname(), id: id, key: key}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// authData returns authenticator data with user present and verified.
func (k *softKey) authData(attested []byte) []byte {
	rp := sha256.Sum256([]byte(k.rpID))
	flags := byte(0x01 | 0x04) // UP, UV
	if attested != nil {
		flags |= 0x40 // AT
	}
	d := append(rp[:], flags)
	d = binary.BigEndian.AppendUint32(d, k.count)
	return append(d, attested...)
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return b
}

// create answers registration options as navigator.credentials.create
// would, with "none" attestation.
func (k *softKey) create(opts *protocol.CredentialCreation) string {
	k.t.Helper()
	handle, err := base64.RawURLEncoding.DecodeString(opts.Response.User.ID.(string))
	if err != nil {
		k.t.Fatalf("user id: %v", err)
	}
	k.handle = handle
	raw, err := k.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		k.t.Fatal(err)
	}
	x, y := raw[1:33], raw[33:65]
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		k.t.Fatal(err)
	}
	attested := make([]byte, 16) // AAGUID
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(k.id)))
	attested = append(append(attested, k.id...), cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(attested)})
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64(k.id), "rawId": b64(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64(k.clientData("webauthn.create", opts.Response.Challenge.String())),
			"attestationObject": b64(att)}})
	return string(out)
}

// get answers sign-in options as navigator.credentials.get would.
func (k *softKey) get(opts *protocol.CredentialAssertion) string {
	k.t.Helper()
	k.count++
	ad := k.authData(nil)
	cd := k.clientData("webauthn.get", opts.Response.Challenge.String())
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64(k.id), "rawId": b64(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(ad), "signature": b64(sig),
			"userHandle": b64(k.handle)}})
	return string(out)
}

// beginJSON posts a begin step and decodes its options into v.
func beginJSON(t *testing.T, b *browser, path string, form url.Values, v any) {
	t.Helper()
	res := b.Post(path, form)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d\n%s", path, res.StatusCode, res.Body)
	}
	if err := json.Unmarshal([]byte(res.Body), v); err != nil {
		t.Fatalf("POST %s: %v\n%s", path, err, res.Body)
	}
}

// addPasskey registers k for the signed-in browser b and returns the
// answer to the finishing form post.
func addPasskey(t *testing.T, b *browser, k *softKey, name string) *response {
	t.Helper()
	var opts protocol.CredentialCreation
	beginJSON(t, b, "/settings/account/passkeys/begin", url.Values{"passkey_name": {name}}, &opts)
	return b.Post("/settings/account/passkeys", url.Values{"passkey_name": {name}, "credential": {k.create(&opts)}})
}

// passkeySignIn signs b in with k and returns the finishing answer.
func passkeySignIn(t *testing.T, b *browser, k *softKey, next string) *response {
	t.Helper()
	var opts protocol.CredentialAssertion
	beginJSON(t, b, "/login/passkey/begin", url.Values{"next": {next}}, &opts)
	return b.Post("/login/passkey/finish", url.Values{"next": {next}, "credential": {k.get(&opts)}})
}

// sessionOf returns b's session cookie, "" when signed out.
func sessionOf(b *browser) string {
	u, _ := url.Parse(b.app.URL)
	return cookieValue(b.client.Jar.Cookies(u), "atrium_session")
}

func userID(t *testing.T, a *testApp, email string) int64 {
	t.Helper()
	u, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestPasskey_Ceremonies(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newPasskeyApp(t, dialect)
			b := a.newBrowser(t)
			b.signIn("ada@example.com")
			k := newSoftKey(t, a)

			// The options ask for a discoverable, user-verifying passkey
			// of this host.
			var opts protocol.CredentialCreation
			beginJSON(t, b, "/settings/account/passkeys/begin", url.Values{"passkey_name": {"Laptop"}}, &opts)
			sel := opts.Response.AuthenticatorSelection
			if got, want := opts.Response.RelyingParty.ID, "localhost"; got != want {
				t.Errorf("rp.id=%q, want %q", got, want)
			}
			if sel.ResidentKey != protocol.ResidentKeyRequirementRequired || sel.UserVerification != protocol.VerificationRequired {
				t.Errorf("authenticatorSelection=%+v", sel)
			}

			// The first passkey comes with recovery codes.
			res := b.Follow(b.Post("/settings/account/passkeys", url.Values{"passkey_name": {" Test  key "}, "credential": {k.create(&opts)}}))
			if res.StatusCode != http.StatusOK || res.Doc.Find(`[data-testid="recovery-codes"] li`).Length() != app.RecoveryCodeCount {
				t.Fatalf("add passkey: status %d, want the recovery codes\n%s", res.StatusCode, res.Body)
			}
			tf := store.NewTwoFactorService(a.DB, testTwoFactorKey)
			st, err := tf.FindTwoFactor(context.Background(), userID(t, a, "ada@example.com"))
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Passkeys) != 1 || st.Passkeys[0].Name != "Test key" || st.RecoveryCodesLeft != app.RecoveryCodeCount {
				t.Fatalf("after adding: %d passkeys (%+v), %d recovery codes", len(st.Passkeys), st.Passkeys, st.RecoveryCodesLeft)
			}
			if st.Passkeys[0].LastUsedAt != nil {
				t.Errorf("new passkey LastUsedAt=%v, want never used", st.Passkeys[0].LastUsedAt)
			}

			// The same authenticator cannot be added twice: it is excluded,
			// and the store refuses a repeated credential id.
			var again protocol.CredentialCreation
			beginJSON(t, b, "/settings/account/passkeys/begin", url.Values{"passkey_name": {"Again"}}, &again)
			if n := len(again.Response.CredentialExcludeList); n != 1 {
				t.Errorf("excludeCredentials has %d entries, want 1", n)
			}
			res = b.Post("/settings/account/passkeys", url.Values{"passkey_name": {"Again"}, "credential": {k.create(&again)}})
			if res.StatusCode != http.StatusConflict {
				t.Errorf("adding the same passkey again: status %d, want 409", res.StatusCode)
			}

			// Signed out, the passkey alone signs in and goes to next.
			b.Post("/logout", nil)
			if sessionOf(b) != "" {
				t.Fatal("still signed in after logout")
			}
			res = passkeySignIn(t, b, k, "/settings/account")
			if res.StatusCode != http.StatusSeeOther || res.Location() != "/settings/account" {
				t.Fatalf("passkey sign-in: status %d Location %q\n%s", res.StatusCode, res.Location(), res.Body)
			}
			if sessionOf(b) == "" {
				t.Fatal("no session after passkey sign-in")
			}
			if got := b.Follow(res); !strings.Contains(got.Body, "ada@example.com") {
				t.Errorf("account page after passkey sign-in does not show the user")
			}
			st, _ = tf.FindTwoFactor(context.Background(), userID(t, a, "ada@example.com"))
			if st.Passkeys[0].LastUsedAt == nil {
				t.Error("LastUsedAt not set by sign-in")
			}
			if acts := a.auditActions(t, userID(t, a, "ada@example.com")); !contains(acts, app.ActionPasskeyAdded) {
				t.Errorf("audit=%v, want %s", acts, app.ActionPasskeyAdded)
			}

			// The account page lists it, used.
			acct := b.Get("/settings/account")
			if got := acct.Text("passkey-name-cell"); got != "Test key" {
				t.Errorf("account lists passkey %q", got)
			}
			if got := acct.Text("passkey-last-used"); got == "" || got == "Never used" {
				t.Errorf("last used %q after signing in with it", got)
			}

			// After a magic link, the passkey is the second factor: the
			// options name it, and the sign-in goes on to the link's page.
			b.Post("/logout", nil)
			b.Post("/login", url.Values{"email": {"ada@example.com"}, "next": {"/settings/workspaces"}})
			link := a.SMTP.WaitForMessageMatching(t, "ada@example.com", 5*time.Second, mailtest.LinkTo(a.URL+"/auth/verify")).Links()[0]
			res = b.Submit(b.Get(link), "verify-submit", nil)
			if res.Location() != "/login/two-factor" || sessionOf(b) != "" {
				t.Fatalf("magic link with a passkey: Location %q, session %v", res.Location(), sessionOf(b) != "")
			}
			if !b.Get("/login/two-factor").Has("passkey-signin-form") {
				t.Error("second-factor page offers no passkey")
			}
			// Another account's passkey does not finish it.
			eve := a.newBrowser(t)
			eve.signIn("eve@example.com")
			other := newSoftKey(t, a)
			addPasskey(t, eve, other, "Eve's")
			var mfa protocol.CredentialAssertion
			beginJSON(t, b, "/login/passkey/begin", nil, &mfa)
			if ids := mfa.Response.AllowedCredentials; len(ids) != 1 || b64(ids[0].CredentialID) != b64(k.id) {
				t.Errorf("allowCredentials=%v, want ada's passkey", ids)
			}
			other.handle = k.handle
			res = b.Post("/login/passkey/finish", url.Values{"credential": {other.get(&mfa)}})
			if res.Location() != "/login/two-factor" || sessionOf(b) != "" {
				t.Errorf("another's passkey as second factor: status %d Location %q", res.StatusCode, res.Location())
			}
			beginJSON(t, b, "/login/passkey/begin", nil, &mfa)
			res = b.Post("/login/passkey/finish", url.Values{"credential": {k.get(&mfa)}})
			if res.StatusCode != http.StatusSeeOther || res.Location() != "/settings/workspaces" || sessionOf(b) == "" {
				t.Fatalf("passkey as second factor: status %d Location %q\n%s", res.StatusCode, res.Location(), res.Body)
			}
			u, _ := url.Parse(a.URL)
			if v := cookieValue(b.client.Jar.Cookies(u), "atrium_2fa"); v != "" {
				t.Error("pending sign-in cookie left behind")
			}

			// A signature counter that goes backwards is a cloned key.
			b.Post("/logout", nil)
			k.count = 0
			res = passkeySignIn(t, b, k, "")
			if res.StatusCode != http.StatusUnauthorized || sessionOf(b) != "" {
				t.Errorf("cloned passkey: status %d, session %v", res.StatusCode, sessionOf(b) != "")
			}

			// A removed passkey no longer signs in.
			b.signInWithKey(k)
			pk := st.Passkeys[0]
			res = b.Post("/settings/account/passkeys/"+strconv.FormatInt(pk.ID, 10)+"/remove", url.Values{"confirm": {"yes"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("remove: status %d\n%s", res.StatusCode, res.Body)
			}
			if got := b.Follow(res).Text("flash"); !strings.Contains(got, "Two-factor sign-in is now off") {
				t.Errorf("remove flash=%q", got)
			}
			b.Post("/logout", nil)
			res = passkeySignIn(t, b, k, "")
			if res.StatusCode != http.StatusUnauthorized || sessionOf(b) != "" {
				t.Errorf("removed passkey: status %d, session %v", res.StatusCode, sessionOf(b) != "")
			}
			if got := res.Text("flash"); got != app.ErrPasskeyUnknown.Message {
				t.Errorf("removed passkey: message %q", got)
			}
		})
	}
}

// signInWithKey signs in with k, whose counter moves on past any value
// the server has seen.
func (b *browser) signInWithKey(k *softKey) {
	b.t.Helper()
	k.count += 100
	var opts protocol.CredentialAssertion
	res := b.Post("/login/passkey/begin", nil)
	if err := json.Unmarshal([]byte(res.Body), &opts); err != nil {
		b.t.Fatalf("begin: %v\n%s", err, res.Body)
	}
	if res = b.Post("/login/passkey/finish", url.Values{"credential": {k.get(&opts)}}); res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("passkey sign-in: status %d\n%s", res.StatusCode, res.Body)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestPasskey_Abuse(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newPasskeyApp(t, dialect)
			ada := a.newBrowser(t)
			ada.signIn("ada@example.com")
			k := newSoftKey(t, a)
			if res := addPasskey(t, ada, k, "Laptop"); res.StatusCode >= 400 {
				t.Fatalf("add passkey: status %d\n%s", res.StatusCode, res.Body)
			}

			refused := func(t *testing.T, b *browser, res *response, want int) {
				t.Helper()
				if res.StatusCode != want {
					t.Errorf("status %d, want %d\n%s", res.StatusCode, want, res.Body)
				}
				if sessionOf(b) != "" {
					t.Error("a session was started")
				}
			}
			gone := func(t *testing.T, b *browser, res *response) {
				t.Helper()
				refused(t, b, res, http.StatusBadRequest)
				if got := res.Text("flash"); !strings.Contains(got, "expired or was already used") {
					t.Errorf("message %q, want the challenge's", got)
				}
			}

			t.Run("NoChallenge", func(t *testing.T) {
				b := a.newBrowser(t)
				var opts protocol.CredentialAssertion
				beginJSON(t, a.newBrowser(t), "/login/passkey/begin", nil, &opts) // another browser's ceremony
				gone(t, b, b.Post("/login/passkey/finish", url.Values{"credential": {k.get(&opts)}}))
			})

			t.Run("Expired", func(t *testing.T) {
				b := a.newBrowser(t)
				var opts protocol.CredentialAssertion
				beginJSON(t, b, "/login/passkey/begin", nil, &opts)
				a.Clock.Add(app.ChallengeTTL + time.Second)
				res := b.Post("/login/passkey/finish", url.Values{"credential": {k.get(&opts)}})
				refused(t, b, res, http.StatusBadRequest)
				if !strings.Contains(res.Text("flash"), "expired") {
					t.Errorf("message %q", res.Text("flash"))
				}
			})

			t.Run("Reused", func(t *testing.T) {
				b := a.newBrowser(t)
				var opts protocol.CredentialAssertion
				beginJSON(t, b, "/login/passkey/begin", nil, &opts)
				u, _ := url.Parse(a.URL)
				ck := b.client.Jar.Cookies(u)
				cred := k.get(&opts)
				// The first use fails (a bad answer) and uses the challenge
				// up; the good answer then comes too late.
				refused(t, b, b.Post("/login/passkey/finish", url.Values{"credential": {"{}"}}), http.StatusBadRequest)
				b.client.Jar.SetCookies(u, ck)
				gone(t, b, b.Post("/login/passkey/finish", url.Values{"credential": {cred}}))
			})

			t.Run("RegisterChallengeForLogin", func(t *testing.T) {
				var opts protocol.CredentialCreation
				beginJSON(t, ada, "/settings/account/passkeys/begin", url.Values{"passkey_name": {"Phone"}}, &opts)
				b := a.newBrowser(t)
				u, _ := url.Parse(a.URL)
				b.client.Jar.SetCookies(u, []*http.Cookie{cookieNamed(ada.client.Jar.Cookies(u), "atrium_webauthn")})
				// An assertion over the registration challenge.
				gone(t, b, b.Post("/login/passkey/finish", url.Values{"credential": {k.get(&protocol.CredentialAssertion{
					Response: protocol.PublicKeyCredentialRequestOptions{Challenge: opts.Response.Challenge}})}}))
			})

			t.Run("OtherUsersRegisterChallenge", func(t *testing.T) {
				var opts protocol.CredentialCreation
				beginJSON(t, ada, "/settings/account/passkeys/begin", url.Values{"passkey_name": {"Phone"}}, &opts)
				bob := a.newBrowser(t)
				bob.signIn("bob@example.com")
				u, _ := url.Parse(a.URL)
				bob.client.Jar.SetCookies(u, []*http.Cookie{cookieNamed(ada.client.Jar.Cookies(u), "atrium_webauthn")})
				res := bob.Post("/settings/account/passkeys", url.Values{"passkey_name": {"Phone"}, "credential": {newSoftKey(t, a).create(&opts)}})
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("status %d, want 400", res.StatusCode)
				}
				st, _ := store.NewTwoFactorService(a.DB, testTwoFactorKey).FindTwoFactor(context.Background(), userID(t, a, "bob@example.com"))
				if len(st.Passkeys) != 0 {
					t.Errorf("bob has %d passkeys", len(st.Passkeys))
				}
			})

			t.Run("GarbageCredential", func(t *testing.T) {
				for _, cred := range []string{"", "null", "{", "[1,2]", "\xff\xfe{\"id\":\"\xc3\x28\"}", `{"id":"AAAA","type":"public-key","response":{}}`} {
					b := a.newBrowser(t)
					beginJSON(t, b, "/login/passkey/begin", nil, &protocol.CredentialAssertion{})
					res := b.Post("/login/passkey/finish", url.Values{"credential": {cred}})
					if res.StatusCode < 400 || res.StatusCode >= 500 {
						t.Errorf("login with %q: status %d", cred, res.StatusCode)
					}
					beginJSON(t, ada, "/settings/account/passkeys/begin", url.Values{"passkey_name": {"X"}}, &protocol.CredentialCreation{})
					res = ada.Post("/settings/account/passkeys", url.Values{"passkey_name": {"X"}, "credential": {cred}})
					if res.StatusCode < 400 || res.StatusCode >= 500 {
						t.Errorf("register with %q: status %d", cred, res.StatusCode)
					}
				}
			})

			t.Run("BadName", func(t *testing.T) {
				for name, want := range map[string]string{"  ": "Name this passkey", strings.Repeat("x", app.MaxPasskeyNameLength+1): "at most"} {
					res := ada.Post("/settings/account/passkeys/begin", url.Values{"passkey_name": {name}})
					var p struct{ Detail, Field string }
					_ = json.Unmarshal([]byte(res.Body), &p)
					if res.StatusCode != http.StatusBadRequest || !strings.Contains(p.Detail, want) || p.Field != "passkey_name" {
						t.Errorf("name %q: status %d, problem %+v", name, res.StatusCode, p)
					}
				}
			})

			t.Run("SignedOutRegister", func(t *testing.T) {
				b := a.newBrowser(t)
				for _, path := range []string{"/settings/account/passkeys/begin", "/settings/account/passkeys"} {
					res := b.Post(path, url.Values{"passkey_name": {"X"}})
					if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
						t.Errorf("POST %s signed out: status %d Location %q", path, res.StatusCode, res.Location())
					}
				}
			})

			t.Run("RemoveOthersPasskey", func(t *testing.T) {
				tf := store.NewTwoFactorService(a.DB, testTwoFactorKey)
				st, _ := tf.FindTwoFactor(context.Background(), userID(t, a, "ada@example.com"))
				path := "/settings/account/passkeys/" + strconv.FormatInt(st.Passkeys[0].ID, 10) + "/remove"
				eve := a.newBrowser(t)
				eve.signIn("eve@example.com")
				for _, form := range []url.Values{nil, {"confirm": {"yes"}}} {
					if res := eve.Post(path, form); res.StatusCode != http.StatusNotFound {
						t.Errorf("remove another user's passkey (%v): status %d", form, res.StatusCode)
					}
				}
				if res := eve.Post("/settings/account/passkeys/abc/remove", nil); res.StatusCode != http.StatusNotFound {
					t.Errorf("remove passkey abc: status %d", res.StatusCode)
				}
				if st, _ := tf.FindTwoFactor(context.Background(), userID(t, a, "ada@example.com")); len(st.Passkeys) != 1 {
					t.Errorf("ada has %d passkeys", len(st.Passkeys))
				}
				// Unconfirmed, the owner is asked, with the consequence.
				res := ada.Post(path, nil)
				if res.StatusCode != http.StatusOK || !strings.Contains(res.Text("confirm-message"), "two-factor sign-in turns off") {
					t.Errorf("confirm page: status %d, message %q", res.StatusCode, res.Text("confirm-message"))
				}
				if got, want := res.Text("confirm-title"), "Remove the passkey “Laptop”?"; got != want {
					t.Errorf("confirm title=%q, want %q", got, want)
				}
			})
		})
	}
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return &http.Cookie{Name: name, Value: "missing"}
}

// Over an IP address, passkeys are unavailable and say so.
func TestPasskey_UnavailableOnIPAddress(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	res := b.Post("/login/passkey/begin", nil)
	var p struct{ Detail string }
	_ = json.Unmarshal([]byte(res.Body), &p)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(p.Detail, "aren’t available") {
		t.Errorf("status %d, problem %+v", res.StatusCode, p)
	}
	res = b.Post("/login/passkey/finish", url.Values{"credential": {"{}"}})
	if res.StatusCode != http.StatusServiceUnavailable || sessionOf(b) != "" {
		t.Errorf("finish: status %d", res.StatusCode)
	}
}
