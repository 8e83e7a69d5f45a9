package mail_test

import (
	"html"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/app"
	atriummail "atrium/internal/mail"
	"atrium/internal/mail/mailtest"
)

// newSender returns a sender for srv, without TLS since mailtest has none.
func newSender(t *testing.T, srv *mailtest.Server, username, password string) *atriummail.SMTPSender {
	t.Helper()
	s, err := atriummail.NewSMTPSender(atriummail.SMTPConfig{
		Host:     srv.Host(),
		Port:     srv.Port(),
		Username: username,
		Password: password,
		From:     "Atrium <no-reply@atrium.example>",
		TLS:      atriummail.TLSNone,
	})
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	return s
}

// longLink is longer than a quoted-printable line and full of characters
// QP must escape ("=") or that tempt a line break ("&", "%").
const longLink = "http://127.0.0.1:8080/auth/callback?token=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG9mcmVk_-abc123&next=%2Fw%2Facme%2Fsettings%3Ftab%3Dmembers%26page%3D2"

func TestSMTPSender_Send(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	sender := newSender(t, srv, "", "")

	email := atriummail.MagicLinkEmail(english, "Atrium Café ☕", "jane@example.com", longLink)
	if err := sender.Send(t.Context(), email); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := srv.WaitForMessage(t, "jane@example.com", 5*time.Second)

	if got, want := m.From, "no-reply@atrium.example"; got != want {
		t.Errorf("From=%q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"jane@example.com"}, m.To); diff != "" {
		t.Errorf("To (-want +got):\n%s", diff)
	}
	if got, want := m.Subject, "Sign in to Atrium Café ☕"; got != want {
		t.Errorf("Subject=%q, want %q", got, want)
	}
	if got, want := m.Text, email.Text; got != want {
		t.Errorf("Text=%q, want %q", got, want)
	}
	if got, want := m.HTML, email.HTML; got != want {
		t.Errorf("HTML=%q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{longLink}, m.Links()); diff != "" {
		t.Errorf("Links (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(m.Raw), "=\r\n") {
		t.Errorf("raw message has no quoted-printable soft line break; the link test proves nothing:\n%s", m.Raw)
	}
	if !strings.Contains(m.HTML, `href="`+html.EscapeString(longLink)+`"`) {
		t.Errorf("HTML has no button to %s:\n%s", longLink, m.HTML)
	}

	from, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil {
		t.Fatalf("From header %q: %v", m.Header.Get("From"), err)
	}
	if diff := cmp.Diff(&mail.Address{Name: "Atrium", Address: "no-reply@atrium.example"}, from); diff != "" {
		t.Errorf("From header (-want +got):\n%s", diff)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@atrium.example>") {
		t.Errorf("Message-ID=%q, want <...@atrium.example>", id)
	}
	if date, err := m.Header.Date(); err != nil || time.Since(date).Abs() > time.Minute {
		t.Errorf("Date=%q (%v), want about now", m.Header.Get("Date"), err)
	}
	if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative;") {
		t.Errorf("Content-Type=%q, want multipart/alternative", ct)
	}
	if got := m.AuthUser; got != "" {
		t.Errorf("AuthUser=%q, want no AUTH without a username", got)
	}
}

func TestSMTPSender_SendTextOnly(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	sender := newSender(t, srv, "", "")

	email := app.Email{To: "bob@example.com", Subject: "Plain", Text: "Just text.\nSecond line.\n"}
	if err := sender.Send(t.Context(), email); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := srv.WaitForMessage(t, "bob@example.com", 5*time.Second)
	if got, want := m.Text, email.Text; got != want {
		t.Errorf("Text=%q, want %q", got, want)
	}
	if got := m.HTML; got != "" {
		t.Errorf("HTML=%q, want none", got)
	}
}

func TestSMTPSender_Auth(t *testing.T) {
	t.Parallel()
	email := app.Email{To: "jane@example.com", Subject: "Hi", Text: "Hello"}

	t.Run("RightCredentials", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.NewServer(t)
		srv.RequireAuth("postmaster", "s3cret")
		if err := newSender(t, srv, "postmaster", "s3cret").Send(t.Context(), email); err != nil {
			t.Fatalf("Send: %v", err)
		}
		m := srv.WaitForMessage(t, "jane@example.com", 5*time.Second)
		if got, want := m.AuthUser, "postmaster"; got != want {
			t.Errorf("AuthUser=%q, want %q", got, want)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.NewServer(t)
		srv.RequireAuth("postmaster", "s3cret")
		err := newSender(t, srv, "postmaster", "wrong").Send(t.Context(), email)
		if err == nil {
			t.Fatal("Send succeeded with a wrong password")
		}
		if got := len(srv.Messages()); got != 0 {
			t.Errorf("server received %d messages, want 0", got)
		}
	})
	t.Run("NoCredentials", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.NewServer(t)
		srv.RequireAuth("postmaster", "s3cret")
		if err := newSender(t, srv, "", "").Send(t.Context(), email); err == nil {
			t.Fatal("Send succeeded without AUTH")
		}
	})
}

func TestSMTPSender_Check(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	srv.RequireAuth("postmaster", "s3cret")

	if err := newSender(t, srv, "postmaster", "s3cret").Check(t.Context()); err != nil {
		t.Errorf("Check with right credentials: %v", err)
	}
	if err := newSender(t, srv, "postmaster", "wrong").Check(t.Context()); err == nil {
		t.Error("Check with a wrong password succeeded")
	}
	if got := len(srv.Messages()); got != 0 {
		t.Errorf("Check sent %d messages, want 0", got)
	}

	// Nothing listens on the port of a closed listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	sender, err := atriummail.NewSMTPSender(atriummail.SMTPConfig{
		Host: "127.0.0.1", Port: port, From: "no-reply@atrium.example", TLS: atriummail.TLSNone,
	})
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	if err := sender.Check(t.Context()); err == nil {
		t.Error("Check with no server listening succeeded")
	}
}

func TestSMTPSender_TLSMandatory(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t) // offers no STARTTLS
	sender, err := atriummail.NewSMTPSender(atriummail.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), From: "no-reply@atrium.example", TLS: atriummail.TLSMandatory,
	})
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	err = sender.Send(t.Context(), app.Email{To: "jane@example.com", Subject: "Hi", Text: "Hello"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send=%v, want a STARTTLS error", err)
	}
	if got := len(srv.Messages()); got != 0 {
		t.Errorf("server received %d messages in clear text, want 0", got)
	}

	// Opportunistic falls back to plain text on the same server.
	sender, err = atriummail.NewSMTPSender(atriummail.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), From: "no-reply@atrium.example", TLS: atriummail.TLSOpportunistic,
	})
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	if err := sender.Send(t.Context(), app.Email{To: "jane@example.com", Subject: "Hi", Text: "Hello"}); err != nil {
		t.Fatalf("Send opportunistic: %v", err)
	}
}

func TestNewSMTPSender_Invalid(t *testing.T) {
	t.Parallel()
	valid := atriummail.SMTPConfig{Host: "smtp.example.com", From: "no-reply@example.com"}
	tests := []struct {
		name   string
		change func(*atriummail.SMTPConfig)
	}{
		{"NoHost", func(c *atriummail.SMTPConfig) { c.Host = "" }},
		{"NoFrom", func(c *atriummail.SMTPConfig) { c.From = "" }},
		{"BadFrom", func(c *atriummail.SMTPConfig) { c.From = "not an address" }},
		{"BadTLS", func(c *atriummail.SMTPConfig) { c.TLS = "starttls" }},
		{"NegativePort", func(c *atriummail.SMTPConfig) { c.Port = -1 }},
		{"PortTooLarge", func(c *atriummail.SMTPConfig) { c.Port = 70000 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			if _, err := atriummail.NewSMTPSender(cfg); err == nil {
				t.Errorf("NewSMTPSender(%+v) succeeded, want an error", cfg)
			}
		})
	}
	for _, mode := range []string{"", "mandatory", "opportunistic", "none", "implicit"} {
		cfg := valid
		cfg.TLS = mode
		if _, err := atriummail.NewSMTPSender(cfg); err != nil {
			t.Errorf("NewSMTPSender(TLS=%q): %v", mode, err)
		}
	}
}
