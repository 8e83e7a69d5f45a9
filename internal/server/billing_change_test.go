package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/store/storetest"
)

// withPlans sells Pro and Business, monthly and annually (Pro monthly is
// withStripe's price_pro).
func withPlans() appOption {
	return withEnv("STRIPE_PRICE_PRO_ANNUAL", "price_pro_annual", "STRIPE_PRICE_BUSINESS_MONTHLY", "price_bus",
		"STRIPE_PRICE_BUSINESS_ANNUAL", "price_bus_annual")
}

// planEvent is a customer.subscription.updated on price, with
// cancel_at_period_end and the period ending at end.
func planEvent(id string, created time.Time, wsID int64, price string, cancel bool, end time.Time) billingtest.Event {
	ev := subscriptionEvent(id, billing.EventSubscriptionUpdated, app.SubActive, created, wsID, "cus_acme")
	ev.Object["cancel_at_period_end"] = cancel
	ev.Object["current_period_end"] = end.Unix()
	ev.Object["items"] = map[string]any{"object": "list", "data": []map[string]any{{"price": map[string]any{"id": price}, "quantity": 1}}}
	return ev
}

// changeApp is a paying workspace on price with stripe-mock behind the
// plan change fake; it returns the app, the owner, the slug, the
// workspace id, the fake, the recorder and the period end.
func changeApp(t *testing.T, price string) (*testApp, *browser, string, int64, *billingtest.PlanChangeStripe, *billingtest.Recorder, time.Time) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	end := now.Add(16 * 24 * time.Hour)
	fake := &billingtest.PlanChangeStripe{PriceID: price, Quantity: 1, Currency: "usd", Upcoming: map[string][]billingtest.Line{
		"price_bus": {{Amount: -640, Proration: true, Start: now.Unix(), End: end.Unix()},
			{Amount: 1280, Proration: true, Start: now.Unix(), End: end.Unix()},
			{Amount: 2400, Start: end.Unix(), End: end.AddDate(0, 1, 0).Unix()}},
		"price_pro_annual": {{Amount: -640, Proration: true, Start: now.Unix(), End: end.Unix()},
			{Amount: 12000, Start: now.Unix(), End: now.AddDate(1, 0, 0).Unix()}},
	}}
	rec := billingtest.NewRecorder(t, fake.Start(t, billingtest.StripeMock(t)))
	a := newTestApp(t, "sqlite", withStripe(rec.URL), withPlans())
	owner, slug, wsID := billingOwner(t, a, "owner@example.com")
	a.mustApply(t, planEvent("evt_start", now.Add(-time.Hour), wsID, price, false, end), app.EventApplied)
	return a, owner, slug, wsID, fake, rec, end
}

func day(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// TestBillingChange_Upgrade: the owner picks Business from the list, reads
// the preview from Stripe's upcoming invoice, and confirms twice (a double
// submit): Stripe gets one change (one Idempotency-Key), always invoiced
// at the preview's proration date; the plan changes when the webhook says so.
func TestBillingChange_Upgrade(t *testing.T) {
	t.Parallel()
	a, owner, slug, wsID, _, rec, end := changeApp(t, "price_pro")
	base := "/w/" + slug + "/billing"

	page := owner.Get(base)
	if !page.Has("billing-change-plan") || !page.Has("billing-cancel-form") || page.Has("billing-resume") {
		t.Fatalf("billing page: change %v cancel %v resume %v; want Change plan and Cancel\n%s", page.Has("billing-change-plan"), page.Has("billing-cancel-form"), page.Has("billing-resume"), page.Body)
	}
	list := owner.Get(base + "/plan")
	if list.StatusCode != http.StatusOK {
		t.Fatalf("plan list: status %d", list.StatusCode)
	}
	if n := list.Doc.Find(`[data-testid="change-plan-option"]`).Length(); n != 4 {
		t.Errorf("%d options, want Pro and Business, monthly and annually", n)
	}
	if n := list.Doc.Find(`[data-testid="change-plan-choose"]`).Length(); n != 3 {
		t.Errorf("%d choose links, want 3 (the current plan has none)", n)
	}
	if n := list.Doc.Find(`[data-testid="change-plan-current"]`).Length(); n != 1 {
		t.Errorf("%d current plans marked, want 1", n)
	}
	href, _ := list.Doc.Find(`a[data-testid="change-plan-choose"][href$="price=price_bus"]`).Attr("href")
	preview := owner.Get(href)
	if preview.StatusCode != http.StatusOK {
		t.Fatalf("preview: status %d\n%s", preview.StatusCode, preview.Body)
	}
	want := "You pay $6.40 today for the rest of this period; from " + day(end) + " you pay $24.00 a month."
	if got := preview.Text("change-preview-summary"); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if sent := rec.Sent("POST /v1/invoices/create_preview"); len(sent) != 1 || sent[0].Get("subscription_details[items][0][price]") != "price_bus" {
		t.Fatalf("upcoming invoice requests %v", sent)
	}
	proration := rec.Sent("POST /v1/invoices/create_preview")[0].Get("subscription_details[proration_date]")

	for range 2 {
		res := owner.Submit(preview, "change-preview-form", nil)
		if res.StatusCode != http.StatusSeeOther || res.Location() != base {
			t.Fatalf("confirm: status %d to %q, want 303 to the billing page\n%s", res.StatusCode, res.Location(), res.Body)
		}
	}
	updates, keys := rec.Sent("POST /v1/subscriptions/sub_test"), rec.Keys("POST /v1/subscriptions/sub_test")
	if len(updates) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Fatalf("%d updates with keys %q, want two requests with one key", len(updates), keys)
	}
	for k, v := range map[string]string{"items[0][price]": "price_bus", "proration_behavior": "always_invoice", "proration_date": proration} {
		if got := updates[0].Get(k); got != v {
			t.Errorf("update %s=%q, want %q", k, got, v)
		}
	}
	page = owner.Get(base)
	if got := page.Text("billing-plan"); !strings.HasPrefix(got, "Pro") {
		t.Errorf("plan %q before the webhook, want still Pro", got)
	}
	if !strings.Contains(page.Body, "updates as soon as Stripe confirms") {
		t.Errorf("the flash does not say the plan follows Stripe")
	}
	if n := a.auditCount(t, wsID, app.ActionPlanChangeRequested); n != 2 {
		t.Errorf("%d plan_change_requested entries, want one per request (2)", n)
	}
	a.mustApply(t, planEvent("evt_upgraded", time.Now(), wsID, "price_bus", false, end), app.EventApplied)
	if ws := a.billingState(t, slug); ws.Plan != app.PlanBusiness {
		t.Errorf("plan %q after the webhook, want business", ws.Plan)
	}

	t.Run("MonthlyToAnnual", func(t *testing.T) {
		res := owner.Get(base + "/plan/preview?price=price_pro_annual")
		// The subscription (the fake) is still on Pro monthly.
		if got := res.Text("change-preview-summary"); !strings.HasPrefix(got, "You pay $113.60 today for the new period") || !strings.HasSuffix(got, "you pay $120.00 a year.") {
			t.Errorf("summary %q", got)
		}
	})
	t.Run("ExpiredPreview", func(t *testing.T) {
		a.Clock.Add(billing.PreviewWindow + time.Minute)
		defer a.Clock.Add(-billing.PreviewWindow - time.Minute)
		n := len(rec.Sent("POST /v1/subscriptions/sub_test"))
		res := owner.Submit(preview, "change-preview-form", nil)
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Location(), "/billing/plan/preview?price=price_bus") {
			t.Errorf("stale confirm: status %d to %q, want back to a fresh preview", res.StatusCode, res.Location())
		}
		if got := len(rec.Sent("POST /v1/subscriptions/sub_test")); got != n {
			t.Errorf("a stale preview reached Stripe")
		}
	})
}

// TestBillingChange_Downgrade: Business → Pro is scheduled for the period
// end on a subscription schedule, recorded once for a double submit and
// shown on the billing page; Keep withdraws it.
func TestBillingChange_Downgrade(t *testing.T) {
	t.Parallel()
	a, owner, slug, wsID, fake, rec, end := changeApp(t, "price_bus")
	base := "/w/" + slug + "/billing"

	preview := owner.Get(base + "/plan/preview?price=price_pro")
	want := "Nothing changes until " + day(end) + "; then you pay $12.00 a month."
	if got := preview.Text("change-preview-summary"); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if got := preview.Text("change-preview-note"); got != "Business's limits and features stay until then." {
		t.Errorf("note %q", got)
	}
	for range 2 {
		if res := owner.Submit(preview, "change-preview-form", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: status %d\n%s", res.StatusCode, res.Body)
		}
	}
	if n := len(rec.Sent("POST /v1/subscriptions/sub_test")); n != 0 {
		t.Errorf("a downgrade updated the subscription %d times", n)
	}
	if k := rec.Keys("POST /v1/subscription_schedules"); len(k) != 2 || k[0] != k[1] {
		t.Errorf("schedule creation keys %q, want one key for both submits", k)
	}
	ws := a.billingState(t, slug)
	if ws.Plan != app.PlanBusiness || ws.ScheduledPriceID != "price_pro" || !ws.ScheduledChangeAt.Equal(end) {
		t.Fatalf("plan %q scheduled %q at %s; want business, moving to price_pro at %s", ws.Plan, ws.ScheduledPriceID, ws.ScheduledChangeAt, end)
	}
	if n := a.auditCount(t, wsID, app.ActionPlanChangeScheduled); n != 1 {
		t.Errorf("%d plan_change_scheduled entries for a double submit, want 1", n)
	}
	page := owner.Get(base)
	if got, want := page.Text("billing-scheduled"), "Moves to Pro, billed monthly, on "+day(end); !strings.HasPrefix(got, want) {
		t.Errorf("scheduled %q, want %q", got, want)
	}

	// Keep Business: the schedule is released and the record cleared.
	fake.SetSubscription("price_bus", "sub_sched_waiting")
	confirm := owner.Submit(page, "billing-keep-form", nil)
	if confirm.StatusCode != http.StatusOK || !confirm.Has("confirm-page") {
		t.Fatalf("keep without confirmation: status %d, want the confirm page\n%s", confirm.StatusCode, confirm.Body)
	}
	if res := owner.Submit(confirm, "confirm-form", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("keep: status %d\n%s", res.StatusCode, res.Body)
	}
	if n := len(rec.Sent("POST /v1/subscription_schedules/sub_sched_waiting/release")); n != 1 {
		t.Errorf("%d releases, want 1", n)
	}
	if ws := a.billingState(t, slug); ws.ScheduledPriceID != "" {
		t.Errorf("scheduled %q after Keep", ws.ScheduledPriceID)
	}
	if n := a.auditCount(t, wsID, app.ActionPlanChangeWithdrawn); n != 1 {
		t.Errorf("%d withdrawn entries, want 1", n)
	}
}

// TestBillingChange_CancelResume: Cancel asks first, naming what the
// workspace moves to; the confirmed double submit is one request; the
// webhook's cancel_at_period_end turns Cancel into Resume.
func TestBillingChange_CancelResume(t *testing.T) {
	t.Parallel()
	a, owner, slug, wsID, _, rec, end := changeApp(t, "price_pro")
	base := "/w/" + slug + "/billing"

	page := owner.Get(base)
	confirm := owner.Submit(page, "billing-cancel-form", nil)
	if confirm.StatusCode != http.StatusOK || !confirm.Has("confirm-page") {
		t.Fatalf("cancel without confirmation: status %d, want the confirm page", confirm.StatusCode)
	}
	want := "Pro stays until " + day(end) + "; then the workspace moves to Free: 3 seats, 30 days of audit log, no single sign-on or audit log export."
	if got := confirm.Text("confirm-message"); !strings.HasPrefix(got, want) {
		t.Errorf("message %q, want it to start %q", got, want)
	}
	if n := len(rec.Sent("POST /v1/subscriptions/sub_test")); n != 0 {
		t.Fatalf("the unconfirmed POST reached Stripe")
	}
	if bare := owner.Post(base+"/cancel", nil); !bare.Has("confirm-page") || bare.Doc.Find(`input[name="requested_at"]`).AttrOr("value", "") == "" {
		t.Errorf("a POST without fields: confirm page %v without a requested_at to post back", bare.Has("confirm-page"))
	}
	if got := owner.Get(base + "/cancel"); got.StatusCode != http.StatusOK || !strings.HasPrefix(got.Text("confirm-message"), want) {
		t.Errorf("GET cancel: status %d message %q, want the same confirmation", got.StatusCode, got.Text("confirm-message"))
	}
	for range 2 {
		if res := owner.Submit(confirm, "confirm-form", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("cancel: status %d\n%s", res.StatusCode, res.Body)
		}
	}
	sent, keys := rec.Sent("POST /v1/subscriptions/sub_test"), rec.Keys("POST /v1/subscriptions/sub_test")
	if len(sent) != 2 || sent[0].Get("cancel_at_period_end") != "true" || keys[0] != keys[1] {
		t.Fatalf("cancel requests %v keys %q, want two with one key", sent, keys)
	}
	if ws := a.billingState(t, slug); ws.CancelAtPeriodEnd {
		t.Errorf("cancel_at_period_end set before Stripe's webhook")
	}
	if n := a.auditCount(t, wsID, app.ActionCancelRequested); n != 2 {
		t.Errorf("%d cancel_requested entries, want 2", n)
	}
	a.mustApply(t, planEvent("evt_cancel", time.Now(), wsID, "price_pro", true, end), app.EventApplied)

	page = owner.Get(base)
	if !page.Has("billing-resume") || page.Has("billing-cancel-form") || !strings.HasPrefix(page.Text("billing-renewal"), "Cancels on") {
		t.Fatalf("after the webhook: resume %v cancel %v renewal %q", page.Has("billing-resume"), page.Has("billing-cancel-form"), page.Text("billing-renewal"))
	}
	a.Clock.Add(time.Second)
	if res := owner.Submit(page, "billing-resume-form", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume: status %d", res.StatusCode)
	}
	sent, keys = rec.Sent("POST /v1/subscriptions/sub_test"), rec.Keys("POST /v1/subscriptions/sub_test")
	if len(sent) != 3 || sent[2].Get("cancel_at_period_end") != "false" || keys[2] == keys[0] {
		t.Errorf("resume request %v key %q", sent[len(sent)-1], keys[len(keys)-1])
	}
	if n := a.auditCount(t, wsID, app.ActionResumed); n != 1 {
		t.Errorf("%d resumed entries, want 1", n)
	}

	t.Run("OldForm", func(t *testing.T) {
		res := owner.Post(base+"/resume", url.Values{"requested_at": {fmt.Sprint(time.Now().Add(-time.Hour).Unix())}})
		if res.StatusCode != http.StatusSeeOther || len(rec.Sent("POST /v1/subscriptions/sub_test")) != 3 {
			t.Errorf("an hour-old form: status %d, %d requests; want a redirect and no request", res.StatusCode, len(rec.Sent("POST /v1/subscriptions/sub_test")))
		}
	})
}

// TestBillingChange_Roles: admins see the plans read-only and cannot
// preview or change; members get 403; another workspace's owner 404.
func TestBillingChange_Roles(t *testing.T) {
	t.Parallel()
	a, owner, slug, _, _, rec, _ := changeApp(t, "price_pro")
	admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
	member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
	other, _, _ := billingOwner(t, a, "other@example.com")
	base := "/w/" + slug + "/billing"

	list := admin.Get(base + "/plan")
	if list.StatusCode != http.StatusOK || !list.Has("billing-readonly") || list.Has("change-plan-choose") {
		t.Errorf("admin plan list: status %d, read-only %v, choose %v", list.StatusCode, list.Has("billing-readonly"), list.Has("change-plan-choose"))
	}
	if page := admin.Get(base); page.Has("billing-change-plan") || page.Has("billing-cancel-form") {
		t.Errorf("admin billing page offers the changes")
	}
	form := url.Values{"price": {"price_bus"}, "proration_date": {fmt.Sprint(time.Now().Unix())}, "confirm": {"yes"},
		"requested_at": {fmt.Sprint(time.Now().Unix())}}
	for _, tc := range []struct {
		name   string
		b      *browser
		status int
	}{{"Admin", admin, http.StatusForbidden}, {"Member", member, http.StatusForbidden}, {"OtherOwner", other, http.StatusNotFound}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []string{"/plan/preview?price=price_bus", "/cancel"} {
				if res := tc.b.Get(base + p); res.StatusCode != tc.status {
					t.Errorf("GET %s: status %d, want %d", p, res.StatusCode, tc.status)
				}
			}
			for _, p := range []string{"/plan", "/plan/keep", "/cancel", "/resume"} {
				if res := tc.b.Post(base+p, form); res.StatusCode != tc.status {
					t.Errorf("POST %s: status %d, want %d", p, res.StatusCode, tc.status)
				}
			}
			if tc.name != "Admin" {
				if res := tc.b.Get(base + "/plan"); res.StatusCode != tc.status {
					t.Errorf("plan list: status %d, want %d", res.StatusCode, tc.status)
				}
			}
		})
	}
	// The members page's seat cost (one seat more, no price) reads the
	// upcoming invoice too; a plan preview names the new price.
	previews := 0
	for _, q := range rec.Sent("POST /v1/invoices/create_preview") {
		if q.Get("subscription_details[items][0][price]") != "" {
			previews++
		}
	}
	if n := len(rec.Sent("POST /v1/subscriptions/sub_test")) + previews; n != 0 {
		t.Errorf("%d Stripe requests made for people who may not change the plan", n)
	}
}

// TestBillingChange_Webhooks: on both databases, the signed events of a
// plan change delivered duplicated, out of order and raced, and a
// schedule's end.
func TestBillingChange_Webhooks(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			fake := &billingtest.PlanChangeStripe{PriceID: "price_bus", Quantity: 1, Currency: "usd"}
			a := newTestApp(t, dialect, withStripe(fake.Start(t, billingtest.StripeMock(t))), withPlans())
			_, slug, wsID := billingOwner(t, a, "owner@example.com")
			t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
			end := t0.Add(30 * 24 * time.Hour)
			a.mustApply(t, planEvent("evt_pro", t0, wsID, "price_pro", false, end), app.EventApplied)

			// The upgrade, delivered twice at once, then once more.
			up := planEvent("evt_up", t0.Add(10*time.Second), wsID, "price_bus", false, end)
			p := up.JSON()
			sig := billingtest.Sign(p, webhookSecret, time.Now())
			replies := make([]webhookReply, 4)
			var wg sync.WaitGroup
			for i := range replies {
				wg.Go(func() { replies[i] = a.postWebhook(t, p, sig, "") })
			}
			wg.Wait()
			results := map[string]int{}
			for _, r := range replies {
				results[r.Result]++
			}
			if results[app.EventApplied] != 1 || results[app.EventDuplicate] != 3 {
				t.Fatalf("raced deliveries: %v, want 1 applied and 3 duplicates", results)
			}
			a.mustApply(t, up, app.EventDuplicate)
			if ws := a.billingState(t, slug); ws.Plan != app.PlanBusiness || ws.PriceID != "price_bus" {
				t.Fatalf("plan %q price %q, want business", ws.Plan, ws.PriceID)
			}
			if n := a.auditCount(t, wsID, app.ActionSubscriptionUpdated); n != 2 {
				t.Errorf("%d subscription_updated entries, want 2 (start and upgrade)", n)
			}
			// An older event (a cancel made before the upgrade) arrives last.
			a.mustApply(t, planEvent("evt_old", t0.Add(5*time.Second), wsID, "price_pro", true, end), app.EventStale)
			if ws := a.billingState(t, slug); ws.Plan != app.PlanBusiness || ws.CancelAtPeriodEnd {
				t.Errorf("a stale event rolled back: plan %q cancel %v", ws.Plan, ws.CancelAtPeriodEnd)
			}
			// Cancel then resume, delivered resume first.
			a.mustApply(t, planEvent("evt_resume", t0.Add(30*time.Second), wsID, "price_bus", false, end), app.EventApplied)
			a.mustApply(t, planEvent("evt_cancel", t0.Add(20*time.Second), wsID, "price_bus", true, end), app.EventStale)
			if ws := a.billingState(t, slug); ws.CancelAtPeriodEnd {
				t.Errorf("the older cancel undid the resume")
			}
			// Two changes in one second: the tie is settled by what Stripe
			// says the subscription is now (Pro, monthly).
			fake.SetSubscription("price_pro", "")
			a.mustApply(t, planEvent("evt_tie", t0.Add(30*time.Second), wsID, "price_pro", false, end), app.EventApplied)
			if ws := a.billingState(t, slug); ws.PriceID != "price_pro" || ws.Plan != app.PlanPro {
				t.Errorf("after the tie: plan %q price %q, want Stripe's (pro)", ws.Plan, ws.PriceID)
			}
			// A schedule's end clears the change it was making, only its own.
			if _, err := a.DB.SQL().Exec(a.DB.Rebind("UPDATE workspaces SET scheduled_price_id = 'price_pro', scheduled_change_at = ?, scheduled_schedule_id = 'sub_sched_1' WHERE id = ?"), end, wsID); err != nil {
				t.Fatal(err)
			}
			sched := func(id, sched string) billingtest.Event {
				return billingtest.Event{ID: id, Type: billing.EventScheduleReleased, Created: time.Now(), Object: map[string]any{
					"id": sched, "object": "subscription_schedule", "customer": "cus_acme", "status": "released",
					"metadata": map[string]any{"workspace_id": fmt.Sprint(wsID)}}}
			}
			a.mustApply(t, sched("evt_sched_other", "sub_sched_0"), app.EventApplied)
			if ws := a.billingState(t, slug); ws.ScheduledPriceID != "price_pro" {
				t.Errorf("another schedule's end cleared the scheduled change")
			}
			a.mustApply(t, sched("evt_sched_1", "sub_sched_1"), app.EventApplied)
			a.mustApply(t, sched("evt_sched_1", "sub_sched_1"), app.EventDuplicate)
			if ws := a.billingState(t, slug); ws.ScheduledPriceID != "" || ws.Plan != app.PlanPro {
				t.Errorf("after its schedule's end: scheduled %q plan %q", ws.ScheduledPriceID, ws.Plan)
			}
			if n := a.auditCount(t, wsID, app.ActionScheduleEnded); n != 2 {
				t.Errorf("%d schedule_ended entries, want 2", n)
			}
		})
	}
}
