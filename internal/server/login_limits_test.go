package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/store/storetest"
)

// outboxTo counts the emails queued for an address.
func outboxTo(t *testing.T, a *testApp, to string) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ?"
	if a.DB.Dialect() == "postgres" {
		q = strings.Replace(q, "?", "$1", 1)
	}
	var n int
	if err := a.DB.SQL().QueryRow(q, to).Scan(&n); err != nil {
		t.Fatalf("count outbox: %v", err)
	}
	return n
}

// TestLogin_StrangerCannotLockOut: a stranger spending the sign-in budget
// of someone's address from their own network neither locks that person
// out nor floods their inbox past the per-address ceiling.
func TestLogin_StrangerCannotLockOut(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("TRUSTED_PROXIES", "127.0.0.1"))
			from := func(ip string) *browser {
				b := a.newBrowser(t)
				b.Headers.Set("X-Forwarded-For", ip)
				return b
			}
			const victim = "victim@example.com"
			limit := a.Cfg.LoginRateLimitMax

			attacker := from("2001:db8:bad::1")
			for i := 1; i <= limit; i++ {
				if res := attacker.Post("/login", url.Values{"email": {victim}}); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("attacker request %d: status %d, want 303", i, res.StatusCode)
				}
			}
			// The attacker's own network is refused, even from another
			// address in the same /64.
			assertTooMany(t, "attacker over the budget", from("2001:db8:bad::2").Post("/login", url.Values{"email": {victim}}),
				limit, a.Cfg.LoginRateLimitWindow)

			// The victim, on another network, still gets a link that works.
			res := from("2001:db8:600d::1").Post("/login", url.Values{"email": {victim}})
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login/sent") {
				t.Fatalf("victim's request: status %d Location %q, want 303 to /login/sent\n%s", res.StatusCode, res.Location(), res.Body)
			}
			for range limit {
				a.SMTP.WaitForMessage(t, victim, 5*time.Second)
			}
			links := a.SMTP.WaitForMessage(t, victim, 5*time.Second).Links()
			page := a.newBrowser(t).Get(links[0])
			if page.StatusCode != http.StatusOK {
				t.Fatalf("victim's link: status %d", page.StatusCode)
			}

			// Past the per-address ceiling, from ever new networks: nothing
			// queued, and the person asking is told so.
			ceiling := a.Cfg.LoginAddressMax
			for i := limit + 1; i < ceiling; i++ {
				if res := from(randomIPv6()).Post("/login", url.Values{"email": {victim}}); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("request %d: status %d, want 303", i, res.StatusCode)
				}
			}
			if got := outboxTo(t, a, victim); got != ceiling {
				t.Fatalf("%d emails queued for the victim, want the ceiling %d", got, ceiling)
			}
			for i := range 3 {
				b := from(randomIPv6())
				res := b.Post("/login", url.Values{"email": {victim}})
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login?email=") {
					t.Fatalf("request past the ceiling %d: status %d Location %q, want 303 to /login", i, res.StatusCode, res.Location())
				}
				page := b.Follow(res)
				if got := page.Text("flash"); !strings.HasPrefix(got, "No email was sent: "+victim) || !strings.Contains(got, "try again in") {
					t.Fatalf("request past the ceiling %d: flash %q, want it to say no email was sent and when to try again", i, got)
				}
				if got, _ := page.Doc.Find(`input[name="email"]`).Attr("value"); got != victim {
					t.Errorf("the sign-in form lost the address: %q", got)
				}
			}
			if got := outboxTo(t, a, victim); got != ceiling {
				t.Fatalf("%d emails queued for the victim past the ceiling, want %d", got, ceiling)
			}
			if !strings.Contains(a.logs.String(), "sign-in emails for address capped") {
				t.Error("no log line says the address's sign-in emails were capped")
			}
			// Another address is untouched.
			if res := attacker.Post("/login", url.Values{"email": {"other@example.com"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("another address from the attacker's network: status %d, want 303", res.StatusCode)
			}
		})
	}
}

// TestLogin_TwoNetworksCannotSilenceVictim: a stranger spending the whole
// sign-in budget of someone's address from two networks (LOGIN_RATE_LIMIT_MAX
// 10, LOGIN_ADDRESS_MAX left at its default) does not use up the
// per-address ceiling: the victim, from a third network, is emailed a link
// that signs them in.
func TestLogin_TwoNetworksCannotSilenceVictim(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("TRUSTED_PROXIES", "127.0.0.1", "LOGIN_RATE_LIMIT_MAX", "10"))
			from := func(ip string) *browser {
				b := a.newBrowser(t)
				b.Headers.Set("X-Forwarded-For", ip)
				return b
			}
			const victim = "victim@example.com"
			for _, network := range []string{"198.51.100.7", "2001:db8:bad::1"} {
				attacker := from(network)
				for i := 1; i <= 10; i++ {
					if res := attacker.Post("/login", url.Values{"email": {victim}}); res.StatusCode != http.StatusSeeOther {
						t.Fatalf("attacker %s request %d: status %d, want 303", network, i, res.StatusCode)
					}
				}
				if res := attacker.Post("/login", url.Values{"email": {victim}}); res.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("attacker %s over its budget: status %d, want 429", network, res.StatusCode)
				}
			}
			b := from("203.0.113.50")
			res := b.Post("/login", url.Values{"email": {victim}})
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login/sent") {
				t.Fatalf("victim's request: status %d Location %q, want 303 to /login/sent", res.StatusCode, res.Location())
			}
			if got := outboxTo(t, a, victim); got != 21 {
				t.Fatalf("%d emails queued for the victim, want 21 (20 from the stranger, theirs)", got)
			}
			var last []string
			for range 21 {
				last = a.SMTP.WaitForMessage(t, victim, 10*time.Second).Links()
			}
			if len(last) == 0 {
				t.Fatal("the victim's email has no link")
			}
			page := b.Get(last[0])
			if page.StatusCode != http.StatusOK {
				t.Fatalf("victim's link: status %d", page.StatusCode)
			}
			home := b.Follow(b.Submit(page, "verify-submit", nil))
			if home.StatusCode != http.StatusOK || home.Request.URL.Path == "/login" {
				t.Fatalf("the victim's link did not sign them in: status %d at %s", home.StatusCode, home.Request.URL.Path)
			}
		})
	}
}
