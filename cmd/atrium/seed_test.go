package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atrium/internal/config"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// databaseURL returns a DATABASE_URL for a fresh, empty database of the
// dialect.
func databaseURL(t *testing.T, dialect string) string {
	t.Helper()
	_, dsn := storetest.DSN(t, dialect)
	if dialect == store.SQLite {
		return "sqlite:" + dsn
	}
	return dsn
}

// rowCounts counts the rows of the tables the seed writes.
func rowCounts(t *testing.T, dbURL string) map[string]int {
	t.Helper()
	cfg, err := config.Load(config.Env{"DATABASE_URL": dbURL})
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]int{}
	for _, table := range []string{"users", "workspaces", "memberships", "invites", "audit_logs", "mail_outbox"} {
		var n int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// TestSeed_Twice runs "atrium seed" twice on each database: the first run
// migrates and creates the demo data, the second creates nothing.
func TestSeed_Twice(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := config.Env{"DATABASE_URL": databaseURL(t, dialect)}
			first := runAtrium(t, env, "seed")
			if first.Code != 0 {
				t.Fatalf("seed: exit status %d\n%s", first.Code, first.Output())
			}
			if !strings.HasPrefix(first.Stdout, "Database: "+dialect) {
				t.Errorf("seed does not name the database first:\n%s", first.Stdout)
			}
			for _, want := range []string{"applied migration 00001", "created  workspace acme", "created  workspace demo-studio",
				"Seeded 33 user(s) and 2 workspace(s). No email was sent.", "Sign in as founder@example.com"} {
				if !strings.Contains(first.Stdout, want) {
					t.Errorf("first seed output lacks %q:\n%s", want, first.Stdout)
				}
			}
			counts := rowCounts(t, env["DATABASE_URL"])

			second := runAtrium(t, env, "seed")
			if second.Code != 0 {
				t.Fatalf("second seed: exit status %d\n%s", second.Code, second.Output())
			}
			if strings.Contains(second.Stdout, "created ") || !strings.Contains(second.Stdout, "Nothing to do") {
				t.Errorf("second seed created something:\n%s", second.Stdout)
			}
			if got := rowCounts(t, env["DATABASE_URL"]); !mapsEqual(got, counts) {
				t.Errorf("row counts after the second seed %v, after the first %v", got, counts)
			}
			if counts["mail_outbox"] != 0 {
				t.Errorf("the seed queued %d emails, want none", counts["mail_outbox"])
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSeed_Production refuses APP_ENV=production without --force and
// touches nothing.
func TestSeed_Production(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "prod.db")
	env := config.Env{"DATABASE_URL": "sqlite:" + path, "APP_ENV": "production", "SMTP_HOST": "smtp.example.com"}
	res := runAtrium(t, env, "seed")
	if res.Code != 1 {
		t.Fatalf("seed in production: exit status %d, want 1\n%s", res.Code, res.Output())
	}
	if !strings.HasPrefix(res.Stdout, "Database: sqlite:"+path) {
		t.Errorf("seed does not name the database before refusing:\n%s", res.Stdout)
	}
	if want := "refusing to seed: APP_ENV=production"; !strings.Contains(res.Stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the refused seed created the database file (stat: %v)", err)
	}
	res = runAtrium(t, env, "seed", "--force")
	if res.Code != 0 || !strings.Contains(res.Stdout, "Seeded 33 user(s)") {
		t.Fatalf("seed --force in production: exit status %d\n%s", res.Code, res.Output())
	}
}

// TestSeed_ThenSignIn follows the README: after seeding, the app lets you
// sign in as founder@example.com and shows the demo workspaces.
func TestSeed_ThenSignIn(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "atrium.db")
	if res := runAtrium(t, config.Env{"DATABASE_URL": dbURL}, "seed"); res.Code != 0 {
		t.Fatalf("seed: exit status %d\n%s", res.Code, res.Output())
	}
	srv := startServe(t, config.Env{"DATABASE_URL": dbURL})
	c := newClient(t, srv.URL)
	requestLink(t, c, store.DemoOwnerEmail)
	line := srv.waitForLog(t, "email not sent (stub mode", 10*time.Second)
	links, _ := line["links"].([]any)
	if len(links) == 0 {
		t.Fatalf("stub mail line has no links: %v", line)
	}
	link, _ := links[0].(string)
	verify := c.Get(link)
	if res := c.Submit(verify, "verify-submit"); res.Status != http.StatusSeeOther {
		t.Fatalf("POST /auth/verify: status %d\n%s", res.Status, res.Body)
	}
	home := c.Get("/app")
	if home.Status != http.StatusSeeOther || home.Location != "/w/acme" {
		t.Fatalf("GET /app: status %d, Location %q; want 303 to /w/acme", home.Status, home.Location)
	}
	for path, wants := range map[string][]string{
		"/w/acme":                {"Acme Inc"},
		"/w/acme/members":        {"teammate@example.com", "newhire@example.com"},
		"/w/acme/audit":          {"invite.sent"},
		"/w/acme/billing":        {"Pro"},
		"/w/demo-studio/members": {"demo-invite@example.com"},
		"/settings/workspaces":   {"Acme Inc", "Demo Studio"},
	} {
		p := c.Get(path)
		if p.Status != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", path, p.Status)
			continue
		}
		for _, want := range wants {
			if !strings.Contains(p.Body, want) {
				t.Errorf("GET %s: page lacks %q", path, want)
			}
		}
	}
}

// TestSeed_VolumeProduction refuses a generated data set when
// APP_ENV=production, even with --force, and touches nothing.
func TestSeed_VolumeProduction(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "prod.db")
	env := config.Env{"DATABASE_URL": "sqlite:" + path, "APP_ENV": "production", "SMTP_HOST": "smtp.example.com"}
	for _, args := range [][]string{{"seed", "--volume", "small"}, {"seed", "--force", "--volume", "large"}} {
		res := runAtrium(t, env, args...)
		if res.Code != 1 {
			t.Fatalf("%v in production: exit status %d, want 1\n%s", args, res.Code, res.Output())
		}
		if want := "refusing to seed a data volume: APP_ENV=production"; !strings.Contains(res.Stderr, want) {
			t.Errorf("%v: stderr lacks %q:\n%s", args, want, res.Stderr)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%v: the refused seed created the database file (stat: %v)", args, err)
		}
	}
	if res := runAtrium(t, env, "seed", "--volume", "huge"); res.Code != 2 || !strings.Contains(res.Stderr, `Unknown volume "huge"`) {
		t.Errorf("seed --volume huge: exit status %d, want 2 naming the volume\n%s", res.Code, res.Output())
	}
}

// TestSeed_Volume generates the small data set, reports progress, leaves
// it alone the second time, and the demo owner signs in as usual and sees
// the big workspace's members.
func TestSeed_Volume(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "atrium.db")
	env := config.Env{"DATABASE_URL": dbURL}
	first := runAtrium(t, env, "seed", "--volume", "small")
	if first.Code != 0 {
		t.Fatalf("seed --volume small: exit status %d\n%s", first.Code, first.Output())
	}
	for _, want := range []string{"Seeded 33 user(s)", "Generating the small data set", " 50%", "100%",
		`Generated the small data set in`, `Workspace "big" (200 members) is owned by founder@example.com`} {
		if !strings.Contains(first.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, first.Stdout)
		}
	}
	if strings.Contains(first.Stdout, "\r") {
		t.Errorf("progress redrawn in place although stdout is not a terminal:\n%q", first.Stdout)
	}
	second := runAtrium(t, env, "seed", "--volume", "small")
	if second.Code != 0 || !strings.Contains(second.Stdout, `Nothing to do: workspace "big" exists`) {
		t.Fatalf("second seed --volume small: exit status %d\n%s", second.Code, second.Output())
	}

	srv := startServe(t, env)
	c := newClient(t, srv.URL)
	requestLink(t, c, store.DemoOwnerEmail)
	line := srv.waitForLog(t, "email not sent (stub mode", 10*time.Second)
	links, _ := line["links"].([]any)
	if len(links) == 0 {
		t.Fatalf("stub mail line has no links: %v", line)
	}
	link, _ := links[0].(string)
	if res := c.Submit(c.Get(link), "verify-submit"); res.Status != http.StatusSeeOther {
		t.Fatalf("POST /auth/verify: status %d\n%s", res.Status, res.Body)
	}
	p := c.Get("/w/big/members")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "user000001@volume.example.com") {
		t.Errorf("GET /w/big/members: status %d, want 200 listing user000001@volume.example.com", p.Status)
	}
}
