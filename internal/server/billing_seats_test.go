package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing/billingtest"
)

// seatSubscription is a customer.subscription.created event of a per-seat
// Pro subscription (price_pro) of quantity for the workspace.
func seatSubscription(id string, wsID int64, quantity int) billingtest.Event {
	ev := subscriptionEvent(id, "customer.subscription.created", "active", time.Now(), wsID, "cus_seats")
	ev.Object["items"] = map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_seats",
		"quantity": quantity, "price": map[string]any{"id": "price_pro"}}}}
	return ev
}

// waitSeats waits until the workspace's stored quantity is want.
func (a *testApp) waitSeats(t *testing.T, slug string, want int) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		ws := a.billingState(t, slug)
		if ws.SeatQuantity == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("seat quantity %d after 45s, want %d", ws.SeatQuantity, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSeatSync_Burst: ten invitees accepting within a second reach Stripe
// as one or two quantity updates, the last of them the member count, with
// the change audited; another tenant's member never counts.
func TestSeatSync_Burst(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			rec := billingtest.NewRecorder(t, billingtest.StripeMock(t))
			a := newTestApp(t, dialect, withStripe(rec.URL), withEnv("RATE_LIMIT_MAX", "1000"))
			owner, slug, wsID := billingOwner(t, a, "owner@example.com")
			a.mustApply(t, seatSubscription("evt_seats", wsID, 1), app.EventApplied)
			other, otherSlug, _ := billingOwner(t, a, "other@example.com")
			inviteAndJoin(t, a, other, otherSlug, "elsewhere@example.com", "member")

			// Ten invites, ten signed-in invitees on their invite pages...
			type invitee struct {
				b    *browser
				page *response
			}
			var people []invitee
			for i := range 10 {
				email := fmt.Sprintf("p%d@example.com", i)
				if res := owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {email}, "role": {"member"}}); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("invite %s: status %d", email, res.StatusCode)
				}
				link := emailedInviteLink(t, a, email)
				b := a.newBrowser(t)
				b.signIn(email)
				people = append(people, invitee{b, b.Get(link)})
			}
			// ...accept at once.
			for _, p := range people {
				if res := p.b.Submit(p.page, "invite-accept", nil); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("accept: status %d", res.StatusCode)
				}
			}
			a.waitSeats(t, slug, 11)
			route := "POST /v1/subscription_items/" + billingtest.SubscriptionItemID(t, rec.URL)
			sent := rec.Sent(route)
			if len(sent) < 1 || len(sent) > 2 {
				t.Fatalf("%d quantity updates for ten joins, want one or two", len(sent))
			}
			if got := sent[len(sent)-1].Get("quantity"); got != "11" {
				t.Errorf("last quantity sent %s, want 11 (the owner and ten members)", got)
			}
			if n := a.auditCount(t, wsID, app.ActionSeatsSynced); n != len(sent) {
				t.Errorf("%d %s entries, want %d", n, app.ActionSeatsSynced, len(sent))
			}
		})
	}
}

// TestInviteForm_SeatCost: when one more invite passes the quantity paid
// for, owners and admins see its cost from Stripe's upcoming invoice above
// the invite form; with room left they see nothing; when Stripe cannot
// say, a sentence replaces the amounts and the invite still goes out.
func TestInviteForm_SeatCost(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)

	t.Run("Preview", func(t *testing.T) {
		t.Parallel()
		base, sent := billingtest.WithInvoicePreview(t, mock, billingtest.UpcomingSeatInvoice)
		a := newTestApp(t, "sqlite", withStripe(base))
		owner, slug, wsID := billingOwner(t, a, "owner@example.com")
		a.mustApply(t, seatSubscription("evt_seats", wsID, 2), app.EventApplied)
		admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
		member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
		a.waitSeats(t, slug, 3)
		before := len(sent())

		for name, b := range map[string]*browser{"owner": owner, "admin": admin} {
			page := b.Get("/w/" + slug + "/members")
			if !page.Has("seat-cost") {
				t.Fatalf("%s: no seat cost with 3 members on 3 seats\n%s", name, page.Body)
			}
			if got, want := strings.Join(strings.Fields(page.Text("seat-cost")), " "),
				"Adding a seat costs $3.87 today (prorated) and brings your bill to $48.00 a month."; !strings.HasPrefix(got, want) {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
		// The second page is answered from the minute's cache.
		if q := sent()[before:]; len(q) != 1 || q[0].Get("subscription_details[items][0][quantity]") != "4" {
			t.Errorf("invoice previews %v, want one for quantity 4", q)
		}
		if page := member.Get("/w/" + slug + "/members"); page.Has("seat-cost") {
			t.Errorf("a member sees the seat cost")
		}
	})

	t.Run("RoomLeft", func(t *testing.T) {
		t.Parallel()
		base, sent := billingtest.WithInvoicePreview(t, mock, billingtest.UpcomingSeatInvoice)
		a := newTestApp(t, "sqlite", withStripe(base))
		owner, slug, wsID := billingOwner(t, a, "owner@example.com")
		a.mustApply(t, seatSubscription("evt_seats", wsID, 5), app.EventApplied)
		if page := owner.Get("/w/" + slug + "/members"); page.Has("seat-cost") || len(sent()) != 0 {
			t.Errorf("seat cost shown (%d Stripe reads) with 1 member on 5 seats", len(sent()))
		}
	})

	t.Run("StripeFails", func(t *testing.T) {
		t.Parallel()
		// Nothing listens on port 9: every Stripe read fails.
		a := newTestApp(t, "sqlite", withStripe("http://127.0.0.1:9"))
		owner, slug, wsID := billingOwner(t, a, "owner@example.com")
		a.mustApply(t, seatSubscription("evt_seats", wsID, 1), app.EventApplied)
		page := owner.Get("/w/" + slug + "/members")
		if page.StatusCode != http.StatusOK || !page.Has("seat-cost-unavailable") || page.Has("seat-cost-today") {
			t.Fatalf("status %d: want 200 with the sentence instead of the amounts\n%s", page.StatusCode, page.Body)
		}
		if res := owner.Submit(page, "invite-form", url.Values{"email": {"new@example.com"}, "role": {"member"}}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("invite with Stripe failing: status %d, want 303", res.StatusCode)
		}
	})
}
