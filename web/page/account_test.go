package page_test

import (
	"testing"

	"atrium/web/page"
)

func TestAccount(t *testing.T) {
	t.Parallel()

	t.Run("Several", func(t *testing.T) {
		t.Parallel()
		v := page.AccountView{Email: evil, Sessions: []page.SessionRow{
			{ID: 1, Current: true, Device: "Firefox on Linux", IP: "192.0.2.1", Created: "2 Jan 2026", LastSeen: "just now"},
			{ID: 42, Device: "<img src=x onerror=alert(1)>", IP: "198.51.100.7", Created: "1 Jan 2026", LastSeen: "yesterday"},
		}}
		doc, html := render(t, page.Account(signedIn, v))
		inert(t, doc, html)
		if doc.Find("img").Length() != 0 {
			t.Error("device name rendered as HTML")
		}
		if got, want := doc.Find("h1").Text(), "Account"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "account-email")), evil; got != want {
			t.Errorf("email=%q, want %q", got, want)
		}
		rows := doc.Find(`[data-testid="session-row"]`)
		if got, want := rows.Length(), 2; got != want {
			t.Fatalf("rows=%d, want %d", got, want)
		}
		if rows.Eq(0).Find(`[data-testid="this-device"]`).Length() != 1 || rows.Eq(0).Find(`[data-testid="revoke-session"]`).Length() != 0 {
			t.Error("current row: want a badge and no revoke button")
		}
		revoke := rows.Eq(1).Find(`[data-testid="revoke-session"]`)
		if got, want := attr(revoke.Closest("form"), "action"), "/settings/account/sessions/42/revoke"; got != want {
			t.Errorf("revoke action=%q, want %q", got, want)
		}
		if got, want := text(revoke), "Sign out this device"; got != want {
			t.Errorf("revoke=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "revoke-others").Closest("form"), "action"), "/settings/account/sessions/revoke-others"; got != want {
			t.Errorf("revoke-others action=%q, want %q", got, want)
		}
	})

	t.Run("Profile", func(t *testing.T) {
		t.Parallel()
		v := page.AccountView{
			Email: "ada@example.com", Name: evil, NameError: "Use at most 80 <characters>.",
			TimeZone: "Europe/Paris", TimeZones: []string{"UTC", "Europe/Paris", "America/New_York"}, TimeZoneError: "Pick a time zone.",
		}
		doc, html := render(t, page.Account(signedIn, v))
		inert(t, doc, html)
		form := one(t, doc, "profile-form")
		if got, want := attr(form, "action"), "/settings/account"; got != want {
			t.Errorf("action=%q, want %q", got, want)
		}
		if got, want := attr(form, "method"), "post"; got != want {
			t.Errorf("method=%q, want %q", got, want)
		}
		name := one(t, doc, "profile-name")
		if got, want := attr(name, "name"), "name"; got != want {
			t.Errorf("name field=%q, want %q", got, want)
		}
		if got, want := attr(name, "value"), evil; got != want {
			t.Errorf("name value=%q, want %q", got, want)
		}
		if got, want := attr(name, "maxlength"), "80"; got != want {
			t.Errorf("maxlength=%q, want %q", got, want)
		}
		if got, want := text(doc.Find("#"+attr(name, "id")+"-error")), "Use at most 80 <characters>."; got != want {
			t.Errorf("name error=%q, want %q", got, want)
		}
		tz := one(t, doc, "profile-tz")
		if got, want := attr(tz, "name"), "time_zone"; got != want {
			t.Errorf("tz name=%q, want %q", got, want)
		}
		if got, want := tz.Find("option").Length(), 3; got != want {
			t.Errorf("tz options=%d, want %d", got, want)
		}
		if got, want := attr(tz.Find("option[selected]"), "value"), "Europe/Paris"; got != want {
			t.Errorf("selected tz=%q, want %q", got, want)
		}
		if got, want := attr(tz, "aria-invalid"), "true"; got != want {
			t.Errorf("tz aria-invalid=%q, want %q", got, want)
		}
		if got, want := doc.Find(`label[for="`+attr(tz, "id")+`"]`).Length(), 1; got != want {
			t.Errorf("tz labels=%d, want %d", got, want)
		}
		if !one(t, doc, "profile-submit").Closest("form").Is(`[data-testid="profile-form"]`) {
			t.Error("profile submit outside the profile form")
		}
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		doc, html := render(t, page.Account(signedIn, page.AccountView{Email: "ada@example.com", DeleteError: "Type <DELETE> to confirm."}))
		inert(t, doc, html)
		none(t, doc, "delete-account-blocked")
		confirm := one(t, doc, "delete-account-confirm")
		if got, want := attr(confirm, "name"), "confirm"; got != want {
			t.Errorf("name=%q, want %q", got, want)
		}
		if got, want := attr(confirm.Closest("form"), "action"), "/settings/account/delete"; got != want {
			t.Errorf("action=%q, want %q", got, want)
		}
		if got, want := attr(confirm, "aria-invalid"), "true"; got != want {
			t.Errorf("aria-invalid=%q, want %q", got, want)
		}
		if got, want := text(doc.Find("#"+attr(confirm, "aria-describedby"))), "Type <DELETE> to confirm."; got != want {
			t.Errorf("error=%q, want %q", got, want)
		}
		if !one(t, doc, "delete-account-submit").HasClass("btn-danger") {
			t.Error("delete button is not a danger button")
		}
	})

	t.Run("DeleteBlocked", func(t *testing.T) {
		t.Parallel()
		doc, html := render(t, page.Account(signedIn, page.AccountView{Email: "ada@example.com", DeleteBlocked: "You own <Acme>: transfer it first."}))
		inert(t, doc, html)
		if got, want := text(one(t, doc, "delete-account-blocked")), "You own <Acme>: transfer it first."; got != want {
			t.Errorf("blocked=%q, want %q", got, want)
		}
		none(t, doc, "delete-account-confirm")
		none(t, doc, "delete-account-submit")
		if doc.Find(`form[action="/settings/account/delete"]`).Length() != 0 {
			t.Error("delete form shown while blocked")
		}
	})

	t.Run("OnlyThisDevice", func(t *testing.T) {
		t.Parallel()
		v := page.AccountView{Email: "ada@example.com", Sessions: []page.SessionRow{{ID: 1, Current: true, Device: "Safari on iOS"}}}
		doc, _ := render(t, page.Account(signedIn, v))
		one(t, doc, "session-row")
		one(t, doc, "this-device")
		none(t, doc, "revoke-session")
		none(t, doc, "revoke-others")
	})
}
