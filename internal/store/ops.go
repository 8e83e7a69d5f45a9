package store

import (
	"context"
	"fmt"
	"time"
)

// StripeEventSummary describes a received Stripe webhook event for
// operator checks.
type StripeEventSummary struct {
	ID         string
	Type       string
	Status     string // an app.Event* result, or "received" while it is applied
	Error      string
	ReceivedAt time.Time
}

// LastStripeEvent returns the most recently received Stripe event, or nil
// when none has been received.
func (db *DB) LastStripeEvent(ctx context.Context) (*StripeEventSummary, error) {
	var rows []StripeEventSummary
	err := db.gorm.WithContext(ctx).Raw(`SELECT id, type, status, error, received_at
		FROM stripe_events ORDER BY received_at DESC, id DESC LIMIT 1`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find the last stripe event: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ev := rows[0]
	ev.ReceivedAt = ev.ReceivedAt.UTC()
	return &ev, nil
}
