package static_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"atrium/web/static"
)

func TestPath(t *testing.T) {
	t.Parallel()
	data, err := static.FS.ReadFile("app.css")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got, want := static.Path("app.css"), "/static/app.css?v="+hex.EncodeToString(sum[:])[:12]; got != want {
		t.Fatalf("Path=%q, want %q", got, want)
	}
	if got, want := static.Path("missing.css"), "/static/missing.css"; got != want {
		t.Fatalf("Path(missing)=%q, want %q", got, want)
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	version := strings.TrimPrefix(static.Path("app.css"), "/static/app.css?v=")

	tests := []struct {
		name         string
		method       string
		target       string
		status       int
		cacheControl string
		contentType  string
	}{
		{"Fingerprinted", http.MethodGet, "/app.css?v=" + version, http.StatusOK, "public, max-age=31536000, immutable", "text/css; charset=utf-8"},
		{"Head", http.MethodHead, "/app.css?v=" + version, http.StatusOK, "public, max-age=31536000, immutable", "text/css; charset=utf-8"},
		{"StaleVersion", http.MethodGet, "/app.css?v=000000000000", http.StatusOK, "no-cache", "text/css; charset=utf-8"},
		{"NoVersion", http.MethodGet, "/app.css", http.StatusOK, "no-cache", "text/css; charset=utf-8"},
		{"Unknown", http.MethodGet, "/nope.css", http.StatusNotFound, "", "text/plain; charset=utf-8"},
		{"Directory", http.MethodGet, "/", http.StatusNotFound, "", "text/plain; charset=utf-8"},
		{"DotDir", http.MethodGet, "/.", http.StatusNotFound, "", "text/plain; charset=utf-8"},
		{"Post", http.MethodPost, "/app.css", http.StatusMethodNotAllowed, "", "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			static.Handler().ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if got, want := rec.Code, tt.status; got != want {
				t.Fatalf("status=%d, want %d", got, want)
			}
			if got, want := rec.Header().Get("Cache-Control"), tt.cacheControl; got != want {
				t.Errorf("Cache-Control=%q, want %q", got, want)
			}
			if got, want := rec.Header().Get("Content-Type"), tt.contentType; got != want {
				t.Errorf("Content-Type=%q, want %q", got, want)
			}
		})
	}

	t.Run("Body", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		static.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app.css", nil))
		want, _ := static.FS.ReadFile("app.css")
		if got := rec.Body.String(); got != string(want) {
			t.Fatalf("body has %d bytes, want the %d bytes of app.css", len(got), len(want))
		}
	})

	t.Run("NotModified", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequest(http.MethodGet, "/app.css?v="+version, nil)
		req.Header.Set("If-None-Match", `"`+version+`"`)
		rec := httptest.NewRecorder()
		static.Handler().ServeHTTP(rec, req)
		if got, want := rec.Code, http.StatusNotModified; got != want {
			t.Fatalf("status=%d, want %d", got, want)
		}
	})
}
