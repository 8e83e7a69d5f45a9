package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock(db *store.DB) *clock {
	c := &clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	db.Now = c.Now
	return c
}

// requestLogin stores a login request for email and returns its raw token.
func requestLogin(t testing.TB, auth *store.AuthService, c *clock, email, next string) string {
	t.Helper()
	token, hash := app.NewToken()
	err := auth.CreateLoginRequest(context.Background(),
		app.LoginRequest{Email: email, TokenHash: hash, Next: next, ExpiresAt: c.Now().Add(app.LoginTokenTTL)},
		app.Email{To: email, Subject: "Sign in", Text: "link", Ref: "login"})
	if err != nil {
		t.Fatalf("CreateLoginRequest: %v", err)
	}
	return token
}

func TestAuthService_CompleteLogin(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		auth := store.NewAuthService(db)
		audit := store.NewAuditService(db)

		t.Run("FirstSignInCreatesUser", func(t *testing.T) {
			tok := requestLogin(t, auth, c, "ada@example.com", "/app")
			lt, err := auth.FindLoginToken(ctx, app.HashToken(tok))
			if err != nil {
				t.Fatalf("FindLoginToken: %v", err)
			}
			if got, want := lt.Email, "ada@example.com"; got != want {
				t.Fatalf("Email=%q, want %q", got, want)
			}
			_, sessHash := app.NewToken()
			u, used, err := auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{TokenHash: sessHash, IP: "192.0.2.1", UserAgent: "test"})
			if err != nil {
				t.Fatalf("CompleteLogin: %v", err)
			}
			if u.ID == 0 || u.Email != "ada@example.com" || used.Next != "/app" {
				t.Fatalf("got user %+v next %q", u, used.Next)
			}
			p, err := auth.Authenticate(ctx, sessHash)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.User.ID != u.ID || p.Session.IP != "192.0.2.1" {
				t.Fatalf("principal = %+v", p)
			}
			entries, err := audit.FindAuditEntries(ctx, app.AuditFilter{ActorID: u.ID})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range entries {
				actions = append(actions, e.Action)
			}
			if len(actions) != 2 || actions[0] != app.ActionSignedIn || actions[1] != app.ActionUserCreated {
				t.Fatalf("audit actions = %v, want [auth.signed_in user.created]", actions)
			}
			if got := entries[0].Metadata["new_user"]; got != true {
				t.Fatalf("signed_in metadata new_user = %v, want true", got)
			}
		})

		t.Run("SingleUse", func(t *testing.T) {
			tok := requestLogin(t, auth, c, "bob@example.com", "")
			_, h1 := app.NewToken()
			if _, _, err := auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{TokenHash: h1}); err != nil {
				t.Fatal(err)
			}
			_, h2 := app.NewToken()
			_, _, err := auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{TokenHash: h2})
			if !errors.Is(err, app.ErrLoginLinkUsed) {
				t.Fatalf("second use: err = %v, want ErrLoginLinkUsed", err)
			}
			if _, err := auth.FindLoginToken(ctx, app.HashToken(tok)); !errors.Is(err, app.ErrLoginLinkUsed) {
				t.Fatalf("FindLoginToken after use: %v", err)
			}
			if _, err := auth.Authenticate(ctx, h2); app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("no session may exist for the refused use; err = %v", err)
			}
		})

		t.Run("Expired", func(t *testing.T) {
			tok := requestLogin(t, auth, c, "cy@example.com", "")
			c.Add(app.LoginTokenTTL + time.Second)
			if _, err := auth.FindLoginToken(ctx, app.HashToken(tok)); !errors.Is(err, app.ErrLoginLinkExpired) {
				t.Fatalf("FindLoginToken: %v, want expired", err)
			}
			_, h := app.NewToken()
			if _, _, err := auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{TokenHash: h}); !errors.Is(err, app.ErrLoginLinkExpired) {
				t.Fatalf("CompleteLogin: %v, want expired", err)
			}
			if _, err := store.NewUserService(db).FindUserByEmail(ctx, "cy@example.com"); app.ErrorCode(err) != app.ENOTFOUND {
				t.Fatalf("an expired link created a user: %v", err)
			}
		})

		t.Run("Unknown", func(t *testing.T) {
			tok, _ := app.NewToken()
			_, h := app.NewToken()
			if _, _, err := auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{TokenHash: h}); !errors.Is(err, app.ErrLoginLinkInvalid) {
				t.Fatalf("CompleteLogin: %v, want invalid", err)
			}
		})

		t.Run("UsingOneLinkVoidsTheOthers", func(t *testing.T) {
			first := requestLogin(t, auth, c, "dee@example.com", "")
			second := requestLogin(t, auth, c, "dee@example.com", "")
			_, h := app.NewToken()
			if _, _, err := auth.CompleteLogin(ctx, app.HashToken(second), app.NewSession{TokenHash: h}); err != nil {
				t.Fatal(err)
			}
			if _, err := auth.FindLoginToken(ctx, app.HashToken(first)); !errors.Is(err, app.ErrLoginLinkUsed) {
				t.Fatalf("older link after newer used: %v, want used", err)
			}
		})

		t.Run("ConcurrentUseSignsInOnce", func(t *testing.T) {
			tok := requestLogin(t, auth, c, "eve@example.com", "")
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, h := app.NewToken()
					_, _, errs[i] = auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{TokenHash: h})
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, app.ErrLoginLinkUsed):
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of %d concurrent uses succeeded, want exactly 1", ok, n)
			}
		})

		t.Run("ReplacedSessionEnds", func(t *testing.T) {
			tok := requestLogin(t, auth, c, "fay@example.com", "")
			_, old := app.NewToken()
			if _, _, err := auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{TokenHash: old}); err != nil {
				t.Fatal(err)
			}
			tok2 := requestLogin(t, auth, c, "fay@example.com", "")
			_, fresh := app.NewToken()
			if _, _, err := auth.CompleteLogin(ctx, app.HashToken(tok2), app.NewSession{TokenHash: fresh, ReplacesHash: old}); err != nil {
				t.Fatal(err)
			}
			if _, err := auth.Authenticate(ctx, old); app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("old session still valid: %v", err)
			}
			if _, err := auth.Authenticate(ctx, fresh); err != nil {
				t.Fatalf("new session: %v", err)
			}
		})
	})
}

func TestAuthService_Sessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		auth := store.NewAuthService(db)

		signIn := func(email string) (string, *app.User) {
			tok := requestLogin(t, auth, c, email, "")
			_, h := app.NewToken()
			u, _, err := auth.CompleteLogin(ctx, app.HashToken(tok), app.NewSession{TokenHash: h})
			if err != nil {
				t.Fatal(err)
			}
			return h, u
		}

		t.Run("RenewedOnUseAndExpiresUnused", func(t *testing.T) {
			h, _ := signIn("gil@example.com")
			c.Add(app.SessionTTL - time.Hour)
			p, err := auth.Authenticate(ctx, h)
			if err != nil {
				t.Fatalf("before expiry: %v", err)
			}
			if got, want := p.Session.ExpiresAt, c.Now().Add(app.SessionTTL); !got.Equal(want) {
				t.Fatalf("ExpiresAt=%v, want renewed to %v", got, want)
			}
			c.Add(app.SessionTTL + time.Second)
			if _, err := auth.Authenticate(ctx, h); app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("after expiry: err = %v, want unauthorized", err)
			}
		})

		t.Run("SignOutEverywhereElse", func(t *testing.T) {
			h1, u := signIn("hal@example.com")
			h2, _ := signIn("hal@example.com")
			h3, _ := signIn("hal@example.com")
			p, err := auth.Authenticate(ctx, h3)
			if err != nil {
				t.Fatal(err)
			}
			ss, err := auth.FindSessions(ctx, u.ID)
			if err != nil || len(ss) != 3 {
				t.Fatalf("FindSessions = %d sessions, %v; want 3", len(ss), err)
			}
			n, err := auth.RevokeOtherSessions(ctx, u.ID, p.Session.ID)
			if err != nil || n != 2 {
				t.Fatalf("RevokeOtherSessions = %d, %v; want 2", n, err)
			}
			for _, h := range []string{h1, h2} {
				if _, err := auth.Authenticate(ctx, h); app.ErrorCode(err) != app.EUNAUTHORIZED {
					t.Fatalf("revoked session still valid: %v", err)
				}
			}
			if _, err := auth.Authenticate(ctx, h3); err != nil {
				t.Fatalf("kept session: %v", err)
			}
		})

		t.Run("RevokeOnlyOwnSessions", func(t *testing.T) {
			_, ivy := signIn("ivy@example.com")
			jonHash, _ := signIn("jon@example.com")
			jon, err := auth.Authenticate(ctx, jonHash)
			if err != nil {
				t.Fatal(err)
			}
			if err := auth.RevokeSession(ctx, ivy.ID, jon.Session.ID); app.ErrorCode(err) != app.ENOTFOUND {
				t.Fatalf("revoking another user's session: %v, want not found", err)
			}
			if _, err := auth.Authenticate(ctx, jonHash); err != nil {
				t.Fatalf("jon's session was ended by ivy: %v", err)
			}
			if err := auth.SignOut(ctx, jonHash); err != nil {
				t.Fatal(err)
			}
			if _, err := auth.Authenticate(ctx, jonHash); app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("after sign-out: %v", err)
			}
		})
	})
}
