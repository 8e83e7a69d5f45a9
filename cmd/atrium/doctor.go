package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/internal/server"
	"atrium/internal/store"
	"atrium/internal/wire"
)

// Check outcomes, as doctor prints them.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "FAIL"
)

// checkTimeout bounds each check that talks to another server.
const checkTimeout = 15 * time.Second

// doctor prints one line per check, with the fix under each warning and
// failure, and counts the outcomes.
type doctor struct {
	out    io.Writer
	counts map[string]int
	now    time.Time
}

func (d *doctor) report(status, name, msg, fix string) {
	d.counts[status]++
	fmt.Fprintf(d.out, "%-4s  %-13s %s\n", status, name, msg)
	if fix != "" && status != checkOK {
		fmt.Fprintf(d.out, "      %-13s fix: %s\n", "", fix)
	}
}

// runDoctor handles "atrium doctor [--send-test-invite EMAIL]": the
// runbook's routine checks in one command. It exits 1 when a check fails.
func runDoctor(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor", "doctor [--send-test-invite EMAIL]\n\n"+
		"  Checks the configuration, secret guard, database and migrations, audit log, SMTP, Stripe\n"+
		"  and rate limiting, printing ok, warn or FAIL with the fix. Exits 1 when a check fails.", stderr)
	testTo := fs.String("send-test-invite", "", "also send a test invite email (it grants nothing) to `EMAIL`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("doctor takes no arguments")
	}
	if *testTo != "" {
		addr, err := app.NormalizeEmail(*testTo)
		if err != nil {
			return usagef("doctor: --send-test-invite %q: %s", *testTo, app.ErrorMessage(err))
		}
		*testTo = addr
	}
	d := &doctor{out: stdout, counts: map[string]int{}, now: time.Now().UTC()}
	fmt.Fprintf(stdout, "atrium %s doctor\n", version)
	cfg := d.checkConfig(env)
	if cfg != nil {
		d.checkDatabase(ctx, cfg)
		d.checkSMTP(ctx, cfg, *testTo)
		d.checkStripe(cfg)
		d.checkPrices(ctx, cfg, newPriceReader(cfg))
		d.checkRateLimit(ctx, cfg)
	}
	fmt.Fprintf(stdout, "%d ok, %d warning(s), %d failure(s).\n", d.counts[checkOK], d.counts[checkWarn], d.counts[checkFail])
	if d.counts[checkFail] > 0 {
		return errSilent
	}
	return nil
}

// checkConfig runs the secret guard and validates the configuration. A
// guard failure does not stop the other checks: they run without the
// offending PUBLIC_* variables.
func (d *doctor) checkConfig(env config.Env) *config.Config {
	names := config.SecretGuard(env)
	if len(names) == 0 {
		d.report(checkOK, "secret guard", "no PUBLIC_* variable looks like a secret", "")
	} else {
		d.report(checkFail, "secret guard", config.GuardMessage+": "+strings.Join(names, ", "),
			"remove the PUBLIC_ prefix from these variables (PUBLIC_* values are sent to browsers) or move the value to a server-only variable")
		clean := config.Env{}
		for k, v := range env {
			if !slices.Contains(names, k) {
				clean[k] = v
			}
		}
		env = clean
	}
	cfg, err := config.Load(env)
	if err != nil {
		var ve *config.ValidationError
		msg := err.Error()
		if errors.As(err, &ve) {
			var lines []string
			for _, p := range ve.Problems {
				lines = append(lines, p.String())
			}
			msg = strings.Join(lines, "; ")
		}
		d.report(checkFail, "config", msg, "fix the variables named (see .env.example), then run 'atrium check-config'; the other checks need a valid configuration")
		return nil
	}
	d.report(checkOK, "config", "every variable is valid (APP_ENV="+cfg.Env+")", "")
	return cfg
}

// checkDatabase checks that the database answers, its migrations, and
// that the audit log reads back.
func (d *doctor) checkDatabase(ctx context.Context, cfg *config.Config) {
	if cfg.Database.Driver == config.DriverSQLite {
		if _, err := os.Stat(cfg.Database.DSN); err != nil {
			d.report(checkFail, "database", fmt.Sprintf("no database file at %s", cfg.Database.DSN),
				"check DATABASE_URL; for a new install run 'atrium migrate up' (or start the app) to create it")
			return
		}
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	db, err := openDB(ctx, cfg)
	if err != nil {
		d.report(checkFail, "database", err.Error(), "check DATABASE_URL, that the server runs and accepts this user, and the network path to it")
		return
	}
	defer db.Close()
	d.report(checkOK, "database", "reachable: "+describeDB(cfg), "")

	st, err := db.MigrationStatus(ctx)
	if err != nil {
		d.report(checkFail, "migrations", err.Error(), "run 'atrium migrate status' for details")
		return
	}
	pending := 0
	for _, s := range st {
		if !s.Applied {
			pending++
		}
	}
	switch {
	case pending == 0:
		d.report(checkOK, "migrations", fmt.Sprintf("all %d applied", len(st)), "")
	case cfg.MigrateOnStart:
		d.report(checkWarn, "migrations", fmt.Sprintf("%d of %d pending (/readyz answers 503 until they are applied)", pending, len(st)),
			"run 'atrium migrate up', or restart the app: serve applies them at start (MIGRATE_ON_START=true)")
	default:
		d.report(checkFail, "migrations", fmt.Sprintf("%d of %d pending and MIGRATE_ON_START=false", pending, len(st)),
			"run 'atrium migrate up'")
	}

	entries, err := store.NewAuditService(db).FindAuditEntries(ctx, app.AuditFilter{Limit: 50})
	switch {
	case err != nil && pending > 0:
		d.report(checkWarn, "audit log", "unknown until the pending migrations are applied", "run 'atrium migrate up'")
	case err != nil:
		d.report(checkFail, "audit log", "the latest entries cannot be read: "+err.Error(), "run 'atrium migrate status'; look for ERROR lines in the app log")
	case len(entries) == 0:
		d.report(checkWarn, "audit log", "no entries yet", "sign in once (auth.signed_in is recorded); an empty log on a used app means writes fail")
	default:
		e := entries[0]
		d.report(checkOK, "audit log", fmt.Sprintf("%d latest entries readable; newest %s ago (%s)",
			len(entries), ago(d.now.Sub(e.CreatedAt)), e.Action), "")
	}

	if pending == 0 {
		d.checkAuditChain(ctx, db)
		d.checkTwoFactor(ctx, cfg, db)
		d.checkJobs(ctx, db)
	}

	ev, err := db.LastStripeEvent(ctx)
	if err != nil && pending > 0 {
		d.report(checkWarn, "last webhook", "unknown until the pending migrations are applied", "run 'atrium migrate up'")
		return
	}
	d.checkWebhook(cfg, ev, err)
}

// checkTwoFactor checks that passkeys can work at APP_URL and that the
// key opens the authenticator secrets (a restore or a changed
// TWO_FACTOR_KEY would make every code fail).
func (d *doctor) checkTwoFactor(ctx context.Context, cfg *config.Config, db *store.DB) {
	const name = "two-factor"
	key, err := wire.TwoFactorKey(ctx, cfg, db)
	if err != nil {
		d.report(checkFail, name, err.Error(), "run 'atrium migrate up'")
		return
	}
	apps, err := store.NewTwoFactorService(db, key).CheckKey(ctx)
	opened := fmt.Sprintf("%d authenticator app(s) on; the key opens their secrets", apps)
	switch {
	case err != nil:
		d.report(checkFail, name, fmt.Sprintf("the key does not open the authenticator secrets (%d app(s) on): %v", apps, err),
			"set TWO_FACTOR_KEY to the value they were sealed with; see RUNBOOK.md, \"The key that seals authenticator secrets\"")
	case net.ParseIP(cfg.AppURL.Hostname()) != nil:
		d.report(checkWarn, name, "passkeys are off: APP_URL's host "+cfg.AppURL.Hostname()+" is an IP address; "+opened,
			"set APP_URL to the host name people use (passkeys belong to it)")
	case cfg.TwoFactorKey == "" && cfg.IsProduction():
		d.report(checkWarn, name, fmt.Sprintf("%d authenticator app(s) on, sealed with a key kept in the database", apps),
			"set TWO_FACTOR_KEY (at least 32 characters) outside the database and its backups")
	default:
		d.report(checkOK, name, opened, "")
	}
}

// jobsLate is how long a due job may wait before doctor warns: longer
// means no instance works the queue, or it is swamped.
const jobsLate = 5 * time.Minute

// checkJobs reports the job queue: what waits, and whether anything due
// waits too long or was given up.
func (d *doctor) checkJobs(ctx context.Context, db *store.DB) {
	const name = "job queue"
	qs, err := db.JobStats(ctx)
	if err != nil {
		d.report(checkFail, name, "cannot be read: "+err.Error(), "run 'atrium migrate status'")
		return
	}
	var waiting, running, givenUp int
	var late []string
	for _, q := range qs {
		waiting, running, givenUp = waiting+q.Waiting, running+q.Running, givenUp+q.GivenUp
		if !q.OldestDue.IsZero() && d.now.Sub(q.OldestDue) > jobsLate {
			late = append(late, fmt.Sprintf("%s (oldest due %s ago)", q.Queue, ago(d.now.Sub(q.OldestDue))))
		}
	}
	summary := fmt.Sprintf("%d waiting, %d running, %d given up", waiting, running, givenUp)
	switch {
	case len(late) > 0:
		d.report(checkWarn, name, summary+"; late: "+strings.Join(late, ", "),
			"check that 'atrium serve' runs; see RUNBOOK.md, \"Jobs are piling up\"")
	case givenUp > 0:
		d.report(checkWarn, name, summary, "'atrium jobs list --state discarded' shows why; 'atrium jobs retry ID' runs one again")
	default:
		d.report(checkOK, name, summary, "")
	}
}

// doctorVerifyRows bounds the audit chain check, so doctor stays fast.
const doctorVerifyRows = 20000

// checkAuditChain verifies the newest entries of the audit log's chains
// and reports how many heads there are (atrium audit head prints them).
func (d *doctor) checkAuditChain(ctx context.Context, db *store.DB) {
	reps, err := db.VerifyAudit(ctx, store.VerifyOptions{Limit: doctorVerifyRows})
	if err != nil {
		d.report(checkFail, "audit chain", err.Error(), "run 'atrium audit verify' for details")
		return
	}
	var rows int64
	for _, r := range reps {
		rows += r.Checked
		if r.Break != nil {
			d.report(checkFail, "audit chain", fmt.Sprintf("chain %s breaks at entry %d (%s)", chainName(r.WorkspaceID, r.Slug),
				r.Break.ID, r.Break.Field), "see RUNBOOK.md, \"Suspect the log was altered\"; run 'atrium audit verify'")
			return
		}
	}
	d.report(checkOK, "audit chain", fmt.Sprintf("newest %d entries verify in %d chain(s); 'atrium audit head' prints the heads to record",
		rows, len(reps)), "")
}

// checkWebhook reports the last Stripe event the webhook recorded.
func (d *doctor) checkWebhook(cfg *config.Config, ev *store.StripeEventSummary, err error) {
	const name = "last webhook"
	endpoint := cfg.AppURL.String() + "/api/billing/webhook"
	switch {
	case err != nil:
		d.report(checkFail, name, err.Error(), "run 'atrium migrate up': the stripe_events table comes with the billing migration")
	case ev == nil && !cfg.BillingEnabled():
		d.report(checkOK, name, "none received (billing is off)", "")
	case ev == nil:
		d.report(checkWarn, name, "no Stripe event received yet",
			"in the Stripe dashboard, add the endpoint "+endpoint+" and send a test event")
	case ev.Error != "" || ev.Status == app.EventUnmatched || ev.Status == "received":
		what := ev.Status
		if ev.Error != "" {
			what += ": " + ev.Error
		}
		d.report(checkWarn, name, fmt.Sprintf("%s (%s) %s ago: %s", ev.ID, ev.Type, ago(d.now.Sub(ev.ReceivedAt)), what),
			"fix the cause, then 'atrium billing replay "+ev.ID+"' or 'atrium billing sync --workspace SLUG'")
	default:
		d.report(checkOK, name, fmt.Sprintf("%s (%s) %s ago: %s", ev.ID, ev.Type, ago(d.now.Sub(ev.ReceivedAt)), ev.Status), "")
	}
}

// checkSMTP connects and authenticates to the SMTP server (without
// sending) and sends the test invite when asked.
func (d *doctor) checkSMTP(ctx context.Context, cfg *config.Config, testTo string) {
	var sender mail.Sender
	if cfg.MailStub() {
		d.report(checkOK, "smtp", "stub mode: emails are written to the log, not sent (set SMTP_HOST to send)", "")
		if testTo == "" {
			return
		}
		sender = mail.NewLogSender(slog.New(slog.NewJSONHandler(d.out, nil)))
	} else {
		s, err := mail.NewSMTPSender(wire.SMTPConfig(cfg))
		if err != nil {
			d.report(checkFail, "smtp", err.Error(), "fix the SMTP_* variables (see .env.example)")
			return
		}
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		err = s.Check(cctx)
		cancel()
		where := fmt.Sprintf("%s:%d (TLS %s)", cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS)
		if err != nil {
			d.report(checkFail, "smtp", where+": "+err.Error(),
				"check SMTP_HOST, SMTP_PORT and SMTP_TLS (465 wants implicit), then SMTP_USERNAME/SMTP_PASSWORD; test the path with: nc -vz "+
					fmt.Sprintf("%s %d", cfg.SMTP.Host, cfg.SMTP.Port))
			return
		}
		auth := "no authentication (SMTP_USERNAME is empty)"
		if cfg.SMTP.Username != "" {
			auth = "authenticated as " + cfg.SMTP.Username
		}
		d.report(checkOK, "smtp", where+" answers; "+auth, "")
		sender = s
	}
	if testTo == "" {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := sender.Send(sctx, mail.TestInviteEmail(i18n.MustNew(i18n.Options{}).Printer(i18n.Source), cfg.AppName, testTo)); err != nil {
		d.report(checkFail, "test invite", "not sent to "+app.MaskEmail(testTo)+": "+err.Error(),
			"the server accepted the connection but not the message: check SMTP_FROM is an address the server may send from")
		return
	}
	if cfg.MailStub() {
		d.report(checkOK, "test invite", "written to the log line above (stub mode)", "")
		return
	}
	d.report(checkOK, "test invite", "sent to "+app.MaskEmail(testTo)+"; check that it arrives (and not in spam)", "")
}

// checkStripe checks the key's mode against STRIPE_LIVE_MODE and APP_ENV,
// and the webhook secret.
func (d *doctor) checkStripe(cfg *config.Config) {
	if !cfg.BillingEnabled() {
		d.report(checkOK, "stripe", "billing off (STRIPE_SECRET_KEY is empty)", "")
		return
	}
	s := cfg.Stripe
	mode := "test key, STRIPE_LIVE_MODE=false"
	if s.LiveMode {
		mode = "live key, STRIPE_LIVE_MODE=true"
	}
	switch {
	case cfg.IsProduction() && !s.LiveMode:
		d.report(checkWarn, "stripe", mode+" in production: no real payments are taken",
			"set a live key (sk_live_…) and STRIPE_LIVE_MODE=true when you are ready to charge")
	case !cfg.IsProduction() && s.LiveMode:
		d.report(checkWarn, "stripe", mode+" outside production: real cards are charged",
			"use a test key (sk_test_…) and STRIPE_LIVE_MODE=false outside production")
	case s.PriceID == "":
		d.report(checkWarn, "stripe", mode+"; STRIPE_PRICE_ID is empty, so Checkout cannot start",
			"set STRIPE_PRICE_ID to the Pro plan's price (price_…)")
	default:
		d.report(checkOK, "stripe", mode, "")
	}
	switch {
	case s.WebhookSecret == "":
		d.report(checkFail, "webhook", "STRIPE_WEBHOOK_SECRET is empty: every webhook is refused and subscriptions never update",
			"copy the endpoint's signing secret (whsec_…) from the Stripe dashboard into STRIPE_WEBHOOK_SECRET")
	case !strings.HasPrefix(s.WebhookSecret, "whsec_"):
		d.report(checkWarn, "webhook", "STRIPE_WEBHOOK_SECRET does not start with whsec_",
			"use the endpoint's signing secret, not an API key")
	default:
		d.report(checkOK, "webhook", "signing secret set", "")
	}
}

// checkRateLimit reports the limits and reaches Redis when it holds them.
func (d *doctor) checkRateLimit(ctx context.Context, cfg *config.Config) {
	limits := fmt.Sprintf("%d requests per %s per client, %d sign-in emails per %s per address and network (%d per address)",
		cfg.RateLimitMax, shortDuration(cfg.RateLimitWindow), cfg.LoginRateLimitMax, shortDuration(cfg.LoginRateLimitWindow), cfg.LoginAddressMax)
	if cfg.RedisURL == "" {
		d.report(checkOK, "rate limit", limits+" (memory store: per instance; set REDIS_URL to share across instances)", "")
		return
	}
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	_, closeStore, err := server.NewLimiterStore(cctx, cfg.RedisURL)
	if err != nil {
		effect := "each instance counts its own budget (RATE_LIMIT_STORE_FAILURE=memory)"
		if cfg.Cluster.RateLimitStoreFailure == config.StoreFailureClosed {
			effect = "state-changing requests answer 503 (RATE_LIMIT_STORE_FAILURE=closed)"
		}
		d.report(checkFail, "rate limit", err.Error(), "check REDIS_URL and that Redis runs: while it is down, "+effect)
		return
	}
	_ = closeStore()
	d.report(checkOK, "rate limit", limits+" (Redis store, reachable)", "")
}

// ago formats a duration for humans: 45s, 12m, 5h, 3d.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// shortDuration formats a whole number of minutes as 5m or 1h30m.
func shortDuration(d time.Duration) string {
	s := strings.TrimSuffix(d.String(), "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
