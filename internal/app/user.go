package app

import (
	"context"
	"strings"
	"time"
)

// User is a person who signs in by magic link. Email is stored normalized.
type User struct {
	ID       int64
	Email    string
	Name     string
	TimeZone string
	// Language is the language the user chose for pages and emails (a
	// BCP 47 tag such as "de"); "" follows the browser's Accept-Language.
	Language string
	// TwoFactor reports that the user has a passkey or an authenticator
	// app, so every sign-in needs one.
	TwoFactor bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DisplayName returns the user's name, or their email when they set none.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// UserUpdate holds profile fields to change; nil fields stay.
type UserUpdate struct {
	Name     *string
	TimeZone *string
	// Language is a shipped language's tag, or "" for the browser's.
	Language *string
}

// MaxNameLength bounds a display name.
const MaxNameLength = 80

// ValidateUserName checks a display name through CleanText; empty is
// allowed (the email is shown instead). Errors are about the "name" field.
func ValidateUserName(name string) (string, error) {
	return CleanText("name", "name", name, MaxNameLength)
}

// UserService reads and changes users.
type UserService interface {
	// UpdateUser changes the principal's profile ("user.updated").
	UpdateUser(ctx context.Context, upd UserUpdate) (*User, error)
	// FindSoleOwnerships lists the workspaces the user is the only owner of
	// (what blocks deleting their account), by name.
	FindSoleOwnerships(ctx context.Context, userID int64) ([]WorkspaceRef, error)
	// DeleteUser deletes the principal's account: their sessions and
	// memberships go, audit entries stay. Refused (ECONFLICT) while they are
	// the last owner of a workspace.
	DeleteUser(ctx context.Context) error
	// FindUserByID returns the user or an ENOTFOUND error.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByEmail returns the user with that (normalized) email or ENOTFOUND.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
}

// WorkspaceRef names a workspace and its address.
type WorkspaceRef struct {
	Name, Slug string
}

// SoleOwnerMessage says why an account that is the last owner of these
// workspaces cannot be deleted yet; "the workspace" or "each workspace"
// as their number asks.
func SoleOwnerMessage(ws []WorkspaceRef) string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.Name
	}
	if len(ws) == 1 {
		return "You are the last owner of " + names[0] + ". Transfer its ownership or delete the workspace first."
	}
	return "You are the last owner of " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] +
		". For each workspace, transfer its ownership or delete it first."
}
