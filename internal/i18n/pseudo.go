package i18n

import (
	"strings"
	"unicode"
	"unicode/utf8"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// accents are the pseudo-locale's stand-ins for ASCII letters.
var accents = map[rune]rune{
	'a': 'á', 'b': 'ƀ', 'c': 'ç', 'd': 'ð', 'e': 'é', 'f': 'ƒ', 'g': 'ĝ', 'h': 'ĥ', 'i': 'î', 'j': 'ĵ', 'k': 'ķ',
	'l': 'ļ', 'm': 'ɱ', 'n': 'ñ', 'o': 'ö', 'p': 'þ', 'q': 'ǫ', 'r': 'ŕ', 's': 'š', 't': 'ţ', 'u': 'û', 'v': 'ṽ',
	'w': 'ŵ', 'x': 'ẋ', 'y': 'ý', 'z': 'ž',
	'A': 'Á', 'B': 'Ɓ', 'C': 'Ç', 'D': 'Ð', 'E': 'É', 'F': 'Ƒ', 'G': 'Ĝ', 'H': 'Ĥ', 'I': 'Î', 'J': 'Ĵ', 'K': 'Ķ',
	'L': 'Ļ', 'M': 'Ṁ', 'N': 'Ñ', 'O': 'Ö', 'P': 'Þ', 'Q': 'Ǫ', 'R': 'Ŕ', 'S': 'Š', 'T': 'Ţ', 'U': 'Û', 'V': 'Ṽ',
	'W': 'Ŵ', 'X': 'Ẋ', 'Y': 'Ý', 'Z': 'Ž',
}

// PseudoText returns s pseudo-localized: every ASCII letter accented,
// about 30% longer, in brackets. Template actions ({{.Name}}), fmt verbs
// (%s) and markup tags stay as they are, so the message still renders.
func PseudoText(s string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	b.WriteString("[")
	letters := 0
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			end := strings.Index(s[i:], "}}")
			if end < 0 {
				end = len(s) - i - 2
			}
			b.WriteString(s[i : i+end+2])
			i += end + 2
			continue
		case s[i] == '%' && i+1 < len(s):
			// A fmt verb (%s, %d, %.2f, %%) of an errors.json format.
			j := i + 1
			for j < len(s) && strings.IndexByte("+-# 0123456789.", s[j]) >= 0 {
				j++
			}
			if j < len(s) {
				b.WriteString(s[i : j+1])
				i = j + 1
				continue
			}
		case s[i] == '<':
			if end := strings.IndexByte(s[i:], '>'); end > 0 {
				b.WriteString(s[i : i+end+1])
				i += end + 1
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if a, ok := accents[r]; ok {
			b.WriteRune(a)
		} else {
			b.WriteRune(r)
		}
		if unicode.IsLetter(r) {
			letters++
		}
		i += size
	}
	if pad := (letters*3 + 9) / 10; pad > 0 {
		b.WriteString(" " + strings.Repeat("·", pad))
	}
	b.WriteString("]")
	return b.String()
}

// pseudoMessage is m with every form pseudo-localized.
func pseudoMessage(m *goi18n.Message) *goi18n.Message {
	// Formats are not prose: the date order and money layout stay English.
	if strings.HasSuffix(m.ID, ".format") {
		return m
	}
	p := *m
	for _, f := range []*string{&p.Zero, &p.One, &p.Two, &p.Few, &p.Many, &p.Other} {
		*f = PseudoText(*f)
	}
	return &p
}
