package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"atrium/internal/config"
)

// productionCheck is one item of the first-production checklist: ok, or
// what to do about it. manual items cannot be checked from the settings
// and are for the operator to confirm.
type productionCheck struct {
	item   string
	ok     bool
	manual bool
	advice string
}

// productionChecks reviews a configuration for a first production start.
// dial reaches the SMTP server (a test may replace it).
func productionChecks(ctx context.Context, cfg *config.Config, dial func(ctx context.Context, addr string) error) []productionCheck {
	var checks []productionCheck
	add := func(item string, ok bool, advice string) {
		checks = append(checks, productionCheck{item: item, ok: ok, advice: advice})
	}
	add("APP_ENV is production", cfg.IsProduction(),
		"set APP_ENV=production: it refuses stub mail and the demo seed, and hides the demo billing")
	https := cfg.AppURL != nil && cfg.AppURL.Scheme == "https"
	add("APP_URL is an https address", https,
		"set APP_URL to the public https address people use (cookies are only marked Secure on https)")
	if https {
		host := cfg.AppURL.Hostname()
		add("APP_URL names a host, not localhost or an IP address",
			host != "localhost" && net.ParseIP(host) == nil,
			"use the public host name: passkeys and links in emails carry it")
	}
	add("TWO_FACTOR_KEY is set (the sealing key lives outside the database)", cfg.TwoFactorKey != "",
		"generate one with 'openssl rand -base64 48' and keep it with the other secrets, not in the database's backups")
	add("mail goes through SMTP", !cfg.MailStub(), "set SMTP_HOST, SMTP_PORT, SMTP_USERNAME/SMTP_PASSWORD and SMTP_FROM")
	if !cfg.MailStub() {
		addr := net.JoinHostPort(cfg.SMTP.Host, strconv.Itoa(cfg.SMTP.Port))
		err := dial(ctx, addr)
		advice := ""
		if err != nil {
			advice = fmt.Sprintf("%s did not answer (%v): check the host, the port and the firewall", addr, err)
		}
		add("the SMTP server "+addr+" answers", err == nil, advice)
	}
	if cfg.BillingEnabled() {
		add("STRIPE_WEBHOOK_SECRET is set", cfg.Stripe.WebhookSecret != "",
			"copy the signing secret of the webhook endpoint from Stripe's dashboard (RUNBOOK \"Setting up the webhook\")")
	}
	add("TRUSTED_PROXIES names the reverse proxy", len(cfg.TrustedProxies) > 0,
		"set it to the proxy's address (e.g. 127.0.0.1 for Caddy on the same host): without it every visitor shares the proxy's rate limits")
	checks = append(checks,
		productionCheck{item: "backups are scheduled", manual: true,
			advice: "run 'atrium backup' at least daily from a timer and copy the file off the machine (RUNBOOK \"Backup and restore\")"},
		productionCheck{item: "a restore was tried", manual: true,
			advice: "restore last night's backup into a scratch DATABASE_URL once before you need it ('atrium restore FILE')"})
	return checks
}

// printProductionChecks prints the checklist and reports whether every
// checkable item passed.
func printProductionChecks(w io.Writer, checks []productionCheck) bool {
	passed := true
	fmt.Fprintln(w, "First-production checklist:")
	for _, c := range checks {
		mark := "ok  "
		switch {
		case c.manual:
			mark = "todo"
		case !c.ok:
			mark, passed = "FAIL", false
		}
		fmt.Fprintf(w, "  [%s] %s\n", mark, c.item)
		if (c.manual || !c.ok) && c.advice != "" {
			fmt.Fprintf(w, "         %s\n", c.advice)
		}
	}
	if passed {
		fmt.Fprintln(w, "Every setting is ready for production; confirm the 'todo' items by hand.")
	} else {
		fmt.Fprintln(w, "Fix the FAIL items above, then run 'atrium check-config --production' again.")
	}
	return passed
}

// dialSMTP opens and closes a TCP connection to addr.
func dialSMTP(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}
