package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/config"
)

func TestSecretGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		secret      bool
	}{
		// Allowed.
		{"PUBLIC_APP_NAME", "Atrium", false},
		{"PUBLIC_STRIPE_PUBLISHABLE_KEY", "pk_test_x", false},
		{"PUBLIC_STRIPE_PUBLISHABLE_KEY", "pk_live_x", false},
		{"PUBLIC_SUPPORT_EMAIL", "help@example.com", false},
		{"PUBLIC_KEYBOARD_LAYOUT", "qwerty", false},
		{"PUBLIC_META_KEYWORDS", "teams,workspaces", false},
		{"PUBLIC_API_TOKEN", "", false},             // unset
		{"STRIPE_SECRET_KEY", "sk_live_abc", false}, // not PUBLIC_
		{"public_secret", "sk_live_abc", false},     // not PUBLIC_
		{"PUBLIC_DOCS_URL", "https://example.com/sk_live_", false},
		// Secret by name.
		{"PUBLIC_STRIPE_SECRET_KEY", "x", true},
		{"PUBLIC_API_TOKEN", "abc", true},
		{"PUBLIC_DB_PASSWORD", "x", true},
		{"PUBLIC_SMTP_PASSWD", "x", true},
		{"PUBLIC_PRIVATE_THING", "x", true},
		{"PUBLIC_API_KEY", "x", true},
		{"PUBLIC_KEY", "x", true},
		{"PUBLIC_KEY_ID", "x", true},
		{"PUBLIC_APIKEY", "x", true},
		{"PUBLIC_MAPS_APIKEY_V2", "x", true},
		{"PUBLIC_API_KEYS", "x", true},
		{"PUBLIC_webhook_secret", "x", true},
		{"PUBLIC_STRIPE_PUBLISHABLE_KEY", "not-a-pk", true},
		{"PUBLIC_STRIPE_PUBLISHABLE_KEY_SECRET", "pk_test_x", true},
		// Secret by value.
		{"PUBLIC_FOO", "sk_live_abc", true},
		{"PUBLIC_FOO", "sk_test_abc", true},
		{"PUBLIC_FOO", " rk_live_abc", true},
		{"PUBLIC_FOO", "rk_test_abc", true},
		{"PUBLIC_FOO", "rk_abc", true},
		{"PUBLIC_FOO", "whsec_abc", true},
		{"PUBLIC_FOO", "-----BEGIN RSA PRIVATE KEY-----\nMIIE...", true},
		{"PUBLIC_STRIPE_PUBLISHABLE_KEY", "sk_live_abc", true},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			got := config.SecretGuard(config.Env{tt.name: tt.value})
			var want []string
			if tt.secret {
				want = []string{tt.name}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("SecretGuard mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSecretGuard_Sorted(t *testing.T) {
	t.Parallel()
	got := config.SecretGuard(config.Env{
		"PUBLIC_Z_TOKEN":   "a",
		"PUBLIC_APP_NAME":  "Atrium",
		"PUBLIC_A":         "whsec_1",
		"PUBLIC_M_SECRET":  "b",
		"SMTP_PASSWORD":    "c",
		"PUBLIC_LOGO_PATH": "/logo.svg",
	})
	want := []string{"PUBLIC_A", "PUBLIC_M_SECRET", "PUBLIC_Z_TOKEN"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("SecretGuard mismatch (-want +got):\n%s", diff)
	}
}

func TestGuardError(t *testing.T) {
	t.Parallel()
	var err error = &config.GuardError{Names: []string{"PUBLIC_A", "PUBLIC_B"}}
	want := "Build guard detected server-only secrets: PUBLIC_A, PUBLIC_B\n" +
		"Remove the PUBLIC_ prefix from these variables (only PUBLIC_* values are ever sent to browsers) or move the value to a server-only variable."
	if got := err.Error(); got != want {
		t.Fatalf("Error()=%q, want %q", got, want)
	}
	if !strings.HasPrefix(err.Error(), config.GuardMessage) {
		t.Fatalf("Error() does not start with GuardMessage")
	}
	var gerr *config.GuardError
	if !errors.As(err, &gerr) {
		t.Fatal("errors.As failed")
	}
}
