package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"atrium/internal/app"
)

// Printer renders messages, dates, numbers and money in one language.
// Messages without placeholders or plural forms are looked up once and
// kept, so a page's fixed text costs a map read.
type Printer struct {
	tag       language.Tag
	localizer *goi18n.Localizer
	numbers   *message.Printer
	plain     sync.Map // key → string, for messages without data
}

func newPrinter(c *Catalog, tag language.Tag) *Printer {
	return &Printer{tag: tag, localizer: goi18n.NewLocalizer(c.bundle, tag.String()), numbers: message.NewPrinter(tag)}
}

// Tag returns the printer's language, for <html lang>.
func (p *Printer) Tag() language.Tag { return p.tag }

// T returns the message key with its placeholders filled from args, given
// as name, value pairs: T("members.removed", "Name", "Ada"). A key missing
// from the catalog returns the key itself, which the completeness tests
// catch.
func (p *Printer) T(key string, args ...any) string {
	if len(args) == 0 {
		if s, ok := p.plain.Load(key); ok {
			return s.(string)
		}
	}
	s := p.localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data(args)}, key)
	if len(args) == 0 && !strings.Contains(s, "<no value>") {
		p.plain.Store(key, s)
	}
	return s
}

// N returns the plural form of key for count (CLDR rules of the
// language), with {{.Count}} and the placeholders of args filled.
func (p *Printer) N(key string, count int, args ...any) string {
	d := data(args)
	d["Count"] = p.Number(int64(count))
	return p.localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: d, PluralCount: count}, key)
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
func (p *Printer) Number(n int64) string { return p.numbers.Sprintf("%d", n) }

// Date formats a day in loc the way the language writes it: "5 Dec 2026",
// "5. Dez. 2026". The month names and the order are catalog messages
// (date.month.1 … date.month.12, date.format).
func (p *Printer) Date(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return p.T("date.format", "Day", strconv.Itoa(t.Day()), "Month", p.T("date.month."+strconv.Itoa(int(t.Month()))),
		"Year", strconv.Itoa(t.Year()))
}

// DateTime formats t in loc with its time of day and zone: "5 Dec 2026,
// 14:03 CET" (the order is the catalog message date.time_format).
func (p *Printer) DateTime(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return p.T("date.time_format", "Date", p.Date(t, nil), "Time", t.Format("15:04"), "Zone", t.Format("MST"))
}

// Sprintf looks format up as a key (English text is its own key, as
// errors.json lists) and fills the translation with args the fmt way. A
// format no catalog lists is used as it is.
func (p *Printer) Sprintf(format string, args ...any) string {
	s, ok := p.plain.Load(format)
	if !ok {
		s = p.localize(&goi18n.LocalizeConfig{MessageID: format}, format)
		p.plain.Store(format, s)
	}
	return sprintf(s.(string), args)
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
