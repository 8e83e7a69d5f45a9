package app

import "context"

// Scope is who acts in which workspace: the workspace and the acting user
// or API key. Every workspace-scoped service method takes one, and the
// store's statements enforce it: they return nothing of the workspace (and
// change nothing) unless the user is a member of it or the key is one of
// its own unrevoked keys, whatever workspace id the caller passes and
// whether or not a middleware checked it first.
type Scope struct {
	WorkspaceID int64
	// UserID is the acting user; 0 when a key acts.
	UserID int64
	// APIKeyID is the acting API key; 0 when a user acts.
	APIKeyID int64
}

// ScopeOf returns the scope of the principal in ctx acting in a workspace:
// the API key when one acts (the API), else the signed-in user. With
// neither it names nobody, and every scoped read returns nothing.
func ScopeOf(ctx context.Context, workspaceID int64) Scope {
	if k := APIKeyFromContext(ctx); k != nil {
		return Scope{WorkspaceID: workspaceID, APIKeyID: k.ID}
	}
	return Scope{WorkspaceID: workspaceID, UserID: UserIDFromContext(ctx)}
}

// KeyActs reports whether an API key, not a user, acts in the scope.
func (s Scope) KeyActs() bool { return s.APIKeyID != 0 }
