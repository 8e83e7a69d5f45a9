package app

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUserAgentLength bounds the user agent kept with sessions and audit entries.
const MaxUserAgentLength = 512

// CleanText checks a single-line text field a person typed and returns it
// with runs of white space collapsed to one space and trimmed. It is the
// boundary check every form field goes through before it reaches a query:
// the text must be valid UTF-8 without control characters (tabs and line
// breaks count as white space), invisible direction overrides, or more than
// max characters. Errors are EINVALID about field, with label naming it.
func CleanText(field string, label Label, s string, max int) (string, error) {
	if err := checkText(field, label, s); err != nil {
		return "", err
	}
	s = strings.Join(strings.Fields(s), " ")
	if max > 0 && utf8.RuneCountInString(s) > max {
		return s, FieldErrorf(field, "Use at most %d characters for the %s.", max, label)
	}
	return s, nil
}

// checkText reports invalid UTF-8 and characters no form field may hold.
func checkText(field string, label Label, s string) error {
	if !utf8.ValidString(s) {
		return FieldErrorf(field, "The %s holds characters that are not valid text. Type it again.", label)
	}
	for _, r := range s {
		if forbiddenRune(r) {
			return FieldErrorf(field, "The %s holds control or invisible characters. Type it again.", label)
		}
	}
	return nil
}

// forbiddenRune reports control characters other than white space, the
// Unicode replacement character and the bidirectional overrides that can
// make text display as something else.
func forbiddenRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case unicode.IsControl(r), r == utf8.RuneError:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// SanitizeHeader makes a request header value (user agent, client address)
// safe to store and log: invalid UTF-8 becomes U+FFFD, control characters
// are dropped, and the result is at most max bytes, cut on a rune boundary.
func SanitizeHeader(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return strings.TrimSpace(s)
}
