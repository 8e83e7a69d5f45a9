package i18n

import (
	"fmt"
	"html"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"atrium/internal/app"
)

// Printer renders messages, dates, numbers and money in one language.
// Messages are compiled once, when the catalog loads: a message whose
// template actions are all plain placeholders ({{.Name}}) is kept as its
// pieces, so filling it costs a few string appends instead of a
// text/template run; anything else goes through go-i18n.
type Printer struct {
	tag       language.Tag
	lang      string // tag as a BCP 47 string, made once
	localizer *goi18n.Localizer
	numbers   *message.Printer
	// compiled holds every key of the language (English for a key the
	// language lacks), or nil for a message only go-i18n can render.
	compiled map[string]*compiledMessage
	// plain holds the messages that are one piece of text (most of a
	// page's words) by value, so looking one up reads no further than
	// the map: the hot path of T, HTML and Sprintf.
	plain map[string]plainMessage
	// fields names the placeholders of each message that is not compiled,
	// for WriteHTML.
	fields map[string][]string
	// plainDigits says the language writes numbers in ASCII digits, so
	// one below a thousand needs no formatting.
	plainDigits bool
}

func newPrinter(c *Catalog, tag language.Tag) *Printer {
	p := &Printer{tag: tag, lang: tag.String(), localizer: goi18n.NewLocalizer(c.bundle, tag.String()), numbers: message.NewPrinter(tag),
		compiled: map[string]*compiledMessage{}, plain: map[string]plainMessage{}, fields: map[string][]string{}}
	p.plainDigits = p.numbers.Sprintf("%d", -987) == "-987"
	for key, m := range c.messages[Source] {
		if own, ok := c.messages[tag][key]; ok {
			m = own
		}
		p.add(key, m)
	}
	for key, m := range c.messages[tag] {
		if _, ok := p.compiled[key]; !ok {
			p.add(key, m)
		}
	}
	return p
}

// templateAction finds a message's template actions, fieldAction the
// fields one reads: .Name in {{.Name}} or in {{if .Name}}.
var (
	templateAction = regexp.MustCompile(`{{(.*?)}}`)
	fieldAction    = regexp.MustCompile(`\.([A-Za-z_][A-Za-z_0-9]*)`)
)

func (p *Printer) add(key string, m *goi18n.Message) {
	c := compile(m)
	p.compiled[key] = c
	if c != nil {
		if other := c.forms[plural.Other]; len(other) == 1 && other[0].name == "" {
			p.plain[key] = plainMessage{text: other[0].text, html: other[0].html}
		}
		return
	}
	var names []string
	for _, form := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		for _, action := range templateAction.FindAllStringSubmatch(form, -1) {
			for _, f := range fieldAction.FindAllStringSubmatch(action[1], -1) {
				if !slices.Contains(names, f[1]) {
					names = append(names, f[1])
				}
			}
		}
	}
	p.fields[key] = names
}

// Tag returns the printer's language.
func (p *Printer) Tag() language.Tag { return p.tag }

// Lang returns the printer's language as a BCP 47 tag ("de", "en-XA"), for
// <html lang> and Content-Language.
func (p *Printer) Lang() string { return p.lang }

// T returns the message key with its placeholders filled from args, given
// as name, value pairs: T("members.removed", "Name", "Ada"). A key missing
// from the catalog returns the key itself, which the completeness tests
// catch.
func (p *Printer) T(key string, args ...any) string {
	if m, ok := p.plain[key]; ok {
		return m.text
	}
	if m, ok := p.compiled[key]; ok && m != nil {
		return m.fill(plural.Other, args, "")
	}
	return p.localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data(args)}, key)
}

// N returns the plural form of key for count (CLDR rules of the
// language), with {{.Count}} and the placeholders of args filled.
func (p *Printer) N(key string, count int, args ...any) string {
	n := p.Number(int64(count))
	if m, ok := p.compiled[key]; ok && m != nil {
		return m.fill(plural.Cardinal.MatchPlural(p.tag, count, 0, 0, 0, 0), args, n)
	}
	d := data(args)
	d["Count"] = n
	return p.localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: d, PluralCount: count}, key)
}

// compiledMessage is a message's plural forms, each as its pieces (nil
// for a form the message does not have), indexed by plural.Form.
type compiledMessage struct {
	forms [plural.Many + 1][]piece
}

// plainMessage is a message that is one piece of text, and that text
// escaped for HTML.
type plainMessage struct{ text, html string }

// piece is literal text, or a placeholder when name is set. html is the
// text escaped for HTML once, at compile time, for the pages that write
// it (Text, WriteHTML).
type piece struct{ text, name, html string }

// compile returns m's forms as pieces, or nil when a form holds a
// template action other than a plain placeholder.
func compile(m *goi18n.Message) *compiledMessage {
	c := &compiledMessage{}
	for form, text := range map[plural.Form]string{plural.Zero: m.Zero, plural.One: m.One, plural.Two: m.Two,
		plural.Few: m.Few, plural.Many: m.Many, plural.Other: m.Other} {
		if text == "" {
			continue
		}
		var pieces []piece
		for text != "" {
			i := strings.Index(text, "{{")
			if i < 0 {
				pieces = append(pieces, piece{text: text, html: html.EscapeString(text)})
				break
			}
			j := strings.Index(text[i:], "}}")
			if j < 0 {
				return nil
			}
			name, ok := placeholder(text[i+2 : i+j])
			if !ok {
				return nil
			}
			if i > 0 {
				pieces = append(pieces, piece{text: text[:i], html: html.EscapeString(text[:i])})
			}
			pieces = append(pieces, piece{name: name})
			text = text[i+j+2:]
		}
		c.forms[form] = pieces
	}
	if c.forms[plural.Other] == nil {
		return nil // go-i18n wants an "other" form
	}
	return c
}

// pieces returns the form's pieces, Other's when the message has no such
// form.
func (m *compiledMessage) pieces(form plural.Form) []piece {
	if int(form) < len(m.forms) && m.forms[form] != nil {
		return m.forms[form]
	}
	return m.forms[plural.Other]
}

// Has reports whether the language, or English, defines key.
func (p *Printer) Has(key string) bool {
	_, ok := p.compiled[key]
	return ok
}

// HTML returns the message key, which has no placeholders, escaped for
// HTML: the escaping was done when the catalog loaded.
func (p *Printer) HTML(key string) string {
	if m, ok := p.plain[key]; ok {
		return m.html
	}
	return html.EscapeString(p.T(key))
}

// WriteHTML writes the message key to w as HTML: its text escaped, and
// each placeholder written by fill(w, name), which escapes what it
// writes. It is how a sentence holding links or other markup is rendered
// without building the sentence as a string first.
func (p *Printer) WriteHTML(w io.Writer, key string, fill func(w io.Writer, name string) error) error {
	m := p.compiled[key]
	if m == nil {
		return p.writeTemplateHTML(w, key, fill)
	}
	for _, pc := range m.pieces(plural.Other) {
		var err error
		if pc.name == "" {
			_, err = io.WriteString(w, pc.html)
		} else {
			err = fill(w, pc.name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeTemplateHTML is WriteHTML for a message only go-i18n can render:
// each placeholder is filled with a marker, the marked text split at them.
func (p *Printer) writeTemplateHTML(w io.Writer, key string, fill func(w io.Writer, name string) error) error {
	var args []any
	for _, name := range p.fields[key] {
		args = append(args, name, "\x00"+name+"\x00")
	}
	for i, part := range strings.Split(p.T(key, args...), "\x00") {
		var err error
		if i%2 == 1 {
			err = fill(w, part)
		} else {
			_, err = io.WriteString(w, html.EscapeString(part))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// placeholder returns the name of an action that is a plain field,
// " .Name ", and whether it is one.
func placeholder(action string) (string, bool) {
	action = strings.TrimSpace(action)
	if !strings.HasPrefix(action, ".") || len(action) < 2 {
		return "", false
	}
	for _, r := range action[1:] {
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return "", false
		}
	}
	return action[1:], true
}

// fill writes the form (Other when the message has no such form) with
// each placeholder's value from args, count for {{.Count}}; a value args
// lacks reads "<no value>", as text/template writes it.
func (m *compiledMessage) fill(form plural.Form, args []any, count string) string {
	pieces := m.pieces(form)
	if len(pieces) == 1 && pieces[0].name == "" {
		return pieces[0].text
	}
	var b strings.Builder
	b.Grow(64)
	for _, pc := range pieces {
		if pc.name == "" {
			b.WriteString(pc.text)
			continue
		}
		b.WriteString(value(pc.name, args, count))
	}
	return b.String()
}

// value returns the placeholder name's value among args.
func value(name string, args []any, count string) string {
	if name == "Count" && count != "" {
		return count
	}
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == name {
			switch v := args[i+1].(type) {
			case string:
				return v
			case fmt.Stringer:
				return v.String()
			case int:
				return strconv.Itoa(v)
			default:
				return fmt.Sprint(v)
			}
		}
	}
	return "<no value>"
}

func (p *Printer) localize(lc *goi18n.LocalizeConfig, key string) string {
	s, err := p.localizer.Localize(lc)
	if err != nil && s == "" {
		return key
	}
	return s
}

// data turns name, value pairs into template data.
func data(args []any) map[string]any {
	d := make(map[string]any, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		d[fmt.Sprint(args[i])] = args[i+1]
	}
	return d
}

// Number formats a whole number with the language's grouping: 1,234,567
// in English, 1.234.567 in German.
func (p *Printer) Number(n int64) string {
	if p.plainDigits && n > -1000 && n < 1000 {
		return strconv.FormatInt(n, 10) // no grouping below a thousand
	}
	return p.numbers.Sprintf("%d", n)
}

// Date formats a day in loc the way the language writes it: "5 Dec 2026",
// "5. Dez. 2026". The month names and the order are catalog messages
// (date.month.1 … date.month.12, date.format).
func (p *Printer) Date(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	m := p.compiled["date.format"]
	if m == nil {
		return p.T("date.format", "Day", strconv.Itoa(t.Day()), "Month", p.T("date.month."+strconv.Itoa(int(t.Month()))),
			"Year", strconv.Itoa(t.Year()))
	}
	// The hot path of every table of dates: the pieces filled in place,
	// with no argument list to build.
	var b strings.Builder
	b.Grow(24)
	p.appendDate(&b, m, t)
	return b.String()
}

// appendDate writes t's day to b through date.format's pieces.
func (p *Printer) appendDate(b *strings.Builder, m *compiledMessage, t time.Time) {
	var num [8]byte
	for _, pc := range m.forms[plural.Other] {
		switch pc.name {
		case "":
			b.WriteString(pc.text)
		case "Day":
			b.Write(strconv.AppendInt(num[:0], int64(t.Day()), 10))
		case "Month":
			b.WriteString(p.T(monthKeys[t.Month()]))
		case "Year":
			b.Write(strconv.AppendInt(num[:0], int64(t.Year()), 10))
		default:
			b.WriteString("<no value>")
		}
	}
}

// monthKeys are the catalog keys of the months' names, by time.Month.
var monthKeys = [13]string{"", "date.month.1", "date.month.2", "date.month.3", "date.month.4", "date.month.5",
	"date.month.6", "date.month.7", "date.month.8", "date.month.9", "date.month.10", "date.month.11", "date.month.12"}

// DateTime formats t in loc with its time of day and zone: "5 Dec 2026,
// 14:03 CET" (the order is the catalog message date.time_format).
func (p *Printer) DateTime(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	m, dm := p.compiled["date.time_format"], p.compiled["date.format"]
	if m == nil || dm == nil {
		return p.T("date.time_format", "Date", p.Date(t, nil), "Time", t.Format("15:04"), "Zone", t.Format("MST"))
	}
	var b strings.Builder
	b.Grow(40)
	var buf [16]byte
	for _, pc := range m.forms[plural.Other] {
		switch pc.name {
		case "":
			b.WriteString(pc.text)
		case "Date":
			p.appendDate(&b, dm, t)
		case "Time":
			b.Write(t.AppendFormat(buf[:0], "15:04"))
		case "Zone":
			b.Write(t.AppendFormat(buf[:0], "MST"))
		default:
			b.WriteString("<no value>")
		}
	}
	return b.String()
}

// Sprintf looks format up as a key (English text is its own key, as
// errors.json lists) and fills the translation with args the fmt way. A
// format no catalog lists is used as it is.
func (p *Printer) Sprintf(format string, args ...any) string {
	if m, ok := p.plain[format]; ok {
		format = m.text
	}
	return sprintf(format, args)
}

// sprintf is fmt.Sprintf that leaves a format without arguments alone, so
// a literal "%" in a message stays.
func sprintf(format string, args []any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// Money formats an amount in a currency's smallest unit (as Stripe counts
// it) with the language's separators and the symbol where the language
// puts it: "$1,234.50" in English, "1.234,50 $" in German.
func (p *Printer) Money(amount int64, currency string) string {
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	var n string
	if app.ZeroDecimal(currency) {
		n = p.Number(amount)
	} else {
		n = p.numbers.Sprintf("%.2f", float64(amount)/100)
	}
	sym, ok := app.CurrencySymbol(currency)
	if !ok {
		// A currency without a sign here is written with its code after
		// the amount, as app.FormatMoney does: "12.00 CHF".
		return sign + p.T("money.format_code", "Amount", n, "Code", strings.ToUpper(currency))
	}
	return sign + p.T("money.format", "Amount", n, "Symbol", sym)
}
