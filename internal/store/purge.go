package store

import (
	"context"
	"fmt"
	"time"

	"atrium/internal/app"
)

// Retention of finished rows.
const (
	// loginTokenRetention keeps used and expired sign-in links for a day, so
	// a late click still gets the "already used"/"expired" page.
	loginTokenRetention = 24 * time.Hour
	// sentMailRetention keeps delivered outbox rows (bodies already cleared)
	// for a month, for "was it sent?" questions.
	sentMailRetention = 30 * 24 * time.Hour
	// webhookDeliveryRetention keeps finished webhook deliveries (their
	// payloads name people) for a month, the delivery log's reach and how
	// far back "replay since" can go.
	webhookDeliveryRetention = 30 * 24 * time.Hour
)

// Purged counts the rows a purge removed or cleared.
type Purged struct {
	Sessions    int64
	LoginTokens int64
	SentMail    int64
	// FailedMailBodies counts undeliverable messages whose bodies (and
	// share link) were cleared because the link they carried has expired.
	FailedMailBodies int64
	// InviteSends counts invite-mail records past the limits' window.
	InviteSends int64
	// Challenges counts expired pending second factors and WebAuthn
	// challenges.
	Challenges int64
	// WebhookDeliveries counts finished webhook deliveries past their
	// retention.
	WebhookDeliveries int64
}

// PurgeExpired deletes expired sessions and challenges, sign-in links past their
// retention, old delivered mail, old invite-mail records and finished
// webhook deliveries older than a month, and clears
// the bodies of mail given up as failed once its link has expired. serve
// runs it hourly; it is safe to run from several instances at once.
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
	// Mail without a recorded expiry (no link, or queued before expiries
	// were recorded) is cleared after InviteTTL, the longest a link lives.
	res = g.Model(&outboxRecord{}).
		Where("status = ? AND (text_body <> '' OR html_body <> '' OR share_link <> '')", app.OutboxFailed).
		Where(g.Where("token_expires_at <= ?", now).Or("token_expires_at IS NULL AND created_at <= ?", now.Add(-app.InviteTTL))).
		Updates(map[string]any{"text_body": "", "html_body": "", "share_link": ""})
	if res.Error != nil {
		return p, fmt.Errorf("clear failed mail: %w", res.Error)
	}
	p.FailedMailBodies = res.RowsAffected
	res = g.Where("created_at <= ?", now.Add(-inviteSendRetention)).Delete(&inviteSendRecord{})
	if res.Error != nil {
		return p, fmt.Errorf("purge invite sends: %w", res.Error)
	}
	p.InviteSends = res.RowsAffected
	res = g.Where("expires_at <= ?", now).Delete(&challengeRecord{})
	if res.Error != nil {
		return p, fmt.Errorf("purge challenges: %w", res.Error)
	}
	p.Challenges = res.RowsAffected
	res = g.Where("status IN ? AND created_at <= ?", []string{app.DeliveryDelivered, app.DeliveryGaveUp},
		now.Add(-webhookDeliveryRetention)).Delete(&webhookDeliveryRecord{})
	if res.Error != nil {
		return p, fmt.Errorf("purge webhook deliveries: %w", res.Error)
	}
	p.WebhookDeliveries = res.RowsAffected
	return p, nil
}
