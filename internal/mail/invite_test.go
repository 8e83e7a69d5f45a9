package mail_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"atrium/internal/app"
	atriummail "atrium/internal/mail"
)

func TestSubjectName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 100)
	tests := []struct {
		name, in, want string
	}{
		{"Plain", "Acme Inc", "“Acme Inc”"},
		{"SentenceInAName", "Your bank: verify your account at evil.example", "“Your bank: verify your account at evil.example”"},
		{"Controls", "Ac\r\nme\tInc\x00", "“Ac me Inc”"},
		{"Bidi", "Acme\u202Egnp.exe\u202C\u2066x\u2069", "“Acmegnp.exex”"},
		{"ZeroWidth", "Ac\u200Bme\uFEFF", "“Acme”"},
		{"Quotes", `"Acme" “Inc”`, "“'Acme' 'Inc'”"},
		{"Spaces", "  Acme    Inc  ", "“Acme Inc”"},
		{"Cap", long, "“" + strings.Repeat("a", 59) + "…”"},
		{"CapRunes", strings.Repeat("é", 61), "“" + strings.Repeat("é", 59) + "…”"},
		{"Exactly60", strings.Repeat("b", 60), "“" + strings.Repeat("b", 60) + "”"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := atriummail.SubjectName(tc.in); got != tc.want {
				t.Fatalf("SubjectName(%q)=%q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestInviteEmail_Subject(t *testing.T) {
	t.Parallel()
	inviter := "Support\u202E Team: your account is locked, call 555-0100 now " + strings.Repeat("!", 80)
	e := atriummail.InviteEmail(english, "Atrium", "v@example.com", "Acme\r\nBcc: x@evil.example", inviter, app.RoleMember, "http://x.test/invites/t")
	want := "“Support Team: your account is locked, call 555-0100 now !!!…” invited you to “Acme Bcc: x@evil.example” on Atrium"
	if e.Subject != want {
		t.Fatalf("Subject=%q, want %q", e.Subject, want)
	}
	if n := utf8.RuneCountInString(e.Subject); n > 2*(atriummail.MaxSubjectName+2)+len(" invited you to  on Atrium") {
		t.Fatalf("Subject is %d characters long", n)
	}
}
