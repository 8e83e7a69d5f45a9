package page

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"

	"atrium/internal/i18n"
	"atrium/web/component"
)

// RoleLabel names a workspace role ("owner", "admin", "member") in the
// reader's language: "Owner", "Inhaber". An unknown role is shown as it is.
func RoleLabel(ctx context.Context, role string) string {
	switch role {
	case "owner", "admin", "member":
		return i18n.T(ctx, "role."+role)
	}
	return role
}

// roleDescriptions says in a sentence each what the roles may do, for the
// hint of a role select.
func roleDescriptions(ctx context.Context, roles []string) string {
	var out []string
	for _, r := range roles {
		switch r {
		case "owner", "admin", "member":
			out = append(out, i18n.T(ctx, "members.role."+r+"_description"))
		}
	}
	return strings.Join(out, " ")
}

// roleChoices returns the select options for role values such as "admin",
// each labelled with the role's name in the reader's language.
func roleChoices(ctx context.Context, roles []string) []component.Option {
	opts := make([]component.Option, len(roles))
	for i, r := range roles {
		opts[i] = component.Option{Value: r, Label: RoleLabel(ctx, r)}
	}
	return opts
}

// strong is a value of user data emphasised inside a translated sentence
// (a component.Sentence argument), kept from browser translators; testID,
// when not "", is its data-testid.
func strong(s, testID string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		tag := `<strong translate="no">`
		if testID != "" {
			tag = `<strong translate="no" data-testid="` + templ.EscapeString(testID) + `">`
		}
		_, err := io.WriteString(w, tag+templ.EscapeString(s)+"</strong>")
		return err
	})
}
