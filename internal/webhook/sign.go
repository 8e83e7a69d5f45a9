// Package webhook holds the parts of outgoing webhooks that do not depend
// on where deliveries are stored: signing per the Standard Webhooks
// specification (https://www.standardwebhooks.com, the scheme Svix uses),
// endpoint secrets, the retry schedule and what a receiver's answer means.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix starts every endpoint secret, as the specification shows
// them.
const secretPrefix = "whsec_"

// secretBytes is the length of a new secret's key: 32 bytes, the size of
// the HMAC-SHA256 block's half the specification recommends at least.
const secretBytes = 32

// ErrSecret is returned for a secret that is not whsec_ and the base64 of
// 24 to 64 bytes.
var ErrSecret = errors.New("webhook: a signing secret is whsec_ followed by the base64 of 24 to 64 bytes")

// Secret is an endpoint's signing key.
type Secret struct{ key []byte }

// NewSecret makes a random secret and returns it with its text form
// ("whsec_…"), which is shown to the endpoint's owner once.
func NewSecret() (Secret, string) {
	key := make([]byte, secretBytes)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return Secret{key: key}, secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ParseSecret reads a secret's text form.
func ParseSecret(s string) (Secret, error) {
	raw, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return Secret{}, ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < 24 || len(key) > 64 {
		return Secret{}, ErrSecret
	}
	return Secret{key: key}, nil
}

// String is the secret's text form.
func (s Secret) String() string { return secretPrefix + base64.StdEncoding.EncodeToString(s.key) }

// signature is v1, the base64 of HMAC-SHA256(key, "id.timestamp.body").
func (s Secret) signature(id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Sign sets the headers of one delivery attempt of message id: its id, the
// time of this attempt and one signature per secret. During a rotation the
// endpoint has two secrets, the new and the old, and a receiver holding
// either verifies the message. A retry keeps the id (receivers drop
// duplicates by it) and signs again with the attempt's own time.
func Sign(h http.Header, id string, at time.Time, body []byte, secrets ...Secret) {
	ts := at.Unix()
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sigs = append(sigs, s.signature(id, ts, body))
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
}
