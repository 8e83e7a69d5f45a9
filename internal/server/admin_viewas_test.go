package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/mail/mailtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// viewAsFixture is a staff member and the user they support: Bob, owner of
// a workspace with a pending invite and an API key, signed in on his own
// browser.
type viewAsFixture struct {
	a           *testApp
	staff, bob  *browser
	bobID, wsID int64
	slug        string
	params      map[string]string
	staffEmail  string
}

func newViewAsFixture(t *testing.T, dialect string) *viewAsFixture {
	t.Helper()
	a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000"))
	f := &viewAsFixture{a: a, staffEmail: "ops@example.com"}
	f.staff = newStaff(t, a, f.staffEmail)
	f.bob = a.newBrowser(t)
	f.bob.signIn("bob@example.com")
	f.slug = createWorkspace(t, f.bob, "Bob Builders")
	f.bobID = userIDOf(t, a, "bob@example.com")
	f.wsID = workspaceID(t, a, f.slug, "bob@example.com")
	keyID := storetest.Count(t, a.DB, "SELECT COUNT(*) FROM api_keys")
	createKeyInBrowser(t, f.bob, f.slug, "deploy", app.ScopeRead)
	f.bob.Post("/w/"+f.slug+"/invites", url.Values{"email": {"pending@example.com"}, "role": {"member"}})
	id := strconv.FormatInt(f.bobID, 10)
	f.params = map[string]string{"slug": f.slug, "userID": id, "workspaceID": strconv.FormatInt(f.wsID, 10),
		"inviteID": "1", "keyID": strconv.Itoa(keyID + 1), "token": strings.Repeat("A", 43), "passkeyID": "1", "id": "1", "entryID": "1", "jobID": "1"}
	return f
}

// start begins a read-only view as Bob and returns the page it lands on.
func (f *viewAsFixture) start(t *testing.T) *response {
	t.Helper()
	form := f.staff.Get("/admin/users/" + strconv.FormatInt(f.bobID, 10) + "/view-as")
	if form.StatusCode != http.StatusOK {
		t.Fatalf("view-as form: %d\n%s", form.StatusCode, form.Body)
	}
	if res := f.staff.Submit(form, "admin-confirm-submit", url.Values{"reason": {""}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("view as without a reason: %d, want 422", res.StatusCode)
	}
	res := f.staff.Submit(form, "admin-confirm-submit", url.Values{"reason": {"ticket 9: cannot see invoices"}})
	if res.StatusCode != http.StatusSeeOther || res.Location() != "/app" {
		t.Fatalf("start view: %d %q\n%s", res.StatusCode, res.Location(), res.Body)
	}
	return f.staff.Follow(res)
}

// state is what a refused request must leave as it was.
func (f *viewAsFixture) state(t *testing.T) string {
	t.Helper()
	var parts []string
	for _, q := range []string{"SELECT COUNT(*) FROM workspaces", "SELECT COUNT(*) FROM memberships", "SELECT COUNT(*) FROM invites WHERE status = 'pending'",
		"SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL", "SELECT COUNT(*) FROM sessions", "SELECT COUNT(*) FROM users",
		"SELECT COUNT(*) FROM mail_outbox", "SELECT COUNT(*) FROM passkeys", "SELECT COUNT(*) FROM user_totp",
		"SELECT COUNT(*) FROM audit_logs WHERE action NOT LIKE 'staff.%'"} {
		parts = append(parts, strconv.Itoa(storetest.Count(t, f.a.DB, q)))
	}
	var name, email string
	if err := f.a.DB.SQL().QueryRowContext(context.Background(), f.a.DB.Rebind("SELECT name, email FROM users WHERE id = ?"), f.bobID).Scan(&name, &email); err != nil {
		t.Fatal(err)
	}
	return strings.Join(parts, ",") + "|" + name + "|" + email
}

// TestViewAs_ReadOnlyEveryPost walks every state-changing route of the
// router (chi.Walk, so a route added later is covered without editing
// this test) during a read-only view: each is refused with a sentence and
// changes nothing, the console's own actions included, but for Stop and
// the write session's start.
func TestViewAs_ReadOnlyEveryPost(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newViewAsFixture(t, dialect)
			f.start(t)
			before := f.state(t)
			var n int
			for _, rt := range routesOf(t, f.a) {
				if rt.method == http.MethodGet || rt.method == http.MethodHead || !browserRoute(rt.pattern) ||
					rt.pattern == "/admin/view-as/stop" || rt.pattern == "/admin/view-as/write" {
					continue
				}
				n++
				path := fillRoute(rt.pattern, f.params)
				form := url.Values{"confirm": {"yes"}, "reason": {"walk"}, "name": {"Changed"}, "email": {"x@example.com"},
					"role": {"admin"}, "slug": {"changed"}, "code": {"123456"}, "skip": {"1"}}
				res := f.staff.send(rt.method, path, form)
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s during a read-only view: status=%d, want 403\n%s", rt.method, path, res.StatusCode, res.Text("error-message"))
					continue
				}
				if msg := res.Text("error-message"); msg == "" || !res.Has("view-as-banner") {
					t.Errorf("%s %s: refused without a sentence or banner", rt.method, path)
				}
			}
			if n < 30 {
				t.Fatalf("walked %d state-changing routes, expected every one of them", n)
			}
			if after := f.state(t); after != before {
				t.Errorf("refused requests changed state:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestViewAs_Journey: the banner is on every page the view opens, the
// user's factors, keys, sessions and email stay closed, each visited
// workspace's log and the system log get the start and the end with the
// staff member "as" the user, Stop returns to the staff identity, a write
// session acts and emails the user, an expired view ends, and the user's
// own session is never touched.
func TestViewAs_Journey(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newViewAsFixture(t, dialect)
			home := f.start(t)
			if !home.Has("view-as-banner") || home.Text("view-as-staff") == "" || home.Text("view-as-mode") != "read-only" {
				t.Fatalf("no banner after starting:\n%s", home.Body)
			}

			t.Run("banner on every page", func(t *testing.T) {
				for _, rt := range routesOf(t, f.a) {
					if rt.method != http.MethodGet || !browserRoute(rt.pattern) || strings.HasSuffix(rt.pattern, ".txt") ||
						strings.HasSuffix(rt.pattern, ".xml") || strings.HasSuffix(rt.pattern, "/export") {
						continue
					}
					path := fillRoute(rt.pattern, f.params)
					res := f.staff.Get(path)
					if res.StatusCode >= 300 && res.StatusCode < 400 {
						continue
					}
					if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
						continue
					}
					if !res.Has("view-as-banner") {
						t.Errorf("GET %s (%d): no view-as banner", path, res.StatusCode)
					}
				}
			})

			t.Run("closed paths", func(t *testing.T) {
				for _, p := range []string{"/settings/account", "/settings/account/two-factor/app", "/settings/account/two-factor/recovery-codes",
					"/settings/account/confirm", "/w/" + f.slug + "/settings/api-keys", "/w/" + f.slug + "/settings/api-keys/1/created",
					"/login", "/settings/account/", "/w/" + f.slug + "/settings/api-keys/", "/settings/account/no-such-page"} {
					res := f.staff.Get(p)
					if res.StatusCode != http.StatusForbidden {
						t.Errorf("GET %s during a view: %d, want 403", p, res.StatusCode)
					}
					if strings.Contains(res.Body, "deploy") || res.Has("totp-secret") || res.Has("recovery-codes") {
						t.Errorf("GET %s shows the user's keys or factors", p)
					}
				}
			})

			// Open Bob's workspace: its log gets the start, once.
			if res := f.staff.Get("/w/" + f.slug); res.StatusCode != http.StatusOK || !res.Has("view-as-banner") {
				t.Fatalf("workspace during a view: %d", res.StatusCode)
			}
			f.staff.Get("/w/" + f.slug + "/members")
			started := storetest.Count(t, f.a.DB, "SELECT COUNT(*) FROM audit_logs WHERE workspace_id = ? AND action = ?", f.wsID, app.ActionImpersonationStarted)
			if started != 1 {
				t.Errorf("%d start entries in the workspace's log, want 1", started)
			}

			// Stop: back to the staff member.
			stop := f.staff.Submit(f.staff.Get("/w/"+f.slug), "view-as-stop", nil)
			if stop.StatusCode != http.StatusSeeOther || stop.Location() != "/admin/users/"+strconv.FormatInt(f.bobID, 10) {
				t.Fatalf("stop: %d %q", stop.StatusCode, stop.Location())
			}
			back := f.staff.Follow(stop)
			if back.Has("view-as-banner") || back.Text("admin-who") == "" || !strings.Contains(back.Body, f.staffEmail) {
				t.Errorf("after Stop the console is not the staff member's:\n%s", back.Body)
			}
			if res := f.staff.Get("/w/" + f.slug); res.StatusCode != http.StatusNotFound {
				t.Errorf("after Stop, Bob's workspace answers the staff member %d, want 404", res.StatusCode)
			}
			for _, tc := range []struct {
				ws     any
				action string
			}{{nil, app.ActionImpersonationStarted}, {nil, app.ActionImpersonationEnded},
				{f.wsID, app.ActionImpersonationStarted}, {f.wsID, app.ActionImpersonationEnded}} {
				q, args := "SELECT COUNT(*) FROM audit_logs WHERE workspace_id IS NULL AND action = ? AND actor_user_id = ? AND actor_name LIKE ?",
					[]any{tc.action, userIDOf(t, f.a, f.staffEmail), "% as %"}
				if tc.ws != nil {
					q = strings.Replace(q, "workspace_id IS NULL", "workspace_id = ?", 1)
					args = append([]any{tc.ws}, args...)
				}
				if got := storetest.Count(t, f.a.DB, q, args...); got != 1 {
					t.Errorf("workspace %v: %d %s entries by the staff member as the user, want 1", tc.ws, got, tc.action)
				}
			}

			t.Run("write session", func(t *testing.T) {
				f.start(t)
				form := f.staff.Get("/admin/view-as/write")
				if res := f.staff.Submit(form, "admin-confirm-submit", url.Values{"reason": {""}}); res.StatusCode != http.StatusUnprocessableEntity {
					t.Errorf("write session without a reason: %d", res.StatusCode)
				}
				if res := f.staff.Submit(form, "admin-confirm-submit", url.Values{"reason": {"ticket 9: rename as asked"}}); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("start write session: %d", res.StatusCode)
				}
				if res := f.staff.Post("/w/"+f.slug+"/settings", url.Values{"name": {"Bob Builders Ltd"}, "slug": {f.slug}}); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("rename during a write session: %d\n%s", res.StatusCode, res.Text("error-message"))
				}
				// Still never the user's account, keys or checkout.
				for _, p := range []string{"/settings/account", "/w/" + f.slug + "/settings/api-keys", "/w/" + f.slug + "/billing/checkout"} {
					if res := f.staff.Post(p, url.Values{"name": {"x"}, "confirm": {"yes"}}); res.StatusCode != http.StatusForbidden {
						t.Errorf("POST %s in a write session: %d, want 403", p, res.StatusCode)
					}
				}
				renamed := storetest.Count(t, f.a.DB, "SELECT COUNT(*) FROM audit_logs WHERE workspace_id = ? AND action = ? AND actor_user_id = ? AND CAST(metadata AS TEXT) LIKE ?",
					f.wsID, app.ActionWorkspaceRenamed, userIDOf(t, f.a, f.staffEmail), "%bob@example.com%")
				if renamed != 1 {
					t.Errorf("the rename is not recorded as the staff member's as Bob")
				}
				f.staff.Post("/admin/view-as/stop", nil)
				msg := f.a.SMTP.WaitForMessageMatching(t, "bob@example.com", 5*time.Second, func(m *mailtest.Message) bool {
					return strings.Contains(m.Subject, "Support made changes")
				})
				if !strings.Contains(msg.Text, "rename as asked") {
					t.Errorf("the email lacks the write session's reason:\n%s", msg.Text)
				}
			})

			t.Run("expiry", func(t *testing.T) {
				f.start(t)
				f.a.Clock.Add(app.ImpersonationTTL + time.Second)
				res := f.staff.Get("/app")
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/admin/users/") {
					t.Fatalf("an expired view: %d %q", res.StatusCode, res.Location())
				}
				if f.staff.Follow(res).Has("view-as-banner") {
					t.Error("the banner outlives the view")
				}
				expired := storetest.Count(t, f.a.DB, "SELECT COUNT(*) FROM audit_logs WHERE workspace_id IS NULL AND action = ? AND CAST(metadata AS TEXT) LIKE ?",
					app.ActionImpersonationEnded, "%expired%")
				if expired != 1 {
					t.Errorf("%d expiry entries, want 1", expired)
				}
			})

			// Bob's own session was never touched.
			if res := f.bob.Get("/w/" + f.slug); res.StatusCode != http.StatusOK || res.Has("view-as-banner") {
				t.Errorf("Bob's own browser: %d", res.StatusCode)
			}
			if _, err := store.NewAdminService(f.a.DB).FindStaff(context.Background(), f.bobID); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("Bob became staff? %v", err)
			}
		})
	}
}
