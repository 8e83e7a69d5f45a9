package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/internal/store/storetest"
)

// confirmYes is the field a confirmed destructive form carries.
var confirmYes = url.Values{"confirm": {"yes"}}

// TestConfirm_UnconfirmedPostChangesNothing posts every destructive form
// as it stands on its page, without confirm=yes, on both databases: each
// answers with a confirmation page naming the consequence, and nothing
// changes; the page's own form then does it.
func TestConfirm_UnconfirmedPostChangesNothing(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("FREE_PLAN_SEATS", "10"))
			owner := a.newBrowser(t)
			owner.signIn("owner@example.com")
			slug := createWorkspace(t, owner, "Acme Inc")
			inviteAndJoin(t, a, owner, slug, "heir@example.com", "admin")
			inviteAndJoin(t, a, owner, slug, "gone@example.com", "member")
			leaver := inviteAndJoin(t, a, owner, slug, "leaver@example.com", "member")
			owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {"late@example.com"}, "role": {"member"}})
			phone := a.newBrowser(t)
			phone.signIn("owner@example.com")

			members := owner.Get("/w/" + slug + "/members")
			account := owner.Get("/settings/account")
			steps := []struct {
				name     string
				b        *browser
				page     *response
				scope    string // a row to find the form in; "" for the whole page
				form     string
				wantText string // in the confirmation's message
			}{
				{"transfer", owner, members, memberRowSel("heir@example.com"), "member-transfer", "you become an admin"},
				{"remove", owner, members, memberRowSel("gone@example.com"), "member-remove", "loses access to Acme Inc"},
				{"revoke invite", owner, members, inviteRowSel("late@example.com"), "invite-revoke", "late@example.com"},
				{"leave", leaver, leaver.Get("/w/" + slug + "/members"), "", "leave-form", "You lose access to Acme Inc"},
				{"sign out a device", owner, account, "", "revoke-session", "new sign-in link"},
				{"sign out everywhere else", owner, account, "", "revoke-others", "Every other browser"},
			}
			for _, st := range steps {
				before := membershipState(t, a, slug)
				var res *response
				if st.scope != "" {
					res = st.b.submitWithin(st.page, st.scope, st.form, nil)
				} else {
					res = st.b.Submit(st.page, st.form, nil)
				}
				if got, want := res.StatusCode, http.StatusOK; got != want {
					t.Fatalf("%s without confirm: status %d, want %d\n%s", st.name, got, want, res.Body)
				}
				if said := res.Text("confirm-title") + " " + res.Text("confirm-message"); !res.Has("confirm-page") || !strings.Contains(said, st.wantText) {
					t.Errorf("%s: confirmation says %q, want it to mention %q", st.name, said, st.wantText)
				}
				if after := membershipState(t, a, slug); after != before {
					t.Errorf("%s: an unconfirmed POST changed the workspace:\nbefore %s\nafter  %s", st.name, before, after)
				}
				if got := phone.Get("/settings/account").StatusCode; got != http.StatusOK {
					t.Fatalf("%s: an unconfirmed POST signed the other device out", st.name)
				}
				// The confirmation page's own form does it.
				if st.name == "sign out a device" || st.name == "sign out everywhere else" {
					continue
				}
				done := st.b.Submit(res, "confirm-form", nil)
				if got, want := done.StatusCode, http.StatusSeeOther; got != want {
					t.Errorf("%s confirmed: status %d, want %d\n%s", st.name, got, want, done.Body)
				}
				if after := membershipState(t, a, slug); after == before {
					t.Errorf("%s confirmed: nothing changed", st.name)
				}
			}
			res := owner.Submit(owner.Get("/settings/account"), "revoke-others", nil)
			owner.Submit(res, "confirm-form", nil)
			if got := phone.Get("/settings/account").Location(); !strings.HasPrefix(got, "/login") {
				t.Errorf("confirmed sign-out everywhere else left the other device signed in (Location=%q)", got)
			}
		})
	}
}

// membershipState describes a workspace's members with their roles and its
// pending invites, for before/after comparisons.
func membershipState(t *testing.T, a *testApp, slug string) string {
	t.Helper()
	var rows []string
	bind := func(q string) string {
		if a.DB.Dialect() == "postgres" {
			return strings.Replace(q, "?", "$1", 1)
		}
		return q
	}
	q, err := a.DB.SQL().Query(bind(`SELECT u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id
		JOIN workspaces w ON w.id = m.workspace_id WHERE w.slug = ? ORDER BY u.email`), slug)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for q.Next() {
		var email, role string
		if err := q.Scan(&email, &role); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, email+"="+role)
	}
	iq, err := a.DB.SQL().Query(bind(`SELECT i.email, i.status FROM invites i JOIN workspaces w ON w.id = i.workspace_id
		WHERE w.slug = ? ORDER BY i.email`), slug)
	if err != nil {
		t.Fatal(err)
	}
	defer iq.Close()
	for iq.Next() {
		var email, status string
		if err := iq.Scan(&email, &status); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, "invite:"+email+"="+status)
	}
	return strings.Join(rows, " ")
}
