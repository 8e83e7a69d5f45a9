package component

import (
	"context"
	"fmt"
	"io"

	"github.com/a-h/templ"

	"atrium/internal/i18n"
)

// Sentence renders the message key in the reader's language with its
// placeholders filled from args, given as name, value pairs. A value that
// is a templ.Component (a link, a <strong>) is rendered in its place; any
// other value is written as escaped text. It lets a translator move a link
// within the sentence: "Read the {{.Guide}} first" becomes "Lies zuerst
// die {{.Guide}}".
func Sentence(key string, args ...any) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return i18n.WriteHTML(ctx, w, key, func(w io.Writer, name string) error {
			for i := 0; i+1 < len(args); i += 2 {
				if k, ok := args[i].(string); !ok || k != name {
					continue
				}
				var s string
				switch v := args[i+1].(type) {
				case templ.Component:
					return v.Render(ctx, w)
				case string:
					s = v
				default:
					s = fmt.Sprint(v)
				}
				_, err := io.WriteString(w, templ.EscapeString(s))
				return err
			}
			_, err := io.WriteString(w, "&lt;no value&gt;")
			return err
		})
	})
}
