package app

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// API key scopes: read lets a key list things, write lets it change them.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// APIKeyScopes lists every scope, in display order.
var APIKeyScopes = []string{ScopeRead, ScopeWrite}

// APIKeyPrefix starts every API key, so a leaked one is recognisable.
const APIKeyPrefix = "atr_"

// apiKeyDisplayLen is how much of a key (its "atr_" included) lists show.
const apiKeyDisplayLen = 12

// APIKeyNameMax is the longest name a key may have.
const APIKeyNameMax = 60

// APIKeyTouchEvery is how often a key's last-used time is written at most.
const APIKeyTouchEvery = time.Minute

// APIKeyRole is the role a key has in its workspace's rules (who may
// invite whom): an admin's, so that a key can never hand out ownership.
const APIKeyRole = RoleAdmin

// APIKey lets a script act as a workspace, never as a user. Only the
// SHA-256 of its secret is stored; Prefix is kept for display.
type APIKey struct {
	ID            int64
	WorkspaceID   int64
	WorkspaceSlug string // filled by lookups for a request
	Name          string
	Prefix        string
	Scopes        []string
	CreatedByID   int64
	// CreatorName and CreatorEmail are the creator's, filled on lists while
	// their account exists.
	CreatorName  string
	CreatorEmail string
	CreatedAt    time.Time
	LastUsedAt   time.Time // zero when never used
	ExpiresAt    time.Time // zero when it never expires
	RevokedAt    time.Time // zero while it is live
}

// Has reports whether the key carries scope.
func (k *APIKey) Has(scope string) bool { return slices.Contains(k.Scopes, scope) }

// Live reports whether the key may be used at now: not revoked, not expired.
func (k *APIKey) Live(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || k.ExpiresAt.After(now))
}

// CreatedBy names who made the key: the creator's name or email, or "A
// former member" once their account is gone.
func (k *APIKey) CreatedBy() string {
	switch {
	case k.CreatorName != "":
		return k.CreatorName
	case k.CreatorEmail != "":
		return k.CreatorEmail
	}
	return "A former member"
}

// Label names the key as an actor, as the audit log shows it.
func (k *APIKey) Label() string { return "API key '" + k.Name + "' (" + k.Prefix + "…)" }

// NewAPIKeySecret returns a fresh key ("atr_" and 32 random bytes in
// URL-safe base64), its display prefix and its hash, the stored form.
func NewAPIKeySecret() (secret, prefix, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, secret[:apiKeyDisplayLen], HashToken(secret)
}

// ValidAPIKeySyntax reports whether s could be a key NewAPIKeySecret made,
// so a malformed one is refused without a query.
func ValidAPIKeySyntax(s string) bool {
	rest, ok := strings.CutPrefix(s, APIKeyPrefix)
	return ok && ValidTokenSyntax(rest)
}

// NewAPIKey is a key to create.
type NewAPIKey struct {
	Name      string
	Scopes    []string
	ExpiresAt time.Time // zero: never
	Prefix    string
	TokenHash string
	// Reveal is the sealed secret for its one showing after the redirect
	// (SealAPIKeySecret); empty: none is kept.
	Reveal APIKeyReveal
}

// APIKeyRevealTTL is how long the secret of a key just created waits,
// sealed, for the page that shows it once.
const APIKeyRevealTTL = 10 * time.Minute

// APIKeyReveal is what the server keeps of a new key's secret until it is
// shown: the hash of the token the creator's browser holds and the secret
// sealed with a key derived from that token, so the stored row alone
// cannot give the secret back.
type APIKeyReveal struct {
	TokenHash string
	Sealed    string
}

// SealAPIKeySecret seals secret for its one showing. It returns the token
// to hand the creator's browser and the reveal to store.
func SealAPIKeySecret(secret string) (token string, r APIKeyReveal) {
	token, r.TokenHash = NewToken()
	gcm := revealAEAD(token)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	r.Sealed = base64.RawURLEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(secret), nil))
	return token, r
}

// OpenAPIKeySecret opens a sealed secret with the browser's token.
func OpenAPIKeySecret(token, sealed string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	gcm := revealAEAD(token)
	if err != nil || len(b) < gcm.NonceSize() {
		return "", false
	}
	plain, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], nil)
	return string(plain), err == nil
}

// revealAEAD is AES-256-GCM keyed by the token (apart from its stored
// hash by a label).
func revealAEAD(token string) cipher.AEAD {
	key := sha256.Sum256([]byte("atrium api key reveal\x00" + token))
	block, _ := aes.NewCipher(key[:]) // a 32-byte key never fails
	gcm, _ := cipher.NewGCM(block)
	return gcm
}

// ValidateNewAPIKey cleans a key's name and scopes and checks its expiry
// against now. Errors name the "name", "scopes" or "expires" field.
func ValidateNewAPIKey(k NewAPIKey, now time.Time) (NewAPIKey, error) {
	name, err := CleanText("name", "name", k.Name, 0)
	if err != nil {
		return k, err
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > APIKeyNameMax {
		return k, FieldErrorf("name", "Use 1 to %d characters for the name.", APIKeyNameMax)
	}
	k.Name = name
	var scopes []string
	for _, s := range APIKeyScopes {
		if slices.Contains(k.Scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 0 || len(scopes) != len(slices.Compact(slices.Sorted(slices.Values(k.Scopes)))) {
		return k, FieldErrorf("scopes", "Choose read, write or both.")
	}
	k.Scopes = scopes
	if !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now) {
		return k, FieldErrorf("expires", "Choose an expiry date in the future, or none.")
	}
	return k, nil
}

// CanManageAPIKeys: owners and admins create and revoke keys. A key itself
// never can: the services refuse any principal that is not a user.
func CanManageAPIKeys(actor Role) error {
	if !actor.AtLeast(RoleAdmin) {
		return Errorf(EFORBIDDEN, "Only owners and admins can manage API keys.")
	}
	return nil
}

// APIKeyActs reports whether a key whose creator now holds role creator
// may act: a key never grants more than its creator's current role allows,
// so it stops when they can no longer manage keys (or are gone: "").
func APIKeyActs(creator Role) bool { return CanManageAPIKeys(creator) == nil }

// ErrAPIKeyInvalid answers every key that cannot be used (unknown,
// revoked, expired, malformed, or its workspace gone) the same way.
var ErrAPIKeyInvalid = &Error{Code: EUNAUTHORIZED, Message: "The API key is missing, invalid, expired or revoked."}

// APIKeyService manages a workspace's API keys. Its reads of a workspace's
// keys take the Scope they act in, and their statements enforce it (see
// Scope), and so does revoking; creating acts as the signed-in user in ctx
// (app.ScopeOf). Only an owner or admin, never a key, creates or revokes
// keys, and each change writes its audit entry in the same transaction.
type APIKeyService interface {
	// CreateAPIKey stores a key ("api_key.created").
	CreateAPIKey(ctx context.Context, sc Scope, in NewAPIKey) (*APIKey, error)
	// FindAPIKeys lists a workspace's keys, revoked ones too, newest first.
	FindAPIKeys(ctx context.Context, sc Scope) ([]*APIKey, error)
	// FindAPIKey returns one of a workspace's keys; ENOTFOUND otherwise.
	FindAPIKey(ctx context.Context, sc Scope, keyID int64) (*APIKey, error)
	// RevokeAPIKey revokes a live key ("api_key.revoked").
	RevokeAPIKey(ctx context.Context, sc Scope, keyID int64) error
	// CountAPIKeysCreatedBy counts the live keys userID created in the
	// scope's workspace (the zero scope: in every workspace, for the
	// account page), which removing, demoting or deleting them revokes.
	CountAPIKeysCreatedBy(ctx context.Context, sc Scope, userID int64) (int, error)
	// RevealAPIKeySecret returns, once, the sealed secret of a key the
	// principal just created, if the reveal token's hash matches and it has
	// not expired; ENOTFOUND otherwise (shown already, expired, another's).
	RevealAPIKeySecret(ctx context.Context, sc Scope, keyID int64, tokenHash string) (string, error)
	// AuthenticateAPIKey returns the live key of a secret's hash with its
	// workspace, in one query, and notes its use (at most once per
	// APIKeyTouchEvery); ErrAPIKeyInvalid for any key that cannot be used.
	AuthenticateAPIKey(ctx context.Context, tokenHash string) (*APIKey, *Workspace, error)
}

const apiKeyKey contextKey = 100

// WithAPIKey returns a context in which the key is the principal.
func WithAPIKey(ctx context.Context, k *APIKey) context.Context {
	return context.WithValue(ctx, apiKeyKey, k)
}

// APIKeyFromContext returns the key acting in ctx, or nil.
func APIKeyFromContext(ctx context.Context) *APIKey {
	k, _ := ctx.Value(apiKeyKey).(*APIKey)
	return k
}
