package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"atrium/internal/config"
)

// TestBrowser_APIDocsStayOnSite: the API reference renders in Chromium
// from the server alone: every resource the page loads (stylesheet,
// scripts, fonts, images) comes from the site's own origin, and it shows
// each operation in full and the models the operations name.
func TestBrowser_APIDocsStayOnSite(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv := startServe(t, config.Env{})
	reader := newBrowserTabs(t, 60*time.Second, "reader")[0]
	reader.do("open the API reference",
		chromedp.Navigate(srv.URL+"/api/v1/docs"),
		chromedp.WaitVisible(byTestID("api-docs")),
	)
	loaded, err := chromedp.Run(reader.ctx, chromedp.Evaluate[[]string](
		`performance.getEntriesByType('resource').map(e => e.name)`))
	if err != nil {
		t.Fatalf("list the resources the page loaded: %v", err)
	}
	if len(loaded) == 0 {
		t.Fatal("the page loaded no resource at all (is the stylesheet linked?)")
	}
	for _, u := range loaded {
		if !strings.HasPrefix(u, srv.URL+"/") {
			t.Errorf("the reference loaded %s, outside %s", u, srv.URL)
		}
	}
	ops, details := reader.count(byTestID("api-operation")), reader.count(byTestID("api-operation-detail"))
	if ops == 0 || details != ops {
		t.Errorf("%d operations listed, %d described in full; want every listed one described", ops, details)
	}
	if got := reader.words(chromedp.CSS(`#op-create-invite`)); !strings.Contains(got, "write scope") || !strings.Contains(got, "APINewInvite") ||
		!strings.Contains(got, "422") {
		t.Errorf("create-invite's section lacks its scope, body model or 422 response:\n%s", got)
	}
	if got := reader.words(chromedp.CSS(`#model-APINewInvite`)); !strings.Contains(got, "one of admin, member") {
		t.Errorf("the APINewInvite model does not list the roles a key may invite:\n%s", got)
	}
}
