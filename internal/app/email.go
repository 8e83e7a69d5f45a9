package app

import (
	"net/mail"
	"strings"
)

// MaxEmailLength is the longest address accepted (RFC 5321's path limit).
const MaxEmailLength = 254

// NormalizeEmail trims and lower-cases an address and checks that it is a
// plain addr-spec ("name@example.com", no display name, no angle brackets).
// Addresses are compared in this form everywhere.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return "", Errorf(EINVALID, "Enter your email address.")
	case len(s) > MaxEmailLength:
		return "", Errorf(EINVALID, "That email address is too long.")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", Errorf(EINVALID, "Enter a valid email address, like name@example.com.")
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if at < 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") ||
		strings.ContainsAny(s, " \t\r\n\"()<>[],;:\\") {
		return "", Errorf(EINVALID, "Enter a valid email address, like name@example.com.")
	}
	return s, nil
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
