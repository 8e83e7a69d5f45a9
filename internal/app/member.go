package app

import (
	"context"
)

// Member is a membership with the user's details, for lists.
type Member struct {
	Membership
	Email string
	Name  string
	// TwoFactor reports that the member has a passkey or an authenticator
	// app.
	TwoFactor bool
}

// MemberAt is a member with the id of their membership, the API's cursor.
type MemberAt struct {
	Member
	MembershipID int64
}

// MembersPerPage is how many members the members page lists at once.
const MembersPerPage = 50

// MemberPage is one page of a workspace's members, owners first, then
// admins, then members, each in the order they joined, with the counts the
// role and seat rules need.
type MemberPage struct {
	Members []*Member
	// Page is the 1-based page number; HasNext says whether another follows.
	Page    int
	HasNext bool
	WorkspaceStats
	Owners int
}

// MemberService manages a workspace's members. Every method takes the
// Scope it acts in, and its statements enforce that scope (see Scope): a
// caller cannot reach another tenant by passing its id.
type MemberService interface {
	// FindMembers lists a workspace's members, owners first.
	FindMembers(ctx context.Context, sc Scope) ([]*Member, error)
	// FindMemberPage returns page (1-based) of a workspace's members,
	// MembersPerPage a page, with its member, owner and pending-invite
	// counts, in one statement.
	FindMemberPage(ctx context.Context, sc Scope, page int) (*MemberPage, error)
	// FindMembersAfter lists up to limit of a workspace's members in joining
	// order (by membership id), those after the membership id after; the
	// API's cursor.
	FindMembersAfter(ctx context.Context, sc Scope, after int64, limit int) ([]*MemberAt, error)
	// SearchMembers is FindMemberPage for the members whose email or name
	// starts with prefix, ignoring case.
	SearchMembers(ctx context.Context, sc Scope, prefix string, page int) (*MemberPage, error)
	// ChangeMemberRole sets a member's role.
	ChangeMemberRole(ctx context.Context, sc Scope, userID int64, role Role) error
	// RemoveMember removes another member.
	RemoveMember(ctx context.Context, sc Scope, userID int64) error
	// LeaveWorkspace removes the principal from a workspace.
	LeaveWorkspace(ctx context.Context, sc Scope) error
	// TransferOwnership makes another member owner; the principal becomes admin.
	TransferOwnership(ctx context.Context, sc Scope, toUserID int64) error
}
