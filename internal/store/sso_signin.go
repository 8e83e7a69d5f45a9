package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"atrium/internal/app"
)

// Signing in through a workspace's own identity provider, and the reads
// the sign-in page and every workspace page make (sso.go keeps the
// owners' settings).

// connection builds a workspace's connection for signing in, the secret
// opened; nil when the workspace has none or its plan lacks single sign-on.
func (s *SSOService) connection(ctx context.Context, workspaceID int64) (*app.SSOConnection, error) {
	r, err := findSSO(s.db.gorm.WithContext(ctx), workspaceID)
	if err != nil || r == nil {
		return nil, err
	}
	ws, err := s.db.findWorkspace(ctx, nil, workspaceID)
	if err != nil {
		return nil, err
	}
	if !s.entitled(ws) {
		return nil, nil
	}
	secret, err := s.box.Open(r.ClientSecret)
	if err != nil {
		return nil, fmt.Errorf("open client secret of workspace %d: %w", workspaceID, err)
	}
	return &app.SSOConnection{WorkspaceID: ws.ID, WorkspaceSlug: ws.Slug, WorkspaceName: ws.Name, Issuer: r.Issuer,
		ClientID: r.ClientID, ClientSecret: secret, JIT: r.JIT, JITRole: app.Role(r.JITRole), IdPMFACounts: r.IdPMFACounts}, nil
}

// verifiedOwner returns the workspace that verified domain, or 0; tx may
// be nil.
func (s *SSOService) verifiedOwner(ctx context.Context, tx *gorm.DB, domain string) (int64, error) {
	var id int64
	err := s.db.queryRow(ctx, tx, qSSODomainOwner, domain).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("find verified domain: %w", err)
	}
	return id, nil
}

// ConnectionForEmail returns the connection of the workspace that verified
// the address's domain, or nil.
func (s *SSOService) ConnectionForEmail(ctx context.Context, email string) (*app.SSOConnection, error) {
	wsID, err := s.verifiedOwner(ctx, nil, app.EmailDomain(email))
	if err != nil || wsID == 0 {
		return nil, err
	}
	return s.connection(ctx, wsID)
}

// ConnectionFor returns a workspace's connection, or ENOTFOUND.
func (s *SSOService) ConnectionFor(ctx context.Context, workspaceID int64) (*app.SSOConnection, error) {
	c, err := s.connection(ctx, workspaceID)
	if err == nil && c == nil {
		return nil, errSSONone
	}
	return c, err
}

// errSSOWrongDomain refuses an identity whose address is outside the
// workspace's verified domains.
var errSSOWrongDomain = app.Errorf(app.EFORBIDDEN,
	"Your identity provider signed you in with an address outside the domains this workspace verified, so you are not signed in. Sign in with your work address.")

// SignInWithSSO signs in through a workspace's provider (see
// app.SSOService). The workspace verified the address's domain, so the
// provider is trusted for it: the account of that address is found or
// made, and the identity linked to it.
func (s *SSOService) SignInWithSSO(ctx context.Context, conn *app.SSOConnection, id app.ExternalIdentity, idpMFA bool, next string, ns app.NewSession) (*app.SSOSignIn, error) {
	res := &app.SSOSignIn{}
	secondFactor := false
	now := s.db.now()
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if id.Email == "" {
			return errSSOWrongDomain
		}
		owner, err := s.verifiedOwner(ctx, tx, app.EmailDomain(id.Email))
		if err != nil {
			return err
		}
		if owner != conn.WorkspaceID {
			return errSSOWrongDomain
		}
		ids := &IdentityService{db: s.db, Notice: s.Notice}
		known, err := ids.findIdentity(ctx, tx, id.Issuer, id.Subject)
		if err != nil {
			return err
		}
		auth := &AuthService{db: s.db}
		u, created, err := auth.findOrCreateUser(ctx, tx, id.Email, ns.TimeZone, now)
		if err != nil {
			return err
		}
		res.User, res.NewUser = u, created
		if created {
			if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: u.ID, Action: app.ActionUserCreated,
				TargetType: "user", TargetID: fmt.Sprint(u.ID), Metadata: map[string]any{"provider": providerWord(id.Provider)}}); err != nil {
				return err
			}
		}
		switch {
		case known != nil && known.UserID != u.ID:
			// The provider's person now has another address: the account
			// of the old one is not theirs to sign in to by this one.
			return app.Errorf(app.ECONFLICT, "This identity provider account is linked to another Atrium account. Ask your workspace owner to check the address your provider gives.")
		case known != nil:
			if err := tx.Model(&identityRecord{}).Where("id = ?", known.ID).Update("last_used_at", now).Error; err != nil {
				return fmt.Errorf("use identity: %w", err)
			}
		default:
			if _, err := ids.link(ctx, tx, u, id, &now); err != nil {
				if errors.Is(err, app.ErrIdentityTaken) {
					return errIdentityRaced
				}
				return err
			}
		}
		if conn.JIT {
			joined, err := s.join(ctx, tx, conn, u, now)
			if app.ErrorCode(err) == app.EFORBIDDEN || app.ErrorCode(err) == app.ECONFLICT {
				res.JoinRefused = app.ErrorMessage(err)
			} else if err != nil {
				return err
			}
			res.Joined = joined
		}
		ns.SSOWorkspaceID = conn.WorkspaceID
		ns.IdPMFA = idpMFA && conn.IdPMFACounts
		if u.TwoFactor && !ns.IdPMFA {
			if ns.PendingHash == "" {
				return fmt.Errorf("sso sign-in: user %d has a second factor but no pending token was given", u.ID)
			}
			data, _ := json.Marshal(pendingData{Next: next, First: app.MethodSSO, SSOWorkspace: conn.WorkspaceID})
			if err := tx.Create(&challengeRecord{TokenHash: ns.PendingHash, Purpose: app.PurposeSecondFactor, UserID: &u.ID,
				Data: string(data), CreatedAt: now, ExpiresAt: now.Add(app.SecondFactorTTL)}).Error; err != nil {
				return fmt.Errorf("store pending sign-in: %w", err)
			}
			secondFactor = true
			return nil
		}
		return s.db.startSession(ctx, tx, u, ns, app.MethodSSO, created)
	})
	if err != nil {
		return nil, err
	}
	if secondFactor {
		return res, app.ErrSecondFactorRequired
	}
	return res, nil
}

// join makes u a member of the connection's workspace as its JIT role,
// unless they are one; it reports whether they joined.
func (s *SSOService) join(ctx context.Context, tx *gorm.DB, conn *app.SSOConnection, u *app.User, now time.Time) (bool, error) {
	role := conn.JITRole
	if role != app.RoleAdmin {
		role = app.RoleMember
	}
	var member int64
	if err := tx.Model(&membershipRecord{}).Where("workspace_id = ? AND user_id = ?", conn.WorkspaceID, u.ID).Count(&member).Error; err != nil {
		return false, fmt.Errorf("find membership: %w", err)
	}
	if member > 0 {
		return false, nil
	}
	// The seat check locks the workspace, as accepting an invite does.
	if err := (&InviteService{db: s.db}).checkJoin(ctx, tx, conn.WorkspaceID, conn.Limits); err != nil {
		return false, err
	}
	m := membershipRecord{WorkspaceID: conn.WorkspaceID, UserID: u.ID, Role: string(role), CreatedAt: now, UpdatedAt: now}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "workspace_id"}, {Name: "user_id"}}, DoNothing: true}).Create(&m)
	if res.Error != nil {
		return false, fmt.Errorf("join by sso: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	if err := s.db.queueSeatSync(ctx, tx, conn.WorkspaceID); err != nil {
		return false, err
	}
	return true, s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: conn.WorkspaceID, ActorID: u.ID, ActorEmail: u.Email, ActorName: u.Name,
		Action: app.ActionSSOJoined, TargetType: "user", TargetID: fmt.Sprint(u.ID),
		Metadata: map[string]any{"email": u.Email, "role": string(role)}})
}

// SSORequired reports whether the workspace requires single sign-on of
// the address: one indexed read of the workspace's connection and the
// domain.
func (s *SSOService) SSORequired(ctx context.Context, workspaceID int64, email string) (bool, error) {
	var ws app.Workspace
	err := s.db.queryRow(ctx, nil, qSSORequired, app.EmailDomain(email), workspaceID).Scan(&ws.Plan, &ws.SubscriptionStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read sso requirement: %w", err)
	}
	return s.entitled(&ws), nil
}

// RecordBreakGlass audits an owner's break-glass entry once per session
// and workspace.
func (s *SSOService) RecordBreakGlass(ctx context.Context, sc app.Scope, sessionID int64) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		m, err := s.db.lockMemberScope(ctx, tx, sc)
		if err != nil {
			return err
		}
		if app.Role(m.Role) != app.RoleOwner {
			return app.Errorf(app.EFORBIDDEN, "Only owners may open the workspace without single sign-on.")
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&breakGlassRecord{SessionID: sessionID, WorkspaceID: sc.WorkspaceID, CreatedAt: s.db.now()})
		if res.Error != nil {
			return fmt.Errorf("record break-glass: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: sc.WorkspaceID, Action: app.ActionSSOBreakGlass,
			TargetType: "workspace", TargetID: fmt.Sprint(sc.WorkspaceID), Metadata: map[string]any{"session_id": sessionID}})
	})
}

// DisableSSO turns "require single sign-on" off for an operator.
func (s *SSOService) DisableSSO(ctx context.Context, slug, reason string) (*app.Workspace, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, app.FieldErrorf("reason", "Give the reason (for example, the support ticket).")
	}
	var ws *app.Workspace
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Table("workspaces").Where("slug = ?", slug).Limit(1).Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("find workspace %q: %w", slug, err)
		}
		if len(ids) == 0 {
			return app.Errorf(app.ENOTFOUND, "No workspace has the slug %q.", slug)
		}
		var err error
		if ws, err = s.db.findWorkspace(ctx, tx, ids[0]); err != nil {
			return err
		}
		r, err := findSSO(tx, ws.ID)
		if err != nil {
			return err
		}
		if r == nil || !r.RequireSSO {
			return app.Errorf(app.ECONFLICT, "The workspace %q does not require single sign-on.", slug)
		}
		if err := tx.Model(&ssoRecord{}).Where("workspace_id = ?", ws.ID).
			Updates(map[string]any{"require_sso": false, "updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("turn sso off: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: ws.ID, Action: app.ActionSSODisabled, ActorName: "An operator",
			TargetType: "workspace", TargetID: fmt.Sprint(ws.ID), Metadata: map[string]any{"reason": reason}})
	})
	return ws, err
}
