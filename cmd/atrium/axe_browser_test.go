package main

import (
	_ "embed"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored for this test only (testdata/axe).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one serious or critical rule axe-core found broken.
type axeViolation struct {
	ID    string   `json:"id"`
	Help  string   `json:"help"`
	Nodes []string `json:"nodes"`
}

// runAxe runs axe-core on the tab's page and returns its serious and
// critical violations.
func runAxe(t *testing.T, a browserActor) []axeViolation {
	t.Helper()
	if _, err := chromedp.Run(a.ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	out, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
			.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe-core result %q: %v", out, err)
	}
	return vs
}

// TestBrowser_Accessibility runs axe-core over every page a signed-out
// visitor and a workspace owner see, in the light and the dark colour
// scheme, on a desktop and a phone, and fails on any serious or critical
// violation.
func TestBrowser_Accessibility(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	tab := newBrowserTabs(t, 4*time.Minute, "visitor")[0]
	public, signedIn := axePublicPages, axeSignedInPages

	check := func(paths []string) {
		for _, vp := range []struct {
			name   string
			w, h   int64
			mobile bool
		}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}} {
			for _, scheme := range []string{"light", "dark"} {
				if err := chromedp.Do(tab.ctx, chromedp.EmulateViewport(vp.w, vp.h, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
					p.Mobile = vp.mobile
				})); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Call(tab.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
					t.Fatal(err)
				}
				for _, path := range paths {
					tab.do("open "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
					for _, v := range runAxe(t, tab) {
						t.Errorf("%s (%s, %s): %s: %s\n  %s", path, vp.name, scheme, v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
					}
				}
			}
		}
	}
	// The harness itself: an image without alt text is a critical
	// violation axe-core must report.
	tab.do("open the landing page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitReady(chromedp.CSS("body")))
	if _, err := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](`document.body.insertAdjacentHTML("beforeend", "<img src='/x.png'>"), true`)); err != nil {
		t.Fatal(err)
	}
	if vs := runAxe(t, tab); len(vs) == 0 || vs[0].ID != "image-alt" {
		t.Fatalf("axe-core missed an image without alt text: %+v", vs)
	}
	check(public)

	tab.do("sign in", askForSignInLink(srv.URL, "founder@example.com")...)
	tab.do("open the link", signInWith(emailedLink(t, smtp, "founder@example.com", srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	tab.do("create Acme", createWorkspace("Acme")...)
	tab.do("invite someone",
		chromedp.Navigate(srv.URL+"/w/acme/members"),
		chromedp.SendKeys(byTestID("invite-email"), "teammate@example.com"),
		chromedp.Click(byTestID("invite-submit")),
		chromedp.WaitVisible(byTestID("invite-list")),
	)
	check(signedIn)
	// The open menus and the confirmation dialog.
	tab.do("open the switcher", chromedp.Navigate(srv.URL+"/w/acme/members"), chromedp.Click(byTestID("ws-switcher-button")))
	for _, v := range runAxe(t, tab) {
		t.Errorf("switcher open: %s: %s\n  %s", v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	tab.do("open the confirmation", chromedp.Click(byTestID("invite-revoke")), chromedp.WaitVisible(byTestID("confirm-dialog")))
	for _, v := range runAxe(t, tab) {
		t.Errorf("confirmation dialog: %s: %s\n  %s", v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}
