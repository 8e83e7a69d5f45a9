package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// inviteSendRecord is one invite email, kept for InviteMailLimits. The
// address is stored as its hash only.
type inviteSendRecord struct {
	ID        int64
	InviteID  int64
	AddrHash  string
	Resend    bool
	CreatedAt time.Time
}

func (inviteSendRecord) TableName() string { return "invite_sends" }

// qInviteSends reads the invite emails sent to an address since a time,
// oldest first.
const qInviteSends = "invite_sends_of_address"

// inviteMailQueries are the catalog's statements of the invite mail
// limits.
var inviteMailQueries = map[string]hotQuery{
	qInviteSends: {SQL: `SELECT id, invite_id, addr_hash, resend, created_at FROM invite_sends
		WHERE addr_hash = ? AND created_at > ? ORDER BY created_at, id`,
		BoundedSort: "the invite emails of one address within the limits' window"},
}

// scanInviteSend reads a row of qInviteSends.
func scanInviteSend(sc scanner) (*inviteSendRecord, error) {
	var r inviteSendRecord
	if err := scanRow(sc, &r.ID, &r.InviteID, &r.AddrHash, &r.Resend, &r.CreatedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

// inviteSends returns the invite emails sent to an address hash since a
// time, oldest first, inside tx.
func (db *DB) inviteSends(ctx context.Context, tx *gorm.DB, hash string, since time.Time) ([]*inviteSendRecord, error) {
	rows, err := db.query(ctx, tx, qInviteSends, hash, since)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []*inviteSendRecord
	for rows.Next() {
		r, err := scanInviteSend(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// inviteSendRetention keeps invite_sends rows a little past the window the
// limits count over.
const inviteSendRetention = 2 * app.InviteMailWindow

// WithMailLimits returns a copy of s that limits invite emails by l
// (creating and resending invites). NewInviteService limits nothing.
func (s *InviteService) WithMailLimits(l app.InviteMailLimits) *InviteService {
	c := *s
	c.mail = l
	return &c
}

// checkInviteMail checks the mail limits for an email of invite inviteID
// (0 for a new invite) to email. On Postgres it first takes a transaction
// lock on the address, so that concurrent sends to it, from any workspace
// and any instance, are counted one after the other; SQLite's write
// transactions are serial already.
func (s *InviteService) checkInviteMail(ctx context.Context, tx *gorm.DB, inviteID int64, email string, resend bool) error {
	if s.mail == (app.InviteMailLimits{}) {
		return nil
	}
	hash := app.HashToken(email)
	if s.db.dialect == Postgres {
		sum := sha256.Sum256([]byte("invite-mail:" + hash))
		key := int64(binary.BigEndian.Uint64(sum[:8]))
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", key).Error; err != nil {
			return fmt.Errorf("lock invite mail of address: %w", err)
		}
	}
	now := s.db.now()
	since := now.Add(-app.InviteMailWindow)
	var h app.InviteMailHistory
	sends, err := s.db.inviteSends(ctx, tx, hash, since)
	if err != nil {
		return fmt.Errorf("read invite mail of address: %w", err)
	}
	for _, r := range sends {
		h.Address = append(h.Address, r.CreatedAt.UTC())
		if inviteID != 0 && r.InviteID == inviteID {
			h.Invite = append(h.Invite, r.CreatedAt.UTC())
			if r.Resend {
				h.Resends = append(h.Resends, r.CreatedAt.UTC())
			}
		}
	}
	return s.mail.CheckInviteMail(now, h, resend)
}

// recordInviteMail notes an invite email for the limits.
func (s *InviteService) recordInviteMail(tx *gorm.DB, inviteID int64, email string, resend bool) error {
	r := inviteSendRecord{InviteID: inviteID, AddrHash: app.HashToken(email), Resend: resend, CreatedAt: s.db.now()}
	if err := tx.Create(&r).Error; err != nil {
		return fmt.Errorf("record invite email: %w", err)
	}
	return nil
}
