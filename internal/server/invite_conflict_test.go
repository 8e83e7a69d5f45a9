package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"atrium/internal/store/storetest"
)

// TestInviteCreate_PendingConflict: inviting an address that already has
// a pending invite is refused with a message about the email field. The
// members page adds where to resend it from (its list below the form);
// the API, which has no list below anything, says only the fact.
func TestInviteCreate_PendingConflict(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			f := newAPIFixture(t, dialect)
			members := f.owner.Get("/w/" + f.slug + "/members")
			if res := f.owner.Submit(members, "invite-form", url.Values{"email": {"dup@acme.test"}, "role": {"member"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("first invite: status %d\n%s", res.StatusCode, res.Body)
			}
			fact := "dup@acme.test already has a pending invite."

			t.Run("MembersPage", func(t *testing.T) {
				members := f.owner.Get("/w/" + f.slug + "/members")
				res := f.owner.Submit(members, "invite-form", url.Values{"email": {"dup@acme.test"}, "role": {"admin"}})
				if res.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("second invite: status %d, want 422", res.StatusCode)
				}
				if got, want := res.Text("field-email-error"), fact+" Resend it from the list below if the email went missing."; got != want {
					t.Errorf("email error=%q, want %q", got, want)
				}
			})

			t.Run("API", func(t *testing.T) {
				res := f.api.do("POST", "/invites", map[string]string{"email": "dup@acme.test", "role": "admin"})
				if res.Status != http.StatusConflict {
					t.Fatalf("POST /invites: status %d, want 409\n%s", res.Status, res.Body)
				}
				p := res.Problem(t)
				if got := p["detail"]; got != fact {
					t.Errorf("detail=%q, want %q", got, fact)
				}
				if strings.Contains(string(res.Body), "below") {
					t.Errorf("the API points to a list below: %s", res.Body)
				}
				errs, _ := p["errors"].([]any)
				if len(errs) != 1 || errs[0].(map[string]any)["location"] != "body.email" {
					t.Errorf("errors=%v, want one about body.email", p["errors"])
				}
			})

			t.Run("APIAlreadyMember", func(t *testing.T) {
				res := f.api.do("POST", "/invites", map[string]string{"email": "member@acme.test", "role": "admin"})
				if res.Status != http.StatusConflict {
					t.Fatalf("POST /invites: status %d, want 409\n%s", res.Status, res.Body)
				}
				p := res.Problem(t)
				if got, want := p["detail"], "member@acme.test is already a member of this workspace."; got != want {
					t.Errorf("detail=%q, want %q", got, want)
				}
				errs, _ := p["errors"].([]any)
				if len(errs) != 1 || errs[0].(map[string]any)["location"] != "body.email" {
					t.Errorf("errors=%v, want one about body.email", p["errors"])
				}
			})
		})
	}
}
