package mail

import (
	"fmt"
	htmltemplate "html/template"
	"strings"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// tr is what every email's templates use to write in the recipient's
// language: {{.T "mail.login.subject" "AppName" .AppName}} in a text part,
// {{.H …}} in an HTML part. Catalog messages break their lines the way the
// text part shows them; the HTML part joins them into one.
type tr struct {
	p *i18n.Printer
}

// Lang is the recipient's language, for <html lang>.
func (t tr) Lang() string { return t.p.Tag().String() }

// T returns the message key with its placeholders filled from args (name,
// value pairs), as plain text.
func (t tr) T(key string, args ...any) string { return t.p.T(key, args...) }

// S returns a Sentence in the recipient's language, as plain text.
func (t tr) S(s app.Sentence) string { return t.p.T(s.Key, s.Args...) }

// H returns the message key as HTML on one line: the message's text
// escaped, a placeholder whose value is htmltemplate.HTML (a <strong>, a
// link) put in as it is, any other value escaped. A translator can so move
// a link or an emphasis within the sentence.
func (t tr) H(key string, args ...any) htmltemplate.HTML {
	data := make([]any, 0, len(args))
	parts := map[string]htmltemplate.HTML{}
	for i := 0; i+1 < len(args); i += 2 {
		name := fmt.Sprint(args[i])
		switch v := args[i+1].(type) {
		case htmltemplate.HTML:
			parts[name] = v
			data = append(data, name, "\x00"+name+"\x00")
		default:
			data = append(data, name, "\x00="+htmltemplate.HTMLEscapeString(strings.ReplaceAll(fmt.Sprint(v), "\x00", ""))+"\x00")
		}
	}
	var b strings.Builder
	for i, piece := range strings.Split(t.p.T(key, data...), "\x00") {
		switch {
		case i%2 == 0:
			b.WriteString(textEscaper.Replace(piece))
		case strings.HasPrefix(piece, "="):
			b.WriteString(piece[1:])
		default:
			b.WriteString(string(parts[piece]))
		}
	}
	return htmltemplate.HTML(strings.ReplaceAll(b.String(), "\n", " "))
}

// HS is H for a Sentence.
func (t tr) HS(s app.Sentence) htmltemplate.HTML { return t.H(s.Key, s.Args...) }

// Strong returns s escaped in <strong>, a value for H.
func (t tr) Strong(s string) htmltemplate.HTML {
	return htmltemplate.HTML("<strong>" + htmltemplate.HTMLEscapeString(s) + "</strong>")
}

// Link returns a link to href with the message key as its text, a value
// for H.
func (t tr) Link(href, key string) htmltemplate.HTML {
	return htmltemplate.HTML(`<a href="` + htmltemplate.HTMLEscapeString(safeURL(href)) + `">` +
		textEscaper.Replace(t.p.T(key)) + "</a>")
}

// textEscaper escapes a catalog message's own text for HTML. Quotes and
// apostrophes stay: the text is never put in an attribute.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// safeURL returns u when it is an http(s) link, else html/template's
// "#ZgotmplZ" (a link in an email never runs script).
func safeURL(u string) string {
	l := strings.ToLower(strings.TrimSpace(u))
	if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
		return u
	}
	return "#ZgotmplZ"
}

// printerFor returns the catalog's printer for a saved language, English
// when lang is "" or not shipped. The notices the store builds have no
// request to take a language from.
func printerFor(c *i18n.Catalog, lang string) *i18n.Printer {
	return c.Printer(c.Match(lang, ""))
}
