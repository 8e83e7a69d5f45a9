package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atrium/internal/app"
)

func TestWorkspace_BillingRules(t *testing.T) {
	for _, c := range []struct {
		plan, status, sub string
		pro, live         bool
	}{
		{app.PlanPro, app.SubActive, "sub_1", true, true},
		{app.PlanPro, app.SubTrialing, "sub_1", true, true},
		{app.PlanPro, app.SubPastDue, "sub_1", true, true},
		{app.PlanPro, app.SubActive, "", true, false},
		{app.PlanFree, app.SubCanceled, "sub_1", false, false},
		{app.PlanFree, app.SubUnpaid, "sub_1", false, false},
		{app.PlanFree, app.SubIncompleteExpired, "sub_1", false, false},
		{app.PlanFree, "", "", false, false},
	} {
		ws := &app.Workspace{Plan: c.plan, SubscriptionStatus: c.status, StripeSubscriptionID: c.sub}
		if got := ws.IsPaid(); got != c.pro {
			t.Errorf("%s/%s: IsPro = %v, want %v", c.plan, c.status, got, c.pro)
		}
		if got := ws.HasLiveSubscription(); got != c.live {
			t.Errorf("%s/%s/%q: HasLiveSubscription = %v, want %v", c.plan, c.status, c.sub, got, c.live)
		}
		if got, want := app.PlanFor(c.status, app.PlanPro) == app.PlanPro, app.ProStatus(c.status); got != want {
			t.Errorf("%s: PlanFor and ProStatus disagree", c.status)
		}
	}
}

// TestBillingRules_OneHome: which statuses count as Pro and what makes a
// live subscription are written once, in internal/app/billing.go; code
// elsewhere asks app.ProStatus, ws.IsPaid or ws.HasLiveSubscription.
func TestBillingRules_OneHome(t *testing.T) {
	root := filepath.Join("..", "..")
	home := filepath.Join(root, "internal", "app", "billing.go")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			strings.HasSuffix(path, "_templ.go") || path == home {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.Contains(line, `"past_due"`) || strings.Contains(line, `"trialing"`):
				t.Errorf("%s:%d: a subscription status written out; use the app.Sub… constants and app.ProStatus", path, i+1)
			case strings.Contains(line, "SubActive") && strings.Contains(line, "SubPastDue"):
				t.Errorf("%s:%d: a list of the statuses that count as Pro; use app.ProStatus", path, i+1)
			case strings.Contains(line, "StripeSubscriptionID") && strings.Contains(line, "SubscriptionStatus)") &&
				(strings.Contains(line, "PlanFor(") || strings.Contains(line, "ProStatus(")):
				t.Errorf("%s:%d: the live-subscription rule written again; use (*app.Workspace).HasLiveSubscription", path, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
