// Package static embeds the site's stylesheet and other assets and serves
// them under fingerprinted URLs, so browsers may cache them forever.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// FS holds the embedded assets, addressed by file name ("app.css").
//
//go:embed *.css *.js
var FS embed.FS

// hashLen is the number of hex characters of the SHA-256 kept in a fingerprint.
const hashLen = 12

// contentTypes pins the types of common assets, so they do not depend on the
// host's mime.types file.
var contentTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
}

// asset is one embedded file with its fingerprint.
type asset struct {
	data []byte
	hash string
}

// assets reads every embedded file once and computes its fingerprint.
var assets = sync.OnceValue(func() map[string]asset {
	m := make(map[string]asset)
	err := fs.WalkDir(FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := FS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		m[name] = asset{data: data, hash: hex.EncodeToString(sum[:])[:hashLen]}
		return nil
	})
	if err != nil {
		// The files are compiled into the binary; failing to read them is a build defect.
		panic("static: read embedded assets: " + err.Error())
	}
	return m
})

// Path returns the URL of the named asset with its content fingerprint,
// e.g. "/static/app.css?v=3f2a9c0d1b7e". An unknown name gets no fingerprint.
func Path(name string) string {
	a, ok := assets()[name]
	if !ok {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + a.hash
}

// Handler serves the embedded assets. The caller strips the "/static" prefix,
// so requests arrive as "/app.css". A request whose "v" query parameter
// matches the content fingerprint is cacheable for a year; any other request
// must revalidate. Unknown names and directories answer 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/")
		a, ok := assets()[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if r.URL.Query().Get("v") == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set("ETag", `"`+a.hash+`"`)
		if ct := contentTypes[path.Ext(name)]; ct != "" {
			h.Set("Content-Type", ct)
		}
		// ServeContent sets Content-Type for other extensions and answers
		// If-None-Match and Range requests.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
	})
}
