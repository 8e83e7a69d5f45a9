package store_test

import (
	"context"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// consolePrefix returns the arguments of a console prefix search.
func consolePrefix(q string, limit int) []any {
	lo, hi := app.PrefixRange(q)
	return []any{lo, hi, limit, lo, hi, limit, limit}
}

// consoleVolume is production's size for the console's searches: 100,000
// users (each with a session and a membership) over 20,000 workspaces.
var consoleVolume = storetest.Volume{Users: 100000, Workspaces: 20000, Members: 2000, Invites: 200}

// TestHotQueryPlans_ConsoleVolume checks the console's searches and pages
// at production volume on both databases: the plans read no whole table
// and sort nothing outside an index but the bounded pages (the same checks
// as TestHotQueryPlans, which covers them at its own volume), and each
// search answers in under a second, a broad prefix included.
func TestHotQueryPlans_ConsoleVolume(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 100,000 users")
	}
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sample := storetest.Bulk(t, db, consoleVolume)
		samples := planSamples(sample)
		for _, name := range []string{"admin_users_newest", "admin_users_prefix", "admin_user_by_id", "admin_workspaces_newest",
			"admin_workspaces_prefix", "admin_workspace_by_id", "admin_members", "admin_invites", "user_suspended",
			"workspace_suspended", "staff_of_user", "impersonation_by_hash"} {
			q, ok := store.HotQueries()[name]
			if !ok {
				t.Fatalf("%s is not catalogued", name)
			}
			var problems []string
			if db.Dialect() == store.SQLite {
				problems = sqlitePlanProblems(t, ctx, db, q, samples[name], planIndexes[name])
			} else {
				problems = postgresPlanProblems(t, ctx, db, q, samples[name], planIndexes[name])
				plan, err := db.ExplainPostgresGeneric(ctx, q.Text(db.Dialect()), samples[name]...)
				if err != nil {
					t.Fatalf("explain the generic plan of %s: %v", name, err)
				}
				problems = append(problems, genericPlanProblems(q, plan)...)
			}
			report := t.Errorf
			if len(problems) == 1 {
				report = t.Logf
			}
			for _, p := range problems {
				report("%s: %s", name, p)
			}
		}
		admin := store.NewAdminService(db)
		for _, q := range []string{"", "u", "user1", "user99999", "small-", "small 1", "nobody-here"} {
			start := time.Now()
			users, err := admin.SearchUsers(ctx, q, app.AdminPageSize)
			if err != nil {
				t.Fatal(err)
			}
			ws, err := admin.SearchWorkspaces(ctx, q, app.AdminPageSize)
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("searching %q took %v, want under a second", q, took)
			}
			if q == "user1" && len(users) != app.AdminPageSize {
				t.Errorf("searching %q found %d users, want a page of %d", q, len(users), app.AdminPageSize)
			}
			if q == "small-" && len(ws) != app.AdminPageSize {
				t.Errorf("searching %q found %d workspaces, want a page of %d", q, len(ws), app.AdminPageSize)
			}
		}
		d, err := admin.FindAdminWorkspace(ctx, sample.WorkspaceID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Members) != app.AdminPageSize {
			t.Errorf("big workspace page shows %d members, want %d", len(d.Members), app.AdminPageSize)
		}
	})
}
