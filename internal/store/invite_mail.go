package store

import (
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
func (s *InviteService) checkInviteMail(tx *gorm.DB, inviteID int64, email string, resend bool) error {
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
	var sends []inviteSendRecord
	if err := tx.Where("addr_hash = ? AND created_at > ?", hash, since).Order("created_at, id").Find(&sends).Error; err != nil {
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
