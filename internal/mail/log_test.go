package mail_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	atriummail "atrium/internal/mail"
)

// logEntry is the JSON line LogSender writes.
type logEntry struct {
	Level   string   `json:"level"`
	Msg     string   `json:"msg"`
	To      string   `json:"to"`
	Subject string   `json:"subject"`
	Ref     string   `json:"ref"`
	Links   []string `json:"links"`
	Text    string   `json:"text"`
}

func TestLogSender_Send(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	sender := atriummail.NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)))

	email := atriummail.MagicLinkEmail(english, "Atrium", "jane@example.com", longLink)
	if err := sender.Send(t.Context(), email); err != nil {
		t.Fatalf("Send: %v", err)
	}

	var entry logEntry
	if err := json.Unmarshal(buf.Bytes(), &entry); err != nil {
		t.Fatalf("log is not one JSON line: %v\n%s", err, buf.String())
	}
	want := logEntry{
		Level:   "INFO",
		Msg:     "email not sent (stub mode: SMTP_HOST is empty)",
		To:      "jane@example.com",
		Subject: "Sign in to Atrium",
		Ref:     "login",
		Links:   []string{longLink},
		Text:    email.Text,
	}
	if diff := cmp.Diff(want, entry); diff != "" {
		t.Errorf("log entry (-want +got):\n%s", diff)
	}
	if !strings.Contains(entry.Text, longLink) {
		t.Errorf("logged text lacks the link %s", longLink)
	}
}
