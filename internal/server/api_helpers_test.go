package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// apiDocs are the served OpenAPI documents (3.1 and its 3.0 downgrade),
// loaded and validated by kin-openapi, with a router over each.
type apiDocs struct {
	raw31, raw30 []byte
	routers      []routers.Router
}

// loadAPIDocs fetches both served documents, validates them and builds
// their routers.
func loadAPIDocs(t *testing.T, a *testApp) *apiDocs {
	t.Helper()
	d := &apiDocs{}
	for _, p := range []string{"/api/v1/openapi.json", "/api/v1/openapi-3.0.json"} {
		res, err := http.Get(a.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d\n%s", p, res.StatusCode, body)
		}
		doc, err := openapi3.NewLoader().LoadFromData(body)
		if err != nil {
			t.Fatalf("load %s: %v", p, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Fatalf("%s does not validate: %v", p, err)
		}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			t.Fatalf("router for %s: %v", p, err)
		}
		d.routers = append(d.routers, r)
		if strings.Contains(p, "3.0") {
			d.raw30 = body
		} else {
			d.raw31 = body
		}
	}
	return d
}

// apiClient calls /api/v1 with a key and checks every answer against both
// served documents with openapi3filter.
type apiClient struct {
	t    *testing.T
	a    *testApp
	docs *apiDocs
	key  string
}

// apiResponse is a finished API response.
type apiResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *apiResponse) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Problem returns the body as a problem's fields.
func (r *apiResponse) Problem(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type=%q, want application/problem+json; body %s", ct, r.Body)
	}
	var p map[string]any
	r.JSON(t, &p)
	return p
}

func (c *apiClient) withKey(key string) *apiClient {
	n := *c
	n.key = key
	return &n
}

// do sends a request with the client's key (none when empty) and a JSON
// body (a string is sent as is), and validates the response.
func (c *apiClient) do(method, path string, body any) *apiResponse {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	req, _ := http.NewRequest(method, c.a.URL+"/api/v1"+path, bytes.NewReader(raw))
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	r := &apiResponse{Status: res.StatusCode, Header: res.Header, Body: out}
	c.validate(req, raw, r)
	return r
}

// validate checks a response against each served document: its status
// must be documented for the operation and its body must match the schema.
func (c *apiClient) validate(req *http.Request, body []byte, r *apiResponse) {
	c.t.Helper()
	if c.docs == nil {
		return
	}
	for i, router := range c.docs.routers {
		vreq := req.Clone(context.Background())
		vreq.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := router.FindRoute(vreq)
		if err != nil {
			if r.Status == http.StatusNotFound || r.Status == http.StatusMethodNotAllowed {
				continue // no such operation: nothing to validate against
			}
			c.t.Fatalf("doc %d: %s %s has no route: %v", i, req.Method, req.URL.Path, err)
		}
		in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: r.Status, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.Body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}); err != nil {
			c.t.Fatalf("doc %d: %s %s answered %d against the description: %v\nbody %s", i, req.Method, req.URL.Path, r.Status, err, r.Body)
		}
	}
}

// createKeyInBrowser creates a key on the keys page as b and returns its
// secret, read from the page that shows it once.
func createKeyInBrowser(t *testing.T, b *browser, slug, name string, scopes ...string) string {
	t.Helper()
	res := b.Post("/w/"+slug+"/settings/api-keys", url.Values{"name": {name}, "scope": scopes})
	if res.StatusCode == http.StatusSeeOther {
		res = b.Follow(res)
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		t.Fatalf("create key: status %d\n%s", res.StatusCode, res.Body)
	}
	secret, _ := res.Doc.Find(`[data-testid="api-key-secret"]`).Attr("value")
	if !strings.HasPrefix(secret, "atr_") || len(secret) != 47 {
		t.Fatalf("secret %q, want atr_ and 43 characters", secret)
	}
	return secret
}
