package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"atrium/internal/app"
)

// DemoOwnerEmail is the seeded account that owns both demo workspaces.
const DemoOwnerEmail = "founder@example.com"

// SeedItem is one user or workspace of the demo data and what SeedDemo did
// about it.
type SeedItem struct {
	Kind    string // "user" or "workspace"
	Key     string // the natural key: an email or a slug
	Created bool   // false: it existed and was left as it was
	Detail  string // what was created, or why nothing was
}

// SeedResult lists the demo users and workspaces in seeding order.
type SeedResult struct {
	Items []SeedItem
}

// Created counts the items of kind that SeedDemo created.
func (r *SeedResult) Created(kind string) int {
	n := 0
	for _, it := range r.Items {
		if it.Kind == kind && it.Created {
			n++
		}
	}
	return n
}

// Demo data. Times are offsets from the moment a row is first seeded, so a
// fresh seed always shows recent activity and live invites; re-running the
// seed never moves them.
type (
	seedUser struct {
		email, name string
		age         time.Duration
	}
	seedMember struct {
		email string
		role  app.Role
		age   time.Duration
	}
	seedInvite struct {
		email, inviter, status string
		role                   app.Role
		age                    time.Duration
		// acceptedAfter is how long after the invite it was accepted (its
		// invite.accepted entry); 0 unless the status is accepted.
		acceptedAfter time.Duration
		// removedAfter, when set, is how long after joining the invitee
		// was removed (member.removed; they have no membership).
		removedAfter time.Duration
		// revokedAfter is how long after sending a revoked invite was
		// revoked (invite.revoked).
		revokedAfter time.Duration
		resent       bool // a pending invite resent halfway (invite.resent)
	}
	seedWorkspace struct {
		name, slug, plan, status string
		customerID, subID        string
		age                      time.Duration
		periodEnd                time.Duration // from now; 0 for none
		members                  []seedMember
		invites                  []seedInvite
		history                  bool // adds acmeHistory's everyday activity
	}
)

const day = 24 * time.Hour

func demoUsers() []seedUser {
	return append([]seedUser{
		{email: DemoOwnerEmail, name: "Frankie Founder", age: 30 * day},
		{email: "teammate@example.com", name: "Taylor Teammate", age: 29 * day},
	}, crowdUsers()...)
}

func demoWorkspaces() []seedWorkspace {
	ws := []seedWorkspace{
		{
			name: "Acme Inc", slug: "acme", plan: app.PlanPro, status: app.SubActive, history: true,
			customerID: "cus_seed_acme", subID: "sub_seed_acme", age: 30 * day, periodEnd: 10 * day,
			members: []seedMember{
				{email: DemoOwnerEmail, role: app.RoleOwner, age: 30 * day},
				{email: "teammate@example.com", role: app.RoleAdmin, age: 29 * day},
			},
			invites: []seedInvite{
				{email: "teammate@example.com", inviter: DemoOwnerEmail, role: app.RoleAdmin, status: app.InviteAccepted,
					age: 29*day + 2*time.Hour, acceptedAfter: 2 * time.Hour},
				// Pending, but past its expiry: it shows as expired.
				{email: "late-reply@example.com", inviter: "teammate@example.com", role: app.RoleMember,
					status: app.InvitePending, age: 12 * day},
				{email: "newhire@example.com", inviter: DemoOwnerEmail, role: app.RoleMember,
					status: app.InvitePending, age: 2 * day},
			},
		},
		{
			name: "Demo Studio", slug: "demo-studio", plan: app.PlanFree, age: 14 * day,
			members: []seedMember{{email: DemoOwnerEmail, role: app.RoleOwner, age: 14 * day}},
			invites: []seedInvite{{email: "demo-invite@example.com", inviter: DemoOwnerEmail, role: app.RoleMember,
				status: app.InvitePending, age: 1 * day}},
		},
	}
	crowdAcme(&ws[0])
	crowdStudio(&ws[1])
	return ws
}

// seedTokenHash is the stored hash of a seeded invite's token. The token is
// a fixed string that is not valid token syntax, so no link can ever
// redeem it: invitees accept a seeded invite from their own invitations list.
func seedTokenHash(slug, email string) string {
	return app.HashToken("atrium-seed-invite:" + slug + ":" + email)
}

// SeedDemo inserts the demo data in one transaction and is idempotent: a
// user that exists (by email) and a workspace that exists (by slug) are
// left exactly as they are, whoever created them, and a workspace's
// members, invites and audit entries are only written together with the
// workspace. It sends no mail and queues none.
func (db *DB) SeedDemo(ctx context.Context) (*SeedResult, error) {
	res := &SeedResult{}
	err := db.transact(ctx, func(tx *gorm.DB) error {
		res.Items = nil
		s := &seeder{db: db, ctx: ctx, tx: tx, now: db.now().Truncate(time.Second), users: map[string]int64{}}
		for _, u := range demoUsers() {
			id, created, err := s.user(u)
			if err != nil {
				return err
			}
			s.users[u.email] = id
			item := SeedItem{Kind: "user", Key: u.email, Created: created, Detail: u.name}
			if !created {
				item.Detail = "left as is"
			}
			res.Items = append(res.Items, item)
		}
		for _, w := range demoWorkspaces() {
			item, err := s.workspace(w)
			if err != nil {
				return err
			}
			res.Items = append(res.Items, item)
		}
		return s.writeAudit()
	})
	if err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	return res, nil
}

// seeder holds one SeedDemo run's store, context, transaction, clock, the
// demo users' ids and the audit entries to write.
type seeder struct {
	db     *DB
	ctx    context.Context
	tx     *gorm.DB
	now    time.Time
	users  map[string]int64
	audits []auditRecord
}

// audit queues an entry whose metadata carries "seed": true, the mark by
// which SeedDemo recognises what it created.
func (s *seeder) audit(r auditRecord, md map[string]any) error {
	md["seed"] = true
	b, err := json.Marshal(md)
	if err != nil {
		return fmt.Errorf("audit %s: encode metadata: %w", r.Action, err)
	}
	r.Metadata = string(b)
	s.audits = append(s.audits, r)
	return nil
}

// writeAudit writes the queued entries oldest first, so that ids follow
// time as they do in a real log (the audit page lists by id).
func (s *seeder) writeAudit() error {
	slices.SortStableFunc(s.audits, func(a, b auditRecord) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i := range s.audits {
		r := &s.audits[i]
		if r.ActorUserID != nil {
			u, err := scanUser(s.db.queryRow(s.ctx, s.tx, qUserByID, *r.ActorUserID))
			if err != nil {
				return fmt.Errorf("audit %s: find actor: %w", r.Action, err)
			}
			r.ActorEmail, r.ActorName = u.Email, u.Name
		}
		if err := s.db.appendAudit(s.ctx, s.tx, r); err != nil {
			return err
		}
	}
	return nil
}

// user returns the id of the user with u's email, creating the user (and
// its audit entry) when missing.
func (s *seeder) user(u seedUser) (int64, bool, error) {
	tx, now := s.tx, s.now
	at := now.Add(-u.age)
	r := userRecord{Email: u.email, Name: u.name, TimeZone: "UTC", CreatedAt: at, UpdatedAt: at}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "email"}}, DoNothing: true}).Create(&r)
	if res.Error != nil {
		return 0, false, fmt.Errorf("create user %s: %w", u.email, res.Error)
	}
	if res.RowsAffected == 0 || r.ID == 0 {
		existing, err := scanUser(s.db.queryRow(s.ctx, tx, qUserByEmail, u.email))
		if err != nil {
			return 0, false, fmt.Errorf("find user %s: %w", u.email, err)
		}
		return existing.ID, false, nil
	}
	err := s.audit(auditRecord{ActorUserID: &r.ID, Action: app.ActionUserCreated, TargetType: "user",
		TargetID: fmt.Sprint(r.ID), CreatedAt: at}, map[string]any{"email": u.email})
	return r.ID, true, err
}

// workspace creates w with its members, invites and audit entries, unless
// a workspace with its slug exists.
func (s *seeder) workspace(w seedWorkspace) (SeedItem, error) {
	tx, now, users := s.tx, s.now, s.users
	item := SeedItem{Kind: "workspace", Key: w.slug}
	existing, err := scanWorkspace(s.db.queryRow(s.ctx, tx, qWorkspaceBy, w.slug))
	switch {
	case err == nil:
		seeded, err := s.seededWorkspace(existing.ID)
		if err != nil {
			return item, err
		}
		item.Detail = "seeded earlier; left as is"
		if !seeded {
			item.Detail = "not created by the seed; left alone"
		}
		return item, nil
	case !errors.Is(err, sql.ErrNoRows):
		return item, fmt.Errorf("find workspace %q: %w", w.slug, err)
	}

	created := now.Add(-w.age)
	r := workspaceRecord{Name: w.name, Slug: w.slug, Plan: w.plan, SubscriptionStatus: w.status,
		StripeCustomerID: w.customerID, StripeSubscriptionID: w.subID, CreatedAt: created, UpdatedAt: created}
	if w.periodEnd != 0 {
		end := now.Add(w.periodEnd)
		r.CurrentPeriodEnd = &end
	}
	if err := tx.Create(&r).Error; err != nil {
		return item, fmt.Errorf("create workspace %q: %w", w.slug, err)
	}
	owner := users[w.members[0].email]
	audits := 1
	if err := s.audit(auditRecord{WorkspaceID: &r.ID, ActorUserID: &owner, Action: app.ActionWorkspaceCreated,
		TargetType: "workspace", TargetID: fmt.Sprint(r.ID), CreatedAt: created},
		map[string]any{"name": w.name, "slug": w.slug}); err != nil {
		return item, err
	}
	for _, m := range w.members {
		at := now.Add(-m.age)
		mr := membershipRecord{WorkspaceID: r.ID, UserID: users[m.email], Role: string(m.role), CreatedAt: at, UpdatedAt: at}
		if err := tx.Create(&mr).Error; err != nil {
			return item, fmt.Errorf("add %s to %q: %w", m.email, w.slug, err)
		}
	}
	for _, inv := range w.invites {
		n, err := s.invite(r.ID, w.slug, inv)
		if err != nil {
			return item, err
		}
		audits += n
	}
	if w.history {
		n, err := s.acmeHistory(r.ID, w)
		if err != nil {
			return item, err
		}
		audits += n
	}
	if w.status != "" {
		at := now.Add(w.periodEnd - 30*day)
		if err := s.audit(auditRecord{WorkspaceID: &r.ID, ActorUserID: &owner, Action: app.ActionSubscriptionUpdated,
			TargetType: "workspace", TargetID: fmt.Sprint(r.ID), CreatedAt: at},
			map[string]any{"plan": w.plan, "status": w.status}); err != nil {
			return item, err
		}
		audits++
	}
	plan := w.plan
	if w.status != "" {
		plan += ", " + w.status
	}
	item.Created = true
	item.Detail = fmt.Sprintf("%q (%s): %d member(s), %d invite(s), %d audit entries", w.name, plan,
		len(w.members), len(w.invites), audits)
	return item, nil
}

// invite stores one invite and queues its audit entries, returning how
// many.
func (s *seeder) invite(workspaceID int64, slug string, inv seedInvite) (int, error) {
	at := s.now.Add(-inv.age)
	inviter := s.users[inv.inviter]
	ir := inviteRecord{WorkspaceID: workspaceID, Email: inv.email, Role: string(inv.role),
		TokenHash: seedTokenHash(slug, inv.email), Status: inv.status, InvitedByUserID: &inviter,
		ExpiresAt: at.Add(app.InviteTTL), CreatedAt: at, UpdatedAt: at.Add(inv.acceptedAfter)}
	if err := s.tx.Create(&ir).Error; err != nil {
		return 0, fmt.Errorf("invite %s to %q: %w", inv.email, slug, err)
	}
	md := map[string]any{"email": inv.email, "role": string(inv.role)}
	if err := s.audit(auditRecord{WorkspaceID: &workspaceID, ActorUserID: &inviter, Action: app.ActionInviteSent,
		TargetType: "invite", TargetID: fmt.Sprint(ir.ID), CreatedAt: at}, md); err != nil {
		return 0, err
	}
	switch {
	case inv.resent:
		return 2, s.audit(auditRecord{WorkspaceID: &workspaceID, ActorUserID: &inviter, Action: app.ActionInviteResent,
			TargetType: "invite", TargetID: fmt.Sprint(ir.ID), CreatedAt: at.Add(inv.age / 2).Truncate(time.Second)},
			map[string]any{"email": inv.email})
	case inv.status == app.InviteRevoked:
		return 2, s.audit(auditRecord{WorkspaceID: &workspaceID, ActorUserID: &inviter, Action: app.ActionInviteRevoked,
			TargetType: "invite", TargetID: fmt.Sprint(ir.ID), CreatedAt: at.Add(inv.revokedAfter)},
			map[string]any{"email": inv.email})
	case inv.status != app.InviteAccepted:
		return 1, nil
	}
	invitee := s.users[inv.email]
	accepted := map[string]any{"email": inv.email, "role": string(inv.role)}
	if err := s.audit(auditRecord{WorkspaceID: &workspaceID, ActorUserID: &invitee, Action: app.ActionInviteAccepted,
		TargetType: "invite", TargetID: fmt.Sprint(ir.ID), CreatedAt: at.Add(inv.acceptedAfter)}, accepted); err != nil {
		return 2, err
	}
	if inv.removedAfter == 0 {
		return 2, nil
	}
	return 3, s.audit(auditRecord{WorkspaceID: &workspaceID, ActorUserID: &inviter, Action: app.ActionMemberRemoved,
		TargetType: "user", TargetID: fmt.Sprint(invitee), CreatedAt: at.Add(inv.acceptedAfter + inv.removedAfter)},
		map[string]any{"email": inv.email})
}

// qCreationEntries reads the creation entries of a workspace, wherever
// they are logged.
const qCreationEntries = "workspace_creation_entries"

// seedQueries are the catalog's statements of the demo seed.
var seedQueries = map[string]hotQuery{
	qCreationEntries: {SQL: `SELECT ` + auditColumns + ` FROM audit_logs a
		WHERE a.action = ? AND a.target_type = 'workspace' AND a.target_id = ?`,
		WholeTable: "the demo seed's check of a workspace it may have created, an operator's command"},
}

// seededWorkspace reports whether the workspace's creation entry carries
// the seed mark.
func (s *seeder) seededWorkspace(workspaceID int64) (bool, error) {
	rows, err := s.db.query(s.ctx, s.tx, qCreationEntries, app.ActionWorkspaceCreated, fmt.Sprint(workspaceID))
	if err != nil {
		return false, fmt.Errorf("find creation of workspace %d: %w", workspaceID, err)
	}
	defer func() { _ = rows.Close() }()
	seeded := false
	for rows.Next() {
		var r auditRecord
		if err := scanAudit(rows, &r); err != nil {
			return false, fmt.Errorf("read creation of workspace %d: %w", workspaceID, err)
		}
		var md map[string]any
		if json.Unmarshal([]byte(r.Metadata), &md) == nil && md["seed"] == true {
			seeded = true
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("find creation of workspace %d: %w", workspaceID, err)
	}
	return seeded, nil
}
