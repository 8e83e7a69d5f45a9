package mail

import (
	"strings"
	"testing"

	"atrium/internal/app"
)

// TestHTMLEmails_ShareTheLayout: every HTML email is a whole document in
// the shared frame, titled by its own block, with its content escaped.
func TestHTMLEmails_ShareTheLayout(t *testing.T) {
	for name, msg := range map[string]app.Email{
		"login":  MagicLinkEmail(english, "Acme <App>", "a@example.com", "https://x.test/auth/verify?token=abc"),
		"invite": InviteEmail(english, "Acme", "b@example.com", "Team <b>", "Ann", app.RoleMember, "https://x.test/invites/abc"),
		"test":   TestInviteEmail(english, "Acme", "c@example.com"),
	} {
		h := msg.HTML
		if !strings.HasPrefix(h, "<!DOCTYPE html>") || !strings.Contains(h, `max-width:480px`) || !strings.HasSuffix(strings.TrimSpace(h), "</html>") {
			t.Errorf("%s: not in the shared layout:\n%s", name, h)
		}
		if strings.Contains(h, "<b>") || strings.Contains(h, "<App>") {
			t.Errorf("%s: user text not escaped:\n%s", name, h)
		}
	}
	if h := InviteEmail(english, "Acme", "b@example.com", "Team", "Ann", app.RoleMember, "https://x.test/invites/abc").HTML; !strings.Contains(h, "<title>Join Team</title>") {
		t.Errorf("invite title block missing:\n%s", h)
	}
	if h := MagicLinkEmail(english, "Acme", "a@example.com", "https://x.test/l").HTML; !strings.Contains(h, "<title>Sign in to Acme</title>") {
		t.Errorf("login title block missing:\n%s", h)
	}
}
