package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store/storetest"
)

// countRows runs a COUNT(*) with one ? placeholder on either database.
func countRows(t *testing.T, a *testApp, query string, arg any) int {
	t.Helper()
	return storetest.Count(t, a.DB, query, arg)
}

// TestAPIKey_CreatorLosesAccess is the review's scenario, on both
// databases: an admin's read-write key stops the moment the admin is
// demoted (the owner is told first, on the confirmation step, which keys
// go), and a removed member's or a deleted account's keys cannot read the
// audit log nor invite their creator back as admin.
func TestAPIKey_CreatorLosesAccess(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect, withEnv("FREE_PLAN_SEATS", "20"))
			inviteBack := map[string]string{"email": "", "role": "admin"}
			locked := func(t *testing.T, key, email string) {
				t.Helper()
				for _, path := range []string{"/audit", "/members"} {
					if res := f.api.withKey(key).do("GET", path, nil); res.Status != http.StatusUnauthorized {
						t.Errorf("GET %s with %s's key: %d %s, want 401", path, email, res.Status, res.Body)
					}
				}
				inviteBack["email"] = email
				if res := f.api.withKey(key).do("POST", "/invites", inviteBack); res.Status != http.StatusUnauthorized {
					t.Errorf("POST /invites (%s as admin) with their key: %d %s, want 401", email, res.Status, res.Body)
				}
			}

			t.Run("DemotedRemovedDeleted", func(t *testing.T) {
				const email = "eve@acme.test"
				eve := inviteAndJoin(t, f.a, f.owner, f.slug, email, "admin")
				key := createKeyInBrowser(t, eve, f.slug, "eve's script", "read", "write")
				if res := f.api.withKey(key).do("GET", "/audit", nil); res.Status != 200 {
					t.Fatalf("the key before: %d", res.Status)
				}
				uid := strconv.FormatInt(userID(t, f.a, email), 10)
				// Demoting asks first, naming the key it revokes.
				ask := f.owner.Post("/w/"+f.slug+"/members/"+uid+"/role", url.Values{"role": {"member"}})
				if ask.StatusCode != 200 || !ask.Has("confirm-page") || !strings.Contains(ask.Text("confirm-message"), "This also revokes 1 API key they created.") {
					t.Fatalf("demote without confirm: %d %q", ask.StatusCode, ask.Text("confirm-message"))
				}
				if res := f.api.withKey(key).do("GET", "/audit", nil); res.Status != 200 {
					t.Fatalf("an unconfirmed demotion stopped the key: %d", res.Status)
				}
				if res := f.owner.Submit(ask, "confirm-form", nil); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("confirmed demotion: %d\n%s", res.StatusCode, res.Body)
				}
				locked(t, key, email)
				if got := f.owner.Get("/w/" + f.slug + "/settings/api-keys"); !strings.Contains(got.Body, "Revoked") {
					t.Error("the keys page does not show the key revoked")
				}
				if res := f.owner.Submit(f.owner.Post("/w/"+f.slug+"/members/"+uid+"/remove", nil), "confirm-form", nil); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("remove: %d", res.StatusCode)
				}
				if res := eve.Post("/settings/account/delete", url.Values{"confirm": {email}}); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("delete account: %d\n%s", res.StatusCode, res.Body)
				}
				locked(t, key, email)
				if got := countRows(t, f.a, "SELECT COUNT(*) FROM invites WHERE email = ?", email); got != 1 {
					t.Errorf("%d invites to %s, want only the first", got, email)
				}
			})

			t.Run("Removed", func(t *testing.T) {
				const email = "rex@acme.test"
				rex := inviteAndJoin(t, f.a, f.owner, f.slug, email, "admin")
				key := createKeyInBrowser(t, rex, f.slug, "rex's script", "read", "write")
				createKeyInBrowser(t, rex, f.slug, "rex's other", "read")
				members := f.owner.Get("/w/" + f.slug + "/members")
				// The page's own dialog (scripts on), one shared by every row,
				// cannot count; it says keys go.
				dialog, _ := members.Doc.Find(`[data-testid="member-remove-form"]`).Attr("data-confirm")
				if !strings.Contains(dialog, "Any API keys they created are revoked too.") {
					t.Errorf("the remove dialog says %q", dialog)
				}
				res := f.owner.submitWithin(members, memberRowSel(email), "member-remove-form", nil)
				if msg := res.Text("confirm-message"); !strings.HasSuffix(msg, "need a new invitation. This also revokes 2 API keys they created.") {
					t.Fatalf("remove confirmation says %q", msg)
				}
				// Someone without keys: the step says nothing of keys.
				inviteAndJoin(t, f.a, f.owner, f.slug, "nokeys@acme.test", "member")
				none := f.owner.submitWithin(f.owner.Get("/w/"+f.slug+"/members"), memberRowSel("nokeys@acme.test"), "member-remove-form", nil)
				if msg := none.Text("confirm-message"); strings.Contains(msg, "API key") {
					t.Errorf("removing a member without keys says %q", msg)
				}
				f.owner.Submit(res, "confirm-form", nil)
				locked(t, key, email)
			})

			t.Run("AccountDeleted", func(t *testing.T) {
				const email = "dee@acme.test"
				dee := inviteAndJoin(t, f.a, f.owner, f.slug, email, "admin")
				key := createKeyInBrowser(t, dee, f.slug, "dee's script", "read", "write")
				if got := dee.Get("/settings/account").Text("delete-account-keys"); got != "This also revokes 1 API key you created." {
					t.Fatalf("the account page says %q before deleting", got)
				}
				dee.Post("/settings/account/delete", url.Values{"confirm": {email}})
				locked(t, key, email)
			})

			t.Run("Left", func(t *testing.T) {
				const email = "lou@acme.test"
				lou := inviteAndJoin(t, f.a, f.owner, f.slug, email, "admin")
				key := createKeyInBrowser(t, lou, f.slug, "lou's script", "read")
				res := lou.Post("/w/"+f.slug+"/leave", nil)
				if !strings.Contains(res.Text("confirm-message"), "This also revokes 1 API key you created.") {
					t.Fatalf("leave confirmation says %q", res.Text("confirm-message"))
				}
				lou.Submit(res, "confirm-form", nil)
				locked(t, key, email)
			})

			// The owner's own key is untouched throughout.
			if res := f.api.do("GET", "/workspace", nil); res.Status != 200 {
				t.Fatalf("the owner's key: %d", res.Status)
			}
		})
	}
}

// TestAPIKey_RevokeAsksFirst checks that revoking a key goes through the
// confirmation step: a POST without confirm=yes answers with it, naming
// the key, and the key keeps working until the step's own form is sent.
func TestAPIKey_RevokeAsksFirst(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect)
			list := f.owner.Get("/w/" + f.slug + "/settings/api-keys")
			path, _ := list.Doc.Find(`[data-testid="api-key-revoke"]`).Attr("href")
			res := f.owner.Post(path, nil)
			if res.StatusCode != 200 || !res.Has("confirm-page") || !strings.Contains(res.Text("confirm-message"), f.secret[:12]+"…") {
				t.Fatalf("revoke without confirm: %d %q", res.StatusCode, res.Text("confirm-message"))
			}
			if got := f.api.do("GET", "/workspace", nil); got.Status != 200 {
				t.Fatalf("an unconfirmed revoke stopped the key: %d", got.Status)
			}
			if got := f.owner.Follow(f.owner.Submit(res, "confirm-form", nil)); !strings.Contains(got.Body, "API key revoked") {
				t.Fatalf("confirmed revoke: %d", got.StatusCode)
			}
			if got := f.api.do("GET", "/workspace", nil); got.Status != 401 {
				t.Fatalf("after the confirmed revoke: %d, want 401", got.Status)
			}
		})
	}
}

// TestAPIKey_SecretShownOnce checks the created page: the POST redirects,
// the page after it shows the secret once, and a reload (or a second tab
// at the same moment, or another admin with the address) neither makes a
// second key nor shows the secret again, and says so.
func TestAPIKey_SecretShownOnce(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect)
			wsID := strconv.FormatInt(f.wsID, 10)
			before := countRows(t, f.a, "SELECT COUNT(*) FROM api_keys WHERE workspace_id = ?", wsID)
			post := f.owner.Post("/w/"+f.slug+"/settings/api-keys", url.Values{"name": {"once"}, "scope": {"read"}})
			if post.StatusCode != http.StatusSeeOther || post.Has("api-key-secret") {
				t.Fatalf("create: %d, want 303 without the secret", post.StatusCode)
			}
			created := post.Location()
			page := f.owner.Get(created)
			secret, _ := page.Doc.Find(`[data-testid="api-key-secret"]`).Attr("value")
			if page.StatusCode != 200 || !app.ValidAPIKeySyntax(secret) || page.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("the created page: %d secret %q", page.StatusCode, secret)
			}
			if got := f.api.withKey(secret).do("GET", "/workspace", nil); got.Status != 200 {
				t.Fatalf("the shown key: %d", got.Status)
			}
			// Without scripts the key and the command are there to select;
			// the copy buttons wait, hidden, for app.js.
			if _, ro := page.Doc.Find(`[data-testid="api-key-secret"]`).Attr("readonly"); !ro || !strings.Contains(page.Text("api-key-curl"), secret) {
				t.Error("the secret is not a read-only field, or the curl line does not carry it")
			}
			for _, b := range []string{"api-key-copy", "api-key-curl-copy"} {
				if _, hidden := page.Doc.Find(`[data-testid="` + b + `"]`).Attr("hidden"); !hidden {
					t.Errorf("%s is not hidden until scripts show it", b)
				}
			}
			reload := f.owner.Get(created)
			if reload.StatusCode != 200 || reload.Has("api-key-secret") || strings.Contains(reload.Body, secret) ||
				!strings.Contains(reload.Text("api-key-secret-gone"), "shown once") {
				t.Fatalf("reload: %d, shows the secret again or does not say it was shown once\n%s", reload.StatusCode, reload.Body)
			}
			if got := countRows(t, f.a, "SELECT COUNT(*) FROM api_keys WHERE workspace_id = ?", wsID); got != before+1 {
				t.Fatalf("%d keys after create and reload, want %d", got, before+1)
			}

			// Two tabs load the page at the same moment: one shows it.
			post = f.owner.Post("/w/"+f.slug+"/settings/api-keys", url.Values{"name": {"twice"}, "scope": {"read"}})
			var wg sync.WaitGroup
			shown := make([]bool, 2)
			for i := range shown {
				wg.Add(1)
				go func() {
					defer wg.Done()
					shown[i] = f.owner.Get(post.Location()).Has("api-key-secret")
				}()
			}
			wg.Wait()
			if shown[0] == shown[1] {
				t.Fatalf("two concurrent views showed the secret %v, want exactly once", shown)
			}

			// Another admin with the address sees no secret.
			admin := inviteAndJoin(t, f.a, f.owner, f.slug, "ann@acme.test", "admin")
			post = f.owner.Post("/w/"+f.slug+"/settings/api-keys", url.Values{"name": {"peeked"}, "scope": {"read"}})
			if got := admin.Get(post.Location()); got.StatusCode != 200 || got.Has("api-key-secret") {
				t.Fatalf("another admin at the created page: %d, secret shown %v", got.StatusCode, got.Has("api-key-secret"))
			}
			if !f.owner.Get(post.Location()).Has("api-key-secret") {
				t.Fatal("the creator's view after another admin's shows no secret")
			}
		})
	}
}

// apiRaw sends one request to /api/v1 from the client address xff (the
// app trusts 127.0.0.1 as its proxy) and returns the response.
func apiRaw(t *testing.T, a *testApp, method, path, key, xff string) *apiResponse {
	t.Helper()
	req, _ := http.NewRequest(method, a.URL+"/api/v1"+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("X-Forwarded-For", xff)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &apiResponse{Status: res.StatusCode, Header: res.Header, Body: body}
}

// TestAPI_InvalidKeysLimitedPerNetwork checks that requests without a
// usable key are limited per client network: every kind of bad key gets
// the same 401 until the network's budget is spent, then 429 with
// Retry-After before any lookup; another network keeps its own budget.
func TestAPI_InvalidKeysLimitedPerNetwork(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect, withEnv("TRUSTED_PROXIES", "127.0.0.1"))
			revoked := createKeyInBrowser(t, f.owner, f.slug, "old", "read")
			list := f.owner.Get("/w/" + f.slug + "/settings/api-keys")
			path, _ := list.Doc.Find(`[data-testid="api-key-revoke"]`).First().Attr("href")
			f.owner.Post(path, confirmYes)
			if got := apiRaw(t, f.a, "GET", "/workspace", revoked, "192.0.2.1"); got.Status != 401 {
				t.Fatalf("the revoked key: %d", got.Status)
			}
			unknown, _, _ := app.NewAPIKeySecret()
			bad := []string{"", "atr_short", unknown, revoked, "not-a-key"}
			const attacker = "203.0.113.7"
			var first []byte
			for i := range 30 {
				res := apiRaw(t, f.a, "GET", "/workspace", bad[i%len(bad)], attacker)
				if res.Status != 401 {
					t.Fatalf("bad key %d: %d, want 401", i+1, res.Status)
				}
				if first == nil {
					first = res.Body
				} else if string(res.Body) != string(first) {
					t.Fatalf("bad key %d: body %s differs from %s", i+1, res.Body, first)
				}
			}
			for _, key := range bad {
				res := apiRaw(t, f.a, "GET", "/workspace", key, attacker)
				if res.Status != 429 || res.Header.Get("Retry-After") == "" || res.Header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("past the budget, key %q: %d Retry-After %q, want 429", key, res.Status, res.Header.Get("Retry-After"))
				}
			}
			// The same network's IPv6 neighbours share a /64; another network
			// is not affected, with a good key or a bad one.
			if res := apiRaw(t, f.a, "GET", "/workspace", f.secret, "198.51.100.9"); res.Status != 200 {
				t.Fatalf("a good key from another network: %d", res.Status)
			}
			if res := apiRaw(t, f.a, "GET", "/workspace", unknown, "198.51.100.9"); res.Status != 401 {
				t.Fatalf("a bad key from another network: %d", res.Status)
			}
			for i, addr := range []string{"2001:db8:1:2::1", "2001:db8:1:2::ffff"} {
				for range 15 {
					apiRaw(t, f.a, "GET", "/workspace", unknown, addr)
				}
				if i == 1 {
					if res := apiRaw(t, f.a, "GET", "/workspace", unknown, addr); res.Status != 429 {
						t.Fatalf("the /64 after 30 bad keys: %d, want 429", res.Status)
					}
				}
			}
		})
	}
}

// TestAPI_DuplicateFieldsRefused checks strict decoding of every API body:
// a field named twice, in the same or in another case, is refused with a
// 422 problem and nothing happens; the plain body still works.
func TestAPI_DuplicateFieldsRefused(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect)
			for _, body := range []string{
				`{"email":"a@acme.test","Email":"b@acme.test","role":"member"}`,
				`{"Email":"b@acme.test","email":"a@acme.test","role":"member"}`,
				`{"email":"a@acme.test","role":"member","ROLE":"admin"}`,
				`{"email":"a@acme.test","email":"b@acme.test","role":"member"}`,
			} {
				res := f.api.do("POST", "/invites", body)
				if res.Status != 422 {
					t.Errorf("%s: %d %s, want 422", body, res.Status, res.Body)
					continue
				}
				p := res.Problem(t)
				if errs, _ := p["errors"].([]any); len(errs) == 0 || !strings.Contains(string(res.Body), "more than once") {
					t.Errorf("%s: problem %s does not name the repeated field", body, res.Body)
				}
			}
			var page struct{ Invites []struct{ Email string } }
			f.api.do("GET", "/invites", nil).JSON(t, &page)
			if len(page.Invites) != 0 {
				t.Fatalf("refused bodies invited %+v", page.Invites)
			}
			if res := f.api.do("POST", "/invites", `{"email":"a@acme.test","role":"member"}`); res.Status != 201 {
				t.Fatalf("a plain body: %d %s", res.Status, res.Body)
			}
		})
	}
}

// TestAPI_MethodNotAllowedHasAllow checks every path of the served
// document (and the document itself): a method it does not take answers
// 405 with an Allow header listing exactly the methods it takes.
func TestAPI_MethodNotAllowedHasAllow(t *testing.T) {
	f := newAPIFixture(t, "sqlite")
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(f.api.docs.raw31, &doc); err != nil {
		t.Fatal(err)
	}
	doc.Paths["/openapi.json"] = map[string]json.RawMessage{"get": nil}
	if len(doc.Paths) < 6 {
		t.Fatalf("%d paths in the document", len(doc.Paths))
	}
	for path, ops := range doc.Paths {
		var allowed []string
		for m := range ops {
			allowed = append(allowed, strings.ToUpper(m))
		}
		slices.Sort(allowed)
		concrete := strings.ReplaceAll(path, "{id}", "1")
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if slices.Contains(allowed, m) {
				continue
			}
			res := f.api.do(m, concrete, nil)
			got := strings.Split(res.Header.Get("Allow"), ", ")
			slices.Sort(got)
			if res.Status != 405 || !slices.Equal(got, allowed) {
				t.Errorf("%s %s: %d Allow %q, want 405 with %v", m, path, res.Status, res.Header.Get("Allow"), allowed)
			}
		}
	}
}

// TestAPI_AuditActorEmailSamePath checks that the audit log's actor_email
// filter treats an address with an account outside the workspace exactly
// as an unknown one: the same empty answer by the same statements, none of
// them reading users (an outsider cannot be told from nobody by timing).
func TestAPI_AuditActorEmailSamePath(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect)
			stranger := f.a.newBrowser(t)
			stranger.signIn("stranger@else.test")
			createWorkspace(t, stranger, "Elsewhere")
			f.api.do("GET", "/audit", nil) // notes the key's use, once a minute
			statements := func(email string) (int64, int) {
				before := f.a.DB.Statements()
				res := f.api.do("GET", "/audit?actor_email="+url.QueryEscape(email), nil)
				var page struct{ Entries []json.RawMessage }
				res.JSON(t, &page)
				if res.Status != 200 {
					t.Fatalf("actor_email=%s: %d %s", email, res.Status, res.Body)
				}
				return f.a.DB.Statements() - before, len(page.Entries)
			}
			// The fewest of a few runs: the mail worker's polls share the
			// counter and only ever add to it.
			fewest := func(email string) (int64, int) {
				least, entries := statements(email)
				for range 4 {
					n, e := statements(email)
					least, entries = min(least, n), max(entries, e)
				}
				return least, entries
			}
			outsider, outsiderEntries := fewest("stranger@else.test")
			unknown, unknownEntries := fewest("nobody@else.test")
			if outsiderEntries != 0 || unknownEntries != 0 {
				t.Fatalf("entries: outsider %d, unknown %d; want none", outsiderEntries, unknownEntries)
			}
			if outsider != unknown {
				t.Fatalf("an outsider's address runs %d statements, an unknown one %d: the difference can be timed", outsider, unknown)
			}
			if _, n := statements("owner@acme.test"); n == 0 {
				t.Fatal("the owner's address finds none of their entries")
			}
			if f.a.DB.Dialect() == "sqlite" {
				f.a.DB.TrackCatalog()
				statements("stranger@else.test")
				for _, q := range f.a.DB.StatementsOffCatalog() {
					if strings.Contains(q, "users") {
						t.Errorf("the filter reads users: %s", q)
					}
				}
			}
		})
	}
}

// TestAPI_InvitesPaged checks that GET /invites pages like the other
// lists: limit, an opaque next_cursor while more follow, newest first
// without repeats; a cursor it did not give is a 422.
func TestAPI_InvitesPaged(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect, withEnv("FREE_PLAN_SEATS", "20"))
			var want []string
			for i := range 5 {
				email := "p" + strconv.Itoa(i) + "@acme.test"
				if res := f.api.do("POST", "/invites", map[string]string{"email": email, "role": "member"}); res.Status != 201 {
					t.Fatalf("invite %s: %d", email, res.Status)
				}
				f.a.Clock.Add(time.Second)
				want = append([]string{email}, want...)
			}
			var got []string
			cursor := ""
			for pages := 1; ; pages++ {
				res := f.api.do("GET", "/invites?limit=2&cursor="+url.QueryEscape(cursor), nil)
				var page struct {
					Invites    []struct{ Email string }
					NextCursor string `json:"next_cursor"`
				}
				res.JSON(t, &page)
				if res.Status != 200 || len(page.Invites) > 2 {
					t.Fatalf("page %d: %d %s", pages, res.Status, res.Body)
				}
				for _, inv := range page.Invites {
					got = append(got, inv.Email)
				}
				if page.NextCursor == "" {
					if pages != 3 {
						t.Fatalf("%d pages, want 3", pages)
					}
					break
				}
				cursor = page.NextCursor
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged invites %v, want %v", got, want)
			}
			for _, q := range []string{"cursor=bm90LWEtY3Vyc29y", "cursor=" + url.QueryEscape(cursor+"x"), "limit=0", "limit=201"} {
				if res := f.api.do("GET", "/invites?"+q, nil); res.Status != 422 {
					t.Errorf("GET /invites?%s: %d, want 422", q, res.Status)
				}
			}
		})
	}
}

// TestAPI_BadKeyBudgetIsASetting: API_BAD_KEY_MAX sets how many requests
// without a usable key a client network may send a minute; the next gets
// 429 with Retry-After, and a good key from another network still works.
func TestAPI_BadKeyBudgetIsASetting(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect, withEnv("TRUSTED_PROXIES", "127.0.0.1"), withEnv("API_BAD_KEY_MAX", "3"))
			const attacker = "203.0.113.8"
			for i := range 3 {
				if res := apiRaw(t, f.a, "GET", "/members", "atr_wrong", attacker); res.Status != 401 {
					t.Fatalf("bad key %d of 3: %d, want 401", i+1, res.Status)
				}
			}
			res := apiRaw(t, f.a, "GET", "/members", "atr_wrong", attacker)
			if res.Status != 429 || res.Header.Get("Retry-After") == "" {
				t.Fatalf("the 4th bad key: %d Retry-After %q, want 429 with Retry-After", res.Status, res.Header.Get("Retry-After"))
			}
			if res := apiRaw(t, f.a, "GET", "/members", f.secret, "198.51.100.10"); res.Status != 200 {
				t.Fatalf("a good key from another network: %d", res.Status)
			}
		})
	}
}
