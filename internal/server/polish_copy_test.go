package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestDeleteConfirmations_KeepInput: a wrong confirmation of a workspace's
// or an account's deletion deletes nothing, answers 422 and shows the
// error beside the field with what was typed still in it.
func TestDeleteConfirmations_KeepInput(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	solo := a.newBrowser(t) // owns nothing, so may delete their account
	solo.signIn("solo@example.com")

	cases := []struct {
		name                     string
		b                        *browser
		page, form, field, typed string
	}{
		{"Workspace", owner, "/w/" + slug + "/settings", "delete-form", "delete-confirm", "Acme"},
		{"Account", solo, "/settings/account", "delete-account-form", "delete-account-confirm", "solo@example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.b.Submit(tc.b.Get(tc.page), tc.form, url.Values{"confirm": {tc.typed}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("wrong confirmation: status %d, want 422", res.StatusCode)
			}
			if got := attrOf(res, tc.field, "value"); got != tc.typed {
				t.Errorf("confirmation field after the error=%q, want %q kept", got, tc.typed)
			}
			input := res.Doc.Find(`[data-testid="` + tc.field + `"]`)
			errID, _ := input.Attr("aria-describedby")
			if errID == "" || res.Doc.Find("#"+strings.Fields(errID)[0]).Text() == "" || input.AttrOr("aria-invalid", "") != "true" {
				t.Errorf("the error is not beside the field (aria-describedby %q)", errID)
			}
		})
	}
	if res := owner.Get("/w/" + slug); res.StatusCode != http.StatusOK {
		t.Errorf("workspace after a wrong confirmation: status %d, want it kept", res.StatusCode)
	}
	if res := solo.Get("/settings/account"); res.StatusCode != http.StatusOK {
		t.Errorf("account after a wrong confirmation: status %d, want it kept", res.StatusCode)
	}
}

// TestPhoneMenu_AllWorkspacesOnce: the phone menu lists "All workspaces"
// once, inside a workspace and outside.
func TestPhoneMenu_AllWorkspacesOnce(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	for _, path := range []string{"/w/" + slug, "/w/" + slug + "/members", "/settings/account"} {
		menu := owner.Get(path).Doc.Find(`[data-testid="phone-menu"]`)
		n := 0
		menu.Find(`a[href="/settings/workspaces"]`).Each(func(_ int, s *goquery.Selection) {
			if strings.TrimSpace(s.Text()) == "All workspaces" {
				n++
			}
		})
		if n != 1 {
			t.Errorf("%s: phone menu lists All workspaces %d times, want once", path, n)
		}
	}
}
