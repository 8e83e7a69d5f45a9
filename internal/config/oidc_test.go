package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/config"
)

func TestLoad_Providers(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		c := mustLoad(t, config.Env{
			"OIDC_GOOGLE_CLIENT_ID": "g-id", "OIDC_GOOGLE_CLIENT_SECRET": "g-secret",
			"OIDC_MICROSOFT_CLIENT_ID": "m-id", "OIDC_MICROSOFT_CLIENT_SECRET": "m-secret",
			"OIDC_GITHUB_CLIENT_ID": "h-id", "OIDC_GITHUB_CLIENT_SECRET": "h-secret",
			"OIDC_OKTA_ISSUER": "https://acme.okta.com", "OIDC_OKTA_CLIENT_ID": "o-id", "OIDC_OKTA_CLIENT_SECRET": "o-secret",
			"OIDC_OKTA_LABEL": "Acme SSO",
		})
		want := []config.Provider{
			{Name: "github", Kind: "github", Label: "GitHub", Issuer: "https://github.com", ClientID: "h-id", ClientSecret: "h-secret", APIURL: "https://api.github.com"},
			{Name: "google", Kind: "google", Label: "Google", Issuer: "https://accounts.google.com", ClientID: "g-id", ClientSecret: "g-secret"},
			{Name: "microsoft", Kind: "microsoft", Label: "Microsoft", Issuer: "https://login.microsoftonline.com/common/v2.0", ClientID: "m-id", ClientSecret: "m-secret"},
			{Name: "okta", Kind: "oidc", Label: "Acme SSO", Issuer: "https://acme.okta.com", ClientID: "o-id", ClientSecret: "o-secret"},
		}
		if diff := cmp.Diff(want, c.Providers); diff != "" {
			t.Fatalf("Providers (-want +got):\n%s", diff)
		}
		for _, s := range []string{"g-secret", "m-secret", "h-secret", "o-secret"} {
			if !slices.Contains(c.SecretValues(), s) {
				t.Errorf("SecretValues lacks a client secret")
			}
		}
	})
	t.Run("None", func(t *testing.T) {
		if c := mustLoad(t, config.Env{}); len(c.Providers) != 0 {
			t.Fatalf("Providers = %+v, want none", c.Providers)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		verr := problems(t, config.Env{
			"APP_ENV":            "production",
			"SMTP_HOST":          "smtp.example.com",
			"OIDC_ACME_LABEL":    "Acme",               // no issuer, id or secret
			"OIDC_DEV_ISSUER":    "http://localhost:9", // http in production
			"OIDC_DEV_CLIENT_ID": "x", "OIDC_DEV_CLIENT_SECRET": "super-secret-value",
			"OIDC_ODD_KIND": "saml", "OIDC_ODD_ISSUER": "https://x.example.com?a=b", "OIDC_ODD_CLIENT_ID": "x",
		})
		got := verr.Error()
		for _, want := range []string{
			"OIDC_ACME_ISSUER: required", "OIDC_ACME_CLIENT_ID: required", "OIDC_ACME_CLIENT_SECRET: required",
			`OIDC_DEV_ISSUER="http://localhost:9": expected an https:// URL`,
			`OIDC_ODD_KIND="saml": expected oidc, google, microsoft or github`,
			"OIDC_ODD_ISSUER=", "OIDC_ODD_CLIENT_SECRET: required",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("problems lack %q:\n%s", want, got)
			}
		}
		if strings.Contains(got, "super-secret-value") {
			t.Fatal("a client secret appears in the problems")
		}
	})
	t.Run("HTTPOutsideProduction", func(t *testing.T) {
		c := mustLoad(t, config.Env{"OIDC_DEV_ISSUER": "http://127.0.0.1:5556", "OIDC_DEV_CLIENT_ID": "x", "OIDC_DEV_CLIENT_SECRET": "y"})
		if p, ok := c.Provider("dev"); !ok || p.Issuer != "http://127.0.0.1:5556" || p.Label != "Dev" {
			t.Fatalf("Provider(dev) = %+v, %v", p, ok)
		}
	})
}
