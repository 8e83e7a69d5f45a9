package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"atrium/internal/config"
)

// runCheckConfig handles "atrium check-config": it validates every variable
// and the secret guard, and prints the effective settings (never secrets).
func runCheckConfig(args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("check-config", "check-config [--guard | --production]", stderr)
	guardOnly := fs.Bool("guard", false, "run only the secret guard on PUBLIC_* variables (used by 'make build')")
	production := fs.Bool("production", false, "also print the first-production checklist item by item (exit status 1 when an item fails)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *guardOnly {
		if names := config.SecretGuard(env); len(names) > 0 {
			fmt.Fprintln(stderr, (&config.GuardError{Names: names}).Error())
			return errSilent
		}
		fmt.Fprintln(stdout, "Secret guard: no PUBLIC_* variable looks like a secret.")
		return nil
	}
	cfg, err := loadConfig(env, stderr)
	if err != nil {
		return err
	}
	mailMode := "stub (emails are written to the log)"
	if !cfg.MailStub() {
		mailMode = fmt.Sprintf("smtp %s:%d (TLS %s)", cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS)
	}
	billing := "off (STRIPE_SECRET_KEY is empty)"
	if cfg.BillingEnabled() {
		billing = "test mode"
		if cfg.Stripe.LiveMode {
			billing = "LIVE mode"
		}
	}
	limiterStore := "memory"
	if cfg.RedisURL != "" {
		limiterStore = "redis"
	}
	rows := [][2]string{
		{"APP_ENV", cfg.Env},
		{"APP_URL", cfg.AppURL.String()},
		{"PORT", fmt.Sprint(cfg.Port)},
		{"DATABASE_URL", describeDB(cfg)},
		{"MIGRATE_ON_START", fmt.Sprint(cfg.MigrateOnStart)},
		{"mail", mailMode},
		{"billing", billing},
		{"rate limit", fmt.Sprintf("%d requests per %s per client (%s store); %d sign-in emails per %s per address and network, at most %d per address",
			cfg.RateLimitMax, cfg.RateLimitWindow, limiterStore, cfg.LoginRateLimitMax, cfg.LoginRateLimitWindow, cfg.LoginAddressMax)},
		{"api rate limit", fmt.Sprintf("%d requests per minute per API key (%s store)", cfg.APIRateLimitMax, limiterStore)},
		{"api bad keys", fmt.Sprintf("%d requests per minute per client network without a usable key", cfg.APIBadKeyMax)},
		{"invite mail", fmt.Sprintf("one email per invite per %s, %d resends per invite and %d invite emails per address a day",
			cfg.InviteResendInterval, cfg.InviteResendsPerDay, cfg.InviteEmailsPerAddress)},
		{"instances", clusterSummary(cfg)},
		{"two-factor", twoFactorSummary(cfg)},
		{"indexing", map[bool]string{true: "off (DISABLE_INDEXING=true: noindex, robots.txt disallows all)", false: "on (robots.txt allows the public pages)"}[cfg.DisableIndexing]},
		{"PUBLIC_APP_NAME", cfg.AppName},
		{"PUBLIC_CONTACT_EMAIL", cfg.ContactEmail},
	}
	for _, r := range rows {
		fmt.Fprintf(stdout, "  %-21s %s\n", r[0], r[1])
	}
	if !printCatalog(stdout, cfg) {
		return errSilent
	}
	fmt.Fprintln(stdout, "Configuration OK.")
	if *production {
		fmt.Fprintln(stdout)
		if !printProductionChecks(stdout, productionChecks(context.Background(), cfg, dialSMTP)) {
			return errSilent
		}
	}
	return nil
}

// twoFactorSummary says where passkeys belong and what seals
// authenticator secrets. Passkeys need a host name: WebAuthn refuses an IP
// address as the relying party.
func twoFactorSummary(cfg *config.Config) string {
	passkeys := "passkeys for " + cfg.AppURL.Hostname()
	if net.ParseIP(cfg.AppURL.Hostname()) != nil {
		passkeys = "passkeys OFF (APP_URL's host is an IP address; use a host name, e.g. localhost)"
	}
	key := "authenticator secrets sealed with TWO_FACTOR_KEY"
	if cfg.TwoFactorKey == "" {
		key = "authenticator secrets sealed with a key kept in the database (set TWO_FACTOR_KEY in production)"
	}
	return passkeys + "; " + key
}

// seats formats a seat limit (0 is unlimited).
func seats(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

// redactURL hides the password of a URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "unparsable URL"
	}
	s := u.Redacted()
	if q := u.Query(); q.Has("password") {
		s = strings.Replace(s, "password="+url.QueryEscape(q.Get("password")), "password=xxxxx", 1)
	}
	return s
}
