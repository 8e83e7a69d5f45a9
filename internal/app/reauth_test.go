package app_test

import (
	"testing"
	"time"

	"atrium/internal/app"
)

func TestPrincipal_RecentlyVerifiedAndPolicy(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                      string
		userFactor, sessFactor    bool
		verified                  time.Time
		wantRecent, wantCompliant bool
	}{
		{"link just now, no factor", false, false, now.Add(-time.Minute), true, false},
		{"link long ago, no factor", false, false, now.Add(-app.ReauthWindow - time.Second), false, false},
		{"never verified", false, false, time.Time{}, false, false},
		{"factor, link-only session from before enrolment", true, false, now.Add(-time.Minute), false, false},
		{"factor, session that used it just now", true, true, now.Add(-time.Minute), true, true},
		{"factor, session that used it long ago", true, true, now.Add(-time.Hour), false, true},
		{"verified in the future", true, true, now.Add(time.Hour), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &app.Principal{User: app.User{TwoFactor: tc.userFactor},
				Session: app.Session{SecondFactor: tc.sessFactor, VerifiedAt: tc.verified}}
			if got := p.RecentlyVerified(now); got != tc.wantRecent {
				t.Errorf("RecentlyVerified=%v, want %v", got, tc.wantRecent)
			}
			if got := p.MeetsTwoFactorPolicy(); got != tc.wantCompliant {
				t.Errorf("MeetsTwoFactorPolicy=%v, want %v", got, tc.wantCompliant)
			}
		})
	}
}
