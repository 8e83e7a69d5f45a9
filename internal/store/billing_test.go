package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// billingFixture is a workspace with an owner and an admin, and the
// services the billing tests use.
type billingFixture struct {
	db           *store.DB
	billing      *store.BillingService
	ws           *app.Workspace
	owner, admin context.Context
}

func newBillingFixture(t *testing.T, db *store.DB) *billingFixture {
	t.Helper()
	c := newClock(db)
	f := &billingFixture{db: db, billing: store.NewBillingService(db)}
	f.owner = billingSignIn(t, db, c, "owner@example.com")
	f.admin = billingSignIn(t, db, c, "admin@example.com")
	ws, err := store.NewWorkspaceService(db).CreateWorkspace(f.owner, "Acme Inc", "acme")
	if err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	f.ws = ws
	invites := store.NewInviteService(db)
	token, hash := app.NewToken()
	compose := func(inv *app.Invite, _ string) app.InviteEmail {
		return app.InviteEmail{Email: app.Email{To: inv.Email, Subject: "Join", Text: "/invites/" + token, Ref: "invite"}}
	}
	if _, err := invites.CreateInvite(f.owner, app.ScopeOf(f.owner, ws.ID), app.NewInvite{Email: "admin@example.com", Role: app.RoleAdmin,
		TokenHash: hash, ExpiresAt: c.Now().Add(app.InviteTTL)}, app.PlanLimits{FreeSeats: 10}, compose); err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}
	if _, err := invites.AcceptInvite(f.admin, app.InviteKey{TokenHash: hash}, app.PlanLimits{}); err != nil {
		t.Fatalf("AcceptInvite: %v", err)
	}
	return f
}

// billingSignIn creates a user through the sign-in flow and returns a
// context acting as them.
func billingSignIn(t *testing.T, db *store.DB, c *clock, email string) context.Context {
	t.Helper()
	auth := store.NewAuthService(db)
	tok := requestLogin(t, auth, c, email, "/app")
	_, sess := app.NewToken()
	u, _, err := auth.CompleteLogin(context.Background(), app.HashToken(tok), app.NewSession{TokenHash: sess, IP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatalf("CompleteLogin %s: %v", email, err)
	}
	return app.WithPrincipal(context.Background(), &app.Principal{User: *u})
}

// workspace reads the workspace back.
func (f *billingFixture) workspace(t *testing.T) *app.Workspace {
	t.Helper()
	ws, err := f.billing.FindWorkspaceBySlug(context.Background(), f.ws.Slug)
	if err != nil {
		t.Fatalf("FindWorkspaceBySlug: %v", err)
	}
	return ws
}

// audits returns the workspace's audit entries with action.
func (f *billingFixture) audits(t *testing.T, action string) []*app.AuditEntry {
	t.Helper()
	entries, err := store.NewOperatorAuditService(f.db).FindAuditEntries(context.Background(), app.AuditFilter{Scope: app.Scope{WorkspaceID: f.ws.ID}, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// eventRows counts the stored events with id.
func (f *billingFixture) eventRows(t *testing.T, id string) int {
	t.Helper()
	var n int
	if err := f.db.SQL().QueryRowContext(context.Background(), f.db.Rebind("SELECT COUNT(*) FROM stripe_events WHERE id = ?"), id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// event returns the stored event with id.
func (f *billingFixture) event(t *testing.T, id string) *app.StripeEvent {
	t.Helper()
	ev, err := f.billing.FindStripeEvent(context.Background(), id)
	if err != nil {
		t.Fatalf("FindStripeEvent(%s): %v", id, err)
	}
	return ev
}

// apply records an event whose update is upd.
func (f *billingFixture) apply(t *testing.T, id, typ string, created time.Time, upd *app.BillingUpdate) string {
	t.Helper()
	ev := app.StripeEvent{ID: id, Type: typ, APIVersion: "2023-10-16", Created: created, Payload: []byte(`{"id":"` + id + `"}`)}
	result, err := f.billing.ApplyStripeEvent(context.Background(), ev, upd)
	if err != nil {
		t.Fatalf("ApplyStripeEvent(%s): %v", id, err)
	}
	return result
}

func subUpdate(wsID int64, customer, status string, asOf time.Time) *app.BillingUpdate {
	return &app.BillingUpdate{WorkspaceID: wsID, CustomerID: customer, SubscriptionID: "sub_1", Status: status,
		Action: app.ActionSubscriptionUpdated, AsOf: asOf}
}

func TestBillingService_ApplyStripeEvent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		t0 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		f := newBillingFixture(t, db)

		t.Run("Applied", func(t *testing.T) {
			no := false
			upd := subUpdate(f.ws.ID, "cus_1", app.SubActive, t0)
			upd.PeriodEnd, upd.CancelAtEnd = t0.Add(30*24*time.Hour), &no
			if got, want := f.apply(t, "evt_created", "customer.subscription.created", t0, upd), app.EventApplied; got != want {
				t.Fatalf("result=%q, want %q", got, want)
			}
			ws := f.workspace(t)
			if ws.Plan != app.PlanPro || ws.SubscriptionStatus != app.SubActive || ws.StripeCustomerID != "cus_1" ||
				ws.StripeSubscriptionID != "sub_1" || !ws.CurrentPeriodEnd.Equal(upd.PeriodEnd) || ws.CancelAtPeriodEnd {
				t.Errorf("workspace after the event: %+v", ws)
			}
			ev := f.event(t, "evt_created")
			if ev.Status != app.EventApplied || ev.WorkspaceID != f.ws.ID || ev.Type != "customer.subscription.created" ||
				ev.APIVersion != "2023-10-16" || !ev.Created.Equal(t0) || string(ev.Payload) != `{"id":"evt_created"}` {
				t.Errorf("stored event: %+v", ev)
			}
			entries := f.audits(t, app.ActionSubscriptionUpdated)
			if len(entries) != 1 {
				t.Fatalf("%d %s entries, want 1", len(entries), app.ActionSubscriptionUpdated)
			}
			md := entries[0].Metadata
			if md["stripe_event_id"] != "evt_created" || md["status"] != app.SubActive || md["plan"] != app.PlanPro || md["previous_status"] != "" {
				t.Errorf("audit metadata=%v", md)
			}
			if entries[0].ActorID != 0 {
				t.Errorf("audit actor=%d, want 0 (Stripe)", entries[0].ActorID)
			}
		})

		t.Run("Duplicate", func(t *testing.T) {
			before := f.workspace(t)
			// The redelivery carries the same id; even a different update in
			// it must not act.
			if got, want := f.apply(t, "evt_created", "customer.subscription.created", t0, subUpdate(f.ws.ID, "cus_1", app.SubCanceled, t0.Add(time.Hour))), app.EventDuplicate; got != want {
				t.Fatalf("result=%q, want %q", got, want)
			}
			if after := f.workspace(t); *after != *before {
				t.Errorf("workspace changed on a duplicate:\nbefore %+v\nafter  %+v", before, after)
			}
			if n := f.eventRows(t, "evt_created"); n != 1 {
				t.Errorf("%d rows for the event, want 1", n)
			}
			if n := len(f.audits(t, app.ActionSubscriptionUpdated)); n != 1 {
				t.Errorf("%d audit entries, want 1", n)
			}
		})

		t.Run("OutOfOrder", func(t *testing.T) {
			if got := f.apply(t, "evt_newer", "customer.subscription.updated", t0.Add(2*time.Hour), subUpdate(f.ws.ID, "cus_1", app.SubActive, t0.Add(2*time.Hour))); got != app.EventApplied {
				t.Fatalf("newer event: %q, want applied", got)
			}
			if got, want := f.apply(t, "evt_older", "customer.subscription.updated", t0.Add(time.Hour), subUpdate(f.ws.ID, "cus_1", app.SubPastDue, t0.Add(time.Hour))), app.EventStale; got != want {
				t.Fatalf("older event: %q, want %q", got, want)
			}
			if ws := f.workspace(t); ws.SubscriptionStatus != app.SubActive || ws.Plan != app.PlanPro {
				t.Errorf("after a stale past_due: status %q plan %q, want active pro", ws.SubscriptionStatus, ws.Plan)
			}
			if ev := f.event(t, "evt_older"); ev.Status != app.EventStale || ev.WorkspaceID != f.ws.ID {
				t.Errorf("stale event stored as %q for workspace %d", ev.Status, ev.WorkspaceID)
			}
			if n := len(f.audits(t, app.ActionSubscriptionUpdated)); n != 2 {
				t.Errorf("%d audit entries, want 2 (the stale event writes none)", n)
			}
		})

		t.Run("OlderInvoiceEventStillAudited", func(t *testing.T) {
			// Invoice events carry no status: their age does not matter.
			upd := &app.BillingUpdate{CustomerID: "cus_1", Action: app.ActionPaymentFailed, AsOf: t0}
			if got := f.apply(t, "evt_invoice", "invoice.payment_failed", t0, upd); got != app.EventApplied {
				t.Fatalf("result=%q, want applied", got)
			}
			if ws := f.workspace(t); ws.SubscriptionStatus != app.SubActive {
				t.Errorf("status %q after an invoice event, want active", ws.SubscriptionStatus)
			}
			if n := len(f.audits(t, app.ActionPaymentFailed)); n != 1 {
				t.Errorf("%d %s entries, want 1", n, app.ActionPaymentFailed)
			}
		})

		t.Run("Ignored", func(t *testing.T) {
			if got, want := f.apply(t, "evt_ignored", "customer.created", t0, nil), app.EventIgnored; got != want {
				t.Fatalf("result=%q, want %q", got, want)
			}
			if ev := f.event(t, "evt_ignored"); ev.Status != app.EventIgnored || ev.WorkspaceID != 0 {
				t.Errorf("stored as %q for workspace %d", ev.Status, ev.WorkspaceID)
			}
		})

		t.Run("UnmatchedThenReplayed", func(t *testing.T) {
			other, err := store.NewWorkspaceService(db).CreateWorkspace(f.owner, "Other", "other")
			if err != nil {
				t.Fatal(err)
			}
			upd := &app.BillingUpdate{CustomerID: "cus_later", SubscriptionID: "sub_later", Status: app.SubActive,
				Action: app.ActionSubscriptionUpdated, AsOf: t0}
			if got, want := f.apply(t, "evt_unmatched", "customer.subscription.created", t0, upd), app.EventUnmatched; got != want {
				t.Fatalf("result=%q, want %q", got, want)
			}
			if ev := f.event(t, "evt_unmatched"); ev.Status != app.EventUnmatched || ev.WorkspaceID != 0 {
				t.Errorf("stored as %q for workspace %d", ev.Status, ev.WorkspaceID)
			}
			if err := f.billing.RecordCheckoutStarted(f.owner, app.ScopeOf(f.owner, other.ID), "cus_later", "cs_1"); err != nil {
				t.Fatalf("RecordCheckoutStarted: %v", err)
			}
			got, err := f.billing.ReapplyStripeEvent(context.Background(), "evt_unmatched", upd)
			if err != nil || got != app.EventApplied {
				t.Fatalf("ReapplyStripeEvent = %q, %v; want applied", got, err)
			}
			ws, err := f.billing.FindWorkspaceBySlug(context.Background(), "other")
			if err != nil {
				t.Fatal(err)
			}
			if ws.Plan != app.PlanPro || ws.SubscriptionStatus != app.SubActive || ws.StripeSubscriptionID != "sub_later" {
				t.Errorf("replayed workspace: %+v", ws)
			}
			if ev := f.event(t, "evt_unmatched"); ev.Status != app.EventApplied || ev.WorkspaceID != other.ID {
				t.Errorf("after replay stored as %q for workspace %d, want applied for %d", ev.Status, ev.WorkspaceID, other.ID)
			}
		})

		t.Run("ReplayUnknown", func(t *testing.T) {
			before := f.workspace(t)
			_, err := f.billing.ReapplyStripeEvent(context.Background(), "evt_nope", subUpdate(f.ws.ID, "cus_1", app.SubCanceled, t0.Add(24*time.Hour)))
			if got := app.ErrorCode(err); got != app.ENOTFOUND {
				t.Fatalf("ReapplyStripeEvent of an unknown id: %v (code %q), want %s", err, got, app.ENOTFOUND)
			}
			if after := f.workspace(t); *after != *before {
				t.Errorf("a refused replay changed the workspace:\nbefore %+v\nafter  %+v", before, after)
			}
			if _, err := f.billing.FindStripeEvent(context.Background(), "evt_nope"); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("FindStripeEvent of an unknown id: %v, want %s", err, app.ENOTFOUND)
			}
		})
	})
}

// TestBillingService_ConcurrentDelivery delivers one event from 8
// goroutines at once: it acts once.
func TestBillingService_ConcurrentDelivery(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		t0 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		ev := app.StripeEvent{ID: "evt_race", Type: "customer.subscription.created", Created: t0, Payload: []byte(`{}`)}
		results := make([]string, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range results {
			wg.Go(func() {
				<-start
				results[i], errs[i] = f.billing.ApplyStripeEvent(context.Background(), ev, subUpdate(f.ws.ID, "cus_1", app.SubActive, t0))
			})
		}
		close(start)
		wg.Wait()
		applied := 0
		for i, r := range results {
			if errs[i] != nil {
				t.Errorf("delivery %d: %v", i, errs[i])
			}
			switch r {
			case app.EventApplied:
				applied++
			case app.EventDuplicate:
			default:
				t.Errorf("delivery %d: result %q", i, r)
			}
		}
		if applied != 1 {
			t.Errorf("%d deliveries applied, want 1 (results %v)", applied, results)
		}
		if n := len(f.audits(t, app.ActionSubscriptionUpdated)); n != 1 {
			t.Errorf("%d audit entries, want 1", n)
		}
		if n := f.eventRows(t, "evt_race"); n != 1 {
			t.Errorf("%d rows, want 1", n)
		}
	})
}

func TestBillingService_RecordCheckoutStarted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		ctx := context.Background()

		t.Run("Owner", func(t *testing.T) {
			if err := f.billing.RecordCheckoutStarted(f.owner, app.ScopeOf(f.owner, f.ws.ID), "cus_first", "cs_1"); err != nil {
				t.Fatalf("RecordCheckoutStarted: %v", err)
			}
			if got, want := f.workspace(t).StripeCustomerID, "cus_first"; got != want {
				t.Errorf("customer=%q, want %q", got, want)
			}
			entries := f.audits(t, app.ActionCheckoutStarted)
			if len(entries) != 1 || entries[0].Metadata["checkout_session_id"] != "cs_1" {
				t.Fatalf("audit entries %+v, want one naming cs_1", entries)
			}
		})
		t.Run("KeepsTheFirstCustomer", func(t *testing.T) {
			if err := f.billing.RecordCheckoutStarted(f.owner, app.ScopeOf(f.owner, f.ws.ID), "cus_second", "cs_2"); err != nil {
				t.Fatalf("RecordCheckoutStarted: %v", err)
			}
			if got, want := f.workspace(t).StripeCustomerID, "cus_first"; got != want {
				t.Errorf("customer=%q, want %q", got, want)
			}
		})
		for _, tc := range []struct {
			name string
			ctx  context.Context
			code string
		}{
			{"Admin", f.admin, app.EFORBIDDEN},
			{"SignedOut", ctx, app.EUNAUTHORIZED},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := f.billing.RecordCheckoutStarted(tc.ctx, app.ScopeOf(tc.ctx, f.ws.ID), "cus_x", "cs_x")
				if got := app.ErrorCode(err); got != tc.code {
					t.Fatalf("err=%v (code %q), want %s", err, got, tc.code)
				}
				if got := f.workspace(t).StripeCustomerID; got != "cus_first" {
					t.Errorf("customer=%q after a refused call", got)
				}
			})
		}
	})
}

func TestBillingService_SyncSubscription(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		ctx := context.Background()
		asOf := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		periodEnd := asOf.Add(30 * 24 * time.Hour)
		yes := true

		err := f.billing.SyncSubscription(ctx, f.ws.ID, app.BillingUpdate{CustomerID: "cus_9", SubscriptionID: "sub_9",
			Status: app.SubTrialing, PeriodEnd: periodEnd, CancelAtEnd: &yes, AsOf: asOf})
		if err != nil {
			t.Fatalf("SyncSubscription: %v", err)
		}
		ws := f.workspace(t)
		if ws.Plan != app.PlanPro || ws.SubscriptionStatus != app.SubTrialing || ws.StripeCustomerID != "cus_9" ||
			ws.StripeSubscriptionID != "sub_9" || !ws.CurrentPeriodEnd.Equal(periodEnd) || !ws.CancelAtPeriodEnd {
			t.Errorf("after sync: %+v", ws)
		}
		// A sync is newer than any event: an older one delivered late is stale.
		if got := f.apply(t, "evt_late", "customer.subscription.updated", asOf.Add(-time.Minute), subUpdate(f.ws.ID, "cus_9", app.SubPastDue, asOf.Add(-time.Minute))); got != app.EventStale {
			t.Errorf("event older than the sync: %q, want stale", got)
		}

		// Stripe has no subscription: back to free.
		if err := f.billing.SyncSubscription(ctx, f.ws.ID, app.BillingUpdate{AsOf: asOf.Add(time.Hour)}); err != nil {
			t.Fatalf("SyncSubscription: %v", err)
		}
		ws = f.workspace(t)
		if ws.Plan != app.PlanFree || ws.SubscriptionStatus != app.SubCanceled || ws.StripeCustomerID != "cus_9" || ws.CancelAtPeriodEnd {
			t.Errorf("after an empty sync: %+v", ws)
		}
		entries := f.audits(t, app.ActionBillingSynced)
		if len(entries) != 2 {
			t.Fatalf("%d %s entries, want 2", len(entries), app.ActionBillingSynced)
		}
		if md := entries[0].Metadata; md["previous_status"] != app.SubTrialing || md["status"] != app.SubCanceled {
			t.Errorf("newest sync audit metadata=%v", md)
		}

		if err := f.billing.SyncSubscription(ctx, 999999, app.BillingUpdate{Status: app.SubActive}); app.ErrorCode(err) != app.ENOTFOUND {
			t.Errorf("sync of a missing workspace: %v, want %s", err, app.ENOTFOUND)
		}
	})
}

func TestBillingService_DemoUpgrade(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		if err := f.billing.DemoUpgrade(f.admin, app.ScopeOf(f.admin, f.ws.ID)); app.ErrorCode(err) != app.EFORBIDDEN {
			t.Fatalf("admin demo upgrade: %v, want %s", err, app.EFORBIDDEN)
		}
		if ws := f.workspace(t); ws.Plan != app.PlanFree {
			t.Fatalf("plan %q after a refused demo upgrade", ws.Plan)
		}
		if err := f.billing.DemoUpgrade(f.owner, app.ScopeOf(f.owner, f.ws.ID)); err != nil {
			t.Fatalf("DemoUpgrade: %v", err)
		}
		if ws := f.workspace(t); ws.Plan != app.PlanPro || ws.SubscriptionStatus != app.SubActive {
			t.Errorf("after demo upgrade: plan %q status %q, want pro active", ws.Plan, ws.SubscriptionStatus)
		}
		entries := f.audits(t, app.ActionDemoUpgraded)
		if len(entries) != 1 || entries[0].Metadata["demo"] != true {
			t.Errorf("audit entries %+v, want one with demo=true", entries)
		}
	})
}

func TestBillingService_FindWorkspaceBySlug(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := newBillingFixture(t, db)
		ws, err := f.billing.FindWorkspaceBySlug(context.Background(), "acme")
		if err != nil || ws.ID != f.ws.ID || ws.Name != "Acme Inc" {
			t.Fatalf("FindWorkspaceBySlug = %+v, %v", ws, err)
		}
		_, err = f.billing.FindWorkspaceBySlug(context.Background(), "nope")
		var ae *app.Error
		if !errors.As(err, &ae) || ae.Code != app.ENOTFOUND {
			t.Errorf("unknown slug: %v, want %s", err, app.ENOTFOUND)
		}
	})
}

func TestBillingService_PlanFromPrice(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		t0 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
		f := newBillingFixture(t, db)

		trial := subUpdate(f.ws.ID, "cus_1", app.SubTrialing, t0)
		trial.PriceID, trial.Plan, trial.Quantity, trial.TrialEnd = "price_by", app.PlanBusiness, 7, t0.Add(14*24*time.Hour)
		if got := f.apply(t, "evt_trial", "customer.subscription.created", t0, trial); got != app.EventApplied {
			t.Fatalf("result=%q", got)
		}
		ws := f.workspace(t)
		if ws.Plan != app.PlanBusiness || ws.PriceID != "price_by" || ws.SeatQuantity != 7 || !ws.TrialEnd.Equal(trial.TrialEnd) {
			t.Errorf("after the trial started: plan %s, price %s, quantity %d, trial end %s", ws.Plan, ws.PriceID, ws.SeatQuantity, ws.TrialEnd)
		}
		if e := f.audits(t, app.ActionSubscriptionUpdated); len(e) != 1 || e[0].Metadata["plan"] != app.PlanBusiness {
			t.Errorf("audit entries %v, want one with plan business", e)
		}

		// The trial converts: the next update carries no trial end, and
		// writes that too.
		active := subUpdate(f.ws.ID, "cus_1", app.SubActive, t0.Add(time.Minute))
		active.PriceID, active.Plan, active.Quantity = "price_by", app.PlanBusiness, 8
		f.apply(t, "evt_active", "customer.subscription.updated", t0.Add(time.Minute), active)
		if ws := f.workspace(t); !ws.TrialEnd.IsZero() || ws.SeatQuantity != 8 || ws.Plan != app.PlanBusiness {
			t.Errorf("after the trial converted: plan %s, quantity %d, trial end %s", ws.Plan, ws.SeatQuantity, ws.TrialEnd)
		}

		// Canceled: the plan falls back to Free whatever the price.
		gone := subUpdate(f.ws.ID, "cus_1", app.SubCanceled, t0.Add(2*time.Minute))
		gone.PriceID, gone.Plan = "price_by", app.PlanBusiness
		f.apply(t, "evt_gone", "customer.subscription.deleted", t0.Add(2*time.Minute), gone)
		if ws := f.workspace(t); ws.Plan != app.PlanFree || ws.IsPaid() {
			t.Errorf("after cancellation: plan %s, paid %v", ws.Plan, ws.IsPaid())
		}
	})
}
