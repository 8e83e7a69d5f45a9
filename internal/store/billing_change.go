package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// scheduledChangeRecord is the scheduled plan change of a workspace.
type scheduledChangeRecord struct {
	ID                  int64
	ScheduledPriceID    string
	ScheduledChangeAt   *time.Time
	ScheduledScheduleID string
}

func (scheduledChangeRecord) TableName() string { return "workspaces" }

// qScheduledChange reads a workspace's scheduled plan change.
const qScheduledChange = "scheduled_change"

var scheduledChangeQueries = map[string]hotQuery{
	qScheduledChange: {SQL: `SELECT id, scheduled_price_id, scheduled_change_at, scheduled_schedule_id FROM workspaces WHERE id = ?`},
}

// findScheduledChange reads the scheduled change of a workspace in tx.
func (s *BillingService) findScheduledChange(ctx context.Context, tx *gorm.DB, workspaceID int64) (*scheduledChangeRecord, error) {
	var r scheduledChangeRecord
	if err := s.db.queryRow(ctx, tx, qScheduledChange, workspaceID).Scan(&r.ID, &r.ScheduledPriceID, &r.ScheduledChangeAt,
		&r.ScheduledScheduleID); err != nil {
		return nil, fmt.Errorf("find the scheduled change of workspace %d: %w", workspaceID, err)
	}
	return &r, nil
}

// clearedSchedule are the columns of a workspace without a scheduled change.
var clearedSchedule = map[string]any{"scheduled_price_id": "", "scheduled_change_at": nil, "scheduled_schedule_id": ""}

// RecordBillingRequest audits an owner's request to Stripe; owners only.
func (s *BillingService) RecordBillingRequest(ctx context.Context, sc app.Scope, action string, md map[string]any) error {
	if !slices.Contains(app.BillingRequests, action) {
		return fmt.Errorf("record billing request: %q is not a billing request", action)
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.requireOwner(ctx, tx, sc); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: sc.WorkspaceID, Action: action, TargetType: "workspace",
			TargetID: fmt.Sprint(sc.WorkspaceID), Metadata: md})
	})
}

// SchedulePlanChange records the downgrade ch, waiting on its Stripe
// schedule; owners only. The same change recorded again (a double
// submit) writes and audits nothing.
func (s *BillingService) SchedulePlanChange(ctx context.Context, sc app.Scope, ch app.ScheduledChange) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.requireOwner(ctx, tx, sc); err != nil {
			return err
		}
		cur, err := s.findScheduledChange(ctx, tx, sc.WorkspaceID)
		if err != nil {
			return err
		}
		at := ch.At.UTC().Truncate(time.Second)
		if cur.ScheduledPriceID == ch.PriceID && cur.ScheduledScheduleID == ch.ScheduleID &&
			cur.ScheduledChangeAt != nil && cur.ScheduledChangeAt.Equal(at) {
			return nil
		}
		if err := tx.Model(&scheduledChangeRecord{}).Where("id = ?", sc.WorkspaceID).Updates(map[string]any{
			"scheduled_price_id": ch.PriceID, "scheduled_change_at": at, "scheduled_schedule_id": ch.ScheduleID,
			"updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("schedule plan change: %w", err)
		}
		md := map[string]any{"price_id": ch.PriceID, "change_at": at.Format(time.RFC3339), "schedule_id": ch.ScheduleID}
		if ch.Plan != "" {
			md["plan"], md["interval"] = ch.Plan, string(ch.Interval)
		}
		if cur.ScheduledPriceID != "" {
			md["previous_price_id"] = cur.ScheduledPriceID
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: sc.WorkspaceID, Action: app.ActionPlanChangeScheduled,
			TargetType: "workspace", TargetID: fmt.Sprint(sc.WorkspaceID), Metadata: md})
	})
}

// WithdrawPlanChange forgets the scheduled plan change; owners only.
// Without one it writes and audits nothing.
func (s *BillingService) WithdrawPlanChange(ctx context.Context, sc app.Scope) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.requireOwner(ctx, tx, sc); err != nil {
			return err
		}
		cur, err := s.findScheduledChange(ctx, tx, sc.WorkspaceID)
		if err != nil {
			return err
		}
		if cur.ScheduledPriceID == "" {
			return nil
		}
		changes := maps.Clone(clearedSchedule)
		changes["updated_at"] = s.db.now()
		if err := tx.Model(&scheduledChangeRecord{}).Where("id = ?", sc.WorkspaceID).Updates(changes).Error; err != nil {
			return fmt.Errorf("withdraw plan change: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: sc.WorkspaceID, Action: app.ActionPlanChangeWithdrawn,
			TargetType: "workspace", TargetID: fmt.Sprint(sc.WorkspaceID),
			Metadata: map[string]any{"price_id": cur.ScheduledPriceID, "schedule_id": cur.ScheduledScheduleID}})
	})
}

// settleScheduledChange clears, in tx, the scheduled plan change an
// applied update ends: the end of its own schedule (released, completed
// or canceled; the news of another schedule changes nothing), a
// subscription update that carries the scheduled price (the change took
// place), or a subscription that can never be live again.
func (s *BillingService) settleScheduledChange(tx *gorm.DB, wsID int64, upd *app.BillingUpdate) error {
	q := tx.Model(&scheduledChangeRecord{}).Where("id = ? AND scheduled_price_id <> ''", wsID)
	switch {
	case upd.ScheduleID != "":
		q = q.Where("scheduled_schedule_id = ?", upd.ScheduleID)
	case app.StatusRank(upd.Status) == app.RankTerminal:
	case upd.Status != "" && upd.PriceID != "":
		q = q.Where("scheduled_price_id = ?", upd.PriceID)
	default:
		return nil
	}
	if err := q.Updates(clearedSchedule).Error; err != nil {
		return fmt.Errorf("clear the scheduled change of workspace %d: %w", wsID, err)
	}
	return nil
}
