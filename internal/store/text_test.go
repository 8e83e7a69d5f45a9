package store_test

import (
	"context"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// badText is text PostgreSQL refuses (invalid UTF-8, NUL) or that no form
// field may hold (control characters, direction overrides).
var badText = map[string]string{
	"InvalidUTF8": "Caf\xe9 Team",
	"NUL":         "Acme\x00Team",
	"Escape":      "Acme\x1b[31m",
	"C1Control":   "Acme\u0085Team",
	"RTLOverride": "Acme\u202eTeam",
}

func TestUserService_UpdateUser_RefusesBadText(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		users := store.NewUserService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		for name, in := range badText {
			t.Run(name, func(t *testing.T) {
				_, err := users.UpdateUser(ada.ctx, app.UserUpdate{Name: &in})
				if code, field := app.ErrorCode(err), app.ErrorField(err); code != app.EINVALID || field != "name" {
					t.Fatalf("UpdateUser(name=%q) error=%v (code %q, field %q), want %q about \"name\"", in, err, code, field, app.EINVALID)
				}
				u, err := users.FindUserByID(context.Background(), ada.ID)
				if err != nil {
					t.Fatal(err)
				}
				if u.Name != "" {
					t.Fatalf("name stored as %q", u.Name)
				}
			})
		}
	})
}

func TestWorkspaceService_CreateWorkspace_RefusesBadText(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ws := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		for name, in := range badText {
			t.Run(name, func(t *testing.T) {
				_, err := ws.CreateWorkspace(ada.ctx, in, "")
				if code, field := app.ErrorCode(err), app.ErrorField(err); code != app.EINVALID || field != "name" {
					t.Fatalf("CreateWorkspace(%q) error=%v (code %q, field %q), want %q about \"name\"", in, err, code, field, app.EINVALID)
				}
			})
		}
		list, err := ws.FindWorkspacesByUser(context.Background(), ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 0 {
			t.Fatalf("%d workspaces created from bad names", len(list))
		}
	})
}

func TestAuthService_CompleteLogin_SanitizesUserAgent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		auth := store.NewAuthService(db)
		// A browser sending its user agent in Latin-1, with a NUL and a line
		// break thrown in.
		const ua = "Mozilla/5.0 (X11; Caf\xe9 OS)\x00\r\nX"
		const want = "Mozilla/5.0 (X11; Caf\uFFFD OS)X"
		ctx := app.WithRequestMeta(context.Background(), app.RequestMeta{RequestID: "r1", IP: "203.0.113.9\x00", UserAgent: ua})
		tok := requestLogin(t, auth, c, "ada@example.com", "")
		_, h := app.NewToken()
		u, _, err := auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{TokenHash: h, IP: "203.0.113.9\x00", UserAgent: ua})
		if err != nil {
			t.Fatalf("CompleteLogin with a Latin-1 user agent: %v", err)
		}
		sessions, err := auth.FindSessions(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sessions) != 1 || sessions[0].UserAgent != want || sessions[0].IP != "203.0.113.9" {
			t.Fatalf("sessions=%+v, want one with user agent %q and IP 203.0.113.9", sessions, want)
		}
		entries, err := store.NewAuditService(db).FindAuditEntries(context.Background(), app.AuditFilter{ActorID: u.ID, Action: app.ActionSignedIn})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].UserAgent != want || entries[0].IP != "203.0.113.9" {
			t.Fatalf("audit entries=%+v, want one with user agent %q", entries, want)
		}
	})
}
