package mail_test

import (
	"strings"
	"testing"

	atriummail "atrium/internal/mail"
)

func TestTwoFactorResetEmail(t *testing.T) {
	t.Parallel()
	email := atriummail.TwoFactorResetEmail(english, "Atrium", "jane@example.com", "ticket 4711 <lost phone>", "https://atrium.example/login?email=jane%40example.com")
	if got, want := email.To, "jane@example.com"; got != want {
		t.Errorf("To=%q, want %q", got, want)
	}
	if got, want := email.Subject, "Two-factor sign-in was reset for your Atrium account"; got != want {
		t.Errorf("Subject=%q, want %q", got, want)
	}
	if got, want := email.Ref, "two-factor-reset"; got != want {
		t.Errorf("Ref=%q, want %q", got, want)
	}
	for _, want := range []string{"operator of Atrium reset two-factor sign-in", "The reason given: ticket 4711 <lost phone>",
		"\nhttps://atrium.example/login?email=jane%40example.com\n", "set up two-factor sign-in again", "did not ask for this, contact support"} {
		if !strings.Contains(email.Text, want) {
			t.Errorf("Text lacks %q:\n%s", want, email.Text)
		}
	}
	for _, want := range []string{"operator of Atrium reset two-factor sign-in", "ticket 4711 &lt;lost phone&gt;",
		`href="https://atrium.example/login?email=jane%40example.com"`, "set up two-factor sign-in again", "contact support"} {
		if !strings.Contains(email.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, email.HTML)
		}
	}
}
