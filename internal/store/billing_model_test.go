package store_test

import (
	"cmp"
	"context"
	"fmt"
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
	applied *modelEvent         // the subscription state in force
	members map[int64]bool      // user ids, the owner included
	sent    []*modelEvent       // every event sent, for redelivery
	seen    map[string]struct{} // ids sent
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
		svc := store.NewBillingService(db)
		recv := &billing.Receiver{Store: svc, Plans: plans, Secret: modelSecret}
		cases := 0
		rapid.Check(t, func(rt *rapid.T) {
			cases++
			m := &modelRun{db: db, plans: plans, recv: recv, billing: svc, members: store.NewMemberService(db),
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
			})
		})
	})
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
	if m.model.applied == nil || e.after(m.model.applied) {
		m.model.applied = e
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
	a, b := m.newEvent(rt), m.newEvent(rt)
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
	rt.Logf("raced: %s %s, %s %s", a.id, results[0], b.id, results[1])
	m.record(a)
	m.record(b)
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
	fits := limit == 0 || len(m.model.members)+1 <= limit
	token, hash := app.NewToken()
	email := app.PrincipalFromContext(u.ctx).User.Email
	compose := func(inv *app.Invite) app.InviteEmail {
		return app.InviteEmail{Email: app.Email{To: inv.Email, Subject: "Join", Text: "/invites/" + token, Ref: "invite"}}
	}
	_, err := m.invites.CreateInvite(m.owner, app.ScopeOf(m.owner, m.ws.ID), app.NewInvite{Email: email, Role: app.RoleMember,
		TokenHash: hash, ExpiresAt: time.Now().Add(app.InviteTTL)}, m.plans.Limits(), compose)
	if !fits {
		if app.ErrorCode(err) != app.ECONFLICT {
			rt.Fatalf("invite past %d seats with %d members: %v, want a conflict", limit, len(m.model.members), err)
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

// check compares the stored workspace with the model.
func (m *modelRun) check(rt *rapid.T) {
	ws, err := m.billing.FindWorkspaceBySlug(context.Background(), m.ws.Slug)
	if err != nil {
		rt.Fatalf("FindWorkspaceBySlug: %v", err)
	}
	want := app.Workspace{Plan: app.PlanFree}
	if e := m.model.applied; e != nil {
		want.Plan = app.PlanFor(e.status, m.plans.PlanForPrice(e.price))
		want.SubscriptionStatus, want.PriceID, want.SeatQuantity, want.TrialEnd = e.status, e.price, int(e.quantity), e.trialEnd
	}
	if ws.Plan != want.Plan || ws.SubscriptionStatus != want.SubscriptionStatus || ws.PriceID != want.PriceID ||
		ws.SeatQuantity != want.SeatQuantity || !ws.TrialEnd.Equal(want.TrialEnd) {
		rt.Fatalf("workspace: plan %s, status %q, price %q, quantity %d, trial end %s\n"+
			"model:     plan %s, status %q, price %q, quantity %d, trial end %s",
			ws.Plan, ws.SubscriptionStatus, ws.PriceID, ws.SeatQuantity, ws.TrialEnd,
			want.Plan, want.SubscriptionStatus, want.PriceID, want.SeatQuantity, want.TrialEnd)
	}
	if got, want := m.plans.Effective(ws).Key, m.plans.Effective(&want).Key; got != want {
		rt.Fatalf("plan in force %s, model %s", got, want)
	}
	stats, err := store.NewWorkspaceService(m.db).FindWorkspaceStats(m.owner, app.ScopeOf(m.owner, m.ws.ID))
	if err != nil {
		rt.Fatalf("FindWorkspaceStats: %v", err)
	}
	if stats.Members != len(m.model.members) {
		rt.Fatalf("%d members, model %d", stats.Members, len(m.model.members))
	}
}
