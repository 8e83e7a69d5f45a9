package server

import (
	"net/url"

	"atrium/internal/app"
	"atrium/web/layout"
)

// workspacePrefix begins the URL of every workspace and its pages; routes.go
// mounts "/w/{slug}" under it.
const workspacePrefix = "/w/"

// workspaceURL returns the URL of the workspace with this slug, the one
// place that spells it; views reach the workspace's pages from it with
// Page ("members", "settings", ...), and the handlers hand it to them in
// the view models.
func workspaceURL(slug string) layout.WorkspaceURL {
	return layout.WorkspaceURL(workspacePrefix + url.PathEscape(slug))
}

// wsPath returns a path inside the workspace: rest is "" for the workspace
// itself or begins with "/" ("/settings", "/members?page=2").
func wsPath(ws *app.Workspace, rest string) string { return string(workspaceURL(ws.Slug)) + rest }
