package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/internal/store"
)

const userSynopsis = `user reset-2fa --email EMAIL --reason TEXT [--sign-out]

  reset-2fa  remove a user's authenticator app, passkeys and recovery codes and lift a code lock,
             after you have checked who is asking (RUNBOOK.md, "Reset a user's two-factor sign-in");
             they are emailed, sign in with an email link and set up two-factor again`

// runUser handles "atrium user reset-2fa": support actions on one user's
// account.
func runUser(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("user", userSynopsis, stderr)
	email := fs.String("email", "", "the user's `email` address")
	signOut := fs.Bool("sign-out", false, "also end every session of the user: do it when the account may be compromised")
	reason := fs.String("reason", "", "why, for the audit log and the user's email (`text`, at most 200 characters), e.g. the ticket")
	action, err := parseAction(fs, args, "an action: reset-2fa")
	if err != nil {
		return err
	}
	switch {
	case action != "reset-2fa":
		return usagef("user: unknown action %q (want reset-2fa)", action)
	case fs.NArg() > 0:
		return usagef("user reset-2fa takes no arguments")
	case strings.TrimSpace(*email) == "":
		return usagef("user reset-2fa needs --email EMAIL")
	case strings.TrimSpace(*reason) == "":
		return usagef("user reset-2fa needs --reason TEXT (say why, e.g. the support ticket)")
	}
	cfg, db, err := openConfigured(ctx, env, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	return resetTwoFactor(ctx, cfg, store.NewTwoFactorService(db, nil), store.NewUserService(db), *email, *reason, *signOut, stdout)
}

// twoFactorResetter is the part of app.TwoFactorService the command uses.
type twoFactorResetter interface {
	ResetTwoFactor(ctx context.Context, email, reason string, signOut bool, msg app.Email) (*app.TwoFactorReset, error)
}

// userFinder finds the user the email goes to, for their language.
type userFinder interface {
	FindUserByEmail(ctx context.Context, email string) (*app.User, error)
}

// resetTwoFactor resets one user's two-factor sign-in and says what it
// removed and what happens next; the user is told by email in their saved
// language (else English). The reset opens no sealed secret, so the
// service needs no key.
func resetTwoFactor(ctx context.Context, cfg *config.Config, svc twoFactorResetter, users userFinder, email, reason string, signOut bool, stdout io.Writer) error {
	to, err := app.NormalizeEmail(email)
	if err != nil {
		return usagef("user reset-2fa: --email %q: %s", email, app.ErrorMessage(err))
	}
	clean, err := app.ValidateResetReason(reason)
	if err != nil {
		return usagef("user reset-2fa: --reason: %s", app.ErrorMessage(err))
	}
	login := cfg.AppURL.String() + "/login?" + url.Values{"email": {to}, "next": {"/settings/account"}}.Encode()
	var lang string
	if u, err := users.FindUserByEmail(ctx, to); err == nil {
		lang = u.Language
	}
	catalog := i18n.MustNew(i18n.Options{})
	msg := mail.TwoFactorResetEmail(catalog.Printer(catalog.Match(lang, "")), cfg.AppName, to, clean, login)
	res, err := svc.ResetTwoFactor(ctx, to, clean, signOut, msg)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return fmt.Errorf("%s Check the address with the person asking; nothing was changed", app.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Reset two-factor sign-in for %s: removed %s.\n", res.User.Email, removedText(res))
	fmt.Fprintln(stdout, "They were emailed; they sign in with an email link and set up two-factor again at /settings/account.")
	switch {
	case signOut:
		fmt.Fprintf(stdout, "Ended %s: every device needs a new sign-in link.\n", plural(res.Sessions, "signed-in session", "signed-in sessions"))
	case res.Sessions > 0:
		fmt.Fprintf(stdout, "Still signed in: %s; run again with --sign-out if the account may be compromised.\n",
			plural(res.Sessions, "session", "sessions"))
	}
	fmt.Fprintf(stdout, "The reset is in the audit log as %s (no workspace), with the reason.\n", app.ActionTwoFactorReset)
	return nil
}

// removedText lists what a reset removed: "the authenticator app, 2
// passkeys and 7 recovery codes", or "nothing (no second factor was set up)".
func removedText(res *app.TwoFactorReset) string {
	var parts []string
	if res.TOTP {
		parts = append(parts, "the authenticator app")
	}
	if res.Passkeys > 0 {
		parts = append(parts, plural(res.Passkeys, "passkey", "passkeys"))
	}
	if res.RecoveryCodes > 0 {
		parts = append(parts, plural(res.RecoveryCodes, "recovery code", "recovery codes"))
	}
	switch len(parts) {
	case 0:
		return "nothing (no second factor was set up; any code lock is lifted)"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// plural counts n things: "1 passkey", "2 passkeys".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
