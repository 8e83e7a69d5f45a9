package app_test

import (
	"strings"
	"testing"

	"atrium/internal/app"
)

func TestCanSetTwoFactorPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		actor        app.Role
		required     bool
		hasTwoFactor bool
		code         string
	}{
		{"OwnerOnWithFactor", app.RoleOwner, true, true, ""},
		{"OwnerOnWithout", app.RoleOwner, true, false, app.EINVALID},
		{"OwnerOffWithout", app.RoleOwner, false, false, ""},
		{"AdminOn", app.RoleAdmin, true, true, app.EFORBIDDEN},
		{"AdminOff", app.RoleAdmin, false, true, app.EFORBIDDEN},
		{"MemberOn", app.RoleMember, true, true, app.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := app.CanSetTwoFactorPolicy(tc.actor, tc.required, tc.hasTwoFactor)
			if got := app.ErrorCode(err); got != tc.code {
				t.Fatalf("code=%q (%v), want %q", got, err, tc.code)
			}
			if tc.code == app.EINVALID && app.ErrorField(err) != "required" {
				t.Errorf("field=%q, want \"required\"", app.ErrorField(err))
			}
		})
	}
}

func TestValidateResetReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want, code string
	}{
		{"Plain", "ticket 4711: lost phone", "ticket 4711: lost phone", ""},
		{"Spaces", "  lost   phone \n", "lost phone", ""},
		{"Empty", "   ", "", app.EINVALID},
		{"TooLong", strings.Repeat("x", app.MaxResetReasonLength+1), "", app.EINVALID},
		{"Longest", strings.Repeat("x", app.MaxResetReasonLength), strings.Repeat("x", app.MaxResetReasonLength), ""},
		{"Control", "lost\x00phone", "", app.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := app.ValidateResetReason(tc.in)
			if code := app.ErrorCode(err); code != tc.code {
				t.Fatalf("code=%q (%v), want %q", code, err, tc.code)
			}
			if tc.code == "" && got != tc.want {
				t.Errorf("reason=%q, want %q", got, tc.want)
			}
		})
	}
}
