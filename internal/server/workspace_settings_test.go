package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"atrium/internal/store/storetest"
)

// TestWorkspaceSettings_ErrorPathsKeepStillPaying checks that every way the
// settings page comes back with an error keeps the notice that the
// workspace still pays for Pro, with its cancel form, and shows the error
// beside the field it is about.
func TestWorkspaceSettings_ErrorPathsKeepStillPaying(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("APP_ENV", "development"))
			owner, slug, wsID := billingOwner(t, a, "owner@example.com")
			rival := a.newBrowser(t)
			rival.signIn("rival@example.com")
			taken := createWorkspace(t, rival, "Taken Co")
			a.exec(t, `UPDATE workspaces SET plan = 'pro', subscription_status = 'active', stripe_customer_id = 'cus_1',
				stripe_subscription_id = 'sub_1' WHERE id = ?`, wsID)
			settings := "/w/" + slug + "/settings"

			for _, tc := range []struct {
				name    string
				path    string // under /w/{slug}
				form    url.Values
				status  int
				errorID string // the data-testid of the error shown
				input   string // the data-testid of the input that keeps what was typed
				kept    string // its value
			}{
				{"rename to a name too short", "/settings", url.Values{"name": {"A"}, "slug": {slug}}, http.StatusUnprocessableEntity, "field-name-error", "settings-name", "A"},
				{"slug that is not a slug", "/settings", url.Values{"name": {"Acme Inc"}, "slug": {"Not A Slug!"}}, http.StatusUnprocessableEntity, "field-slug-error", "settings-slug", "Not A Slug!"},
				{"slug of another workspace", "/settings", url.Values{"name": {"Acme Inc"}, "slug": {taken}}, http.StatusUnprocessableEntity, "field-slug-error", "settings-slug", taken},
				{"mistyped delete confirmation", "/delete", url.Values{"confirm": {"Acme"}}, http.StatusUnprocessableEntity, "field-confirm-error", "delete-confirm", "Acme"},
				{"two-factor required without a factor of one's own", "/settings/two-factor", url.Values{"required": {"on"}}, http.StatusUnprocessableEntity, "two-factor-error", "", ""},
				{"delete while still paying", "/delete", url.Values{"confirm": {"Acme Inc"}}, http.StatusConflict, "", "", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := owner.Post("/w/"+slug+tc.path, tc.form)
					if got, want := res.StatusCode, tc.status; got != want {
						t.Fatalf("status %d, want %d\n%s", got, want, res.Body)
					}
					if !res.Has("workspace-settings") {
						t.Fatalf("not the settings page:\n%s", res.Body)
					}
					if tc.errorID != "" && res.Text(tc.errorID) == "" {
						t.Errorf("no error at %q:\n%s", tc.errorID, res.Body)
					}
					if tc.input != "" {
						if got := attrOf(res, tc.input, "value"); got != tc.kept {
							t.Errorf("%s value=%q, want %q", tc.input, got, tc.kept)
						}
					}
					if res.Text("delete-still-paying") == "" {
						t.Errorf("the still-paying notice is missing:\n%s", res.Body)
					}
					form := res.Doc.Find(`[data-testid="delete-cancel-subscription"]`).Closest("form")
					if got, want := form.AttrOr("action", ""), "/w/"+slug+"/billing/demo-downgrade"; got != want {
						t.Errorf("cancel form action=%q, want %q", got, want)
					}
				})
			}
			if res := owner.Get(settings); res.StatusCode != http.StatusOK || res.Text("delete-still-paying") == "" {
				t.Errorf("GET %s: status %d, still-paying notice %q", settings, res.StatusCode, res.Text("delete-still-paying"))
			}
		})
	}
}
