package server_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/riverqueue/river/rivertype"

	"atrium/internal/app"
	"atrium/internal/mail/mailtest"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// route is one method and pattern of the app's router.
type route struct{ method, pattern string }

// routesOf walks the router's table (chi.Walk): every route, so that a test
// built on it covers routes added later without being edited.
func routesOf(t *testing.T, a *testApp) []route {
	t.Helper()
	rs, ok := a.Handler.(chi.Routes)
	if !ok {
		t.Fatalf("the handler is a %T, not a chi router", a.Handler)
	}
	var out []route
	err := chi.Walk(rs, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, route{method, strings.ReplaceAll(pattern, "/*/", "/")})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pattern+out[i].method < out[j].pattern+out[j].method })
	return out
}

// fillRoute puts ids into a route pattern's parameters.
func fillRoute(pattern string, params map[string]string) string {
	for k, v := range params {
		pattern = strings.ReplaceAll(pattern, "{"+k+"}", v)
	}
	return pattern
}

// browserRoute reports whether a route is one of the browser's (session,
// CSRF protection, the view-as middleware), not the API's, the webhook's,
// health checks or static files.
func browserRoute(p string) bool {
	for _, pre := range []string{"/api/", "/static/", "/healthz", "/readyz"} {
		if strings.HasPrefix(p, pre) {
			return false
		}
	}
	return true
}

// newStaff signs email up in a new browser, turns on an authenticator app,
// grants staff and signs in again with the app's code, so the session used
// a second factor.
func newStaff(t *testing.T, a *testApp, email string) *browser {
	t.Helper()
	b := a.newBrowser(t)
	b.signIn(email)
	secret, _ := turnOnTOTP(t, a, b)
	if _, err := store.NewAdminService(a.DB).GrantStaff(context.Background(), email); err != nil {
		t.Fatal(err)
	}
	b.Post("/logout", nil)
	res := enterCode(t, b, email, phoneCode(t, secret, a.Clock.Now()))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("staff sign-in with a code: %d\n%s", res.StatusCode, res.Body)
	}
	a.Clock.Add(app.TOTPPeriod)
	return b
}

// TestAdmin_HiddenFromEveryoneElse walks every /admin route of the router
// as a signed-out visitor, a signed-in user, an API key, and a staff
// member outside ADMIN_ALLOWED_NETWORKS: each gets the 404 of an unknown
// address and nothing changes. Staff without a second factor get the page
// telling them to set one up.
func TestAdmin_HiddenFromEveryoneElse(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000"))
			anon := a.newBrowser(t)
			user := a.newBrowser(t)
			user.signIn("user@example.com")
			slug := createWorkspace(t, user, "Users Co")
			key := createKeyInBrowser(t, user, slug, "bot", app.ScopeRead, app.ScopeWrite)
			keyed := a.newBrowser(t)
			keyed.Headers.Set("Authorization", "Bearer "+key)
			noFactor := a.newBrowser(t)
			noFactor.signIn("new-staff@example.com")
			if _, err := store.NewAdminService(a.DB).GrantStaff(context.Background(), "new-staff@example.com"); err != nil {
				t.Fatal(err)
			}
			params := map[string]string{"userID": strconv.FormatInt(userIDOf(t, a, "user@example.com"), 10),
				"workspaceID": strconv.FormatInt(workspaceID(t, a, slug, "user@example.com"), 10),
				"jobID":       strconv.FormatInt(insertJob(t, a, jobSpec{kind: "send_email", args: `{"outbox_id": 1}`, state: rivertype.JobStateDiscarded, attempt: 3}), 10)}
			entries := storetest.Count(t, a.DB, "SELECT COUNT(*) FROM audit_logs")
			var n int
			for _, rt := range routesOf(t, a) {
				if !strings.HasPrefix(rt.pattern, "/admin") {
					continue
				}
				n++
				path := fillRoute(rt.pattern, params)
				form := url.Values{"confirm": {"yes"}, "reason": {"walk"}}
				for name, b := range map[string]*browser{"anonymous": anon, "user": user, "API key": keyed} {
					res := b.send(rt.method, path, form)
					if res.StatusCode != http.StatusNotFound {
						t.Errorf("%s: %s %s status=%d, want 404", name, rt.method, path, res.StatusCode)
					}
					unknown := b.send(rt.method, "/no-such-page", form)
					if res.Text("error-page") != unknown.Text("error-page") {
						t.Errorf("%s: %s %s answers unlike an unknown address", name, rt.method, path)
					}
				}
				res := noFactor.send(rt.method, path, form)
				if res.StatusCode != http.StatusForbidden || !res.Has("admin-two-factor") {
					t.Errorf("staff without two-factor: %s %s status=%d, want the set-up page", rt.method, path, res.StatusCode)
				}
			}
			if n < 10 {
				t.Fatalf("walked %d console routes", n)
			}
			if got := storetest.Count(t, a.DB, "SELECT COUNT(*) FROM audit_logs"); got != entries {
				t.Errorf("refused console requests wrote %d audit entries", got-entries)
			}

			t.Run("network", func(t *testing.T) {
				b := newTestApp(t, dialect, withEnv("ADMIN_ALLOWED_NETWORKS", "192.0.2.0/24"))
				staff := newStaff(t, b, "ops@example.com")
				if res := staff.Get("/admin/users"); res.StatusCode != http.StatusNotFound {
					t.Errorf("staff outside the allowed networks: status=%d, want 404", res.StatusCode)
				}
			})
		})
	}
}

// TestAdmin_SearchAndActions: staff find a user and a workspace, their
// pages show what the console promises, and each action needs its
// confirmation and reason, then acts and is audited.
func TestAdmin_SearchAndActions(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000"))
			staff := newStaff(t, a, "ops@example.com")
			bob := a.newBrowser(t)
			bob.signIn("bob@example.com")
			slug := createWorkspace(t, bob, "Bob Builders")
			bobID := userIDOf(t, a, "bob@example.com")
			wsID := workspaceID(t, a, slug, "bob@example.com")
			key := createKeyInBrowser(t, bob, slug, "bot", app.ScopeRead, app.ScopeWrite)
			api := &apiClient{t: t, a: a, key: key}

			list := staff.Get("/admin/users?q=BOB")
			if list.StatusCode != http.StatusOK || list.Doc.Find(`[data-testid="admin-user-row"]`).Length() != 1 {
				t.Fatalf("search: %d\n%s", list.StatusCode, list.Body)
			}
			if bad := staff.Get("/admin/users?q=" + url.QueryEscape("bo\xff")); bad.StatusCode != http.StatusUnprocessableEntity || !bad.Has("admin-search-error") {
				t.Errorf("invalid UTF-8 search: %d", bad.StatusCode)
			}
			if res := staff.Get("/admin/users/999999"); res.StatusCode != http.StatusNotFound {
				t.Errorf("unknown user: %d", res.StatusCode)
			}
			if res := staff.Get("/admin/users/abc"); res.StatusCode != http.StatusNotFound {
				t.Errorf("bad id: %d", res.StatusCode)
			}
			page := staff.Get("/admin/users/" + strconv.FormatInt(bobID, 10))
			if page.Text("admin-user-email") != "bob@example.com" || !strings.Contains(page.Body, "Bob Builders") {
				t.Errorf("user page lacks the email or the workspace:\n%s", page.Body)
			}
			wsList := staff.Get("/admin/workspaces?q=bob")
			if wsList.Doc.Find(`[data-testid="admin-workspace-row"]`).Length() != 1 {
				t.Errorf("workspace search:\n%s", wsList.Body)
			}
			wsPage := staff.Get("/admin/workspaces/" + strconv.FormatInt(wsID, 10))
			if wsPage.Text("admin-workspace-slug") != "/w/"+slug || !strings.Contains(wsPage.Body, "bob@example.com") {
				t.Errorf("workspace page:\n%s", wsPage.Body)
			}

			suspend := "/admin/users/" + strconv.FormatInt(bobID, 10) + "/suspend"
			confirm := staff.Get(suspend)
			if !confirm.Has("admin-consequence") || !strings.Contains(confirm.Text("admin-consequence"), "API keys") {
				t.Fatalf("confirmation lacks the consequence:\n%s", confirm.Body)
			}
			if res := staff.Post(suspend, url.Values{"reason": {"ticket 1"}}); res.StatusCode != http.StatusOK || !res.Has("admin-confirm") {
				t.Errorf("unconfirmed POST: %d, want the confirmation", res.StatusCode)
			}
			if res := staff.Post(suspend, url.Values{"confirm": {"yes"}, "reason": {" "}}); res.StatusCode != http.StatusUnprocessableEntity ||
				!res.Has("admin-confirm") || !strings.Contains(res.Body, "Give the reason") {
				t.Errorf("no reason: %d, want 422 with the error beside the field", res.StatusCode)
			}
			res := staff.Submit(confirm, "admin-confirm-submit", url.Values{"reason": {"ticket 42"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("suspend: %d\n%s", res.StatusCode, res.Body)
			}
			// Bob is signed out, and signing in is refused with a sentence.
			if res := bob.Get("/app"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
				t.Errorf("suspended user's session still works: %d", res.StatusCode)
			}
			bob.Post("/login", url.Values{"email": {"bob@example.com"}})
			msg := a.SMTP.WaitForMessageMatching(t, "bob@example.com", 5*time.Second, mailtest.LinkTo(a.URL+"/auth/verify"))
			refused := bob.Submit(bob.Get(msg.Links()[0]), "verify-submit", nil)
			if refused.StatusCode != http.StatusForbidden || !strings.Contains(refused.Text("error-message"), "suspended") {
				t.Errorf("suspended sign-in: %d %q", refused.StatusCode, refused.Text("error-message"))
			}
			if got := staff.Get("/admin/users/" + strconv.FormatInt(bobID, 10)).Text("admin-user-status"); !strings.HasPrefix(got, "Suspended") {
				t.Errorf("status=%q", got)
			}
			// The workspace: suspended, it reads but refuses changes, its
			// keys included.
			wsSuspend := "/admin/workspaces/" + strconv.FormatInt(wsID, 10) + "/suspend"
			if res := staff.Post(wsSuspend, url.Values{"confirm": {"yes"}, "reason": {"abuse 7"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("suspend workspace: %d", res.StatusCode)
			}
			if storetest.Count(t, a.DB, "SELECT COUNT(*) FROM audit_logs WHERE workspace_id = ? AND action = ?", wsID, app.ActionWorkspaceSuspended) != 1 {
				t.Error("no workspace.suspended entry in the workspace's log")
			}
			// A suspended user's workspace keys still work (they act for the
			// workspace); a suspended workspace's keys read but do not write.
			if res := api.do("GET", "/members", nil); res.Status != http.StatusOK {
				t.Errorf("suspended workspace: API read %d, want 200", res.Status)
			}
			if res := api.do("POST", "/invites", map[string]string{"email": "new@example.com", "role": "member"}); res.Status != http.StatusForbidden ||
				!strings.Contains(string(res.Body), "suspended") {
				t.Errorf("suspended workspace: API write %d, want 403 naming the suspension\n%s", res.Status, res.Body)
			}
			unsuspend := "/admin/users/" + strconv.FormatInt(bobID, 10) + "/unsuspend"
			if res := staff.Post(unsuspend, url.Values{"confirm": {"yes"}, "reason": {"ticket 42 closed"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("unsuspend: %d", res.StatusCode)
			}
			bob.signIn("bob@example.com")
			if res := bob.Get("/w/" + slug + "/members"); res.StatusCode != http.StatusOK {
				t.Errorf("suspended workspace: members page %d, want 200 (reads stay open)", res.StatusCode)
			}
			if res := bob.Post("/w/"+slug+"/invites", url.Values{"email": {"new@example.com"}, "role": {"member"}}); res.StatusCode != http.StatusForbidden ||
				!strings.Contains(res.Text("error-message"), "suspended") {
				t.Errorf("suspended workspace: invite form %d %q, want 403 with the sentence", res.StatusCode, res.Text("error-message"))
			}
			if n := storetest.Count(t, a.DB, "SELECT COUNT(*) FROM invites WHERE workspace_id = ?", wsID); n != 0 {
				t.Errorf("a suspended workspace got %d invites", n)
			}

			// End all sessions, then a sign-in link: each audited in the
			// system log with its reason.
			id := strconv.FormatInt(bobID, 10)
			if res := staff.Post("/admin/users/"+id+"/end-sessions", url.Values{"confirm": {"yes"}, "reason": {"lost laptop"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("end sessions: %d", res.StatusCode)
			}
			if res := bob.Get("/app"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
				t.Errorf("after ending sessions Bob's browser: %d", res.StatusCode)
			}
			if res := staff.Post("/admin/users/"+id+"/send-link", url.Values{"confirm": {"yes"}, "reason": {"asked by phone"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("send link: %d", res.StatusCode)
			}
			sent := a.SMTP.WaitForMessageMatching(t, "bob@example.com", 5*time.Second, mailtest.LinkTo(a.URL+"/auth/verify"))
			if len(sent.Links()) == 0 {
				t.Error("the sign-in link email has no link")
			}
			// The console's own budget, in the rate limiter's store: every
			// request counts, a flood gets 429.
			var last *response
			for range 301 {
				if last = staff.Get("/admin/users?q=b"); last.StatusCode != http.StatusOK {
					break
				}
			}
			if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
				t.Errorf("a flood of console requests: %d, want 429 with Retry-After", last.StatusCode)
			}
			for _, action := range []string{app.ActionUserSuspended, app.ActionUserUnsuspended, app.ActionUserSessionsEnded, app.ActionSignInLinkSent} {
				if storetest.Count(t, a.DB, "SELECT COUNT(*) FROM audit_logs WHERE workspace_id IS NULL AND action = ? AND actor_user_id = ?",
					action, userIDOf(t, a, "ops@example.com")) != 1 {
					t.Errorf("no %s entry by the staff member in the system log", action)
				}
			}
		})
	}
}
