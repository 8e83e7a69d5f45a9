package app_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"atrium/internal/app"
)

// bogusRole is not a role: it ranks below member.
const bogusRole = app.Role("superuser")

// checkRule fails unless err is nil when want is "", or an *app.Error with
// code want and a message to show otherwise.
func checkRule(t *testing.T, err error, want string) {
	t.Helper()
	if got := app.ErrorCode(err); got != want {
		t.Fatalf("code=%q (err=%v), want %q", got, err, want)
	}
	if want != "" && app.ErrorMessage(err) == "" {
		t.Fatalf("refusal %v has no message", err)
	}
}

func TestRoleOnlyRules(t *testing.T) {
	t.Parallel()
	const owner, admin, member, bogus = app.RoleOwner, app.RoleAdmin, app.RoleMember, bogusRole
	// Each rule that depends on the actor's role alone, with the roles it allows.
	rules := []struct {
		name    string
		rule    func(app.Role) error
		allowed []app.Role
	}{
		{name: "CanEditWorkspace", rule: app.CanEditWorkspace, allowed: []app.Role{owner}},
		{name: "CanDeleteWorkspace", rule: app.CanDeleteWorkspace, allowed: []app.Role{owner}},
		{name: "CanManageBilling", rule: app.CanManageBilling, allowed: []app.Role{owner}},
		{name: "CanSeeAudit", rule: app.CanSeeAudit, allowed: []app.Role{owner, admin}},
		{name: "CanManageInvites", rule: app.CanManageInvites, allowed: []app.Role{owner, admin}},
	}
	for _, r := range rules {
		for _, actor := range []app.Role{owner, admin, member, bogus, ""} {
			t.Run(fmt.Sprintf("%s/%q", r.name, actor), func(t *testing.T) {
				want := app.EFORBIDDEN
				if slices.Contains(r.allowed, actor) {
					want = ""
				}
				checkRule(t, r.rule(actor), want)
			})
		}
	}
}

func TestCanInvite(t *testing.T) {
	t.Parallel()
	const owner, admin, member, bogus = app.RoleOwner, app.RoleAdmin, app.RoleMember, bogusRole
	cases := []struct {
		actor, role app.Role
		want        string
	}{
		{owner, owner, ""},
		{owner, admin, ""},
		{owner, member, ""},
		{owner, bogus, app.EINVALID},
		{owner, "", app.EINVALID},
		{admin, owner, app.EFORBIDDEN},
		{admin, admin, ""},
		{admin, member, ""},
		{admin, bogus, app.EINVALID},
		{member, owner, app.EFORBIDDEN},
		{member, admin, app.EFORBIDDEN},
		{member, member, app.EFORBIDDEN},
		{member, bogus, app.EFORBIDDEN},
		{bogus, member, app.EFORBIDDEN},
		{"", member, app.EFORBIDDEN},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q/invites/%q", tc.actor, tc.role), func(t *testing.T) {
			checkRule(t, app.CanInvite(tc.actor, tc.role), tc.want)
		})
	}
}

func TestInviteRoles(t *testing.T) {
	t.Parallel()
	const owner, admin, member, bogus = app.RoleOwner, app.RoleAdmin, app.RoleMember, bogusRole
	cases := []struct {
		actor app.Role
		want  []app.Role
	}{
		{owner, []app.Role{owner, admin, member}},
		{admin, []app.Role{admin, member}},
		{member, nil},
		{bogus, nil},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.actor), func(t *testing.T) {
			if got := app.InviteRoles(tc.actor); !slices.Equal(got, tc.want) {
				t.Fatalf("InviteRoles(%q)=%v, want %v", tc.actor, got, tc.want)
			}
		})
	}
}

func TestCanChangeRole(t *testing.T) {
	t.Parallel()
	const owner, admin, member, bogus = app.RoleOwner, app.RoleAdmin, app.RoleMember, bogusRole
	cases := []struct {
		actor, target, to app.Role
		self              bool
		owners            int
		want              string
	}{
		// Owners change anyone's role, another owner's included.
		{owner, owner, owner, false, 2, ""},
		{owner, owner, admin, false, 2, ""},
		{owner, owner, member, false, 2, ""},
		{owner, admin, owner, false, 1, ""},
		{owner, admin, admin, false, 1, ""},
		{owner, admin, member, false, 1, ""},
		{owner, member, owner, false, 1, ""},
		{owner, member, admin, false, 1, ""},
		{owner, member, member, false, 1, ""},
		// Admins change admins and members, up to admin; never an owner.
		{admin, owner, owner, false, 2, app.EFORBIDDEN},
		{admin, owner, admin, false, 2, app.EFORBIDDEN},
		{admin, owner, member, false, 2, app.EFORBIDDEN},
		{admin, owner, member, false, 1, app.EFORBIDDEN},
		{admin, admin, owner, false, 1, app.EFORBIDDEN},
		{admin, admin, admin, false, 1, ""},
		{admin, admin, member, false, 1, ""},
		{admin, member, owner, false, 1, app.EFORBIDDEN},
		{admin, member, admin, false, 1, ""},
		{admin, member, member, false, 1, ""},
		// Members change nothing.
		{member, owner, admin, false, 2, app.EFORBIDDEN},
		{member, admin, member, false, 1, app.EFORBIDDEN},
		{member, member, admin, false, 1, app.EFORBIDDEN},
		{member, member, owner, false, 1, app.EFORBIDDEN},
		{bogus, member, admin, false, 1, app.EFORBIDDEN},
		// Nobody changes their own role, however many owners there are.
		{owner, owner, admin, true, 2, app.EFORBIDDEN},
		{owner, owner, member, true, 1, app.EFORBIDDEN},
		{owner, owner, owner, true, 1, app.EFORBIDDEN},
		{admin, admin, member, true, 1, app.EFORBIDDEN},
		{admin, admin, owner, true, 1, app.EFORBIDDEN},
		{member, member, admin, true, 1, app.EFORBIDDEN},
		// The last owner is never demoted.
		{owner, owner, admin, false, 1, app.ECONFLICT},
		{owner, owner, member, false, 1, app.ECONFLICT},
		{owner, owner, member, false, 0, app.ECONFLICT},
		{owner, owner, owner, false, 1, ""},
		// A role that does not exist is invalid, whoever asks.
		{owner, member, bogus, false, 1, app.EINVALID},
		{owner, member, "", false, 1, app.EINVALID},
		{admin, owner, bogus, false, 1, app.EINVALID},
		{member, member, bogus, true, 1, app.EINVALID},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%q/sets/%q/to/%q/self=%v/owners=%d", tc.actor, tc.target, tc.to, tc.self, tc.owners)
		t.Run(name, func(t *testing.T) {
			checkRule(t, app.CanChangeRole(tc.actor, tc.target, tc.to, tc.self, tc.owners), tc.want)
		})
	}
}

func TestCanRemoveMember(t *testing.T) {
	t.Parallel()
	const owner, admin, member, bogus = app.RoleOwner, app.RoleAdmin, app.RoleMember, bogusRole
	cases := []struct {
		actor, target app.Role
		self          bool
		owners        int
		want          string
	}{
		{owner, owner, false, 2, ""},
		{owner, admin, false, 1, ""},
		{owner, member, false, 1, ""},
		{owner, owner, false, 1, app.ECONFLICT},
		{owner, owner, false, 0, app.ECONFLICT},
		{admin, owner, false, 2, app.EFORBIDDEN},
		{admin, owner, false, 1, app.EFORBIDDEN},
		{admin, admin, false, 1, ""},
		{admin, member, false, 1, ""},
		{member, owner, false, 2, app.EFORBIDDEN},
		{member, admin, false, 1, app.EFORBIDDEN},
		{member, member, false, 1, app.EFORBIDDEN},
		{bogus, member, false, 1, app.EFORBIDDEN},
		// Removing yourself is leaving, whatever your role.
		{owner, owner, true, 2, app.EINVALID},
		{owner, owner, true, 1, app.EINVALID},
		{admin, admin, true, 1, app.EINVALID},
		{member, member, true, 1, app.EINVALID},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q/removes/%q/self=%v/owners=%d", tc.actor, tc.target, tc.self, tc.owners), func(t *testing.T) {
			checkRule(t, app.CanRemoveMember(tc.actor, tc.target, tc.self, tc.owners), tc.want)
		})
	}
}

func TestCanLeave(t *testing.T) {
	t.Parallel()
	const owner, admin, member, bogus = app.RoleOwner, app.RoleAdmin, app.RoleMember, bogusRole
	cases := []struct {
		role   app.Role
		owners int
		want   string
	}{
		{owner, 2, ""},
		{owner, 3, ""},
		{owner, 1, app.ECONFLICT},
		{owner, 0, app.ECONFLICT},
		{admin, 1, ""},
		{admin, 0, ""},
		{member, 1, ""},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q/owners=%d", tc.role, tc.owners), func(t *testing.T) {
			checkRule(t, app.CanLeave(tc.role, tc.owners), tc.want)
		})
	}
}

func TestCanTransferOwnership(t *testing.T) {
	t.Parallel()
	const owner, admin, member, bogus = app.RoleOwner, app.RoleAdmin, app.RoleMember, bogusRole
	cases := []struct {
		actor app.Role
		self  bool
		want  string
	}{
		{owner, false, ""},
		{owner, true, app.EINVALID},
		{admin, false, app.EFORBIDDEN},
		{admin, true, app.EFORBIDDEN},
		{member, false, app.EFORBIDDEN},
		{bogus, false, app.EFORBIDDEN},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q/self=%v", tc.actor, tc.self), func(t *testing.T) {
			checkRule(t, app.CanTransferOwnership(tc.actor, tc.self), tc.want)
		})
	}
}

func TestPlanLimits(t *testing.T) {
	t.Parallel()
	limits := app.PlanLimits{FreeSeats: 3, ProSeats: 10}
	unlimitedPro := app.PlanLimits{FreeSeats: 3, ProSeats: 0}
	cases := []struct {
		name   string
		limits app.PlanLimits
		plan   string
		status string
		seats  int
		used   int    // seats in use before adding one
		want   string // CheckSeats's code for one more seat
	}{
		{name: "FreeUnderLimit", limits: limits, plan: app.PlanFree, seats: 3, used: 2},
		{name: "FreeFull", limits: limits, plan: app.PlanFree, seats: 3, used: 3, want: app.ECONFLICT},
		{name: "FreeOverFull", limits: limits, plan: app.PlanFree, seats: 3, used: 5, want: app.ECONFLICT},
		{name: "FreeIgnoresStatus", limits: limits, plan: app.PlanFree, status: "active", seats: 3, used: 3, want: app.ECONFLICT},
		{name: "ProNoStatus", limits: limits, plan: app.PlanPro, seats: 10, used: 3},
		{name: "ProActive", limits: limits, plan: app.PlanPro, status: "active", seats: 10, used: 9},
		{name: "ProActiveFull", limits: limits, plan: app.PlanPro, status: "active", seats: 10, used: 10, want: app.ECONFLICT},
		{name: "ProTrialing", limits: limits, plan: app.PlanPro, status: "trialing", seats: 10, used: 9},
		{name: "ProPastDueKeepsAccess", limits: limits, plan: app.PlanPro, status: "past_due", seats: 10, used: 9},
		{name: "ProCanceledFallsToFree", limits: limits, plan: app.PlanPro, status: "canceled", seats: 3, used: 3, want: app.ECONFLICT},
		{name: "ProUnpaidFallsToFree", limits: limits, plan: app.PlanPro, status: "unpaid", seats: 3, used: 3, want: app.ECONFLICT},
		{name: "ProCanceledUnderFree", limits: limits, plan: app.PlanPro, status: "canceled", seats: 3, used: 2},
		{name: "ProUnlimited", limits: unlimitedPro, plan: app.PlanPro, status: "active", seats: 0, used: 10000},
		{name: "ProUnlimitedCanceled", limits: unlimitedPro, plan: app.PlanPro, status: "canceled", seats: 3, used: 3, want: app.ECONFLICT},
		{name: "FreeUnlimited", limits: app.PlanLimits{}, plan: app.PlanFree, seats: 0, used: 10000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := &app.Workspace{Plan: tc.plan, SubscriptionStatus: tc.status}
			if got, want := tc.limits.Seats(ws), tc.seats; got != want {
				t.Fatalf("Seats=%d, want %d", got, want)
			}
			checkRule(t, tc.limits.CheckSeats(ws, tc.used), tc.want)
		})
	}
}

func TestPlanLimits_CheckJoin(t *testing.T) {
	t.Parallel()
	limits := app.PlanLimits{FreeSeats: 3, ProSeats: 10}
	cases := []struct {
		name    string
		plan    string
		status  string
		members int
		full    bool
	}{
		{name: "FreeRoom", plan: app.PlanFree, members: 2},
		{name: "FreeFull", plan: app.PlanFree, members: 3, full: true},
		{name: "FreeOverAfterDowngrade", plan: app.PlanPro, status: "canceled", members: 5, full: true},
		{name: "ProRoom", plan: app.PlanPro, status: "active", members: 9},
		{name: "ProFull", plan: app.PlanPro, status: "active", members: 10, full: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := limits.CheckJoin(&app.Workspace{Plan: tc.plan, SubscriptionStatus: tc.status}, tc.members)
			if got := errors.Is(err, app.ErrWorkspaceFull); got != tc.full || (!tc.full && err != nil) {
				t.Fatalf("CheckJoin(%d members)=%v, want full=%v", tc.members, err, tc.full)
			}
		})
	}
	if err := (app.PlanLimits{}).CheckJoin(&app.Workspace{Plan: app.PlanFree}, 10000); err != nil {
		t.Fatalf("unlimited plan: %v", err)
	}
}
