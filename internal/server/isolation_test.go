package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/internal/outbound"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestTenantIsolation walks every /w/{slug} route as the owner, an admin
// and a member of workspace A, the owner of workspace B, and a signed-out
// visitor. Each request runs against a fresh workspace A, so destructive
// actions (delete, leave, transfer, remove) cannot disturb the next row,
// and a refused request must leave A exactly as it was.
func TestTenantIsolation(t *testing.T) {
	// Expected answers, by what they mean for the actor.
	const (
		shown     = http.StatusOK        // the page renders
		created   = http.StatusCreated   // the page renders what was just made
		done      = http.StatusSeeOther  // the action ran (or explained itself) and redirected
		forbidden = http.StatusForbidden // a member whose role is too low
		hidden    = http.StatusNotFound  // not a member: as if the workspace did not exist
		toLogin   = http.StatusSeeOther  // signed out: sent to sign in
		off       = http.StatusNotFound  // Stripe is not configured in tests
		// The owner has no second factor of their own: the settings form
		// is shown again with why.
		ownFirst = http.StatusUnprocessableEntity
	)
	cases := []struct {
		method, path string // {slug}, {name}, {invite}, {member}, {admin} and {key} come from the fixture
		form         map[string]string
		// owner, admin, member of A; owner of B; signed out
		owner, admin, member, outsider, anon int
	}{
		{"GET", "/w/{slug}", nil, shown, shown, shown, hidden, toLogin},
		{"GET", "/w/{slug}/members", nil, shown, shown, shown, hidden, toLogin},
		{"GET", "/w/{slug}/settings", nil, shown, shown, forbidden, hidden, toLogin},
		{"GET", "/w/{slug}/audit", nil, shown, shown, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/invites", map[string]string{"email": "new@a.test", "role": "member"}, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/invites/{invite}/revoke", nil, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/invites/{invite}/resend", nil, done, done, forbidden, hidden, toLogin},
		{"GET", "/w/{slug}/members/{member}", nil, shown, shown, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/members/{member}/role", map[string]string{"role": "admin"}, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/members/{member}/remove", nil, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings", map[string]string{"name": "Renamed", "slug": "{slug}-renamed"}, done, forbidden, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/two-factor", map[string]string{"required": "on"}, ownFirst, forbidden, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/delete", map[string]string{"confirm": "{name}"}, done, forbidden, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/transfer", map[string]string{"user_id": "{admin}"}, done, forbidden, forbidden, hidden, toLogin},
		{"GET", "/w/{slug}/billing", nil, shown, shown, forbidden, hidden, toLogin},
		{"GET", "/w/{slug}/billing/return?checkout=cancel", nil, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/billing/checkout", nil, off, forbidden, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/billing/portal", nil, done, forbidden, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/billing/demo-upgrade", nil, off, forbidden, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/leave", nil, done, done, done, hidden, toLogin},
		{"GET", "/w/{slug}/settings/api-keys", nil, shown, shown, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/api-keys", map[string]string{"name": "bot", "scope": "read"}, done, done, forbidden, hidden, toLogin},
		{"GET", "/w/{slug}/settings/api-keys/{key}/created", nil, shown, shown, forbidden, hidden, toLogin},
		{"GET", "/w/{slug}/settings/api-keys/{key}/revoke", nil, shown, shown, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/api-keys/{key}/revoke", nil, done, done, forbidden, hidden, toLogin},
		// Outgoing webhooks: {hook} is an endpoint of A, {delivery} its test event.
		{"GET", "/w/{slug}/settings/webhooks", nil, shown, shown, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/webhooks", map[string]string{"url": "https://hooks.example.com/new", "event": "invite.sent"}, done, done, forbidden, hidden, toLogin},
		{"GET", "/w/{slug}/settings/webhooks/{hook}", nil, shown, shown, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/webhooks/{hook}", map[string]string{"url": "https://hooks.example.com/changed", "event": "member.left"}, done, done, forbidden, hidden, toLogin},
		{"GET", "/w/{slug}/settings/webhooks/{hook}/secret", nil, shown, shown, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/webhooks/{hook}/rotate", nil, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/webhooks/{hook}/disable", nil, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/webhooks/{hook}/enable", nil, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/webhooks/{hook}/test", nil, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/webhooks/{hook}/replay", map[string]string{"since": "2000-01-01T00:00"}, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/webhooks/{hook}/deliveries/{delivery}/replay", nil, done, done, forbidden, hidden, toLogin},
		{"POST", "/w/{slug}/settings/webhooks/{hook}/delete", nil, done, done, forbidden, hidden, toLogin},
		// scaffold:isolation-rows (make scaffold adds its resources' rows above this line)
	}
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newTenants(t, dialect)
			for _, tc := range cases {
				t.Run(tc.method+" "+tc.path, func(t *testing.T) {
					actors := []struct {
						name string
						b    *browser
						want int
					}{
						{"owner", f.owner, tc.owner},
						{"admin", f.admin, tc.admin},
						{"member", f.member, tc.member},
						{"outsider", f.outsider, tc.outsider},
						{"anonymous", f.anon, tc.anon},
					}
					for _, actor := range actors {
						ws := f.newTenantA(t)
						before := f.state(t, ws.id)
						path, form := ws.fill(tc.path), url.Values{}
						if tc.method == http.MethodPost {
							// The confirmed action: the confirmation step is
							// TestConfirm_UnconfirmedPostChangesNothing's.
							form.Set("confirm", "yes")
						}
						for k, v := range tc.form {
							form.Set(k, ws.fill(v))
						}
						res := actor.b.send(tc.method, path, form)
						if res.StatusCode != actor.want {
							t.Errorf("%s: status=%d, want %d\n%s", actor.name, res.StatusCode, actor.want, res.Body)
							continue
						}
						switch {
						case actor.b == f.anon:
							want := "/login"
							if tc.method == http.MethodGet {
								want += "?next=" + url.QueryEscape(path)
							}
							if got := res.Location(); got != want {
								t.Errorf("%s: Location=%q, want %q", actor.name, got, want)
							}
						case res.StatusCode == done:
							if strings.HasPrefix(res.Location(), "/login") {
								t.Errorf("%s: sent to sign in", actor.name)
							}
						}
						if refused := actor.want == forbidden || actor.want == hidden || actor.b == f.anon; refused {
							if after := f.state(t, ws.id); after != before {
								t.Errorf("%s: a refused %s %s changed workspace A:\nbefore %s\nafter  %s", actor.name, tc.method, path, before, after)
							}
						}
						if actor.b == f.outsider {
							// Existence does not leak: a real workspace answers
							// an outsider exactly as a missing one does.
							missing := f.outsider.send(tc.method, strings.Replace(path, ws.slug, "no-such-workspace", 1), form)
							if missing.StatusCode != res.StatusCode || missing.Body != res.Body {
								t.Errorf("outsider: %s %s answers differently from a missing workspace (%d vs %d)",
									tc.method, path, res.StatusCode, missing.StatusCode)
							}
						}
					}
				})
			}

			t.Run("api", func(t *testing.T) { f.apiRows(t) })

			t.Run("cross-tenant ids", func(t *testing.T) {
				ws := f.newTenantA(t)
				bInvite := f.createInvite(t, f.outsiderUser, f.bID, "b-pending@b.test", app.RoleMember)
				bKey, _ := f.createKey(t, f.outsiderUser, f.bID)
				bHook, bDelivery := f.createHook(t, f.outsiderUser, f.bID)
				beforeA, beforeB := f.state(t, ws.id), f.state(t, f.bID)
				id := func(n int64) string { return strconv.FormatInt(n, 10) }
				cases := []struct {
					name string
					b    *browser
					path string
					form url.Values
				}{
					{"B revokes A's invite", f.outsider, "/w/beta/invites/" + id(ws.inviteID) + "/revoke", nil},
					{"B resends A's invite", f.outsider, "/w/beta/invites/" + id(ws.inviteID) + "/resend", nil},
					{"B removes A's member", f.outsider, "/w/beta/members/" + id(ws.memberID) + "/remove", nil},
					{"B promotes A's member", f.outsider, "/w/beta/members/" + id(ws.memberID) + "/role", url.Values{"role": {"admin"}}},
					{"B hands B to A's member", f.outsider, "/w/beta/transfer", url.Values{"user_id": {id(ws.memberID)}}},
					{"A hands A to B's owner", f.owner, "/w/" + ws.slug + "/transfer", url.Values{"user_id": {id(f.outsiderUser.ID)}}},
					{"A demotes B's owner", f.owner, "/w/" + ws.slug + "/members/" + id(f.outsiderUser.ID) + "/role", url.Values{"role": {"member"}}},
					{"A removes B's owner", f.owner, "/w/" + ws.slug + "/members/" + id(f.outsiderUser.ID) + "/remove", nil},
					{"A revokes B's invite", f.owner, "/w/" + ws.slug + "/invites/" + id(bInvite) + "/revoke", nil},
					{"B revokes A's API key", f.outsider, "/w/beta/settings/api-keys/" + id(ws.keyID) + "/revoke", nil},
					{"A revokes B's API key", f.owner, "/w/" + ws.slug + "/settings/api-keys/" + id(bKey) + "/revoke", nil},
					{"B deletes A's endpoint", f.outsider, "/w/beta/settings/webhooks/" + id(ws.rows["{hook}"]) + "/delete", nil},
					{"B tests A's endpoint", f.outsider, "/w/beta/settings/webhooks/" + id(ws.rows["{hook}"]) + "/test", nil},
					{"B rotates A's endpoint", f.outsider, "/w/beta/settings/webhooks/" + id(ws.rows["{hook}"]) + "/rotate", nil},
					{"B replays A's delivery through B's endpoint", f.outsider, "/w/beta/settings/webhooks/" + id(bHook) + "/deliveries/" + id(ws.rows["{delivery}"]) + "/replay", nil},
					{"A replays B's delivery through A's endpoint", f.owner, "/w/" + ws.slug + "/settings/webhooks/" + id(ws.rows["{hook}"]) + "/deliveries/" + id(bDelivery) + "/replay", nil},
					{"A turns off B's endpoint", f.owner, "/w/" + ws.slug + "/settings/webhooks/" + id(bHook) + "/disable", nil},
					{"A edits B's endpoint", f.owner, "/w/" + ws.slug + "/settings/webhooks/" + id(bHook), url.Values{"url": {"https://evil.example.com/"}, "event": {"invite.sent"}}},
				}
				for _, tc := range cases {
					// Unconfirmed (the confirmation page's lookups) and
					// confirmed alike.
					for _, confirm := range []string{"", "yes"} {
						form := url.Values{"confirm": {confirm}}
						for k, v := range tc.form {
							form[k] = v
						}
						res := tc.b.Post(tc.path, form)
						if got, want := res.StatusCode, http.StatusNotFound; got != want {
							t.Errorf("%s (confirm=%q): POST %s status=%d, want %d", tc.name, confirm, tc.path, got, want)
						}
					}
				}
				// The API: A's key acts in A only; B's resources are not found.
				api := &apiClient{t: t, a: f.a, key: ws.keySecret}
				for _, tc := range []struct{ method, path string }{
					{"DELETE", "/invites/" + id(bInvite)},
				} {
					if res := api.do(tc.method, tc.path, nil); res.Status != http.StatusNotFound {
						t.Errorf("A's key: %s %s status=%d, want 404\n%s", tc.method, tc.path, res.Status, res.Body)
					}
				}
				var got struct{ Slug string }
				api.do("GET", "/workspace", nil).JSON(t, &got)
				if got.Slug != ws.slug {
					t.Errorf("A's key reads workspace %q, want %q", got.Slug, ws.slug)
				}
				var invs struct{ Invites []struct{ Email string } }
				api.do("GET", "/invites", nil).JSON(t, &invs)
				for _, inv := range invs.Invites {
					if inv.Email == "b-pending@b.test" {
						t.Error("A's key lists B's invite")
					}
				}
				if after := f.state(t, ws.id); after != beforeA {
					t.Errorf("workspace A changed:\nbefore %s\nafter  %s", beforeA, after)
				}
				if after := f.state(t, f.bID); after != beforeB {
					t.Errorf("workspace B changed:\nbefore %s\nafter  %s", beforeB, after)
				}
			})
		})
	}
}

// tenants is the cast of the isolation test: three members of A (with A
// made fresh on demand), the owner of workspace B ("beta") and a signed-out
// browser.
type tenants struct {
	a                             *testApp
	owner, admin, member          *browser
	outsider, anon                *browser
	ownerUser, adminUser, memUser *app.User
	outsiderUser                  *app.User
	bID                           int64
	n                             int
}

func newTenants(t *testing.T, dialect string) *tenants {
	t.Helper()
	a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000", "FREE_PLAN_SEATS", "100"))
	f := &tenants{a: a, anon: a.newBrowser(t)}
	signIn := func(email string) (*browser, *app.User) {
		b := a.newBrowser(t)
		b.signIn(email)
		u, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		return b, u
	}
	f.owner, f.ownerUser = signIn("owner@a.test")
	f.admin, f.adminUser = signIn("admin@a.test")
	f.member, f.memUser = signIn("member@a.test")
	f.outsider, f.outsiderUser = signIn("owner@b.test")
	if slug := createWorkspace(t, f.outsider, "Beta"); slug != "beta" {
		t.Fatalf("workspace B slug=%q", slug)
	}
	f.outsider.Get("/w/beta") // shows the "created" flash, so later pages compare clean
	f.bID = workspaceID(t, a, "beta", "owner@b.test")
	return f
}

// tenantA is one fresh workspace A: its owner, an admin, a member and a
// pending invite.
type tenantA struct {
	id, inviteID, memberID, adminID int64
	slug, name                      string
	keyID                           int64
	keySecret                       string
	readKey, writeKey               string // keys with one scope each
	// rows are the ids of the rows made for the resources of `make
	// scaffold`, by placeholder ("{project}").
	rows map[string]int64
}

// fill replaces the fixture's placeholders in s.
func (w tenantA) fill(s string) string {
	pairs := []string{"{slug}", w.slug, "{name}", w.name, "{invite}", strconv.FormatInt(w.inviteID, 10),
		"{member}", strconv.FormatInt(w.memberID, 10), "{admin}", strconv.FormatInt(w.adminID, 10),
		"{key}", strconv.FormatInt(w.keyID, 10)}
	for k, id := range w.rows {
		pairs = append(pairs, k, strconv.FormatInt(id, 10))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// actingAs returns a context acting as u.
func actingAs(u *app.User) context.Context {
	return app.WithPrincipal(context.Background(), &app.Principal{User: *u})
}

// newTenantA sets up a fresh workspace A through the store services, each
// call acting as the user it is for.
func (f *tenants) newTenantA(t *testing.T) tenantA {
	t.Helper()
	f.n++
	ws, err := store.NewWorkspaceService(f.a.DB).CreateWorkspace(actingAs(f.ownerUser), fmt.Sprintf("Alpha %d", f.n), "")
	if err != nil {
		t.Fatal(err)
	}
	invites := store.NewInviteService(f.a.DB)
	for _, join := range []struct {
		u    *app.User
		role app.Role
	}{{f.adminUser, app.RoleAdmin}, {f.memUser, app.RoleMember}} {
		token, hash := app.NewToken()
		if _, err := invites.CreateInvite(actingAs(f.ownerUser), app.ScopeOf(actingAs(f.ownerUser), ws.ID), app.NewInvite{Email: join.u.Email, Role: join.role,
			TokenHash: hash, ExpiresAt: f.a.Clock.Now().Add(app.InviteTTL)}, app.PlanLimits{FreeSeats: 100}, f.compose(token)); err != nil {
			t.Fatal(err)
		}
		if _, err := invites.AcceptInvite(actingAs(join.u), app.InviteKey{TokenHash: hash}, app.PlanLimits{}); err != nil {
			t.Fatal(err)
		}
	}
	rows := map[string]int64{}
	rows["{hook}"], rows["{delivery}"] = f.createHook(t, f.ownerUser, ws.ID)
	// scaffold:isolation-fixtures (make scaffold adds a row of each resource above this line)
	keyID, secret := f.createKey(t, f.ownerUser, ws.ID)
	_, read := f.createKey(t, f.ownerUser, ws.ID, app.ScopeRead)
	_, write := f.createKey(t, f.ownerUser, ws.ID, app.ScopeWrite)
	return tenantA{id: ws.ID, slug: ws.Slug, name: ws.Name, adminID: f.adminUser.ID, memberID: f.memUser.ID,
		inviteID: f.createInvite(t, f.ownerUser, ws.ID, "pending@a.test", app.RoleMember), keyID: keyID, keySecret: secret,
		readKey: read, writeKey: write, rows: rows}
}

// apiRows walks every /api/v1 operation with A's read-write, read-only and
// write-only keys and with B's key, each against a fresh workspace A: a
// key lacking the scope gets 403, B's key gets 404 on A's ids and sees only
// B otherwise, and a refused request leaves A as it was.
func (f *tenants) apiRows(t *testing.T) {
	_, bKey := f.createKey(t, f.outsiderUser, f.bID)
	const (
		ok, made, gone = http.StatusOK, http.StatusCreated, http.StatusNoContent
		noScope        = http.StatusForbidden
		hidden         = http.StatusNotFound
		ownB           = http.StatusOK // B's key answers about B
	)
	cases := []struct {
		method, path string
		body         any
		// A's read-write, read-only and write-only keys; B's key
		rw, read, write, other int
	}{
		{"GET", "/workspace", nil, ok, ok, noScope, ownB},
		{"GET", "/members", nil, ok, ok, noScope, ownB},
		{"GET", "/invites", nil, ok, ok, noScope, ownB},
		{"GET", "/audit", nil, ok, ok, noScope, ownB},
		{"POST", "/invites", map[string]string{"email": "api-new@a.test", "role": "member"}, made, noScope, made, made},
		{"DELETE", "/invites/{invite}", nil, gone, noScope, gone, hidden},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			for _, actor := range []struct {
				name string
				key  func(tenantA) string
				want int
			}{
				{"read-write", func(w tenantA) string { return w.keySecret }, tc.rw},
				{"read-only", func(w tenantA) string { return w.readKey }, tc.read},
				{"write-only", func(w tenantA) string { return w.writeKey }, tc.write},
				{"B's key", func(tenantA) string { return bKey }, tc.other},
			} {
				ws := f.newTenantA(t)
				before := f.state(t, ws.id)
				api := &apiClient{t: t, a: f.a, key: actor.key(ws)}
				res := api.do(tc.method, ws.fill(tc.path), tc.body)
				if res.Status != actor.want {
					t.Errorf("%s: status=%d, want %d\n%s", actor.name, res.Status, actor.want, res.Body)
					continue
				}
				if res.Status >= 400 || actor.name == "B's key" {
					if after := f.state(t, ws.id); after != before {
						t.Errorf("%s: %s %s changed workspace A:\nbefore %s\nafter  %s", actor.name, tc.method, tc.path, before, after)
					}
				}
				if actor.name == "B's key" && strings.Contains(string(res.Body), ws.slug) {
					t.Errorf("B's key: %s %s shows workspace A: %s", tc.method, tc.path, res.Body)
				}
			}
		})
	}
}

// createKey makes an API key of a workspace as creator, read-write unless
// scopes say otherwise, and returns its id and secret.
func (f *tenants) createKey(t *testing.T, creator *app.User, workspaceID int64, scopes ...string) (int64, string) {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{app.ScopeRead, app.ScopeWrite}
	}
	secret, prefix, hash := app.NewAPIKeySecret()
	k, err := store.NewAPIKeyService(f.a.DB).CreateAPIKey(actingAs(creator), app.ScopeOf(actingAs(creator), workspaceID), app.NewAPIKey{Name: "tenant key",
		Scopes: scopes, Prefix: prefix, TokenHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	return k.ID, secret
}

// createHook adds a webhook endpoint to a workspace as creator, with a
// test event queued, and returns both ids.
func (f *tenants) createHook(t *testing.T, creator *app.User, workspaceID int64) (endpointID, deliveryID int64) {
	t.Helper()
	hooks := store.NewWebhookService(f.a.DB, testTwoFactorKey, outbound.Options{})
	ctx := actingAs(creator)
	ep, err := hooks.CreateWebhookEndpoint(ctx, app.ScopeOf(ctx, workspaceID), app.WebhookEndpointInput{
		URL: "https://hooks.example.com/in", EventTypes: []string{app.ActionInviteSent}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := hooks.SendWebhookTest(ctx, app.ScopeOf(ctx, workspaceID), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ep.ID, d.ID
}

// hookState describes a workspace's webhook endpoints and deliveries.
func (f *tenants) hookState(t *testing.T, workspaceID int64) []string {
	t.Helper()
	rows, err := f.a.DB.SQL().Query(f.a.DB.Rebind(`SELECT e.url, e.description, e.event_types, e.enabled, e.secret_sealed,
		(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id)
		FROM webhook_endpoints e WHERE e.workspace_id = ? ORDER BY e.id`), workspaceID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var url, desc, types, sealed string
		var enabled bool
		var n int
		if err := rows.Scan(&url, &desc, &types, &enabled, &sealed, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("webhook %s %q [%s] enabled=%v secret=%s deliveries=%d", url, desc, types, enabled, sealed, n))
	}
	return out
}

// createInvite invites email to a workspace as inviter and returns the
// invite's id.
func (f *tenants) createInvite(t *testing.T, inviter *app.User, workspaceID int64, email string, role app.Role) int64 {
	t.Helper()
	token, hash := app.NewToken()
	inv, err := store.NewInviteService(f.a.DB).CreateInvite(actingAs(inviter), app.ScopeOf(actingAs(inviter), workspaceID), app.NewInvite{Email: email,
		Role: role, TokenHash: hash, ExpiresAt: f.a.Clock.Now().Add(app.InviteTTL)}, app.PlanLimits{FreeSeats: 100}, f.compose(token))
	if err != nil {
		t.Fatal(err)
	}
	return inv.ID
}

func (f *tenants) compose(token string) app.ComposeInvite {
	return func(inv *app.Invite, _ string) app.InviteEmail {
		link := f.a.URL + "/invites/" + token
		return app.InviteEmail{Email: mail.InviteEmail(i18n.MustNew(i18n.Options{}).Printer(i18n.Source), "Atrium", inv.Email, inv.WorkspaceName, inv.InvitedBy(), inv.Role, link), Link: link}
	}
}

// state describes a workspace for before/after comparisons: its name and
// slug, members with roles, and pending invites with their expiry (which a
// resend moves).
func (f *tenants) state(t *testing.T, workspaceID int64) string {
	t.Helper()
	ctx := context.Background()
	wss := store.NewWorkspaceService(f.a.DB)
	members, err := store.NewMemberService(f.a.DB).FindMembers(ctx, app.ScopeOf(ctx, workspaceID))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) == 0 {
		return "gone"
	}
	var parts []string
	list, err := wss.FindWorkspacesByUser(ctx, members[0].UserID)
	if err != nil {
		t.Fatal(err)
	}
	for _, uw := range list {
		if uw.ID == workspaceID {
			parts = append(parts, uw.Name+" /w/"+uw.Slug+" "+uw.Plan+" "+uw.SubscriptionStatus+" two-factor="+strconv.FormatBool(uw.RequireTwoFactor))
		}
	}
	for _, m := range members {
		parts = append(parts, m.Email+"="+string(m.Role))
	}
	invites, err := store.NewInviteService(f.a.DB).FindInvites(ctx, app.ScopeOf(ctx, workspaceID), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invites {
		parts = append(parts, "invite "+inv.Email+" "+inv.Status+" until "+inv.ExpiresAt.String())
	}
	keys, err := store.NewAPIKeyService(f.a.DB).FindAPIKeys(ctx, app.ScopeOf(ctx, workspaceID))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		parts = append(parts, "key "+k.Name+" revoked="+strconv.FormatBool(!k.RevokedAt.IsZero()))
	}
	parts = append(parts, f.hookState(t, workspaceID)...)
	slices.Sort(parts[1:])
	return strings.Join(parts, "; ")
}

// send sends a GET or a same-origin form POST.
func (b *browser) send(method, path string, form url.Values) *response {
	b.t.Helper()
	if method == http.MethodGet {
		return b.Get(path)
	}
	return b.Post(path, form)
}
