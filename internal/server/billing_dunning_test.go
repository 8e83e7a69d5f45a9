package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/mail/mailtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// hostedInvoice is the hosted invoice link of the dunning tests' events.
const hostedInvoice = "https://invoice.stripe.com/i/acct_test/test_inv_1"

// deliverNow signs the event at the app's clock, which the tests move
// through a grace period, and delivers it.
func (a *testApp) deliverNow(t *testing.T, ev billingtest.Event, want string) {
	t.Helper()
	p := ev.JSON()
	if r := a.postWebhook(t, p, billingtest.Sign(p, webhookSecret, a.Clock.Now()), ""); r.Status != http.StatusOK || r.Result != want {
		t.Fatalf("deliver %s (%s): status %d result %q, want 200 %q\n%s", ev.ID, ev.Type, r.Status, r.Result, want, r.Body)
	}
}

// invoiceEvent is an invoice.paid or invoice.payment_failed event of the
// subscription sub_test.
func invoiceEvent(id, typ string, created time.Time, attempt int) billingtest.Event {
	return billingtest.Event{ID: id, Type: typ, Created: created, Object: map[string]any{"id": "in_1", "object": "invoice",
		"customer": "cus_acme", "subscription": "sub_test", "hosted_invoice_url": hostedInvoice, "attempt_count": attempt}}
}

// banner returns the billing banner of a page: its kind, its text with
// spaces collapsed, and its link.
func banner(res *response) (kind, text, link string) {
	sel := res.Doc.Find(`[data-testid="billing-banner"]`)
	kind, _ = sel.Attr("data-kind")
	link, _ = sel.Find(`[data-testid="billing-banner-link"]`).Attr("href")
	return kind, strings.Join(strings.Fields(sel.Text()), " "), link
}

// oneMail fails unless exactly one email to address that match accepts
// arrived, waiting a moment for a second one.
func oneMail(t *testing.T, a *testApp, address string, match func(*mailtest.Message) bool) {
	t.Helper()
	time.Sleep(700 * time.Millisecond) // the outbox worker polls every 100 ms
	n := 0
	for _, m := range a.SMTP.Messages() {
		if slices.Contains(m.To, address) && match(m) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d matching emails to %s, want 1", n, address)
	}
}

// TestBilling_TrialAndDunning walks one workspace through a trial that
// ends without a payment method, a new subscription, a failed payment, its
// grace period, the restriction and the payment that lifts it, with signed
// events through the webhook route, on both databases.
func TestBilling_TrialAndDunning(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, dialect, withWebhook("BILLING_TRIAL_DAYS", "14", "BILLING_GRACE_DAYS", "7", "FREE_PLAN_SEATS", "3"))
			owner, slug, wsID := billingOwner(t, a, "owner@example.com")
			admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
			member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
			path := "/w/" + slug
			now := a.Clock.Now().Truncate(time.Second)

			// A trial starts (subscription.created, trialing).
			trial := subscriptionEvent("evt_trial", billing.EventSubscriptionCreated, app.SubTrialing, now.Add(-5*24*time.Hour), wsID, "cus_acme")
			trialEnd := now.Add(9*24*time.Hour - time.Hour)
			trial.Object["trial_end"] = trialEnd.Unix()
			a.deliverNow(t, trial, app.EventApplied)
			kind, text, link := banner(owner.Get(path))
			wantOwner := "Pro trial: 9 days left. Add a payment method to keep Pro after " + trialEnd.Format("2 Jan") + "."
			if kind != "trial" || !strings.HasPrefix(text, wantOwner) || link != path+"/billing" {
				t.Errorf("owner's trial banner: %q %q %q, want %q linking to billing", kind, text, link, wantOwner)
			}
			if kind, text, link := banner(member.Get(path)); kind != "trial" || text != "Pro trial: 9 days left." || link != "" {
				t.Errorf("member's trial banner: %q %q %q", kind, text, link)
			}

			// Three days before its end, Stripe says so: owners get one email.
			willEnd := billingtest.Event{ID: "evt_will_end", Type: billing.EventTrialWillEnd, Created: now,
				Object: trial.Object}
			a.deliverNow(t, willEnd, app.EventApplied)
			a.deliverNow(t, willEnd, app.EventDuplicate)
			msg := a.SMTP.WaitForMessageMatching(t, "owner@example.com", 5*time.Second, func(m *mailtest.Message) bool {
				return strings.Contains(m.Subject, "trial")
			})
			if !strings.Contains(msg.Text, a.URL+path+"/billing") || msg.HTML == "" {
				t.Errorf("trial email lacks the billing link or its HTML part:\n%s", msg.Text)
			}
			oneMail(t, a, "owner@example.com", func(m *mailtest.Message) bool { return strings.Contains(m.Subject, "trial") })
			if n := a.auditCount(t, wsID, app.ActionTrialEnding); n != 1 {
				t.Errorf("%d %s entries, want 1", n, app.ActionTrialEnding)
			}

			// The trial ends without a payment method: Stripe cancels it, the
			// workspace is on Free, nothing is deleted, additions past the
			// Free seats are refused.
			a.deliverNow(t, subscriptionEvent("evt_trial_over", billing.EventSubscriptionDeleted, app.SubCanceled, now.Add(time.Minute), wsID, "cus_acme"), app.EventApplied)
			if ws := a.billingState(t, slug); ws.Plan != app.PlanFree {
				t.Errorf("after the trial: plan %q, want free", ws.Plan)
			}
			if kind, _, _ := banner(owner.Get(path)); kind != "" {
				t.Errorf("banner %q after the trial ended", kind)
			}
			if code := owner.Post(path+"/invites", url.Values{"email": {"fourth@example.com"}, "role": {"member"}}).StatusCode; code != http.StatusUnprocessableEntity {
				t.Errorf("invite past the Free seats after the trial: %d, want 422", code)
			}

			// A paid subscription, then a failed payment.
			a.deliverNow(t, subscriptionEvent("evt_paid_sub", billing.EventSubscriptionUpdated, app.SubActive, now.Add(2*time.Minute), wsID, "cus_acme"), app.EventApplied)
			failedAt := now.Add(3 * time.Minute)
			failed := invoiceEvent("evt_failed", billing.EventInvoiceFailed, failedAt, 1)
			a.deliverNow(t, failed, app.EventApplied)
			a.deliverNow(t, failed, app.EventDuplicate)
			for _, b := range []*browser{owner, admin} {
				kind, text, link := banner(b.Get(path))
				want := "A payment failed. Pay the invoice by " + failedAt.Add(7*24*time.Hour).Format("2 Jan") + " to avoid restrictions."
				if kind != "payment_failed" || !strings.HasPrefix(text, want) || link != hostedInvoice {
					t.Errorf("payment-failed banner: %q %q %q, want %q linking to the invoice", kind, text, link, want)
				}
			}
			if kind, _, _ := banner(member.Get(path)); kind != "" {
				t.Errorf("member sees the %q banner", kind)
			}
			msg = a.SMTP.WaitForMessageMatching(t, "owner@example.com", 5*time.Second, func(m *mailtest.Message) bool {
				return strings.Contains(m.Subject, "payment")
			})
			if !strings.Contains(msg.Text, hostedInvoice) || !strings.Contains(msg.HTML, hostedInvoice) {
				t.Errorf("payment email lacks the invoice link:\n%s", msg.Text)
			}
			oneMail(t, a, "owner@example.com", func(m *mailtest.Message) bool { return strings.Contains(m.Subject, "payment") })

			// Near the end of the grace period nothing is refused yet; an
			// invite goes out (accepted later, during the restriction).
			a.Clock.Add(6 * 24 * time.Hour)
			res := owner.Submit(owner.Get(path+"/members"), "invite-form", url.Values{"email": {"late@example.com"}, "role": {"member"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("invite within the grace period: status %d", res.StatusCode)
			}
			lateLink := emailedInviteLink(t, a, "late@example.com")
			key := createKeyInBrowser(t, owner, slug, "before", app.ScopeRead, app.ScopeWrite)

			// The grace period runs out: the job restricts the workspace once.
			a.Clock.Add(24*time.Hour + time.Hour)
			svc := store.NewBillingService(a.DB)
			svc.Grace = a.Cfg.Plans.GracePeriod
			for range 2 {
				if _, err := svc.RestrictOverdue(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if n := a.auditCount(t, wsID, app.ActionRestricted); n != 1 {
				t.Errorf("%d %s entries, want 1", n, app.ActionRestricted)
			}
			if kind, text, link := banner(owner.Get(path)); kind != "restricted" ||
				!strings.HasPrefix(text, "This workspace is restricted until the overdue invoice is paid.") || link != hostedInvoice {
				t.Errorf("restricted banner: %q %q %q", kind, text, link)
			}

			// Every addition is refused, with the sentence.
			res = owner.Post(path+"/invites", url.Values{"email": {"new@example.com"}, "role": {"member"}})
			if res.StatusCode == http.StatusSeeOther || !strings.Contains(string(res.Body), "Payments for this workspace are overdue") {
				t.Errorf("invite while restricted: status %d", res.StatusCode)
			}
			res = owner.Post(path+"/settings/api-keys", url.Values{"name": {"ci"}, "scope": {app.ScopeRead}})
			if res.StatusCode != http.StatusConflict || !strings.Contains(string(res.Body), "Payments for this workspace are overdue") {
				t.Errorf("API key while restricted: status %d, want 409", res.StatusCode)
			}
			res = owner.Post(path+"/settings/webhooks", url.Values{"url": {"https://hooks.example.com/in"}, "event": {app.ActionInviteSent}})
			if res.StatusCode != http.StatusSeeOther || !strings.Contains(owner.Follow(res).Text("flash"), "Payments for this workspace are overdue") {
				t.Errorf("webhook endpoint while restricted: status %d", res.StatusCode)
			}
			late := a.newBrowser(t)
			late.signIn("late@example.com")
			if got := late.Submit(late.Get(lateLink), "invite-accept", nil).Location(); got == path {
				t.Errorf("an invite was accepted into a restricted workspace")
			}
			api := &apiClient{t: t, a: a, key: key}
			r := api.do(http.MethodPost, "/invites", map[string]any{"email": "api@example.com", "role": "member"})
			if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "overdue") {
				t.Errorf("API invite while restricted: %d %s, want 409 problem", r.Status, r.Body)
			}
			// Reads still work.
			if r := api.do(http.MethodGet, "/invites", nil); r.Status != http.StatusOK {
				t.Errorf("API read while restricted: %d", r.Status)
			}

			// A failure older than the episode's, delivered late, changes
			// nothing; the payment lifts everything.
			a.deliverNow(t, invoiceEvent("evt_paid", billing.EventInvoicePaid, a.Clock.Now().Truncate(time.Second), 2), app.EventApplied)
			a.deliverNow(t, invoiceEvent("evt_failed_late", billing.EventInvoiceFailed, failedAt.Add(time.Hour), 2), app.EventStale)
			ws := a.billingState(t, slug)
			if ws.Restricted() || !ws.PaymentFailedAt.IsZero() || ws.PaymentInvoiceURL != "" {
				t.Errorf("after payment: restricted %v failed %v url %q", ws.RestrictedAt, ws.PaymentFailedAt, ws.PaymentInvoiceURL)
			}
			if n := a.auditCount(t, wsID, app.ActionPaymentRecovered); n != 1 {
				t.Errorf("%d %s entries, want 1", n, app.ActionPaymentRecovered)
			}
			if kind, _, _ := banner(owner.Get(path)); kind != "" {
				t.Errorf("banner %q after payment", kind)
			}
			if got := late.Submit(late.Get(lateLink), "invite-accept", nil).Location(); got != path {
				t.Errorf("accept after payment: Location %q, want %q", got, path)
			}
		})
	}
}

// TestBilling_DunningRaced delivers a failure and the newer payment at
// once, in both orders of arrival, many times: the payment always wins.
func TestBilling_DunningRaced(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, dialect, withWebhook())
			_, slug, wsID := billingOwner(t, a, "owner@example.com")
			t0 := a.Clock.Now().Truncate(time.Second).Add(-time.Hour)
			a.deliverNow(t, subscriptionEvent("evt_sub", billing.EventSubscriptionCreated, app.SubActive, t0, wsID, "cus_acme"), app.EventApplied)
			for i := range 4 {
				at := t0.Add(time.Duration(i+1) * time.Minute)
				failed := invoiceEvent("evt_f"+string(rune('a'+i)), billing.EventInvoiceFailed, at, 1)
				// Even rounds: the payment a second later; odd: the same second.
				paidAt := at.Add(time.Second)
				if i%2 == 1 {
					paidAt = at
				}
				paid := invoiceEvent("evt_p"+string(rune('a'+i)), billing.EventInvoicePaid, paidAt, 1)
				var wg sync.WaitGroup
				for _, ev := range []billingtest.Event{failed, paid, failed} {
					wg.Go(func() {
						p := ev.JSON()
						if r := a.postWebhook(t, p, billingtest.Sign(p, webhookSecret, a.Clock.Now()), ""); r.Status != http.StatusOK {
							t.Errorf("deliver %s: %d %s", ev.ID, r.Status, r.Body)
						}
					})
				}
				wg.Wait()
				if ws := a.billingState(t, slug); !ws.PaymentFailedAt.IsZero() {
					t.Errorf("round %d: the failure won over the newer payment (failed_at %v)", i, ws.PaymentFailedAt)
				}
			}
		})
	}
}
