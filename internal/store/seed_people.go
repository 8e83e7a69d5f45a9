package store

import (
	"fmt"
	"strings"
	"time"

	"atrium/internal/app"
)

// The demo's crowd: enough people, invites and history that the members
// list and the audit log page, filter and read like a real workspace's.
// Everything is derived from the fixed lists below by index, so every run
// writes the same rows.

var (
	seedFirstNames = []string{"Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Dennis", "Margaret",
		"Ken", "Frances", "Donald", "Radia", "Linus", "Sophie", "Tim", "Hedy"}
	seedLastNames = []string{"Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Ritchie", "Hamilton",
		"Thompson", "Allen", "Knuth", "Perlman", "Torvalds", "Wilson", "Berners-Lee", "Lamarr", "Kay", "Cerf"}
)

// Counts of the crowd, by part: Acme's members, Demo Studio's member,
// people who joined Acme and were removed, and invites still out.
const (
	seedAcmeMembers    = 26
	seedStudioMembers  = 1
	seedRemovedMembers = 4
	seedPendingInvites = 8
	seedRevokedInvites = 3
)

// seedPerson returns the i-th generated person's name and email.
func seedPerson(i int) (name, email string) {
	first := seedFirstNames[i%len(seedFirstNames)]
	last := seedLastNames[(i*7+i/len(seedFirstNames))%len(seedLastNames)]
	name = first + " " + last
	return name, strings.ToLower(first + "." + strings.ReplaceAll(last, "-", "") + "@example.com")
}

// crowdUsers are the generated people who get accounts.
func crowdUsers() []seedUser {
	n := seedAcmeMembers + seedStudioMembers + seedRemovedMembers
	out := make([]seedUser, 0, n)
	for i := range n {
		name, email := seedPerson(i)
		out = append(out, seedUser{email: email, name: name, age: 28*day - time.Duration(i)*12*time.Hour})
	}
	return out
}

// acmeJoinAge is how long ago Acme's i-th generated member joined: one
// every half day, from 27 days ago.
func acmeJoinAge(i int) time.Duration { return 27*day - time.Duration(i)*12*time.Hour }

// crowdAcme adds the generated members, removed members and invites to
// Acme's members and invites.
func crowdAcme(w *seedWorkspace) {
	inviters := []string{DemoOwnerEmail, "teammate@example.com"}
	for i := range seedAcmeMembers {
		_, email := seedPerson(i)
		role := app.RoleMember
		if i%6 == 5 {
			role = app.RoleAdmin
		}
		age := acmeJoinAge(i)
		w.members = append(w.members, seedMember{email: email, role: role, age: age})
		w.invites = append(w.invites, seedInvite{email: email, inviter: inviters[i%2], role: role,
			status: app.InviteAccepted, age: age + 5*time.Hour, acceptedAfter: 5 * time.Hour})
	}
	for k := range seedRemovedMembers {
		i := seedAcmeMembers + seedStudioMembers + k
		_, email := seedPerson(i)
		age := acmeJoinAge(2*k + 1)
		w.invites = append(w.invites, seedInvite{email: email, inviter: DemoOwnerEmail, role: app.RoleMember,
			status: app.InviteAccepted, age: age + 3*time.Hour, acceptedAfter: 3 * time.Hour,
			removedAfter: time.Duration(4+k) * day})
	}
	for k := range seedPendingInvites {
		// The last two are past their expiry and show as expired.
		age := time.Duration(k+1) * 20 * time.Hour
		if k >= seedPendingInvites-2 {
			age = time.Duration(k+3) * day
		}
		w.invites = append(w.invites, seedInvite{email: fmt.Sprintf("candidate%02d@example.net", k+1),
			inviter: inviters[k%2], role: app.RoleMember, status: app.InvitePending, age: age, resent: k%3 == 0})
	}
	for k := range seedRevokedInvites {
		w.invites = append(w.invites, seedInvite{email: fmt.Sprintf("wrong-address%d@example.org", k+1),
			inviter: DemoOwnerEmail, role: app.RoleMember, status: app.InviteRevoked,
			age: time.Duration(20-5*k) * day, revokedAfter: 30 * time.Minute})
	}
}

// crowdStudio adds Demo Studio's generated member, which fills its free
// seats (with the founder and the pending invite).
func crowdStudio(w *seedWorkspace) {
	for k := range seedStudioMembers {
		_, email := seedPerson(seedAcmeMembers + k)
		age := 10 * day
		w.members = append(w.members, seedMember{email: email, role: app.RoleMember, age: age})
		w.invites = append(w.invites, seedInvite{email: email, inviter: DemoOwnerEmail, role: app.RoleMember,
			status: app.InviteAccepted, age: age + time.Hour, acceptedAfter: time.Hour})
	}
}

// acmeHistory queues the everyday activity of Acme's last two weeks: each
// day four members are made admin for a while and then members again, and
// each week the founder exports the log. Roles end where they started.
func (s *seeder) acmeHistory(workspaceID int64, w seedWorkspace) (int, error) {
	n := 0
	actors := []string{DemoOwnerEmail, "teammate@example.com"}
	var plain []seedMember // the generated members who are not admins
	for _, m := range w.members[2:] {
		if m.role == app.RoleMember {
			plain = append(plain, m)
		}
	}
	for d := 1; d <= 14; d++ {
		for k := range 4 {
			m := plain[(d*5+k*7)%len(plain)]
			actor := s.users[actors[(d+k)%2]]
			target := s.users[m.email]
			up := s.now.Add(-time.Duration(d)*day + time.Duration(8+2*k)*time.Hour)
			for step, to := range []app.Role{app.RoleAdmin, app.RoleMember} {
				from := app.RoleMember
				if to == app.RoleMember {
					from = app.RoleAdmin
				}
				if err := s.audit(auditRecord{WorkspaceID: &workspaceID, ActorUserID: &actor, Action: app.ActionMemberRoleChanged,
					TargetType: "user", TargetID: fmt.Sprint(target), CreatedAt: up.Add(time.Duration(step) * 3 * time.Hour)},
					map[string]any{"email": m.email, "from": string(from), "to": string(to)}); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	founder := s.users[DemoOwnerEmail]
	for week := range 4 {
		at := s.now.Add(-time.Duration(7*week+3)*day + 16*time.Hour)
		if err := s.audit(auditRecord{WorkspaceID: &workspaceID, ActorUserID: &founder, Action: app.ActionAuditExported,
			TargetType: "workspace", TargetID: fmt.Sprint(workspaceID), CreatedAt: at},
			map[string]any{"format": []string{app.ExportCSV, app.ExportJSONL}[week%2], "rows": 40 + 25*week}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
