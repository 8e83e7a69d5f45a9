package app

// Role is a member's role in a workspace.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMember}

// ParseRole returns the role named s, or an EINVALID error.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleOwner, RoleAdmin, RoleMember:
		return r, nil
	}
	return "", Errorf(EINVALID, "Choose a role: owner, admin or member.")
}

// rank orders roles by their place in Roles: higher is more powerful;
// unknown roles rank 0. The members page's SQL order is built from the
// same list (store.memberRank).
func (r Role) rank() int {
	for i, role := range Roles {
		if r == role {
			return len(Roles) - i
		}
	}
	return 0
}

// AtLeast reports whether r is min or more powerful.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() && r.rank() > 0 }

// Label is the role's display name.
func (r Role) Label() string {
	switch r {
	case RoleOwner:
		return "Owner"
	case RoleAdmin:
		return "Admin"
	case RoleMember:
		return "Member"
	}
	return string(r)
}

// The rules of who may do what in a workspace live here, and only here.
// Each returns nil when allowed and an EFORBIDDEN (or EINVALID/ECONFLICT)
// error that explains why not. owners is the workspace's number of owners.

// CanEditWorkspace: only owners rename a workspace or change its slug.
func CanEditWorkspace(actor Role) error {
	if actor != RoleOwner {
		return Errorf(EFORBIDDEN, "Only an owner can change the workspace's name or address.")
	}
	return nil
}

// CanDeleteWorkspace: owners only.
func CanDeleteWorkspace(actor Role) error {
	if actor != RoleOwner {
		return Errorf(EFORBIDDEN, "Only an owner can delete the workspace.")
	}
	return nil
}

// CanSeeAudit: owners and admins.
func CanSeeAudit(actor Role) error {
	if !actor.AtLeast(RoleAdmin) {
		return Errorf(EFORBIDDEN, "Only owners and admins can see the audit log.")
	}
	return nil
}

// CanSeeBilling: owners and admins (admins read it; see CanManageBilling).
func CanSeeBilling(actor Role) error {
	if !actor.AtLeast(RoleAdmin) {
		return Errorf(EFORBIDDEN, "Only owners and admins can see billing.")
	}
	return nil
}

// CanManageBilling: owners only.
func CanManageBilling(actor Role) error {
	if actor != RoleOwner {
		return Errorf(EFORBIDDEN, "Only an owner can manage billing.")
	}
	return nil
}

// CanInvite: owners and admins, with a role no higher than their own.
func CanInvite(actor, role Role) error {
	if !actor.AtLeast(RoleAdmin) {
		return Errorf(EFORBIDDEN, "Only owners and admins can invite people.")
	}
	if role.rank() == 0 {
		return Errorf(EINVALID, "Choose a role: owner, admin or member.")
	}
	if role.rank() > actor.rank() {
		return Errorf(EFORBIDDEN, "You can invite people as %s at most.", Label(actor.Label()))
	}
	return nil
}

// CanManageInvites (revoke, resend): owners and admins.
func CanManageInvites(actor Role) error {
	if !actor.AtLeast(RoleAdmin) {
		return Errorf(EFORBIDDEN, "Only owners and admins can manage invites.")
	}
	return nil
}

// InviteRoles returns the roles actor may invite with, most powerful first.
func InviteRoles(actor Role) []Role {
	var out []Role
	for _, r := range Roles {
		if CanInvite(actor, r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// CanChangeRole: owners change anyone's role; admins change admins and
// members, up to admin. Nobody changes their own role here, and the last
// owner cannot be demoted.
func CanChangeRole(actor, target, to Role, self bool, owners int) error {
	switch {
	case to.rank() == 0:
		return Errorf(EINVALID, "Choose a role: owner, admin or member.")
	case self:
		return Errorf(EFORBIDDEN, "You cannot change your own role. Ask another owner, or transfer ownership.")
	case !actor.AtLeast(RoleAdmin):
		return Errorf(EFORBIDDEN, "Only owners and admins can change roles.")
	case actor == RoleAdmin && (target == RoleOwner || to == RoleOwner):
		return Errorf(EFORBIDDEN, "Admins cannot change an owner's role or make someone owner.")
	case target == RoleOwner && to != RoleOwner && owners <= 1:
		return Errorf(ECONFLICT, "A workspace needs at least one owner.")
	}
	return nil
}

// CanRemoveMember: owners remove anyone but themselves; admins remove
// admins and members. The last owner cannot be removed.
func CanRemoveMember(actor, target Role, self bool, owners int) error {
	switch {
	case self:
		return Errorf(EINVALID, "To remove yourself, leave the workspace.")
	case !actor.AtLeast(RoleAdmin):
		return Errorf(EFORBIDDEN, "Only owners and admins can remove members.")
	case actor == RoleAdmin && target == RoleOwner:
		return Errorf(EFORBIDDEN, "Admins cannot remove an owner.")
	case target == RoleOwner && owners <= 1:
		return Errorf(ECONFLICT, "A workspace needs at least one owner.")
	}
	return nil
}

// CanLeave: anyone but the last owner.
func CanLeave(role Role, owners int) error {
	if role == RoleOwner && owners <= 1 {
		return Errorf(ECONFLICT, "You are the last owner. Transfer ownership to another member before leaving.")
	}
	return nil
}

// CanTransferOwnership: an owner hands ownership to another member.
func CanTransferOwnership(actor Role, self bool) error {
	switch {
	case actor != RoleOwner:
		return Errorf(EFORBIDDEN, "Only an owner can transfer ownership.")
	case self:
		return Errorf(EINVALID, "Choose another member to make owner.")
	}
	return nil
}

// scaffold:rules (make scaffold adds its resources' rules above this line)

// PlanLimits are the seats each plan allows (0 = unlimited): the seat
// rule of the plan catalog (Catalog.Limits), passed to the services that
// add seats.
type PlanLimits struct {
	FreeSeats     int
	ProSeats      int
	BusinessSeats int
	// NoUpgrade words the seat-limit message for a server that sells no
	// upgrade (production without billing): it does not suggest one.
	NoUpgrade bool
}

// Seats returns the number of seats ws may use: its paid plan's while the
// subscription is in good standing (past_due keeps access) or when the plan
// was set without one (by an operator, or seeded), the free limit
// otherwise. 0 means unlimited.
func (l PlanLimits) Seats(ws *Workspace) int {
	if ws.Plan == PlanFree || !ProStatus(ws.SubscriptionStatus) && ws.SubscriptionStatus != "" {
		return l.FreeSeats
	}
	switch ws.Plan {
	case PlanPro:
		return l.ProSeats
	case PlanBusiness:
		return l.BusinessSeats
	}
	return l.FreeSeats
}

// CheckSeats returns an ECONFLICT error when adding one more seat to used
// would pass the limit, or ErrRestricted when ws is restricted.
func (l PlanLimits) CheckSeats(ws *Workspace, used int) error {
	if err := CheckAdditions(ws); err != nil {
		return err
	}
	if limit := l.Seats(ws); limit > 0 && used+1 > limit {
		if l.NoUpgrade {
			return Errorf(ECONFLICT, "All %d seats of this plan are in use (members and pending invites). Revoke a pending invite or remove a member to invite someone else.", limit)
		}
		return Errorf(ECONFLICT, "All %d seats of this plan are in use (members and pending invites). Upgrade to invite more people, or revoke a pending invite.", limit)
	}
	return nil
}

// ErrWorkspaceFull refuses an invite whose acceptance would pass the seat
// limit; the invite stays pending.
var ErrWorkspaceFull = &Error{Code: ECONFLICT, Message: "This workspace is full; ask an owner to upgrade."}

// CheckJoin returns ErrWorkspaceFull when ws, with members members, has no
// seat left for one more (ErrRestricted when ws is restricted). Pending invites are not counted: the invite being
// accepted is one of them, and after a downgrade more invites may be out
// than seats; the first to accept take the seats there are.
func (l PlanLimits) CheckJoin(ws *Workspace, members int) error {
	if err := CheckAdditions(ws); err != nil {
		return err
	}
	if l.CheckSeats(ws, WorkspaceStats{Members: members}.SeatsUsed()) != nil {
		return ErrWorkspaceFull
	}
	return nil
}
