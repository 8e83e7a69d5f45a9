package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

type auditRecord struct {
	ID          int64
	WorkspaceID *int64
	ActorUserID *int64
	Action      string
	TargetType  string
	TargetID    string
	Metadata    string
	IP          string
	UserAgent   string
	RequestID   string
	CreatedAt   time.Time
	// ActorEmail is read from a join with users; it is never written.
	ActorEmail string `gorm:"->"`
}

func (auditRecord) TableName() string { return "audit_logs" }

func (r *auditRecord) toApp() *app.AuditEntry {
	e := &app.AuditEntry{ID: r.ID, Action: r.Action, TargetType: r.TargetType, TargetID: r.TargetID,
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID, CreatedAt: r.CreatedAt.UTC(), ActorEmail: r.ActorEmail}
	if r.WorkspaceID != nil {
		e.WorkspaceID = *r.WorkspaceID
	}
	if r.ActorUserID != nil {
		e.ActorID = *r.ActorUserID
	}
	if r.Metadata != "" && r.Metadata != "{}" {
		_ = json.Unmarshal([]byte(r.Metadata), &e.Metadata)
	}
	return e
}

// audit writes an entry inside tx, filling the request's IP, user agent and
// id from ctx, and the actor from the signed-in principal unless set. Every
// service that changes something calls it in the same transaction, so the
// log and the change commit or roll back together.
func (db *DB) audit(ctx context.Context, tx *gorm.DB, e app.AuditEntry) error {
	meta := app.RequestMetaFromContext(ctx)
	if e.ActorID == 0 {
		e.ActorID = app.UserIDFromContext(ctx)
	}
	md := "{}"
	if len(e.Metadata) > 0 {
		b, err := json.Marshal(e.Metadata)
		if err != nil {
			return fmt.Errorf("audit %s: encode metadata: %w", e.Action, err)
		}
		md = string(b)
	}
	r := auditRecord{
		WorkspaceID: optionalID(e.WorkspaceID),
		ActorUserID: optionalID(e.ActorID),
		Action:      e.Action,
		TargetType:  e.TargetType,
		TargetID:    e.TargetID,
		Metadata:    md,
		IP:          app.SanitizeHeader(meta.IP, 64),
		UserAgent:   app.SanitizeHeader(meta.UserAgent, app.MaxUserAgentLength),
		RequestID:   meta.RequestID,
		CreatedAt:   db.now(),
	}
	if err := tx.Create(&r).Error; err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditService implements app.AuditService.
type AuditService struct{ db *DB }

// NewAuditService returns the audit service of db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

var _ app.AuditService = (*AuditService)(nil)

// FindAuditEntries returns entries matching f, newest first (at most 50
// unless f.Limit says otherwise, and never more than 500).
func (s *AuditService) FindAuditEntries(ctx context.Context, f app.AuditFilter) ([]*app.AuditEntry, error) {
	where := []string{"1 = 1"}
	var args []any
	if f.WorkspaceID != 0 {
		where, args = append(where, "a.workspace_id = ?"), append(args, f.WorkspaceID)
	}
	if f.ActorID != 0 {
		where, args = append(where, "a.actor_user_id = ?"), append(args, f.ActorID)
	}
	if f.Action != "" {
		where, args = append(where, "a.action = ?"), append(args, f.Action)
	}
	if f.BeforeID != 0 {
		where, args = append(where, "a.id < ?"), append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, min(limit, 500))
	var rs []auditRecord
	err := s.db.gorm.WithContext(ctx).Raw(`SELECT a.id, a.workspace_id, a.actor_user_id, a.action, a.target_type,
		a.target_id, a.metadata, a.ip, a.user_agent, a.request_id, a.created_at, COALESCE(u.email, '') AS actor_email
		FROM audit_logs a LEFT JOIN users u ON u.id = a.actor_user_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY a.id DESC LIMIT ?`, args...).Scan(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	out := make([]*app.AuditEntry, len(rs))
	for i := range rs {
		out[i] = rs[i].toApp()
	}
	return out, nil
}

func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
