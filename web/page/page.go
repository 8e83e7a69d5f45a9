// Package page holds one templ component per page, each with the view model
// its handler fills in. Handlers preformat every value; templates only lay
// the values out.
package page

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"atrium/web/component"
	"atrium/web/layout"
)

// titled returns p with its title set to title when the handler left it empty.
func titled(p layout.Page, title string) layout.Page {
	if p.Title == "" {
		p.Title = title
	}
	return p
}

// private returns p titled, and marked as not to be indexed by search engines.
func private(p layout.Page, title string) layout.Page {
	p = titled(p, title)
	p.NoIndex = true
	return p
}

// roleOptions returns the select options for role values such as "admin",
// each labelled with the capitalised value ("Admin").
func roleOptions(roles []string) []component.Option {
	opts := make([]component.Option, len(roles))
	for i, r := range roles {
		opts[i] = component.Option{Value: r, Label: capitalize(r)}
	}
	return opts
}

// capitalize returns s with its first letter in upper case.
func capitalize(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+utf8.RuneLen(r):]
	}
	return s
}

// count returns n followed by the singular or plural noun: "1 member", "3 members".
func count(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return strconv.Itoa(n) + " " + plural
}

// FieldErrors are a form's messages keyed by the name of the field each
// is about (the Field of the app error that refused the input). A nil map
// is a form without errors.
type FieldErrors map[string]string
