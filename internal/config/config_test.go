package config_test

import (
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"atrium/internal/app"
	"atrium/internal/config"
)

// mustLoad loads env and fails the test on any error.
func mustLoad(t *testing.T, env config.Env) *config.Config {
	t.Helper()
	c, err := config.Load(env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// problems loads env, expects a *ValidationError and returns it.
func problems(t *testing.T, env config.Env) *config.ValidationError {
	t.Helper()
	c, err := config.Load(env)
	var verr *config.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Load err=%v, want a *ValidationError", err)
	}
	if c != nil {
		t.Fatalf("Load returned a config along with an error")
	}
	return verr
}

// findProblem returns the problem about name, failing when there is none.
func findProblem(t *testing.T, verr *config.ValidationError, name string) config.Problem {
	t.Helper()
	for _, p := range verr.Problems {
		if p.Var == name {
			return p
		}
	}
	t.Fatalf("no problem names %s; got:\n%v", name, verr)
	return config.Problem{}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// defaults is the Config of an empty environment.
func defaults(t *testing.T) *config.Config {
	return &config.Config{
		Env:                  "development",
		AppURL:               mustURL(t, "http://localhost:8080"),
		Port:                 8080,
		Database:             config.Database{Driver: "sqlite", DSN: "data/atrium.db"},
		DBMaxOpenConns:       10,
		DBMaxIdleConns:       10,
		DBConnMaxLifetime:    30 * time.Minute,
		MigrateOnStart:       true,
		SMTP:                 config.SMTP{Port: 587, From: "Atrium <no-reply@localhost>", TLS: "mandatory"},
		RateLimitMax:         50,
		RateLimitWindow:      5 * time.Minute,
		LoginRateLimitMax:    5,
		LoginRateLimitWindow: 15 * time.Minute,
		APIRateLimitMax:      600,
		APIBadKeyMax:         30,
		LogLevel:             slog.LevelInfo,
		ShutdownTimeout:      15 * time.Second,
		FreePlanSeats:        3,
		ProPlanSeats:         0,
		GracePeriod:          7 * 24 * time.Hour,
		Stripe:               config.Stripe{Currency: "usd"},
		MaxWorkspacesPerUser: 20,
		AppName:              config.DefaultAppName,
		Description:          config.DefaultDescription,
		ContactEmail:         "hello@example.com",
		DisableIndexing:      false,
		Public:               map[string]string{"PUBLIC_APP_NAME": config.DefaultAppName},

		LoginAddressMax:        50,
		InviteResendInterval:   5 * time.Minute,
		InviteResendsPerDay:    5,
		InviteEmailsPerAddress: 10,
		Cluster:                defaultCluster,
		Jobs:                   defaultJobs,
	}
}

// ignorePlans leaves the catalog out of a Config comparison: it is built
// from the fields compared, and TestLoad_Catalog checks it.
var ignorePlans = cmpopts.IgnoreFields(config.Config{}, "Plans")

var urlComparer = cmp.Comparer(func(a, b *url.URL) bool { return a.String() == b.String() })
var prefixComparer = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

func TestLoad_Defaults(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]config.Env{
		"Nil":   nil,
		"Empty": {},
		"EmptyValues": {
			"APP_ENV": "", "APP_URL": "", "PORT": " ", "DATABASE_URL": "", "DB_MAX_OPEN_CONNS": "",
			"DB_MAX_IDLE_CONNS": "", "DB_CONN_MAX_LIFETIME_MINUTES": "", "MIGRATE_ON_START": "",
			"SMTP_HOST": "", "SMTP_PORT": "", "SMTP_USERNAME": "", "SMTP_PASSWORD": "", "SMTP_FROM": "",
			"SMTP_TLS": "", "STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": "", "STRIPE_PRICE_ID": "",
			"STRIPE_LIVE_MODE": "", "STRIPE_API_BASE": "", "STRIPE_AUTOMATIC_TAX": "", "RATE_LIMIT_MAX": "", "RATE_LIMIT_WINDOW_MINUTES": "",
			"LOGIN_RATE_LIMIT_MAX": "", "LOGIN_RATE_LIMIT_WINDOW_MINUTES": "", "REDIS_URL": "", "API_RATE_LIMIT_MAX": "", "API_BAD_KEY_MAX": "",
			"LOGIN_ADDRESS_MAX": "", "INVITE_RESEND_INTERVAL_MINUTES": "",
			"INVITE_RESENDS_PER_DAY": "", "INVITE_EMAILS_PER_ADDRESS_PER_DAY": "",
			"TRUSTED_PROXIES": "", "LOG_LEVEL": "", "SHUTDOWN_TIMEOUT_SECONDS": "", "FREE_PLAN_SEATS": "",
			"PRO_PLAN_SEATS": "", "PUBLIC_APP_NAME": "", "PUBLIC_EMPTY": "",
			"PRO_PLAN_PRICE_LABEL": " ", "PUBLIC_APP_DESCRIPTION": "", "PUBLIC_CONTACT_EMAIL": "",
			"DISABLE_INDEXING": "", "STRIPE_PRICE_PRO_ANNUAL": "", "STRIPE_PRICE_BUSINESS_MONTHLY": "",
			"STRIPE_PRICE_BUSINESS_ANNUAL": "", "BILLING_CURRENCY": "", "BUSINESS_PLAN_SEATS": "", "BILLING_TRIAL_DAYS": "",
			"BILLING_TRIAL_NEEDS_CARD": "", "BILLING_GRACE_DAYS": "",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := mustLoad(t, env)
			if diff := cmp.Diff(defaults(t), got, urlComparer, prefixComparer, ignorePlans); diff != "" {
				t.Fatalf("Load mismatch (-want +got):\n%s", diff)
			}
			if got, want := got.Addr(), ":8080"; got != want {
				t.Fatalf("Addr()=%q, want %q", got, want)
			}
			for _, c := range []struct {
				name      string
				got, want bool
			}{
				{"IsDevelopment", got.IsDevelopment(), true},
				{"IsProduction", got.IsProduction(), false},
				{"MailStub", got.MailStub(), true},
				{"BillingEnabled", got.BillingEnabled(), false},
				{"SecureCookies", got.SecureCookies(), false},
			} {
				if c.got != c.want {
					t.Fatalf("%s()=%v, want %v", c.name, c.got, c.want)
				}
			}
			if got := got.SecretValues(); len(got) != 0 {
				t.Fatalf("SecretValues()=%q, want none", got)
			}
		})
	}
}

func TestLoad_AllSet(t *testing.T) {
	t.Parallel()
	env := config.Env{
		"APP_ENV":                         "Production",
		"APP_URL":                         "https://atrium.example.com/",
		"PORT":                            "0",
		"DATABASE_URL":                    "postgres://atrium:dbpass@db.internal:5432/atrium?sslmode=require",
		"DB_MAX_OPEN_CONNS":               "20",
		"DB_MAX_IDLE_CONNS":               "20",
		"DB_CONN_MAX_LIFETIME_MINUTES":    "0",
		"MIGRATE_ON_START":                "false",
		"SMTP_HOST":                       "smtp.example.com",
		"SMTP_PORT":                       "2525",
		"SMTP_USERNAME":                   "mailer",
		"SMTP_PASSWORD":                   " smtp pass ",
		"SMTP_FROM":                       "Team <team@example.com>",
		"SMTP_TLS":                        "opportunistic",
		"STRIPE_SECRET_KEY":               "sk_live_abc123",
		"STRIPE_WEBHOOK_SECRET":           "whsec_def456",
		"STRIPE_PRICE_ID":                 "price_123",
		"STRIPE_PRICE_PRO_ANNUAL":         "price_124",
		"STRIPE_PRICE_BUSINESS_MONTHLY":   "price_125",
		"STRIPE_PRICE_BUSINESS_ANNUAL":    "price_126",
		"BILLING_CURRENCY":                "EUR",
		"BUSINESS_PLAN_SEATS":             "100",
		"BILLING_TRIAL_DAYS":              "14",
		"BILLING_TRIAL_NEEDS_CARD":        "true",
		"BILLING_GRACE_DAYS":              "3",
		"STRIPE_LIVE_MODE":                "YES",
		"STRIPE_AUTOMATIC_TAX":            "on",
		"RATE_LIMIT_MAX":                  "10",
		"RATE_LIMIT_WINDOW_MINUTES":       "1",
		"LOGIN_RATE_LIMIT_MAX":            "1",
		"LOGIN_RATE_LIMIT_WINDOW_MINUTES": "60",
		"REDIS_URL":                       "rediss://:redispass@cache.internal:6380/2",
		"TRUSTED_PROXIES":                 " 10.0.0.0/8, 192.0.2.7 ,2001:db8::1,, 172.16.5.4/12",
		"LOG_LEVEL":                       "WARN",
		"SHUTDOWN_TIMEOUT_SECONDS":        "30",
		"FREE_PLAN_SEATS":                 "1",
		"PRO_PLAN_SEATS":                  "25",
		"PRO_PLAN_PRICE_LABEL":            " €19 per seat / month ",
		"MAX_WORKSPACES_PER_USER":         "50",
		"FLASH_KEY":                       "0123456789abcdef0123456789abcdef",
		"PUBLIC_APP_NAME":                 " Acme ",
		"PUBLIC_APP_DESCRIPTION":          "Acme keeps teams in step.",
		"PUBLIC_CONTACT_EMAIL":            "legal@acme.example",
		"DISABLE_INDEXING":                "true",
		"PUBLIC_SUPPORT_EMAIL":            "help@example.com",
		"PUBLIC_STRIPE_PUBLISHABLE_KEY":   "pk_live_xyz",
		"HOME":                            "/root",

		"LOGIN_ADDRESS_MAX":                 "3",
		"INVITE_RESEND_INTERVAL_MINUTES":    "10",
		"INVITE_RESENDS_PER_DAY":            "2",
		"INVITE_EMAILS_PER_ADDRESS_PER_DAY": "4",
	}
	want := &config.Config{
		Env:               "production",
		AppURL:            mustURL(t, "https://atrium.example.com"),
		Port:              0,
		Database:          config.Database{Driver: "postgres", DSN: "postgres://atrium:dbpass@db.internal:5432/atrium?sslmode=require"},
		DBMaxOpenConns:    20,
		DBMaxIdleConns:    20,
		DBConnMaxLifetime: 0,
		MigrateOnStart:    false,
		SMTP: config.SMTP{Host: "smtp.example.com", Port: 2525, Username: "mailer", Password: " smtp pass ",
			From: "Team <team@example.com>", TLS: "opportunistic"},
		Stripe: config.Stripe{SecretKey: "sk_live_abc123", WebhookSecret: "whsec_def456", PriceID: "price_123",
			ProAnnual: "price_124", BusinessMonthly: "price_125", BusinessAnnual: "price_126", Currency: "eur",
			LiveMode: true, AutomaticTax: true},
		RateLimitMax:         10,
		RateLimitWindow:      time.Minute,
		LoginRateLimitMax:    1,
		LoginRateLimitWindow: time.Hour,
		RedisURL:             "rediss://:redispass@cache.internal:6380/2",
		APIRateLimitMax:      600,
		APIBadKeyMax:         30,
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("192.0.2.7/32"),
			netip.MustParsePrefix("2001:db8::1/128"),
			netip.MustParsePrefix("172.16.0.0/12"),
		},
		LogLevel:             slog.LevelWarn,
		ShutdownTimeout:      30 * time.Second,
		FreePlanSeats:        1,
		ProPlanSeats:         25,
		BusinessPlanSeats:    100,
		ProPlanPriceLabel:    "€19 per seat / month",
		TrialDays:            14,
		TrialNeedsCard:       true,
		GracePeriod:          3 * 24 * time.Hour,
		MaxWorkspacesPerUser: 50,
		FlashKey:             "0123456789abcdef0123456789abcdef",
		AppName:              "Acme",
		Description:          "Acme keeps teams in step.",
		ContactEmail:         "legal@acme.example",
		DisableIndexing:      true,
		Public: map[string]string{
			"PUBLIC_APP_NAME":               "Acme",
			"PUBLIC_APP_DESCRIPTION":        "Acme keeps teams in step.",
			"PUBLIC_CONTACT_EMAIL":          "legal@acme.example",
			"PUBLIC_SUPPORT_EMAIL":          "help@example.com",
			"PUBLIC_STRIPE_PUBLISHABLE_KEY": "pk_live_xyz",
		},

		LoginAddressMax:        3,
		InviteResendInterval:   10 * time.Minute,
		InviteResendsPerDay:    2,
		InviteEmailsPerAddress: 4,
		Cluster:                defaultCluster,
		Jobs:                   defaultJobs,
	}
	got := mustLoad(t, env)
	if diff := cmp.Diff(want, got, urlComparer, prefixComparer, ignorePlans); diff != "" {
		t.Fatalf("Load mismatch (-want +got):\n%s", diff)
	}
	if got, want := got.Addr(), ":0"; got != want {
		t.Fatalf("Addr()=%q, want %q", got, want)
	}
	if !got.IsProduction() || got.IsDevelopment() || got.MailStub() || !got.BillingEnabled() || !got.SecureCookies() {
		t.Fatalf("IsProduction=%v IsDevelopment=%v MailStub=%v BillingEnabled=%v SecureCookies=%v",
			got.IsProduction(), got.IsDevelopment(), got.MailStub(), got.BillingEnabled(), got.SecureCookies())
	}
	wantSecrets := []string{" smtp pass ", "sk_live_abc123", "whsec_def456", "0123456789abcdef0123456789abcdef", "dbpass", "redispass"}
	if diff := cmp.Diff(wantSecrets, got.SecretValues()); diff != "" {
		t.Fatalf("SecretValues mismatch (-want +got):\n%s", diff)
	}
}

func TestLoad_RateLimitBounds(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, config.Env{"RATE_LIMIT_MAX": "10", "RATE_LIMIT_WINDOW_MINUTES": "1"})
	if got, want := c.RateLimitMax, 10; got != want {
		t.Fatalf("RateLimitMax=%d, want %d", got, want)
	}
	if got, want := c.RateLimitWindow, time.Minute; got != want {
		t.Fatalf("RateLimitWindow=%v, want %v", got, want)
	}
	verr := problems(t, config.Env{"RATE_LIMIT_MAX": "9", "RATE_LIMIT_WINDOW_MINUTES": "0"})
	findProblem(t, verr, "RATE_LIMIT_MAX")
	findProblem(t, verr, "RATE_LIMIT_WINDOW_MINUTES")
}

func TestLoad_MailLimits(t *testing.T) {
	t.Parallel()
	// The sign-in ceiling follows a raised per-network budget by default,
	// ten networks' worth, so a few networks cannot use it up.
	c := mustLoad(t, config.Env{"LOGIN_RATE_LIMIT_MAX": "12"})
	if got, want := c.LoginAddressMax, 120; got != want {
		t.Fatalf("LoginAddressMax=%d, want %d", got, want)
	}
	verr := problems(t, config.Env{"LOGIN_RATE_LIMIT_MAX": "5", "LOGIN_ADDRESS_MAX": "4",
		"INVITE_RESEND_INTERVAL_MINUTES": "0", "INVITE_RESENDS_PER_DAY": "0", "INVITE_EMAILS_PER_ADDRESS_PER_DAY": "x"})
	if got, want := findProblem(t, verr, "LOGIN_ADDRESS_MAX").Message, "expected at least LOGIN_RATE_LIMIT_MAX (5)"; got != want {
		t.Errorf("LOGIN_ADDRESS_MAX problem=%q, want %q", got, want)
	}
	findProblem(t, verr, "INVITE_RESEND_INTERVAL_MINUTES")
	findProblem(t, verr, "INVITE_RESENDS_PER_DAY")
	findProblem(t, verr, "INVITE_EMAILS_PER_ADDRESS_PER_DAY")
}

func TestLoad_WorkspaceCapAndFlashKey(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("k", 32)
	c := mustLoad(t, config.Env{"MAX_WORKSPACES_PER_USER": "3", "FLASH_KEY": key})
	if got, want := c.MaxWorkspacesPerUser, 3; got != want {
		t.Fatalf("MaxWorkspacesPerUser=%d, want %d", got, want)
	}
	if c.FlashKey != key || !slices.Contains(c.SecretValues(), key) {
		t.Fatalf("FlashKey=%q, SecretValues=%q: want the key, listed as a secret", c.FlashKey, c.SecretValues())
	}
	verr := problems(t, config.Env{"MAX_WORKSPACES_PER_USER": "0", "FLASH_KEY": "short"})
	findProblem(t, verr, "MAX_WORKSPACES_PER_USER")
	findProblem(t, verr, "FLASH_KEY")
	if strings.Contains(verr.Error(), "short") {
		t.Fatalf("the problem report shows the key's value: %v", verr)
	}
}

func TestLoad_DatabaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  config.Database
	}{
		{"sqlite:data/atrium.db", config.Database{Driver: "sqlite", DSN: "data/atrium.db"}},
		{"sqlite:/abs/x.db", config.Database{Driver: "sqlite", DSN: "/abs/x.db"}},
		{"sqlite://data/x.db", config.Database{Driver: "sqlite", DSN: "data/x.db"}},
		{"sqlite:///abs/path.db", config.Database{Driver: "sqlite", DSN: "/abs/path.db"}},
		{"SQLite:x.db", config.Database{Driver: "sqlite", DSN: "x.db"}},
		{"file:data/x.db", config.Database{Driver: "sqlite", DSN: "data/x.db"}},
		{"file:///abs/x.db", config.Database{Driver: "sqlite", DSN: "/abs/x.db"}},
		{"postgres://atrium@localhost/atrium", config.Database{Driver: "postgres", DSN: "postgres://atrium@localhost/atrium"}},
		{"postgresql://u:p@db:5432/atrium?sslmode=disable", config.Database{Driver: "postgres", DSN: "postgresql://u:p@db:5432/atrium?sslmode=disable"}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, config.Env{"DATABASE_URL": tt.value})
			if diff := cmp.Diff(tt.want, c.Database); diff != "" {
				t.Fatalf("Database mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoad_Booleans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  bool
	}{
		{"", true}, // MIGRATE_ON_START's default
		{"true", true}, {"TRUE", true}, {"1", true}, {"yes", true}, {"On", true},
		{"false", false}, {"False", false}, {"0", false}, {"no", false}, {"OFF", false}, {" false ", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, config.Env{"MIGRATE_ON_START": tt.value})
			if got := c.MigrateOnStart; got != tt.want {
				t.Fatalf("MigrateOnStart=%v for %q, want %v", got, tt.value, tt.want)
			}
		})
	}
	for _, bad := range []string{"disable", "2", "t", "nope"} {
		findProblem(t, problems(t, config.Env{"MIGRATE_ON_START": bad}), "MIGRATE_ON_START")
	}
}

// TestLoad_DisableIndexing holds DISABLE_INDEXING to a real boolean: the
// original starter treated any non-empty value, "false" included, as true.
func TestLoad_DisableIndexing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  bool
	}{
		{"", false},
		{"false", false}, {"FALSE", false}, {"0", false}, {"no", false}, {"off", false}, {" false ", false},
		{"true", true}, {"True", true}, {"1", true}, {"yes", true}, {"ON", true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, config.Env{"DISABLE_INDEXING": tt.value})
			if got := c.DisableIndexing; got != tt.want {
				t.Fatalf("DisableIndexing=%v for %q, want %v", got, tt.value, tt.want)
			}
		})
	}
	for _, bad := range []string{"disabled", "2", "noindex", "y"} {
		findProblem(t, problems(t, config.Env{"DISABLE_INDEXING": bad}), "DISABLE_INDEXING")
	}
}

// TestLoad_PublicSite checks the settings the public pages show.
func TestLoad_PublicSite(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, config.Env{
		"PUBLIC_APP_DESCRIPTION": "  Invoices for teams.  ",
		"PUBLIC_CONTACT_EMAIL":   " team@acme.example ",
		"PRO_PLAN_PRICE_LABEL":   "Free while in beta",
	})
	if got, want := c.Description, "Invoices for teams."; got != want {
		t.Errorf("Description=%q, want %q", got, want)
	}
	if got, want := c.ContactEmail, "team@acme.example"; got != want {
		t.Errorf("ContactEmail=%q, want %q", got, want)
	}
	if got, want := c.ProPlanPriceLabel, "Free while in beta"; got != want {
		t.Errorf("ProPlanPriceLabel=%q, want %q", got, want)
	}
	// A secret pasted into the price label is refused without being shown.
	verr := problems(t, config.Env{"PRO_PLAN_PRICE_LABEL": "whsec_abc123"})
	if p := findProblem(t, verr, "PRO_PLAN_PRICE_LABEL"); strings.Contains(p.String(), "whsec_abc123") {
		t.Errorf("problem shows the value: %s", p)
	}
}

func TestLoad_DBPool(t *testing.T) {
	t.Parallel()
	// An unset DB_MAX_IDLE_CONNS follows DB_MAX_OPEN_CONNS, so no
	// connection is closed (losing its prepared statements) for want of an
	// idle slot.
	c := mustLoad(t, config.Env{"DB_MAX_OPEN_CONNS": "2"})
	if got, want := c.DBMaxIdleConns, 2; got != want {
		t.Fatalf("DBMaxIdleConns=%d, want %d", got, want)
	}
	findProblem(t, problems(t, config.Env{"DB_MAX_OPEN_CONNS": "2", "DB_MAX_IDLE_CONNS": "3"}), "DB_MAX_IDLE_CONNS")
}

func TestLoad_Production(t *testing.T) {
	t.Parallel()
	t.Run("WithoutSMTPHost", func(t *testing.T) {
		t.Parallel()
		verr := problems(t, config.Env{"APP_ENV": "production"})
		want := "SMTP_HOST: required when APP_ENV=production (stub mode writes sign-in links to the log)"
		if got := verr.Error(); got != want {
			t.Fatalf("Error()=%q, want %q", got, want)
		}
	})
	t.Run("WithSMTPHost", func(t *testing.T) {
		t.Parallel()
		c := mustLoad(t, config.Env{"APP_ENV": "production", "SMTP_HOST": "smtp.example.com"})
		if !c.IsProduction() || c.MailStub() {
			t.Fatalf("IsProduction=%v MailStub=%v, want true false", c.IsProduction(), c.MailStub())
		}
	})
	t.Run("TestEnvAllowsStub", func(t *testing.T) {
		t.Parallel()
		if c := mustLoad(t, config.Env{"APP_ENV": "test"}); c.Env != "test" || !c.MailStub() {
			t.Fatalf("Env=%q MailStub=%v, want test true", c.Env, c.MailStub())
		}
	})
}

func TestLoad_SMTP(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, config.Env{"SMTP_HOST": "smtp.example.com", "SMTP_TLS": "implicit"})
	if got, want := c.SMTP.Port, 465; got != want {
		t.Fatalf("SMTP.Port=%d with implicit TLS, want %d", got, want)
	}
	c = mustLoad(t, config.Env{"SMTP_HOST": "::1", "SMTP_FROM": "no-reply@example.com"})
	if got, want := c.SMTP.Host, "::1"; got != want {
		t.Fatalf("SMTP.Host=%q, want %q", got, want)
	}
	verr := problems(t, config.Env{"SMTP_HOST": "smtp.example.com", "SMTP_PASSWORD": "pw-secret"})
	if got, want := verr.Error(), "SMTP_USERNAME: required when SMTP_PASSWORD is set"; got != want {
		t.Fatalf("Error()=%q, want %q", got, want)
	}
}

func TestLoad_Stripe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     config.Env
		wantErr string // "" = valid
	}{
		{"TestKeyTestMode", config.Env{"STRIPE_SECRET_KEY": "sk_test_123"}, ""},
		{"RestrictedTestKey", config.Env{"STRIPE_SECRET_KEY": "rk_test_123", "STRIPE_LIVE_MODE": "false"}, ""},
		{"LiveKeyLiveMode", config.Env{"STRIPE_SECRET_KEY": "sk_live_123", "STRIPE_LIVE_MODE": "true"}, ""},
		{"RestrictedLiveKey", config.Env{"STRIPE_SECRET_KEY": "rk_live_123", "STRIPE_LIVE_MODE": "1"}, ""},
		{"LiveModeWithoutKey", config.Env{"STRIPE_LIVE_MODE": "true"}, ""},
		{"FakeAPI", config.Env{"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_API_BASE": "http://127.0.0.1:12111/"}, ""},
		{"LiveKeyTestMode", config.Env{"STRIPE_SECRET_KEY": "sk_live_123"},
			"STRIPE_SECRET_KEY=(value hidden): is a live key but STRIPE_LIVE_MODE is false"},
		{"TestKeyLiveMode", config.Env{"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_LIVE_MODE": "true"},
			"STRIPE_SECRET_KEY=(value hidden): is a test key but STRIPE_LIVE_MODE=true"},
		{"AutomaticTax", config.Env{"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_AUTOMATIC_TAX": "true"}, ""},
		{"AutomaticTaxNotABool", config.Env{"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_AUTOMATIC_TAX": "sometimes"},
			`STRIPE_AUTOMATIC_TAX="sometimes": expected true or false`},
		{"FakeAPILiveMode", config.Env{"STRIPE_SECRET_KEY": "sk_live_123", "STRIPE_LIVE_MODE": "true", "STRIPE_API_BASE": "http://localhost:12111"},
			`STRIPE_API_BASE="http://localhost:12111": must be unset when STRIPE_LIVE_MODE=true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(tt.env)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if !c.BillingEnabled() && tt.env["STRIPE_SECRET_KEY"] != "" {
					t.Fatalf("BillingEnabled()=false with a key")
				}
				if got, want := c.Stripe.APIBase, strings.TrimSuffix(tt.env["STRIPE_API_BASE"], "/"); got != want {
					t.Fatalf("Stripe.APIBase=%q, want %q", got, want)
				}
				if got, want := c.Stripe.AutomaticTax, tt.env["STRIPE_AUTOMATIC_TAX"] == "true"; got != want {
					t.Fatalf("Stripe.AutomaticTax=%v, want %v", got, want)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Load err=%v, want it to start with %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "_123") {
				t.Fatalf("error shows the key: %v", err)
			}
		})
	}
}

func TestLoad_AppURLFollowsPort(t *testing.T) {
	for _, tc := range []struct {
		env  config.Env
		want string
	}{
		{config.Env{}, "http://localhost:8080"},
		{config.Env{"PORT": "3000"}, "http://localhost:3000"},
		{config.Env{"PORT": "0"}, "http://localhost:8080"},
		{config.Env{"PORT": "3000", "APP_URL": "https://app.example.com"}, "https://app.example.com"},
	} {
		cfg, err := config.Load(tc.env)
		if err != nil {
			t.Fatalf("Load(%v): %v", tc.env, err)
		}
		if got := cfg.AppURL.String(); got != tc.want {
			t.Errorf("Load(%v).AppURL=%q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestLoad_Catalog(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, config.Env{"STRIPE_PRICE_ID": "price_pm", "STRIPE_PRICE_PRO_ANNUAL": "price_py",
		"STRIPE_PRICE_BUSINESS_ANNUAL": "price_by", "BILLING_CURRENCY": "eur", "FREE_PLAN_SEATS": "2",
		"BUSINESS_PLAN_SEATS": "40", "BILLING_TRIAL_DAYS": "14", "BILLING_GRACE_DAYS": "0"})
	for _, tc := range []struct {
		price, plan string
		iv          app.Interval
	}{{"price_pm", app.PlanPro, app.Monthly}, {"price_py", app.PlanPro, app.Annual}, {"price_by", app.PlanBusiness, app.Annual}} {
		p, iv, ok := c.Plans.ForPrice(tc.price)
		if !ok || p.Key != tc.plan || iv != tc.iv || p.Price(iv).Currency != "eur" {
			t.Errorf("ForPrice(%s) = %s %s %v (currency %q), want %s %s", tc.price, p.Key, iv, ok, p.Price(iv).Currency, tc.plan, tc.iv)
		}
	}
	if _, _, ok := c.Plans.ForPrice("price_bm"); ok {
		t.Error("an unset price matched a plan")
	}
	if got := c.Plans.Limits(); got.FreeSeats != 2 || got.ProSeats != 0 || got.BusinessSeats != 40 {
		t.Errorf("Limits = %+v, want 2 free, unlimited pro, 40 business", got)
	}
	if c.Plans.TrialDays != 14 || c.Plans.GracePeriod != 0 {
		t.Errorf("trial %d days, grace %s; want 14 days and none", c.Plans.TrialDays, c.Plans.GracePeriod)
	}
	if problems := c.Plans.Check(); len(problems) > 0 {
		t.Errorf("catalog problems: %q", problems)
	}

	var verr *config.ValidationError
	_, err := config.Load(config.Env{"STRIPE_PRICE_PRO_ANNUAL": "prod_123", "BILLING_CURRENCY": "dollars", "BILLING_TRIAL_DAYS": "-1"})
	if !errors.As(err, &verr) {
		t.Fatalf("Load = %v, want a ValidationError", err)
	}
	for _, name := range []string{"STRIPE_PRICE_PRO_ANNUAL", "BILLING_CURRENCY", "BILLING_TRIAL_DAYS"} {
		if !slices.ContainsFunc(verr.Problems, func(p config.Problem) bool { return p.Var == name }) {
			t.Errorf("no problem reported for %s: %v", name, verr.Problems)
		}
	}
}
