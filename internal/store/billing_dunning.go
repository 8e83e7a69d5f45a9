package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// dunningRecord is a workspace's dunning episode and the mark of its last
// payment event (app.OrderDunning).
type dunningRecord struct {
	ID                   int64
	Name                 string
	Slug                 string
	StripeSubscriptionID string
	PaymentFailedAt      *time.Time
	PaymentInvoiceURL    string
	RestrictedAt         *time.Time
	DunningEventAt       *time.Time
	DunningEventRank     int
	DunningEventID       string
}

func (dunningRecord) TableName() string { return "workspaces" }

func (r *dunningRecord) state() app.DunningState {
	return app.DunningState{FailedAt: timeOrZero(r.PaymentFailedAt), InvoiceURL: r.PaymentInvoiceURL,
		RestrictedAt: timeOrZero(r.RestrictedAt)}
}

func (r *dunningRecord) mark() *app.DunningMark {
	if r.DunningEventAt == nil {
		return nil
	}
	return &app.DunningMark{At: r.DunningEventAt.UTC(), Rank: r.DunningEventRank, EventID: r.DunningEventID}
}

// The dunning statements.
const (
	qDunningState      = "dunning_state"
	qTrialNoticeSent   = "trial_notice_sent"
	qOverdueWorkspaces = "overdue_workspaces"
	qRestrictedAt      = "workspace_restricted_at"
)

// overdueBatch is how many overdue workspaces RestrictOverdue reads at a
// time.
const overdueBatch = 500

var dunningQueries = map[string]hotQuery{
	qDunningState: {SQL: `SELECT id, name, slug, stripe_subscription_id, payment_failed_at, payment_invoice_url, restricted_at,
		dunning_event_at, dunning_event_rank, dunning_event_id FROM workspaces WHERE id = ?`},
	// One audit entry is enough: a workspace has one trial.
	qTrialNoticeSent: {SQL: `SELECT COUNT(*) FROM (SELECT 1 FROM audit_logs WHERE workspace_id = ? AND action = ? LIMIT 1) t`},
	// The open, unrestricted episodes whose grace ran out, oldest first,
	// in the order of the partial index workspaces_dunning_idx (which a
	// restricted workspace leaves), overdueBatch at a time.
	qOverdueWorkspaces: {SQL: fmt.Sprintf(`SELECT id FROM workspaces WHERE payment_failed_at IS NOT NULL AND restricted_at IS NULL
		AND payment_failed_at <= ? ORDER BY payment_failed_at LIMIT %d`, overdueBatch)},
	qRestrictedAt: {SQL: `SELECT restricted_at FROM workspaces WHERE id = ?`},
}

// findDunning reads the dunning state of a workspace already locked in tx.
func (db *DB) findDunning(ctx context.Context, tx *gorm.DB, workspaceID int64) (*dunningRecord, error) {
	var r dunningRecord
	if err := db.queryRow(ctx, tx, qDunningState, workspaceID).Scan(&r.ID, &r.Name, &r.Slug, &r.StripeSubscriptionID,
		&r.PaymentFailedAt, &r.PaymentInvoiceURL, &r.RestrictedAt, &r.DunningEventAt, &r.DunningEventRank, &r.DunningEventID); err != nil {
		return nil, fmt.Errorf("find dunning state of workspace %d: %w", workspaceID, err)
	}
	return &r, nil
}

// applyNotice applies an update without status that still changes
// something: a payment event (the dunning episode) or a trial that ends
// soon (an email to the owners). ws is locked in tx.
func (s *BillingService) applyNotice(ctx context.Context, tx *gorm.DB, ws *billingStateRecord, eventID string, upd *app.BillingUpdate) (string, int64, error) {
	d, err := s.db.findDunning(ctx, tx, ws.ID)
	if err != nil {
		return "", 0, err
	}
	changes := map[string]any{}
	if upd.CustomerID != "" {
		changes["stripe_customer_id"] = upd.CustomerID
	}
	md := map[string]any{"stripe_event_id": eventID}
	var audits []app.AuditEntry
	var notice *app.BillingNotice
	switch p := upd.Payment; {
	case upd.TrialEnding:
		sent, err := s.trialNoticeSent(ctx, tx, ws.ID)
		if err != nil {
			return "", 0, err
		}
		if sent {
			return app.EventApplied, ws.ID, nil // a replay: the owners were told already
		}
		md["trial_end"] = upd.TrialEnd
		notice = &app.BillingNotice{Kind: app.NoticeTrialEnding, TrialEnd: upd.TrialEnd}
	case p != nil && p.SubscriptionID != "" && p.SubscriptionID == d.StripeSubscriptionID:
		next, mark, step := app.NextDunning(d.state(), d.mark(), *p, upd.AsOf, eventID)
		if step == app.DunningStale {
			return app.EventStale, ws.ID, nil
		}
		changes["payment_failed_at"] = optionalTime(next.FailedAt)
		changes["payment_invoice_url"] = next.InvoiceURL
		changes["restricted_at"] = optionalTime(next.RestrictedAt)
		changes["dunning_event_at"], changes["dunning_event_rank"], changes["dunning_event_id"] = mark.At, mark.Rank, mark.EventID
		md["dunning"] = step
		if p.Failed {
			md["attempt_count"] = p.AttemptCount
		}
		switch step {
		case app.DunningOpened:
			notice = &app.BillingNotice{Kind: app.NoticePaymentFailed, InvoiceURL: next.InvoiceURL, FailedAt: next.FailedAt}
		case app.DunningRecovered:
			audits = append(audits, app.AuditEntry{Action: app.ActionPaymentRecovered, Metadata: map[string]any{
				"stripe_event_id": eventID, "payment_failed_at": d.state().FailedAt, "was_restricted": d.RestrictedAt != nil}})
		}
	case p != nil:
		// An invoice of no subscription, or of another one (an old
		// subscription ending beside the current): audited, nothing else.
		md["subscription_id"] = p.SubscriptionID
		if p.Failed {
			md["attempt_count"] = p.AttemptCount
		}
	}
	if len(changes) > 0 {
		changes["updated_at"] = s.db.now()
		if err := tx.Model(&billingStateRecord{}).Where("id = ?", ws.ID).Updates(changes).Error; err != nil {
			return "", 0, fmt.Errorf("update dunning of workspace %d: %w", ws.ID, err)
		}
	}
	audits = append([]app.AuditEntry{{Action: upd.Action, Metadata: md}}, audits...)
	for _, e := range audits {
		e.WorkspaceID, e.TargetType, e.TargetID = ws.ID, "workspace", fmt.Sprint(ws.ID)
		if err := s.db.audit(ctx, tx, e); err != nil {
			return "", 0, err
		}
	}
	if notice != nil {
		notice.Workspace, notice.Slug = d.Name, d.Slug
		if err := s.notifyOwners(ctx, tx, ws.ID, *notice); err != nil {
			return "", 0, err
		}
	}
	return app.EventApplied, ws.ID, nil
}

// trialNoticeSent reports whether the owners of a workspace were told its
// trial ends: a workspace has one trial (app.Catalog.TrialDaysFor), so an
// audit entry of it means a replayed or repeated event sends nothing.
func (s *BillingService) trialNoticeSent(ctx context.Context, tx *gorm.DB, workspaceID int64) (bool, error) {
	n, err := s.db.countOf(ctx, tx, qTrialNoticeSent, workspaceID, app.ActionTrialEnding)
	if err != nil {
		return false, fmt.Errorf("find trial notice: %w", err)
	}
	return n > 0, nil
}

// notifyOwners queues the notice n to every owner of the workspace, in tx.
func (s *BillingService) notifyOwners(ctx context.Context, tx *gorm.DB, workspaceID int64, n app.BillingNotice) error {
	if s.Notice == nil {
		return nil
	}
	owners, err := s.db.owners(ctx, tx, workspaceID)
	if err != nil {
		return err
	}
	for _, o := range owners {
		n.To, n.Language = o.Email, o.Language
		if err := s.db.enqueueEmail(tx, s.Notice(n)); err != nil {
			return err
		}
	}
	return nil
}

// endDunning closes an open dunning episode when a subscription update
// that applies says the subscription is active again, or over
// (app.EndsDunning), unless a newer payment failure reopened it; the
// update counts as a payment in app.OrderDunning's order. It adds the
// changes to changes and returns the audit entry to write, if any.
func (db *DB) endDunning(ctx context.Context, tx *gorm.DB, workspaceID int64, eventID string, upd *app.BillingUpdate, changes map[string]any) (*app.AuditEntry, error) {
	if !app.EndsDunning(upd.Status) {
		return nil, nil
	}
	d, err := db.findDunning(ctx, tx, workspaceID)
	if err != nil {
		return nil, err
	}
	if !d.state().Open() && d.RestrictedAt == nil {
		return nil, nil
	}
	next, mark, step := app.NextDunning(d.state(), d.mark(), app.PaymentUpdate{}, upd.AsOf, eventID)
	if step != app.DunningRecovered {
		return nil, nil
	}
	changes["payment_failed_at"] = optionalTime(next.FailedAt)
	changes["payment_invoice_url"] = next.InvoiceURL
	changes["restricted_at"] = optionalTime(next.RestrictedAt)
	changes["dunning_event_at"], changes["dunning_event_rank"], changes["dunning_event_id"] = mark.At, mark.Rank, mark.EventID
	return &app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionPaymentRecovered, TargetType: "workspace",
		TargetID: fmt.Sprint(workspaceID), Metadata: map[string]any{"stripe_event_id": eventID, "status": upd.Status,
			"payment_failed_at": d.state().FailedAt, "was_restricted": d.RestrictedAt != nil}}, nil
}

// RestrictOverdue restricts every workspace whose dunning episode began
// more than s.Grace before now and is not restricted yet, auditing each
// once (billing.restricted). It returns how many it restricted. The
// conditional update is the guard: two runs at once restrict a workspace
// once.
//
// It reads the overdue workspaces overdueBatch at a time, oldest episode
// first, until a batch comes back short. A workspace it restricts leaves
// the next batch, and so does one it finds no longer due (paid, or
// restricted by another run); a full batch that restricted none means
// another run is going through the same workspaces, and this one stops.
func (s *BillingService) RestrictOverdue(ctx context.Context) (int, error) {
	now, n := s.db.now(), 0
	for {
		ids, err := s.overdue(ctx, now.Add(-s.Grace))
		if err != nil {
			return n, err
		}
		done, err := s.restrict(ctx, now, ids)
		n += done
		if err != nil || len(ids) < overdueBatch || done == 0 {
			return n, err
		}
	}
}

// restrict restricts, as of now, each of ids that is still overdue, and
// returns how many it restricted.
func (s *BillingService) restrict(ctx context.Context, now time.Time, ids []int64) (int, error) {
	grace := s.Grace
	n := 0
	for _, id := range ids {
		err := s.db.transact(ctx, func(tx *gorm.DB) error {
			res := tx.Model(&dunningRecord{}).
				Where("id = ? AND payment_failed_at IS NOT NULL AND restricted_at IS NULL AND payment_failed_at <= ?", id, now.Add(-grace)).
				Updates(map[string]any{"restricted_at": now, "updated_at": now})
			if res.Error != nil {
				return fmt.Errorf("restrict workspace %d: %w", id, res.Error)
			}
			if res.RowsAffected == 0 {
				return errNotRestricted
			}
			d, err := s.db.findDunning(ctx, tx, id)
			if err != nil {
				return err
			}
			return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: id, Action: app.ActionRestricted, TargetType: "workspace",
				TargetID: fmt.Sprint(id), Metadata: map[string]any{"payment_failed_at": d.state().FailedAt,
					"grace_days": int(grace / (24 * time.Hour))}})
		})
		switch {
		case errors.Is(err, errNotRestricted):
		case err != nil:
			return n, err
		default:
			n++
		}
	}
	return n, nil
}

// overdue returns the workspaces whose open, unrestricted episode began
// at or before since, oldest first, at most overdueBatch of them.
func (s *BillingService) overdue(ctx context.Context, since time.Time) ([]int64, error) {
	rs, err := s.db.query(ctx, nil, qOverdueWorkspaces, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("find overdue workspaces: %w", err)
	}
	defer rs.Close()
	var ids []int64
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("find overdue workspaces: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rs.Err()
}

// errNotRestricted rolls back a restriction another run (or a payment)
// got to first.
var errNotRestricted = errors.New("workspace no longer due for restriction")

// checkRestricted returns app.ErrRestricted when the workspace is
// restricted, for services that add to it (API keys, webhook endpoints).
func (db *DB) checkRestricted(ctx context.Context, tx *gorm.DB, workspaceID int64) error {
	var at *time.Time
	if err := db.queryRow(ctx, tx, qRestrictedAt, workspaceID).Scan(&at); err != nil {
		return notFound(err, app.Errorf(app.ENOTFOUND, "Workspace not found."), "find workspace")
	}
	return app.CheckAdditions(&app.Workspace{RestrictedAt: timeOrZero(at)})
}
