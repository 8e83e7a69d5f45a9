package app

import (
	"context"
	"time"
)

// Audit actions recorded by the foundation. Later features add their own.
const (
	ActionSignedIn          = "auth.signed_in"
	ActionSignedOut         = "auth.signed_out"
	ActionSessionRevoked    = "session.revoked"
	ActionSessionRevokedAll = "session.revoked_all"
	ActionUserCreated       = "user.created"
	// scaffold:audit-actions (make scaffold adds its resources' actions above this line)
)

// AuditEntry records who changed what. Entries outlive the users and
// workspaces they mention, so the ids are plain values, not references.
type AuditEntry struct {
	ID          int64
	WorkspaceID int64  // 0 when the change concerns no workspace
	ActorID     int64  // 0 for the system
	ActorEmail  string // filled on reads; "" when the actor is gone
	Action      string
	TargetType  string
	TargetID    string
	Metadata    map[string]any
	IP          string
	UserAgent   string
	RequestID   string
	CreatedAt   time.Time
}

// AuditFilter selects audit entries; zero fields select everything.
type AuditFilter struct {
	WorkspaceID int64
	ActorID     int64
	Action      string
	// From and To bound the entries' time: From <= CreatedAt < To.
	From, To time.Time
	// Before pages backwards: only entries older than the one it marks.
	Before AuditCursor
	Limit  int
}

// AuditCursor marks an entry in the log's order (newest first: by time,
// then by id); the zero cursor marks none.
type AuditCursor struct {
	CreatedAt time.Time
	ID        int64
}

// CursorOf returns the cursor of an entry.
func CursorOf(e *AuditEntry) AuditCursor { return AuditCursor{CreatedAt: e.CreatedAt, ID: e.ID} }

// AuditService reads the audit log. Entries are written by the services
// that make each change, inside their transactions.
type AuditService interface {
	FindAuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}
