package server

import (
	"context"
	"testing"

	"atrium/internal/i18n"
)

// englishContext returns a context that carries the English printer, as a
// request's does, for tests of functions that write text.
func englishContext(t *testing.T) context.Context {
	t.Helper()
	c, err := i18n.New(i18n.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return i18n.WithLocale(context.Background(), c.Printer(i18n.Source), nil)
}
