package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// exec runs a statement with ? placeholders on the test app's database.
func (a *testApp) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if a.DB.Dialect() == "postgres" {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	if _, err := a.DB.SQL().Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestInvite_AcceptOverSeatLimit: invites sent on Pro and accepted after a
// downgrade to Free fill the free seats, and no more.
func TestInvite_AcceptOverSeatLimit(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("FREE_PLAN_SEATS", "3"))
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme Inc")
			// The invitees sign in first, so the next email each gets is the invite.
			invitees := make([]*browser, 4)
			for i := range invitees {
				invitees[i] = a.newBrowser(t)
				invitees[i].signIn(fmt.Sprintf("p%d@example.com", i))
			}

			a.exec(t, "UPDATE workspaces SET plan = 'pro', subscription_status = 'active' WHERE slug = ?", slug)
			for i := range invitees {
				res := owner.Post("/w/"+slug+"/invites", url.Values{"email": {fmt.Sprintf("p%d@example.com", i)}, "role": {"member"}})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("invite %d on Pro: status %d\n%s", i, res.StatusCode, res.Body)
				}
			}
			a.exec(t, "UPDATE workspaces SET plan = 'free', subscription_status = 'canceled' WHERE slug = ?", slug)

			for i, b := range invitees {
				email := fmt.Sprintf("p%d@example.com", i)
				link := a.SMTP.WaitForMessage(t, email, 5*time.Second).Links()[0]
				page := b.Get(link)
				res := b.Submit(page, "invite-accept", nil)
				if i < 2 {
					if got, want := res.Location(), "/w/"+slug; got != want {
						t.Fatalf("accept %d: status %d Location %q, want %q", i, res.StatusCode, got, want)
					}
					continue
				}
				if res.StatusCode != http.StatusConflict || inviteState(res) != "full" {
					t.Fatalf("accept %d over the limit: status %d state %q, want 409 full\n%s", i, res.StatusCode, inviteState(res), res.Body)
				}
				if got := res.Text("invite-problem"); !strings.Contains(got, "This workspace is full; ask an owner to upgrade.") {
					t.Errorf("page says %q, want the full-workspace sentence", got)
				}
				if href, _ := res.Doc.Find(`[data-testid="invite-workspaces"]`).Attr("href"); href != "/settings/workspaces" {
					t.Errorf("no way back to the workspaces list (href %q)", href)
				}
				// The invite stays pending: the link still opens it.
				if again := b.Get(link); inviteState(again) != "ok" {
					t.Errorf("invite %d after the refusal: state %q, want ok (pending)", i, inviteState(again))
				}
				if n := countMembers(t, a, slug, "owner@example.com", email); n != 0 {
					t.Errorf("%s became a member", email)
				}
			}
			members := 0
			for i := range invitees {
				members += countMembers(t, a, slug, "owner@example.com", fmt.Sprintf("p%d@example.com", i))
			}
			if members != 2 {
				t.Fatalf("%d invitees joined, want 2 (3 seats with the owner)", members)
			}
		})
	}
}

// TestInvite_ResendFlood: resending one invite again and again queues one
// email per five minutes, says when the next is possible in the owner's
// time zone, and quotes and caps the names the subject shows.
func TestInvite_ResendFlood(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect)
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme")
			longName := "Your account is suspended\u202e, reply with your password to keep it " + strings.Repeat("x", 40)
			a.exec(t, "UPDATE users SET name = ?, time_zone = 'Asia/Kolkata' WHERE email = 'owner@example.com'", longName)
			a.exec(t, "UPDATE workspaces SET name = ? WHERE slug = ?", "Acme\r\nSupport", slug)

			res := owner.Post("/w/"+slug+"/invites", url.Values{"email": {"victim@example.com"}, "role": {"member"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("invite: status %d\n%s", res.StatusCode, res.Body)
			}
			sentAt := a.Clock.Now()
			msg := a.SMTP.WaitForMessage(t, "victim@example.com", 5*time.Second)
			wantSubject := "“Your account is suspended, reply with your password to keep…” invited you to “Acme Support” on " + a.Cfg.AppName
			if msg.Subject != wantSubject {
				t.Errorf("Subject=%q, want %q", msg.Subject, wantSubject)
			}
			id := pendingInviteID(t, owner.Get("/w/"+slug+"/members"), "victim@example.com")

			next := sentAt.Add(5 * time.Minute)
			if m := next.Truncate(time.Minute); m.Before(next) {
				next = m.Add(time.Minute)
			}
			ist, _ := time.LoadLocation("Asia/Kolkata")
			want := "You can resend this invite at " + next.In(ist).Format("15:04") + " IST."
			for i := range 40 {
				res := owner.Post("/w/"+slug+"/invites/"+id+"/resend", nil)
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("resend %d: status %d", i, res.StatusCode)
				}
				if i == 39 {
					if got := owner.Follow(res).Text("flash"); !strings.Contains(got, want) {
						t.Fatalf("flash=%q, want it to say %q", got, want)
					}
				}
			}
			if got := len(queuedFor(t, a, "invite:"+id)); got != 1 {
				t.Fatalf("%d emails queued for the invite after 40 resends, want 1", got)
			}

			a.Clock.Add(5 * time.Minute)
			res = owner.Follow(owner.Post("/w/"+slug+"/invites/"+id+"/resend", nil))
			if got := res.Text("flash"); !strings.Contains(got, "A new invite was sent") {
				t.Fatalf("resend after five minutes: flash %q", got)
			}
			if got := len(queuedFor(t, a, "invite:"+id)); got != 2 {
				t.Fatalf("%d emails queued for the invite, want 2", got)
			}
		})
	}
}

// queuedFor returns the emails queued for ref, newest first.
func queuedFor(t *testing.T, a *testApp, ref string) []*app.OutboxMessage {
	t.Helper()
	msgs, err := store.NewOutboxService(a.DB).FindOutboxByRef(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestInvite_PerAddressDailyLimit: strangers' workspaces together send one
// address at most INVITE_EMAILS_PER_ADDRESS_PER_DAY invite emails a day.
func TestInvite_PerAddressDailyLimit(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("INVITE_EMAILS_PER_ADDRESS_PER_DAY", "3"))
			first := a.Clock.Now()
			for i := range 4 {
				b := a.newBrowser(t)
				b.signIn(fmt.Sprintf("sender%d@example.com", i))
				slug := createWorkspace(t, b, fmt.Sprintf("Sender %d", i))
				res := b.Post("/w/"+slug+"/invites", url.Values{"email": {"target@example.com"}, "role": {"member"}})
				if i < 3 {
					if res.StatusCode != http.StatusSeeOther {
						t.Fatalf("invite %d: status %d", i, res.StatusCode)
					}
					a.Clock.Add(time.Minute)
					continue
				}
				if res.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("fourth invite of the day: status %d, want 429\n%s", res.StatusCode, res.Body)
				}
				next := first.Add(24 * time.Hour)
				if m := next.Truncate(time.Minute); m.Before(next) {
					next = m.Add(time.Minute)
				}
				// The date is left out when the retry falls on the same day as
				// now: three minutes of clock cross midnight when the test
				// starts just before it.
				when := next.UTC().Format("15:04 MST")
				if next.UTC().Day() != a.Clock.Now().UTC().Day() {
					when += next.UTC().Format(" on 2 Jan")
				}
				want := "You can invite this address again at " + when + "."
				if got := res.Text("field-email-error"); !strings.Contains(got, want) {
					t.Fatalf("email error=%q, want it to say %q", got, want)
				}
			}
			if got := outboxTo(t, a, "target@example.com"); got != 3 {
				t.Fatalf("%d invite emails queued for the address, want 3", got)
			}
		})
	}
}
