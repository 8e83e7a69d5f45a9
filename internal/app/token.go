package app

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// NewToken returns a fresh secret token (32 random bytes, URL-safe base64)
// and the hash that is the only form of it ever stored.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error since Go 1.24; it panics on a
	// broken system source instead.
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of a token, the form stored in the
// database. A token is 256 bits of randomness, so a fast hash is enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ValidTokenSyntax reports whether s could be a token made by NewToken.
// It lets handlers answer a malformed token without a query.
func ValidTokenSyntax(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
