package component

import (
	"context"
	"fmt"
	"io"
	"strings"

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
		data := make([]any, 0, len(args))
		parts := map[string]templ.Component{}
		for i := 0; i+1 < len(args); i += 2 {
			name, ok := args[i].(string)
			if !ok {
				name = fmt.Sprint(args[i])
			}
			switch v := args[i+1].(type) {
			case templ.Component:
				parts[name] = v
				data = append(data, name, "\x00"+name+"\x00")
			case string:
				data = append(data, name, strings.ReplaceAll(v, "\x00", ""))
			default:
				data = append(data, name, strings.ReplaceAll(fmt.Sprint(v), "\x00", ""))
			}
		}
		for i, piece := range strings.Split(i18n.T(ctx, key, data...), "\x00") {
			if i%2 == 1 {
				if c := parts[piece]; c != nil {
					if err := c.Render(ctx, w); err != nil {
						return err
					}
				}
				continue
			}
			if _, err := io.WriteString(w, templ.EscapeString(piece)); err != nil {
				return err
			}
		}
		return nil
	})
}
