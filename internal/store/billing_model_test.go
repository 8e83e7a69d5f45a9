package store_test

import (
	"cmp"
	"context"
	"fmt"
	"go/build"
	"os"
	osexec "os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// The model-based billing test: rapid generates sequences of membership
// changes and Stripe events (new, redelivered, raced, in any order and
// often in the same second), runs them through the real webhook pipeline
// and the real services, and checks after every step that the workspace
// equals a small reference model.

const modelSecret = "whsec_model"

// modelCatalog is the catalog the model test bills with.
func modelCatalog() *app.Catalog {
	return app.NewCatalog(app.CatalogConfig{Currency: "usd", FreeSeats: 3, ProSeats: 8, BusinessSeats: 0,
		ProMonthly: "price_pm", ProAnnual: "price_py", BusinessMonthly: "price_bm", BusinessAnnual: "price_by",
		FreeAPIRate: 60, ProAPIRate: 600, BusAPIRate: 3000,
		ProMonthlyAmount: 1200, ProAnnualAmount: 12000, BusMonthlyAmount: 2400, BusAnnualAmount: 24000})
}

// modelEvent is a subscription event the model has sent.
type modelEvent struct {
	invoice  string // an invoice event's type; "" for a subscription event
	id       string
	created  time.Time
	status   string
	price    string
	quantity int64
	trialEnd time.Time
	payload  []byte
}

// after reports whether e comes after o in Stripe's order as Atrium
// applies it (app.OrderBillingUpdate without Stripe to settle ties): the
// later second, then the higher rank, then the larger event id.
func (e *modelEvent) after(o *modelEvent) bool {
	if c := cmp.Compare(e.created.Unix(), o.created.Unix()); c != 0 {
		return c > 0
	}
	if c := cmp.Compare(app.StatusRank(e.status), app.StatusRank(o.status)); c != 0 {
		return c > 0
	}
	return e.id > o.id
}

// billingModel is what the workspace should be.
type billingModel struct {
	applied  *modelEvent         // the subscription state in force
	quantity int                 // the seats Stripe bills as last stored
	dunning  modelDunning        // the payment episode
	members  map[int64]bool      // user ids, the owner included
	sent     []*modelEvent       // every event sent, for redelivery
	seen     map[string]struct{} // ids sent
}

// modelDunning is a payment episode: open from a failure until a payment
// (or the subscription active again, or ended), restricted once the grace
// period has run out. Payment events are ordered among themselves: the
// later second, then a payment before a failure, then the larger id.
type modelDunning struct {
	open, restricted bool
	failedAt         int64 // second the episode opened
	markSec          int64
	markRank         int // 0: none yet; 1 failed; 2 paid
	markID           string
}

func (d *modelDunning) newer(sec int64, rank int, id string) bool {
	switch {
	case d.markRank == 0:
		return true
	case sec != d.markSec:
		return sec > d.markSec
	case rank != d.markRank:
		return rank > d.markRank
	}
	return id >= d.markID
}

// payment folds an invoice event into the episode.
func (d *modelDunning) payment(failed bool, sec int64, id string) {
	rank := 2
	if failed {
		rank = 1
	}
	if !d.newer(sec, rank, id) {
		return
	}
	d.markSec, d.markRank, d.markID = sec, rank, id
	switch {
	case !failed:
		d.open, d.restricted, d.failedAt = false, false, 0
	case !d.open:
		d.open, d.failedAt = true, sec
	}
}

// subscriptionEnds folds in a subscription update that applied with a
// status that closes an episode (active, or ended): it counts as a
// payment, when there is something to close.
func (d *modelDunning) subscriptionEnds(sec int64, id string) {
	if (d.open || d.restricted) && d.newer(sec, 2, id) {
		d.payment(false, sec, id)
	}
}

// modelRun is one generated case: a workspace of its own in a shared
// database, with people who may join it.
type modelRun struct {
	db       *store.DB
	plans    *app.Catalog
	recv     *billing.Receiver
	billing  *store.BillingService
	members  *store.MemberService
	invites  *store.InviteService
	owner    context.Context
	pool     []poolUser
	stripe   *billing.Client // on stripe-mock; nil when it is not installed
	ws       *app.Workspace
	model    billingModel
	t0       time.Time
	sequence int
}

type poolUser struct {
	id  int64
	ctx context.Context
}

func TestBillingModel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		owner := billingSignIn(t, db, c, "model-owner@example.com")
		var pool []poolUser
		for i := range 6 {
			ctx := billingSignIn(t, db, c, fmt.Sprintf("model-%d@example.com", i))
			pool = append(pool, poolUser{id: app.PrincipalFromContext(ctx).User.ID, ctx: ctx})
		}
		plans := modelCatalog()
		var stripe *billing.Client
		if base := modelStripeMock(t); base != "" {
			stripe = billing.New(billing.Config{SecretKey: "sk_test_model", APIBase: base, Plans: plans})
		}
		svc := store.NewBillingService(db) // no grace period: a failed payment may be restricted at once
		recv := &billing.Receiver{Store: svc, Plans: plans, Secret: modelSecret}
		cases := 0
		rapid.Check(t, func(rt *rapid.T) {
			cases++
			m := &modelRun{db: db, plans: plans, recv: recv, stripe: stripe, billing: svc, members: store.NewMemberService(db),
				invites: store.NewInviteService(db), owner: owner, pool: pool, t0: c.Now().Add(-time.Hour)}
			ws, err := store.NewWorkspaceService(db).CreateWorkspace(owner, "Model", fmt.Sprintf("model-%d", cases))
			if err != nil {
				rt.Fatalf("CreateWorkspace: %v", err)
			}
			m.ws = ws
			m.model = billingModel{members: map[int64]bool{app.PrincipalFromContext(owner).User.ID: true}, seen: map[string]struct{}{}}
			rt.Repeat(map[string]func(*rapid.T){
				"":          m.check,
				"event":     m.sendEvent,
				"redeliver": m.redeliver,
				"race":      m.race,
				"join":      m.join,
				"remove":    m.remove,
				"payment":   m.sendPayment,
				"restrict":  m.restrict,
				"sync":      m.sync,
			})
		})
	})
}

// modelStripeMock returns a running stripe-mock for the seat sync steps,
// or "" (with a line in the output) when it is not installed outside CI.
func modelStripeMock(t *testing.T) string {
	if os.Getenv("CI") != "true" && os.Getenv("STRIPE_MOCK_URL") == "" {
		if _, err := osexec.LookPath("stripe-mock"); err != nil {
			if _, err := os.Stat(filepath.Join(build.Default.GOPATH, "bin", "stripe-mock")); err != nil {
				t.Log("stripe-mock not found: the model runs without seat sync steps; install it with 'go install github.com/stripe/stripe-mock@" + billingtest.StripeMockVersion + "'")
				return ""
			}
		}
	}
	return billingtest.StripeMock(t)
}

// newEvent draws a subscription event: one of six seconds, any status,
// any price (one the catalog does not list among them), any quantity.
func (m *modelRun) newEvent(rt *rapid.T) *modelEvent {
	m.sequence++
	e := &modelEvent{
		// Ids sort in a drawn order, not in the order they are sent.
		id:       fmt.Sprintf("evt_%03d_%d_%04d", rapid.IntRange(0, 999).Draw(rt, "id"), m.ws.ID, m.sequence),
		created:  m.t0.Add(time.Duration(rapid.IntRange(0, 5).Draw(rt, "second")) * time.Second),
		status:   rapid.SampledFrom([]string{app.SubTrialing, app.SubActive, app.SubPastDue, app.SubCanceled, app.SubUnpaid, app.SubIncompleteExpired}).Draw(rt, "status"),
		price:    rapid.SampledFrom([]string{"price_pm", "price_py", "price_bm", "price_by", "price_legacy"}).Draw(rt, "price"),
		quantity: int64(rapid.IntRange(1, 40).Draw(rt, "quantity")),
	}
	typ := billing.EventSubscriptionUpdated
	if e.status == app.SubCanceled || e.status == app.SubIncompleteExpired {
		typ = billing.EventSubscriptionDeleted
	}
	obj := map[string]any{"id": "sub_model", "object": "subscription", "customer": fmt.Sprintf("cus_model_%d", m.ws.ID),
		"status": e.status, "cancel_at_period_end": false, "current_period_end": e.created.Add(30 * 24 * time.Hour).Unix(),
		"metadata": map[string]any{"workspace_id": fmt.Sprint(m.ws.ID)},
		"items": map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_model",
			"price": map[string]any{"id": e.price, "object": "price"}, "quantity": e.quantity}}}}
	if e.status == app.SubTrialing {
		e.trialEnd = e.created.Add(14 * 24 * time.Hour)
		obj["trial_end"] = e.trialEnd.Unix()
	}
	e.payload = billingtest.Event{ID: e.id, Type: typ, Created: e.created, Object: obj}.JSON()
	return e
}

// newPayment draws an invoice event, failed or paid, of the workspace's
// subscription, in one of the same six seconds.
func (m *modelRun) newPayment(rt *rapid.T) *modelEvent {
	m.sequence++
	e := &modelEvent{
		invoice: rapid.SampledFrom([]string{billing.EventInvoiceFailed, billing.EventInvoicePaid}).Draw(rt, "invoice"),
		id:      fmt.Sprintf("evt_%03d_%d_%04d", rapid.IntRange(0, 999).Draw(rt, "id"), m.ws.ID, m.sequence),
		created: m.t0.Add(time.Duration(rapid.IntRange(0, 5).Draw(rt, "second")) * time.Second),
	}
	obj := map[string]any{"id": "in_" + e.id, "object": "invoice", "customer": fmt.Sprintf("cus_model_%d", m.ws.ID),
		"subscription": "sub_model", "attempt_count": 1, "hosted_invoice_url": "https://invoice.stripe.com/i/" + e.id}
	e.payload = billingtest.Event{ID: e.id, Type: e.invoice, Created: e.created, Object: obj}.JSON()
	return e
}

func (m *modelRun) sendPayment(rt *rapid.T) {
	e := m.newPayment(rt)
	m.deliver(rt, e)
	m.record(e)
}

// restrict lets the grace period run out (the store's grace is zero here)
// and runs the restriction job.
func (m *modelRun) restrict(rt *rapid.T) {
	if _, err := m.billing.RestrictOverdue(context.Background()); err != nil {
		rt.Fatalf("RestrictOverdue: %v", err)
	}
	if m.model.dunning.open {
		m.model.dunning.restricted = true
	}
}

// sync runs the seat sync against stripe-mock: a live per-seat
// subscription is set to the member count.
func (m *modelRun) sync(rt *rapid.T) {
	if m.stripe == nil {
		rt.Skip("stripe-mock is not installed")
	}
	if _, err := billing.ReconcileSeats(context.Background(), m.stripe, m.billing, m.ws.ID, fmt.Sprintf("model:%d", m.sequence)); err != nil {
		rt.Fatalf("ReconcileSeats: %v", err)
	}
	if e := m.model.applied; e != nil && app.ProStatus(e.status) {
		m.model.quantity = len(m.model.members)
	}
}

// deliver sends an event through the webhook pipeline, signed the way
// Stripe signs it, and returns the result.
func (m *modelRun) deliver(rt *rapid.T, e *modelEvent) string {
	rc, err := m.recv.Receive(context.Background(), e.payload, billingtest.Sign(e.payload, modelSecret, time.Now()))
	if err != nil {
		rt.Fatalf("Receive(%s): %v", e.id, err)
	}
	return rc.Result
}

// record folds a delivered event into the model.
func (m *modelRun) record(e *modelEvent) {
	if _, dup := m.model.seen[e.id]; dup {
		return
	}
	m.model.seen[e.id] = struct{}{}
	m.model.sent = append(m.model.sent, e)
	m.model.fold(e)
}

// fold applies an event to the model state.
func (bm *billingModel) fold(e *modelEvent) {
	if e.invoice != "" {
		// Payments count once the workspace knows its subscription.
		if bm.applied != nil {
			bm.dunning.payment(e.invoice == billing.EventInvoiceFailed, e.created.Unix(), e.id)
		}
		return
	}
	if bm.applied == nil || e.after(bm.applied) {
		bm.applied, bm.quantity = e, int(e.quantity)
		if app.EndsDunning(e.status) {
			bm.dunning.subscriptionEnds(e.created.Unix(), e.id)
		}
	}
}

func (m *modelRun) sendEvent(rt *rapid.T) {
	e := m.newEvent(rt)
	wantApplied := m.model.applied == nil || e.after(m.model.applied)
	got := m.deliver(rt, e)
	m.record(e)
	if want := map[bool]string{true: app.EventApplied, false: app.EventStale}[wantApplied]; got != want {
		rt.Fatalf("event %s (%s at +%ds): result %q, want %q", e.id, e.status, e.created.Unix()-m.t0.Unix(), got, want)
	}
}

func (m *modelRun) redeliver(rt *rapid.T) {
	if len(m.model.sent) == 0 {
		rt.Skip("nothing sent yet")
	}
	e := rapid.SampledFrom(m.model.sent).Draw(rt, "again")
	if got := m.deliver(rt, e); got != app.EventDuplicate {
		rt.Fatalf("redelivered %s: result %q, want duplicate", e.id, got)
	}
}

// race delivers two new events at once.
func (m *modelRun) race(rt *rapid.T) {
	draw := func() *modelEvent {
		if rapid.Bool().Draw(rt, "payment") {
			return m.newPayment(rt)
		}
		return m.newEvent(rt)
	}
	a, b := draw(), draw()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	results := make([]string, 2)
	for i, e := range []*modelEvent{a, b} {
		wg.Go(func() {
			var rc *billing.Receipt
			if rc, errs[i] = m.recv.Receive(context.Background(), e.payload, billingtest.Sign(e.payload, modelSecret, time.Now())); rc != nil {
				results[i] = rc.Result
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			rt.Fatalf("raced delivery %d: %v", i, err)
		}
	}
	rt.Logf("raced: %s %s%s %s, %s %s%s %s", a.id, a.invoice, a.status, results[0], b.id, b.invoice, b.status, results[1])
	// Either order may have happened; the workspace must equal the model
	// after one of them.
	ab, ba := m.model, m.model
	ab.fold(a)
	ab.fold(b)
	ba.fold(b)
	ba.fold(a)
	if m.mismatch(ab) == "" {
		m.model = ab
	} else {
		m.model = ba
	}
	for _, e := range []*modelEvent{a, b} {
		m.model.seen[e.id] = struct{}{}
		m.model.sent = append(m.model.sent, e)
	}
}

// seats is the seat limit the model's state allows.
func (m *modelRun) seats() int {
	ws := &app.Workspace{Plan: app.PlanFree}
	if e := m.model.applied; e != nil {
		ws.Plan, ws.SubscriptionStatus = app.PlanFor(e.status, m.plans.PlanForPrice(e.price)), e.status
	}
	return m.plans.Limits().Seats(ws)
}

func (m *modelRun) join(rt *rapid.T) {
	var outside []poolUser
	for _, u := range m.pool {
		if !m.model.members[u.id] {
			outside = append(outside, u)
		}
	}
	if len(outside) == 0 {
		rt.Skip("everyone is a member")
	}
	u := rapid.SampledFrom(outside).Draw(rt, "joiner")
	limit := m.seats()
	fits := (limit == 0 || len(m.model.members)+1 <= limit) && !m.model.dunning.restricted
	token, hash := app.NewToken()
	email := app.PrincipalFromContext(u.ctx).User.Email
	compose := func(inv *app.Invite, _ string) app.InviteEmail {
		return app.InviteEmail{Email: app.Email{To: inv.Email, Subject: "Join", Text: "/invites/" + token, Ref: "invite"}}
	}
	_, err := m.invites.CreateInvite(m.owner, app.ScopeOf(m.owner, m.ws.ID), app.NewInvite{Email: email, Role: app.RoleMember,
		TokenHash: hash, ExpiresAt: time.Now().Add(app.InviteTTL)}, m.plans.Limits(), compose)
	if !fits {
		if app.ErrorCode(err) != app.ECONFLICT {
			rt.Fatalf("invite past %d seats with %d members (restricted %v): %v, want a conflict", limit, len(m.model.members),
				m.model.dunning.restricted, err)
		}
		return
	}
	if err != nil {
		rt.Fatalf("invite with %d of %d seats used: %v", len(m.model.members), limit, err)
	}
	if _, err := m.invites.AcceptInvite(u.ctx, app.InviteKey{TokenHash: hash}, m.plans.Limits()); err != nil {
		rt.Fatalf("accept with %d of %d seats used: %v", len(m.model.members), limit, err)
	}
	m.model.members[u.id] = true
}

func (m *modelRun) remove(rt *rapid.T) {
	var in []poolUser
	for _, u := range m.pool {
		if m.model.members[u.id] {
			in = append(in, u)
		}
	}
	if len(in) == 0 {
		rt.Skip("only the owner is a member")
	}
	u := rapid.SampledFrom(in).Draw(rt, "leaver")
	if err := m.members.RemoveMember(m.owner, app.ScopeOf(m.owner, m.ws.ID), u.id); err != nil {
		rt.Fatalf("RemoveMember: %v", err)
	}
	delete(m.model.members, u.id)
}

// mismatch compares the stored workspace with bm: "" when they agree.
func (m *modelRun) mismatch(bm billingModel) string {
	ws, err := m.billing.FindWorkspaceBySlug(context.Background(), m.ws.Slug)
	if err != nil {
		return fmt.Sprintf("FindWorkspaceBySlug: %v", err)
	}
	want := app.Workspace{Plan: app.PlanFree}
	if e := bm.applied; e != nil {
		want.Plan = app.PlanFor(e.status, m.plans.PlanForPrice(e.price))
		want.SubscriptionStatus, want.PriceID, want.TrialEnd = e.status, e.price, e.trialEnd
	}
	want.SeatQuantity = bm.quantity
	if bm.dunning.open {
		want.PaymentFailedAt = time.Unix(bm.dunning.failedAt, 0).UTC()
	}
	if ws.Plan != want.Plan || ws.SubscriptionStatus != want.SubscriptionStatus || ws.PriceID != want.PriceID ||
		ws.SeatQuantity != want.SeatQuantity || !ws.TrialEnd.Equal(want.TrialEnd) ||
		!ws.PaymentFailedAt.Equal(want.PaymentFailedAt) || ws.Restricted() != bm.dunning.restricted {
		return fmt.Sprintf("workspace: plan %s, status %q, price %q, quantity %d, trial end %s, payment failed %s, restricted %v\n"+
			"model:     plan %s, status %q, price %q, quantity %d, trial end %s, payment failed %s, restricted %v",
			ws.Plan, ws.SubscriptionStatus, ws.PriceID, ws.SeatQuantity, ws.TrialEnd, ws.PaymentFailedAt, ws.Restricted(),
			want.Plan, want.SubscriptionStatus, want.PriceID, want.SeatQuantity, want.TrialEnd, want.PaymentFailedAt, bm.dunning.restricted)
	}
	if got, want := m.plans.Effective(ws).Key, m.plans.Effective(&want).Key; got != want {
		return fmt.Sprintf("plan in force %s, model %s", got, want)
	}
	// The last payment event applied orders the next ones: two arrival
	// orders of a race can leave the same visible state and different
	// marks, so the mark is compared too.
	var mark string
	if err := m.db.SQL().QueryRowContext(context.Background(), m.db.Rebind(`SELECT dunning_event_id FROM workspaces WHERE id = ?`),
		m.ws.ID).Scan(&mark); err != nil {
		return fmt.Sprintf("read the dunning mark: %v", err)
	}
	if mark != bm.dunning.markID {
		return fmt.Sprintf("last payment event applied %q, model %q", mark, bm.dunning.markID)
	}
	return ""
}

// check compares the stored workspace with the model.
func (m *modelRun) check(rt *rapid.T) {
	if msg := m.mismatch(m.model); msg != "" {
		rt.Fatal(msg)
	}
	stats, err := store.NewWorkspaceService(m.db).FindWorkspaceStats(m.owner, app.ScopeOf(m.owner, m.ws.ID))
	if err != nil {
		rt.Fatalf("FindWorkspaceStats: %v", err)
	}
	if stats.Members != len(m.model.members) {
		rt.Fatalf("%d members, model %d", stats.Members, len(m.model.members))
	}
}
