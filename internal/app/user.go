package app

import (
	"context"
	"time"
)

// User is a person who signs in by magic link. Email is stored normalized.
type User struct {
	ID        int64
	Email     string
	Name      string
	TimeZone  string
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
	// FindSoleOwnerships names the workspaces the user is the only owner of
	// (what blocks deleting their account).
	FindSoleOwnerships(ctx context.Context, userID int64) ([]string, error)
	// DeleteUser deletes the principal's account: their sessions and
	// memberships go, audit entries stay. Refused (ECONFLICT) while they are
	// the last owner of a workspace.
	DeleteUser(ctx context.Context) error
	// FindUserByID returns the user or an ENOTFOUND error.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByEmail returns the user with that (normalized) email or ENOTFOUND.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
}
