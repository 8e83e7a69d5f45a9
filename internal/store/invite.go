package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"atrium/internal/app"
)

type inviteRecord struct {
	ID              int64
	WorkspaceID     int64
	Email           string
	Role            string
	TokenHash       string
	Status          string
	InvitedByUserID *int64
	// InvitedByAPIKeyID is the key that sent the invite through the API.
	InvitedByAPIKeyID *int64
	ExpiresAt         time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (inviteRecord) TableName() string { return "invites" }

// InviteService implements app.InviteService.
type InviteService struct {
	db   *DB
	mail app.InviteMailLimits
}

// NewInviteService returns the invite service of db.
func NewInviteService(db *DB) *InviteService { return &InviteService{db: db} }

var _ app.InviteService = (*InviteService)(nil)

// CreateInvite stores an invite and queues its email in one transaction.
func (s *InviteService) CreateInvite(ctx context.Context, sc app.Scope, in app.NewInvite, limits app.PlanLimits, compose app.ComposeInvite) (*app.Invite, error) {
	var out *app.Invite
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		m, err := s.db.lockScope(ctx, tx, sc)
		if err != nil {
			return err
		}
		if err := app.CanInvite(app.Role(m.Role), in.Role); err != nil {
			return err
		}
		ws, err := s.db.findWorkspace(ctx, tx, sc.WorkspaceID)
		if err != nil {
			return err
		}
		if err := s.checkInvitable(ctx, tx, sc.WorkspaceID, in.Email); err != nil {
			return err
		}
		used, err := s.db.seatsUsed(ctx, tx, sc.WorkspaceID, s.db.now())
		if err != nil {
			return err
		}
		if err := limits.CheckSeats(ws, used); err != nil {
			return err
		}
		if err := s.checkInviteMail(ctx, tx, 0, in.Email, false); err != nil {
			return err
		}
		now := s.db.now()
		// An expired invite for the address is closed so the new one can
		// stand, and the links of its emails are forgotten.
		if err := forgetShareLinks(tx, tx.Model(&inviteRecord{}).Select("id").
			Where("workspace_id = ? AND email = ? AND status = ?", sc.WorkspaceID, in.Email, app.InvitePending)); err != nil {
			return err
		}
		if err := tx.Model(&inviteRecord{}).Where("workspace_id = ? AND email = ? AND status = ?", sc.WorkspaceID, in.Email, app.InvitePending).
			Updates(map[string]any{"status": app.InviteRevoked, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("close expired invite: %w", err)
		}
		r := inviteRecord{WorkspaceID: sc.WorkspaceID, Email: in.Email, Role: string(in.Role), TokenHash: in.TokenHash,
			Status: app.InvitePending, InvitedByUserID: optionalID(m.UserID), InvitedByAPIKeyID: actingKeyID(ctx), ExpiresAt: in.ExpiresAt.UTC(), CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&r).Error; err != nil {
			if isUniqueViolation(err) {
				return &app.InvitePendingError{Email: in.Email}
			}
			return fmt.Errorf("create invite: %w", err)
		}
		if out, err = s.queueInviteEmail(ctx, tx, r.ID, compose); err != nil {
			return err
		}
		if err := s.recordInviteMail(tx, r.ID, r.Email, false); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: sc.WorkspaceID, Action: app.ActionInviteSent,
			TargetType: "invite", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"email": in.Email, "role": string(in.Role)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queueInviteEmail reads the invite back with its workspace and inviter,
// composes its email in the invitee's saved language (when the address has
// an account), queues it (Ref "invite:<id>", with the accept link as its share
// link) inside tx, and returns the invite describing that new email.
func (s *InviteService) queueInviteEmail(ctx context.Context, tx *gorm.DB, id int64, compose app.ComposeInvite) (*app.Invite, error) {
	inv, err := s.findInvite(ctx, tx, qInviteByID, id)
	if err != nil {
		return nil, err
	}
	// The email is in the language of the account the address belongs
	// to, when there is one and it chose one.
	var lang string
	u, err := scanUser(s.db.queryRow(ctx, tx, qUserByEmail, inv.Email))
	switch {
	case err == nil:
		lang = u.Language
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("find invitee's language: %w", err)
	}
	msg := compose(inv, lang)
	msg.Ref = fmt.Sprintf("invite:%d", id)
	msg.LinkExpiresAt = inv.ExpiresAt
	r := s.db.newOutboxRecord(msg.Email)
	r.InviteID, r.ShareLink = &id, msg.Link
	if err := s.db.queueOutbox(tx, &r); err != nil {
		return nil, err
	}
	// inv was read before this email existed: describe the new one.
	inv.Delivery, inv.DeliveryError, inv.ShareLink = app.OutboxPending, "", msg.Link
	return inv, nil
}

// forgetShareLinks clears the share links of the emails of invites, an id
// or a subquery of ids: their accept links no longer work (the invite was
// resent, accepted, declined, revoked or closed as expired), so no one
// should pass them on.
func forgetShareLinks(tx *gorm.DB, invites any) error {
	if err := tx.Model(&outboxRecord{}).Where("invite_id IN (?) AND share_link <> ''", invites).
		Update("share_link", "").Error; err != nil {
		return fmt.Errorf("forget share links: %w", err)
	}
	return nil
}

// checkInvitable refuses an address that is already a member or has a
// pending, unexpired invite.
func (s *InviteService) checkInvitable(ctx context.Context, tx *gorm.DB, workspaceID int64, email string) error {
	members, err := s.db.countOf(ctx, tx, qMemberWithEmail, workspaceID, email)
	if err != nil {
		return fmt.Errorf("check membership: %w", err)
	}
	if members > 0 {
		member := app.Errorf(app.ECONFLICT, "%s is already a member of this workspace.", email)
		member.Field = "email"
		return member
	}
	pending, err := s.db.countOf(ctx, tx, qPendingInviteTo, workspaceID, email, s.db.now())
	if err != nil {
		return fmt.Errorf("check invites: %w", err)
	}
	if pending > 0 {
		return &app.InvitePendingError{Email: email}
	}
	return nil
}

// inviteForPrincipal loads an invite by key inside tx and checks that it
// is pending, unexpired and addressed to the principal.
func (s *InviteService) inviteForPrincipal(ctx context.Context, tx *gorm.DB, key app.InviteKey) (*inviteRecord, *userRecord, error) {
	uid, err := actor(ctx)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.db.findUser(ctx, tx, uid, app.Errorf(app.ENOTFOUND, "Your account no longer exists."))
	if err != nil {
		return nil, nil, err
	}
	var r *inviteRecord
	if key.TokenHash != "" {
		r, err = scanInviteRecord(s.db.queryRow(ctx, tx, qInviteRecByToken, key.TokenHash))
	} else {
		// By id: only the invitee's own invites exist for them.
		r, err = scanInviteRecord(s.db.queryRow(ctx, tx, qInviteRecOfEmail, key.ID, u.Email))
	}
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, app.Errorf(app.ENOTFOUND, "This invite link is not valid.")
		}
		return nil, nil, fmt.Errorf("find invite: %w", err)
	}
	if r.Email != u.Email {
		return nil, nil, app.Errorf(app.EFORBIDDEN, "This invite was sent to another email address.")
	}
	inv := app.Invite{Status: r.Status, ExpiresAt: r.ExpiresAt}
	switch inv.State(s.db.now()) {
	case app.InvitePending:
		return r, u, nil
	case app.InviteExpired:
		return nil, nil, app.Errorf(app.EINVALID, "This invite has expired.")
	case app.InviteAccepted:
		return nil, nil, app.Errorf(app.ECONFLICT, "This invite has already been accepted.")
	case app.InviteDeclined:
		return nil, nil, app.Errorf(app.ECONFLICT, "This invite was declined.")
	default:
		return nil, nil, app.Errorf(app.ECONFLICT, "This invite was withdrawn.")
	}
}

// AcceptInvite makes the principal a member exactly once: the conditional
// status update is the guard against double clicks and racing tabs. The
// seat check counts members with the workspace locked (Postgres; SQLite
// writes one transaction at a time), so two invitees cannot both take the
// last seat.
func (s *InviteService) AcceptInvite(ctx context.Context, key app.InviteKey, limits app.PlanLimits) (*app.Workspace, error) {
	var ws *app.Workspace
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		r, u, err := s.inviteForPrincipal(ctx, tx, key)
		if err != nil {
			return err
		}
		if err := s.checkJoin(ctx, tx, r.WorkspaceID, limits); err != nil {
			return err
		}
		now := s.db.now()
		res := tx.Model(&inviteRecord{}).Where("id = ? AND status = ?", r.ID, app.InvitePending).
			Updates(map[string]any{"status": app.InviteAccepted, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("accept invite: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ECONFLICT, "This invite has already been accepted.")
		}
		if err := forgetShareLinks(tx, r.ID); err != nil {
			return err
		}
		m := membershipRecord{WorkspaceID: r.WorkspaceID, UserID: u.ID, Role: r.Role, CreatedAt: now, UpdatedAt: now}
		added := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "workspace_id"}, {Name: "user_id"}}, DoNothing: true}).
			Create(&m)
		if added.Error != nil {
			return fmt.Errorf("add member: %w", added.Error)
		}
		if added.RowsAffected > 0 {
			if err := s.db.queueSeatSync(ctx, tx, r.WorkspaceID); err != nil {
				return err
			}
		}
		if ws, err = s.db.findWorkspace(ctx, tx, r.WorkspaceID); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: r.WorkspaceID, ActorID: u.ID, Action: app.ActionInviteAccepted,
			TargetType: "invite", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"email": r.Email, "role": r.Role}})
	})
	return ws, err
}

// checkJoin locks the workspace and checks it has a seat for one more
// member.
func (s *InviteService) checkJoin(ctx context.Context, tx *gorm.DB, workspaceID int64, limits app.PlanLimits) error {
	ws, err := scanWorkspace(s.db.queryRow(ctx, tx, qWorkspaceLocked, workspaceID))
	if err != nil {
		return notFound(err, app.Errorf(app.ENOTFOUND, "Workspace not found."), "find workspace")
	}
	members, err := s.db.countOf(ctx, tx, qMemberCount, workspaceID)
	if err != nil {
		return fmt.Errorf("count members: %w", err)
	}
	return limits.CheckJoin(ws, int(members))
}

// DeclineInvite declines an invite addressed to the principal.
func (s *InviteService) DeclineInvite(ctx context.Context, key app.InviteKey) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		r, u, err := s.inviteForPrincipal(ctx, tx, key)
		if err != nil {
			return err
		}
		res := tx.Model(&inviteRecord{}).Where("id = ? AND status = ?", r.ID, app.InvitePending).
			Updates(map[string]any{"status": app.InviteDeclined, "updated_at": s.db.now()})
		if res.Error != nil {
			return fmt.Errorf("decline invite: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ECONFLICT, "This invite is no longer pending.")
		}
		if err := forgetShareLinks(tx, r.ID); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: r.WorkspaceID, ActorID: u.ID, Action: app.ActionInviteDeclined,
			TargetType: "invite", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"email": r.Email}})
	})
}

// pendingInvite loads a pending invite of the workspace after checking the
// principal may manage invites there.
func (s *InviteService) pendingInvite(ctx context.Context, tx *gorm.DB, sc app.Scope, inviteID int64) (*inviteRecord, error) {
	m, err := s.db.lockScope(ctx, tx, sc)
	if err != nil {
		return nil, err
	}
	if err := app.CanManageInvites(app.Role(m.Role)); err != nil {
		return nil, err
	}
	// Scoped by workspace: another tenant's invite id is simply not found.
	r, err := scanInviteRecord(s.db.queryRow(ctx, tx, qInviteRecOf, withScope(sc, []any{inviteID, sc.WorkspaceID})...))
	if err != nil {
		return nil, notFound(err, app.Errorf(app.ENOTFOUND, "Invite not found."), "find invite")
	}
	if r.Status != app.InvitePending {
		return nil, app.Errorf(app.ECONFLICT, "This invite is no longer pending.")
	}
	return r, nil
}

// RevokeInvite withdraws a pending invite.
func (s *InviteService) RevokeInvite(ctx context.Context, sc app.Scope, inviteID int64) error {
	workspaceID := sc.WorkspaceID
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := s.pendingInvite(ctx, tx, sc, inviteID)
		if err != nil {
			return err
		}
		if err := tx.Model(&inviteRecord{}).Where("id = ?", r.ID).
			Updates(map[string]any{"status": app.InviteRevoked, "updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("revoke invite: %w", err)
		}
		if err := forgetShareLinks(tx, r.ID); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionInviteRevoked,
			TargetType: "invite", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"email": r.Email}})
	})
}

// ResendInvite replaces a pending invite's token (voiding the old link),
// extends it, and queues a new email.
func (s *InviteService) ResendInvite(ctx context.Context, sc app.Scope, inviteID int64, tokenHash string, expiresAt time.Time, limits app.PlanLimits, compose app.ComposeInvite) (*app.Invite, error) {
	var out *app.Invite
	workspaceID := sc.WorkspaceID
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := s.pendingInvite(ctx, tx, sc, inviteID)
		if err != nil {
			return err
		}
		if now := s.db.now(); !r.ExpiresAt.After(now) {
			// An expired invite holds no seat; renewing it takes one again.
			ws, err := s.db.findWorkspace(ctx, tx, workspaceID)
			if err != nil {
				return err
			}
			used, err := s.db.seatsUsed(ctx, tx, workspaceID, now)
			if err != nil {
				return err
			}
			if err := limits.CheckSeats(ws, used); err != nil {
				return err
			}
		}
		if err := s.checkInviteMail(ctx, tx, r.ID, r.Email, true); err != nil {
			return err
		}
		if err := tx.Model(&inviteRecord{}).Where("id = ?", r.ID).Updates(map[string]any{
			"token_hash": tokenHash, "expires_at": expiresAt.UTC(), "updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("resend invite: %w", err)
		}
		if err := forgetShareLinks(tx, r.ID); err != nil {
			return err
		}
		if out, err = s.queueInviteEmail(ctx, tx, r.ID, compose); err != nil {
			return err
		}
		if err := s.recordInviteMail(tx, r.ID, r.Email, true); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionInviteResent,
			TargetType: "invite", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"email": r.Email}})
	})
	return out, err
}
