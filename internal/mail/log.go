package mail

import (
	"context"
	"log/slog"

	"atrium/internal/app"
)

// LogSender is the Sender used in stub mode, when no SMTP server is
// configured: it writes each email to the log instead of sending it, so a
// developer can copy a magic link from the terminal.
//
// This is the one place where a full address and a working link are logged
// on purpose; never use LogSender in production.
type LogSender struct {
	logger *slog.Logger
}

var _ Sender = (*LogSender)(nil)

// NewLogSender returns a LogSender that writes to logger.
func NewLogSender(logger *slog.Logger) *LogSender {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &LogSender{logger: logger}
}

// Send logs msg at INFO level: recipient, subject, reference, the links
// found in the text body and the text body itself. It never fails.
func (s *LogSender) Send(ctx context.Context, msg app.Email) error {
	s.logger.InfoContext(ctx, "email not sent (stub mode: SMTP_HOST is empty)",
		slog.String("to", msg.To),
		slog.String("subject", msg.Subject),
		slog.String("ref", msg.Ref),
		slog.Any("links", findLinks(msg.Text)),
		slog.String("text", msg.Text),
	)
	return nil
}
