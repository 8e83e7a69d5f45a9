package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"atrium/internal/config"
)

// controlCheck is what a page offers and how the server answered it: a
// link fetched, or an enabled button's form sent as the browser would.
type controlCheck struct {
	Kind   string `json:"kind"` // "link" or "button"
	What   string `json:"what"` // the control's text
	Method string `json:"method"`
	URL    string `json:"url"`
	Status int    `json:"status"`
	// Fixed says the form has nothing to fill in, so any 4xx answer means
	// the button offered something the server refuses.
	Fixed bool   `json:"fixed"`
	HTML  bool   `json:"html"` // the answer is a page (to visit in turn)
	Page  string `json:"page"` // the page it was found on
}

// checkControlsJS follows every link of the page (GET, same origin) and
// sends every shown, enabled button's form (its formaction, method and
// values, the button's own included), except signing out, and reports
// each answer. Destructive actions are sent unconfirmed, so the server
// only shows their confirmation.
const checkControlsJS = `(async () => {
	const out = [], seen = new Set();
	const shown = el => el.getClientRects().length > 0;
	for (const a of document.querySelectorAll("a[href]")) {
		const u = new URL(a.href, location.href);
		if (u.origin !== location.origin || u.hash && u.pathname === location.pathname) continue;
		u.hash = "";
		if (seen.has("GET " + u)) continue;
		seen.add("GET " + u);
		const r = await fetch(u, {credentials: "same-origin"});
		out.push({kind: "link", what: a.textContent.trim().slice(0, 60), method: "GET", url: u.pathname + u.search, status: r.status,
			html: (r.headers.get("Content-Type") || "").startsWith("text/html"), page: location.pathname + location.search});
	}
	for (const b of document.querySelectorAll('button, input[type="submit"]')) {
		const form = b.form;
		if (!form || b.disabled || !shown(b) || b.type !== "submit") continue;
		const u = new URL(b.getAttribute("formaction") || form.getAttribute("action") || location.href, location.href);
		if (u.pathname === "/logout") continue;
		const method = (b.getAttribute("formmethod") || form.getAttribute("method") || "get").toUpperCase();
		const data = new FormData(form, b);
		const fixed = !Array.from(form.elements).some(e => e.matches("input:not([type=hidden]):not([type=submit]), select, textarea") && shown(e));
		let r;
		if (method === "GET") {
			new URLSearchParams(data).forEach((v, k) => u.searchParams.set(k, v));
			r = await fetch(u, {credentials: "same-origin"});
		} else {
			r = await fetch(u, {method: "POST", body: new URLSearchParams(data), credentials: "same-origin"});
		}
		out.push({kind: "button", what: b.textContent.trim().slice(0, 60), method, url: u.pathname + u.search, status: r.status, fixed,
			html: false, page: location.pathname + location.search});
	}
	return JSON.stringify(out);
})()`

// TestBrowser_ControlsEachRoleCanUse signs in as the owner (without
// two-factor sign-in of their own), an admin and a member of a workspace,
// and on every workspace page each can reach follows every link and sends
// every enabled button's form: no link may answer 403 or 404, and no
// button with nothing to fill in may be refused.
func TestBrowser_ControlsEachRoleCanUse(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, config.Env{"FREE_PLAN_SEATS": "10"})
	tabs := newBrowserTabs(t, 4*time.Minute, "owner", "admin", "member")
	owner, admin, member := tabs[0], tabs[1], tabs[2]
	owner.do("sign in", askForSignInLink(srv.URL, "owner@example.com")...)
	owner.do("open the link", signInWith(emailedLink(t, smtp, "owner@example.com", srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	owner.do("create Acme", createWorkspace("Acme")...)
	joinAs(t, owner, admin, srv.URL, smtp, "acme", "admin@example.com", "admin")
	joinAs(t, owner, member, srv.URL, smtp, "acme", "member@example.com", "member")
	owner.do("invite someone who has not answered yet",
		chromedp.Navigate(srv.URL+"/w/acme/members"),
		chromedp.SendKeys(byTestID("invite-email"), "pending@example.com"),
		chromedp.Click(byTestID("invite-submit")),
		chromedp.WaitVisible(byTestID("invite-list")),
	)

	// The member first: the admin's and the owner's buttons may change
	// their roles.
	for _, a := range []browserActor{member, admin, owner} {
		queue, visited := []string{"/w/acme"}, map[string]bool{"/w/acme": true}
		for len(queue) > 0 && len(visited) < 40 {
			path := queue[0]
			queue = queue[1:]
			a.do("open "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
			out, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](checkControlsJS, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("%s: check %s: %v", a.who, path, err)
			}
			var checks []controlCheck
			if err := json.Unmarshal([]byte(out), &checks); err != nil {
				t.Fatalf("%s: %s: %v", a.who, out, err)
			}
			for _, c := range checks {
				switch {
				case c.Status == 403 || c.Status == 404 || c.Status == 405:
					t.Errorf("%s on %s: %s %q (%s %s) answers %d", a.who, c.Page, c.Kind, c.What, c.Method, c.URL, c.Status)
				case c.Kind == "button" && c.Fixed && c.Status >= 400 && c.Status != 429:
					t.Errorf("%s on %s: the enabled button %q (%s %s) is refused: %d", a.who, c.Page, c.What, c.Method, c.URL, c.Status)
				}
				u := strings.SplitN(c.URL, "#", 2)[0]
				if c.Kind == "link" && c.HTML && c.Status == 200 && strings.HasPrefix(u, "/w/acme") && !visited[u] {
					visited[u] = true
					queue = append(queue, u)
				}
			}
		}
		t.Logf("%s: checked %d workspace pages", a.who, len(visited))
	}
}
