package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// systemEntries counts the system log's (no workspace) entries of action.
func systemEntries(t *testing.T, db *store.DB, action string) int {
	t.Helper()
	return rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE workspace_id IS NULL AND action = ?", action)
}

// staffCtx returns a context acting as a staff member with a session.
func staffCtx(t *testing.T, db *store.DB, c *clock, email string) (teamUser, int64) {
	t.Helper()
	u := signUpMember(t, db, c, email)
	if _, err := store.NewAdminService(db).GrantStaff(context.Background(), email); err != nil {
		t.Fatalf("grant %s: %v", email, err)
	}
	var sessionID int64
	if err := db.SQL().QueryRowContext(context.Background(), db.Rebind("SELECT id FROM sessions WHERE token_hash = ?"), u.sessionHash).Scan(&sessionID); err != nil {
		t.Fatal(err)
	}
	p := &app.Principal{User: *u.User, Session: app.Session{ID: sessionID, UserID: u.ID}}
	u.ctx = app.WithPrincipal(context.Background(), p)
	return u, sessionID
}

func TestAdminService_Staff(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ctx := context.Background()
		admin := store.NewAdminService(db)
		_, err := admin.GrantStaff(ctx, "nobody@example.com")
		requireCode(t, "grant unknown", err, app.ENOTFOUND)
		_, err = admin.GrantStaff(ctx, "not an email\xff")
		requireCode(t, "grant invalid", err, app.EINVALID)

		u := signUpMember(t, db, c, "ops@example.com")
		m, err := admin.GrantStaff(ctx, "OPS@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if m.UserID != u.ID || m.TwoFactor {
			t.Errorf("granted %+v", m)
		}
		_, err = admin.GrantStaff(ctx, "ops@example.com")
		requireCode(t, "grant twice", err, app.ECONFLICT)
		if _, err := admin.FindStaff(ctx, u.ID); err != nil {
			t.Errorf("FindStaff: %v", err)
		}
		list, err := admin.ListStaff(ctx)
		if err != nil || len(list) != 1 || list[0].Email != "ops@example.com" {
			t.Errorf("ListStaff=%v, %v", list, err)
		}
		if _, err := admin.RevokeStaff(ctx, "ops@example.com"); err != nil {
			t.Fatal(err)
		}
		_, err = admin.FindStaff(ctx, u.ID)
		requireCode(t, "FindStaff after revoke", err, app.ENOTFOUND)
		_, err = admin.RevokeStaff(ctx, "ops@example.com")
		requireCode(t, "revoke twice", err, app.ENOTFOUND)
		if got := systemEntries(t, db, app.ActionStaffGranted); got != 1 {
			t.Errorf("%d staff.granted entries in the system log, want 1", got)
		}
		if got := systemEntries(t, db, app.ActionStaffRevoked); got != 1 {
			t.Errorf("%d staff.revoked entries in the system log, want 1", got)
		}
	})
}

func TestAdminService_Search(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ctx := context.Background()
		admin := store.NewAdminService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		if _, err := store.NewUserService(db).UpdateUser(ada.ctx, app.UserUpdate{Name: ptr("Ada Lovelace")}); err != nil {
			t.Fatal(err)
		}
		signUpMember(t, db, c, "adam@example.com")
		signUpMember(t, db, c, "grace@example.com")
		signUpMember(t, db, c, "a_b%@example.com")
		createWorkspace(t, db, ada, "Analytical Engines")
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"ada", []string{"ada@example.com", "adam@example.com"}},
			{"lovelace", nil},                       // a name matches from its start only
			{"ada lo", []string{"ada@example.com"}}, // the name's start, lowercased
			{"g", []string{"grace@example.com"}},
			{"a_", []string{"a_b%@example.com"}}, // no wildcards: "_" and "%" are letters
			{"a%", nil},
			{"zz", nil},
		} {
			users, err := admin.SearchUsers(ctx, tc.q, 50)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range users {
				got = append(got, u.Email)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("SearchUsers(%q)=%v, want %v", tc.q, got, tc.want)
			}
		}
		list, err := admin.SearchWorkspaces(ctx, "analytical", 50)
		if err != nil || len(list) != 1 {
			t.Fatalf("SearchWorkspaces=%v, %v", list, err)
		}
		if w := list[0]; w.OwnerEmail != "ada@example.com" || w.Members != 1 || w.Plan != "free" {
			t.Errorf("workspace row %+v", w)
		}
		if all, _ := admin.SearchUsers(ctx, "", 50); len(all) != 4 {
			t.Errorf("newest users: %d, want 4", len(all))
		}
		if _, err := app.CleanAdminQuery("ada\xff"); app.ErrorCode(err) != app.EINVALID {
			t.Errorf("invalid UTF-8 query: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestAdminService_SuspendUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		staff, _ := staffCtx(t, db, c, "ops@example.com")
		admin := store.NewAdminService(db)
		bob := signUpMember(t, db, c, "bob@example.com")
		signUpMember(t, db, c, "bob@example.com") // a second device

		requireCode(t, "no reason", admin.SuspendUser(staff.ctx, bob.ID, "  "), app.EINVALID)
		requireCode(t, "unknown user", admin.SuspendUser(staff.ctx, 999999, "ticket 1"), app.ENOTFOUND)
		requireCode(t, "staff", admin.SuspendUser(staff.ctx, staff.ID, "ticket 1"), app.ECONFLICT)
		if err := admin.SuspendUser(staff.ctx, bob.ID, "ticket 42: chargeback fraud"); err != nil {
			t.Fatal(err)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", bob.ID); n != 0 {
			t.Errorf("%d sessions left after suspension", n)
		}
		_, err := store.NewAuthService(db).Authenticate(context.Background(), bob.sessionHash)
		requireCode(t, "old session", err, app.EUNAUTHORIZED)
		// Every sign-in is refused, with the sentence, and starts nothing.
		auth := store.NewAuthService(db)
		tok := requestLogin(t, auth, c, "bob@example.com", "")
		_, h := app.NewToken()
		_, _, err = auth.CompleteLogin(context.Background(), app.HashToken(tok), app.NewSession{TokenHash: h})
		if err != app.ErrAccountSuspended {
			t.Fatalf("sign-in of a suspended account: %v", err)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", bob.ID); n != 0 {
			t.Errorf("a refused sign-in started %d sessions", n)
		}
		requireCode(t, "twice", admin.SuspendUser(staff.ctx, bob.ID, "again"), app.ECONFLICT)
		requireCode(t, "link to suspended", admin.SendSignInLink(staff.ctx, bob.ID, "ticket", app.LoginRequest{TokenHash: "x",
			ExpiresAt: c.Now().Add(app.LoginTokenTTL)}, app.Email{Subject: "Sign in"}), app.ECONFLICT)
		e := latestSystem(t, db, app.ActionUserSuspended)
		checkMetadata(t, e, map[string]any{"email": "bob@example.com", "reason": "ticket 42: chargeback fraud"})
		if e.ActorID != staff.ID {
			t.Errorf("suspension actor=%d, want the staff member %d", e.ActorID, staff.ID)
		}
		if err := admin.UnsuspendUser(staff.ctx, bob.ID, "ticket 42 resolved"); err != nil {
			t.Fatal(err)
		}
		// The same link was not used by the refused sign-in: it works now.
		if _, _, err := auth.CompleteLogin(context.Background(), app.HashToken(tok), app.NewSession{TokenHash: h}); err != nil {
			t.Fatalf("sign-in after the suspension is lifted: %v", err)
		}
		n, err := admin.EndUserSessions(staff.ctx, bob.ID, "lost laptop")
		if err != nil || n != 1 {
			t.Errorf("EndUserSessions=%d, %v; want 1", n, err)
		}
		if systemEntries(t, db, app.ActionUserSessionsEnded) != 1 || systemEntries(t, db, app.ActionUserUnsuspended) != 1 {
			t.Error("missing system log entries")
		}
	})
}

// latestSystem returns the newest system log entry with action.
func latestSystem(t *testing.T, db *store.DB, action string) *app.AuditEntry {
	t.Helper()
	entries, err := store.NewOperatorAuditService(db).FindAuditEntries(context.Background(), app.AuditFilter{Action: action, Limit: 1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("no %s entry: %v", action, err)
	}
	return entries[0]
}

func TestAdminService_SuspendWorkspace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		staff, _ := staffCtx(t, db, c, "ops@example.com")
		admin := store.NewAdminService(db)
		owner := signUpMember(t, db, c, "owner@example.com")
		ws := createWorkspace(t, db, owner, "Acme")
		if err := admin.SuspendWorkspace(staff.ctx, ws.ID, "abuse report 7"); err != nil {
			t.Fatal(err)
		}
		if ok, err := admin.WorkspaceSuspended(context.Background(), ws.ID); err != nil || !ok {
			t.Errorf("WorkspaceSuspended=%v, %v", ok, err)
		}
		requireCode(t, "twice", admin.SuspendWorkspace(staff.ctx, ws.ID, "again"), app.ECONFLICT)
		e := latestAudit(t, db, ws.ID, app.ActionWorkspaceSuspended)
		checkMetadata(t, e, map[string]any{"reason": "abuse report 7"})
		if err := admin.UnsuspendWorkspace(staff.ctx, ws.ID, "resolved"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := admin.WorkspaceSuspended(context.Background(), ws.ID); ok {
			t.Error("still suspended")
		}
	})
}

func TestAdminService_Impersonation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		staff, sessionID := staffCtx(t, db, c, "ops@example.com")
		admin := store.NewAdminService(db)
		bob := signUpMember(t, db, c, "bob@example.com")
		ws := createWorkspace(t, db, bob, "Bob's")
		start := func(target int64, reason string) (*app.Impersonation, string, error) {
			_, hash := app.NewToken()
			imp, err := admin.StartImpersonation(staff.ctx, app.NewImpersonation{TokenHash: hash, StaffSessionID: sessionID,
				TargetUserID: target, Reason: reason})
			return imp, hash, err
		}
		_, _, err := start(bob.ID, "")
		requireCode(t, "no reason", err, app.EINVALID)
		_, _, err = start(staff.ID, "me")
		requireCode(t, "oneself", err, app.EINVALID)
		imp, hash, err := start(bob.ID, "ticket 9: cannot see invoices")
		if err != nil {
			t.Fatal(err)
		}
		if imp.Target.ID != bob.ID || imp.Staff.ID != staff.ID || imp.Writes() || !imp.ExpiresAt.Equal(c.Now().Add(app.ImpersonationTTL)) {
			t.Errorf("impersonation %+v", imp)
		}
		_, err = admin.FindImpersonation(context.Background(), hash, sessionID+1)
		requireCode(t, "another session", err, app.ENOTFOUND)
		if _, err := admin.FindImpersonation(context.Background(), hash, sessionID); err != nil {
			t.Fatal(err)
		}
		// Two requests opening the workspace at once: one start entry.
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if err := admin.VisitWorkspace(context.Background(), imp, ws.ID); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := countAudit(t, db, ws.ID, app.ActionImpersonationStarted); got != 1 {
			t.Errorf("%d start entries in the workspace log, want 1", got)
		}
		e := latestAudit(t, db, ws.ID, app.ActionImpersonationStarted)
		if e.ActorID != staff.ID || e.ActorName != imp.ActorName() {
			t.Errorf("start entry actor %d %q", e.ActorID, e.ActorName)
		}
		if err := admin.StartWriteSession(context.Background(), imp.ID, "ticket 9: fix the billing email"); err != nil {
			t.Fatal(err)
		}
		requireCode(t, "write twice", admin.StartWriteSession(context.Background(), imp.ID, "again"), app.ECONFLICT)
		// A change the user's principal makes during the view is the staff
		// member's, "as" the user.
		imp, _ = admin.FindImpersonation(context.Background(), hash, sessionID)
		asBob := app.WithImpersonation(bob.ctx, imp)
		name := "Bob's renamed"
		if _, err := store.NewWorkspaceService(db).UpdateWorkspace(asBob, app.ScopeOf(asBob, ws.ID), app.WorkspaceUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
		e = latestAudit(t, db, ws.ID, app.ActionWorkspaceRenamed)
		if e.ActorID != staff.ID || e.Metadata["as_user_email"] != "bob@example.com" {
			t.Errorf("rename entry actor %d, metadata %v", e.ActorID, e.Metadata)
		}
		mails := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ?", "bob@example.com")
		if err := admin.StopImpersonation(context.Background(), imp.ID, app.EndStopped, func(i *app.Impersonation) app.Email {
			return app.Email{Subject: "Support made changes", Text: i.WriteReason}
		}); err != nil {
			t.Fatal(err)
		}
		if got := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ?", "bob@example.com"); got != mails+1 {
			t.Errorf("after a write session %d emails to the user, want %d", got, mails+1)
		}
		if err := admin.StopImpersonation(context.Background(), imp.ID, app.EndStopped, nil); err != nil {
			t.Errorf("stopping twice: %v", err)
		}
		_, err = admin.FindImpersonation(context.Background(), hash, sessionID)
		requireCode(t, "after stop", err, app.ENOTFOUND)
		if systemEntries(t, db, app.ActionImpersonationStarted) != 1 || systemEntries(t, db, app.ActionImpersonationEnded) != 1 {
			t.Error("the system log lacks the start or the end")
		}
		if got := countAudit(t, db, ws.ID, app.ActionImpersonationEnded); got != 1 {
			t.Errorf("%d end entries in the workspace log, want 1", got)
		}
		// The user's own session was never touched.
		if _, err := store.NewAuthService(db).Authenticate(context.Background(), bob.sessionHash); err != nil {
			t.Errorf("the user's session: %v", err)
		}
	})
}

// TestAdminService_Races: two staff members suspending one account at
// once, and two write sessions started on one view at once: one wins, the
// other is told, and one entry is written.
func TestAdminService_Races(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		staff, sessionID := staffCtx(t, db, c, "ops@example.com")
		admin := store.NewAdminService(db)
		bob := signUpMember(t, db, c, "bob@example.com")
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { errs[i] = admin.SuspendUser(staff.ctx, bob.ID, fmt.Sprintf("ticket %d", i)) })
		}
		wg.Wait()
		if codes := app.ErrorCode(errs[0]) + "," + app.ErrorCode(errs[1]); codes != ","+app.ECONFLICT && codes != app.ECONFLICT+"," {
			t.Errorf("two suspensions: %v, %v; want one success and one conflict", errs[0], errs[1])
		}
		if n := systemEntries(t, db, app.ActionUserSuspended); n != 1 {
			t.Errorf("%d suspension entries, want 1", n)
		}
		if err := admin.UnsuspendUser(staff.ctx, bob.ID, "done"); err != nil {
			t.Fatal(err)
		}
		_, hash := app.NewToken()
		imp, err := admin.StartImpersonation(staff.ctx, app.NewImpersonation{TokenHash: hash, StaffSessionID: sessionID, TargetUserID: bob.ID, Reason: "ticket"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range errs {
			wg.Go(func() { errs[i] = admin.StartWriteSession(context.Background(), imp.ID, "write") })
		}
		wg.Wait()
		if codes := app.ErrorCode(errs[0]) + "," + app.ErrorCode(errs[1]); codes != ","+app.ECONFLICT && codes != app.ECONFLICT+"," {
			t.Errorf("two write sessions: %v, %v; want one success and one conflict", errs[0], errs[1])
		}
		if n := systemEntries(t, db, app.ActionImpersonationWriteStarted); n != 1 {
			t.Errorf("%d write-session entries, want 1", n)
		}
	})
}
