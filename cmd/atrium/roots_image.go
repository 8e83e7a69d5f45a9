//go:build image

package main

// The image (scripts/image) has no CA bundle of its own: the binary
// carries the roots, which crypto/x509 uses only where the system has
// none.
import _ "golang.org/x/crypto/x509roots/fallback"
