package server_test

import (
	"strings"
	"testing"

	"atrium/internal/i18n/i18ntest"
)

// pseudo makes b ask for the pseudo-locale en-XA on every request, where
// each translated string is accented and bracketed.
func (b *browser) pseudo() *browser {
	b.Headers.Set("Accept-Language", "en-XA")
	return b
}

// german makes b ask for German on every request.
func (b *browser) german() *browser {
	b.Headers.Set("Accept-Language", "de-DE,de;q=0.9")
	return b
}

// assertTranslated fails when res, fetched in the pseudo-locale, shows
// English that escaped translation. allow lists the test's own data that
// a page shows as it is (names, workspace names).
func assertTranslated(t testing.TB, res *response, allow ...string) {
	t.Helper()
	if got := res.Header.Get("Content-Language"); got != "en-XA" {
		t.Fatalf("%s: Content-Language=%q, want en-XA (ask with pseudo())", res.Request.URL.Path, got)
	}
	if left := i18ntest.Untranslated(res.Body, allow...); len(left) > 0 {
		t.Errorf("%s shows untranslated text:\n  %s", res.Request.URL.Path, strings.Join(left, "\n  "))
	}
}
