package app

import "context"

// ErrOwnTwoFactorFirst refuses to require two-factor sign-in of a
// workspace's members while the owner asking has none: they would lock
// themselves out.
var ErrOwnTwoFactorFirst = &Error{Code: EINVALID, Field: "required",
	Message: "Set up two-factor sign-in for your own account first."}

// CanSetTwoFactorPolicy: owners only; turning the policy on also needs a
// second factor of the owner's own (hasTwoFactor).
func CanSetTwoFactorPolicy(actor Role, required, hasTwoFactor bool) error {
	switch {
	case actor != RoleOwner:
		return Errorf(EFORBIDDEN, "Only an owner can change the two-factor policy.")
	case required && !hasTwoFactor:
		return ErrOwnTwoFactorFirst
	}
	return nil
}

// MaxResetReasonLength bounds the reason an operator gives for resetting
// someone's two-factor sign-in.
const MaxResetReasonLength = 200

// ValidateResetReason cleans the reason of a two-factor reset, which is
// required.
func ValidateResetReason(reason string) (string, error) {
	reason, err := CleanText("reason", "reason", reason, MaxResetReasonLength)
	if err != nil {
		return "", err
	}
	if reason == "" {
		return "", FieldErrorf("reason", "Give the reason for the reset (for example, the support ticket).")
	}
	return reason, nil
}

// KeyWithoutTwoFactor is a live API key whose creator has no second factor
// (or no account any more): requiring two-factor sign-in of members does
// not reach it, so turning the policy on offers to revoke it.
type KeyWithoutTwoFactor struct {
	ID           int64
	Name         string
	Prefix       string
	CreatorName  string
	CreatorEmail string // "" when the creator's account is gone
}

// Creator names who made the key.
func (k *KeyWithoutTwoFactor) Creator() string {
	switch {
	case k.CreatorName != "":
		return k.CreatorName
	case k.CreatorEmail != "":
		return k.CreatorEmail
	}
	return "a former member"
}

// WorkspaceTwoFactorService manages a workspace's two-factor policy (owners
// only). Every method takes the Scope it acts in, and its statements
// enforce that scope (see Scope).
type WorkspaceTwoFactorService interface {
	// CountMembersWithoutTwoFactor counts the members who have no second
	// factor: whom requiring one would keep out.
	CountMembersWithoutTwoFactor(ctx context.Context, sc Scope) (int, error)
	// SetTwoFactorRequired turns the workspace's two-factor policy on or
	// off (owners only). Turning it on is refused (EINVALID) while the
	// principal has no second factor themselves.
	SetTwoFactorRequired(ctx context.Context, sc Scope, required bool) error
	// FindKeysWithoutTwoFactor lists the workspace's live API keys whose
	// creator has no second factor (or no account any more).
	FindKeysWithoutTwoFactor(ctx context.Context, sc Scope) ([]*KeyWithoutTwoFactor, error)
	// RequireTwoFactor turns the policy on (as SetTwoFactorRequired) and,
	// in the same transaction, revokes the listed keys among those
	// FindKeysWithoutTwoFactor returns ("api_key.revoked"); any other id
	// is ENOTFOUND and changes nothing. It returns how many it revoked.
	RequireTwoFactor(ctx context.Context, sc Scope, revokeIDs []int64) (int, error)
}
