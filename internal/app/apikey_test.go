package app_test

import (
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
)

func TestNewAPIKeySecret(t *testing.T) {
	secret, prefix, hash := app.NewAPIKeySecret()
	if !app.ValidAPIKeySyntax(secret) || len(secret) != 47 || !strings.HasPrefix(secret, "atr_") {
		t.Fatalf("secret %q is not atr_ and 43 characters of URL-safe base64", secret)
	}
	if prefix != secret[:12] || hash != app.HashToken(secret) {
		t.Fatalf("prefix %q hash %q do not belong to %q", prefix, hash, secret)
	}
	if other, _, _ := app.NewAPIKeySecret(); other == secret {
		t.Fatal("two secrets are equal")
	}
	for _, bad := range []string{"", "atr_", "atr_short", strings.TrimPrefix(secret, "atr_"), "xyz_" + secret[4:], secret + "x"} {
		if app.ValidAPIKeySyntax(bad) {
			t.Errorf("ValidAPIKeySyntax(%q) = true", bad)
		}
	}
}

func TestValidateNewAPIKey(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		in         app.NewAPIKey
		wantField  string
		wantScopes string
		wantName   string
	}{
		{"Both", app.NewAPIKey{Name: "  deploy   bot ", Scopes: []string{"write", "read"}}, "", "read write", "deploy bot"},
		{"ReadOnly", app.NewAPIKey{Name: "ci", Scopes: []string{"read"}}, "", "read", "ci"},
		{"Future", app.NewAPIKey{Name: "ci", Scopes: []string{"read"}, ExpiresAt: now.Add(time.Hour)}, "", "read", "ci"},
		{"EmptyName", app.NewAPIKey{Name: " ", Scopes: []string{"read"}}, "name", "", ""},
		{"LongName", app.NewAPIKey{Name: strings.Repeat("x", 61), Scopes: []string{"read"}}, "name", "", ""},
		{"NoScope", app.NewAPIKey{Name: "ci"}, "scopes", "", ""},
		{"UnknownScope", app.NewAPIKey{Name: "ci", Scopes: []string{"read", "admin"}}, "scopes", "", ""},
		{"Past", app.NewAPIKey{Name: "ci", Scopes: []string{"read"}, ExpiresAt: now}, "expires", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := app.ValidateNewAPIKey(tc.in, now)
			if field := app.ErrorField(err); field != tc.wantField {
				t.Fatalf("field=%q (err %v), want %q", field, err, tc.wantField)
			}
			if err != nil {
				return
			}
			if s := strings.Join(got.Scopes, " "); s != tc.wantScopes || got.Name != tc.wantName {
				t.Fatalf("name %q scopes %q, want %q %q", got.Name, s, tc.wantName, tc.wantScopes)
			}
		})
	}
}

func TestAPIKey_Rules(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	k := &app.APIKey{Name: "bot", Prefix: "atr_ab12cd3e", Scopes: []string{"read"}}
	if !k.Live(now) || !k.Has("read") || k.Has("write") {
		t.Fatal("a fresh read key")
	}
	if got, want := k.Label(), "API key 'bot' (atr_ab12cd3e…)"; got != want {
		t.Fatalf("Label=%q, want %q", got, want)
	}
	if (&app.APIKey{ExpiresAt: now}).Live(now) || (&app.APIKey{RevokedAt: now.Add(-time.Hour)}).Live(now) {
		t.Fatal("an expired or revoked key is live")
	}
	for role, want := range map[app.Role]string{app.RoleOwner: "", app.RoleAdmin: "", app.RoleMember: app.EFORBIDDEN, "": app.EFORBIDDEN} {
		if got := app.ErrorCode(app.CanManageAPIKeys(role)); got != want {
			t.Errorf("CanManageAPIKeys(%q)=%q, want %q", role, got, want)
		}
	}
	if err := app.CanInvite(app.APIKeyRole, app.RoleOwner); app.ErrorCode(err) != app.EFORBIDDEN {
		t.Errorf("a key may invite an owner: %v", err)
	}
}

// TestSealAPIKeySecret checks the one-time reveal's sealing: the stored
// parts hold neither the secret nor the token, only the token opens it,
// and a changed seal does not open.
func TestSealAPIKeySecret(t *testing.T) {
	secret, _, _ := app.NewAPIKeySecret()
	token, r := app.SealAPIKeySecret(secret)
	if !app.ValidTokenSyntax(token) || r.TokenHash != app.HashToken(token) {
		t.Fatalf("token %q with hash %q", token, r.TokenHash)
	}
	if strings.Contains(r.Sealed, secret[4:]) || strings.Contains(r.Sealed, token) {
		t.Fatal("the sealed secret holds the secret or the token in clear")
	}
	if got, ok := app.OpenAPIKeySecret(token, r.Sealed); !ok || got != secret {
		t.Fatalf("open: %q, %v; want the secret", got, ok)
	}
	other, _ := app.NewToken()
	if _, ok := app.OpenAPIKeySecret(other, r.Sealed); ok {
		t.Fatal("another token opens the seal")
	}
	tampered := []byte(r.Sealed)
	tampered[len(tampered)-2] ^= 1
	for _, bad := range []string{string(tampered), "", "!!", r.Sealed[:10]} {
		if _, ok := app.OpenAPIKeySecret(token, bad); ok {
			t.Errorf("the seal %q opens", bad)
		}
	}
	if got := app.APIKeyActs(app.RoleOwner) && app.APIKeyActs(app.RoleAdmin) && !app.APIKeyActs(app.RoleMember) && !app.APIKeyActs(""); !got {
		t.Error("APIKeyActs: want owners and admins only")
	}
}

func TestAPIKey_CreatedBy(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  app.APIKey
		want string
	}{
		{name: "Name", key: app.APIKey{CreatorName: "Ada", CreatorEmail: "ada@example.com"}, want: "Ada"},
		{name: "Email", key: app.APIKey{CreatorEmail: "ada@example.com"}, want: "ada@example.com"},
		{name: "Gone", key: app.APIKey{}, want: "A former member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.key.CreatedBy(); got != tc.want {
				t.Errorf("CreatedBy()=%q, want %q", got, tc.want)
			}
		})
	}
}
