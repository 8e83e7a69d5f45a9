package app

import (
	"context"
	"time"
)

// Sign-in with an identity provider (Google, Microsoft, GitHub or any
// OpenID Connect issuer). The provider proves who the person is there;
// Atrium keeps the provider's (issuer, subject) pair as a linked identity
// of one user and never matches a person by email alone.

// PurposeOIDC is a sign-in (or link) at an identity provider in flight:
// the state, nonce and PKCE verifier of one authorization request.
const PurposeOIDC = "oidc"

// OIDCTTL is how long a person has to finish at the provider.
const OIDCTTL = 10 * time.Minute

// MethodOIDC is the sign-in method of a session started by an identity
// provider. It proves the person's account there, not a second factor of
// theirs here: a user with one still gives it after.
const MethodOIDC = "oidc"

// Provider kinds.
const (
	// ProviderOIDC is any OpenID Connect issuer found through discovery.
	ProviderOIDC = "oidc"
	// ProviderGoogle is Google's OpenID Connect issuer.
	ProviderGoogle = "google"
	// ProviderMicrosoft is Microsoft Entra ID's multi-tenant ("common")
	// endpoint: the issuer names the tenant of each token.
	ProviderMicrosoft = "microsoft"
	// ProviderGitHub is GitHub's OAuth 2 apps with its user and emails API.
	ProviderGitHub = "github"
)

// ExternalIdentity is who an identity provider says signed in, after the
// tokens were verified.
type ExternalIdentity struct {
	// Provider is the configured provider's name ("google").
	Provider string
	// Issuer and Subject name the person at the provider; together they
	// are the identity.
	Issuer  string
	Subject string
	// Email is the address the provider gives, normalized; "" when none.
	Email string
	// EmailVerified reports that the provider vouches the person controls
	// Email: only then may the identity sign in to, or create, the account
	// of that address.
	EmailVerified bool
	// Name is the person's display name at the provider, maybe "".
	Name string
	// AMR are the ID token's authentication methods ("amr"), maybe none.
	AMR []string
}

// Identity is an identity linked to a user, as the account page lists it.
type Identity struct {
	ID         int64
	UserID     int64
	Provider   string
	Issuer     string
	Subject    string
	Email      string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// IdentitySignIn is the result of signing in with an identity.
type IdentitySignIn struct {
	User *User
	// NewUser reports that the sign-in created the account.
	NewUser bool
	// Linked reports that the identity was linked to the user by this
	// sign-in (first use, email verified).
	Linked bool
}

// IdentityService keeps linked identities and signs in with them. Every
// change writes its audit entry, and queues its notice email, in the same
// transaction.
type IdentityService interface {
	// SignInWithIdentity signs in with a verified identity: the user it is
	// linked to; otherwise, when the provider vouches for the email, the
	// user with that address (created like a first magic-link sign-in
	// when missing), to whom it links the identity. Without a verified
	// email it changes nothing and returns ErrIdentityEmailUnverified.
	// Like CompleteLogin it starts a session, or, for a user with a
	// second factor, stores a pending sign-in under ns.PendingHash and
	// returns ErrSecondFactorRequired with the result.
	SignInWithIdentity(ctx context.Context, id ExternalIdentity, next string, ns NewSession) (*IdentitySignIn, error)
	// LinkIdentity links an identity to a signed-in user
	// ("identity.linked"): ECONFLICT when it belongs to another user or is
	// already theirs.
	LinkIdentity(ctx context.Context, userID int64, id ExternalIdentity) (*Identity, error)
	// FindIdentities lists a user's linked identities, oldest first.
	FindIdentities(ctx context.Context, userID int64) ([]*Identity, error)
	// UnlinkIdentity removes one of the user's identities
	// ("identity.unlinked"); another user's id answers ENOTFOUND.
	UnlinkIdentity(ctx context.Context, userID, identityID int64) (*Identity, error)
}

// Identity provider failures, each with a sentence for the person.
var (
	// ErrIdentityEmailUnverified refuses an identity without a verified
	// address: it may not create an account or join one by email.
	ErrIdentityEmailUnverified = &Error{Code: EFORBIDDEN,
		Message: "The provider did not confirm that this email address is yours, so it can’t sign you in yet."}
	// ErrIdentityTaken refuses to link an identity another user has.
	ErrIdentityTaken = &Error{Code: ECONFLICT,
		Message: "That account is already linked to another user here. Sign in with it to use that user, or unlink it there first."}
	// ErrIdentityAlreadyLinked refuses to link an identity twice.
	ErrIdentityAlreadyLinked = &Error{Code: ECONFLICT, Message: "That account is already linked to yours."}
	// ErrIdentityUnknown answers an identity id that is not the user's.
	ErrIdentityUnknown = &Error{Code: ENOTFOUND, Message: "That linked account is not on your account any more."}
)
