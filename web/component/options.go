package component

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// Options renders the <option> elements of a select, marking the one whose
// value is selected. An option shown by its value (an identifier such as a
// time zone, not prose) is marked translate="no", and so is one whose
// label is in another language (Lang), which also names that language.
//
// It writes the elements itself rather than through a template: every
// select of every form view runs it once per option, and a template call
// per option would box and format each value first.
func Options(opts []Option, selected string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		ew := errWriter{w: w}
		for _, o := range opts {
			ew.write(`<option value="`)
			ew.write(templ.EscapeString(o.Value))
			ew.write(`"`)
			if o.Value == selected {
				ew.write(" selected")
			}
			switch {
			case o.Lang != "":
				ew.write(` lang="`)
				ew.write(templ.EscapeString(o.Lang))
				ew.write(`" translate="no">`)
			case o.Label == "":
				ew.write(` translate="no">`)
			default:
				ew.write(">")
			}
			ew.write(templ.EscapeString(o.text()))
			ew.write("</option>")
		}
		return ew.err
	})
}

// errWriter writes strings until the first error, which it keeps.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}
