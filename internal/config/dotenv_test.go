package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/config"
)

// writeFile writes content to a fresh file and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDotEnv(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "\uFEFF# Atrium settings\n"+
		"\n"+
		"APP_ENV=development\n"+
		"  PORT = 9090  \n"+
		"export SMTP_HOST=smtp.example.com\n"+
		"export\tSMTP_USERNAME=mailer # inline comment\n"+
		"SMTP_PASSWORD='p@ss # not a comment \\n'\n"+
		"SMTP_FROM=\"Atrium <no-reply@example.com>\"   # comment after quotes\n"+
		"MULTI=\"line one\\nline \\\"two\\\"\\\\ \\q\"\n"+
		"COLOR=#fff\n"+
		"HASH=a#b\n"+
		"EMPTY=\n"+
		"EMPTY_QUOTED=\"\"\n"+
		"exported=lower\r\n"+
		"export=plain\n"+
		"DUP=first\n"+
		"DUP=second\n"+
		"    # indented comment\n")
	got, err := config.LoadDotEnv(path)
	if err != nil {
		t.Fatalf("LoadDotEnv: %v", err)
	}
	want := config.Env{
		"APP_ENV":       "development",
		"PORT":          "9090",
		"SMTP_HOST":     "smtp.example.com",
		"SMTP_USERNAME": "mailer",
		"SMTP_PASSWORD": `p@ss # not a comment \n`,
		"SMTP_FROM":     "Atrium <no-reply@example.com>",
		"MULTI":         "line one\nline \"two\"\\ \\q",
		"COLOR":         "#fff",
		"HASH":          "a#b",
		"EMPTY":         "",
		"EMPTY_QUOTED":  "",
		"exported":      "lower",
		"export":        "plain",
		"DUP":           "second",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("LoadDotEnv mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadDotEnv_Missing(t *testing.T) {
	t.Parallel()
	env, err := config.LoadDotEnv(filepath.Join(t.TempDir(), "nope.env"))
	if env != nil || err != nil {
		t.Fatalf("LoadDotEnv=(%v, %v), want (nil, nil)", env, err)
	}
}

func TestLoadDotEnv_Empty(t *testing.T) {
	t.Parallel()
	env, err := config.LoadDotEnv(writeFile(t, ""))
	if err != nil || env == nil || len(env) != 0 {
		t.Fatalf("LoadDotEnv=(%v, %v), want an empty Env", env, err)
	}
}

func TestLoadDotEnv_Malformed(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-secret"
	tests := []struct {
		name, line, want string
	}{
		{"NoEquals", secret, "expected KEY=VALUE"},
		{"ExportNoEquals", "export FOO", "expected KEY=VALUE"},
		{"EmptyName", "=" + secret, "invalid variable name"},
		{"BadName", "MY KEY=" + secret, "invalid variable name"},
		{"DigitFirst", "1KEY=" + secret, "invalid variable name"},
		{"UnterminatedDouble", `KEY="` + secret, "KEY: unterminated double-quoted value"},
		{"UnterminatedEscape", `KEY="` + secret + `\"`, "KEY: unterminated double-quoted value"},
		{"UnterminatedSingle", "KEY='" + secret, "KEY: unterminated single-quoted value"},
		{"TextAfterDouble", `KEY="` + secret + `"x`, "KEY: unexpected text after the closing quote"},
		{"TextAfterSingle", `KEY='` + secret + `' x`, "KEY: unexpected text after the closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "# header\nOK=1\n"+tt.line+"\nLATER=2\n")
			env, err := config.LoadDotEnv(path)
			if err == nil {
				t.Fatalf("LoadDotEnv=%v, want an error", env)
			}
			if want := path + ":3: " + tt.want; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("err=%q, want it to start with %q", err, want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the value: %v", err)
			}
		})
	}
}

func TestLoadDotEnv_Unreadable(t *testing.T) {
	t.Parallel()
	if _, err := config.LoadDotEnv(t.TempDir()); err == nil {
		t.Fatal("LoadDotEnv of a directory succeeded, want an error")
	}
}

func TestEnv_WithDefaults(t *testing.T) {
	t.Parallel()
	real := config.Env{"PORT": "9000", "APP_ENV": "test", "SMTP_HOST": "", "ONLY_REAL": "r"}
	dot := config.Env{"PORT": "7000", "APP_ENV": "production", "SMTP_HOST": "smtp.example.com", "ONLY_DOT": "d"}
	got := real.WithDefaults(dot)
	want := config.Env{
		"PORT":      "9000",             // the real environment wins
		"APP_ENV":   "test",             //
		"SMTP_HOST": "smtp.example.com", // empty means unset, so .env fills it
		"ONLY_REAL": "r",
		"ONLY_DOT":  "d",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("WithDefaults mismatch (-want +got):\n%s", diff)
	}
	if real["SMTP_HOST"] != "" || dot["PORT"] != "7000" {
		t.Fatal("WithDefaults modified its inputs")
	}
	if got := config.Env(nil).WithDefaults(nil); got == nil || len(got) != 0 {
		t.Fatalf("nil.WithDefaults(nil)=%v, want an empty Env", got)
	}
}

func TestDotEnv_ThroughLoad(t *testing.T) {
	t.Parallel()
	dot, err := config.LoadDotEnv(writeFile(t, "PORT=7000\nRATE_LIMIT_MAX=20\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(config.Env{"PORT": "9000"}.WithDefaults(dot))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9000 || c.RateLimitMax != 20 {
		t.Fatalf("Port=%d RateLimitMax=%d, want 9000 20", c.Port, c.RateLimitMax)
	}
}

func TestFromOS(t *testing.T) {
	t.Parallel()
	env := config.FromOS()
	if path, ok := os.LookupEnv("PATH"); ok && env["PATH"] != path {
		t.Fatalf("FromOS()[PATH]=%q, want %q", env["PATH"], path)
	}
}
