package server_test

import (
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
)

// ownerScope returns the scope of a workspace's first owner, for tests that
// read the store as someone allowed to.
func ownerScope(t *testing.T, db *store.DB, workspaceID int64) app.Scope {
	t.Helper()
	q := "SELECT MIN(user_id) FROM memberships WHERE workspace_id = ? AND role = 'owner'"
	if db.Dialect() == store.Postgres {
		q = "SELECT MIN(user_id) FROM memberships WHERE workspace_id = $1 AND role = 'owner'"
	}
	var owner int64
	if err := db.SQL().QueryRow(q, workspaceID).Scan(&owner); err != nil {
		t.Fatalf("find an owner of workspace %d: %v", workspaceID, err)
	}
	return app.Scope{WorkspaceID: workspaceID, UserID: owner}
}
