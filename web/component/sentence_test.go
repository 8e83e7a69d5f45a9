package component_test

import (
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/text/language"

	"atrium/internal/i18n"
	"atrium/web/component"
)

// TestSentence renders a sentence holding a link in English and German:
// the link lands where each language puts {{.Link}}, text values are
// escaped, and a placeholder without a value reads as text/template
// writes it.
func TestSentence(t *testing.T) {
	c, err := i18n.New(i18n.Options{})
	if err != nil {
		t.Fatal(err)
	}
	link := templ.Raw(`<a href="/x">LINK</a>`)
	render := func(tag language.Tag, args ...any) string {
		t.Helper()
		ctx := i18n.WithLocale(context.Background(), c.Printer(tag), nil)
		var b strings.Builder
		if err := component.Sentence("account.delete.blocking", args...).Render(ctx, &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, tag := range c.Languages() {
		p := c.Printer(tag)
		got := render(tag, "Workspace", "<Acme & Co>", "Transfer", link, "Delete", 42)
		want := templ.EscapeString(p.T("account.delete.blocking", "Workspace", "<Acme & Co>", "Transfer", "\x01", "Delete", "42"))
		want = strings.Replace(want, "\x01", `<a href="/x">LINK</a>`, 1)
		if got != want {
			t.Errorf("%s: %q, want %q", tag, got, want)
		}
	}
	if got := render(language.English, "Workspace", "Acme"); !strings.Contains(got, "&lt;no value&gt;") {
		t.Errorf("a missing value: %q", got)
	}
}
