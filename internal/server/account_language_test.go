package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestAccount_Language checks the language choice on both databases: the
// browser's Accept-Language until the account saves one, the saved one
// after that whatever the browser asks, <html lang> following it, and a
// language that is not shipped refused beside the field.
func TestAccount_Language(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			b := a.newBrowser(t).german()
			b.signIn("ada@example.com")

			page := b.Get("/settings/account")
			if got, want := page.Doc.Find("html").AttrOr("lang", ""), "de"; got != want {
				t.Fatalf("browser asks for German: <html lang>=%q, want %q", got, want)
			}
			if got, want := page.Doc.Find("#profile-heading").Text(), "Profil"; got != want {
				t.Errorf("profile heading=%q, want %q", got, want)
			}
			if got := selectedOption(page, "profile-language"); got != "" {
				t.Errorf("nothing saved yet: language select=%q, want the browser's (\"\")", got)
			}

			for _, bad := range []string{"fr", "xx-\xff", "<script>"} {
				res := b.Submit(page, "profile-form", url.Values{"name": {"Ada"}, "time_zone": {"UTC"}, "language": {bad}})
				if got, want := res.StatusCode, http.StatusUnprocessableEntity; got != want {
					t.Fatalf("language %q: status=%d, want %d", bad, got, want)
				}
				if res.Text("field-language-error") == "" {
					t.Errorf("language %q: no error beside the field", bad)
				}
			}

			res := b.Submit(page, "profile-form", url.Values{"name": {"Ada"}, "time_zone": {"UTC"}, "language": {"en"}})
			if got, want := res.StatusCode, http.StatusSeeOther; got != want {
				t.Fatalf("save English: status=%d, want %d:\n%s", got, want, res.Body)
			}
			page = b.Follow(res)
			if got, want := page.Doc.Find("html").AttrOr("lang", ""), "en"; got != want {
				t.Errorf("saved English, browser German: <html lang>=%q, want %q", got, want)
			}
			if got, want := page.Text("flash"), "Profile saved."; got != want {
				t.Errorf("flash=%q, want %q (in the language just chosen)", got, want)
			}
			if got, want := selectedOption(page, "profile-language"), "en"; got != want {
				t.Errorf("language select=%q, want %q", got, want)
			}
			u, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), "ada@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if u.Language != "en" {
				t.Errorf("stored language=%q, want en", u.Language)
			}

			// A second device with another browser language follows the account.
			other := a.newBrowser(t)
			other.Headers.Set("Accept-Language", "de")
			other.signIn("ada@example.com")
			if got := other.Get("/settings/account").Doc.Find("html").AttrOr("lang", ""); got != "en" {
				t.Errorf("second device: <html lang>=%q, want the account's en", got)
			}

			// Back to the browser's language.
			res = b.Submit(b.Get("/settings/account"), "profile-form", url.Values{"name": {"Ada"}, "time_zone": {"UTC"}, "language": {""}})
			if got := b.Follow(res).Doc.Find("html").AttrOr("lang", ""); got != "de" {
				t.Errorf("language cleared: <html lang>=%q, want the browser's de", got)
			}
		})
	}
}
