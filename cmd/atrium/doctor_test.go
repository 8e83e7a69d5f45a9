package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/mail/mailtest"
	"atrium/internal/store"
	"atrium/internal/wire"
)

// doctorLines maps each check's name to its status and message, and fails
// the test on a line that is neither a check, a fix nor the summary.
func doctorLines(t *testing.T, stdout string) map[string][2]string {
	t.Helper()
	checkRE := regexp.MustCompile(`^(ok|warn|FAIL)\s+(secret guard|config|database|migrations|audit log|audit chain|two-factor|job queue|last webhook|smtp|test invite|stripe|price|webhook|rate limit)\s+(.+)$`)
	out := map[string][2]string{}
	for line := range strings.Lines(stdout) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "atrium "), strings.HasPrefix(strings.TrimSpace(line), "fix: "),
			regexp.MustCompile(`^\d+ ok, \d+ warning\(s\), \d+ failure\(s\)\.$`).MatchString(line),
			strings.HasPrefix(line, `{"time"`): // the stub sender's log line
		default:
			m := checkRE.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("unexpected doctor line %q", line)
				continue
			}
			out[m[2]] = [2]string{m[1], m[3]}
		}
	}
	return out
}

// fixFor returns the fix printed under the named check.
func fixFor(stdout, name string) string {
	lines := strings.Split(stdout, "\n")
	re := regexp.MustCompile(`^(ok|warn|FAIL)\s+` + name + `\s`)
	for i, l := range lines {
		if re.MatchString(l) && i+1 < len(lines) && strings.Contains(lines[i+1], "fix: ") {
			_, fix, _ := strings.Cut(lines[i+1], "fix: ")
			return fix
		}
	}
	return ""
}

// TestDoctor_Healthy runs doctor on a seeded database in stub mode: every
// check is ok and the exit status is 0.
func TestDoctor_Healthy(t *testing.T) {
	t.Parallel()
	env := seededSQLite(t, t.TempDir())
	res := runAtrium(t, env, "doctor")
	if res.Code != 0 {
		t.Fatalf("doctor: exit status %d\n%s", res.Code, res.Output())
	}
	checks := doctorLines(t, res.Stdout)
	for _, name := range []string{"secret guard", "config", "database", "migrations", "audit log", "audit chain", "two-factor", "last webhook", "smtp", "stripe", "rate limit"} {
		if got := checks[name][0]; got != checkOK {
			t.Errorf("%s: %q, want ok\n%s", name, got, res.Stdout)
		}
	}
	for name, want := range map[string]string{
		"audit log":  "50 latest entries readable; newest 7h ago (member.role_changed)",
		"smtp":       "stub mode",
		"stripe":     "billing off",
		"rate limit": "50 requests per 5m per client, 5 sign-in emails per 15m per address",
		"two-factor": "0 authenticator app(s) on",
	} {
		if !strings.Contains(checks[name][1], want) {
			t.Errorf("%s: %q lacks %q", name, checks[name][1], want)
		}
	}
	if !strings.HasSuffix(res.Stdout, "12 ok, 0 warning(s), 0 failure(s).\n") {
		t.Errorf("summary line is wrong:\n%s", res.Stdout)
	}

	res = runAtrium(t, env, "doctor", "--send-test-invite", "Ops@Example.com")
	if res.Code != 0 {
		t.Fatalf("doctor --send-test-invite: exit status %d\n%s", res.Code, res.Output())
	}
	if !strings.Contains(res.Stdout, `"to":"ops@example.com"`) || !strings.Contains(res.Stdout, "Test invite from "+config.DefaultAppName) {
		t.Errorf("stub mode did not log the test invite:\n%s", res.Stdout)
	}
	if got := doctorLines(t, res.Stdout)["test invite"]; got[0] != checkOK {
		t.Errorf("test invite: %v, want ok", got)
	}
	if res := runAtrium(t, env, "doctor", "--send-test-invite", "not-an-address"); res.Code != 2 {
		t.Errorf("doctor with a bad address: exit status %d, want 2\n%s", res.Code, res.Output())
	}
}

// TestDoctor_Problems checks that each problem gets its own warn or FAIL
// line with a fix, and that a failure sets exit status 1.
func TestDoctor_Problems(t *testing.T) {
	t.Parallel()
	seeded := seededSQLite(t, t.TempDir())
	enrolAuthenticator(t, seeded, "founder@example.com")
	with := func(extra config.Env) config.Env {
		env := config.Env{}
		for k, v := range seeded {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	// Stripe answers for the Pro price as the catalog has it.
	stripeBase := fakeStripe(t, map[string]string{"price_pro": stripePrice("price_pro", true, "usd", 1200, "month")})
	billing := config.Env{"STRIPE_SECRET_KEY": "sk_test_doctor", "STRIPE_WEBHOOK_SECRET": "whsec_doctor", "STRIPE_PRICE_ID": "price_pro",
		"STRIPE_API_BASE": stripeBase}
	for _, tc := range []struct {
		name   string
		env    config.Env
		check  string
		status string
		msg    string // in the message
		fix    string // in the fix
		code   int
	}{
		{"NoDatabase", config.Env{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "none.db")},
			"database", checkFail, "no database file at", "atrium migrate up", 1},
		{"SecretGuard", with(config.Env{"PUBLIC_STRIPE_SECRET_KEY": "sk_live_leak"}),
			"secret guard", checkFail, "Build guard detected server-only secrets: PUBLIC_STRIPE_SECRET_KEY", "remove the PUBLIC_ prefix", 1},
		{"InvalidConfig", with(config.Env{"RATE_LIMIT_MAX": "abc"}),
			"config", checkFail, `RATE_LIMIT_MAX="abc"`, "atrium check-config", 1},
		{"SMTPUnreachable", with(config.Env{"SMTP_HOST": "127.0.0.1", "SMTP_PORT": strconv.Itoa(freePort(t)), "SMTP_TLS": "none"}),
			"smtp", checkFail, "127.0.0.1:", "SMTP_HOST, SMTP_PORT", 1},
		{"RedisUnreachable", with(config.Env{"REDIS_URL": "redis://127.0.0.1:" + strconv.Itoa(freePort(t)) + "/0"}),
			"rate limit", checkFail, "Redis", "REDIS_URL", 1},
		{"NoWebhookSecret", with(config.Env{"STRIPE_SECRET_KEY": "sk_test_doctor", "STRIPE_PRICE_ID": "price_pro", "STRIPE_API_BASE": stripeBase}),
			"webhook", checkFail, "STRIPE_WEBHOOK_SECRET is empty", "signing secret", 1},
		{"NoWebhookYet", with(billing),
			"last webhook", checkWarn, "no Stripe event received yet", "/api/billing/webhook", 0},
		{"NoPrice", with(config.Env{"STRIPE_SECRET_KEY": "sk_test_doctor", "STRIPE_WEBHOOK_SECRET": "whsec_doctor"}),
			"stripe", checkWarn, "STRIPE_PRICE_ID is empty", "STRIPE_PRICE_ID", 0},
		{"PasskeysOnIP", with(config.Env{"APP_URL": "http://192.0.2.10:8080"}),
			"two-factor", checkWarn, "passkeys are off", "host name", 0},
		{"TwoFactorKeyChanged", with(config.Env{"TWO_FACTOR_KEY": strings.Repeat("x", 32)}),
			"two-factor", checkFail, "does not open the authenticator secrets (1 app(s) on)", "TWO_FACTOR_KEY", 1},
		{"TestKeyInProduction", with(config.Env{"APP_ENV": "production", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": strconv.Itoa(freePort(t)),
			"STRIPE_SECRET_KEY": "sk_test_doctor", "STRIPE_WEBHOOK_SECRET": "whsec_doctor", "STRIPE_PRICE_ID": "price_pro", "STRIPE_API_BASE": stripeBase}),
			"stripe", checkWarn, "no real payments are taken", "STRIPE_LIVE_MODE=true", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runAtrium(t, tc.env, "doctor")
			if res.Code != tc.code {
				t.Errorf("exit status %d, want %d\n%s", res.Code, tc.code, res.Output())
			}
			got := doctorLines(t, res.Stdout)[tc.check]
			if got[0] != tc.status || !strings.Contains(got[1], tc.msg) {
				t.Errorf("%s: %q %q, want %q with %q\n%s", tc.check, got[0], got[1], tc.status, tc.msg, res.Stdout)
			}
			if fix := fixFor(res.Stdout, tc.check); !strings.Contains(fix, tc.fix) {
				t.Errorf("%s: fix %q lacks %q\n%s", tc.check, fix, tc.fix, res.Stdout)
			}
		})
	}
}

// TestDoctor_PendingMigrations warns while serve would still apply them,
// and fails when MIGRATE_ON_START=false.
func TestDoctor_PendingMigrations(t *testing.T) {
	t.Parallel()
	env := seededSQLite(t, t.TempDir())
	if res := runAtrium(t, env, "migrate", "down"); res.Code != 0 {
		t.Fatalf("migrate down: %s", res.Output())
	}
	res := runAtrium(t, env, "doctor")
	_, migrationCount := embeddedMigrations(t)
	if got := doctorLines(t, res.Stdout)["migrations"]; res.Code != 0 || got[0] != checkWarn || !strings.Contains(got[1], fmt.Sprintf("1 of %d pending", migrationCount)) {
		t.Errorf("doctor with a pending migration: status %d, migrations %v\n%s", res.Code, got, res.Stdout)
	}
	env["MIGRATE_ON_START"] = "false"
	res = runAtrium(t, env, "doctor")
	if got := doctorLines(t, res.Stdout)["migrations"]; res.Code != 1 || got[0] != checkFail {
		t.Errorf("doctor with MIGRATE_ON_START=false: status %d, migrations %v\n%s", res.Code, got, res.Stdout)
	}
}

// TestDoctor_SMTP authenticates to a real SMTP server and sends the test
// invite through it; a wrong password fails.
func TestDoctor_SMTP(t *testing.T) {
	t.Parallel()
	smtp := mailtest.NewServer(t)
	smtp.RequireAuth("mailer", "right-password")
	env := seededSQLite(t, t.TempDir())
	for k, v := range map[string]string{"SMTP_HOST": smtp.Host(), "SMTP_PORT": strconv.Itoa(smtp.Port()), "SMTP_TLS": "none",
		"SMTP_USERNAME": "mailer", "SMTP_PASSWORD": "right-password", "SMTP_FROM": "Atrium <ops@atrium.test>"} {
		env[k] = v
	}
	res := runAtrium(t, env, "doctor", "--send-test-invite", "ops@example.com")
	if res.Code != 0 {
		t.Fatalf("doctor: exit status %d\n%s", res.Code, res.Output())
	}
	checks := doctorLines(t, res.Stdout)
	if got := checks["smtp"]; got[0] != checkOK || !strings.Contains(got[1], "authenticated as mailer") {
		t.Errorf("smtp: %v, want ok and authenticated", got)
	}
	if got := checks["test invite"]; got[0] != checkOK || !strings.Contains(got[1], "sent to o***@example.com") {
		t.Errorf("test invite: %v, want ok and sent", got)
	}
	msg := smtp.WaitForMessage(t, "ops@example.com", 10*time.Second)
	if !strings.Contains(msg.Subject, "Test invite") || len(msg.Links()) != 0 {
		t.Errorf("test invite: subject %q, links %v; want a test invite without links", msg.Subject, msg.Links())
	}
	if strings.Contains(res.Output(), "right-password") {
		t.Errorf("doctor printed the SMTP password")
	}

	env["SMTP_PASSWORD"] = "wrong-password"
	res = runAtrium(t, env, "doctor")
	if got := doctorLines(t, res.Stdout)["smtp"]; res.Code != 1 || got[0] != checkFail {
		t.Errorf("doctor with a wrong SMTP password: status %d, smtp %v\n%s", res.Code, got, res.Stdout)
	}
}

// TestDoctor_LastWebhook reports the newest Stripe event and warns about
// one that matched no workspace.
func TestDoctor_LastWebhook(t *testing.T) {
	t.Parallel()
	env := seededSQLite(t, t.TempDir())
	stripeBase := fakeStripe(t, map[string]string{"price_pro": stripePrice("price_pro", true, "usd", 1200, "month")})
	for k, v := range map[string]string{"STRIPE_SECRET_KEY": "sk_test_doctor", "STRIPE_WEBHOOK_SECRET": "whsec_doctor", "STRIPE_PRICE_ID": "price_pro",
		"STRIPE_API_BASE": stripeBase} {
		env[k] = v
	}
	insert := func(id, status string, age time.Duration) {
		t.Helper()
		cfg, err := config.Load(config.Env{"DATABASE_URL": env["DATABASE_URL"]})
		if err != nil {
			t.Fatal(err)
		}
		db, err := openDB(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		at := time.Now().UTC().Add(-age)
		if _, err := db.SQL().Exec(`INSERT INTO stripe_events (id, type, created_at, received_at, status, payload)
			VALUES (?, 'customer.subscription.updated', ?, ?, ?, '{}')`, id, at, at, status); err != nil {
			t.Fatal(err)
		}
	}
	insert("evt_applied", "applied", 3*time.Hour)
	res := runAtrium(t, env, "doctor")
	if got := doctorLines(t, res.Stdout)["last webhook"]; res.Code != 0 || got[0] != checkOK ||
		got[1] != "evt_applied (customer.subscription.updated) 3h ago: applied" {
		t.Errorf("last webhook: status %d, %v\n%s", res.Code, got, res.Stdout)
	}
	insert("evt_lost", "unmatched", time.Hour)
	res = runAtrium(t, env, "doctor")
	if got := doctorLines(t, res.Stdout)["last webhook"]; got[0] != checkWarn || !strings.Contains(got[1], "evt_lost") {
		t.Errorf("last webhook: %v, want a warning about evt_lost\n%s", got, res.Stdout)
	}
	if fix := fixFor(res.Stdout, "last webhook"); !strings.Contains(fix, "atrium billing replay evt_lost") {
		t.Errorf("fix %q does not say how to replay the event", fix)
	}
}

// enrolAuthenticator turns on an authenticator app for the user with email,
// sealed with the key serve would use, as the set-up page does.
func enrolAuthenticator(t *testing.T, env config.Env, email string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(env)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, err := wire.TwoFactorKey(ctx, cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	u, err := store.NewUserService(db).FindUserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	tf := store.NewTwoFactorService(db, key)
	secret, err := tf.TOTPEnrolment(ctx, u.ID, app.NewTOTPSecret())
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, hashes := app.NewRecoveryCodes()
	if _, err := tf.ConfirmTOTP(app.WithPrincipal(ctx, &app.Principal{User: *u}), u.ID, code, hashes); err != nil {
		t.Fatal(err)
	}
}
