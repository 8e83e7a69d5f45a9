package mail_test

import (
	"strings"
	"testing"

	atriummail "atrium/internal/mail"
)

func TestMagicLinkEmail(t *testing.T) {
	t.Parallel()
	const link = "https://atrium.example/auth/callback?token=abc&next=%2Fw"
	email := atriummail.MagicLinkEmail(english, "Atrium", "jane@example.com", link)

	if got, want := email.To, "jane@example.com"; got != want {
		t.Errorf("To=%q, want %q", got, want)
	}
	if got, want := email.Subject, "Sign in to Atrium"; got != want {
		t.Errorf("Subject=%q, want %q", got, want)
	}
	if got, want := email.Ref, "login"; got != want {
		t.Errorf("Ref=%q, want %q", got, want)
	}
	for _, want := range []string{"\n" + link + "\n", "15 minutes", "used once", "did not ask"} {
		if !strings.Contains(email.Text, want) {
			t.Errorf("Text lacks %q:\n%s", want, email.Text)
		}
	}
	for _, want := range []string{
		`href="https://atrium.example/auth/callback?token=abc&amp;next=%2Fw"`,
		"15 minutes", "used once", "did not ask",
	} {
		if !strings.Contains(email.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, email.HTML)
		}
	}
}

func TestMagicLinkEmail_Escaping(t *testing.T) {
	t.Parallel()
	email := atriummail.MagicLinkEmail(english, `<b>Evil</b> & "Co"`, "jane@example.com", `javascript:alert(1)`)

	if strings.Contains(email.HTML, "<b>Evil</b>") {
		t.Errorf("HTML has the app name unescaped:\n%s", email.HTML)
	}
	if !strings.Contains(email.HTML, "&lt;b&gt;Evil&lt;/b&gt; &amp; &#34;Co&#34;") {
		t.Errorf("HTML lacks the escaped app name:\n%s", email.HTML)
	}
	if strings.Contains(email.HTML, `href="javascript:`) {
		t.Errorf("HTML links to a javascript: URL:\n%s", email.HTML)
	}
	// The text part is plain text: nothing to escape.
	if !strings.Contains(email.Text, `<b>Evil</b> & "Co"`) {
		t.Errorf("Text mangles the app name:\n%s", email.Text)
	}
}
