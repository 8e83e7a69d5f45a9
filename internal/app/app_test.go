package app_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"atrium/internal/app"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	// 64 characters before the "@" (RFC 5321's limit), 254 in all.
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." +
		strings.Repeat("d", app.MaxEmailLength-64-1-63-1-63-1-len(".com")) + ".com"
	cases := []struct {
		name, in, want string // want "" means the address is refused
		wantMsg        string // part of the refusal message
	}{
		{name: "Plain", in: "ada@example.com", want: "ada@example.com"},
		{name: "MixedCase", in: "Ada@Example.COM", want: "ada@example.com"},
		{name: "SurroundingSpace", in: " \t ada@example.com \r\n", want: "ada@example.com"},
		{name: "PlusTag", in: "ada+billing@example.com", want: "ada+billing@example.com"},
		{name: "DotsAndSubdomain", in: "a.d.a@mail.example.co.uk", want: "a.d.a@mail.example.co.uk"},
		{name: "Apostrophe", in: "o'brien@example.ie", want: "o'brien@example.ie"},
		{name: "Hyphen", in: "ada@my-example.com", want: "ada@my-example.com"},
		{name: "LongestAllowed", in: long, want: long},

		{name: "Empty", in: "", wantMsg: "Enter your email address"},
		{name: "Blank", in: "   \t", wantMsg: "Enter your email address"},
		{name: "TooLong", in: "a" + long, wantMsg: "too long"},
		{name: "TooLongAfterTrim", in: "  " + "A" + long + "  ", wantMsg: "too long"},
		{name: "NoAt", in: "ada.example.com", wantMsg: "valid email"},
		{name: "NoLocal", in: "@example.com", wantMsg: "valid email"},
		{name: "NoDomain", in: "ada@", wantMsg: "valid email"},
		{name: "DotlessDomain", in: "ada@localhost", wantMsg: "valid email"},
		{name: "LeadingDotDomain", in: "ada@.example.com", wantMsg: "valid email"},
		{name: "TrailingDotDomain", in: "ada@example.com.", wantMsg: "valid email"},
		{name: "DoubleDotDomain", in: "ada@example..com", wantMsg: "valid email"},
		{name: "TwoAts", in: "ada@@example.com", wantMsg: "valid email"},
		{name: "InnerSpace", in: "ada lovelace@example.com", wantMsg: "valid email"},
		{name: "SpaceInDomain", in: "ada@exa mple.com", wantMsg: "valid email"},
		{name: "DisplayName", in: "Ada <ada@example.com>", wantMsg: "valid email"},
		{name: "AngleBrackets", in: "<ada@example.com>", wantMsg: "valid email"},
		{name: "QuotedLocal", in: `"ada lovelace"@example.com`, wantMsg: "valid email"},
		{name: "QuotedAt", in: `"a@b"@example.com`, wantMsg: "valid email"},
		{name: "DomainLiteral", in: "ada@[127.0.0.1]", wantMsg: "valid email"},
		{name: "List", in: "ada@example.com, bob@example.com", wantMsg: "valid email"},
		{name: "Comment", in: "ada@example.com (Ada)", wantMsg: "valid email"},
		{name: "NewlineInside", in: "ada@example.com\nbcc@evil.example", wantMsg: "control characters"},
		{name: "HeaderInjection", in: "ada@example.com\r\nBcc: x@evil.example", wantMsg: "control characters"},
		{name: "NUL", in: "ada\x00@example.com", wantMsg: "control characters"},

		// One mailbox is one account: nothing invisible, no look-alikes.
		{name: "ZeroWidthSpace", in: "founder\u200b@example.com", wantMsg: "invisible"},
		{name: "ZeroWidthJoinerInDomain", in: "ada@exa\u200dmple.com", wantMsg: "invisible"},
		{name: "SoftHyphen", in: "foun\u00adder@example.com", wantMsg: "invisible"},
		{name: "ByteOrderMark", in: "\ufeffada@example.com", wantMsg: "invisible"},
		{name: "NoBreakSpace", in: "ada\u00a0@example.com", wantMsg: "invisible"},
		{name: "RightToLeftOverride", in: "ada\u202e@example.com", wantMsg: "invisible"},
		{name: "InvalidUTF8", in: "\xff@example.com", wantMsg: "invisible"},
		{name: "FullwidthLocal", in: "ｆｏｕｎｄｅｒ@example.com", wantMsg: "valid email"},
		{name: "KelvinSignLocal", in: "\u212a@example.com", wantMsg: "valid email"},
		{name: "LocalTooLong", in: strings.Repeat("a", 65) + "@example.com", wantMsg: "valid email"},
		{name: "LeadingDotLocal", in: ".ada@example.com", wantMsg: "valid email"},
		{name: "DashFirstDomain", in: "ada@-example.com", wantMsg: "valid email"},
		{name: "DashLastLabel", in: "ada@example-.com", wantMsg: "valid email"},
		{name: "DashFirstSubdomain", in: "ada@mail.-example.com", wantMsg: "valid email"},
		{name: "IPAddress", in: "ada@127.0.0.1", wantMsg: "valid email"},
		{name: "UnderscoreDomain", in: "ada@my_example.com", wantMsg: "valid email"},

		// IDN domains have one form, the ASCII one.
		{name: "IDNDomain", in: "ada@exämple.com", want: "ada@xn--exmple-cua.com"},
		{name: "IDNDomainUpper", in: "Ada@EXÄMPLE.COM", want: "ada@xn--exmple-cua.com"},
		{name: "IDNDomainASCII", in: "ada@xn--exmple-cua.com", want: "ada@xn--exmple-cua.com"},
		{name: "FullwidthDomain", in: "ada@ｅｘａｍｐｌｅ.com", want: "ada@example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := app.NormalizeEmail(tc.in)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("NormalizeEmail(%q)=%q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("NormalizeEmail(%q)=%q, want an error", tc.in, got)
			}
			if got != "" {
				t.Errorf("NormalizeEmail(%q) returned %q with its error", tc.in, got)
			}
			if code := app.ErrorCode(err); code != app.EINVALID {
				t.Errorf("error code=%q, want %q", code, app.EINVALID)
			}
			if msg := app.ErrorMessage(err); !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("message=%q, want it to contain %q", msg, tc.wantMsg)
			}
		})
	}
}

func TestMaskEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"jane.doe@example.com": "j***@example.com",
		"a@example.com":        "a***@example.com",
		"no-at-sign":           "***",
		"@example.com":         "***",
		"":                     "***",
	} {
		if got := app.MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q)=%q, want %q", in, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	const fb = "/app"
	cases := []struct {
		name, in, want string
	}{
		{"Root", "/", "/"},
		{"Path", "/settings/account", "/settings/account"},
		{"PathQueryFragment", "/w/acme?tab=members#invite", "/w/acme?tab=members#invite"},
		{"EncodedSpace", "/search?q=a%20b", "/search?q=a%20b"},
		{"DotSegments", "/a/../b", "/a/../b"},
		{"ColonInPath", "/docs/a:b", "/docs/a:b"},
		{"LongestAllowed", "/" + strings.Repeat("a", app.MaxNextLength-1), "/" + strings.Repeat("a", app.MaxNextLength-1)},

		{"Empty", "", fb},
		{"TooLong", "/" + strings.Repeat("a", app.MaxNextLength), fb},
		{"Relative", "settings", fb},
		{"DotRelative", "./settings", fb},
		{"SchemeRelative", "//evil.example", fb},
		{"SchemeRelativePath", "//evil.example/app", fb},
		{"TripleSlash", "///evil.example", fb},
		{"SlashBackslash", `/\evil.example`, fb},
		{"BackslashSlash", `\/evil.example`, fb},
		{"DoubleBackslash", `\\evil.example`, fb},
		{"BackslashLater", `/a\b`, fb},
		{"EncodedSlashes", "/%2F%2Fevil.example", fb},
		{"EncodedSlashesLower", "/%2f%2fevil.example", fb},
		{"EncodedSlash", "/%2Fevil.example", fb},
		{"EncodedBackslash", "/%5Cevil.example", fb},
		{"EncodedBackslashLower", "/%5cevil.example", fb},
		{"TabBetweenSlashes", "/\t/evil.example", fb},
		{"NewlineBetweenSlashes", "/\n/evil.example", fb},
		{"CRBetweenSlashes", "/\r/evil.example", fb},
		{"NULInPath", "/app\x00", fb},
		{"DEL", "/app\x7f", fb},
		{"LeadingSpace", " /app", fb},
		{"HTTP", "http://evil.example/", fb},
		{"HTTPS", "https://evil.example/", fb},
		{"MixedCaseScheme", "HtTpS://evil.example", fb},
		{"JavaScript", "javascript:alert(1)", fb},
		{"JavaScriptSlash", "javascript://%0aalert(1)", fb},
		{"Data", "data:text/html,<script>alert(1)</script>", fb},
		{"UserInfo", "//user@evil.example", fb},
		{"BadEscape", "/%zz", fb},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := app.SafeNext(tc.in, fb); got != tc.want {
				t.Fatalf("SafeNext(%q)=%q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := app.SafeNext("//evil.example", ""); got != "" {
		t.Fatalf("an empty fallback came back as %q", got)
	}
}

func TestNewToken(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 1000 {
		token, hash := app.NewToken()
		if !app.ValidTokenSyntax(token) {
			t.Fatalf("NewToken made %q, which ValidTokenSyntax refuses", token)
		}
		if got := app.HashToken(token); got != hash {
			t.Fatalf("hash=%q, want HashToken(token)=%q", hash, got)
		}
		if b, err := hex.DecodeString(hash); err != nil || len(b) != 32 {
			t.Fatalf("hash %q is not 32 hex-encoded bytes", hash)
		}
		if strings.Contains(hash, token) || seen[token] {
			t.Fatalf("token %q repeated or readable from its hash", token)
		}
		seen[token] = true
	}
}

func TestHashToken(t *testing.T) {
	t.Parallel()
	// The SHA-256 test vector of "abc" (FIPS 180-2).
	if got, want := app.HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("HashToken(abc)=%q, want %q", got, want)
	}
	if app.HashToken("a") == app.HashToken("A") {
		t.Fatal("HashToken is not case-sensitive")
	}
}

func TestValidTokenSyntax(t *testing.T) {
	t.Parallel()
	ok := strings.Repeat("a", 20) + "Z09-_" + strings.Repeat("b", 18)
	cases := []struct {
		name, in string
		want     bool
	}{
		{"Valid", ok, true},
		{"AllURLSafeChars", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop-", true},
		{"Empty", "", false},
		{"TooShort", ok[:42], false},
		{"TooLong", ok + "a", false},
		{"Plus", ok[:42] + "+", false},
		{"Slash", ok[:42] + "/", false},
		{"Padding", ok[:42] + "=", false},
		{"Space", ok[:42] + " ", false},
		{"Percent", ok[:40] + "%2F", false},
		{"NonASCII", ok[:41] + "é", false},
		{"HTML", ok[:35] + "<script>", false},
	}
	for _, tc := range cases {
		if got := app.ValidTokenSyntax(tc.in); got != tc.want {
			t.Errorf("%s: ValidTokenSyntax(%q)=%v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}
