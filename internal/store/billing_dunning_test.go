package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// dunningNotice is a billing notice email the tests can count by Ref.
func dunningNotice(n app.BillingNotice) app.Email {
	return app.Email{To: n.To, Subject: n.Kind + " " + n.Workspace, Text: n.InvoiceURL, Ref: "billing_" + n.Kind}
}

const testInvoiceURL = "https://invoice.stripe.com/i/acct_1/test_1"

// newDunningFixture is a billing fixture whose workspace has the
// subscription sub_1 (active), a clock, and notices on.
func newDunningFixture(t *testing.T, db *store.DB) (*billingFixture, *clock) {
	t.Helper()
	f := newBillingFixture(t, db)
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	db.Now = c.Now
	f.billing.Notice = dunningNotice
	f.billing.Grace = 7 * 24 * time.Hour
	if got := f.apply(t, "evt_sub", "customer.subscription.created", c.Now().Add(-time.Hour),
		subUpdate(f.ws.ID, "cus_1", app.SubActive, c.Now().Add(-time.Hour))); got != app.EventApplied {
		t.Fatalf("subscription: %s", got)
	}
	return f, c
}

func failedUpd(f *billingFixture, at time.Time, attempt int64) *app.BillingUpdate {
	return &app.BillingUpdate{CustomerID: "cus_1", Action: app.ActionPaymentFailed, AsOf: at,
		Payment: &app.PaymentUpdate{Failed: true, SubscriptionID: "sub_1", InvoiceURL: testInvoiceURL, AttemptCount: attempt}}
}

func paidUpd(f *billingFixture, at time.Time) *app.BillingUpdate {
	return &app.BillingUpdate{CustomerID: "cus_1", Action: app.ActionInvoicePaid, AsOf: at,
		Payment: &app.PaymentUpdate{SubscriptionID: "sub_1"}}
}

// mails counts the queued billing emails of kind.
func mails(t *testing.T, db *store.DB, kind string) int {
	t.Helper()
	return storetest.Count(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE ref = ?", "billing_"+kind)
}

// dunningCase runs fn on a fresh dunning fixture on each database.
func dunningCase(t *testing.T, name string, fn func(t *testing.T, db *store.DB, f *billingFixture, c *clock)) {
	t.Run(name, func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, db *store.DB) {
			f, c := newDunningFixture(t, db)
			fn(t, db, f, c)
		})
	})
}

func TestBillingService_Dunning(t *testing.T) {
	dunningCase(t, "FailedThenPaid", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		t0 := c.Now()
		if got := f.apply(t, "evt_f1", "invoice.payment_failed", t0, failedUpd(f, t0, 1)); got != app.EventApplied {
			t.Fatalf("failed: %s", got)
		}
		ws := f.workspace(t)
		if !ws.PaymentFailedAt.Equal(t0) || ws.PaymentInvoiceURL != testInvoiceURL {
			t.Fatalf("after failure: failed_at %v url %q", ws.PaymentFailedAt, ws.PaymentInvoiceURL)
		}
		if n := mails(t, db, app.NoticePaymentFailed); n != 1 {
			t.Errorf("%d payment-failed emails, want 1 (one owner)", n)
		}
		// Stripe retries: a later failure keeps the episode's start and sends nothing.
		f.apply(t, "evt_f2", "invoice.payment_failed", t0.Add(72*time.Hour), failedUpd(f, t0.Add(72*time.Hour), 2))
		if ws := f.workspace(t); !ws.PaymentFailedAt.Equal(t0) {
			t.Errorf("failed_at moved to %v", ws.PaymentFailedAt)
		}
		if n := mails(t, db, app.NoticePaymentFailed); n != 1 {
			t.Errorf("%d payment-failed emails after a retry failed, want 1", n)
		}
		entries := f.audits(t, app.ActionPaymentFailed)
		if len(entries) != 2 || entries[0].Metadata["attempt_count"] == nil {
			t.Errorf("payment_failed entries = %d (%v), want 2 with attempt_count", len(entries), entries)
		}
		if got := f.apply(t, "evt_p", "invoice.paid", t0.Add(73*time.Hour), paidUpd(f, t0.Add(73*time.Hour))); got != app.EventApplied {
			t.Fatalf("paid: %s", got)
		}
		ws = f.workspace(t)
		if !ws.PaymentFailedAt.IsZero() || ws.PaymentInvoiceURL != "" || ws.Restricted() {
			t.Errorf("after payment: %v %q %v", ws.PaymentFailedAt, ws.PaymentInvoiceURL, ws.RestrictedAt)
		}
		if n := len(f.audits(t, app.ActionPaymentRecovered)); n != 1 {
			t.Errorf("%d payment_recovered entries, want 1", n)
		}
		// A paid invoice with nothing overdue clears nothing and is not a recovery.
		f.apply(t, "evt_p2", "invoice.paid", t0.Add(800*time.Hour), paidUpd(f, t0.Add(800*time.Hour)))
		if n := len(f.audits(t, app.ActionPaymentRecovered)); n != 1 {
			t.Errorf("%d payment_recovered entries after an ordinary invoice, want 1", n)
		}
	})

	dunningCase(t, "Duplicate", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		t0 := c.Now()
		f.apply(t, "evt_f1", "invoice.payment_failed", t0, failedUpd(f, t0, 1))
		if got := f.apply(t, "evt_f1", "invoice.payment_failed", t0, failedUpd(f, t0, 1)); got != app.EventDuplicate {
			t.Errorf("second delivery: %s, want duplicate", got)
		}
		if _, err := f.billing.ReapplyStripeEvent(context.Background(), "evt_f1", failedUpd(f, t0, 1)); err != nil {
			t.Fatal(err)
		}
		if n := mails(t, db, app.NoticePaymentFailed); n != 1 {
			t.Errorf("%d emails after a duplicate and a replay, want 1", n)
		}
	})

	dunningCase(t, "PaidBeforeFailed", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		// The failure happened first but is delivered last: it must not
		// re-open the episode the payment closed.
		t0 := c.Now()
		f.apply(t, "evt_p", "invoice.paid", t0.Add(time.Minute), paidUpd(f, t0.Add(time.Minute)))
		if got := f.apply(t, "evt_f", "invoice.payment_failed", t0, failedUpd(f, t0, 1)); got != app.EventStale {
			t.Errorf("late failure: %s, want stale", got)
		}
		if ws := f.workspace(t); !ws.PaymentFailedAt.IsZero() {
			t.Errorf("late failure opened an episode at %v", ws.PaymentFailedAt)
		}
		if n := mails(t, db, app.NoticePaymentFailed); n != 0 {
			t.Errorf("%d emails for a stale failure", n)
		}
	})

	dunningCase(t, "OldPaymentAfterFailure", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		// An older payment delivered after a newer failure leaves it open.
		t0 := c.Now()
		f.apply(t, "evt_f", "invoice.payment_failed", t0, failedUpd(f, t0, 1))
		if got := f.apply(t, "evt_p", "invoice.paid", t0.Add(-time.Minute), paidUpd(f, t0.Add(-time.Minute))); got != app.EventStale {
			t.Errorf("old payment: %s, want stale", got)
		}
		if ws := f.workspace(t); ws.PaymentFailedAt.IsZero() {
			t.Error("an older payment closed the episode")
		}
	})

	for _, order := range []string{"FailedFirst", "PaidFirst"} {
		dunningCase(t, "SameSecond"+order, func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
			{
				t0 := c.Now()
				if order == "FailedFirst" {
					f.apply(t, "evt_b", "invoice.payment_failed", t0, failedUpd(f, t0, 1))
					f.apply(t, "evt_a", "invoice.paid", t0, paidUpd(f, t0))
				} else {
					f.apply(t, "evt_a", "invoice.paid", t0, paidUpd(f, t0))
					f.apply(t, "evt_b", "invoice.payment_failed", t0, failedUpd(f, t0, 1))
				}
				if ws := f.workspace(t); !ws.PaymentFailedAt.IsZero() {
					t.Errorf("same second: the failure won (failed_at %v)", ws.PaymentFailedAt)
				}
			}
		})
	}

	dunningCase(t, "Raced", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		t0 := c.Now()
		var wg sync.WaitGroup
		for _, ev := range []struct {
			id, typ string
			upd     *app.BillingUpdate
		}{
			{"evt_f", "invoice.payment_failed", failedUpd(f, t0, 1)},
			{"evt_p", "invoice.paid", paidUpd(f, t0.Add(time.Second))},
			{"evt_f", "invoice.payment_failed", failedUpd(f, t0, 1)},
		} {
			wg.Go(func() {
				e := app.StripeEvent{ID: ev.id, Type: ev.typ, Created: ev.upd.AsOf, Payload: []byte(`{}`)}
				if _, err := f.billing.ApplyStripeEvent(context.Background(), e, ev.upd); err != nil {
					t.Errorf("%s: %v", ev.id, err)
				}
			})
		}
		wg.Wait()
		if ws := f.workspace(t); !ws.PaymentFailedAt.IsZero() {
			t.Errorf("raced: the newer payment lost (failed_at %v)", ws.PaymentFailedAt)
		}
		if n := mails(t, db, app.NoticePaymentFailed); n > 1 {
			t.Errorf("%d emails for one failure", n)
		}
	})

	dunningCase(t, "OtherSubscription", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		upd := failedUpd(f, c.Now(), 1)
		upd.Payment.SubscriptionID = "sub_old"
		if got := f.apply(t, "evt_f", "invoice.payment_failed", c.Now(), upd); got != app.EventApplied {
			t.Fatalf("got %s", got)
		}
		if ws := f.workspace(t); !ws.PaymentFailedAt.IsZero() {
			t.Error("a failed invoice of another subscription opened an episode")
		}
	})

	dunningCase(t, "ActiveEndsEpisode", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		t0 := c.Now()
		f.apply(t, "evt_f", "invoice.payment_failed", t0, failedUpd(f, t0, 1))
		f.apply(t, "evt_pd", "customer.subscription.updated", t0, subUpdate(f.ws.ID, "cus_1", app.SubPastDue, t0))
		f.apply(t, "evt_ac", "customer.subscription.updated", t0.Add(time.Hour), subUpdate(f.ws.ID, "cus_1", app.SubActive, t0.Add(time.Hour)))
		if ws := f.workspace(t); !ws.PaymentFailedAt.IsZero() {
			t.Errorf("active after past_due left the episode open")
		}
		if n := len(f.audits(t, app.ActionPaymentRecovered)); n != 1 {
			t.Errorf("%d payment_recovered entries, want 1", n)
		}
		// The failure, delivered again late (a replay), stays closed.
		if got, _ := f.billing.ReapplyStripeEvent(context.Background(), "evt_f", failedUpd(f, t0, 1)); got != app.EventStale {
			t.Errorf("replayed failure: %s, want stale", got)
		}
	})

	dunningCase(t, "GraceThenRestricted", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		t0 := c.Now()
		f.apply(t, "evt_f", "invoice.payment_failed", t0, failedUpd(f, t0, 1))
		c.Add(6 * 24 * time.Hour)
		// The invite accepted during the restriction is sent within the grace period.
		invitee := signUpMember(t, db, c, "later@example.com")
		_, tok := sendInvite(t, db, c, f.owner, f.ws.ID, invitee.Email, app.RoleMember)
		if n, err := f.billing.RestrictOverdue(context.Background()); err != nil || n != 0 {
			t.Fatalf("within grace: restricted %d, %v", n, err)
		}
		c.Add(24 * time.Hour)
		if n, err := f.billing.RestrictOverdue(context.Background()); err != nil || n != 1 {
			t.Fatalf("after grace: restricted %d, %v", n, err)
		}
		if n, err := f.billing.RestrictOverdue(context.Background()); err != nil || n != 0 {
			t.Fatalf("second run: restricted %d, %v", n, err)
		}
		if n := len(f.audits(t, app.ActionRestricted)); n != 1 {
			t.Errorf("%d restricted entries, want 1", n)
		}
		if !f.workspace(t).Restricted() {
			t.Fatal("workspace not restricted")
		}

		// Every addition is refused; reads and removals stay.
		sc := app.ScopeOf(f.owner, f.ws.ID)
		_, hash := app.NewToken()
		_, err := store.NewInviteService(db).CreateInvite(f.owner, sc, app.NewInvite{Email: "new@example.com", Role: app.RoleMember,
			TokenHash: hash, ExpiresAt: c.Now().Add(app.InviteTTL)}, app.PlanLimits{}, func(inv *app.Invite, _ string) app.InviteEmail {
			return app.InviteEmail{Email: app.Email{To: inv.Email, Subject: "Join", Text: "x", Ref: "invite"}}
		})
		if err != app.ErrRestricted {
			t.Errorf("CreateInvite: %v, want ErrRestricted", err)
		}
		if _, err := store.NewInviteService(db).AcceptInvite(invitee.ctx, app.InviteKey{TokenHash: app.HashToken(tok)}, app.PlanLimits{}); err != app.ErrRestricted {
			t.Errorf("AcceptInvite: %v, want ErrRestricted", err)
		}
		_, prefix, keyHash := app.NewAPIKeySecret()
		if _, err := store.NewAPIKeyService(db).CreateAPIKey(f.owner, sc, app.NewAPIKey{Name: "ci", Scopes: []string{app.ScopeRead},
			Prefix: prefix, TokenHash: keyHash}); err != app.ErrRestricted {
			t.Errorf("CreateAPIKey: %v, want ErrRestricted", err)
		}
		hooks := devWebhooks(db, nil)
		if _, err := hooks.CreateWebhookEndpoint(f.owner, sc, app.WebhookEndpointInput{URL: "https://a.example.com/",
			Description: "test", EventTypes: []string{app.ActionInviteSent}}); err != app.ErrRestricted {
			t.Errorf("CreateWebhookEndpoint: %v, want ErrRestricted", err)
		}

		// Paying lifts it, and additions work again.
		f.apply(t, "evt_p", "invoice.paid", c.Now(), paidUpd(f, c.Now()))
		if ws := f.workspace(t); ws.Restricted() || !ws.PaymentFailedAt.IsZero() {
			t.Errorf("after payment: restricted %v failed %v", ws.RestrictedAt, ws.PaymentFailedAt)
		}
		if _, err := store.NewInviteService(db).AcceptInvite(invitee.ctx, app.InviteKey{TokenHash: app.HashToken(tok)}, app.PlanLimits{}); err != nil {
			t.Errorf("AcceptInvite after payment: %v", err)
		}
		rec := f.audits(t, app.ActionPaymentRecovered)
		if len(rec) != 1 || rec[0].Metadata["was_restricted"] != true {
			t.Errorf("payment_recovered entries %v, want one with was_restricted", rec)
		}
	})

	// More overdue workspaces than one read returns (500) are all
	// restricted by one run, each audited once.
	dunningCase(t, "RestrictsEveryBatch", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		t0 := c.Now()
		f.apply(t, "evt_f", "invoice.payment_failed", t0, failedUpd(f, t0, 1))
		storetest.Bulk(t, db, storetest.Volume{Workspaces: 1000})
		if _, err := db.SQL().ExecContext(context.Background(), db.Rebind(`UPDATE workspaces SET payment_failed_at = ?
			WHERE slug LIKE 'small-%'`), t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		c.Add(8 * 24 * time.Hour)
		if n, err := f.billing.RestrictOverdue(context.Background()); err != nil || n != 1001 {
			t.Fatalf("restricted %d, %v; want 1001", n, err)
		}
		if n := storetest.Count(t, db, "SELECT COUNT(*) FROM workspaces WHERE payment_failed_at IS NOT NULL AND restricted_at IS NULL"); n != 0 {
			t.Errorf("%d overdue workspaces left unrestricted", n)
		}
		if n := storetest.Count(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = ?", app.ActionRestricted); n != 1001 {
			t.Errorf("%d restricted entries, want 1001", n)
		}
		if n, err := f.billing.RestrictOverdue(context.Background()); err != nil || n != 0 {
			t.Fatalf("second run: restricted %d, %v", n, err)
		}
	})

	dunningCase(t, "SyncLiftsRestriction", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		f.apply(t, "evt_f", "invoice.payment_failed", c.Now(), failedUpd(f, c.Now(), 1))
		c.Add(8 * 24 * time.Hour)
		if _, err := f.billing.RestrictOverdue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := f.billing.SyncSubscription(context.Background(), f.ws.ID, app.BillingUpdate{SubscriptionID: "sub_1",
			Status: app.SubActive, AsOf: c.Now()}); err != nil {
			t.Fatal(err)
		}
		if ws := f.workspace(t); ws.Restricted() || !ws.PaymentFailedAt.IsZero() {
			t.Errorf("after sync: restricted %v failed %v", ws.RestrictedAt, ws.PaymentFailedAt)
		}
	})

	dunningCase(t, "TrialEnding", func(t *testing.T, db *store.DB, f *billingFixture, c *clock) {
		end := c.Now().Add(72 * time.Hour)
		upd := &app.BillingUpdate{WorkspaceID: f.ws.ID, CustomerID: "cus_1", Action: app.ActionTrialEnding, AsOf: c.Now(),
			TrialEnding: true, TrialEnd: end}
		if got := f.apply(t, "evt_t", "customer.subscription.trial_will_end", c.Now(), upd); got != app.EventApplied {
			t.Fatalf("trial_will_end: %s", got)
		}
		f.apply(t, "evt_t", "customer.subscription.trial_will_end", c.Now(), upd)
		if _, err := f.billing.ReapplyStripeEvent(context.Background(), "evt_t", upd); err != nil {
			t.Fatal(err)
		}
		if n := mails(t, db, app.NoticeTrialEnding); n != 1 {
			t.Errorf("%d trial emails, want 1", n)
		}
		if n := len(f.audits(t, app.ActionTrialEnding)); n != 1 {
			t.Errorf("%d trial_ending entries, want 1", n)
		}
	})
}
