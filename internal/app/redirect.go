package app

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxNextLength bounds the length of a post-sign-in redirect path.
const MaxNextLength = 512

// SafeNext returns next when it is a local path on this site and fallback
// otherwise. It refuses absolute URLs, scheme-relative "//host" URLs, the
// backslash forms browsers treat like them, control characters and text
// that is not valid UTF-8, so a crafted sign-in link can never send a user
// to another site or put bytes in the database it refuses.
func SafeNext(next, fallback string) string {
	if next == "" || len(next) > MaxNextLength || next[0] != '/' || !utf8.ValidString(next) {
		return fallback
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return fallback
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return fallback
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return fallback
	}
	// Reject paths that decode to "//" or "/\" after percent-decoding.
	if p := u.Path; len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return fallback
	}
	return next
}
