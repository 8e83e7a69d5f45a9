package app

import (
	"context"
	"maps"
	"time"
)

// AuditEntry records who changed what. Entries outlive the users and
// workspaces they mention, so the ids are plain values, not references.
type AuditEntry struct {
	ID          int64
	WorkspaceID int64 // 0 when the change concerns no workspace
	ActorID     int64 // 0 for the system
	// ActorEmail and ActorName are the actor's as they were when the entry
	// was written, kept after the user is deleted.
	ActorEmail string
	ActorName  string
	Action     string
	TargetType string
	TargetID   string
	Metadata   map[string]any
	IP         string
	UserAgent  string
	RequestID  string
	CreatedAt  time.Time
	// PrevHash and Hash link the entry into its chain (see AuditHash).
	PrevHash, Hash string
}

// ByAPIKey returns e as done by the API key k, which acts as its workspace,
// never as a user: the metadata records the key's id and label, and the
// label is the actor's name unless the entry names one, so the entry reads
// "API key 'deploy bot' (atr_…) invited …".
func (e AuditEntry) ByAPIKey(k *APIKey) AuditEntry {
	md := make(map[string]any, len(e.Metadata)+2)
	maps.Copy(md, e.Metadata)
	md["actor_api_key_id"] = k.ID
	md["actor"] = k.Label()
	e.Metadata = md
	if e.ActorID == 0 && e.ActorName == "" {
		e.ActorName = k.Label()
	}
	return e
}

// AuditFilter selects audit entries; zero fields select everything.
type AuditFilter struct {
	// Scope is the workspace whose log is read and who reads it; the zero
	// scope reads every workspace's entries (the operator's commands).
	Scope   Scope
	ActorID int64
	Action  string
	// Family selects the entries of one family; ignored when Action is set.
	Family AuditFamily
	// From and To bound the entries' time: From <= CreatedAt < To.
	From, To time.Time
	// Before pages backwards: only entries older than the one it marks.
	Before AuditCursor
	// After pages forwards: only entries newer than the one it marks, still
	// returned newest first.
	After AuditCursor
	Limit int
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
// that make each change, inside their transactions. A read of a
// workspace's log takes the Scope it acts in (in AuditFilter too), and its
// statements enforce it (see Scope).
type AuditService interface {
	FindAuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
	// FindAuditEntry returns one entry of a workspace, or ENOTFOUND.
	FindAuditEntry(ctx context.Context, sc Scope, id int64) (*AuditEntry, error)
	// ExportAuditEntries calls fn with each entry matching f (Limit and
	// cursors ignored), newest first, as they are read.
	ExportAuditEntries(ctx context.Context, f AuditFilter, fn func(*AuditEntry) error) error
	// FindAuditPeople returns everyone who has acted in a workspace.
	FindAuditPeople(ctx context.Context, sc Scope) ([]AuditPerson, error)
	// FindAuditActorByEmail returns the user id of the person with email
	// who has acted in a workspace, or ENOTFOUND. It reads only the
	// workspace's own actors, so an address with an account elsewhere
	// costs the same as an unknown one.
	FindAuditActorByEmail(ctx context.Context, sc Scope, email string) (int64, error)
	// RecordAuditExport writes the audit.exported entry of an export.
	RecordAuditExport(ctx context.Context, sc Scope, md map[string]any) error
}

// AuditPerson is someone who has acted in a workspace, as last recorded.
type AuditPerson struct {
	UserID      int64
	Email, Name string
}
