package main

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"atrium/internal/config"
	"atrium/internal/mail/mailtest"
)

// TestCheckConfig_Production: --production prints the first-production
// checklist item by item. A development setup fails it, naming what to
// set; a production one passes, with the SMTP server really dialled and
// the by-hand items left as todo; an SMTP server that does not answer
// fails it.
func TestCheckConfig_Production(t *testing.T) {
	t.Parallel()
	dev := runAtrium(t, config.Env{}, "check-config", "--production")
	if dev.Code != 1 {
		t.Fatalf("a development setup: exit %d, want 1\n%s", dev.Code, dev.Output())
	}
	for _, want := range []string{"[FAIL] APP_ENV is production", "[FAIL] APP_URL is an https address",
		"[FAIL] TWO_FACTOR_KEY is set", "[FAIL] mail goes through SMTP", "[FAIL] TRUSTED_PROXIES names the reverse proxy",
		"[todo] backups are scheduled", "Fix the FAIL items above"} {
		if !strings.Contains(dev.Stdout, want) {
			t.Errorf("development checklist lacks %q:\n%s", want, dev.Stdout)
		}
	}

	smtp := mailtest.NewServer(t)
	prod := config.Env{"APP_ENV": "production", "APP_URL": "https://app.example.com", "TRUSTED_PROXIES": "127.0.0.1",
		"TWO_FACTOR_KEY": strings.Repeat("k", 48), "SMTP_HOST": smtp.Host(), "SMTP_PORT": strconv.Itoa(smtp.Port()),
		"SMTP_TLS": "none", "SMTP_FROM": "Atrium <no-reply@example.com>", "DATABASE_URL": "sqlite:" + t.TempDir() + "/atrium.db"}
	ok := runAtrium(t, prod, "check-config", "--production")
	if ok.Code != 0 || strings.Contains(ok.Stdout, "[FAIL]") || !strings.Contains(ok.Stdout, "[ok  ] the SMTP server") ||
		!strings.Contains(ok.Stdout, "[todo] a restore was tried") {
		t.Fatalf("a production setup: exit %d\n%s", ok.Code, ok.Output())
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	prod["SMTP_PORT"] = closed
	down := runAtrium(t, prod, "check-config", "--production")
	if down.Code != 1 || !strings.Contains(down.Stdout, "[FAIL] the SMTP server 127.0.0.1:"+closed+" answers") {
		t.Fatalf("an SMTP server that does not answer: exit %d\n%s", down.Code, down.Output())
	}
}
