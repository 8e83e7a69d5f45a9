package component_test

import (
	"context"
	"strings"
	"testing"

	"atrium/web/component"
)

// TestOptions: each option with its value escaped, the chosen one
// selected, identifiers and other-language labels kept from translators.
func TestOptions(t *testing.T) {
	var b strings.Builder
	opts := []component.Option{
		{Value: "Europe/Paris"},
		{Value: "de", Label: "Deutsch", Lang: "de"},
		{Value: `a"b<c>`, Label: "Tom & Jerry"},
	}
	if err := component.Options(opts, "de").Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	want := `<option value="Europe/Paris" translate="no">Europe/Paris</option>` +
		`<option value="de" selected lang="de" translate="no">Deutsch</option>` +
		`<option value="a&#34;b&lt;c&gt;">Tom &amp; Jerry</option>`
	if got := b.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
