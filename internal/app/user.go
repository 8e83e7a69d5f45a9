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

// UserService reads users.
type UserService interface {
	// FindUserByID returns the user or an ENOTFOUND error.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByEmail returns the user with that (normalized) email or ENOTFOUND.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
}
