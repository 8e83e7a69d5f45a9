// Package i18ntest finds text that escaped translation in a page or an
// email rendered in the pseudo-locale en-XA, where every translated string
// is accented and bracketed ("[Ṁéɱƀéŕš ··]"): whatever plain English is
// left came from a hard-coded string.
package i18ntest

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Brands are words that stay as they are in every language: product and
// company names and technical terms. Tests add their own fixture data
// (user and workspace names) through Untranslated's allow.
var Brands = []string{
	"Atrium", "Stripe", "Google", "Microsoft", "GitHub", "Okta", "Entra", "OpenID Connect", "OIDC", "SAML", "SSO",
	"SCIM", "API", "REST", "JSON", "JSONL", "CSV", "HTTP", "HTTPS", "URL", "IP", "UTC", "TOTP", "WebAuthn",
	"SMTP", "DNS", "TXT", "OpenAPI", "Bearer", "HMAC", "SHA-256", "Webhook-Signature", "PostgreSQL", "SQLite",
	"Redis", "River", "curl", "Chrome", "Firefox", "Safari", "Edge", "Linux", "macOS", "Windows", "iPhone", "Android",
}

// skipped are elements whose content is not prose to translate.
var skipped = map[atom.Atom]bool{atom.Script: true, atom.Style: true, atom.Code: true, atom.Pre: true,
	atom.Kbd: true, atom.Samp: true, atom.Svg: true, atom.Math: true, atom.Template: true}

// checkedAttrs are the attributes people read or hear.
var checkedAttrs = []string{"placeholder", "aria-label", "title", "alt", "aria-description"}

var (
	pseudoRun = regexp.MustCompile(`\[[^\[\]]*\]`)
	noise     = regexp.MustCompile(`(?i)` +
		`[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}` + // email addresses
		`|https?://\S+` + // URLs
		`|(?:^|\s)/[\w./%?=&{}-]*` + // paths
		`|\b[a-z]+_[a-z0-9_]+\b` + // identifiers (price ids, codes)
		`|\b[a-z]+(?:\.[a-z_]+)+\b`) // dotted codes (member.invited, example.com)
	word = regexp.MustCompile(`[A-Za-z]{2,}`)
)

// Untranslated returns the text nodes and read attributes of doc that hold
// English left untranslated, each with the element it sits in. Ignored:
// code, pre, kbd, samp, script and style; elements with translate="no"
// (user data and identifiers, which browsers' translators also leave
// alone) or data-i18n-skip (text this product ships in English only, such
// as the built-in developer docs); e-mail addresses, URLs, paths and
// dotted or underscored codes; Brands and the allow list.
func Untranslated(doc string, allow ...string) []string {
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		return []string{"unparsable HTML: " + err.Error()}
	}
	allowed := append(append([]string(nil), allow...), Brands...)
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if skipped[n.DataAtom] || attr(n, "translate") == "no" || hasAttr(n, "data-i18n-skip") {
				return
			}
			for _, a := range checkedAttrs {
				if v, ok := attrOK(n, a); ok && plain(v, allowed) {
					out = append(out, "<"+n.Data+" "+a+"=\""+v+"\">")
				}
			}
			if n.DataAtom == atom.Input && (attr(n, "type") == "submit" || attr(n, "type") == "button") {
				if v := attr(n, "value"); plain(v, allowed) {
					out = append(out, "<input value=\""+v+"\">")
				}
			}
		}
		if n.Type == html.TextNode && plain(n.Data, allowed) {
			where := ""
			if n.Parent != nil {
				where = n.Parent.Data
			}
			out = append(out, "<"+where+">"+strings.TrimSpace(n.Data))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

// UntranslatedText is Untranslated for plain text (an email's text part).
func UntranslatedText(text string, allow ...string) []string {
	var out []string
	allowed := append(append([]string(nil), allow...), Brands...)
	for line := range strings.SplitSeq(text, "\n") {
		if plain(line, allowed) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// plain reports whether s holds a word of English outside the
// pseudo-localized runs and the allowed words.
func plain(s string, allowed []string) bool {
	for {
		t := pseudoRun.ReplaceAllString(s, " ")
		if t == s {
			break
		}
		s = t
	}
	// A message whose placeholder is an element (an actor's name, a link)
	// is split across text nodes: the node before it opens the bracket,
	// the one after closes it.
	if i := strings.IndexByte(s, ']'); i >= 0 && !strings.Contains(s[:i], "[") {
		s = s[i+1:]
	}
	if i := strings.LastIndexByte(s, '['); i >= 0 && !strings.Contains(s[i:], "]") {
		s = s[:i]
	}
	for _, a := range allowed {
		if a != "" {
			s = strings.ReplaceAll(s, a, " ")
		}
	}
	s = noise.ReplaceAllString(s, " ")
	return word.MatchString(s)
}

func attr(n *html.Node, name string) string {
	v, _ := attrOK(n, name)
	return v
}

func hasAttr(n *html.Node, name string) bool {
	_, ok := attrOK(n, name)
	return ok
}

func attrOK(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}
