package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/store"
)

// TestBilling_Restrict: `atrium billing restrict` runs the dunning check
// at once, restricting only the workspaces past the grace period, once.
func TestBilling_Restrict(t *testing.T) {
	t.Parallel()
	dbURL, db := billingDatabase(t, store.SQLite)
	overdue, _ := billingOwnerWorkspace(t, db, "owner@example.com", "Acme Inc", "acme")
	recent, _ := billingOwnerWorkspace(t, db, "other@example.com", "Beta", "beta")
	now := time.Now().UTC()
	for id, failed := range map[int64]time.Time{overdue.ID: now.Add(-8 * 24 * time.Hour), recent.ID: now.Add(-24 * time.Hour)} {
		if _, err := db.SQL().ExecContext(context.Background(), db.Rebind(`UPDATE workspaces SET payment_failed_at = ? WHERE id = ?`), failed, id); err != nil {
			t.Fatal(err)
		}
	}
	env := config.Env{"DATABASE_URL": dbURL, "BILLING_GRACE_DAYS": "7"}
	res := runAtrium(t, env, "billing", "restrict")
	if res.Code != 0 || !strings.Contains(res.Stdout, "Restricted 1 workspace(s)") {
		t.Fatalf("billing restrict: exit %d\n%s", res.Code, res.Output())
	}
	if res := runAtrium(t, env, "billing", "restrict"); res.Code != 0 || !strings.Contains(res.Stdout, "Restricted 0 workspace(s)") {
		t.Errorf("second run: exit %d\n%s", res.Code, res.Output())
	}
	if !billingWorkspace(t, db, "acme").Restricted() || billingWorkspace(t, db, "beta").Restricted() {
		t.Errorf("acme restricted %v, beta restricted %v; want only acme", billingWorkspace(t, db, "acme").RestrictedAt, billingWorkspace(t, db, "beta").RestrictedAt)
	}
	if n := billingAudits(t, db, overdue.ID, app.ActionRestricted); n != 1 {
		t.Errorf("%d %s entries, want 1", n, app.ActionRestricted)
	}
	if res := runAtrium(t, env, "billing", "restrict", "acme"); res.Code != 2 || !strings.Contains(res.Stderr, "billing restrict takes no arguments") {
		t.Errorf("restrict with an argument: exit %d\n%s", res.Code, res.Output())
	}
}
