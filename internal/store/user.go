package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

type userRecord struct {
	ID        int64
	Email     string
	Name      string
	TimeZone  string
	Language  string
	TwoFactor bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (userRecord) TableName() string { return "users" }

// userColumns are the columns of a user row, in the order scanUser reads
// them.
const userColumns = `id, email, name, time_zone, language, two_factor, created_at, updated_at`

// scanUser reads a row of userColumns.
func scanUser(sc scanner) (*userRecord, error) {
	var r userRecord
	if err := scanRow(sc, &r.ID, &r.Email, &r.Name, &r.TimeZone, &r.Language, &r.TwoFactor, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

// The user statements.
const (
	qUserByID     = "user_by_id"
	qUserByEmail  = "user_by_email"
	qUserByHandle = "user_by_webauthn_handle"
)

// userQueries are the catalog's user statements.
var userQueries = map[string]hotQuery{
	qUserByID:     {SQL: `SELECT ` + userColumns + ` FROM users WHERE id = ?`},
	qUserByEmail:  {SQL: `SELECT ` + userColumns + ` FROM users WHERE email = ?`},
	qUserByHandle: {SQL: `SELECT ` + userColumns + ` FROM users WHERE webauthn_handle = ?`},
}

// findUser reads the user with id, in tx when it is not nil; missing
// when there is none.
func (db *DB) findUser(ctx context.Context, tx *gorm.DB, id int64, missing *app.Error) (*userRecord, error) {
	r, err := scanUser(db.queryRow(ctx, tx, qUserByID, id))
	if err != nil {
		return nil, notFound(err, missing, "find user")
	}
	return r, nil
}

func (r *userRecord) toApp() *app.User {
	return &app.User{ID: r.ID, Email: r.Email, Name: r.Name, TimeZone: r.TimeZone, Language: r.Language, TwoFactor: r.TwoFactor,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// UserService implements app.UserService.
type UserService struct{ db *DB }

// NewUserService returns the user service of db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

var _ app.UserService = (*UserService)(nil)

// FindUserByID returns the user with that id or ENOTFOUND.
func (s *UserService) FindUserByID(ctx context.Context, id int64) (*app.User, error) {
	r, err := scanUser(s.db.queryRow(ctx, nil, qUserByID, id))
	if err != nil {
		return nil, notFound(err, app.Errorf(app.ENOTFOUND, "User not found."), "find user by id")
	}
	return r.toApp(), nil
}

// FindUserByEmail returns the user with that normalized email or ENOTFOUND.
func (s *UserService) FindUserByEmail(ctx context.Context, email string) (*app.User, error) {
	r, err := scanUser(s.db.queryRow(ctx, nil, qUserByEmail, email))
	if err != nil {
		return nil, notFound(err, app.Errorf(app.ENOTFOUND, "User not found."), "find user by email")
	}
	return r.toApp(), nil
}

// UpdateUser changes the principal's display name or time zone.
func (s *UserService) UpdateUser(ctx context.Context, upd app.UserUpdate) (*app.User, error) {
	uid, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if upd.Name != nil {
		name, err := app.ValidateUserName(*upd.Name)
		if err != nil {
			return nil, err
		}
		upd.Name = &name
	}
	var out *app.User
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := s.db.findUser(ctx, tx, uid, app.Errorf(app.ENOTFOUND, "Your account no longer exists."))
		if err != nil {
			return err
		}
		changes := map[string]any{}
		md := map[string]any{}
		if upd.Name != nil && *upd.Name != r.Name {
			changes["name"], md["name"] = *upd.Name, *upd.Name
			r.Name = *upd.Name
		}
		if upd.TimeZone != nil && *upd.TimeZone != r.TimeZone {
			changes["time_zone"], md["time_zone"] = *upd.TimeZone, *upd.TimeZone
			r.TimeZone = *upd.TimeZone
		}
		if upd.Language != nil && *upd.Language != r.Language {
			changes["language"], md["language"] = *upd.Language, *upd.Language
			r.Language = *upd.Language
		}
		if len(changes) > 0 {
			changes["updated_at"] = s.db.now()
			if err := tx.Model(&userRecord{}).Where("id = ?", uid).Updates(changes).Error; err != nil {
				return fmt.Errorf("update user: %w", err)
			}
			if err := s.db.audit(ctx, tx, app.AuditEntry{Action: app.ActionUserUpdated, TargetType: "user",
				TargetID: fmt.Sprint(uid), Metadata: md}); err != nil {
				return err
			}
		}
		out = r.toApp()
		return nil
	})
	return out, err
}

// FindSoleOwnerships lists the workspaces the user is the only owner of.
func (s *UserService) FindSoleOwnerships(ctx context.Context, userID int64) ([]app.WorkspaceRef, error) {
	return s.db.soleOwnerships(ctx, nil, userID)
}

// soleOwnerships lists the workspaces userID is the only owner of, in tx
// when it is not nil.
func (db *DB) soleOwnerships(ctx context.Context, tx *gorm.DB, userID int64) ([]app.WorkspaceRef, error) {
	rows, err := db.query(ctx, tx, qSoleOwner, userID)
	if err != nil {
		return nil, fmt.Errorf("find sole ownerships: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []app.WorkspaceRef
	for rows.Next() {
		var w app.WorkspaceRef
		if err := rows.Scan(&w.Name, &w.Slug); err != nil {
			return nil, fmt.Errorf("find sole ownerships: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find sole ownerships: %w", err)
	}
	return out, nil
}

// DeleteUser deletes the principal's account unless they are the last
// owner of a workspace. Sessions and memberships go by cascade.
func (s *UserService) DeleteUser(ctx context.Context) error {
	uid, err := actor(ctx)
	if err != nil {
		return err
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		// Lock the workspaces the user owns, as lockScope does, so two
		// co-owners deleting their accounts at once cannot both pass the
		// last-owner check on Postgres (SQLite's IMMEDIATE transactions
		// already run one at a time).
		if s.db.dialect == Postgres {
			if err := tx.Exec(`SELECT id FROM workspaces WHERE id IN
				(SELECT workspace_id FROM memberships WHERE user_id = ? AND role = 'owner') ORDER BY id FOR UPDATE`, uid).Error; err != nil {
				return fmt.Errorf("lock owned workspaces: %w", err)
			}
		}
		blocking, err := s.db.soleOwnerships(ctx, tx, uid)
		if err != nil {
			return err
		}
		if len(blocking) > 0 {
			return app.Errorf(app.ECONFLICT, "%s", app.SoleOwnerMessage(blocking))
		}
		r, err := s.db.findUser(ctx, tx, uid, app.Errorf(app.ENOTFOUND, "Your account no longer exists."))
		if err != nil {
			return err
		}
		// The API keys they made go with them, revoked and audited in each
		// workspace before the account is gone.
		if err := s.db.revokeKeysCreatedBy(ctx, tx, 0, uid, "creator_deleted"); err != nil {
			return err
		}
		// Their memberships go by cascade: per-seat subscriptions hear of it.
		if err := s.db.queueSeatSyncsOfUser(ctx, tx, uid); err != nil {
			return err
		}
		if err := tx.Where("email = ?", r.Email).Delete(&loginTokenRecord{}).Error; err != nil {
			return fmt.Errorf("delete login tokens: %w", err)
		}
		if err := tx.Delete(&userRecord{}, uid).Error; err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{ActorID: uid, Action: app.ActionUserDeleted, TargetType: "user",
			TargetID: fmt.Sprint(uid)})
	})
}
