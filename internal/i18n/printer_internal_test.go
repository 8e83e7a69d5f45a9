package i18n

import (
	"regexp"
	"strconv"
	"testing"
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
