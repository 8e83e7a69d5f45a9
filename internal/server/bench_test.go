package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
	"atrium/internal/wire"
)

// benchApp is the real handler over a real SQLite file with one signed-in
// owner of a workspace of `members` members.
type benchApp struct {
	handler http.Handler
	db      *store.DB
	cookie  *http.Cookie
	slug    string
	wsID    int64
}

func newBenchApp(tb testing.TB, members int) *benchApp {
	tb.Helper()
	db := storetest.Open(tb, store.SQLite)
	cfg, err := config.Load(config.Env{"APP_ENV": "test", "APP_URL": "http://atrium.test", "LOG_LEVEL": "error"})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	auth := store.NewAuthService(db)
	signIn := func(email string) (string, *app.User) {
		_, lh := app.NewToken()
		if err := auth.CreateLoginRequest(ctx, app.LoginRequest{Email: email, TokenHash: lh, ExpiresAt: time.Now().Add(time.Hour)},
			app.Email{To: email, Subject: "x", Text: "x"}); err != nil {
			tb.Fatal(err)
		}
		token, sh := app.NewToken()
		u, _, err := auth.CompleteLogin(ctx, lh, app.NewSession{TokenHash: sh})
		if err != nil {
			tb.Fatal(err)
		}
		return token, u
	}
	token, owner := signIn("owner@example.com")
	octx := app.WithPrincipal(ctx, &app.Principal{User: *owner})
	workspaces, invites := store.NewWorkspaceService(db), store.NewInviteService(db)
	ws, err := workspaces.CreateWorkspace(octx, "Bench Inc", "")
	if err != nil {
		tb.Fatal(err)
	}
	for i := 1; i < members; i++ {
		email := "member" + itoa(i) + "@example.com"
		_, hash := app.NewToken()
		if _, err := invites.CreateInvite(octx, app.ScopeOf(octx, ws.ID), app.NewInvite{Email: email, Role: app.RoleMember,
			TokenHash: hash, ExpiresAt: time.Now().Add(time.Hour)}, app.PlanLimits{}, func(*app.Invite, string) app.InviteEmail {
			return app.InviteEmail{Email: app.Email{To: email, Subject: "x", Text: "x"}}
		}); err != nil {
			tb.Fatal(err)
		}
		_, u := signIn(email)
		if _, err := invites.AcceptInvite(app.WithPrincipal(ctx, &app.Principal{User: *u}), app.InviteKey{TokenHash: hash}, app.PlanLimits{}); err != nil {
			tb.Fatal(err)
		}
	}
	atrium, err := wire.New(ctx, wire.Options{Config: cfg, DB: db, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		TwoFactorKey: testTwoFactorKey})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = atrium.Close() })
	h := atrium.Handler
	return &benchApp{handler: h, db: db, cookie: &http.Cookie{Name: "atrium_session", Value: token}, slug: ws.Slug, wsID: ws.ID}
}

// largeVolume is the data of the large benchmarks: the owner's workspace
// with 2,000 members and 20,000 audit entries among 50,000.
var largeVolume = storetest.Volume{Users: 3000, Workspaces: 50, Members: 2000, AuditRows: 20000,
	OtherAuditRows: 30000, Invites: 200, Mail: 1000, StripeEvents: 100}

// newLargeBenchApp is newBenchApp(5) with largeVolume added to its workspace.
func newLargeBenchApp(tb testing.TB) *benchApp {
	tb.Helper()
	a := newBenchApp(tb, 5)
	v := largeVolume
	v.WorkspaceID = a.wsID
	storetest.Bulk(tb, a.db, v)
	return a
}

// get serves one signed-in GET and returns its status.
func (b *benchApp) get(path string) int {
	req := httptest.NewRequest(http.MethodGet, "http://atrium.test"+path, nil)
	req.AddCookie(b.cookie)
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return rec.Code
}

// signedInPages are the pages held to a statement budget and benchmarked.
func signedInPages(slug string) map[string]string {
	return map[string]string{
		"Dashboard":  "/w/" + slug,
		"Members":    "/w/" + slug + "/members",
		"Billing":    "/w/" + slug + "/billing",
		"Audit":      "/w/" + slug + "/audit",
		"Account":    "/settings/account",
		"Workspaces": "/settings/workspaces",
	}
}

// TestStatementBudget holds each signed-in page to a fixed number of SQL
// statements: the session with its user, the workspace with the
// membership, and the page's own data (the audit page: its entries and the
// people its filter offers) — the same number whether the
// workspace has 1 member or 2,012 with 200 pending invites and 2,000 audit
// entries (no N+1, and the members page stays one page of 50).
func TestStatementBudget(t *testing.T) {
	// Workspace pages read the user's workspaces once more for the
	// header's switcher (the indexed workspaces_of_user query); the audit
	// page also reads the people its filter offers; the account page its
	// two-factor card, its linked sign-in accounts and how many API keys
	// deleting the account revokes.
	// The dashboard and audit page read their chain's mark before the
	// entries (what lets a second view skip them).
	budgets := map[string]int64{"Dashboard": 6, "Members": 5, "Billing": 4, "Audit": 6, "Account": 6, "Workspaces": 3}
	// A second view of the same page by the same session finds who is
	// asking in the identity cache (one version read instead of the
	// session, workspace and switcher reads) and an unchanged first page
	// of audit entries kept (one mark read instead of the page).
	warmBudgets := map[string]int64{"Dashboard": 3, "Members": 3, "Billing": 2, "Audit": 3, "Account": 6, "Workspaces": 3}
	small, large := newBenchApp(t, 1), newBenchApp(t, 12)
	storetest.Bulk(t, large.db, storetest.Volume{WorkspaceID: large.wsID, Users: 2000, Members: 2000, AuditRows: 2000, Invites: 200})
	large.db.TrackCatalog()
	for name, path := range signedInPages(small.slug) {
		count := func(a *benchApp) int64 {
			before := a.db.Statements()
			if code := a.get(path); code != http.StatusOK {
				t.Fatalf("%s: GET %s = %d", name, path, code)
			}
			return a.db.Statements() - before
		}
		// First view by a process that keeps nothing yet.
		small.db.ForgetKept()
		large.db.ForgetKept()
		s, l := count(small), count(large)
		if s != l {
			t.Errorf("%s: %d statements with 1 member, %d with 12: the page queries per row", name, s, l)
		}
		if s > budgets[name] {
			t.Errorf("%s: %d statements, budget %d", name, s, budgets[name])
		}
		if want := budgets[name]; s < want {
			t.Logf("%s: %d statements (budget %d): lower the budget", name, s, want)
		}
		ws, wl := count(small), count(large)
		if ws != wl {
			t.Errorf("%s, seen again: %d statements with 1 member, %d with 12", name, ws, wl)
		}
		if ws > warmBudgets[name] {
			t.Errorf("%s, seen again: %d statements, budget %d", name, ws, warmBudgets[name])
		}
		if want := warmBudgets[name]; ws < want {
			t.Logf("%s, seen again: %d statements (budget %d): lower the budget", name, ws, want)
		}
	}
	// Every read a page view runs is a catalogued hot query, so
	// TestHotQueryPlans (internal/store) checks its plan.
	for _, q := range large.db.StatementsOffCatalog() {
		t.Errorf("a page view ran a SELECT outside internal/store/queries.go (add it there):\n%s", q)
	}
	// The hot path itself: the session, user and membership come from two
	// indexed queries.
	if got := small.db.Statements(); got == 0 {
		t.Fatal("statement counter never moved")
	}
}

// BenchmarkBaseline is a bare net/http handler writing a page of the same
// size as the dashboard: the yardstick the pages are measured against
// (scripts/bench.sh prints each page's ratio to it).
func BenchmarkBaseline(b *testing.B) {
	a := newBenchApp(b, 5)
	req := httptest.NewRequest(http.MethodGet, "http://atrium.test/w/"+a.slug, nil)
	req.AddCookie(a.cookie)
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(body)
	})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		bare.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://atrium.test/", nil))
	}
}

// BenchmarkPageLarge measures each signed-in page, and the audit log
// filtered, on largeVolume.
func BenchmarkPageLarge(b *testing.B) {
	a := newLargeBenchApp(b)
	pages := signedInPages(a.slug)
	pages["AuditFiltered"] = "/w/" + a.slug + "/audit?action=invite.sent"
	for name, path := range pages {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if code := a.get(path); code != http.StatusOK {
					b.Fatalf("GET %s = %d", path, code)
				}
			}
		})
	}
}

// BenchmarkPagePublic measures the pages a visitor sees signed out.
func BenchmarkPagePublic(b *testing.B) {
	a := newBenchApp(b, 1)
	for name, path := range map[string]string{"Landing": "/", "Login": "/login"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "http://atrium.test"+path, nil)
				rec := httptest.NewRecorder()
				a.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", path, rec.Code)
				}
			}
		})
	}
}

// BenchmarkPage measures each signed-in page through the whole stack:
// middleware, session lookup, membership, the page's queries and render.
func BenchmarkPage(b *testing.B) {
	a := newBenchApp(b, 5)
	for name, path := range signedInPages(a.slug) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if code := a.get(path); code != http.StatusOK {
					b.Fatalf("GET %s = %d", path, code)
				}
			}
		})
	}
}
