package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// mailLimits are the default invite-mail limits.
var mailLimits = app.InviteMailLimits{ResendGap: 5 * time.Minute, ResendsPerDay: 5, PerAddressPerDay: 10}

// requireRetry fails unless err is a *app.RetryError for reason at at.
func requireRetry(t *testing.T, what string, err error, reason string, at time.Time) {
	t.Helper()
	var re *app.RetryError
	if !errors.As(err, &re) {
		t.Fatalf("%s: err=%v, want a RetryError", what, err)
	}
	if re.Reason != reason || !re.At.Equal(at) {
		t.Fatalf("%s: RetryError reason=%q at=%v, want %q at %v", what, re.Reason, re.At, reason, at)
	}
	if got := app.ErrorCode(err); got != app.ERATELIMITED {
		t.Fatalf("%s: code=%q, want %q", what, got, app.ERATELIMITED)
	}
}

func TestInviteService_MailLimits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		invites := store.NewInviteService(db).WithMailLimits(mailLimits)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		resend := func(inviteID int64) (string, error) {
			tok, hash := app.NewToken()
			_, err := invites.ResendInvite(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), inviteID, hash, c.Now().Add(app.InviteTTL), app.PlanLimits{}, inviteMail(tok))
			return tok, err
		}
		create := func(u teamUser, workspaceID int64, email string) error {
			tok, hash := app.NewToken()
			_, err := invites.CreateInvite(u.ctx, app.ScopeOf(u.ctx, workspaceID), app.NewInvite{Email: email, Role: app.RoleMember,
				TokenHash: hash, ExpiresAt: c.Now().Add(app.InviteTTL)}, app.PlanLimits{}, inviteMail(tok))
			return err
		}

		t.Run("ResendFlood", func(t *testing.T) {
			if err := create(ada, ws.ID, "victim@example.com"); err != nil {
				t.Fatal(err)
			}
			inv := findPending(t, db, ws.ID, "victim@example.com")
			sentAt := c.Now()
			c.Add(30 * time.Second)
			// Forty resends within seconds queue nothing: the first email went
			// half a minute ago.
			for i := range 40 {
				_, err := resend(inv.ID)
				requireRetry(t, fmt.Sprintf("resend %d", i), err, app.RetryGap, sentAt.Add(5*time.Minute))
			}
			if got := len(inviteEmails(t, db, inv.ID)); got != 1 {
				t.Fatalf("%d emails queued, want 1", got)
			}
			if got := countAudit(t, db, ws.ID, app.ActionInviteResent); got != 0 {
				t.Fatalf("%d invite.resent entries, want 0", got)
			}
			// The refused resends left the link alone.
			if got := findPending(t, db, ws.ID, "victim@example.com"); !got.ExpiresAt.Equal(inv.ExpiresAt) {
				t.Fatalf("expiry moved from %v to %v", inv.ExpiresAt, got.ExpiresAt)
			}

			// Every five minutes one resend goes, five a day.
			var first time.Time
			for i := range 5 {
				c.Add(5 * time.Minute)
				if i == 0 {
					first = c.Now()
				}
				if _, err := resend(inv.ID); err != nil {
					t.Fatalf("resend %d after the gap: %v", i, err)
				}
			}
			c.Add(5 * time.Minute)
			_, err := resend(inv.ID)
			requireRetry(t, "sixth resend of the day", err, app.RetryInviteDaily, ceilMinute(first.Add(24*time.Hour)))
			c.Add(first.Add(24 * time.Hour).Sub(c.Now()))
			if _, err := resend(inv.ID); err != nil {
				t.Fatalf("resend a day after the first: %v", err)
			}
			if got := len(inviteEmails(t, db, inv.ID)); got != 7 {
				t.Fatalf("%d emails queued, want 7 (the invite and six resends)", got)
			}
		})

		t.Run("PerAddress", func(t *testing.T) {
			// Ten workspaces of ten strangers invite the same address: the
			// eleventh invite email of the day is refused, wherever from.
			var firstAt time.Time
			var last *app.Workspace
			var lastOwner teamUser
			for i := range 11 {
				u := signUpMember(t, db, c, fmt.Sprintf("spammer%d@example.com", i))
				w := createWorkspace(t, db, u, fmt.Sprintf("Spam %d", i))
				err := create(u, w.ID, "target@example.com")
				if i == 0 {
					firstAt = c.Now()
				}
				if i < 10 {
					if err != nil {
						t.Fatalf("invite %d: %v", i, err)
					}
					last, lastOwner = w, u
					c.Add(time.Minute)
					continue
				}
				requireRetry(t, "eleventh invite", err, app.RetryAddressDaily, ceilMinute(firstAt.Add(24*time.Hour)))
				if n := rowCount(t, db, "SELECT COUNT(*) FROM invites WHERE workspace_id = ?", w.ID); n != 0 {
					t.Fatalf("the refused invite was stored (%d rows)", n)
				}
			}
			// A resend counts against the address too.
			c.Add(10 * time.Minute)
			inv := findPending(t, db, last.ID, "target@example.com")
			tok, hash := app.NewToken()
			_, err := invites.ResendInvite(lastOwner.ctx, app.ScopeOf(lastOwner.ctx, last.ID), inv.ID, hash, c.Now().Add(app.InviteTTL), app.PlanLimits{}, inviteMail(tok))
			requireRetry(t, "resend to a full address", err, app.RetryAddressDaily, ceilMinute(firstAt.Add(24*time.Hour)))
			if got := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ?", "target@example.com"); got != 10 {
				t.Fatalf("%d emails to the address, want 10", got)
			}
			// Deleting a workspace does not give its invites back.
			if err := store.NewWorkspaceService(db).DeleteWorkspace(lastOwner.ctx, app.ScopeOf(lastOwner.ctx, last.ID)); err != nil {
				t.Fatal(err)
			}
			u := signUpMember(t, db, c, "late@example.com")
			w := createWorkspace(t, db, u, "Late")
			requireRetry(t, "invite after deleting a workspace", create(u, w.ID, "target@example.com"), app.RetryAddressDaily, ceilMinute(firstAt.Add(24*time.Hour)))
		})

		t.Run("ConcurrentAcrossWorkspaces", func(t *testing.T) {
			limited := store.NewInviteService(db).WithMailLimits(app.InviteMailLimits{PerAddressPerDay: 3})
			const n = 8
			var owners [n]teamUser
			var spaces [n]*app.Workspace
			for i := range n {
				owners[i] = signUpMember(t, db, c, fmt.Sprintf("racer%d@example.com", i))
				spaces[i] = createWorkspace(t, db, owners[i], fmt.Sprintf("Race %d", i))
			}
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				errs  [n]error
			)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					tok, hash := app.NewToken()
					_, errs[i] = limited.CreateInvite(owners[i].ctx, app.ScopeOf(owners[i].ctx, spaces[i].ID), app.NewInvite{Email: "raced@example.com",
						Role: app.RoleMember, TokenHash: hash, ExpiresAt: c.Now().Add(app.InviteTTL)}, app.PlanLimits{}, inviteMail(tok))
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				var re *app.RetryError
				switch {
				case err == nil:
					ok++
				case errors.As(err, &re):
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if ok != 3 {
				t.Fatalf("%d of %d concurrent invites to one address went, want 3", ok, n)
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ?", "raced@example.com"); got != 3 {
				t.Fatalf("%d emails queued, want 3", got)
			}
		})
	})
}

// ceilMinute rounds t up to a whole minute, as a RetryError's At is.
func ceilMinute(t time.Time) time.Time {
	if m := t.Truncate(time.Minute); m.Before(t) {
		return m.Add(time.Minute)
	}
	return t
}

// findPending returns the pending invite of a workspace for email.
func findPending(t *testing.T, db *store.DB, workspaceID int64, email string) *app.Invite {
	t.Helper()
	list, err := store.NewInviteService(db).FindInvites(context.Background(), ownerScope(t, db, workspaceID), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range list {
		if inv.Email == email {
			return inv
		}
	}
	t.Fatalf("no pending invite for %s", email)
	return nil
}
