package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// seededTables are the tables the seed writes, plus the outbox it must
// leave empty.
var seededTables = []string{"users", "workspaces", "memberships", "invites", "audit_logs", "mail_outbox"}

// dumpTables returns every row of the tables, in id order, as text.
func dumpTables(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range seededTables {
		rows, err := db.SQL().QueryContext(context.Background(), "SELECT * FROM "+table+" ORDER BY id")
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			var b strings.Builder
			for i, v := range vals {
				if cols[i] == "auth_version" {
					// A counter the triggers move when the seed adds the
					// person to its workspace, not the person's data.
					continue
				}
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			out[table] = append(out[table], b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		_ = rows.Close()
	}
	return out
}

// TestSeedDemo_Idempotent seeds ten times, days apart, and checks that the
// second and later runs create nothing and leave every row, id and
// timestamp as the first run wrote it.
func TestSeedDemo_Idempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		first, err := db.SeedDemo(ctx)
		if err != nil {
			t.Fatalf("SeedDemo: %v", err)
		}
		if got, want := first.Created("user"), 33; got != want {
			t.Errorf("first run created %d users, want %d", got, want)
		}
		if got, want := first.Created("workspace"), 2; got != want {
			t.Errorf("first run created %d workspaces, want %d", got, want)
		}
		want := dumpTables(t, db)
		for table, n := range map[string]int{"users": 33, "workspaces": 2, "memberships": 30, "invites": 46, "audit_logs": 240, "mail_outbox": 0} {
			if got := len(want[table]); got != n {
				t.Errorf("%s: %d rows after the first seed, want %d", table, got, n)
			}
		}
		for run := 2; run <= 10; run++ {
			c.Add(3 * 24 * time.Hour)
			res, err := db.SeedDemo(ctx)
			if err != nil {
				t.Fatalf("run %d: SeedDemo: %v", run, err)
			}
			for _, it := range res.Items {
				if it.Created {
					t.Errorf("run %d created %s %s again", run, it.Kind, it.Key)
				}
			}
		}
		if diff := cmp.Diff(want, dumpTables(t, db)); diff != "" {
			t.Errorf("rows changed after seeding again (-first +now):\n%s", diff)
		}
	})
}

// TestSeedDemo_Content checks, through the app's own services, that every
// page has something to show.
func TestSeedDemo_Content(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		if _, err := db.SeedDemo(ctx); err != nil {
			t.Fatalf("SeedDemo: %v", err)
		}
		users, workspaces := store.NewUserService(db), store.NewWorkspaceService(db)
		invites, audit := store.NewInviteService(db), store.NewOperatorAuditService(db)
		founder, err := users.FindUserByEmail(ctx, store.DemoOwnerEmail)
		if err != nil {
			t.Fatalf("FindUserByEmail(founder): %v", err)
		}
		teammate, err := users.FindUserByEmail(ctx, "teammate@example.com")
		if err != nil {
			t.Fatalf("FindUserByEmail(teammate): %v", err)
		}

		type wsView struct {
			Name, Slug, Plan, Status, Customer, Subscription string
			Role                                             app.Role
			Members                                          int
			Renews                                           bool
		}
		uws, err := workspaces.FindWorkspacesByUser(ctx, founder.ID)
		if err != nil {
			t.Fatalf("FindWorkspacesByUser: %v", err)
		}
		var got []wsView
		for _, w := range uws {
			full, _, err := workspaces.FindWorkspaceForMember(ctx, w.Slug, founder.ID)
			if err != nil {
				t.Fatalf("FindWorkspaceForMember(%s): %v", w.Slug, err)
			}
			got = append(got, wsView{Name: w.Name, Slug: w.Slug, Plan: w.Plan, Status: w.SubscriptionStatus,
				Customer: full.StripeCustomerID, Subscription: full.StripeSubscriptionID, Role: w.Role, Members: w.Members,
				Renews: full.CurrentPeriodEnd.After(c.Now())})
		}
		want := []wsView{
			{Name: "Acme Inc", Slug: "acme", Plan: app.PlanPro, Status: app.SubActive, Customer: "cus_seed_acme",
				Subscription: "sub_seed_acme", Role: app.RoleOwner, Members: 28, Renews: true},
			{Name: "Demo Studio", Slug: "demo-studio", Plan: app.PlanFree, Role: app.RoleOwner, Members: 2},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("founder's workspaces (-want +got):\n%s", diff)
		}
		acme, m, err := workspaces.FindWorkspaceForMember(ctx, "acme", teammate.ID)
		if err != nil || m.Role != app.RoleAdmin {
			t.Fatalf("teammate in acme: membership %+v, err %v; want admin", m, err)
		}
		demo, _, err := workspaces.FindWorkspaceForMember(ctx, "demo-studio", founder.ID)
		if err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			ws   *app.Workspace
			want map[string]string // email → state
		}{
			{acme, map[string]string{"newhire@example.com": app.InvitePending, "late-reply@example.com": app.InviteExpired,
				"candidate01@example.net": app.InvitePending, "candidate02@example.net": app.InvitePending,
				"candidate03@example.net": app.InvitePending, "candidate04@example.net": app.InvitePending,
				"candidate05@example.net": app.InvitePending, "candidate06@example.net": app.InvitePending,
				"candidate07@example.net": app.InviteExpired, "candidate08@example.net": app.InviteExpired}},
			{demo, map[string]string{"demo-invite@example.com": app.InvitePending}},
		} {
			list, err := invites.FindInvites(ctx, ownerScope(t, db, tc.ws.ID), 100)
			if err != nil {
				t.Fatalf("FindInvites(%s): %v", tc.ws.Slug, err)
			}
			states := map[string]string{}
			for _, inv := range list {
				states[inv.Email] = inv.State(c.Now())
				if inv.ShareLink != "" || inv.Delivery != "" {
					t.Errorf("%s invite for %s: share link %q, delivery %q; want none (the seed sends no mail)",
						tc.ws.Slug, inv.Email, inv.ShareLink, inv.Delivery)
				}
			}
			if diff := cmp.Diff(tc.want, states); diff != "" {
				t.Errorf("%s invites (-want +got):\n%s", tc.ws.Slug, diff)
			}
		}
		// The invitee can accept from their own list of invitations.
		mine, err := invites.FindInvitesForEmail(ctx, "newhire@example.com")
		if err != nil || len(mine) != 1 || mine[0].WorkspaceSlug != "acme" {
			t.Errorf("FindInvitesForEmail(newhire) = %v, %v; want the acme invite", mine, err)
		}

		entries, err := audit.FindAuditEntries(ctx, app.AuditFilter{Scope: app.Scope{WorkspaceID: acme.ID}, Limit: 1000})
		if err != nil {
			t.Fatalf("FindAuditEntries: %v", err)
		}
		actions := map[string]int{}
		for _, e := range entries {
			actions[e.Action]++
			if e.Metadata["seed"] != true {
				t.Errorf("audit entry %d (%s) lacks the seed mark: %v", e.ID, e.Action, e.Metadata)
			}
			if e.ActorEmail == "" {
				t.Errorf("audit entry %d (%s) has no actor", e.ID, e.Action)
			}
		}
		wantActions := map[string]int{app.ActionWorkspaceCreated: 1, app.ActionInviteSent: 44, app.ActionInviteAccepted: 31,
			app.ActionInviteResent: 3, app.ActionInviteRevoked: 3, app.ActionMemberRemoved: 4, app.ActionMemberRoleChanged: 112,
			app.ActionAuditExported: 4, app.ActionSubscriptionUpdated: 1}
		if diff := cmp.Diff(wantActions, actions); diff != "" {
			t.Errorf("acme audit actions (-want +got):\n%s", diff)
		}
		// Enough for the audit log's pages, spread over weeks, and a
		// members list that pages too.
		if len(entries) < 200 {
			t.Errorf("acme has %d audit entries, want 200 or more", len(entries))
		}
		if span := entries[0].CreatedAt.Sub(entries[len(entries)-1].CreatedAt); span < 21*24*time.Hour {
			t.Errorf("acme's audit entries span %v, want weeks", span)
		}
		members, err := store.NewMemberService(db).FindMembers(ctx, ownerScope(t, db, acme.ID))
		if err != nil {
			t.Fatalf("FindMembers: %v", err)
		}
		named := 0
		for _, m := range members {
			if m.Name != "" {
				named++
			}
		}
		if len(members) != 28 || named != 28 {
			t.Errorf("acme: %d members, %d with a name; want 28 named", len(members), named)
		}
		// Every role change ends where it started: the generated admins are
		// the ones the seed made admins.
		admins := 0
		for _, m := range members {
			if m.Role == app.RoleAdmin {
				admins++
			}
		}
		if admins != 5 {
			t.Errorf("acme has %d admins, want 5 (the teammate and four generated)", admins)
		}
	})
}

// TestSeedDemo_LeavesOtherRowsAlone checks that a user or workspace the
// seed finds by its natural key, but did not create, is not changed.
func TestSeedDemo_LeavesOtherRowsAlone(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		auth := store.NewAuthService(db)
		tok := requestLogin(t, auth, c, store.DemoOwnerEmail, "/app")
		founder, _, err := auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{
			TokenHash: app.HashToken("session-of-the-real-founder")})
		if err != nil {
			t.Fatalf("CompleteLogin: %v", err)
		}
		pctx := app.WithPrincipal(ctx, &app.Principal{User: *founder})
		theirs, err := store.NewWorkspaceService(db).CreateWorkspace(pctx, "Acme Holdings", "acme")
		if err != nil {
			t.Fatalf("CreateWorkspace: %v", err)
		}
		before := dumpTables(t, db)

		res, err := db.SeedDemo(ctx)
		if err != nil {
			t.Fatalf("SeedDemo: %v", err)
		}
		got := map[string]store.SeedItem{}
		for _, it := range res.Items {
			got[it.Kind+" "+it.Key] = it
		}
		for key, created := range map[string]bool{"user " + store.DemoOwnerEmail: false, "user teammate@example.com": true,
			"workspace acme": false, "workspace demo-studio": true} {
			if got[key].Created != created {
				t.Errorf("%s: created=%v, want %v", key, got[key].Created, created)
			}
		}
		if d := got["workspace acme"].Detail; !strings.Contains(d, "not created by the seed") {
			t.Errorf("acme detail %q does not say the seed did not create it", d)
		}

		after := dumpTables(t, db)
		for _, table := range seededTables {
			for i, row := range before[table] {
				if i >= len(after[table]) || after[table][i] != row {
					t.Errorf("%s: row %d changed or vanished:\nbefore %s", table, i, row)
				}
			}
		}
		members, err := store.NewMemberService(db).FindMembers(ctx, ownerScope(t, db, theirs.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(members) != 1 || members[0].Email != store.DemoOwnerEmail {
			t.Errorf("the existing acme has members %v, want only its creator", members)
		}
		// The existing founder owns the new demo workspace.
		if _, m, err := store.NewWorkspaceService(db).FindWorkspaceForMember(ctx, "demo-studio", founder.ID); err != nil || m.Role != app.RoleOwner {
			t.Errorf("founder in demo-studio: %+v, %v; want owner", m, err)
		}
	})
}
