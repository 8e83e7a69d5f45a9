package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/store"
)

const staffSynopsis = `staff grant --email EMAIL | staff revoke --email EMAIL | staff list

  grant   let a user open the operator console (/admin); they need two-factor sign-in
          (a passkey or an authenticator app) before it opens
  revoke  take the console away (any "view as" of theirs ends)
  list    who is staff`

// runStaff handles "atrium staff grant|revoke|list": who may open the
// operator console. Grants and revocations go to the system audit log.
func runStaff(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("staff", staffSynopsis, stderr)
	email := fs.String("email", "", "the user's `email` address")
	action, err := parseAction(fs, args, "an action: grant, revoke or list")
	if err != nil {
		return err
	}
	switch {
	case action != "grant" && action != "revoke" && action != "list":
		return usagef("staff: unknown action %q (want grant, revoke or list)", action)
	case fs.NArg() > 0:
		return usagef("staff %s takes no arguments", action)
	case action == "list" && *email != "":
		return usagef("staff list takes no --email")
	case action != "list" && strings.TrimSpace(*email) == "":
		return usagef("staff %s needs --email EMAIL", action)
	}
	cfg, db, err := openConfigured(ctx, env, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	return staffCommand(ctx, cfg, store.NewAdminService(db), action, *email, stdout)
}

// staffCommand runs one staff action and says what it did and what to do
// next.
func staffCommand(ctx context.Context, cfg *config.Config, svc app.StaffService, action, email string, stdout io.Writer) error {
	console := cfg.AppURL.String() + "/admin"
	switch action {
	case "list":
		list, err := svc.ListStaff(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(stdout, "No staff yet. Grant the console with: atrium staff grant --email EMAIL")
			return nil
		}
		for _, m := range list {
			fmt.Fprintf(stdout, "%s\tgranted %s\t%s\n", m.Email, m.GrantedAt.Format("2006-01-02"),
				twoFactorWord(m.TwoFactor))
		}
		return nil
	case "grant":
		m, err := svc.GrantStaff(ctx, email)
		if err != nil {
			return staffError(err)
		}
		fmt.Fprintf(stdout, "%s is staff: they can open the operator console at %s.\n", m.Email, console)
		if !m.TwoFactor {
			fmt.Fprintln(stdout, "They have no second factor yet: the console stays closed until they add a passkey or an authenticator app at /settings/account and sign in with it.")
		} else {
			fmt.Fprintln(stdout, "The console opens in a session signed in with their passkey or authenticator app.")
		}
		fmt.Fprintf(stdout, "The grant is in the audit log as %s (no workspace).\n", app.ActionStaffGranted)
	case "revoke":
		m, err := svc.RevokeStaff(ctx, email)
		if err != nil {
			return staffError(err)
		}
		fmt.Fprintf(stdout, "%s is no longer staff: /admin answers 404 for them from their next request, and any view as a user of theirs ended.\n", m.Email)
		fmt.Fprintf(stdout, "The revocation is in the audit log as %s (no workspace).\n", app.ActionStaffRevoked)
	}
	return nil
}

func twoFactorWord(on bool) string {
	if on {
		return "two-factor on"
	}
	return "no two-factor yet (the console stays closed)"
}

// staffError words a refused grant or revocation for the terminal.
func staffError(err error) error {
	switch app.ErrorCode(err) {
	case app.ENOTFOUND, app.ECONFLICT, app.EINVALID:
		return fmt.Errorf("%s Nothing was changed", app.ErrorMessage(err))
	}
	return err
}
