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

// The outbox statements of the metrics.
const (
	qOutboxCounts    = "outbox_counts"
	qOutboxOldestDue = "outbox_oldest_due"
)

// outboxStatsQueries are the catalog's statements of the outbox metrics.
// The oldest due time is read as a row of its own: SQLite keeps times as
// text, which MIN over a CASE would not convert back.
var outboxStatsQueries = map[string]hotQuery{
	qOutboxCounts: {SQL: `SELECT COUNT(*), COALESCE(SUM(CASE WHEN next_attempt_at <= ? THEN 1 ELSE 0 END), 0)
		FROM mail_outbox WHERE status = '` + app.OutboxPending + `'`},
	qOutboxOldestDue: {SQL: `SELECT next_attempt_at FROM mail_outbox
		WHERE status = '` + app.OutboxPending + `' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 1`},
}

// Stats reads the outbox queue's depth and how long its oldest due
// message has waited, in one query.
func (s *OutboxService) Stats(ctx context.Context) (OutboxStats, error) {
	now := s.db.now()
	var st OutboxStats
	var due int64
	if err := s.db.queryRow(ctx, nil, qOutboxCounts, now).Scan(&st.Pending, &due); err != nil {
		return OutboxStats{}, fmt.Errorf("outbox stats: %w", err)
	}
	if due == 0 {
		return st, nil
	}
	var oldest time.Time
	if err := s.db.queryRow(ctx, nil, qOutboxOldestDue, now).Scan(&oldest); err != nil {
		return st, fmt.Errorf("outbox oldest due: %w", err)
	}
	st.OldestDue = max(0, now.Sub(oldest))
	return st, nil
}
