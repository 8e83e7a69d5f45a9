package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/billing/billingtest"
)

// crawlFixture are the names the crawl's data holds; pages show them as
// they are.
var crawlFixture = []string{"Acme Inc", "acme-inc", "Ada Lovelace", "Grace Hopper", "Deploy bot", "Primary endpoint"}

// TestI18n_EveryPage signs in as the owner of a workspace with members, an
// invite, an API key, a webhook endpoint and billing on (stripe-mock), and
// as a staff member, asks for the pseudo-locale en-XA, and follows every
// link the pages offer (GET, same site, outside /static, /api and the
// docs' markdown) until none is new. It fails on any page that shows
// English left untranslated, so a hard-coded string in a page fails the
// test suite, and on any page that answers 5xx.
func TestI18n_EveryPage(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	a := newTestApp(t, "sqlite", withStripe(mock), withPlans(), withEnv("WEBHOOK_ALLOW_PRIVATE", "true"))

	owner := a.newBrowser(t)
	owner.signIn("ada@example.com")
	owner.Submit(owner.Get("/settings/account"), "profile-form", url.Values{"name": {"Ada Lovelace"}, "time_zone": {"Europe/Berlin"}})
	slug := createWorkspace(t, owner, "Acme Inc")
	inviteAndJoin(t, a, owner, slug, "grace@example.com", "admin")
	owner.Submit(owner.Get("/w/"+slug+"/members"), "invite-form", url.Values{"email": {"pending@example.com"}, "role": {"member"}})
	for _, post := range []struct {
		path string
		form url.Values
	}{
		{"/w/" + slug + "/settings/api-keys", url.Values{"name": {"Deploy bot"}, "scope": {"read", "write"}}},
		{"/w/" + slug + "/settings/webhooks", url.Values{"url": {"https://hooks.example.com/atrium"}, "description": {"Primary endpoint"},
			"event": {"invite.sent", "member.left"}}},
	} {
		if res := owner.Post(post.path, post.form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d\n%s", post.path, res.StatusCode, res.Body)
		}
	}
	owner.Get("/w/" + slug + "/members") // shows, and so clears, the flash written in English
	owner.pseudo()

	visited := crawl(t, owner, []string{"/", "/w/" + slug, "/settings/account", "/settings/workspaces", "/pricing"})
	for _, want := range []string{"/w/" + slug + "/members", "/w/" + slug + "/settings", "/w/" + slug + "/audit", "/w/" + slug + "/billing"} {
		if !slices.Contains(visited, want) {
			t.Errorf("the crawl never reached %s (visited %d pages: %v)", want, len(visited), visited)
		}
	}

	staff := newStaff(t, a, "staff@example.com").pseudo()
	crawl(t, staff, []string{"/admin"})

	visitor := a.newBrowser(t).pseudo()
	crawl(t, visitor, []string{"/", "/login", "/pricing", "/no-such-page"})
}

// crawl visits start and every page linked from the pages it visits, as
// b, checking each is translated; it returns the paths visited.
func crawl(t *testing.T, b *browser, start []string) []string {
	t.Helper()
	seen := map[string]bool{}
	queue := slices.Clone(start)
	var visited []string
	for len(queue) > 0 && len(visited) < 400 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		res := b.Get(path)
		for hops := 0; res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusFound; hops++ {
			if hops > 3 || !strings.HasPrefix(res.Location(), "/") {
				break
			}
			res = b.Follow(res)
		}
		if res.StatusCode >= 500 {
			t.Errorf("GET %s: %d", path, res.StatusCode)
			continue
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			continue
		}
		visited = append(visited, path)
		assertTranslated(t, res, crawlFixture...)
		res.Doc.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			if next, ok := crawlable(href); ok && !seen[next] {
				queue = append(queue, next)
			}
		})
	}
	t.Logf("crawled %d pages from %v", len(visited), start)
	return visited
}

// crawlable returns the path to visit for a link, and whether to visit it:
// same-site pages only, not static files, the JSON API, file downloads or
// the sign-out link.
func crawlable(href string) (string, bool) {
	u, err := url.Parse(href)
	if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	for _, skip := range []string{"/static/", "/api/", "/logout", "/auth/"} {
		if strings.HasPrefix(u.Path, skip) {
			return "", false
		}
	}
	if strings.Contains(u.Path, "/export") || strings.HasSuffix(u.Path, ".json") || strings.HasSuffix(u.Path, ".yaml") {
		return "", false
	}
	u.Fragment = ""
	return u.RequestURI(), true
}
