package oidc

import (
	"testing"

	"atrium/internal/config"
)

func TestTenantTemplate(t *testing.T) {
	for in, want := range map[string]string{
		"https://login.microsoftonline.com/common/v2.0":        "https://login.microsoftonline.com/{tenantid}/v2.0",
		"https://login.microsoftonline.com/organizations/v2.0": "https://login.microsoftonline.com/{tenantid}/v2.0",
		"http://127.0.0.1:9/common/v2.0":                       "http://127.0.0.1:9/{tenantid}/v2.0",
		"https://login.microsoftonline.com/72f988bf/v2.0":      "https://login.microsoftonline.com/72f988bf/v2.0",
	} {
		if got := tenantTemplate(in); got != want {
			t.Errorf("tenantTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEmailVerified(t *testing.T) {
	for _, tc := range []struct {
		kind   string
		claims string
		want   bool
	}{
		{config.ProviderOIDC, `{"email_verified":true}`, true},
		{config.ProviderOIDC, `{"email_verified":"true"}`, true},
		{config.ProviderOIDC, `{"email_verified":false}`, false},
		{config.ProviderOIDC, `{}`, false},
		{config.ProviderGoogle, `{"email_verified":true}`, true},
		// Microsoft: only xms_edov counts, whatever email_verified says.
		{config.ProviderMicrosoft, `{"email_verified":true}`, false},
		{config.ProviderMicrosoft, `{"xms_edov":false,"email_verified":true}`, false},
		{config.ProviderMicrosoft, `{"xms_edov":true}`, true},
		{config.ProviderMicrosoft, `{"xms_edov":"1"}`, false},
	} {
		var c idClaims
		if err := jsonUnmarshal([]byte(tc.claims), &c); err != nil {
			t.Fatal(err)
		}
		p := &Provider{cfg: config.Provider{Kind: tc.kind}}
		if got := p.emailVerified(c); got != tc.want {
			t.Errorf("%s %s: verified=%v, want %v", tc.kind, tc.claims, got, tc.want)
		}
	}
}

func TestRegistry_Origins(t *testing.T) {
	cfg := &config.Config{Providers: []config.Provider{
		{Name: "google", Issuer: "https://accounts.google.com"},
		{Name: "okta", Issuer: "https://acme.okta.com/oauth2/default"},
		{Name: "okta2", Issuer: "https://acme.okta.com"},
	}}
	cfg.AppURL = mustURL(t, "https://atrium.example.com")
	got := New(cfg, nil).Origins()
	if len(got) != 2 || got[0] != "https://accounts.google.com" || got[1] != "https://acme.okta.com" {
		t.Fatalf("Origins = %q", got)
	}
}
