package server

import (
	"context"

	"atrium/internal/i18n"
)

// mailPrinter returns the printer an email is written with: the
// recipient's saved language, else the language of the request that
// causes the email (ctx), else English.
func (s *Server) mailPrinter(ctx context.Context, saved string) *i18n.Printer {
	if saved != "" && s.catalog.Shipped(saved) {
		return s.catalog.Printer(s.catalog.Match(saved, ""))
	}
	if p := i18n.PrinterFrom(ctx); p != nil {
		return p
	}
	return s.catalog.Printer(i18n.Source)
}

// mailPrinterTo is mailPrinter for an email to an address: the saved
// language of the account it belongs to, if any. An address without an
// account (a sign-in link to a new address) gets the request's language.
func (s *Server) mailPrinterTo(ctx context.Context, email string) *i18n.Printer {
	var saved string
	if u, err := s.Users.FindUserByEmail(ctx, email); err == nil {
		saved = u.Language
	}
	return s.mailPrinter(ctx, saved)
}
