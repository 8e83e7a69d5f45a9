package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
	"atrium/internal/seal"
)

// ssoRecord is a row of workspace_sso: a workspace's identity provider
// connection, its client secret sealed.
type ssoRecord struct {
	WorkspaceID  int64 `gorm:"primaryKey;autoIncrement:false"`
	Issuer       string
	ClientID     string
	ClientSecret string
	RequireSSO   bool `gorm:"column:require_sso"`
	JIT          bool `gorm:"column:jit"`
	JITRole      string
	IdPMFACounts bool `gorm:"column:idp_mfa_counts"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (ssoRecord) TableName() string { return "workspace_sso" }

func (r *ssoRecord) toApp() *app.WorkspaceSSO {
	return &app.WorkspaceSSO{WorkspaceID: r.WorkspaceID, Issuer: r.Issuer, ClientID: r.ClientID, HasSecret: r.ClientSecret != "",
		RequireSSO: r.RequireSSO, JIT: r.JIT, JITRole: app.Role(r.JITRole), IdPMFACounts: r.IdPMFACounts,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// domainRecord is a row of workspace_domains.
type domainRecord struct {
	ID          int64
	WorkspaceID int64
	Domain      string
	Token       string
	CreatedAt   time.Time
	VerifiedAt  *time.Time
}

func (domainRecord) TableName() string { return "workspace_domains" }

func (r *domainRecord) toApp() *app.WorkspaceDomain {
	d := &app.WorkspaceDomain{ID: r.ID, WorkspaceID: r.WorkspaceID, Domain: r.Domain, Token: r.Token, CreatedAt: r.CreatedAt.UTC()}
	if r.VerifiedAt != nil {
		t := r.VerifiedAt.UTC()
		d.VerifiedAt = &t
	}
	return d
}

// breakGlassRecord is a row of sso_break_glass.
type breakGlassRecord struct {
	SessionID   int64 `gorm:"primaryKey;autoIncrement:false"`
	WorkspaceID int64 `gorm:"primaryKey;autoIncrement:false"`
	CreatedAt   time.Time
}

func (breakGlassRecord) TableName() string { return "sso_break_glass" }

// The single sign-on statements on the hot paths: every workspace page
// asks whether the workspace requires single sign-on of the viewer, and
// every sign-in asks which workspace verified the address's domain.
const (
	qSSORequired    = "sso_required"
	qSSODomainOwner = "sso_domain_owner"
)

// ssoQueries are the catalog's single sign-on statements. A workspace
// whose plan no longer includes single sign-on stops requiring it (its
// owners can no longer reach the settings to change it).
var ssoQueries = map[string]hotQuery{
	qSSORequired: {SQL: `SELECT w.plan, w.subscription_status FROM workspace_sso s
		JOIN workspace_domains d ON d.workspace_id = s.workspace_id AND d.domain = ? AND d.verified_at IS NOT NULL
		JOIN workspaces w ON w.id = s.workspace_id
		WHERE s.workspace_id = ? AND s.require_sso`},
	qSSODomainOwner: {SQL: `SELECT workspace_id FROM workspace_domains WHERE domain = ? AND verified_at IS NOT NULL`},
}

// SSOService implements app.SSOService.
type SSOService struct {
	db  *DB
	box *seal.Box
	// plans says which workspaces may use single sign-on (app.FeatureSSO).
	plans *app.Catalog
	// Notice builds the email telling a user that an account now signs in
	// to theirs (as IdentityService.Notice); nil sends none.
	Notice func(to, lang string, change app.Sentence) app.Email
}

// NewSSOService returns the single sign-on service of db; key (32 bytes)
// seals the client secrets, as authenticator secrets are sealed, and plans
// says which workspaces' plans include single sign-on.
func NewSSOService(db *DB, key []byte, plans *app.Catalog) *SSOService {
	return &SSOService{db: db, box: seal.New(key), plans: plans}
}

// entitled reports whether ws's plan in force includes single sign-on.
func (s *SSOService) entitled(ws *app.Workspace) bool { return s.plans.CanUse(ws, app.FeatureSSO) }

var _ app.SSOService = (*SSOService)(nil)

// Refusals.
var (
	errSSONotPro  = app.Errorf(app.EFORBIDDEN, "Single sign-on isn’t part of this workspace’s plan. Upgrade the workspace to set it up.")
	errSSONone    = app.Errorf(app.ENOTFOUND, "This workspace has no single sign-on connection yet.")
	errDomainNF   = app.Errorf(app.ENOTFOUND, "That domain isn’t one of this workspace’s.")
	errDomainHeld = &app.Error{Code: app.ECONFLICT, Field: "domain",
		Message: "Another workspace has already verified this domain, so it can’t be verified here."}
	errRequireNeedsDomain = &app.Error{Code: app.EINVALID, Field: "require_sso",
		Message: "Verify a domain first: single sign-on is required of the members whose address is in a verified domain."}
)

// lockOwner checks inside tx that the scope's user is an owner of a
// workspace whose plan includes single sign-on, and returns the workspace.
func (s *SSOService) lockOwner(ctx context.Context, tx *gorm.DB, sc app.Scope) (*app.Workspace, error) {
	m, err := s.db.lockMemberScope(ctx, tx, sc)
	if err != nil {
		return nil, err
	}
	if err := app.CanManageSSO(app.Role(m.Role)); err != nil {
		return nil, err
	}
	ws, err := s.db.findWorkspace(ctx, tx, sc.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if !s.entitled(ws) {
		return nil, errSSONotPro
	}
	return ws, nil
}

// findSSO returns the workspace's connection in tx, or nil.
func findSSO(tx *gorm.DB, workspaceID int64) (*ssoRecord, error) {
	var rs []ssoRecord
	if err := tx.Where("workspace_id = ?", workspaceID).Limit(1).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("find sso connection: %w", err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return &rs[0], nil
}

// FindSSO returns the workspace's connection and domains (owners only).
func (s *SSOService) FindSSO(ctx context.Context, sc app.Scope) (*app.WorkspaceSSO, []*app.WorkspaceDomain, error) {
	var (
		conn *app.WorkspaceSSO
		out  []*app.WorkspaceDomain
	)
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockOwner(ctx, tx, sc); err != nil {
			return err
		}
		r, err := findSSO(tx, sc.WorkspaceID)
		if err != nil {
			return err
		}
		if r != nil {
			conn = r.toApp()
		}
		var ds []domainRecord
		if err := tx.Where("workspace_id = ?", sc.WorkspaceID).Find(&ds).Error; err != nil {
			return fmt.Errorf("find sso domains: %w", err)
		}
		for i := range ds {
			out = append(out, ds[i].toApp())
		}
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Verified() != out[j].Verified() {
				return out[i].Verified()
			}
			return out[i].Domain < out[j].Domain
		})
		return nil
	})
	return conn, out, err
}

// SaveSSOConnection stores the connection (owners of Pro workspaces).
func (s *SSOService) SaveSSOConnection(ctx context.Context, sc app.Scope, issuer, clientID, secret string) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		ws, err := s.lockOwner(ctx, tx, sc)
		if err != nil {
			return err
		}
		r, err := findSSO(tx, ws.ID)
		if err != nil {
			return err
		}
		if secret == "" && (r == nil || r.ClientSecret == "") {
			return app.FieldErrorf("client_secret", "Enter the client secret your identity provider gave this app.")
		}
		sealed := ""
		if secret != "" {
			if sealed, err = s.box.Seal(secret); err != nil {
				return fmt.Errorf("seal client secret: %w", err)
			}
		}
		now := s.db.now()
		if r == nil {
			r = &ssoRecord{WorkspaceID: ws.ID, Issuer: issuer, ClientID: clientID, ClientSecret: sealed,
				JITRole: string(app.RoleMember), CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(r).Error; err != nil {
				return fmt.Errorf("create sso connection: %w", err)
			}
		} else {
			upd := map[string]any{"issuer": issuer, "client_id": clientID, "updated_at": now}
			if sealed != "" {
				upd["client_secret"] = sealed
			}
			if err := tx.Model(&ssoRecord{}).Where("workspace_id = ?", ws.ID).Updates(upd).Error; err != nil {
				return fmt.Errorf("update sso connection: %w", err)
			}
		}
		md := map[string]any{"issuer": issuer, "client_id": clientID, "new_secret": yesNo(secret != "")}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: ws.ID, Action: app.ActionSSOConfigured,
			TargetType: "workspace", TargetID: fmt.Sprint(ws.ID), Metadata: md})
	})
}

// SetSSOSettings changes the connection's options (owners of Pro
// workspaces). Requiring single sign-on needs a verified domain.
func (s *SSOService) SetSSOSettings(ctx context.Context, sc app.Scope, set app.SSOSettings) error {
	if set.JITRole == "" {
		set.JITRole = app.RoleMember
	}
	if set.JITRole != app.RoleMember && set.JITRole != app.RoleAdmin {
		return app.FieldErrorf("jit_role", "Choose Member or Admin for the people who join on their first sign-in.")
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		ws, err := s.lockOwner(ctx, tx, sc)
		if err != nil {
			return err
		}
		r, err := findSSO(tx, ws.ID)
		if err != nil {
			return err
		}
		if r == nil {
			return errSSONone
		}
		if set.RequireSSO {
			var n int64
			if err := tx.Model(&domainRecord{}).Where("workspace_id = ? AND verified_at IS NOT NULL", ws.ID).Count(&n).Error; err != nil {
				return fmt.Errorf("count verified domains: %w", err)
			}
			if n == 0 {
				return errRequireNeedsDomain
			}
		}
		if r.RequireSSO == set.RequireSSO && r.JIT == set.JIT && app.Role(r.JITRole) == set.JITRole && r.IdPMFACounts == set.IdPMFACounts {
			return nil
		}
		if err := tx.Model(&ssoRecord{}).Where("workspace_id = ?", ws.ID).Updates(map[string]any{
			"require_sso": set.RequireSSO, "jit": set.JIT, "jit_role": string(set.JITRole),
			"idp_mfa_counts": set.IdPMFACounts, "updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("update sso settings: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: ws.ID, Action: app.ActionSSOSettings,
			TargetType: "workspace", TargetID: fmt.Sprint(ws.ID), Metadata: map[string]any{
				"require_sso": yesNo(set.RequireSSO), "jit": yesNo(set.JIT), "jit_role": string(set.JITRole),
				"idp_mfa_counts": yesNo(set.IdPMFACounts)}})
	})
}

// yesNo words a flag for an audit summary.
func yesNo(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// AddSSODomain claims a domain for the workspace with a fresh token.
func (s *SSOService) AddSSODomain(ctx context.Context, sc app.Scope, domain string) (*app.WorkspaceDomain, error) {
	var out *app.WorkspaceDomain
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		ws, err := s.lockOwner(ctx, tx, sc)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&domainRecord{}).Where("workspace_id = ?", ws.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("count sso domains: %w", err)
		}
		if n >= app.MaxSSODomains {
			return app.FieldErrorf("domain", "A workspace can claim at most %d domains. Remove one first.", app.MaxSSODomains)
		}
		var held int64
		if err := tx.Model(&domainRecord{}).Where("domain = ? AND verified_at IS NOT NULL AND workspace_id <> ?", domain, ws.ID).
			Count(&held).Error; err != nil {
			return fmt.Errorf("find verified domain: %w", err)
		}
		if held > 0 {
			return errDomainHeld
		}
		token, _ := app.NewToken()
		r := domainRecord{WorkspaceID: ws.ID, Domain: domain, Token: token, CreatedAt: s.db.now()}
		if err := tx.Create(&r).Error; err != nil {
			if isUniqueViolation(err) {
				return &app.Error{Code: app.ECONFLICT, Field: "domain", Message: "This workspace has already added " + domain + "."}
			}
			return fmt.Errorf("add sso domain: %w", err)
		}
		out = r.toApp()
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: ws.ID, Action: app.ActionSSODomainAdded,
			TargetType: "workspace", TargetID: fmt.Sprint(ws.ID), Metadata: map[string]any{"domain": domain}})
	})
	return out, err
}

// takeDomain reads the workspace's domain id in tx, or errDomainNF.
func takeDomain(tx *gorm.DB, workspaceID, id int64) (*domainRecord, error) {
	var rs []domainRecord
	if err := tx.Where("id = ? AND workspace_id = ?", id, workspaceID).Limit(1).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("find sso domain: %w", err)
	}
	if len(rs) == 0 {
		return nil, errDomainNF
	}
	return &rs[0], nil
}

// MarkSSODomainVerified records a domain's proof.
func (s *SSOService) MarkSSODomainVerified(ctx context.Context, sc app.Scope, domainID int64) (*app.WorkspaceDomain, error) {
	var out *app.WorkspaceDomain
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		ws, err := s.lockOwner(ctx, tx, sc)
		if err != nil {
			return err
		}
		r, err := takeDomain(tx, ws.ID, domainID)
		if err != nil {
			return err
		}
		if r.VerifiedAt != nil {
			out = r.toApp()
			return nil
		}
		now := s.db.now()
		// The partial unique index refuses a second verified row for the
		// domain; a savepoint keeps the transaction usable on PostgreSQL.
		err = tx.Transaction(func(sp *gorm.DB) error {
			return sp.Model(&domainRecord{}).Where("id = ?", r.ID).Update("verified_at", now).Error
		})
		if isUniqueViolation(err) {
			return errDomainHeld
		} else if err != nil {
			return fmt.Errorf("verify sso domain: %w", err)
		}
		r.VerifiedAt = &now
		out = r.toApp()
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: ws.ID, Action: app.ActionSSODomainVerified,
			TargetType: "workspace", TargetID: fmt.Sprint(ws.ID), Metadata: map[string]any{"domain": r.Domain}})
	})
	return out, err
}

// RemoveSSODomain drops one of the workspace's domains.
func (s *SSOService) RemoveSSODomain(ctx context.Context, sc app.Scope, domainID int64) (*app.WorkspaceDomain, error) {
	var out *app.WorkspaceDomain
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		ws, err := s.lockOwner(ctx, tx, sc)
		if err != nil {
			return err
		}
		r, err := takeDomain(tx, ws.ID, domainID)
		if err != nil {
			return err
		}
		if r.VerifiedAt != nil {
			conn, err := findSSO(tx, ws.ID)
			if err != nil {
				return err
			}
			var n int64
			if err := tx.Model(&domainRecord{}).Where("workspace_id = ? AND verified_at IS NOT NULL", ws.ID).Count(&n).Error; err != nil {
				return fmt.Errorf("count verified domains: %w", err)
			}
			if conn != nil && conn.RequireSSO && n <= 1 {
				return app.Errorf(app.EINVALID, "This is the last verified domain while single sign-on is required. Turn “Require single sign-on” off first.")
			}
		}
		if err := tx.Delete(&domainRecord{}, r.ID).Error; err != nil {
			return fmt.Errorf("remove sso domain: %w", err)
		}
		out = r.toApp()
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: ws.ID, Action: app.ActionSSODomainRemoved,
			TargetType: "workspace", TargetID: fmt.Sprint(ws.ID), Metadata: map[string]any{"domain": r.Domain}})
	})
	return out, err
}
