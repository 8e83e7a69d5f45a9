package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
	"atrium/internal/jobs"
)

type outboxRecord struct {
	ID            int64
	ToAddr        string
	Subject       string
	TextBody      string
	HTMLBody      string `gorm:"column:html_body"`
	Ref           string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
	// TokenExpiresAt is when the link in the body expires (nil: no link).
	TokenExpiresAt *time.Time
	// InviteID is the invite an invite email is about; ShareLink is its
	// accept link, kept (like the bodies) until the email is delivered.
	InviteID  *int64
	ShareLink string
}

func (outboxRecord) TableName() string { return "mail_outbox" }

// outboxColumns are the columns of every read of queued messages, in the
// order scanOutbox reads them.
const outboxColumns = `id, to_addr, subject, text_body, html_body, ref, status, attempts, next_attempt_at,
	last_error, created_at, sent_at, token_expires_at`

// scanOutbox reads a row of outboxColumns.
func scanOutbox(sc scanner) (*outboxRecord, error) {
	var r outboxRecord
	if err := scanRow(sc, &r.ID, &r.ToAddr, &r.Subject, &r.TextBody, &r.HTMLBody, &r.Ref, &r.Status, &r.Attempts,
		&r.NextAttemptAt, &r.LastError, &r.CreatedAt, &r.SentAt, &r.TokenExpiresAt); err != nil {
		return nil, err
	}
	return &r, nil
}

// The statements reading queued messages: those of a ref, newest first,
// and one by id for its delivery job.
const (
	qOutboxByRef      = "outbox_by_ref"
	qOutboxByID       = "outbox_by_id"
	qOutboxPendingIDs = "outbox_pending_ids"
)

// outboxQueries are the catalog's outbox statements outside the hot list.
var outboxQueries = map[string]hotQuery{
	qOutboxByRef: {SQL: `SELECT ` + outboxColumns + ` FROM mail_outbox WHERE ref = ? ORDER BY id DESC`,
		BoundedSort: "the emails of one reference"},
	qOutboxByID: {SQL: `SELECT ` + outboxColumns + ` FROM mail_outbox WHERE id = ?`},
	qOutboxPendingIDs: {SQL: `SELECT id FROM mail_outbox WHERE status = 'pending' ORDER BY id`,
		WholeTable: "migrate-data queues the mail still to send once, in a new database"},
}

// findOutbox runs a catalogued statement of outboxColumns.
func (db *DB) findOutbox(ctx context.Context, name string, args ...any) ([]*outboxRecord, error) {
	rows, err := db.query(ctx, nil, name, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []*outboxRecord
	for rows.Next() {
		r, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (r *outboxRecord) toApp() *app.OutboxMessage {
	m := &app.OutboxMessage{ID: r.ID, Status: r.Status, Attempts: r.Attempts,
		NextAttemptAt: r.NextAttemptAt.UTC(), LastError: r.LastError, CreatedAt: r.CreatedAt.UTC(),
		Email: app.Email{To: r.ToAddr, Subject: r.Subject, Text: r.TextBody, HTML: r.HTMLBody, Ref: r.Ref}}
	if r.TokenExpiresAt != nil {
		m.Email.LinkExpiresAt = r.TokenExpiresAt.UTC()
	}
	if r.SentAt != nil {
		m.SentAt = r.SentAt.UTC()
	}
	return m
}

// enqueueEmail stores msg and queues its delivery job inside tx.
func (db *DB) enqueueEmail(tx *gorm.DB, msg app.Email) error {
	r := db.newOutboxRecord(msg)
	return db.queueOutbox(tx, &r)
}

// newOutboxRecord returns the outbox row of msg, due now.
func (db *DB) newOutboxRecord(msg app.Email) outboxRecord {
	now := db.now()
	r := outboxRecord{ToAddr: msg.To, Subject: msg.Subject, TextBody: msg.Text, HTMLBody: msg.HTML,
		Ref: msg.Ref, Status: app.OutboxPending, NextAttemptAt: now, CreatedAt: now}
	if !msg.LinkExpiresAt.IsZero() {
		at := msg.LinkExpiresAt.UTC().Truncate(time.Microsecond)
		r.TokenExpiresAt = &at
	}
	return r
}

// queueOutbox inserts r and its delivery job inside tx.
func (db *DB) queueOutbox(tx *gorm.DB, r *outboxRecord) error {
	if err := tx.Create(r).Error; err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	return db.enqueue(tx, jobs.SendEmail{OutboxID: r.ID})
}

// OutboxService implements app.OutboxService.
type OutboxService struct{ db *DB }

// NewOutboxService returns the mail outbox of db.
func NewOutboxService(db *DB) *OutboxService { return &OutboxService{db: db} }

var _ app.OutboxService = (*OutboxService)(nil)

// EnqueueEmail stores a message and queues its delivery.
func (s *OutboxService) EnqueueEmail(ctx context.Context, msg app.Email) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error { return s.db.enqueueEmail(tx, msg) })
}

// FindEmail returns the message id, or nil when there is none.
func (s *OutboxService) FindEmail(ctx context.Context, id int64) (*app.OutboxMessage, error) {
	rs, err := s.db.findOutbox(ctx, qOutboxByID, id)
	if err != nil {
		return nil, fmt.Errorf("find email %d: %w", id, err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return rs[0].toApp(), nil
}

// MarkEmailSent records a delivery and clears the stored bodies and share
// link: they may hold a sign-in or invite link, which should not outlive
// its delivery.
func (s *OutboxService) MarkEmailSent(ctx context.Context, id int64, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	err := s.db.gorm.WithContext(ctx).Model(&outboxRecord{}).Where("id = ?", id).
		Updates(map[string]any{"status": app.OutboxSent, "sent_at": at, "last_error": "", "text_body": "", "html_body": "",
			"share_link": "", "attempts": gorm.Expr("attempts + 1")}).Error
	if err != nil {
		return fmt.Errorf("mark email %d sent: %w", id, err)
	}
	return nil
}

// MarkEmailFailed records a failed attempt. A zero retryAt gives up.
func (s *OutboxService) MarkEmailFailed(ctx context.Context, id int64, errMsg string, retryAt time.Time) error {
	upd := map[string]any{"last_error": truncate(errMsg, 1000), "attempts": gorm.Expr("attempts + 1")}
	if retryAt.IsZero() {
		upd["status"] = app.OutboxFailed
	} else {
		upd["next_attempt_at"] = retryAt.UTC().Truncate(time.Microsecond)
	}
	if err := s.db.gorm.WithContext(ctx).Model(&outboxRecord{}).Where("id = ?", id).Updates(upd).Error; err != nil {
		return fmt.Errorf("mark email %d failed: %w", id, err)
	}
	return nil
}

// FindOutboxByRef returns the messages queued for ref, newest first.
func (s *OutboxService) FindOutboxByRef(ctx context.Context, ref string) ([]*app.OutboxMessage, error) {
	rs, err := s.db.findOutbox(ctx, qOutboxByRef, ref)
	if err != nil {
		return nil, fmt.Errorf("find emails for %s: %w", ref, err)
	}
	out := make([]*app.OutboxMessage, len(rs))
	for i := range rs {
		out[i] = rs[i].toApp()
	}
	return out, nil
}
