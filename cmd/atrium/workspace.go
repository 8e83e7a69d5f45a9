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

const workspaceSynopsis = `workspace sso-off --slug SLUG --reason TEXT

  sso-off  stop requiring single sign-on in a workspace whose members are locked out by it
           (RUNBOOK.md, "A customer locked out by single sign-on"); the connection and the
           verified domains stay, so its owners can turn it back on from the settings page`

// runWorkspace handles "atrium workspace sso-off": support actions on one
// workspace. Each goes to the workspace's audit log with the reason.
func runWorkspace(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("workspace", workspaceSynopsis, stderr)
	slug := fs.String("slug", "", "the workspace's `slug` (its address, /w/SLUG)")
	reason := fs.String("reason", "", "why, for the audit log (`text`), e.g. the support ticket")
	action, err := parseAction(fs, args, "an action: sso-off")
	if err != nil {
		return err
	}
	switch {
	case action != "sso-off":
		return usagef("workspace: unknown action %q (want sso-off)", action)
	case fs.NArg() > 0:
		return usagef("workspace sso-off takes no arguments")
	case strings.TrimSpace(*slug) == "":
		return usagef("workspace sso-off needs --slug SLUG")
	case strings.TrimSpace(*reason) == "":
		return usagef("workspace sso-off needs --reason TEXT (say why, e.g. the support ticket)")
	}
	cfg, db, err := openConfigured(ctx, env, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	// Turning the requirement off opens no sealed secret: no key needed.
	return ssoOff(ctx, cfg, store.NewSSOService(db, nil, cfg.Plans), strings.TrimSpace(*slug), *reason, stdout)
}

// ssoOff turns off "require single sign-on" and says what changed.
func ssoOff(ctx context.Context, cfg *config.Config, svc app.SSOService, slug, reason string, stdout io.Writer) error {
	ws, err := svc.DisableSSO(ctx, slug, reason)
	if err != nil {
		switch app.ErrorCode(err) {
		case app.ENOTFOUND, app.ECONFLICT, app.EINVALID:
			return fmt.Errorf("%s Nothing was changed", app.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(stdout, "%s (%s) no longer requires single sign-on: its members can open it after signing in with an email link.\n",
		ws.Name, ws.Slug)
	fmt.Fprintln(stdout, "Addresses in its verified domains are still sent to its identity provider by the sign-in page; they can ask for an email link instead (/login?via=link).")
	fmt.Fprintf(stdout, "An owner can turn it back on at %s/w/%s/settings/sso once the provider works.\n", cfg.AppURL.String(), ws.Slug)
	fmt.Fprintf(stdout, "The change is in the workspace's audit log as %s.\n", app.ActionSSODisabled)
	return nil
}
