package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"atrium/internal/app"
)

type stripeEventRecord struct {
	ID          string
	Type        string
	APIVersion  string `gorm:"column:api_version"`
	CreatedAt   time.Time
	ReceivedAt  time.Time
	ProcessedAt *time.Time
	Status      string
	WorkspaceID *int64
	Error       string
	Payload     string
}

func (stripeEventRecord) TableName() string { return "stripe_events" }

// stripeEventColumns are the columns of a stored Stripe event, in the
// order scanStripeEvent reads them.
const stripeEventColumns = `id, type, api_version, created_at, received_at, processed_at, status, workspace_id, error, payload`

// scanStripeEvent reads a row of stripeEventColumns.
func scanStripeEvent(sc scanner) (*stripeEventRecord, error) {
	var r stripeEventRecord
	if err := scanRow(sc, &r.ID, &r.Type, &r.APIVersion, &r.CreatedAt, &r.ReceivedAt, &r.ProcessedAt, &r.Status,
		&r.WorkspaceID, &r.Error, &r.Payload); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *stripeEventRecord) toApp() *app.StripeEvent {
	ev := &app.StripeEvent{ID: r.ID, Type: r.Type, APIVersion: r.APIVersion, Created: r.CreatedAt.UTC(),
		Payload: []byte(r.Payload), Status: r.Status, ReceivedAt: r.ReceivedAt.UTC(), Error: r.Error}
	if r.WorkspaceID != nil {
		ev.WorkspaceID = *r.WorkspaceID
	}
	return ev
}

// BillingService implements app.BillingService.
type BillingService struct {
	db *DB
	// Notice builds the emails that tell a workspace's owners its trial
	// ends soon or a payment failed (billing_dunning.go); nil sends none.
	Notice func(n app.BillingNotice) app.Email
	// Grace is how long a failed payment may stay unpaid before
	// RestrictOverdue restricts the workspace (app.Catalog.GracePeriod).
	Grace time.Duration
}

// NewBillingService returns the billing service of db.
func NewBillingService(db *DB) *BillingService { return &BillingService{db: db} }

var _ app.BillingService = (*BillingService)(nil)

// billingStateRecord is the billing columns of a workspace, as the
// billing service reads and orders them.
type billingStateRecord struct {
	ID                   int64
	SubscriptionStatus   string
	StripeSubscriptionID string
	BillingEventAt       *time.Time
	BillingEventRank     int
	BillingEventID       string
}

func (billingStateRecord) TableName() string { return "workspaces" }

// billingStateColumns are the columns of a billing state, in the order
// scanBillingState reads them.
const billingStateColumns = `id, subscription_status, stripe_subscription_id, billing_event_at, billing_event_rank, billing_event_id`

// scanBillingState reads a row of billingStateColumns.
func scanBillingState(sc scanner) (*billingStateRecord, error) {
	var r billingStateRecord
	if err := scanRow(sc, &r.ID, &r.SubscriptionStatus, &r.StripeSubscriptionID, &r.BillingEventAt, &r.BillingEventRank,
		&r.BillingEventID); err != nil {
		return nil, err
	}
	return &r, nil
}

// The billing statements outside the hot list.
const (
	qBillingByID       = "billing_state_by_id"
	qBillingByCustomer = "billing_state_by_customer"
	qStripeEventStored = "stripe_event_stored"
)

// billingQueries are the catalog's billing statements outside the hot
// list. A webhook's workspace is locked (FOR UPDATE) on PostgreSQL; on
// SQLite the write transaction already holds the database.
var billingQueries = map[string]hotQuery{
	qBillingByID: {SQL: `SELECT ` + billingStateColumns + ` FROM workspaces WHERE id = ?`,
		PostgresSQL: `SELECT ` + billingStateColumns + ` FROM workspaces WHERE id = ? FOR UPDATE`},
	// Most workspaces share the customer id '' (none yet), so SQLite's
	// statistics would have it read the whole table rather than the
	// index; the index is named.
	qBillingByCustomer: {SQL: `SELECT ` + billingStateColumns + ` FROM workspaces INDEXED BY workspaces_stripe_customer_idx
		WHERE stripe_customer_id = ? LIMIT 1`,
		PostgresSQL: `SELECT ` + billingStateColumns + ` FROM workspaces WHERE stripe_customer_id = ? LIMIT 1 FOR UPDATE`},
	qStripeEventStored: {SQL: `SELECT COUNT(*) FROM stripe_events WHERE id = ?`},
}

func (r *billingStateRecord) mark() *app.BillingMark {
	if r.BillingEventAt == nil {
		return nil
	}
	return &app.BillingMark{At: r.BillingEventAt.UTC(), Rank: r.BillingEventRank, EventID: r.BillingEventID}
}

// errTied rolls back the transaction of an update that ties with the
// applied state: nothing of it is recorded until the tie is settled.
var errTied = errors.New("billing update ties with the applied state")

// ApplyStripeEvent records the event and applies its update in one
// transaction. The event id is the primary key: of two deliveries of one
// event, racing or not, only the first inserts a row and acts. An update
// that ties (app.EventTied) records nothing.
//
// The workspace is found (and on Postgres locked) before the event is
// inserted, so an event that changes nothing — unreadable, ignored, or for
// no workspace, the most common deliveries — is stored with its outcome by
// the insert itself, one statement instead of an insert and an update.
func (s *BillingService) ApplyStripeEvent(ctx context.Context, ev app.StripeEvent, upd *app.BillingUpdate) (string, error) {
	var result string
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		now := s.db.now()
		var (
			ws      *billingStateRecord
			outcome string
			err     error
		)
		switch {
		case upd == nil && ev.Error != "":
			outcome = app.EventUnreadable
		case upd == nil:
			outcome = app.EventIgnored
		default:
			if ws, err = s.lockBillingWorkspace(ctx, tx, upd); err != nil {
				return err
			}
			if ws == nil {
				outcome = app.EventUnmatched
			}
		}
		rec := stripeEventRecord{ID: ev.ID, Type: ev.Type, APIVersion: ev.APIVersion, CreatedAt: ev.Created.UTC(),
			ReceivedAt: now, Status: "received", Payload: string(ev.Payload), Error: ev.Error}
		if outcome != "" {
			rec.Status, rec.ProcessedAt = outcome, &now
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rec)
		if res.Error != nil {
			return fmt.Errorf("record stripe event %s: %w", ev.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			result = app.EventDuplicate
			return nil
		}
		if outcome != "" {
			result = outcome
			return nil
		}
		var wsID int64
		if result, wsID, err = s.applyTo(ctx, tx, ws, ev.ID, upd); err != nil {
			return err
		}
		if result == app.EventTied {
			return errTied
		}
		return tx.Model(&stripeEventRecord{}).Where("id = ?", ev.ID).
			Updates(map[string]any{"status": result, "processed_at": now, "workspace_id": optionalID(wsID)}).Error
	})
	if errors.Is(err, errTied) {
		return app.EventTied, nil
	}
	return result, err
}

// ReapplyStripeEvent applies a stored event again (operator replay).
func (s *BillingService) ReapplyStripeEvent(ctx context.Context, id string, upd *app.BillingUpdate) (string, error) {
	var result string
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := s.db.queryRow(ctx, tx, qStripeEventStored, id).Scan(&n); err != nil {
			return fmt.Errorf("find stripe event %s: %w", id, err)
		}
		if n == 0 {
			return app.Errorf(app.ENOTFOUND, "No stored Stripe event %s.", id)
		}
		var wsID int64
		var err error
		result, wsID, err = s.apply(ctx, tx, id, upd)
		if err != nil {
			return err
		}
		if result == app.EventTied {
			return errTied
		}
		res := tx.Model(&stripeEventRecord{}).Where("id = ?", id).
			Updates(map[string]any{"status": result, "processed_at": s.db.now(), "workspace_id": optionalID(wsID)})
		if res.Error != nil {
			return fmt.Errorf("update stripe event %s: %w", id, res.Error)
		}
		return nil
	})
	if errors.Is(err, errTied) {
		return app.EventTied, nil
	}
	return result, err
}

// apply changes the workspace named by upd, unless upd comes before the
// state already applied in app.OrderBillingUpdate's order. The workspace
// row is locked first, so the check and the write are one step even when
// two events for one workspace race.
func (s *BillingService) apply(ctx context.Context, tx *gorm.DB, eventID string, upd *app.BillingUpdate) (string, int64, error) {
	if upd == nil {
		return app.EventIgnored, 0, nil
	}
	ws, err := s.lockBillingWorkspace(ctx, tx, upd)
	if err != nil {
		return "", 0, err
	}
	if ws == nil {
		return app.EventUnmatched, 0, nil
	}
	return s.applyTo(ctx, tx, ws, eventID, upd)
}

// applyTo applies upd to the workspace ws, found and locked by
// lockBillingWorkspace in tx, unless upd comes before its applied state.
func (s *BillingService) applyTo(ctx context.Context, tx *gorm.DB, ws *billingStateRecord, eventID string, upd *app.BillingUpdate) (string, int64, error) {
	if result := admit(ws, eventID, upd); result != "" {
		return result, ws.ID, nil
	}
	if upd.Status == "" && (upd.Payment != nil || upd.TrialEnding) {
		return s.applyNotice(ctx, tx, ws, eventID, upd)
	}
	changes := map[string]any{"updated_at": s.db.now()}
	if upd.CustomerID != "" {
		changes["stripe_customer_id"] = upd.CustomerID
	}
	if upd.SubscriptionID != "" {
		changes["stripe_subscription_id"] = upd.SubscriptionID
	}
	if upd.Status != "" {
		changes["subscription_status"] = upd.Status
		changes["plan"] = app.PlanFor(upd.Status, upd.Plan)
		changes["billing_event_at"] = upd.AsOf.UTC().Truncate(time.Microsecond)
		changes["billing_event_rank"] = app.StatusRank(upd.Status)
		changes["billing_event_id"] = eventID
		subscriptionItem(changes, upd)
	}
	recovered, err := s.db.endDunning(ctx, tx, ws.ID, eventID, upd, changes)
	if err != nil {
		return "", 0, err
	}
	if !upd.PeriodEnd.IsZero() {
		changes["current_period_end"] = upd.PeriodEnd.UTC()
	}
	if upd.CancelAtEnd != nil {
		changes["cancel_at_period_end"] = *upd.CancelAtEnd
	}
	if err := tx.Model(&billingStateRecord{}).Where("id = ?", ws.ID).Updates(changes).Error; err != nil {
		return "", 0, fmt.Errorf("update billing of workspace %d: %w", ws.ID, err)
	}
	if err := s.settleScheduledChange(tx, ws.ID, upd); err != nil {
		return "", 0, err
	}
	md := map[string]any{"stripe_event_id": eventID}
	if upd.ScheduleID != "" {
		md["schedule_id"], md["status"] = upd.ScheduleID, upd.ScheduleStatus
	}
	if upd.Status != "" {
		md["status"], md["plan"] = upd.Status, app.PlanFor(upd.Status, upd.Plan)
		md["previous_status"] = ws.SubscriptionStatus
	}
	if upd.Refreshed {
		md["refreshed_from_stripe"] = true
	}
	action := upd.Action
	if action == "" {
		action = app.ActionSubscriptionUpdated
	}
	if err := s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: ws.ID, Action: action, TargetType: "workspace",
		TargetID: fmt.Sprint(ws.ID), Metadata: md}); err != nil {
		return "", 0, err
	}
	if recovered != nil {
		if err := s.db.audit(ctx, tx, *recovered); err != nil {
			return "", 0, err
		}
	}
	return app.EventApplied, ws.ID, nil
}

// subscriptionItem adds the subscription's price, quantity and trial end
// to changes: an update with a status carries the whole subscription, so
// an empty price or a zero trial end is written too (the trial is over).
func subscriptionItem(changes map[string]any, upd *app.BillingUpdate) {
	changes["price_id"] = upd.PriceID
	changes["seat_quantity"] = upd.Quantity
	changes["trial_end"] = optionalTime(upd.TrialEnd)
}

// admit returns "" when upd may apply to ws, else app.EventStale or
// app.EventTied. An update that carries a status, or that would point
// the workspace at another subscription, must come after the applied
// state; an update without status about the current subscription (an
// invoice, the Checkout that started it) only adds its audit entry.
func admit(ws *billingStateRecord, eventID string, upd *app.BillingUpdate) string {
	otherSub := upd.SubscriptionID != "" && upd.SubscriptionID != ws.StripeSubscriptionID
	if upd.Status == "" && !otherSub {
		return ""
	}
	// A customer can hold an old subscription (ending) beside the current
	// one: news of another subscription only takes over when it grants Pro.
	if upd.Status != "" && otherSub && ws.StripeSubscriptionID != "" && !app.ProStatus(upd.Status) {
		return app.EventStale
	}
	switch app.OrderBillingUpdate(upd, eventID, ws.mark()) {
	case app.OrderOlder:
		return app.EventStale
	case app.OrderTie:
		return app.EventTied
	}
	return ""
}

// lockBillingWorkspace finds and locks the workspace an update is about:
// by id when the event names one, else by Stripe customer. nil when there
// is none. On SQLite the write transaction already holds the database.
func (s *BillingService) lockBillingWorkspace(ctx context.Context, tx *gorm.DB, upd *app.BillingUpdate) (*billingStateRecord, error) {
	var r *row
	switch {
	case upd.WorkspaceID != 0:
		r = s.db.queryRow(ctx, tx, qBillingByID, upd.WorkspaceID)
	case upd.CustomerID != "":
		r = s.db.queryRow(ctx, tx, qBillingByCustomer, upd.CustomerID)
	default:
		return nil, nil
	}
	ws, err := scanBillingState(r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find billing workspace: %w", err)
	}
	return ws, nil
}

// FindStripeEvent returns a stored event.
func (s *BillingService) FindStripeEvent(ctx context.Context, id string) (*app.StripeEvent, error) {
	r, err := scanStripeEvent(s.db.queryRow(ctx, nil, qStripeEvent, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, app.Errorf(app.ENOTFOUND, "No stored Stripe event %s.", id)
	case err != nil:
		return nil, fmt.Errorf("find stripe event: %w", err)
	}
	return r.toApp(), nil
}

// requireOwner checks inside tx that the principal may manage the
// workspace's billing.
func (s *BillingService) requireOwner(ctx context.Context, tx *gorm.DB, sc app.Scope) error {
	m, err := s.db.lockScope(ctx, tx, sc)
	if err != nil {
		return err
	}
	return app.CanManageBilling(app.Role(m.Role))
}

// RecordCheckoutStarted stores the workspace's Stripe customer and audits
// the start of a Checkout; owners only.
func (s *BillingService) RecordCheckoutStarted(ctx context.Context, sc app.Scope, customerID, sessionID string) error {
	workspaceID := sc.WorkspaceID
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.requireOwner(ctx, tx, sc); err != nil {
			return err
		}
		if customerID != "" {
			if err := tx.Model(&workspaceRecord{}).Where("id = ? AND stripe_customer_id = ''", workspaceID).
				Update("stripe_customer_id", customerID).Error; err != nil {
				return fmt.Errorf("store stripe customer: %w", err)
			}
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionCheckoutStarted,
			TargetType: "workspace", TargetID: fmt.Sprint(workspaceID), Metadata: map[string]any{"checkout_session_id": sessionID}})
	})
}

// SyncSubscription overwrites the billing state with Stripe's current view.
func (s *BillingService) SyncSubscription(ctx context.Context, workspaceID int64, upd app.BillingUpdate) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		ws, err := s.db.findWorkspace(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		status := upd.Status
		if status == "" {
			status = app.SubCanceled
		}
		changes := map[string]any{"subscription_status": status, "plan": app.PlanFor(status, upd.Plan),
			"stripe_subscription_id": upd.SubscriptionID, "billing_event_at": upd.AsOf.UTC().Truncate(time.Microsecond),
			"billing_event_rank": app.StatusRank(status), "billing_event_id": "",
			"cancel_at_period_end": upd.CancelAtEnd != nil && *upd.CancelAtEnd, "updated_at": s.db.now()}
		if !upd.PeriodEnd.IsZero() {
			changes["current_period_end"] = upd.PeriodEnd.UTC()
		}
		subscriptionItem(changes, &upd)
		if upd.CustomerID != "" {
			changes["stripe_customer_id"] = upd.CustomerID
		}
		synced := upd
		synced.Status = status
		recovered, err := s.db.endDunning(ctx, tx, workspaceID, "", &synced, changes)
		if err != nil {
			return err
		}
		if err := tx.Model(&workspaceRecord{}).Where("id = ?", workspaceID).Updates(changes).Error; err != nil {
			return fmt.Errorf("sync billing: %w", err)
		}
		if recovered != nil {
			if err := s.db.audit(ctx, tx, *recovered); err != nil {
				return err
			}
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionBillingSynced,
			TargetType: "workspace", TargetID: fmt.Sprint(workspaceID),
			Metadata: map[string]any{"previous_status": ws.SubscriptionStatus, "status": status}})
	})
}

// DemoUpgrade switches the workspace to pro without Stripe; owners only.
func (s *BillingService) DemoUpgrade(ctx context.Context, sc app.Scope) error {
	workspaceID := sc.WorkspaceID
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.requireOwner(ctx, tx, sc); err != nil {
			return err
		}
		if err := tx.Model(&workspaceRecord{}).Where("id = ?", workspaceID).Updates(map[string]any{
			"plan": app.PlanPro, "subscription_status": app.SubActive, "updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("demo upgrade: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionDemoUpgraded,
			TargetType: "workspace", TargetID: fmt.Sprint(workspaceID), Metadata: map[string]any{"demo": true}})
	})
}

// DemoDowngrade puts the workspace back on the free plan without Stripe and
// forgets its subscription, so a demo upgrade (or seeded billing) can be
// undone; owners only.
func (s *BillingService) DemoDowngrade(ctx context.Context, sc app.Scope) error {
	workspaceID := sc.WorkspaceID
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.requireOwner(ctx, tx, sc); err != nil {
			return err
		}
		if err := tx.Model(&workspaceRecord{}).Where("id = ?", workspaceID).Updates(map[string]any{
			"plan": app.PlanFree, "subscription_status": "", "stripe_subscription_id": "", "current_period_end": nil,
			"cancel_at_period_end": false, "updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("demo downgrade: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionDemoDowngraded,
			TargetType: "workspace", TargetID: fmt.Sprint(workspaceID), Metadata: map[string]any{"demo": true}})
	})
}

// FindWorkspaceBySlug finds a workspace for operator commands.
func (s *BillingService) FindWorkspaceBySlug(ctx context.Context, slug string) (*app.Workspace, error) {
	ws, err := scanWorkspace(s.db.queryRow(ctx, nil, qWorkspaceBy, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "No workspace with slug %s.", slug)
	}
	if err != nil {
		return nil, fmt.Errorf("find workspace %q: %w", slug, err)
	}
	return ws, nil
}

// StripeEventSummary describes a received Stripe webhook event for
// operator checks.
type StripeEventSummary struct {
	ID         string
	Type       string
	Status     string // an app.Event* result, or "received" while it is applied
	Error      string
	ReceivedAt time.Time
}

// qLastStripeEvent is the operator checks' newest event (atrium doctor).
const qLastStripeEvent = "last_stripe_event"

// stripeEventQueries are the catalog's statements of the operator checks.
// The newest event is found through stripe_events_received_idx (MAX), and
// only the events received at that instant are sorted by id. SQLite is
// told to use the index for them too: its statistics, after a burst of
// events in one second, would have it read the table.
var stripeEventQueries = map[string]hotQuery{
	qLastStripeEvent: {SQL: fmt.Sprintf(lastStripeEvent, "INDEXED BY stripe_events_received_idx"),
		PostgresSQL: fmt.Sprintf(lastStripeEvent, ""), BoundedSort: "the events received at the newest instant"},
}

// lastStripeEvent is the newest event's statement, with room for an index hint.
const lastStripeEvent = `SELECT id, type, status, error, received_at FROM stripe_events %s
	WHERE received_at = (SELECT MAX(received_at) FROM stripe_events) ORDER BY id DESC LIMIT 1`

// LastStripeEvent returns the most recently received Stripe event, or nil
// when none has been received.
func (db *DB) LastStripeEvent(ctx context.Context) (*StripeEventSummary, error) {
	var ev StripeEventSummary
	err := db.queryRow(ctx, nil, qLastStripeEvent).Scan(&ev.ID, &ev.Type, &ev.Status, &ev.Error, &ev.ReceivedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("find the last stripe event: %w", err)
	}
	ev.ReceivedAt = ev.ReceivedAt.UTC()
	return &ev, nil
}
