package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
)

func TestAccount_ProfileAndTimeZone(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	b.signIn("ada@example.com")

	page := b.Get("/settings/account")
	if got := selectedOption(page, "profile-tz"); got != "UTC" {
		t.Fatalf("default time zone=%q, want UTC", got)
	}
	res := b.Submit(page, "profile-form", url.Values{"name": {"  Ada   Lovelace "}, "time_zone": {"Mars/Olympus_Mons"}})
	if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
		t.Fatalf("invalid zone: status=%d, want %d", got, want)
	}
	if res.Text("field-time_zone-error") == "" {
		t.Errorf("invalid zone: no inline error:\n%s", res.Body)
	}
	if got, want := attrOf(res, "profile-name", "value"), "Ada Lovelace"; got != want {
		t.Errorf("invalid zone: name input=%q, want %q", got, want)
	}

	res = b.Submit(page, "profile-form", url.Values{"name": {"Ada Lovelace"}, "time_zone": {"Asia/Tokyo"}})
	if got, want := res.Location(), "/settings/account"; got != want {
		t.Fatalf("save Location=%q, want %q", got, want)
	}
	page = b.Follow(res)
	if got := page.Text("flash"); !strings.Contains(got, "saved") {
		t.Errorf("flash=%q", got)
	}
	if got, want := attrOf(page, "profile-name", "value"), "Ada Lovelace"; got != want {
		t.Errorf("name=%q, want %q", got, want)
	}
	if got, want := selectedOption(page, "profile-tz"), "Asia/Tokyo"; got != want {
		t.Errorf("time zone=%q, want %q", got, want)
	}
	u, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Ada Lovelace" || u.TimeZone != "Asia/Tokyo" {
		t.Errorf("stored user name=%q tz=%q", u.Name, u.TimeZone)
	}
	// The name is what teammates see.
	slug := createWorkspace(t, b, "Analytical")
	if got := b.Get("/w/" + slug + "/members").Doc.Find(memberRowSel("ada@example.com") + " .member-name").Text(); !strings.Contains(got, "Ada Lovelace") {
		t.Errorf("member row name=%q", got)
	}
}

func TestAccount_DeleteBlockedForLastOwner(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	b.signIn("owner@example.com")
	slug := createWorkspace(t, b, "Acme Inc")

	page := b.Get("/settings/account")
	if !strings.Contains(page.Text("delete-account-blocked"), "Acme Inc") || page.Has("delete-account-form") {
		t.Fatalf("last owner: blocked=%q form=%v", page.Text("delete-account-blocked"), page.Has("delete-account-form"))
	}
	res := b.Post("/settings/account/delete", url.Values{"confirm": {"owner@example.com"}})
	if got, want := res.StatusCode, http.StatusConflict; got != want {
		t.Fatalf("forced delete: status=%d, want %d", got, want)
	}
	if !strings.Contains(res.Text("delete-account-blocked"), "Acme Inc") {
		t.Errorf("forced delete: page does not say why")
	}
	if got := b.Get("/w/" + slug).StatusCode; got != http.StatusOK {
		t.Fatalf("still signed in and owner? status %d", got)
	}

	// Once the workspace is gone, the account can go too.
	b.Post("/w/"+slug+"/delete", url.Values{"confirm": {"Acme Inc"}})
	page = b.Get("/settings/account")
	res = b.Submit(page, "delete-account-form", url.Values{"confirm": {"DELETE"}})
	if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
		t.Fatalf("DELETE instead of the email: status=%d, want %d", got, want)
	}
	res = b.Submit(page, "delete-account-form", url.Values{"confirm": {" Owner@Example.com "}})
	if got, want := res.Location(), "/login"; got != want {
		t.Fatalf("delete Location=%q, want %q", got, want)
	}
	if _, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), "owner@example.com"); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("user still exists: %v", err)
	}
	if got := b.Get("/settings/account").Location(); !strings.HasPrefix(got, "/login") {
		t.Errorf("still signed in after deleting the account")
	}
}
