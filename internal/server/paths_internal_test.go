package server

import "testing"

// TestWorkspaceURL_Page checks the URLs of a workspace and of its pages.
func TestWorkspaceURL_Page(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"Workspace", workspaceURL("acme").Page(), "/w/acme"},
		{"Page", workspaceURL("acme").Page("members"), "/w/acme/members"},
		{"Parts", workspaceURL("acme").Page("members", "7", "remove"), "/w/acme/members/7/remove"},
		{"Escaped", workspaceURL("a b/c").Page("settings"), "/w/a%20b%2Fc/settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("URL=%q, want %q", tc.got, tc.want)
			}
		})
	}
}
