package store

import (
	"context"
	"fmt"
	"time"
)

// Retention of finished rows.
const (
	// loginTokenRetention keeps used and expired sign-in links for a day, so
	// a late click still gets the "already used"/"expired" page.
	loginTokenRetention = 24 * time.Hour
	// sentMailRetention keeps delivered outbox rows (bodies already cleared)
	// for a month, for "was it sent?" questions.
	sentMailRetention = 30 * 24 * time.Hour
)

// Purged counts the rows a purge removed.
type Purged struct {
	Sessions    int64
	LoginTokens int64
	SentMail    int64
}

// PurgeExpired deletes expired sessions, sign-in links past their
// retention and old delivered mail. serve runs it hourly; it is safe to
// run from several instances at once.
func (db *DB) PurgeExpired(ctx context.Context) (Purged, error) {
	now := db.now()
	var p Purged
	g := db.gorm.WithContext(ctx)
	res := g.Where("expires_at <= ?", now).Delete(&sessionRecord{})
	if res.Error != nil {
		return p, fmt.Errorf("purge sessions: %w", res.Error)
	}
	p.Sessions = res.RowsAffected
	res = g.Where("expires_at <= ?", now.Add(-loginTokenRetention)).Delete(&loginTokenRecord{})
	if res.Error != nil {
		return p, fmt.Errorf("purge login tokens: %w", res.Error)
	}
	p.LoginTokens = res.RowsAffected
	res = g.Where("status = ? AND sent_at <= ?", "sent", now.Add(-sentMailRetention)).Delete(&outboxRecord{})
	if res.Error != nil {
		return p, fmt.Errorf("purge sent mail: %w", res.Error)
	}
	p.SentMail = res.RowsAffected
	return p, nil
}
