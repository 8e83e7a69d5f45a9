package i18n

import (
	"regexp"
	"testing"

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
