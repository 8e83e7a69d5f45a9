package i18n

import (
	"context"
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// TestPrinter_CompiledMatchesGoI18n renders every message of every
// language (the pseudo-locale too) through the compiled pieces and through
// go-i18n's templates, with a value for each placeholder and several
// counts, and wants the same text: the fast path is only a faster way.
func TestPrinter_CompiledMatchesGoI18n(t *testing.T) {
	c, err := New(Options{Pseudo: true})
	if err != nil {
		t.Fatal(err)
	}
	action := regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)
	compiled := 0
	for _, tag := range c.Languages() {
		p := c.Printer(tag)
		for key, m := range c.messages[tag] {
			var args []any
			for _, form := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
				for _, sub := range action.FindAllStringSubmatch(form, -1) {
					args = append(args, sub[1], "‹"+sub[1]+"›")
				}
			}
			if p.compiled[key] != nil {
				compiled++
			}
			slow := p.localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data(args)}, key)
			if got := p.T(key, args...); got != slow {
				t.Errorf("%s %s: T=%q, go-i18n=%q", tag, key, got, slow)
			}
			if m.One == "" && m.Few == "" && m.Many == "" && m.Two == "" && m.Zero == "" {
				continue
			}
			for _, n := range []int{0, 1, 2, 3, 5, 11, 21, 1234} {
				d := data(args)
				d["Count"] = p.Number(int64(n))
				slow := p.localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: d, PluralCount: n}, key)
				if got := p.N(key, n, args...); got != slow {
					t.Errorf("%s %s (%d): N=%q, go-i18n=%q", tag, key, n, got, slow)
				}
			}
		}
	}
	if compiled == 0 {
		t.Fatal("no message was compiled")
	}
}

// TestPrinter_DatesMatchTheirMessages checks the in-place date formatting
// against the catalog messages it fills, in every language and month.
func TestPrinter_DatesMatchTheirMessages(t *testing.T) {
	c, err := New(Options{Pseudo: true})
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tag := range c.Languages() {
		p := c.Printer(tag)
		for m := time.January; m <= time.December; m++ {
			at := time.Date(2026, m, 5+int(m), 23, 7, 0, 0, time.UTC)
			local := at.In(berlin)
			date := p.T("date.format", "Day", strconv.Itoa(local.Day()), "Month", p.T("date.month."+strconv.Itoa(int(local.Month()))),
				"Year", strconv.Itoa(local.Year()))
			if got := p.Date(at, berlin); got != date {
				t.Errorf("%s Date(%s)=%q, want %q", tag, at, got, date)
			}
			want := p.T("date.time_format", "Date", date, "Time", local.Format("15:04"), "Zone", local.Format("MST"))
			if got := p.DateTime(at, berlin); got != want {
				t.Errorf("%s DateTime(%s)=%q, want %q", tag, at, got, want)
			}
		}
	}
}

// TestPrinter_HTML checks the pages' fast paths against escaping the
// message text: Text and HTML for every message without placeholders,
// WriteHTML for every message with them, in every language.
func TestPrinter_HTML(t *testing.T) {
	c, err := New(Options{Pseudo: true})
	if err != nil {
		t.Fatal(err)
	}
	action := regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)
	for _, tag := range c.Languages() {
		p := c.Printer(tag)
		ctx := WithLocale(context.Background(), p, nil)
		for key, m := range c.messages[tag] {
			var args []any
			for _, sub := range action.FindAllStringSubmatch(m.Other, -1) {
				args = append(args, sub[1], "<"+sub[1]+"> & co")
			}
			want := html.EscapeString(p.T(key, args...))
			var b strings.Builder
			err := p.WriteHTML(&b, key, func(w io.Writer, name string) error {
				_, err := io.WriteString(w, html.EscapeString("<"+name+"> & co"))
				return err
			})
			if err != nil || b.String() != want {
				t.Errorf("%s %s: WriteHTML=%q (%v), want %q", tag, key, b.String(), err, want)
			}
			if len(args) > 0 {
				continue
			}
			if got := p.HTML(key); got != want {
				t.Errorf("%s %s: HTML=%q, want %q", tag, key, got, want)
			}
			b.Reset()
			if err := Text(key).Render(ctx, &b); err != nil || b.String() != want {
				t.Errorf("%s %s: Text=%q (%v), want %q", tag, key, b.String(), err, want)
			}
		}
	}
}

// TestPrinter_WriteHTMLTemplate: a message with more than placeholders
// (an {{if}}) is not compiled; WriteHTML still fills its placeholders
// through fill and escapes its text.
func TestPrinter_WriteHTMLTemplate(t *testing.T) {
	c, err := load(fstest.MapFS{
		"l/en/test.json": {Data: []byte(`{"test.greet": "Hi{{if .Name}} {{.Name}}{{end}} & welcome", "test.plain": "R&D <team>"}`)},
	}, "l", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Printer(Source)
	if p.compiled["test.greet"] != nil {
		t.Fatal("a message with {{if}} was compiled")
	}
	var b strings.Builder
	err = p.WriteHTML(&b, "test.greet", func(w io.Writer, name string) error {
		_, err := io.WriteString(w, "<b>"+name+"</b>")
		return err
	})
	if want := "Hi <b>Name</b> &amp; welcome"; err != nil || b.String() != want {
		t.Errorf("WriteHTML = %q (%v), want %q", b.String(), err, want)
	}
	if !p.Has("test.plain") || p.Has("test.missing") {
		t.Errorf("Has(test.plain)=%v, Has(test.missing)=%v", p.Has("test.plain"), p.Has("test.missing"))
	}
	if got, want := p.HTML("test.plain"), "R&amp;D &lt;team&gt;"; got != want {
		t.Errorf("HTML = %q, want %q", got, want)
	}
	b.Reset()
	if err := Text("test.plain").Render(context.Background(), &b); err != nil || b.String() != "test.plain" {
		t.Errorf("Text without a printer = %q (%v), want the key", b.String(), err)
	}
}

// BenchmarkPrinter_T looks up the messages without values a page would,
// spread over the whole catalog as a page's are.
func BenchmarkPrinter_T(b *testing.B) {
	c, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	p := c.Printer(Source)
	var keys []string
	for key := range p.plain {
		keys = append(keys, key)
	}
	ctx := WithLocale(context.Background(), p, nil)
	var w strings.Builder
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		w.Reset()
		for j := 0; j < 100; j++ {
			key := keys[(i*100+j*37)%len(keys)]
			_ = T(ctx, key)
			_ = Text(key).Render(ctx, &w)
		}
	}
}
