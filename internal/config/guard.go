package config

import (
	"slices"
	"strings"
)

// GuardMessage starts the message of every GuardError.
const GuardMessage = "Build guard detected server-only secrets"

// guardFix is the second line of a GuardError's message.
const guardFix = "Remove the PUBLIC_ prefix from these variables (only PUBLIC_* values are ever sent to browsers) or move the value to a server-only variable."

// GuardError reports PUBLIC_* variables that look like server-only secrets.
// Only their names are kept: the values must not reach a log.
type GuardError struct {
	Names []string // sorted variable names
}

// Error names the variables on a first line and says how to fix them on a
// second.
func (e *GuardError) Error() string {
	return GuardMessage + ": " + strings.Join(e.Names, ", ") + "\n" + guardFix
}

// SecretGuard returns the sorted names of PUBLIC_* variables whose name or
// value looks like a server-only secret, since PUBLIC_* values are rendered
// into pages. Unset (empty) variables are ignored. It returns nil when none
// does.
func SecretGuard(env Env) []string {
	var names []string
	for name, value := range env {
		rest, ok := strings.CutPrefix(name, "PUBLIC_")
		if !ok || !isSet(value) {
			continue
		}
		value = strings.TrimSpace(value)
		if secretName(rest, value) || secretValue(value) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// secretName reports whether a PUBLIC_ variable's name (without the
// prefix) suggests a secret: it holds SECRET, PASSWORD, PASSWD, TOKEN or
// PRIVATE, or a word ending in KEY. A publishable key (pk_…) is meant for
// browsers and passes.
func secretName(rest, value string) bool {
	n := strings.ToUpper(rest)
	if strings.HasPrefix(value, "pk_") {
		n = strings.ReplaceAll(n, "PUBLISHABLE_KEY", "")
	}
	for _, word := range []string{"SECRET", "PASSWORD", "PASSWD", "TOKEN", "PRIVATE"} {
		if strings.Contains(n, word) {
			return true
		}
	}
	// A KEY word (API_KEY, KEY_ID, APIKEY, API_KEYS) but not KEYWORDS or
	// KEYBOARD, which are not secrets.
	for word := range strings.SplitSeq(n, "_") {
		if strings.HasSuffix(word, "KEY") || strings.HasSuffix(word, "KEYS") {
			return true
		}
	}
	return false
}

// secretValue reports whether a value looks like a Stripe secret or
// restricted key, a webhook signing secret or a PEM private key.
func secretValue(value string) bool {
	for _, prefix := range []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "rk_", "whsec_"} {
		if strings.HasPrefix(value, prefix) {
			return true
		}
	}
	return strings.Contains(value, "-----BEGIN")
}
