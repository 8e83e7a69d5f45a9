package app_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"atrium/internal/app"
)

// FuzzNormalizeEmail checks that an accepted address is already in its
// compared form: lower-case, trimmed, one "@", no spaces or control
// characters, within the length limit, and unchanged by normalizing again.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"ada@example.com", "  Ada@Example.COM ", "ada+tag@mail.example.co.uk", "o'brien@example.ie",
		"", " ", "ada", "ada@", "@example.com", "ada@localhost", "ada@example..com", "ada@example.com.",
		"Ada <ada@example.com>", `"a b"@example.com`, `"a@b"@example.com`, "ada@[127.0.0.1]",
		"ada@example.com, bob@example.com", "ada@example.com\r\nBcc: x@evil.example", "ada\x00@example.com",
		"ÄDA@EXAMPLE.COM", "ada@exämple.com", "\u212a@example.com", "İ@example.com", "ada\u00a0@example.com",
		"ada@example.com\u200b", "\xff@example.com", strings.Repeat("a", 243) + "@example.com",
		"founder\u200b@example.com", "foun\u00adder@example.com", "\ufeffada@example.com", "ada@exa\u200dmple.com",
		"ｆｏｕｎｄｅｒ@example.com", "ada@ｅｘａｍｐｌｅ.com", "ada@-example.com", "ada@example-.com", "ada@xn--exmple-cua.com",
		"ada@EXÄMPLE.com", "ada@例え.jp", "ada@127.0.0.1", ".ada@example.com", "a..da@example.com", "ada@@example.com",
		"ada\u202e@example.com", "ada@example.com\x00", strings.Repeat("a", 65) + "@example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := app.NormalizeEmail(in)
		if err != nil {
			if out != "" {
				t.Fatalf("NormalizeEmail(%q) returned %q with error %v", in, out, err)
			}
			if code := app.ErrorCode(err); code != app.EINVALID {
				t.Fatalf("NormalizeEmail(%q) error code=%q, want %q", in, code, app.EINVALID)
			}
			return
		}
		if out != strings.ToLower(out) {
			t.Fatalf("NormalizeEmail(%q)=%q is not lower-case", in, out)
		}
		if out != strings.TrimSpace(out) {
			t.Fatalf("NormalizeEmail(%q)=%q is not trimmed", in, out)
		}
		if len(out) > app.MaxEmailLength {
			t.Fatalf("NormalizeEmail(%q) is %d bytes, over %d", in, len(out), app.MaxEmailLength)
		}
		if strings.Count(out, "@") != 1 {
			t.Fatalf("NormalizeEmail(%q)=%q does not have exactly one @", in, out)
		}
		for _, c := range []byte(out) {
			if c <= ' ' || c >= 0x7f {
				t.Fatalf("NormalizeEmail(%q)=%q holds a space, control or non-ASCII byte %#x", in, out, c)
			}
		}
		// The local part is kept as typed, only lower-cased.
		trimmed := strings.TrimSpace(in)
		if local := out[:strings.IndexByte(out, '@')]; local != strings.ToLower(trimmed[:strings.LastIndexByte(trimmed, '@')]) {
			t.Fatalf("NormalizeEmail(%q)=%q changed the local part", in, out)
		}
		if domain := out[strings.IndexByte(out, '@')+1:]; strings.HasPrefix(domain, "-") || strings.Contains(domain, ".-") ||
			strings.Contains(domain, "-.") || strings.HasSuffix(domain, "-") {
			t.Fatalf("NormalizeEmail(%q)=%q has a domain label with a leading or trailing dash", in, out)
		}
		again, err := app.NormalizeEmail(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeEmail(%q)=%q, but normalizing that gives %q, %v", in, out, again, err)
		}
	})
}

// FuzzSafeNext checks that whatever comes in, what comes out is the
// fallback or a path on this site: one "/" then neither "/" nor "\", and
// nothing url.Parse reads as a scheme, host or user.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{
		"/", "/app", "/settings/account?tab=sessions#x", "/a/../b", "/docs/a:b",
		"", "app", "//evil.example", "///evil.example", `/\evil.example`, `\/evil.example`, `\\evil.example`,
		"/%2F%2Fevil.example", "/%2fevil.example", "/%5Cevil.example", "/%5c%5cevil.example",
		"/\t/evil.example", "/\n/evil.example", "/%09/evil.example", "/%0a/evil.example",
		"http://evil.example", "HTTPS://evil.example", "javascript:alert(1)", "data:text/html,x",
		"//user@evil.example", "/@evil.example", "/.//evil.example", "/%2e%2e//evil.example", "/％２Ｆevil.example",
		"/\u3000/evil.example", "/%zz", strings.Repeat("/a", 300), "/\xff", "/%FF", "/caf\xe9", "/a\x00b",
	} {
		f.Add(s)
	}
	const fallback = "/app"
	f.Fuzz(func(t *testing.T, in string) {
		got := app.SafeNext(in, fallback)
		if got == fallback {
			return
		}
		if got != in {
			t.Fatalf("SafeNext(%q)=%q, neither the input nor the fallback", in, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("SafeNext(%q)=%q is not valid UTF-8", in, got)
		}
		if got[0] != '/' || len(got) > 1 && (got[1] == '/' || got[1] == '\\') {
			t.Fatalf("SafeNext(%q)=%q does not start with exactly one slash", in, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("SafeNext(%q)=%q does not parse: %v", in, got, err)
		}
		if u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
			t.Fatalf("SafeNext(%q)=%q parses with scheme %q host %q user %v opaque %q", in, got, u.Scheme, u.Host, u.User, u.Opaque)
		}
		if p := u.Path; len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
			t.Fatalf("SafeNext(%q)=%q decodes to path %q, which starts like a host", in, got, p)
		}
		if again := app.SafeNext(got, fallback); again != got {
			t.Fatalf("SafeNext(%q)=%q, but SafeNext of that is %q", in, got, again)
		}
	})
}
