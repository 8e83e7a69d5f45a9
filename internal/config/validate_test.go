package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/config"
)

func TestLoad_BadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		want        string // the whole line for this variable
	}{
		{"APP_ENV", "staging", `APP_ENV="staging": expected development, test or production`},
		{"APP_URL", "localhost:8080", `APP_URL="localhost:8080": expected an absolute http:// or https:// URL`},
		{"APP_URL", "ftp://example.com", `APP_URL="ftp://example.com": expected`},
		{"APP_URL", "https://example.com/app", `APP_URL="https://example.com/app": expected`},
		{"APP_URL", "https://example.com/?x=1", `APP_URL="https://example.com/?x=1": expected`},
		{"APP_URL", "https:///nohost", `APP_URL="https:///nohost": expected`},
		{"PORT", "http", `PORT="http": expected a port number from 0 to 65535`},
		{"PORT", "65536", `PORT="65536": expected a port number from 0 to 65535`},
		{"PORT", "-1", `PORT="-1": expected`},
		{"DATABASE_URL", "mysql://root@localhost/atrium", `DATABASE_URL="mysql://root@localhost/atrium": expected sqlite:PATH or postgres://user@host/db`},
		{"DATABASE_URL", "sqlite:", `DATABASE_URL="sqlite:": expected sqlite:PATH or postgres://user@host/db`},
		{"DATABASE_URL", "postgres:///atrium", `DATABASE_URL="postgres:///atrium": expected sqlite:PATH or postgres://user@host/db`},
		{"DATABASE_URL", "data/atrium.db", `DATABASE_URL="data/atrium.db": expected`},
		{"DB_MAX_OPEN_CONNS", "0", `DB_MAX_OPEN_CONNS="0": expected a whole number of connections, at least 1`},
		{"DB_MAX_IDLE_CONNS", "-1", `DB_MAX_IDLE_CONNS="-1": expected a whole number of connections`},
		{"DB_MAX_IDLE_CONNS", "11", `DB_MAX_IDLE_CONNS="11": expected at most DB_MAX_OPEN_CONNS (10)`},
		{"DB_CONN_MAX_LIFETIME_MINUTES", "1.5", `DB_CONN_MAX_LIFETIME_MINUTES="1.5": expected a whole number of minutes, at least 0`},
		{"DB_CONN_MAX_LIFETIME_MINUTES", "99999999999999999", `DB_CONN_MAX_LIFETIME_MINUTES="99999999999999999": expected`},
		{"MIGRATE_ON_START", "maybe", `MIGRATE_ON_START="maybe": expected true or false`},
		{"SMTP_HOST", "smtp://mail.example.com", `SMTP_HOST="smtp://mail.example.com": expected a host name`},
		{"SMTP_HOST", "mail.example.com:587", `SMTP_HOST="mail.example.com:587": expected a host name`},
		{"SMTP_PORT", "0", `SMTP_PORT="0": expected a port number from 1 to 65535`},
		{"SMTP_FROM", "not an address", `SMTP_FROM="not an address": expected an email address`},
		{"SMTP_TLS", "starttls", `SMTP_TLS="starttls": expected mandatory, opportunistic, none or implicit`},
		{"STRIPE_SECRET_KEY", "pk_test_oops", `STRIPE_SECRET_KEY=(value hidden): expected a Stripe secret key`},
		{"STRIPE_LIVE_MODE", "live", `STRIPE_LIVE_MODE="live": expected true or false`},
		{"STRIPE_API_BASE", "localhost:12111", `STRIPE_API_BASE="localhost:12111": expected an absolute http:// or https:// URL`},
		{"RATE_LIMIT_MAX", "abc", `RATE_LIMIT_MAX="abc": expected a whole number of requests, at least 10`},
		{"RATE_LIMIT_MAX", "9", `RATE_LIMIT_MAX="9": expected a whole number of requests, at least 10`},
		{"RATE_LIMIT_WINDOW_MINUTES", "0", `RATE_LIMIT_WINDOW_MINUTES="0": expected a whole number of minutes, at least 1`},
		{"LOGIN_RATE_LIMIT_MAX", "0", `LOGIN_RATE_LIMIT_MAX="0": expected a whole number of requests per email, at least 1`},
		{"LOGIN_RATE_LIMIT_WINDOW_MINUTES", "0", `LOGIN_RATE_LIMIT_WINDOW_MINUTES="0": expected a whole number of minutes, at least 1`},
		{"REDIS_URL", "localhost:6379", `REDIS_URL="localhost:6379": expected redis://`},
		{"REDIS_URL", "http://cache:6379", `REDIS_URL="http://cache:6379": expected redis://`},
		{"TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal", `TRUSTED_PROXIES="10.0.0.0/8, proxy.internal": "proxy.internal" is not an IP address or CIDR prefix`},
		{"TRUSTED_PROXIES", "10.0.0.0/33", `TRUSTED_PROXIES="10.0.0.0/33": "10.0.0.0/33" is not`},
		{"ADMIN_ALLOWED_NETWORKS", "192.0.2.0/24, office", `ADMIN_ALLOWED_NETWORKS="192.0.2.0/24, office": "office" is not an IP address or CIDR prefix`},
		{"ADMIN_ALLOWED_NETWORKS", "192.0.2.0/40", `ADMIN_ALLOWED_NETWORKS="192.0.2.0/40": "192.0.2.0/40" is not`},
		{"LOG_LEVEL", "verbose", `LOG_LEVEL="verbose": expected debug, info, warn or error`},
		{"SHUTDOWN_TIMEOUT_SECONDS", "0", `SHUTDOWN_TIMEOUT_SECONDS="0": expected a whole number of seconds, at least 1`},
		{"FREE_PLAN_SEATS", "0", `FREE_PLAN_SEATS="0": expected a whole number of seats, at least 1`},
		{"PRO_PLAN_SEATS", "-5", `PRO_PLAN_SEATS="-5": expected a whole number of seats, at least 0`},
		{"PRO_PLAN_PRICE_LABEL", "sk_live_abc123", `PRO_PLAN_PRICE_LABEL=(value hidden): looks like a secret key`},
		{"PUBLIC_CONTACT_EMAIL", "hello", `PUBLIC_CONTACT_EMAIL="hello": expected an email address, like hello@example.com`},
		{"PUBLIC_CONTACT_EMAIL", "Acme <hello@acme.example>", `PUBLIC_CONTACT_EMAIL="Acme <hello@acme.example>": expected an email address`},
		{"PUBLIC_CONTACT_EMAIL", "a@b.example, c@d.example", `PUBLIC_CONTACT_EMAIL="a@b.example, c@d.example": expected an email address`},
		{"DISABLE_INDEXING", "maybe", `DISABLE_INDEXING="maybe": expected true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			verr := problems(t, config.Env{tt.name: tt.value})
			if got, want := len(verr.Problems), 1; got != want {
				t.Fatalf("got %d problems, want %d:\n%v", got, want, verr)
			}
			if got := findProblem(t, verr, tt.name).String(); !strings.HasPrefix(got, tt.want) {
				t.Fatalf("problem=%q, want it to start with %q", got, tt.want)
			}
			if got := verr.Error(); !strings.HasPrefix(got, tt.want) {
				t.Fatalf("Error()=%q, want it to start with %q", got, tt.want)
			}
		})
	}
}

func TestLoad_AllProblemsReported(t *testing.T) {
	t.Parallel()
	verr := problems(t, config.Env{
		"APP_ENV":          "prod",
		"PORT":             "eighty",
		"RATE_LIMIT_MAX":   "abc",
		"MIGRATE_ON_START": "nope",
		"LOG_LEVEL":        "loud",
		"SMTP_PASSWORD":    "hunter2hunter2",
	})
	var got []string
	for _, p := range verr.Problems {
		got = append(got, p.Var)
	}
	want := []string{"APP_ENV", "PORT", "MIGRATE_ON_START", "RATE_LIMIT_MAX", "LOG_LEVEL"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("problem variables mismatch (-want +got):\n%s", diff)
	}
	if got, want := strings.Count(verr.Error(), "\n")+1, len(want); got != want {
		t.Fatalf("Error() has %d lines, want %d:\n%s", got, want, verr)
	}
}

func TestLoad_SecretsNeverShown(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-Value"
	tests := []struct {
		name string
		env  config.Env
	}{
		{"StripeKey", config.Env{"STRIPE_SECRET_KEY": "sk_live_" + secret}},
		{"StripeKeyUnknown", config.Env{"STRIPE_SECRET_KEY": secret}},
		{"DatabaseURL", config.Env{"DATABASE_URL": "mysql://root:" + secret + "@localhost/db"}},
		{"DatabaseURLQuery", config.Env{"DATABASE_URL": "mysql://localhost/db?password=" + secret}},
		{"DatabaseURLUnparsable", config.Env{"DATABASE_URL": "postgres://u:" + secret + "@host:port/db"}},
		{"RedisURL", config.Env{"REDIS_URL": "http://:" + secret + "@cache"}},
		{"SMTPPassword", config.Env{"SMTP_HOST": "smtp.example.com", "SMTP_PASSWORD": secret}},
		{"Guard", config.Env{"PUBLIC_STRIPE_SECRET_KEY": "sk_test_" + secret, "RATE_LIMIT_MAX": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(tt.env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the secret:\n%v", err)
			}
		})
	}
}

func TestLoad_Guard(t *testing.T) {
	t.Parallel()
	t.Run("Alone", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(config.Env{"PUBLIC_STRIPE_SECRET_KEY": "x", "PUBLIC_FOO": "sk_live_abc"})
		var gerr *config.GuardError
		if !errors.As(err, &gerr) {
			t.Fatalf("Load err=%v, want a *GuardError", err)
		}
		if diff := cmp.Diff([]string{"PUBLIC_FOO", "PUBLIC_STRIPE_SECRET_KEY"}, gerr.Names); diff != "" {
			t.Fatalf("Names mismatch (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(err.Error(), config.GuardMessage+": PUBLIC_FOO, PUBLIC_STRIPE_SECRET_KEY\n") {
			t.Fatalf("Error()=%q", err)
		}
	})
	t.Run("WithProblems", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(config.Env{"PUBLIC_API_TOKEN": "abc", "PORT": "x"})
		var gerr *config.GuardError
		var verr *config.ValidationError
		if !errors.As(err, &gerr) || !errors.As(err, &verr) {
			t.Fatalf("Load err=%v, want both a *GuardError and a *ValidationError", err)
		}
		if !strings.HasPrefix(err.Error(), config.GuardMessage) {
			t.Fatalf("Error()=%q, want it to start with %q", err, config.GuardMessage)
		}
	})
}
