package app

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxEmailLength is the longest address accepted (RFC 5321's path limit).
const MaxEmailLength = 254

// maxLocalLength is RFC 5321's limit on the part before the "@".
const maxLocalLength = 64

var errEmailSyntax = FieldErrorf("email", "Enter a valid email address, like name@example.com.")

// NormalizeEmail checks an address a person typed and returns the form
// addresses are stored and compared in everywhere, so that one mailbox is
// one account:
//
//   - no invisible characters (zero-width spaces, soft hyphens, direction
//     marks), no control characters and no white space inside;
//   - the part before the "@" is the dot-atom of the WHATWG e-mail rule
//     (ASCII letters, digits and !#$%&'*+-/=?^_`{|}~, dots between them),
//     kept as typed except that it is compared case-insensitively, so it is
//     lower-cased; fullwidth or other look-alike letters are refused;
//   - the domain is converted with IDNA's lookup profile to its one ASCII
//     form ("exämple.com" and "EXÄMPLE.com" become "xn--exmple-cua.com",
//     fullwidth letters become ASCII), and every label is 1 to 63 letters,
//     digits and inner dashes, with at least two labels.
//
// Errors are EINVALID about the "email" field.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", FieldErrorf("email", "Enter your email address.")
	case len(s) > MaxEmailLength:
		return "", FieldErrorf("email", "That email address is too long.")
	case !utf8.ValidString(s) || strings.IndexFunc(s, invisibleRune) >= 0:
		return "", FieldErrorf("email", "That email address holds invisible or control characters. Type it again.")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 {
		return "", errEmailSyntax
	}
	// Checked before lower-casing: strings.ToLower turns the Kelvin sign
	// into an ASCII "k".
	local, domain := s[:at], s[at+1:]
	if !validLocalPart(local) {
		return "", errEmailSyntax
	}
	local = strings.ToLower(local)
	domain, err := idna.Lookup.ToASCII(domain)
	if err != nil || !validDomain(domain) {
		return "", errEmailSyntax
	}
	out := local + "@" + strings.ToLower(domain)
	if len(out) > MaxEmailLength {
		return "", FieldErrorf("email", "That email address is too long.")
	}
	return out, nil
}

// invisibleRune reports characters that show as nothing, or as a space,
// and so would let two different addresses look the same.
func invisibleRune(r rune) bool {
	if r == ' ' {
		return false // an ordinary space is a plain syntax error
	}
	return r == utf8.RuneError || unicode.IsSpace(r) ||
		unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zs, unicode.Zl, unicode.Zp,
			unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// validLocalPart checks a dot-atom: atext runs separated by single dots.
func validLocalPart(s string) bool {
	if s == "" || len(s) > maxLocalLength || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// validDomain checks an ASCII host name with at least two labels, each of
// letters, digits and dashes, not starting or ending with a dash, and a
// top-level label that is not all digits (no IP addresses).
func validDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i] | 0x20
			if !(c >= 'a' && c <= 'z' || l[i] >= '0' && l[i] <= '9' || l[i] == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.Trim(tld, "0123456789") != ""
}

// MaskEmail shortens an address for logs: "jane.doe@example.com" becomes
// "j***@example.com".
func MaskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return "***"
	}
	return s[:1] + "***" + s[at:]
}
