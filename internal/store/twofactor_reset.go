package store

import (
	"context"

	"atrium/internal/app"
)

// ResetTwoFactor removes every factor of a user.
func (s *TwoFactorService) ResetTwoFactor(ctx context.Context, email, reason string, msg app.Email) (*app.TwoFactorReset, error) {
	return nil, app.Errorf(app.EINTERNAL, "not implemented")
}
