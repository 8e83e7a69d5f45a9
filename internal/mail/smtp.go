package mail

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"atrium/internal/app"
)

// TLS modes accepted in SMTPConfig.TLS.
const (
	// TLSMandatory upgrades the connection with STARTTLS and fails if the
	// server does not offer it. It is the default.
	TLSMandatory = "mandatory"
	// TLSOpportunistic uses STARTTLS when the server offers it and plain
	// text otherwise.
	TLSOpportunistic = "opportunistic"
	// TLSNone never encrypts; for a local relay or a test server.
	TLSNone = "none"
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit = "implicit"
)

// smtpTimeout bounds dialing and each SMTP exchange.
const smtpTimeout = 10 * time.Second

// SMTPConfig says how to reach the SMTP server.
type SMTPConfig struct {
	Host string
	// Port defaults to 587, or 465 with TLSImplicit and 25 with TLSNone.
	Port int
	// Username turns on SMTP AUTH (PLAIN, else LOGIN) when set. Credentials
	// are only sent over TLS or to localhost.
	Username string
	Password string
	// From is the sender, a bare address or "Name <address>".
	From string
	// TLS is one of TLSMandatory (the default when empty),
	// TLSOpportunistic, TLSNone and TLSImplicit.
	TLS string
}

// SMTPSender sends email through an SMTP server, one connection per
// message. It is safe for concurrent use.
type SMTPSender struct {
	opts   []gomail.Option
	host   string
	from   string
	domain string // of From, for Message-IDs
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender checks cfg and returns a sender for it. It does not
// connect; use Check for that.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: host is empty")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from address %q: %w", cfg.From, err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	if at < 1 || at == len(from.Address)-1 {
		return nil, fmt.Errorf("smtp: from address %q has no domain", cfg.From)
	}

	opts := []gomail.Option{
		gomail.WithTimeout(smtpTimeout),
	}
	port := cfg.Port
	switch cfg.TLS {
	case TLSMandatory, "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		port = orDefault(port, gomail.DefaultPortTLS)
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
		port = orDefault(port, gomail.DefaultPortTLS)
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = orDefault(port, gomail.DefaultPort)
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
		port = orDefault(port, gomail.DefaultPortSSL)
	default:
		return nil, fmt.Errorf("smtp: TLS mode %q is not one of mandatory, opportunistic, none, implicit", cfg.TLS)
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("smtp: port %d is out of range", port)
	}
	opts = append(opts, gomail.WithPort(port))
	if cfg.Username != "" {
		// PLAIN first, LOGIN for servers that only offer it (Office 365);
		// go-mail refuses both over an unencrypted link unless the server is
		// localhost, so a password never crosses the network in clear text.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
		)
	}

	s := &SMTPSender{
		opts:   opts,
		host:   cfg.Host,
		from:   from.String(),
		domain: from.Address[at+1:],
	}
	if _, err := s.client(); err != nil {
		return nil, err
	}
	return s, nil
}

// orDefault returns port, or def when port is zero.
func orDefault(port, def int) int {
	if port == 0 {
		return def
	}
	return port
}

// client returns a fresh go-mail client. One per connection, because
// go-mail's Client remembers the negotiated auth mechanism.
func (s *SMTPSender) client() (*gomail.Client, error) {
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return c, nil
}

// Send connects to the server, delivers msg as multipart/alternative (plain
// text, plus HTML when msg.HTML is set) and disconnects.
func (s *SMTPSender) Send(ctx context.Context, msg app.Email) error {
	m, err := s.message(msg)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// Check connects to the server, says EHLO, upgrades to TLS and
// authenticates as configured, then quits without sending anything.
func (s *SMTPSender) Check(ctx context.Context) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// message builds the go-mail message for msg.
func (s *SMTPSender) message(msg app.Email) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(s.from); err != nil {
		return nil, fmt.Errorf("smtp: from: %w", err)
	}
	if err := m.To(msg.To); err != nil {
		return nil, fmt.Errorf("smtp: recipient %s: %w", app.MaskEmail(msg.To), err)
	}
	m.Subject(msg.Subject)
	id := msg.MessageID
	if id == "" {
		id = rand.Text()
	}
	m.SetMessageIDWithValue(id + "@" + s.domain)
	m.SetDate()
	// RFC 3834: tells auto-responders (out-of-office) not to answer.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}
	return m, nil
}
