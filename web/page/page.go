// Package page holds one templ component per page, each with the view model
// its handler fills in. Handlers preformat every value; templates only lay
// the values out.
package page

import (
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

// FieldErrors are a form's messages keyed by the name of the field each
// is about (the Field of the app error that refused the input). A nil map
// is a form without errors.
type FieldErrors map[string]string
