package server

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/app"
	"atrium/web/page"
)

// TestFieldErrors_Field checks that a form error lands beside the field the
// app error names, and beside the form's first field when it names none
// the form has.
func TestFieldErrors_Field(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want page.FieldErrors
	}{
		{"Named", app.FieldErrorf("name", "Too short."), page.FieldErrors{"name": "Too short."}},
		{"First", app.FieldErrorf("slug", "Taken."), page.FieldErrors{"slug": "Taken."}},
		{"NoField", app.Errorf(app.ECONFLICT, "Taken."), page.FieldErrors{"slug": "Taken."}},
		{"OtherField", app.FieldErrorf("plan", "No."), page.FieldErrors{"slug": "No."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, fieldErrors(englishContext(t), tc.err, "slug", "name")); diff != "" {
				t.Errorf("fieldErrors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStatusText checks that every status the error page names in the
// reader's language has its words in the catalogs, the same as Go's in
// English.
func TestStatusText(t *testing.T) {
	ctx := englishContext(t)
	for _, status := range append(statusWords, http.StatusTeapot) {
		if got, want := statusText(ctx, status), http.StatusText(status); got != want {
			t.Errorf("statusText(%d)=%q, want %q", status, got, want)
		}
	}
}
