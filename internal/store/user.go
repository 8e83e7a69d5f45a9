package store

import (
	"context"
	"time"

	"atrium/internal/app"
)

type userRecord struct {
	ID        int64
	Email     string
	Name      string
	TimeZone  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (userRecord) TableName() string { return "users" }

func (r *userRecord) toApp() *app.User {
	return &app.User{ID: r.ID, Email: r.Email, Name: r.Name, TimeZone: r.TimeZone,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// UserService implements app.UserService.
type UserService struct{ db *DB }

// NewUserService returns the user service of db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

var _ app.UserService = (*UserService)(nil)

// FindUserByID returns the user with that id or ENOTFOUND.
func (s *UserService) FindUserByID(ctx context.Context, id int64) (*app.User, error) {
	var r userRecord
	if err := s.db.gorm.WithContext(ctx).Take(&r, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "User not found.", "find user by id")
	}
	return r.toApp(), nil
}

// FindUserByEmail returns the user with that normalized email or ENOTFOUND.
func (s *UserService) FindUserByEmail(ctx context.Context, email string) (*app.User, error) {
	var r userRecord
	if err := s.db.gorm.WithContext(ctx).Take(&r, "email = ?", email).Error; err != nil {
		return nil, notFound(err, "User not found.", "find user by email")
	}
	return r.toApp(), nil
}
