package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestAPIDocs_ServedOffline: /api/v1/docs is a page rendered by the app
// that lists every operation of the OpenAPI document (method, path,
// summary) and links the document, with no script from elsewhere, so it
// reads the same without internet.
func TestAPIDocs_ServedOffline(t *testing.T) {
	a := newTestApp(t, "sqlite")
	visitor := a.newBrowser(t)

	res := visitor.Get("/api/v1/docs")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /api/v1/docs: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	res.Doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) {
		if src, _ := s.Attr("src"); !strings.HasPrefix(src, "/static/") {
			t.Errorf("the reference loads a script from %s", src)
		}
	})
	if strings.Contains(res.Body, "stoplight") || strings.Contains(res.Body, "unpkg") {
		t.Error("the reference still refers to the CDN viewer")
	}
	if csp := res.Header.Get("Content-Security-Policy"); csp != "" && !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP=%q", csp)
	}
	spec, _ := res.Doc.Find(`[data-testid="api-spec-link"]`).Attr("href")
	doc := visitor.Get(spec)
	var oa struct {
		Paths map[string]map[string]struct {
			Summary string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(doc.Body), &oa); err != nil || len(oa.Paths) == 0 {
		t.Fatalf("the linked document %s: %v\n%.300s", spec, err, doc.Body)
	}
	listed := map[string]string{}
	res.Doc.Find(`[data-testid="api-operation"]`).Each(func(_ int, s *goquery.Selection) {
		m, _ := s.Attr("data-method")
		p, _ := s.Attr("data-path")
		listed[m+" "+p] = strings.Join(strings.Fields(s.Find("td").Last().Text()), " ")
	})
	n := 0
	for path, ops := range oa.Paths {
		for method, op := range ops {
			n++
			key := strings.ToUpper(method) + " " + path
			if got, ok := listed[key]; !ok || !strings.Contains(got, op.Summary) {
				t.Errorf("%s: listed %q (present %v), want its summary %q", key, got, ok, op.Summary)
			}
		}
	}
	if len(listed) != n {
		t.Errorf("the page lists %d operations, the document has %d", len(listed), n)
	}
}
