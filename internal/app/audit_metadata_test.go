package app_test

import (
	"testing"

	"atrium/internal/app"
)

func TestAuditMetadataLabel(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"email":         "Email address",
		"previous_role": "Previous role",
		"window_start":  "Window start",
		"":              "Detail",
	} {
		if got := app.AuditMetadataLabel(key); got != want {
			t.Errorf("AuditMetadataLabel(%q)=%q, want %q", key, got, want)
		}
	}
}
