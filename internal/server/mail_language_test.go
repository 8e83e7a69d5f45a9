package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/mail/mailtest"
)

// TestMail_SavedLanguage: the sign-in email goes out, through SMTP, in the
// language the account saved, whatever the browser asking for it prefers;
// an address without an account gets the language of the browser asking.
// An invite follows the same rule: the invitee's saved language, else the
// inviter's.
func TestMail_SavedLanguage(t *testing.T) {
	a := newTestApp(t, "sqlite")
	a.newBrowser(t).signIn("ada@example.com")
	if _, err := a.DB.SQL().ExecContext(context.Background(),
		a.DB.Rebind("UPDATE users SET language = 'de' WHERE email = ?"), "ada@example.com"); err != nil {
		t.Fatal(err)
	}

	// A browser without Accept-Language: the page is English, the email German.
	a.newBrowser(t).Post("/login", url.Values{"email": {"ada@example.com"}})
	msg := a.SMTP.WaitForMessageMatching(t, "ada@example.com", 5*time.Second, mailtest.LinkTo(a.URL+"/auth/verify"))
	if got, want := msg.Subject, "Bei "+a.Cfg.AppName+" anmelden"; got != want {
		t.Errorf("Subject=%q, want %q", got, want)
	}
	for _, want := range []string{"Hallo,", "Mit diesem Link melden Sie sich bei " + a.Cfg.AppName + " an:", "Minuten gültig"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, msg.Text)
		}
	}
	for _, want := range []string{`<html lang="de">`, ">Anmelden</a>"} {
		if !strings.Contains(msg.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, msg.HTML)
		}
	}

	// No account yet: the German browser's language.
	a.newBrowser(t).german().Post("/login", url.Values{"email": {"neu@example.com"}})
	msg = a.SMTP.WaitForMessageMatching(t, "neu@example.com", 5*time.Second, mailtest.LinkTo(a.URL+"/auth/verify"))
	if got, want := msg.Subject, "Bei "+a.Cfg.AppName+" anmelden"; got != want {
		t.Errorf("new address, German browser: Subject=%q, want %q", got, want)
	}

	// An English-speaking owner invites Ada (German) and a new address.
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	for _, to := range []string{"ada@example.com", "new@example.com"} {
		owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {to}, "role": {"member"}})
	}
	msg = a.SMTP.WaitForMessageMatching(t, "ada@example.com", 5*time.Second, mailtest.LinkTo(a.URL+"/invites/"))
	if want := "hat Sie zu “Acme Inc” auf " + a.Cfg.AppName + " eingeladen"; !strings.Contains(msg.Subject, want) {
		t.Errorf("invite to a German account: Subject=%q, want it to contain %q", msg.Subject, want)
	}
	if !strings.Contains(msg.Text, "als Mitglied beizutreten") {
		t.Errorf("invite to a German account is not in German:\n%s", msg.Text)
	}
	msg = a.SMTP.WaitForMessageMatching(t, "new@example.com", 5*time.Second, mailtest.LinkTo(a.URL+"/invites/"))
	if want := "invited you to “Acme Inc” on " + a.Cfg.AppName; !strings.Contains(msg.Subject, want) {
		t.Errorf("invite to a new address: Subject=%q, want the inviter's English %q", msg.Subject, want)
	}
}
