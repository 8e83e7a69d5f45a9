package demo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/demo"
	"atrium/internal/store/storetest"
)

// volumeTables are the tables SeedVolume writes.
var volumeTables = []string{"users", "sessions", "workspaces", "memberships", "invites", "audit_logs", "stripe_events"}

// setClock fixes db's clock at the time the store's tests use and
// returns it.
func setClock(db *store.DB) time.Time {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	return now
}

// seedSmallVolume seeds the demo data and the small volume at the test
// clock's time, checking the progress it reports.
func seedSmallVolume(t *testing.T, db *store.DB) demo.Volume {
	t.Helper()
	setClock(db)
	v, err := demo.FindVolume("small")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.SeedDemo(ctx); err != nil {
		t.Fatalf("SeedDemo: %v", err)
	}
	var last, total int64
	created, err := demo.SeedVolume(ctx, db, v, func(done, all int64) {
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		last, total = done, all
	})
	if err != nil {
		t.Fatalf("SeedVolume: %v", err)
	}
	if !created {
		t.Fatal("SeedVolume on a fresh database created nothing")
	}
	if last != total || total == 0 {
		t.Errorf("progress ended at %d of %d", last, total)
	}
	return v
}

// fingerprint returns each volume table's row count and a SHA-256 of all
// its rows in id order.
func fingerprint(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range volumeTables {
		rows, err := db.SQL().QueryContext(context.Background(), "SELECT * FROM "+table+" ORDER BY id")
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		h, n := sha256.New(), 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(h, "%v\x1f", v)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		rows.Close()
		out[table] = fmt.Sprintf("%d rows, sha256 %s", n, hex.EncodeToString(h.Sum(nil)))
	}
	return out
}

func TestDB_SeedVolume(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		v := seedSmallVolume(t, db)
		ctx := context.Background()

		t.Run("Deterministic", func(t *testing.T) {
			other := storetest.Open(t, db.Dialect())
			seedSmallVolume(t, other)
			if diff := cmp.Diff(fingerprint(t, db), fingerprint(t, other)); diff != "" {
				t.Errorf("two seeds of fresh databases differ (-first +second):\n%s", diff)
			}
		})

		// The seed ends with ANALYZE: the planner knows the invites (and
		// every other table) as they now are.
		t.Run("Analyzed", func(t *testing.T) {
			q := "SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'invites'"
			if db.Dialect() == store.SQLite {
				q = "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'invites'"
			}
			if got := storetest.Count(t, db, q); got == 0 {
				t.Errorf("no planner statistics on invites after SeedVolume (%s)", q)
			}
			// On PostgreSQL it vacuums as well, as autovacuum would: the
			// big workspace's row is read without walking the row versions
			// its member count left behind.
			if db.Dialect() == store.Postgres {
				q := `SELECT COUNT(*) FROM pg_stat_user_tables WHERE schemaname = current_schema()
					AND relname = 'workspaces' AND last_vacuum IS NOT NULL`
				if got := storetest.Count(t, db, q); got != 1 {
					t.Error("workspaces was not vacuumed after SeedVolume")
				}
			}
		})

		t.Run("Shape", func(t *testing.T) {
			for _, c := range []struct {
				what  string
				query string
				want  int
			}{
				{"volume users", "SELECT COUNT(*) FROM users WHERE email LIKE '%@volume.example.com'", v.Users},
				{"live sessions", "SELECT COUNT(*) FROM sessions WHERE expires_at > ?", v.Users},
				{"volume workspaces", "SELECT COUNT(*) FROM workspaces WHERE slug LIKE 'ws-%' OR slug = 'big'", v.Workspaces},
				{"members of big", "SELECT COUNT(*) FROM memberships m JOIN workspaces w ON w.id = m.workspace_id WHERE w.slug = 'big'", v.BigMembers},
				{"volume invites", "SELECT COUNT(*) FROM invites WHERE email LIKE '%@volume.example.com'", v.Invites},
				{"audit entries", "SELECT COUNT(*) FROM audit_logs WHERE ip LIKE '198.51.100.%'", v.Audit},
				{"acme audit entries", "SELECT COUNT(*) FROM audit_logs a JOIN workspaces w ON w.id = a.workspace_id WHERE w.slug = 'acme' AND a.ip LIKE '198.51.100.%'", v.AcmeAudit},
				{"stripe events", "SELECT COUNT(*) FROM stripe_events", v.StripeEvents},
			} {
				var args []any
				if c.what == "live sessions" {
					args = append(args, db.Now())
				}
				if got := storetest.Count(t, db, c.query, args...); got != c.want {
					t.Errorf("%s = %d, want %d", c.what, got, c.want)
				}
			}
			founder, err := store.NewUserService(db).FindUserByEmail(ctx, store.DemoOwnerEmail)
			if err != nil {
				t.Fatal(err)
			}
			ws, m, err := store.NewWorkspaceService(db).FindWorkspaceForMember(ctx, demo.BigSlug, founder.ID)
			if err != nil {
				t.Fatalf("the demo owner cannot open %q: %v", demo.BigSlug, err)
			}
			if m.Role != app.RoleOwner {
				t.Errorf("the demo owner's role in %q = %q, want owner", demo.BigSlug, m.Role)
			}
			members, err := store.NewMemberService(db).FindMembers(ctx, app.Scope{WorkspaceID: ws.ID, UserID: founder.ID})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(members), v.BigMembers; got != want {
				t.Errorf("members of %q = %d, want %d", demo.BigSlug, got, want)
			}
		})

		// The generated entries are chained as the app chains its own, on
		// top of the demo data's.
		t.Run("Verifies", func(t *testing.T) {
			var total int64
			reps, err := db.VerifyAudit(ctx, store.VerifyOptions{})
			if err != nil {
				t.Fatalf("VerifyAudit: %v", err)
			}
			for _, r := range reps {
				if r.Break != nil {
					t.Errorf("chain %d breaks at id %d (%s): expected %s, found %s", r.WorkspaceID, r.Break.ID, r.Break.Field,
						r.Break.Expected, r.Break.Found)
				}
				total += r.Checked
			}
			if all := int64(storetest.Count(t, db, "SELECT COUNT(*) FROM audit_logs")); total != all {
				t.Errorf("verified %d entries, the log holds %d", total, all)
			}
		})

		t.Run("Again", func(t *testing.T) {
			before := fingerprint(t, db)
			created, err := demo.SeedVolume(ctx, db, v, nil)
			if err != nil || created {
				t.Fatalf("second SeedVolume = %v, %v; want false, nil", created, err)
			}
			if diff := cmp.Diff(before, fingerprint(t, db)); diff != "" {
				t.Errorf("second SeedVolume changed rows:\n%s", diff)
			}
		})

		// Ids were written explicitly: new rows must still get fresh ones.
		t.Run("NewRowsAfter", func(t *testing.T) {
			now := setClock(db)
			auth := store.NewAuthService(db)
			email := "after-volume@example.com"
			_, login := app.NewToken()
			if err := auth.CreateLoginRequest(ctx, app.LoginRequest{Email: email, TokenHash: login, ExpiresAt: now.Add(app.LoginTokenTTL)},
				app.Email{To: email, Subject: "Sign in", Text: "link", Ref: "login"}); err != nil {
				t.Fatal(err)
			}
			_, session := app.NewToken()
			u, _, err := auth.CompleteLogin(ctx, login, app.NewSession{TokenHash: session})
			if err != nil {
				t.Fatalf("sign up after the volume seed: %v", err)
			}
			uctx := app.WithPrincipal(ctx, &app.Principal{User: *u})
			ws, err := store.NewWorkspaceService(db).CreateWorkspace(uctx, "After Volume", "")
			if err != nil {
				t.Fatalf("CreateWorkspace after the volume seed: %v", err)
			}
			_, invite := app.NewToken()
			if _, err := store.NewInviteService(db).CreateInvite(uctx, app.ScopeOf(uctx, ws.ID), app.NewInvite{Email: "someone@example.com",
				Role: app.RoleMember, TokenHash: invite, ExpiresAt: now.Add(app.InviteTTL)}, app.PlanLimits{},
				func(inv *app.Invite, _ string) app.InviteEmail {
					return app.InviteEmail{Email: app.Email{To: inv.Email, Subject: "Join " + inv.WorkspaceName, Text: "Join"}}
				}); err != nil {
				t.Fatalf("CreateInvite after the volume seed: %v", err)
			}
		})
	})
}
