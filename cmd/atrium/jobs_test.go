package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/store"
)

// TestJobs_CLI lists, cancels and retries a queued email's job through the
// command an operator runs, on a SQLite file.
func TestJobs_CLI(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atrium.db")
	env := config.Env{"DATABASE_URL": "sqlite:" + path}
	if res := runAtrium(t, env, "migrate", "up"); res.Code != 0 {
		t.Fatalf("migrate: %s", res.Output())
	}
	res := runAtrium(t, env, "jobs", "list")
	if res.Code != 0 || !strings.Contains(res.Stdout, "No unfinished jobs.") {
		t.Fatalf("jobs list on an empty queue: exit %d\n%s", res.Code, res.Output())
	}

	db, err := store.Open(context.Background(), store.SQLite, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.NewOutboxService(db).EnqueueEmail(context.Background(), app.Email{To: "ada@example.com", Subject: "Hi", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	res = runAtrium(t, env, "jobs", "list")
	if res.Code != 0 || !strings.Contains(res.Stdout, "send_email") || !strings.Contains(res.Stdout, "available") ||
		!strings.Contains(res.Stdout, "atrium jobs retry ID") {
		t.Fatalf("jobs list: exit %d, want the send_email job and the next step\n%s", res.Code, res.Output())
	}
	m := regexp.MustCompile(`(?m)^(\d+)\s+send_email\s+mail\s+available`).FindStringSubmatch(res.Stdout)
	if m == nil {
		t.Fatalf("jobs list does not show the job's id, kind, queue and state:\n%s", res.Stdout)
	}
	id := m[1]

	res = runAtrium(t, env, "jobs", "cancel", id, "--reason", "Ticket 4411: wrong recipient")
	if res.Code != 0 || !strings.Contains(res.Stdout, "is cancelled") {
		t.Fatalf("jobs cancel: exit %d\n%s", res.Code, res.Output())
	}
	if res := runAtrium(t, env, "jobs", "list", "--state", "cancelled"); !strings.Contains(res.Stdout, "send_email") {
		t.Fatalf("the cancelled job is not listed as cancelled:\n%s", res.Output())
	}
	res = runAtrium(t, env, "jobs", "retry", "--reason", "Ticket 4411: address fixed", id)
	if res.Code != 0 || !strings.Contains(res.Stdout, "is queued to run now") {
		t.Fatalf("jobs retry: exit %d\n%s", res.Code, res.Output())
	}
	// Both are in the system audit log, with their reasons.
	adb, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer adb.Close()
	for action, reason := range map[string]string{"job.cancelled": "wrong recipient", "job.retried": "address fixed"} {
		var n int
		if err := adb.QueryRow("SELECT COUNT(*) FROM audit_logs WHERE action = ? AND workspace_id IS NULL AND target_id = ? AND metadata LIKE ?",
			action, id, "%"+reason+"%").Scan(&n); err != nil || n != 1 {
			t.Errorf("%d %s entries with the reason %q (%v), want 1", n, action, reason, err)
		}
	}
	if res := runAtrium(t, env, "jobs", "list", "--kind", "send_email"); !strings.Contains(res.Stdout, "available") {
		t.Fatalf("the retried job is not available again:\n%s", res.Output())
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"jobs", "retry", "abc"}, 2, `"abc" is not a job ID`},
		{[]string{"jobs", "retry"}, 2, "takes one job ID"},
		{[]string{"jobs", "list", "--state", "lost"}, 2, `"lost" is not a state`},
		{[]string{"jobs", "frobnicate"}, 2, `unknown action "frobnicate"`},
		{[]string{"jobs", "cancel", "999999", "--reason", "Ticket 1"}, 1, "There is no job 999999"},
		{[]string{"jobs", "retry", id, "--reason", "Ticket 1"}, 1, "only a job that failed"},
		{[]string{"jobs", "retry", id}, 2, "needs --reason TEXT"},
		{[]string{"jobs", "cancel", id, "--reason", "  "}, 2, "needs --reason TEXT"},
		{[]string{"jobs", "cancel", id, "extra", "--reason", "x"}, 2, "takes one job ID"},
	} {
		t.Run(strings.Join(tc.args[1:], "_"), func(t *testing.T) {
			res := runAtrium(t, env, tc.args...)
			if res.Code != tc.code || !strings.Contains(res.Output(), tc.want) {
				t.Errorf("%v: exit %d, want %d and %q\n%s", tc.args, res.Code, tc.code, tc.want, res.Output())
			}
		})
	}
}
