package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// setUserTwoFactor sets users.two_factor of email directly, as enrolling
// or removing a factor does, and marks the user's sessions as having used
// it, as the session that enrols does; the next request reads both with
// the session.
func setUserTwoFactor(t *testing.T, a *testApp, email string, on bool) {
	t.Helper()
	for _, q := range []string{"UPDATE users SET two_factor = ? WHERE email = ?",
		"UPDATE sessions SET second_factor = ? WHERE user_id = (SELECT id FROM users WHERE email = ?)"} {
		if a.DB.Dialect() == store.Postgres {
			q = strings.Replace(strings.Replace(q, "?", "$1", 1), "?", "$2", 1)
		}
		if _, err := a.DB.SQL().ExecContext(context.Background(), q, on, email); err != nil {
			t.Fatal(err)
		}
	}
}

// policyOn reads whether the workspace requires two-factor sign-in.
func policyOn(t *testing.T, a *testApp, slug, email string) bool {
	t.Helper()
	ws, _, err := store.NewWorkspaceService(a.DB).FindWorkspaceForMember(context.Background(), slug, userIDOf(t, a, email))
	if err != nil {
		t.Fatal(err)
	}
	return ws.RequireTwoFactor
}

// TestWorkspaceTwoFactor walks the policy: an owner without a factor of
// their own is refused beside the toggle, admins and members cannot change
// it, turning it on asks first and counts who it locks out; then members
// without a factor get the walkthrough on every workspace route (and can
// still leave) until they have one; the members page shows who has it.
func TestWorkspaceTwoFactor(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000", "FREE_PLAN_SEATS", "100"))
			owner := a.newBrowser(t)
			owner.signIn("owner@secure.test")
			slug := createWorkspace(t, owner, "Secure")
			admin := inviteAndJoin(t, a, owner, slug, "admin@secure.test", "admin")
			member := inviteAndJoin(t, a, owner, slug, "member@secure.test", "member")
			leaver := inviteAndJoin(t, a, owner, slug, "leaver@secure.test", "member")
			outsider := a.newBrowser(t)
			outsider.signIn("owner@other.test")
			createWorkspace(t, outsider, "Other")
			wsID := workspaceID(t, a, slug, "owner@secure.test")
			base := "/w/" + slug
			policy := base + "/settings/two-factor"
			entries := func() (on, off int) {
				t.Helper()
				es, err := store.NewOperatorAuditService(a.DB).FindAuditEntries(context.Background(), app.AuditFilter{Scope: app.Scope{WorkspaceID: wsID}, Limit: 500})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range es {
					switch e.Action {
					case app.ActionWorkspace2FARequired:
						on++
					case app.ActionWorkspace2FAOptional:
						off++
					}
				}
				return on, off
			}

			t.Run("OwnerWithoutOwnFactor", func(t *testing.T) {
				settings := owner.Get(base + "/settings")
				if got, _ := settings.Doc.Find(`[data-testid="two-factor-state"]`).Attr("data-required"); got != "false" {
					t.Fatalf("state data-required=%q, want false\n%s", got, settings.Body)
				}
				if !settings.Has("two-factor-hint") {
					t.Error("the owner is not told to set up their own factor first")
				}
				for _, form := range []url.Values{{"required": {"on"}}, {"required": {"on"}, "confirm": {"yes"}}} {
					res := owner.Post(policy, form)
					if res.StatusCode != http.StatusUnprocessableEntity {
						t.Fatalf("POST %v: status %d, want 422\n%s", form, res.StatusCode, res.Body)
					}
					if got, want := res.Text("two-factor-error"), "Set up two-factor sign-in for your own account first."; got != want {
						t.Errorf("error beside the toggle %q, want %q", got, want)
					}
					if got, _ := res.Doc.Find(`[data-testid="two-factor-submit"]`).Attr("aria-describedby"); got != "two-factor-error" {
						t.Errorf("the toggle is not described by the error (aria-describedby=%q)", got)
					}
				}
				if policyOn(t, a, slug, "owner@secure.test") {
					t.Fatal("the policy went on")
				}
			})

			t.Run("OthersCannotChange", func(t *testing.T) {
				setUserTwoFactor(t, a, "admin@secure.test", true)
				setUserTwoFactor(t, a, "owner@other.test", true)
				defer setUserTwoFactor(t, a, "admin@secure.test", false)
				ro := admin.Get(base + "/settings")
				if !ro.Has("two-factor-readonly") || ro.Has("two-factor-form") {
					t.Errorf("admin's settings: readonly=%v form=%v, want the sentence and no form", ro.Has("two-factor-readonly"), ro.Has("two-factor-form"))
				}
				for _, tc := range []struct {
					name string
					b    *browser
					path string
					want int
				}{
					{"Admin", admin, policy, http.StatusForbidden},
					{"Member", member, policy, http.StatusForbidden},
					{"Outsider", outsider, policy, http.StatusNotFound},
					{"OutsiderMissing", outsider, "/w/no-such-workspace/settings/two-factor", http.StatusNotFound},
				} {
					t.Run(tc.name, func(t *testing.T) {
						res := tc.b.Post(tc.path, url.Values{"required": {"on"}, "confirm": {"yes"}})
						if res.StatusCode != tc.want {
							t.Fatalf("status %d, want %d\n%s", res.StatusCode, tc.want, res.Body)
						}
					})
				}
				if policyOn(t, a, slug, "owner@secure.test") {
					t.Fatal("the policy went on")
				}
				if on, off := entries(); on+off != 0 {
					t.Fatalf("refusals wrote %d entries", on+off)
				}
			})

			t.Run("OwnerTurnsOn", func(t *testing.T) {
				setUserTwoFactor(t, a, "owner@secure.test", true)
				settings := owner.Get(base + "/settings")
				const want = "Members without two-factor sign-in (3 of them) won’t be able to open this workspace until they set it up."
				if got, _ := settings.Doc.Find(`form[data-testid="two-factor-form"]`).Attr("data-confirm"); got != want {
					t.Errorf("the toggle's confirmation says %q, want %q", got, want)
				}
				ask := owner.Submit(settings, "two-factor-form", nil)
				if ask.StatusCode != http.StatusOK || ask.Text("confirm-message") != want {
					t.Fatalf("unconfirmed: status %d, message %q\n%s", ask.StatusCode, ask.Text("confirm-message"), ask.Body)
				}
				if policyOn(t, a, slug, "owner@secure.test") {
					t.Fatal("an unconfirmed POST turned the policy on")
				}
				done := owner.Submit(ask, "confirm-form", nil)
				if done.StatusCode != http.StatusSeeOther || done.Location() != base+"/settings" {
					t.Fatalf("confirmed: status %d Location %q\n%s", done.StatusCode, done.Location(), done.Body)
				}
				after := owner.Follow(done)
				if !strings.Contains(after.Text("flash"), "now required") {
					t.Errorf("flash %q", after.Text("flash"))
				}
				if got, _ := after.Doc.Find(`[data-testid="two-factor-state"]`).Attr("data-required"); got != "true" {
					t.Errorf("state data-required=%q after turning on", got)
				}
				if !policyOn(t, a, slug, "member@secure.test") {
					t.Fatal("the policy is off")
				}
				if on, off := entries(); on != 1 || off != 0 {
					t.Fatalf("entries required=%d optional=%d, want 1 and 0", on, off)
				}
			})

			t.Run("Walkthrough", func(t *testing.T) {
				paths := []string{base, base + "/", base + "/members", base + "/settings", base + "/audit", base + "/audit/export",
					base + "/billing", base + "/settings/api-keys", base + "/members?q=a"}
				for _, who := range []struct {
					name string
					b    *browser
				}{{"Admin", admin}, {"Member", member}} {
					for _, p := range paths {
						res := who.b.Get(p)
						if res.StatusCode != http.StatusForbidden || !res.Has("two-factor-required") {
							t.Errorf("%s GET %s: status %d, walkthrough %v", who.name, p, res.StatusCode, res.Has("two-factor-required"))
							continue
						}
						if got, want := res.Doc.Find("h1").First().Text(), "Secure requires two-factor sign-in"; got != want {
							t.Errorf("%s GET %s: heading %q, want %q", who.name, p, got, want)
						}
						if href, _ := res.Doc.Find(`[data-testid="two-factor-setup-app"]`).Attr("href"); href != "/settings/account/two-factor/app?next="+base+"/" {
							t.Errorf("%s GET %s: set-up link %q", who.name, p, href)
						}
						if href, _ := res.Doc.Find(`[data-testid="two-factor-add-passkey"]`).Attr("href"); href != "/settings/account#two-factor" {
							t.Errorf("%s GET %s: passkey link %q", who.name, p, href)
						}
						if action, _ := res.Doc.Find(`form[data-testid="two-factor-leave-form"]`).Attr("action"); action != base+"/leave" {
							t.Errorf("%s GET %s: leave form posts to %q", who.name, p, action)
						}
						if got := res.Text("nav-workspace"); got != "Secure" {
							t.Errorf("%s GET %s: the workspace navigation is gone (nav-workspace %q)", who.name, p, got)
						}
					}
				}
				// Changes are kept out as well.
				for _, p := range []string{base + "/invites", base + "/settings/api-keys"} {
					res := admin.Post(p, url.Values{"email": {"x@secure.test"}, "role": {"member"}, "name": {"bot"}, "scope": {"read"}})
					if res.StatusCode != http.StatusForbidden || !res.Has("two-factor-required") {
						t.Errorf("admin POST %s: status %d, walkthrough %v", p, res.StatusCode, res.Has("two-factor-required"))
					}
				}
				// The owner has a factor: in as before.
				if res := owner.Get(base); res.StatusCode != http.StatusOK {
					t.Errorf("owner: status %d", res.StatusCode)
				}
			})

			t.Run("LeaveStaysOpen", func(t *testing.T) {
				page := leaver.Get(base + "/members")
				res := leaver.Submit(page, "two-factor-leave-form", url.Values{"confirm": {"yes"}})
				if res.StatusCode != http.StatusSeeOther || res.Location() != "/settings/workspaces" {
					t.Fatalf("leave: status %d Location %q\n%s", res.StatusCode, res.Location(), res.Body)
				}
				if got := leaver.Get(base); got.StatusCode != http.StatusNotFound {
					t.Errorf("after leaving: status %d, want 404", got.StatusCode)
				}
			})

			t.Run("FactorLetsThemIn", func(t *testing.T) {
				setUserTwoFactor(t, a, "admin@secure.test", true)
				for _, p := range []string{base, base + "/members", base + "/settings", base + "/audit", base + "/billing", base + "/settings/api-keys"} {
					if res := admin.Get(p); res.StatusCode != http.StatusOK || res.Has("two-factor-required") {
						t.Errorf("admin GET %s with a factor: status %d", p, res.StatusCode)
					}
				}
				if res := member.Get(base); res.StatusCode != http.StatusForbidden {
					t.Errorf("member without a factor: status %d, want 403", res.StatusCode)
				}
			})

			t.Run("MembersPageShowsWhoHasTwoFactor", func(t *testing.T) {
				res := owner.Get(base + "/members")
				want := map[string]string{"owner@secure.test": "true", "admin@secure.test": "true", "member@secure.test": "false"}
				rows := res.Doc.Find(`[data-testid="member-row"]`)
				if rows.Length() != len(want) {
					t.Fatalf("%d member rows, want %d", rows.Length(), len(want))
				}
				for i := range rows.Length() {
					row := rows.Eq(i)
					email, _ := row.Attr("data-email")
					badge := row.Find(`[data-testid="member-2fa"]`)
					on, _ := badge.Attr("data-on")
					if on != want[email] {
						t.Errorf("%s: member-2fa data-on=%q, want %q", email, on, want[email])
					}
					label := strings.TrimSpace(badge.Find(".visually-hidden").Text())
					if wantLabel := map[string]string{"true": "Two-factor sign-in on", "false": "Two-factor sign-in off"}[want[email]]; label != wantLabel {
						t.Errorf("%s: label %q, want %q", email, label, wantLabel)
					}
				}
				// Members do not manage: no indicator for them.
				setUserTwoFactor(t, a, "member@secure.test", true)
				defer setUserTwoFactor(t, a, "member@secure.test", false)
				if got := member.Get(base + "/members"); got.StatusCode != http.StatusOK || got.Has("member-2fa") {
					t.Errorf("member's members page: status %d, indicator %v", got.StatusCode, got.Has("member-2fa"))
				}
			})

			t.Run("OwnerTurnsOff", func(t *testing.T) {
				settings := owner.Get(base + "/settings")
				if msg, _ := settings.Doc.Find(`[data-testid="two-factor-form"]`).Attr("data-confirm"); !strings.Contains(msg, "sign-in link alone") {
					t.Errorf("the turn-off form asks %q, want the consequence named", msg)
				}
				ask := owner.Submit(settings, "two-factor-form", nil)
				if ask.StatusCode != http.StatusOK || !ask.Has("confirm-page") || !strings.Contains(ask.Text("confirm-message"), "anyone who gets into a member’s mailbox") {
					t.Fatalf("unconfirmed turn-off: %d\n%s", ask.StatusCode, ask.Body)
				}
				if !policyOn(t, a, slug, "owner@secure.test") {
					t.Fatal("an unconfirmed turn-off changed the policy")
				}
				res := owner.Submit(ask, "confirm-form", nil)
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("turn off: status %d\n%s", res.StatusCode, res.Body)
				}
				if policyOn(t, a, slug, "owner@secure.test") {
					t.Fatal("the policy is still on")
				}
				if got := member.Get(base); got.StatusCode != http.StatusOK {
					t.Errorf("member after turning off: status %d", got.StatusCode)
				}
				if on, off := entries(); on != 1 || off != 1 {
					t.Fatalf("entries required=%d optional=%d, want 1 and 1", on, off)
				}
			})
		})
	}
}
