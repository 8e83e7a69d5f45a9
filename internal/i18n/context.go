package i18n

import (
	"context"
	"errors"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"atrium/internal/app"
)

// locale is what a request or an email is written in: the reader's
// printer and time zone.
type locale struct {
	p   *Printer
	loc *time.Location
}

type ctxKey struct{}

// WithLocale returns ctx carrying the reader's printer and time zone
// (nil means UTC). Pages and emails read them through the functions below.
func WithLocale(ctx context.Context, p *Printer, loc *time.Location) context.Context {
	if loc == nil {
		loc = time.UTC
	}
	return context.WithValue(ctx, ctxKey{}, &locale{p: p, loc: loc})
}

// SetLocale changes the printer and time zone ctx already carries, in
// place, and reports whether it carried one: a request learns its
// reader's saved language only once the session is loaded, and changing
// the value it has spares a second copy of the request. Only the
// goroutine serving the request may call it.
func SetLocale(ctx context.Context, p *Printer, loc *time.Location) bool {
	l, ok := ctx.Value(ctxKey{}).(*locale)
	if !ok {
		return false
	}
	if loc == nil {
		loc = time.UTC
	}
	l.p, l.loc = p, loc
	return true
}

// Hoist returns ctx with its locale found first: a page renders many
// messages, and each looks the printer up by walking the context's
// values from the outermost in.
func Hoist(ctx context.Context) context.Context {
	if l, ok := ctx.Value(ctxKey{}).(*locale); ok {
		return context.WithValue(ctx, ctxKey{}, l)
	}
	return ctx
}

// PrinterFrom returns the printer ctx carries, or nil.
func PrinterFrom(ctx context.Context) *Printer {
	if l, ok := ctx.Value(ctxKey{}).(*locale); ok {
		return l.p
	}
	return nil
}

// LocationFrom returns the time zone ctx carries, UTC when none.
func LocationFrom(ctx context.Context) *time.Location {
	if l, ok := ctx.Value(ctxKey{}).(*locale); ok {
		return l.loc
	}
	return time.UTC
}

// Lang returns the language of ctx's printer as a BCP 47 tag, for
// <html lang>; "en" when ctx carries none.
func Lang(ctx context.Context) string {
	if p := PrinterFrom(ctx); p != nil {
		return p.Lang()
	}
	return Source.String()
}

// T returns the message key in ctx's language, its placeholders filled
// from args given as name, value pairs: T(ctx, "members.removed", "Name",
// "Ada"). Without a printer in ctx it returns the key, which the
// pseudo-locale tests catch.
func T(ctx context.Context, key string, args ...any) string {
	if p := PrinterFrom(ctx); p != nil {
		return p.T(key, args...)
	}
	return key
}

// Has reports whether ctx's language, or English, defines key.
func Has(ctx context.Context, key string) bool {
	if p := PrinterFrom(ctx); p != nil {
		return p.Has(key)
	}
	return false
}

// Text is a message without placeholders as a page component:
// @i18n.Text("nav.members") in a templ file writes the message in the
// reader's language, escaped for HTML when the catalog loaded. Pages use
// it for their fixed words; { i18n.T(ctx, …) } is for messages with
// placeholders and for values passed on as strings.
type Text string

// Render writes the message to w, escaped (templ.Component).
func (k Text) Render(ctx context.Context, w io.Writer) error {
	var err error
	if p := PrinterFrom(ctx); p != nil {
		_, err = io.WriteString(w, p.HTML(string(k)))
	} else {
		_, err = io.WriteString(w, html.EscapeString(string(k)))
	}
	return err
}

// WriteHTML writes the message key in ctx's language to w as HTML, its
// text escaped and each placeholder written by fill(w, name) (see
// Printer.WriteHTML). Without a printer in ctx it writes the key.
func WriteHTML(ctx context.Context, w io.Writer, key string, fill func(w io.Writer, name string) error) error {
	if p := PrinterFrom(ctx); p != nil {
		return p.WriteHTML(w, key, fill)
	}
	_, err := io.WriteString(w, html.EscapeString(key))
	return err
}

// N returns the plural form of key for count in ctx's language.
func N(ctx context.Context, key string, count int, args ...any) string {
	if p := PrinterFrom(ctx); p != nil {
		return p.N(key, count, args...)
	}
	return key
}

// Number formats n with the grouping of ctx's language.
func Number(ctx context.Context, n int64) string {
	if p := PrinterFrom(ctx); p != nil {
		return p.Number(n)
	}
	return strconv.FormatInt(n, 10)
}

// Date formats the day of t in ctx's time zone and language; "" for the
// zero time.
func Date(ctx context.Context, t time.Time) string {
	p := PrinterFrom(ctx)
	if t.IsZero() || p == nil {
		return ""
	}
	return p.Date(t, LocationFrom(ctx))
}

// DateTime formats t with its time of day and zone, in ctx's time zone
// and language; "" for the zero time.
func DateTime(ctx context.Context, t time.Time) string {
	p := PrinterFrom(ctx)
	if t.IsZero() || p == nil {
		return ""
	}
	return p.DateTime(t, LocationFrom(ctx))
}

// Ago says how long before now t was, in ctx's language: "just now",
// "5 minutes ago", "2 hours ago", "yesterday", "3 days ago", and from 30
// days on the day itself (Date).
func Ago(ctx context.Context, now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return T(ctx, "date.ago.just_now")
	case d < time.Hour:
		return N(ctx, "date.ago.minutes", int(d/time.Minute))
	case d < 24*time.Hour:
		return N(ctx, "date.ago.hours", int(d/time.Hour))
	case d < 48*time.Hour:
		return T(ctx, "date.ago.yesterday")
	case d < 30*24*time.Hour:
		return N(ctx, "date.ago.days", int(d/(24*time.Hour)))
	}
	return Date(ctx, t)
}

// Money formats an amount in a currency's smallest unit for ctx's
// language.
func Money(ctx context.Context, amount int64, currency string) string {
	if p := PrinterFrom(ctx); p != nil {
		return p.Money(amount, currency)
	}
	return app.FormatMoney(amount, currency)
}

// Sprintf translates a Printf-style format written in English (the
// gettext way: the English text is the key, in errors.json) and fills it
// with args. It is for the messages of app errors, whose formats are
// written where the rule lives.
func Sprintf(ctx context.Context, format string, args ...any) string {
	if p := PrinterFrom(ctx); p != nil {
		return p.Sprintf(format, args...)
	}
	return sprintf(format, args)
}

// LabelKey is the catalog key of an error's label (common.json):
// "label.passkey_name" for "passkey name".
func LabelKey(l app.Label) string { return "label." + strings.ReplaceAll(string(l), " ", "_") }

// LabelText returns a label in ctx's language, as it is when the catalog
// lacks it.
func LabelText(ctx context.Context, l app.Label) string {
	if key := LabelKey(l); Has(ctx, key) {
		return T(ctx, key)
	}
	return string(l)
}

// ErrorText returns what a page shows for err in ctx's language: an
// *app.Error's message translated, "Something went wrong." for any other
// error. The API keeps app.ErrorMessage, which stays English.
func ErrorText(ctx context.Context, err error) string {
	if err == nil {
		return ""
	}
	var e *app.Error
	if !errors.As(err, &e) {
		return T(ctx, "error.internal")
	}
	if e.Format == "" {
		return Sprintf(ctx, e.Message)
	}
	// A label names a field or a role: it is translated too (the error's
	// own arguments are left alone).
	args, cloned := e.Args, false
	for i, a := range e.Args {
		if l, ok := a.(app.Label); ok {
			if !cloned {
				args, cloned = slices.Clone(e.Args), true
			}
			args[i] = LabelText(ctx, l)
		}
	}
	return Sprintf(ctx, e.Format, args...)
}
