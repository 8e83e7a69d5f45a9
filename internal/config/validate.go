package config

import (
	"fmt"
	"log/slog"
	"math"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Problem is one invalid variable (or combination of variables).
type Problem struct {
	Var string // the variable's name, e.g. "RATE_LIMIT_MAX"
	// Value is the offending value as it may be shown: Go-quoted ("\"abc\""),
	// "(value hidden)" for secret variables, or "" when the problem is not
	// about the variable's own value (a required variable, say).
	Value   string
	Message string // what is expected, e.g. "expected a whole number of requests, at least 10"
}

// hiddenValue stands in for the value of a secret variable.
const hiddenValue = "(value hidden)"

// String formats p as one line: `RATE_LIMIT_MAX="abc": expected ...`.
func (p Problem) String() string {
	if p.Value == "" {
		return p.Var + ": " + p.Message
	}
	return p.Var + "=" + p.Value + ": " + p.Message
}

// ValidationError lists every problem Load found, in the order the
// variables are read.
type ValidationError struct {
	Problems []Problem
}

// Error returns one line per problem.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

const maxInt = math.MaxInt

// loader reads variables from env and collects the problems it finds, so
// that Load reports all of them at once.
type loader struct {
	env      Env
	problems []Problem
}

// add records a problem.
func (l *loader) add(p Problem) { l.problems = append(l.problems, p) }

// problem records a problem with name's current value, hidden if secret.
func (l *loader) problem(name, message string) {
	l.add(Problem{Var: name, Value: shownValue(name, l.env[name]), Message: message})
}

// shownValue returns how a variable's value may appear in an error message:
// secrets are hidden, and URLs that may carry a password are redacted.
func shownValue(name, raw string) string {
	if strings.HasPrefix(name, "OIDC_") && strings.HasSuffix(name, "_CLIENT_SECRET") {
		return hiddenValue
	}
	switch name {
	case "SMTP_PASSWORD", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET":
		return hiddenValue
	case "DATABASE_URL", "REDIS_URL":
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Query().Has("password") {
			return hiddenValue
		}
		return strconv.Quote(u.Redacted())
	}
	return strconv.Quote(raw)
}

// value returns name's value with surrounding space trimmed, "" if unset.
func (l *loader) value(name string) string { return strings.TrimSpace(l.env[name]) }

// str returns name's value, or def when unset.
func (l *loader) str(name, def string) string {
	if v := l.value(name); v != "" {
		return v
	}
	return def
}

// secretKey reads an optional key: empty, or at least min characters.
func (l *loader) secretKey(name string, min int) string {
	v := l.value(name)
	if v != "" && len(v) < min {
		l.add(Problem{Var: name, Message: fmt.Sprintf("expected at least %d characters (openssl rand -base64 32 makes one), or leave it unset", min)})
		return ""
	}
	return v
}

// int parses a whole number in [lo, hi]; ok is false when it was invalid.
func (l *loader) int(name string, def, lo, hi int, expected string) (n int, ok bool) {
	v := l.value(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		l.problem(name, expected)
		return def, false
	}
	return n, true
}

// duration parses a whole number of units, at least lo.
func (l *loader) duration(name string, def, lo int, unit time.Duration, expected string) time.Duration {
	n, _ := l.int(name, def, lo, int(math.MaxInt64/int64(unit)), expected)
	return time.Duration(n) * unit
}

// bool parses true/false, 1/0, yes/no or on/off, in any case.
func (l *loader) bool(name string, def bool) bool {
	switch strings.ToLower(l.value(name)) {
	case "":
		return def
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	}
	l.problem(name, "expected true or false (or 1/0, yes/no, on/off)")
	return def
}

// choice returns name's value, lower-cased, when it is one of choices.
func (l *loader) choice(name, def, expected string, choices ...string) string {
	v := strings.ToLower(l.value(name))
	if v == "" {
		return def
	}
	for _, c := range choices {
		if v == c {
			return v
		}
	}
	l.problem(name, expected)
	return def
}

// appURL parses the site's public base URL: an absolute http(s) URL with a
// host and nothing after it but an optional "/".
func (l *loader) appURL(name, def string) *url.URL {
	u, err := url.Parse(l.str(name, def))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" {
		l.problem(name, "expected an absolute http:// or https:// URL with a host and no path or query, like https://atrium.example.com")
		u, _ = url.Parse(def)
	}
	u.Path, u.RawPath = "", ""
	return u
}

// database parses DATABASE_URL: sqlite:PATH, sqlite://PATH, file:PATH,
// postgres://… or postgresql://….
func (l *loader) database(name, def string) Database {
	v := l.str(name, def)
	lower := strings.ToLower(v)
	for _, prefix := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if strings.HasPrefix(lower, prefix) {
			if path := v[len(prefix):]; path != "" {
				return Database{Driver: DriverSQLite, DSN: path}
			}
			break
		}
	}
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		if u, err := url.Parse(v); err == nil && u.Hostname() != "" {
			return Database{Driver: DriverPostgres, DSN: v}
		}
	}
	l.problem(name, "expected sqlite:PATH or postgres://user@host/db")
	return Database{}
}

// smtp reads the SMTP_* variables.
func (l *loader) smtp() SMTP {
	s := SMTP{
		Host:     l.value("SMTP_HOST"),
		Username: l.value("SMTP_USERNAME"),
		From:     l.str("SMTP_FROM", "Atrium <no-reply@localhost>"),
		TLS: l.choice("SMTP_TLS", TLSMandatory, "expected mandatory, opportunistic, none or implicit",
			TLSMandatory, TLSOpportunistic, TLSNone, TLSImplicit),
	}
	if isSet(l.env["SMTP_PASSWORD"]) {
		s.Password = l.env["SMTP_PASSWORD"] // verbatim: spaces may belong to a password
	}
	if s.Host != "" && !validHost(s.Host) {
		l.problem("SMTP_HOST", "expected a host name without scheme or port, like smtp.example.com (the port goes in SMTP_PORT)")
	}
	defPort := 587
	if s.TLS == TLSImplicit {
		defPort = 465
	}
	s.Port, _ = l.int("SMTP_PORT", defPort, 1, 65535, "expected a port number from 1 to 65535")
	if _, err := mail.ParseAddress(s.From); err != nil {
		l.problem("SMTP_FROM", `expected an email address, like "Atrium <no-reply@example.com>" or no-reply@example.com`)
	}
	if s.Host != "" && s.Password != "" && s.Username == "" {
		l.add(Problem{Var: "SMTP_USERNAME", Message: "required when SMTP_PASSWORD is set"})
	}
	return s
}

// validHost reports whether h is a bare host name or IP address.
func validHost(h string) bool {
	if strings.ContainsAny(h, " \t/@") {
		return false
	}
	if strings.Contains(h, ":") { // only an IPv6 address may hold colons
		_, err := netip.ParseAddr(strings.Trim(h, "[]"))
		return err == nil
	}
	return true
}

// stripe reads the STRIPE_* variables and checks that the key's kind
// matches STRIPE_LIVE_MODE, so test keys never run in live mode or the
// other way round. Key values never appear in messages.
func (l *loader) stripe() Stripe {
	s := Stripe{
		SecretKey:       l.value("STRIPE_SECRET_KEY"),
		WebhookSecret:   l.value("STRIPE_WEBHOOK_SECRET"),
		PriceID:         l.value("STRIPE_PRICE_ID"),
		ProAnnual:       l.value("STRIPE_PRICE_PRO_ANNUAL"),
		BusinessMonthly: l.value("STRIPE_PRICE_BUSINESS_MONTHLY"),
		BusinessAnnual:  l.value("STRIPE_PRICE_BUSINESS_ANNUAL"),
		Currency:        strings.ToLower(l.str("BILLING_CURRENCY", "usd")),
	}
	for _, v := range []string{"STRIPE_PRICE_ID", "STRIPE_PRICE_PRO_ANNUAL", "STRIPE_PRICE_BUSINESS_MONTHLY", "STRIPE_PRICE_BUSINESS_ANNUAL"} {
		if id := l.value(v); id != "" && !strings.HasPrefix(id, "price_") {
			l.problem(v, "expected a Stripe price id (price_…)")
		}
	}
	if len(s.Currency) != 3 || strings.Trim(s.Currency, "abcdefghijklmnopqrstuvwxyz") != "" {
		l.problem("BILLING_CURRENCY", "expected a three-letter ISO 4217 currency code, like usd or eur")
	}
	before := len(l.problems)
	s.LiveMode = l.bool("STRIPE_LIVE_MODE", false)
	modeOK := len(l.problems) == before
	// Stripe Tax must be turned on in the Stripe dashboard first, or
	// Checkout refuses every session (RUNBOOK.md, "Turning on Stripe Tax").
	s.AutomaticTax = l.bool("STRIPE_AUTOMATIC_TAX", false)

	if s.SecretKey != "" && modeOK {
		isLive := strings.HasPrefix(s.SecretKey, "sk_live_") || strings.HasPrefix(s.SecretKey, "rk_live_")
		isTest := strings.HasPrefix(s.SecretKey, "sk_test_") || strings.HasPrefix(s.SecretKey, "rk_test_")
		switch {
		case s.LiveMode && isTest:
			l.problem("STRIPE_SECRET_KEY", "is a test key but STRIPE_LIVE_MODE=true; expected a live key (sk_live_… or rk_live_…), or set STRIPE_LIVE_MODE=false")
		case !s.LiveMode && isLive:
			l.problem("STRIPE_SECRET_KEY", "is a live key but STRIPE_LIVE_MODE is false; expected a test key (sk_test_… or rk_test_…), or set STRIPE_LIVE_MODE=true to take real payments")
		case !isLive && !isTest:
			l.problem("STRIPE_SECRET_KEY", "expected a Stripe secret key: sk_test_… or rk_test_…, or sk_live_… or rk_live_… with STRIPE_LIVE_MODE=true")
		}
	}

	if v := l.value("STRIPE_API_BASE"); v != "" {
		u, err := url.Parse(v)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
			l.problem("STRIPE_API_BASE", "expected an absolute http:// or https:// URL, like http://localhost:12111")
		case s.LiveMode:
			l.problem("STRIPE_API_BASE", "must be unset when STRIPE_LIVE_MODE=true (it replaces the real Stripe API)")
		default:
			s.APIBase = strings.TrimRight(v, "/")
		}
	}
	return s
}

// email parses a bare email address, like hello@example.com.
func (l *loader) email(name, def string) string {
	v := l.str(name, def)
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		l.problem(name, "expected an email address, like hello@example.com")
		return def
	}
	return v
}

// priceLabel reads a label shown on the pricing page. Such a label is
// rendered into pages although its name lacks PUBLIC_, so a value shaped
// like a secret is refused, as the secret guard refuses it in PUBLIC_*.
func (l *loader) priceLabel(name, def string) string {
	v := l.str(name, def)
	if secretValue(v) {
		l.add(Problem{Var: name, Value: hiddenValue,
			Message: "looks like a secret key; expected a price to show on the pricing page, like \"$29 per workspace / month\""})
		return def
	}
	return v
}

// redisURL checks an optional redis:// or rediss:// URL.
func (l *loader) redisURL(name string) string {
	v := l.value(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Hostname() == "" {
		l.problem(name, "expected redis://[user:password@]host:port[/db] or rediss://…")
		return ""
	}
	return v
}

// prefixes parses a comma-separated list of IP addresses and CIDR prefixes;
// a bare address becomes a /32 (IPv4) or /128 (IPv6) prefix.
func (l *loader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for item := range strings.SplitSeq(l.value(name), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(item, "/") {
			p, err = netip.ParsePrefix(item)
			p = p.Masked()
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(item)
			if err == nil && a.Zone() != "" {
				err = fmt.Errorf("zone")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil {
			l.problem(name, fmt.Sprintf("%q is not an IP address or CIDR prefix; expected a comma-separated list like 10.0.0.0/8, 192.0.2.7", item))
			continue
		}
		out = append(out, p)
	}
	return out
}

// logLevel parses debug, info, warn (or warning) or error.
func (l *loader) logLevel(name string) slog.Level {
	switch strings.ToLower(l.value(name)) {
	case "", "info":
		return slog.LevelInfo
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	l.problem(name, "expected debug, info, warn or error")
	return slog.LevelInfo
}
