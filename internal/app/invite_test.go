package app_test

import (
	"errors"
	"testing"
	"time"

	"atrium/internal/app"
)

func TestInviteMailLimits_CheckInviteMail(t *testing.T) {
	t.Parallel()
	limits := app.InviteMailLimits{ResendGap: 5 * time.Minute, ResendsPerDay: 2, PerAddressPerDay: 4}
	t0 := time.Date(2026, 11, 29, 9, 0, 30, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	cases := []struct {
		name   string
		now    time.Time
		h      app.InviteMailHistory
		reason string    // "" when allowed
		next   time.Time // when refused, rounded up to the minute
	}{
		{name: "FirstEmail", now: t0},
		{name: "WithinGap", now: at(time.Minute), h: app.InviteMailHistory{Invite: []time.Time{t0}, Address: []time.Time{t0}},
			reason: app.RetryGap, next: at(5*time.Minute + 30*time.Second)},
		{name: "GapPassed", now: at(5 * time.Minute), h: app.InviteMailHistory{Invite: []time.Time{t0}, Address: []time.Time{t0}}},
		{name: "ResendsUsedUp", now: at(time.Hour),
			h:      app.InviteMailHistory{Invite: []time.Time{t0, at(10 * time.Minute), at(20 * time.Minute)}, Resends: []time.Time{at(10 * time.Minute), at(20 * time.Minute)}, Address: []time.Time{t0, at(10 * time.Minute), at(20 * time.Minute)}},
			reason: app.RetryInviteDaily, next: at(24*time.Hour + 10*time.Minute + 30*time.Second)},
		{name: "AddressFull", now: at(time.Hour), h: app.InviteMailHistory{Address: []time.Time{t0, at(time.Minute), at(2 * time.Minute), at(3 * time.Minute)}},
			reason: app.RetryAddressDaily, next: at(24*time.Hour + 30*time.Second)},
		{name: "AddressDecidesWhenLater", now: at(4 * time.Minute),
			h:      app.InviteMailHistory{Invite: []time.Time{at(3 * time.Minute)}, Address: []time.Time{t0, at(time.Minute), at(2 * time.Minute), at(3 * time.Minute)}},
			reason: app.RetryAddressDaily, next: at(24*time.Hour + 30*time.Second)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := limits.CheckInviteMail(tc.now, tc.h, true)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("CheckInviteMail=%v, want nil", err)
				}
				return
			}
			var re *app.RetryError
			if !errors.As(err, &re) {
				t.Fatalf("CheckInviteMail=%v, want a RetryError", err)
			}
			if re.Reason != tc.reason || !re.At.Equal(tc.next) || !re.Resend {
				t.Fatalf("RetryError=%+v, want reason %q at %v", re, tc.reason, tc.next)
			}
			if got := app.ErrorCode(err); got != app.ERATELIMITED {
				t.Fatalf("code=%q, want %q", got, app.ERATELIMITED)
			}
		})
	}
	if err := (app.InviteMailLimits{}).CheckInviteMail(t0, app.InviteMailHistory{Invite: []time.Time{t0}, Address: make([]time.Time, 100)}, true); err != nil {
		t.Fatalf("zero limits refuse: %v", err)
	}
}

func TestRetryError_Message(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		err  app.RetryError
		loc  *time.Location
		want string
	}{
		{"GapUTC", app.RetryError{At: now.Add(5 * time.Minute), Resend: true, Reason: app.RetryGap}, time.UTC,
			"This invite was emailed a few minutes ago. You can resend this invite at 14:05 UTC."},
		{"GapInZone", app.RetryError{At: now.Add(5 * time.Minute), Resend: true, Reason: app.RetryGap}, ist,
			"This invite was emailed a few minutes ago. You can resend this invite at 19:35 IST."},
		{"TomorrowInZone", app.RetryError{At: now.Add(5 * time.Hour), Resend: true, Reason: app.RetryInviteDaily}, ist,
			"This invite has been resent as often as allowed in a day. You can resend this invite at 00:30 IST on 30 Nov."},
		{"NewInviteToFullAddress", app.RetryError{At: now.Add(time.Hour), Reason: app.RetryAddressDaily}, time.UTC,
			"This address has received as many invite emails as allowed in a day. You can invite this address again at 15:00 UTC."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Message(now, tc.loc); got != tc.want {
				t.Fatalf("Message=%q, want %q", got, tc.want)
			}
		})
	}
}

func TestInvite_InvitedBy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		inv  app.Invite
		want string
	}{
		{name: "Name", inv: app.Invite{InviterName: "Ada", InviterEmail: "ada@example.com"}, want: "Ada"},
		{name: "Email", inv: app.Invite{InviterEmail: "ada@example.com"}, want: "ada@example.com"},
		{name: "APIKey", inv: app.Invite{InviterKeyName: "deploy bot", InviterKeyPrefix: "atr_ab12cd3e"}, want: "API key 'deploy bot' (atr_ab12cd3e…)"},
		{name: "Gone", inv: app.Invite{}, want: "A former member"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.inv.InvitedBy(); got != tc.want {
				t.Errorf("InvitedBy()=%q, want %q", got, tc.want)
			}
		})
	}
}

func TestInvitePendingError_Unwrap(t *testing.T) {
	t.Parallel()
	var err error = &app.InvitePendingError{Email: "dup@example.com"}
	if got, want := app.ErrorCode(err), app.ECONFLICT; got != want {
		t.Errorf("ErrorCode=%q, want %q", got, want)
	}
	if got, want := app.ErrorField(err), "email"; got != want {
		t.Errorf("ErrorField=%q, want %q", got, want)
	}
	if got, want := app.ErrorMessage(err), "dup@example.com already has a pending invite."; got != want {
		t.Errorf("ErrorMessage=%q, want %q", got, want)
	}
	var pe *app.InvitePendingError
	if !errors.As(err, &pe) || pe.Email != "dup@example.com" {
		t.Errorf("errors.As found %+v", pe)
	}
}
