package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// apiFixture is a workspace "Acme" with its owner signed in, a member who
// joined, and a read-write key the owner made in the browser.
type apiFixture struct {
	a      *testApp
	owner  *browser
	slug   string
	wsID   int64
	secret string
	api    *apiClient
}

func newAPIFixture(t *testing.T, dialect string, opts ...appOption) *apiFixture {
	t.Helper()
	a := newTestApp(t, dialect, append([]appOption{withEnv("FREE_PLAN_SEATS", "4", "RATE_LIMIT_MAX", "100000")}, opts...)...)
	owner := a.newBrowser(t)
	owner.signIn("owner@acme.test")
	slug := createWorkspace(t, owner, "Acme")
	inviteAndJoin(t, a, owner, slug, "member@acme.test", "member")
	secret := createKeyInBrowser(t, owner, slug, "deploy bot", "read", "write")
	f := &apiFixture{a: a, owner: owner, slug: slug, wsID: workspaceID(t, a, slug, "owner@acme.test"), secret: secret}
	f.api = &apiClient{t: t, a: a, docs: loadAPIDocs(t, a), key: secret}
	return f
}

// TestAPI walks every operation of /api/v1 with a key made in the browser,
// on both databases, each answer validated against the served OpenAPI
// documents (3.1 and 3.0) by kin-openapi's openapi3filter.
func TestAPI(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect)
			api := f.api

			t.Run("Workspace", func(t *testing.T) {
				res := api.do("GET", "/workspace", nil)
				var ws struct {
					Name, Slug, Plan string
					Seats            struct{ Used, Limit, Members int }
				}
				res.JSON(t, &ws)
				if res.Status != 200 || ws.Name != "Acme" || ws.Slug != f.slug || ws.Plan != "free" ||
					ws.Seats.Used != 2 || ws.Seats.Limit != 4 || ws.Seats.Members != 2 {
					t.Fatalf("GET /workspace: %d %s", res.Status, res.Body)
				}
				if got := res.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control=%q, want no-store", got)
				}
				for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
					if res.Header.Get(h) == "" {
						t.Errorf("no %s header", h)
					}
				}
			})

			t.Run("MembersByCursor", func(t *testing.T) {
				var emails []string
				cursor := ""
				for range 5 {
					res := api.do("GET", "/members?limit=1&cursor="+url.QueryEscape(cursor), nil)
					var page struct {
						Members []struct {
							Email, Role string
							Joined      time.Time
						}
						NextCursor string `json:"next_cursor"`
					}
					res.JSON(t, &page)
					for _, m := range page.Members {
						emails = append(emails, m.Email+"="+m.Role)
					}
					if cursor = page.NextCursor; cursor == "" {
						break
					}
				}
				if got, want := strings.Join(emails, " "), "owner@acme.test=owner member@acme.test=member"; got != want {
					t.Fatalf("members=%q, want %q", got, want)
				}
				if res := api.do("GET", "/members?cursor=bogus", nil); res.Status != 422 {
					t.Fatalf("bad cursor: %d, want 422", res.Status)
				}
			})

			var inviteID int64
			t.Run("InviteCreate", func(t *testing.T) {
				res := api.do("POST", "/invites", map[string]string{"email": "New@Acme.test", "role": "admin"})
				var inv struct {
					ID                  int64
					Email, Role, Status string
					InvitedBy           string `json:"invited_by"`
				}
				res.JSON(t, &inv)
				if res.Status != 201 || inv.Email != "new@acme.test" || inv.Role != "admin" || inv.Status != "pending" ||
					!strings.HasPrefix(inv.InvitedBy, "API key 'deploy bot' (atr_") {
					t.Fatalf("POST /invites: %d %s", res.Status, res.Body)
				}
				inviteID = inv.ID
				// The email is queued and sent as from the members page.
				link := emailedInviteLink(t, f.a, "new@acme.test")
				if !strings.HasPrefix(link, f.a.URL+"/invites/") {
					t.Fatalf("invite link %q", link)
				}
				// The audit log names the key, not a user.
				entries, err := store.NewOperatorAuditService(f.a.DB).FindAuditEntries(context.Background(),
					app.AuditFilter{Scope: app.Scope{WorkspaceID: f.wsID}, Action: app.ActionInviteSent, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				if e := entries[0]; e.ActorID != 0 || !strings.HasPrefix(fmt.Sprint(e.Metadata["actor"]), "API key 'deploy bot' (atr_") {
					t.Fatalf("audit entry actor %d %v, want the key", e.ActorID, e.Metadata)
				}
			})

			t.Run("InviteRefusals", func(t *testing.T) {
				cases := []struct {
					name   string
					body   any
					status int
				}{
					{"UnknownField", `{"email":"x@acme.test","role":"member","admin":true}`, 422},
					{"Owner", map[string]string{"email": "x@acme.test", "role": "owner"}, 422},
					{"BadEmail", map[string]string{"email": "not an email", "role": "member"}, 422},
					{"Duplicate", map[string]string{"email": "new@acme.test", "role": "member"}, 409},
					{"TooLarge", `{"email":"` + strings.Repeat("a", 20000) + `@acme.test","role":"member"}`, 413},
					{"NotJSON", `email=x`, 400},
				}
				for _, tc := range cases {
					res := api.do("POST", "/invites", tc.body)
					if res.Status != tc.status {
						t.Errorf("%s: status %d, want %d\n%s", tc.name, res.Status, tc.status, res.Body)
						continue
					}
					if p := res.Problem(t); p["status"] != float64(tc.status) || p["title"] == "" {
						t.Errorf("%s: problem %v", tc.name, p)
					}
				}
			})

			t.Run("SeatLimit", func(t *testing.T) {
				// 2 members + new@ = 3 of 4 seats: one more fits, then none.
				if res := api.do("POST", "/invites", map[string]string{"email": "fourth@acme.test", "role": "member"}); res.Status != 201 {
					t.Fatalf("fourth seat: %d %s", res.Status, res.Body)
				}
				res := api.do("POST", "/invites", map[string]string{"email": "fifth@acme.test", "role": "member"})
				if res.Status != 409 || !strings.Contains(string(res.Body), "seats") {
					t.Fatalf("fifth seat: %d %s, want 409 about seats", res.Status, res.Body)
				}
			})

			t.Run("InvitesList", func(t *testing.T) {
				var out struct{ Invites []struct{ Email string } }
				res := api.do("GET", "/invites", nil)
				res.JSON(t, &out)
				if len(out.Invites) != 2 || out.Invites[0].Email != "fourth@acme.test" || out.Invites[1].Email != "new@acme.test" {
					t.Fatalf("GET /invites: %s", res.Body)
				}
				if strings.Contains(string(res.Body), "/invites/") {
					t.Fatal("the list shows an accept link")
				}
				if page := f.owner.Get("/w/" + f.slug + "/members"); !strings.Contains(page.Body, "API key &#39;deploy bot&#39;") {
					t.Error("the members page does not name the key as the inviter")
				}
			})

			t.Run("InviteRevoke", func(t *testing.T) {
				path := "/invites/" + strconv.FormatInt(inviteID, 10)
				if res := api.do("DELETE", path, nil); res.Status != 204 {
					t.Fatalf("DELETE: %d %s", res.Status, res.Body)
				}
				if res := api.do("DELETE", path, nil); res.Status != 409 {
					t.Fatalf("DELETE again: %d %s, want 409", res.Status, res.Body)
				}
				if res := api.do("DELETE", "/invites/999999", nil); res.Status != 404 {
					t.Fatalf("DELETE unknown: %d %s, want 404", res.Status, res.Body)
				}
			})

			t.Run("Audit", func(t *testing.T) {
				var out struct {
					Entries []struct {
						Action   string
						ActorID  int64 `json:"actor_id"`
						Metadata map[string]any
					}
					NextCursor string `json:"next_cursor"`
				}
				res := api.do("GET", "/audit?action=invite.sent&limit=1", nil)
				res.JSON(t, &out)
				if len(out.Entries) != 1 || out.Entries[0].Action != "invite.sent" || out.NextCursor == "" {
					t.Fatalf("GET /audit: %s", res.Body)
				}
				var seen []string
				for cursor := ""; ; {
					res := api.do("GET", "/audit?action=invite.sent&limit=1&cursor="+url.QueryEscape(cursor), nil)
					out.NextCursor = ""
					res.JSON(t, &out)
					for _, e := range out.Entries {
						seen = append(seen, e.Action)
					}
					if cursor = out.NextCursor; cursor == "" {
						break
					}
				}
				// member@ from the page, new@ and fourth@ by the key.
				if len(seen) != 3 {
					t.Fatalf("paged invite.sent entries: %v, want 3", seen)
				}
				res = api.do("GET", "/audit?actor_email=owner@acme.test&action=api_key.created", nil)
				res.JSON(t, &out)
				if len(out.Entries) != 1 || out.Entries[0].Metadata["name"] != "deploy bot" {
					t.Fatalf("api_key.created by the owner: %s", res.Body)
				}
				if res := api.do("GET", "/audit?from=2026-13-01", nil); res.Status != 422 {
					t.Fatalf("bad date: %d, want 422", res.Status)
				}
				if res := api.do("GET", "/audit?actor_email=nobody@acme.test", nil); res.Status != 200 || !strings.Contains(string(res.Body), `"entries":[]`) {
					t.Fatalf("unknown actor: %d %s", res.Status, res.Body)
				}
			})

			t.Run("DocsAndUnknownPaths", func(t *testing.T) {
				res, err := http.Get(f.a.URL + "/api/v1/docs")
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("GET /api/v1/docs: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
				}
				if r := api.do("GET", "/nothing-here", nil); r.Status != 404 || r.Problem(t)["status"] != float64(404) {
					t.Fatalf("unknown path: %d %s", r.Status, r.Body)
				}
				if r := api.do("PUT", "/invites", nil); r.Status != 405 || r.Problem(t)["status"] != float64(405) {
					t.Fatalf("unknown method: %d %s", r.Status, r.Body)
				}
			})
		})
	}
}

// TestAPI_Unauthorized checks that every key that cannot be used gets the
// same 401, and that a key's scopes bound what it may do.
func TestAPI_Unauthorized(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect)
			readOnly := createKeyInBrowser(t, f.owner, f.slug, "reader", "read")
			writeOnly := createKeyInBrowser(t, f.owner, f.slug, "writer", "write")
			revoked := createKeyInBrowser(t, f.owner, f.slug, "old", "read")
			confirm := f.owner.Get("/w/" + f.slug + "/settings/api-keys")
			var revokePath string
			confirm.Doc.Find(`[data-testid="api-key-row"]`).Each(func(_ int, s *goquery.Selection) {
				if strings.TrimSpace(s.Find(`[data-testid="api-key-row-name"]`).Text()) == "old" {
					revokePath, _ = s.Find(`[data-testid="api-key-revoke"]`).Attr("href")
				}
			})
			page := f.owner.Get(revokePath)
			if page.StatusCode != 200 || !page.Has("confirm-page") {
				t.Fatalf("confirm step: %d\n%s", page.StatusCode, page.Body)
			}
			if res := f.owner.Follow(f.owner.Submit(page, "confirm-form", nil)); !strings.Contains(res.Body, "API key revoked") {
				t.Fatalf("revoke: %d\n%s", res.StatusCode, res.Body)
			}
			expired, prefix, hash := app.NewAPIKeySecret()
			owner := store.NewUserService(f.a.DB)
			u, err := owner.FindUserByEmail(context.Background(), "owner@acme.test")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.NewAPIKeyService(f.a.DB).CreateAPIKey(actingAs(u), app.ScopeOf(actingAs(u), f.wsID), app.NewAPIKey{Name: "brief",
				Scopes: []string{app.ScopeRead}, Prefix: prefix, TokenHash: hash, ExpiresAt: f.a.Clock.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			f.a.Clock.Add(2 * time.Hour)

			unknown, _, _ := app.NewAPIKeySecret()
			var first []byte
			for name, key := range map[string]string{"none": "", "malformed": "atr_short", "unknown": unknown,
				"revoked": revoked, "expired": expired, "session-like": "not-a-key"} {
				res := f.api.withKey(key).do("GET", "/workspace", nil)
				if res.Status != 401 || res.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s key: %d %s, want 401 with WWW-Authenticate", name, res.Status, res.Body)
					continue
				}
				if first == nil {
					first = res.Body
				} else if string(res.Body) != string(first) {
					t.Errorf("%s key: body %s differs from %s", name, res.Body, first)
				}
			}
			if res := f.api.withKey(readOnly).do("POST", "/invites", map[string]string{"email": "r@acme.test", "role": "member"}); res.Status != 403 {
				t.Errorf("read-only key invites: %d %s, want 403", res.Status, res.Body)
			}
			if res := f.api.withKey(readOnly).do("GET", "/invites", nil); res.Status != 200 {
				t.Errorf("read-only key lists: %d %s, want 200", res.Status, res.Body)
			}
			if res := f.api.withKey(writeOnly).do("GET", "/members", nil); res.Status != 403 {
				t.Errorf("write-only key lists members: %d %s, want 403", res.Status, res.Body)
			}
			// A cookie does not authenticate the API.
			if res := f.owner.Get("/api/v1/workspace"); res.StatusCode != 401 {
				t.Errorf("session cookie on the API: %d, want 401", res.StatusCode)
			}
			if logs := f.a.logs.String(); strings.Contains(logs, f.secret) || strings.Contains(logs, readOnly) || strings.Contains(logs, unknown) {
				t.Error("a key reached the log")
			}
		})
	}
}

// TestAPI_WorkspaceDeleted checks that the keys of a deleted workspace
// get the same 401 as unknown keys.
func TestAPI_WorkspaceDeleted(t *testing.T) {
	f := newAPIFixture(t, "sqlite")
	unknown, _, _ := app.NewAPIKeySecret()
	want := f.api.withKey(unknown).do("GET", "/workspace", nil)
	res := f.owner.Post("/w/"+f.slug+"/delete", url.Values{"confirm": {"Acme"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete workspace: %d\n%s", res.StatusCode, res.Body)
	}
	got := f.api.do("GET", "/workspace", nil)
	if got.Status != 401 || string(got.Body) != string(want.Body) {
		t.Fatalf("key of a deleted workspace: %d %s, want 401 %s", got.Status, got.Body, want.Body)
	}
}

// TestAPI_RateLimit checks the per-key budget: API_RATE_LIMIT_MAX requests
// a minute, then 429 with Retry-After, while another key keeps its own.
func TestAPI_RateLimit(t *testing.T) {
	f := newAPIFixture(t, "sqlite", withEnv("API_RATE_LIMIT_MAX", "3"))
	other := createKeyInBrowser(t, f.owner, f.slug, "other", "read")
	for i := 1; i <= 3; i++ {
		res := f.api.do("GET", "/workspace", nil)
		if res.Status != 200 || res.Header.Get("RateLimit-Remaining") != strconv.Itoa(3-i) || res.Header.Get("RateLimit-Limit") != "3" {
			t.Fatalf("request %d: %d remaining %q", i, res.Status, res.Header.Get("RateLimit-Remaining"))
		}
	}
	res := f.api.do("GET", "/workspace", nil)
	if res.Status != 429 || res.Header.Get("Retry-After") == "" || res.Problem(t)["status"] != float64(429) {
		t.Fatalf("over budget: %d Retry-After %q %s", res.Status, res.Header.Get("Retry-After"), res.Body)
	}
	if res := f.api.withKey(other).do("GET", "/workspace", nil); res.Status != 200 {
		t.Fatalf("another key: %d, want 200", res.Status)
	}
}

// TestAPIKeysPage checks the keys page: the secret shown once, the list
// with prefix, scopes, creator and last use, and who may see it.
func TestAPIKeysPage(t *testing.T) {
	f := newAPIFixture(t, "sqlite")
	res := f.owner.Follow(f.owner.Post("/w/"+f.slug+"/settings/api-keys", url.Values{"name": {"ci"}, "scope": {"read"}, "expires": {"2099-01-31"}}))
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" || !strings.Contains(res.Text("api-key-curl"), "/api/v1/workspace") {
		t.Fatalf("create: %d %q\n%s", res.StatusCode, res.Header.Get("Cache-Control"), res.Body)
	}
	f.api.do("GET", "/workspace", nil)
	list := f.owner.Get("/w/" + f.slug + "/settings/api-keys")
	if list.Has("api-key-secret") || strings.Contains(list.Body, f.secret) {
		t.Fatal("the list shows a secret again")
	}
	rows := list.Doc.Find(`[data-testid="api-key-row"]`)
	if rows.Length() != 2 {
		t.Fatalf("%d rows, want 2", rows.Length())
	}
	bot := rows.Last()
	if got := strings.TrimSpace(bot.Find(`[data-testid="api-key-row-prefix"]`).Text()); got != f.secret[:12]+"…" {
		t.Errorf("prefix %q, want %q", got, f.secret[:12]+"…")
	}
	if got := strings.TrimSpace(bot.Find(`[data-testid="api-key-row-scopes"]`).Text()); got != "read, write" {
		t.Errorf("scopes %q", got)
	}
	if got := strings.TrimSpace(bot.Find(`[data-testid="api-key-row-last-used"]`).Text()); got == "Never" {
		t.Error("last used not shown after a call")
	}
	if bad := f.owner.Post("/w/"+f.slug+"/settings/api-keys", url.Values{"name": {""}, "scope": {"read"}}); bad.StatusCode != 422 || !bad.Has("field-name-error") {
		t.Errorf("empty name: %d", bad.StatusCode)
	}
	if bad := f.owner.Post("/w/"+f.slug+"/settings/api-keys", url.Values{"name": {"x"}}); bad.StatusCode != 422 || !bad.Has("field-scopes-error") {
		t.Errorf("no scope: %d", bad.StatusCode)
	}
	if !f.owner.Get("/w/" + f.slug + "/settings").Has("settings-api-keys-link") {
		t.Error("the settings page has no link to the keys")
	}
	wantActions(t, f.a, f.slug, "owner@acme.test", app.ActionAPIKeyCreated)
}

// TestAPI_InviteMailLimit checks that the API keeps the invite-mail limits
// of the members page: past INVITE_EMAILS_PER_ADDRESS_PER_DAY, 429 with
// Retry-After, and nothing is queued.
func TestAPI_InviteMailLimit(t *testing.T) {
	f := newAPIFixture(t, "sqlite", withEnv("INVITE_EMAILS_PER_ADDRESS_PER_DAY", "1"))
	var inv struct{ ID int64 }
	f.api.do("POST", "/invites", map[string]string{"email": "busy@acme.test", "role": "member"}).JSON(t, &inv)
	if res := f.api.do("DELETE", "/invites/"+strconv.FormatInt(inv.ID, 10), nil); res.Status != 204 {
		t.Fatalf("revoke: %d %s", res.Status, res.Body)
	}
	res := f.api.do("POST", "/invites", map[string]string{"email": "busy@acme.test", "role": "member"})
	if res.Status != 429 || res.Header.Get("Retry-After") == "" || res.Problem(t)["status"] != float64(429) {
		t.Fatalf("second email to the address: %d Retry-After %q %s", res.Status, res.Header.Get("Retry-After"), res.Body)
	}
	if got := len(queuedFor(t, f.a, "invite:"+strconv.FormatInt(inv.ID+1, 10))); got != 0 {
		t.Fatalf("%d emails queued for the refused invite, want 0", got)
	}
}

// TestAPI_RequestCheckedAgainstDocument: a request the document refuses
// never reaches its handler: a missing or unknown field, a role outside
// the enum and a limit out of bounds are 422 problems that say where the
// problem is, and nothing is created.
func TestAPI_RequestCheckedAgainstDocument(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect)
			for _, tc := range []struct {
				method, path string
				body         any
				location     string
			}{
				{"POST", "/invites", `{"email":"x@acme.test"}`, "body"},
				{"POST", "/invites", `{"email":"x@acme.test","role":"owner"}`, "body.role"},
				{"POST", "/invites", `{"email":"x@acme.test","role":"member","admin":true}`, "body"},
				{"GET", "/members?limit=201", nil, "query.limit"},
				{"GET", "/members?limit=ten", nil, "query.limit"}, // "Give a whole number."
				{"DELETE", "/invites/0", nil, "path.id"},
			} {
				res := f.api.do(tc.method, tc.path, tc.body)
				p := res.Problem(t)
				errs, _ := p["errors"].([]any)
				if res.Status != 422 || len(errs) == 0 {
					t.Errorf("%s %s %v: %d %s, want a 422 listing the problems", tc.method, tc.path, tc.body, res.Status, res.Body)
					continue
				}
				first, _ := errs[0].(map[string]any)
				if loc, _ := first["location"].(string); !strings.HasPrefix(loc, tc.location) || first["message"] == "" {
					t.Errorf("%s %s %v: first problem %v, want one at %s with a message", tc.method, tc.path, tc.body, first, tc.location)
				}
			}
			var out struct{ Invites []struct{ Email string } }
			f.api.do("GET", "/invites", nil).JSON(t, &out)
			for _, inv := range out.Invites {
				if inv.Email == "x@acme.test" {
					t.Errorf("a refused request created an invite")
				}
			}
		})
	}
}
