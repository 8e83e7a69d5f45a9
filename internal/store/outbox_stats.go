package store

import (
	"context"
	"fmt"
	"time"

	"atrium/internal/app"
)

// OutboxStats is the state of the outbox queue, for metrics.
type OutboxStats struct {
	// Pending counts messages waiting to be sent, due or not.
	Pending int64
	// OldestDue is how long the oldest due message has been due; 0 when
	// no message is due.
	OldestDue time.Duration
}

// Stats reads the outbox queue's depth and how long its oldest due
// message has waited, in one query.
func (s *OutboxService) Stats(ctx context.Context) (OutboxStats, error) {
	now := s.db.now()
	var row struct {
		Pending int64
		Due     int64
	}
	// The oldest due time is read as a row of its own: SQLite keeps times
	// as text, which MIN over a CASE would not convert back.
	if err := s.db.gorm.WithContext(ctx).Model(&outboxRecord{}).
		Select("COUNT(*) AS pending, COALESCE(SUM(CASE WHEN next_attempt_at <= ? THEN 1 ELSE 0 END), 0) AS due", now).
		Where("status = ?", app.OutboxPending).Scan(&row).Error; err != nil {
		return OutboxStats{}, fmt.Errorf("outbox stats: %w", err)
	}
	st := OutboxStats{Pending: row.Pending}
	if row.Due == 0 {
		return st, nil
	}
	var oldest outboxRecord
	if err := s.db.gorm.WithContext(ctx).Where("status = ? AND next_attempt_at <= ?", app.OutboxPending, now).
		Order("next_attempt_at").Limit(1).Take(&oldest).Error; err != nil {
		return st, fmt.Errorf("outbox oldest due: %w", err)
	}
	st.OldestDue = max(0, now.Sub(oldest.NextAttemptAt))
	return st, nil
}
