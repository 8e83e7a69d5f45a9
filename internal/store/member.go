package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// MemberService implements app.MemberService.
type MemberService struct {
	db *DB
}

// NewMemberService returns the member service of db.
func NewMemberService(db *DB) *MemberService { return &MemberService{db: db} }

var _ app.MemberService = (*MemberService)(nil)

// membershipRecord is a row of memberships: a user's role in a workspace.
type membershipRecord struct {
	ID          int64
	WorkspaceID int64
	UserID      int64
	Role        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (membershipRecord) TableName() string { return "memberships" }

// errNotMember is what a non-member gets: the workspace does not exist for them.
var errNotMember = app.Errorf(app.ENOTFOUND, "Workspace not found.")

// actor returns the principal's id, or EUNAUTHORIZED.
func actor(ctx context.Context) (int64, error) {
	id := app.UserIDFromContext(ctx)
	if id == 0 {
		return 0, app.Errorf(app.EUNAUTHORIZED, "Sign in to continue.")
	}
	return id, nil
}

// countOwners counts a workspace's owners inside tx.
func (db *DB) countOwners(ctx context.Context, tx *gorm.DB, workspaceID int64) (int, error) {
	var n int
	if err := db.queryRow(ctx, tx, qOwnerCount, workspaceID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count owners: %w", err)
	}
	return n, nil
}

// FindMembers lists the members, owners first, then admins, then members,
// each in joining order: the members pages one after another.
func (s *MemberService) FindMembers(ctx context.Context, sc app.Scope) ([]*app.Member, error) {
	var out []*app.Member
	for page := 1; ; page++ {
		p, err := s.memberPage(ctx, sc, "", page)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Members...)
		if !p.HasNext {
			return out, nil
		}
	}
}

// scanMember reads a member's columns (user id, role, joined, email, name,
// two-factor), then rest.
func scanMember(sc rowScanner, m *app.Member, rest ...any) error {
	var (
		role string
		buf  [10]any
	)
	dest := append(append(buf[:0], &m.UserID, &role, &m.CreatedAt, &m.Email, &m.Name, &m.TwoFactor), rest...)
	if err := scanRow(sc, dest...); err != nil {
		return fmt.Errorf("read member: %w", err)
	}
	m.Role, m.CreatedAt = app.Role(role), m.CreatedAt.UTC()
	return nil
}

// FindMemberPage returns one page of members with the workspace's counts,
// scanning columns straight into the result (it runs on every view of the
// members page). A page past the last has no members and zero counts.
func (s *MemberService) FindMemberPage(ctx context.Context, sc app.Scope, page int) (*app.MemberPage, error) {
	return s.memberPage(ctx, sc, "", page)
}

// SearchMembers returns one page of the members whose email or name
// starts with prefix (ignoring case), with the workspace's counts; an
// empty prefix lists every member, as FindMemberPage does.
func (s *MemberService) SearchMembers(ctx context.Context, sc app.Scope, prefix string, page int) (*app.MemberPage, error) {
	return s.memberPage(ctx, sc, prefix, page)
}

// likePrefix returns the LIKE pattern (escape character '!') matching
// strings that start with prefix, lower-cased.
func likePrefix(prefix string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(strings.ToLower(prefix)) + "%"
}

// memberPage runs the member page query, or the search when prefix is set.
func (s *MemberService) memberPage(ctx context.Context, sc app.Scope, prefix string, page int) (*app.MemberPage, error) {
	page = max(page, 1)
	workspaceID := sc.WorkspaceID
	name, args := qMemberPage, withScope(sc, []any{workspaceID, workspaceID, workspaceID, s.db.now(), workspaceID})
	if prefix = strings.TrimSpace(prefix); prefix != "" {
		name = qMemberSearch
		args = append(args, likePrefix(prefix), likePrefix(prefix))
	}
	args = append(args, app.MembersPerPage+1, (page-1)*app.MembersPerPage)
	rows, err := s.db.query(ctx, nil, name, args...)
	if err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := &app.MemberPage{Page: page, Members: make([]*app.Member, 0, app.MembersPerPage)}
	for rows.Next() {
		if len(out.Members) == app.MembersPerPage {
			out.HasNext = true
			break
		}
		m := &app.Member{Membership: app.Membership{WorkspaceID: workspaceID}}
		if err := scanMember(rows, m, &out.WorkspaceStats.Members, &out.Owners, &out.PendingInvites); err != nil {
			return nil, err
		}
		out.Members = append(out.Members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	return out, nil
}

// targetMember is another member's membership with their email, for the
// audit entry that names them.
type targetMember struct {
	membershipRecord
	email string
}

// targetMembership returns another member's membership inside tx.
func (db *DB) targetMembership(ctx context.Context, tx *gorm.DB, workspaceID, userID int64) (*targetMember, error) {
	var t targetMember
	err := db.queryRow(ctx, tx, qTargetMember, workspaceID, userID).Scan(&t.ID, &t.WorkspaceID, &t.UserID, &t.Role,
		&t.CreatedAt, &t.UpdatedAt, &t.email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "That person is not a member of this workspace.")
	}
	if err != nil {
		return nil, fmt.Errorf("find member: %w", err)
	}
	return &t, nil
}

// lockMemberChange starts a change of another member: it locks the scope
// (a person's), then reads the target's membership and the workspace's
// owner count under that lock, the three facts every role rule weighs.
func (db *DB) lockMemberChange(ctx context.Context, tx *gorm.DB, sc app.Scope, userID int64) (actor *membershipRecord, target *targetMember, owners int, err error) {
	actor, err = db.lockMemberScope(ctx, tx, sc)
	if err != nil {
		return nil, nil, 0, err
	}
	target, err = db.targetMembership(ctx, tx, sc.WorkspaceID, userID)
	if err != nil {
		return nil, nil, 0, err
	}
	owners, err = db.countOwners(ctx, tx, sc.WorkspaceID)
	if err != nil {
		return nil, nil, 0, err
	}
	return actor, target, owners, nil
}

// ChangeMemberRole sets a member's role under app.CanChangeRole.
func (s *MemberService) ChangeMemberRole(ctx context.Context, sc app.Scope, userID int64, role app.Role) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		m, t, owners, err := s.db.lockMemberChange(ctx, tx, sc, userID)
		if err != nil {
			return err
		}
		workspaceID := sc.WorkspaceID
		if err := app.CanChangeRole(app.Role(m.Role), app.Role(t.Role), role, m.UserID == t.UserID, owners); err != nil {
			return err
		}
		if t.Role == string(role) {
			return nil
		}
		if err := tx.Model(&membershipRecord{}).Where("id = ?", t.ID).
			Updates(map[string]any{"role": string(role), "updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("change role: %w", err)
		}
		if !app.APIKeyActs(role) {
			if err := s.db.revokeKeysCreatedBy(ctx, tx, workspaceID, userID, "creator_demoted"); err != nil {
				return err
			}
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionMemberRoleChanged,
			TargetType: "user", TargetID: fmt.Sprint(userID), Metadata: map[string]any{"email": t.email, "from": t.Role, "to": string(role)}})
	})
}

// RemoveMember removes another member under app.CanRemoveMember.
func (s *MemberService) RemoveMember(ctx context.Context, sc app.Scope, userID int64) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		m, t, owners, err := s.db.lockMemberChange(ctx, tx, sc, userID)
		if err != nil {
			return err
		}
		workspaceID := sc.WorkspaceID
		if err := app.CanRemoveMember(app.Role(m.Role), app.Role(t.Role), m.UserID == t.UserID, owners); err != nil {
			return err
		}
		if err := tx.Delete(&membershipRecord{}, t.ID).Error; err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		if err := s.db.revokeKeysCreatedBy(ctx, tx, workspaceID, userID, "creator_removed"); err != nil {
			return err
		}
		if err := s.db.queueSeatSync(ctx, tx, workspaceID); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionMemberRemoved,
			TargetType: "user", TargetID: fmt.Sprint(userID), Metadata: map[string]any{"email": t.email, "role": t.Role}})
	})
}

// LeaveWorkspace removes the principal under app.CanLeave.
func (s *MemberService) LeaveWorkspace(ctx context.Context, sc app.Scope) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		m, err := s.db.lockMemberScope(ctx, tx, sc)
		if err != nil {
			return err
		}
		workspaceID := sc.WorkspaceID
		owners, err := s.db.countOwners(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		if err := app.CanLeave(app.Role(m.Role), owners); err != nil {
			return err
		}
		if err := tx.Delete(&membershipRecord{}, m.ID).Error; err != nil {
			return fmt.Errorf("leave workspace: %w", err)
		}
		if err := s.db.revokeKeysCreatedBy(ctx, tx, workspaceID, m.UserID, "creator_left"); err != nil {
			return err
		}
		if err := s.db.queueSeatSync(ctx, tx, workspaceID); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionMemberLeft,
			TargetType: "user", TargetID: fmt.Sprint(m.UserID), Metadata: map[string]any{"role": m.Role}})
	})
}

// TransferOwnership makes another member owner and the principal admin.
func (s *MemberService) TransferOwnership(ctx context.Context, sc app.Scope, toUserID int64) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		m, err := s.db.lockMemberScope(ctx, tx, sc)
		if err != nil {
			return err
		}
		workspaceID := sc.WorkspaceID
		if err := app.CanTransferOwnership(app.Role(m.Role), m.UserID == toUserID); err != nil {
			return err
		}
		t, err := s.db.targetMembership(ctx, tx, workspaceID, toUserID)
		if err != nil {
			return err
		}
		now := s.db.now()
		if err := tx.Model(&membershipRecord{}).Where("id = ?", t.ID).
			Updates(map[string]any{"role": string(app.RoleOwner), "updated_at": now}).Error; err != nil {
			return fmt.Errorf("promote new owner: %w", err)
		}
		if err := tx.Model(&membershipRecord{}).Where("id = ?", m.ID).
			Updates(map[string]any{"role": string(app.RoleAdmin), "updated_at": now}).Error; err != nil {
			return fmt.Errorf("demote old owner: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionOwnershipTransferred,
			TargetType: "user", TargetID: fmt.Sprint(toUserID), Metadata: map[string]any{"email": t.email, "from_user_id": m.UserID, "previous_role": t.Role}})
	})
}

// FindMembersAfter returns up to limit members after the membership id
// after, in membership id order (at most 200).
func (s *MemberService) FindMembersAfter(ctx context.Context, sc app.Scope, after int64, limit int) ([]*app.MemberAt, error) {
	limit = min(max(limit, 1), 200)
	workspaceID := sc.WorkspaceID
	rows, err := s.db.query(ctx, nil, qMemberCursor, withScope(sc, []any{workspaceID}, after, limit)...)
	if err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := make([]*app.MemberAt, 0, limit)
	for rows.Next() {
		m := &app.MemberAt{Member: app.Member{Membership: app.Membership{WorkspaceID: workspaceID}}}
		if err := scanMember(rows, &m.Member, &m.MembershipID); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	return out, nil
}
