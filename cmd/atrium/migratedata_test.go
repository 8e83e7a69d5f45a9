package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"atrium/internal/config"
	"atrium/internal/store"
	"atrium/internal/store/ops"
	"atrium/internal/store/storetest"
)

// volumeSQL adds a small volume data set to a seeded SQLite database:
// 2,000 users, 200 workspaces with 2,000 memberships, 10,000 audit entries
// and 2,000 outbox rows.
var volumeSQL = []string{
	`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
	 INSERT INTO users (email, name, time_zone, created_at, updated_at)
	 SELECT 'vol' || i || '@example.com', 'Volume ' || i, 'Europe/Paris', '2026-01-02 03:04:05.123456+00:00', '2026-01-02 03:04:05+00:00' FROM n`,
	`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
	 INSERT INTO workspaces (name, slug, plan, created_at, updated_at, cancel_at_period_end)
	 SELECT 'Volume ' || i, 'volume-' || i, 'free', '2026-01-02 03:04:05+00:00', '2026-01-02 03:04:05+00:00', i % 2 FROM n`,
	`INSERT INTO memberships (workspace_id, user_id, role, created_at, updated_at)
	 SELECT w.id, u.id, 'member', '2026-01-02 03:04:05+00:00', '2026-01-02 03:04:05+00:00'
	 FROM workspaces w JOIN users u ON u.id % 200 = w.id % 200 WHERE w.slug LIKE 'volume-%' AND u.email LIKE 'vol%'`,
	`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
	 INSERT INTO audit_logs (workspace_id, actor_user_id, action, metadata, created_at)
	 SELECT i % 200 + 1, i % 2000 + 1, 'member.added', '{"n": ' || i || ', "note": "vol"}', '2026-01-02 03:04:05+00:00' FROM n`,
	`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
	 INSERT INTO mail_outbox (to_addr, subject, text_body, status, next_attempt_at, created_at, sent_at)
	 SELECT 'vol' || i || '@example.com', 'Hello', '', 'sent', '2026-01-02 03:04:05+00:00', '2026-01-02 03:04:05+00:00', '2026-01-02 03:04:06+00:00' FROM n`,
	`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3)
	 INSERT INTO mail_outbox (to_addr, subject, text_body, status, next_attempt_at, created_at)
	 SELECT 'waiting' || i || '@example.com', 'Hello', 'body', 'pending', '2026-01-02 03:04:05+00:00', '2026-01-02 03:04:05+00:00' FROM n`,
	// A webhook event still to fan out (its endpoint list may name none
	// that exists: the fan-out leaves those out).
	`INSERT INTO webhook_events (audit_id, message_id, endpoints, created_at)
	 SELECT MAX(id), 'msg_waiting', '1', '2026-01-02 03:04:05+00:00' FROM audit_logs`,
}

// migrateDataSource returns a SQLite database holding the demo seed and
// the small volume data set, and its row counts by table.
func migrateDataSource(t *testing.T) (string, map[string]int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "atrium.db")
	if res := runAtrium(t, config.Env{"DATABASE_URL": "sqlite:" + path}, "seed"); res.Code != 0 {
		t.Fatalf("seed: %s", res.Output())
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range volumeSQL {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("volume data: %v\n%s", err, q)
		}
	}
	return "sqlite:" + path, tableCounts(t, db)
}

func tableCounts(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tb := range ops.CopyTables {
		var n int64
		if err := db.QueryRow("SELECT COUNT(*) FROM " + tb).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}

func checkCounts(t *testing.T, want map[string]int64, db *sql.DB) {
	t.Helper()
	got := tableCounts(t, db)
	for tb, n := range want {
		if got[tb] != n {
			t.Errorf("%s: %d rows in the target, want %d", tb, got[tb], n)
		}
	}
}

// TestMigrateData copies the seeded SQLite database with the small volume
// data set into PostgreSQL, checks it, and refuses to copy into the now
// non-empty target.
func TestMigrateData(t *testing.T) {
	if storetest.PostgresURL(t) == "" {
		t.Skip("TEST_DATABASE_URL is not set: migrate-data copies into PostgreSQL")
	}
	from, want := migrateDataSource(t)
	if want["users"] < 2000 || want["audit_logs"] < 10000 || want["memberships"] < 2000 {
		t.Fatalf("the source holds too little: %v", want)
	}
	to := clusterSchema(t)

	res := runAtrium(t, config.Env{}, "migrate-data", "--from", from, "--to", to)
	if res.Code != 0 {
		t.Fatalf("migrate-data: exit %d\n%s", res.Code, res.Output())
	}
	for _, line := range []string{"copied  users", "copied  audit_logs", fmt.Sprintf("Copied %d tables", len(ops.CopyTables))} {
		if !strings.Contains(res.Stdout, line) {
			t.Errorf("output lacks %q:\n%s", line, res.Stdout)
		}
	}
	target := openAdmin(t, to)
	checkCounts(t, want, target)

	// The job queue is not copied; the mail still to send is queued again.
	var pending, queued int
	if err := target.QueryRow("SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending'").Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if err := target.QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'send_email'
		AND (args->>'outbox_id')::bigint IN (SELECT id FROM mail_outbox WHERE status = 'pending')`).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if pending < 3 || queued != pending {
		t.Errorf("%d pending emails in the target, %d of them queued; want at least 3, all queued", pending, queued)
	}
	// So is the fan-out of the webhook event still waiting.
	var fanOuts int
	if err := target.QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'fan_out_webhooks'`).Scan(&fanOuts); err != nil {
		t.Fatal(err)
	}
	if want["webhook_events"] != 1 || fanOuts != 1 {
		t.Errorf("%d webhook events copied, %d fan-out jobs queued; want one of each", want["webhook_events"], fanOuts)
	}

	// The data reads back through the app's store as it was written.
	db, err := store.Open(context.Background(), store.Postgres, to, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws, err := store.NewBillingService(db).FindWorkspaceBySlug(context.Background(), "acme")
	if err != nil || ws.Plan != "pro" {
		t.Fatalf("acme after the copy: %+v, %v; want the seeded pro workspace", ws, err)
	}
	var tz, created string
	if err := target.QueryRow("SELECT time_zone, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM users WHERE email = 'vol7@example.com'").
		Scan(&tz, &created); err != nil || tz != "Europe/Paris" || created != "2026-01-02 03:04:05.123456" {
		t.Errorf("vol7 after the copy: %q %q (%v), want Europe/Paris 2026-01-02 03:04:05.123456", tz, created, err)
	}
	var cancels int
	if err := target.QueryRow("SELECT COUNT(*) FROM workspaces WHERE slug LIKE 'volume-%' AND cancel_at_period_end").Scan(&cancels); err != nil || cancels != 100 {
		t.Errorf("%d volume workspaces cancel at period end (%v), want 100 (booleans copied)", cancels, err)
	}
	var note string
	if err := target.QueryRow("SELECT metadata->>'note' FROM audit_logs WHERE action = 'member.added' LIMIT 1").Scan(&note); err != nil || note != "vol" {
		t.Errorf("audit metadata after the copy: %q (%v), want JSON with note=vol", note, err)
	}
	// New rows get ids past the copied ones.
	if _, err := target.Exec("INSERT INTO users (email, created_at, updated_at) VALUES ('new@example.com', now(), now())"); err != nil {
		t.Errorf("insert after the copy: %v (the id sequences were not moved on)", err)
	}

	t.Run("TargetNotEmpty", func(t *testing.T) {
		res := runAtrium(t, config.Env{}, "migrate-data", "--from", from, "--to", to)
		if res.Code != 1 || !strings.Contains(res.Stderr, "refusing to copy: the target database is not empty") {
			t.Fatalf("migrate-data into a filled database: exit %d, want 1 and a refusal\n%s", res.Code, res.Output())
		}
		want["users"]++ // the one inserted above, and nothing else
		checkCounts(t, want, target)
	})
}

// TestMigrateData_Interrupted stops a copy half way (a trigger makes the
// memberships table refuse rows), then runs the same command again once
// the cause is gone: it keeps the tables already copied and finishes.
func TestMigrateData_Interrupted(t *testing.T) {
	if storetest.PostgresURL(t) == "" {
		t.Skip("TEST_DATABASE_URL is not set: migrate-data copies into PostgreSQL")
	}
	from, want := migrateDataSource(t)
	to := clusterSchema(t)
	if res := runAtrium(t, config.Env{"DATABASE_URL": to}, "migrate", "up"); res.Code != 0 {
		t.Fatalf("migrate up: %s", res.Output())
	}
	target := openAdmin(t, to)
	for _, q := range []string{
		`CREATE FUNCTION refuse_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full (drill)'; END $$`,
		`CREATE TRIGGER refuse_memberships BEFORE INSERT ON memberships FOR EACH ROW EXECUTE FUNCTION refuse_rows()`,
	} {
		if _, err := target.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	res := runAtrium(t, config.Env{}, "migrate-data", "--from", from, "--to", to)
	if res.Code != 1 || !strings.Contains(res.Stderr, "the copy stopped") || !strings.Contains(res.Stderr, "memberships") {
		t.Fatalf("interrupted migrate-data: exit %d, want 1 naming memberships\n%s", res.Code, res.Output())
	}
	got := tableCounts(t, target)
	if got["users"] != want["users"] || got["workspaces"] != want["workspaces"] || got["memberships"] != 0 || got["audit_logs"] != 0 {
		t.Fatalf("after the interruption: %v; want users and workspaces copied, memberships and later tables empty", got)
	}

	if _, err := target.Exec("DROP TRIGGER refuse_memberships ON memberships"); err != nil {
		t.Fatal(err)
	}
	res = runAtrium(t, config.Env{}, "migrate-data", "--from", from, "--to", to)
	if res.Code != 0 {
		t.Fatalf("migrate-data run again: exit %d\n%s", res.Code, res.Output())
	}
	for _, line := range []string{"already users", "already workspaces", "copied  memberships", "copied  audit_logs"} {
		if !strings.Contains(res.Stdout, line) {
			t.Errorf("output of the second run lacks %q:\n%s", line, res.Stdout)
		}
	}
	checkCounts(t, want, target)
}
