package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"atrium/internal/app"
)

// ResetTwoFactor removes every second factor of the user with that email
// (their authenticator app, passkeys and recovery codes), lifts a code
// entry lock and drops their pending second-factor sign-ins, in one
// transaction with the "two_factor.reset" entry, which records no actor
// (an operator on the command line) and the reason. msg, addressed to the
// user, is queued in the same transaction. The counts are what was
// removed: whether a confirmed authenticator app, how many passkeys, how
// many unused recovery codes; Sessions, how many sessions signOut ended
// (or, without it, how many stay signed in).
func (s *TwoFactorService) ResetTwoFactor(ctx context.Context, email, reason string, signOut bool, msg app.Email) (*app.TwoFactorReset, error) {
	email, err := app.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if reason, err = app.ValidateResetReason(reason); err != nil {
		return nil, err
	}
	var out *app.TwoFactorReset
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := scanUser(s.db.queryRow(ctx, tx, qUserByEmail, email))
		if err != nil {
			return notFound(err, app.Errorf(app.ENOTFOUND, "No user has the email address %s.", email), "find user")
		}
		res := &app.TwoFactorReset{User: u.toApp()}
		var totp, codes int64
		if err := s.db.queryRow(ctx, tx, qFactorsLeft, u.ID, u.ID).Scan(&totp, &codes); err != nil {
			return fmt.Errorf("count factors of user %d: %w", u.ID, err)
		}
		res.TOTP, res.RecoveryCodes = totp > 0, int(codes)
		for _, del := range []struct{ table, where string }{
			{"user_totp", "user_id = ?"},
			{"passkeys", "user_id = ?"},
			{"recovery_codes", "user_id = ?"},
			{"two_factor_locks", "user_id = ?"},
			{"auth_challenges", "user_id = ? AND purpose = '" + app.PurposeSecondFactor + "'"},
		} {
			d := tx.Exec("DELETE FROM "+del.table+" WHERE "+del.where, u.ID)
			if d.Error != nil {
				return fmt.Errorf("reset two-factor of user %d: delete %s: %w", u.ID, del.table, d.Error)
			}
			if del.table == "passkeys" {
				res.Passkeys = int(d.RowsAffected)
			}
		}
		if err := tx.Model(&userRecord{}).Where("id = ?", u.ID).
			Updates(map[string]any{"two_factor": false, "updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("reset two-factor of user %d: %w", u.ID, err)
		}
		res.User.TwoFactor = false
		var n int64
		if signOut {
			d := tx.Where("user_id = ?", u.ID).Delete(&sessionRecord{})
			if d.Error != nil {
				return fmt.Errorf("reset two-factor of user %d: end sessions: %w", u.ID, d.Error)
			}
			n = d.RowsAffected
		} else if err := s.db.queryRow(ctx, tx, qLiveSessions, u.ID, s.db.now()).Scan(&n); err != nil {
			return fmt.Errorf("reset two-factor of user %d: count sessions: %w", u.ID, err)
		}
		res.Sessions = int(n)
		md := map[string]any{"email": u.Email, "reason": reason,
			"passkeys": res.Passkeys, "totp": res.TOTP, "recovery_codes": res.RecoveryCodes}
		if signOut {
			md["sessions_ended"] = res.Sessions
		}
		if err := s.db.audit(ctx, tx, app.AuditEntry{Action: app.ActionTwoFactorReset, ActorName: "An operator", TargetType: "user",
			TargetID: fmt.Sprint(u.ID), Metadata: md}); err != nil {
			return err
		}
		msg.To = u.Email
		if err := s.db.enqueueEmail(tx, msg); err != nil {
			return err
		}
		out = res
		return nil
	})
	return out, err
}
