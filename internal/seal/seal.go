// Package seal encrypts small secrets for storage (authenticator secrets)
// with AES-256-GCM, so that a copy of the database alone does not yield
// them. A sealed value is base64 of the nonce followed by the ciphertext.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
)

// KeySize is the length of a key in bytes.
const KeySize = 32

// ErrNoKey is returned by Seal and Open when the box has no valid key.
var ErrNoKey = errors.New("seal: the key is not 32 bytes")

// ErrOpen is returned by Open when a value does not open under the key:
// the key changed or the stored value was altered.
var ErrOpen = errors.New("seal: wrong key or altered value")

// ErrMalformed is returned by Open for a value that is not a sealed value.
var ErrMalformed = errors.New("seal: malformed value")

// Box seals and opens values under one key. The zero Box, or one made
// from a key of the wrong size, refuses both with ErrNoKey.
type Box struct {
	aead cipher.AEAD
}

// New returns a box for key; a key that is not KeySize bytes gives a box
// that refuses every call with ErrNoKey, so a service can run without one
// until a secret is needed.
func New(key []byte) *Box {
	if len(key) != KeySize {
		return &Box{}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return &Box{}
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return &Box{}
	}
	return &Box{aead: aead}
}

// Seal encrypts plain with a fresh random nonce.
func (b *Box) Seal(plain string) (string, error) {
	if b == nil || b.aead == nil {
		return "", ErrNoKey
	}
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plain), nil)), nil
}

// Open decrypts a value made by Seal under the same key.
func (b *Box) Open(sealed string) (string, error) {
	if b == nil || b.aead == nil {
		return "", ErrNoKey
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", ErrMalformed
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}
