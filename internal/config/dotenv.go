package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// LoadDotEnv reads a .env file of KEY=VALUE lines. Blank lines and lines
// starting with # are skipped, a line may start with "export ", and a value
// may be single-quoted (taken literally) or double-quoted (with \n, \r, \t,
// \" and \\ escapes); an unquoted value ends at " #". Values are never
// expanded. A missing file returns (nil, nil). A malformed line returns an
// error naming file:line, without the line's value.
//
// Merge the result under the real environment, which wins:
// FromOS().WithDefaults(dotenv).
func LoadDotEnv(path string) (Env, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read .env file: %w", err)
	}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	env := make(Env)
	for i, line := range strings.Split(text, "\n") {
		name, value, ok, err := parseDotEnvLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if ok {
			env[name] = value
		}
	}
	return env, nil
}

// parseDotEnvLine parses one line; ok is false for blank and comment lines.
func parseDotEnvLine(line string) (name, value string, ok bool, err error) {
	s := strings.TrimSpace(line) // also drops the \r of CRLF files
	if s == "" || s[0] == '#' {
		return "", "", false, nil
	}
	if rest, found := strings.CutPrefix(s, "export"); found && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		s = strings.TrimLeft(rest, " \t")
	}
	name, raw, found := strings.Cut(s, "=")
	if !found {
		return "", "", false, errors.New("expected KEY=VALUE")
	}
	name = strings.TrimRight(name, " \t")
	if !validName(name) {
		return "", "", false, errors.New("invalid variable name: expected letters, digits and _, not starting with a digit")
	}
	trimmed := strings.TrimLeft(raw, " \t")
	switch {
	case strings.HasPrefix(trimmed, `"`):
		value, err = doubleQuoted(trimmed)
	case strings.HasPrefix(trimmed, "'"):
		value, err = singleQuoted(trimmed)
	default:
		value = unquoted(raw)
	}
	if err != nil {
		return "", "", false, fmt.Errorf("%s: %w", name, err)
	}
	return name, value, true, nil
}

// singleQuoted returns a value that starts with a single quote, literally.
func singleQuoted(raw string) (string, error) {
	end := strings.IndexByte(raw[1:], '\'')
	if end < 0 {
		return "", errors.New("unterminated single-quoted value")
	}
	return raw[1 : 1+end], afterQuote(raw[2+end:])
}

// doubleQuoted decodes a value that starts with a double quote.
func doubleQuoted(raw string) (string, error) {
	var b strings.Builder
	for i := 1; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '"':
			return b.String(), afterQuote(raw[i+1:])
		case '\\':
			if i+1 == len(raw) {
				break
			}
			i++
			switch e := raw[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '"', '\\':
				b.WriteByte(e)
			default: // unknown escapes stay as written
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated double-quoted value")
}

// afterQuote checks that only a comment follows a closing quote.
func afterQuote(rest string) error {
	rest = strings.TrimSpace(rest)
	if rest == "" || rest[0] == '#' {
		return nil
	}
	return errors.New("unexpected text after the closing quote")
}

// unquoted strips a " # comment" and surrounding space from the text
// after "=".
func unquoted(raw string) string {
	for i := 1; i < len(raw); i++ {
		if raw[i] == '#' && (raw[i-1] == ' ' || raw[i-1] == '\t') {
			raw = raw[:i]
			break
		}
	}
	return strings.TrimSpace(raw)
}

// validName reports whether s is a portable environment variable name.
func validName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
