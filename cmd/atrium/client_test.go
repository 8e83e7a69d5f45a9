package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// client is a cookie-keeping HTTP client that posts forms the way a
// same-origin page does and does not follow redirects by itself.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

// newClient returns a client with an empty cookie jar for the app at base.
func newClient(t *testing.T, base string) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a response with its body read and parsed.
type page struct {
	Status   int
	Location string
	Body     string
	Doc      *goquery.Document
}

// Text returns the trimmed text of the first element with this data-testid.
func (p *page) Text(testID string) string {
	return strings.TrimSpace(p.Doc.Find(`[data-testid="` + testID + `"]`).First().Text())
}

// Has reports whether an element with this data-testid exists.
func (p *page) Has(testID string) bool {
	return p.Doc.Find(`[data-testid="`+testID+`"]`).Length() > 0
}

func (c *client) do(req *http.Request) *page {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		c.t.Fatalf("%s %s: parse body: %v", req.Method, req.URL, err)
	}
	return &page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(body), Doc: doc}
}

func (c *client) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return c.base + path
}

// Get fetches a page.
func (c *client) Get(path string) *page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.url(path), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// Post submits a form with an Origin header of the app's own origin.
func (c *client) Post(path string, form url.Values) *page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	return c.do(req)
}

// Follow follows redirects until a page answers.
func (c *client) Follow(p *page) *page {
	c.t.Helper()
	for i := 0; i < 10 && p.Status >= 300 && p.Status < 400; i++ {
		p = c.Get(p.Location)
	}
	return p
}

// Submit posts the form around the element with this data-testid, with
// the values of its inputs.
func (c *client) Submit(p *page, testID string) *page {
	c.t.Helper()
	form := p.Doc.Find(`[data-testid="` + testID + `"]`).Closest("form")
	if form.Length() == 0 {
		c.t.Fatalf("no form around %q on the page:\n%s", testID, p.Body)
	}
	action, _ := form.Attr("action")
	vals := url.Values{}
	form.Find("input[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v, _ := s.Attr("value")
		vals.Set(name, v)
	})
	return c.Post(action, vals)
}
