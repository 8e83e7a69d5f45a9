// Package mailtest runs a real SMTP server for tests. Point a
// mail.SMTPSender (TLS "none") at it, then read back what a user would see:
// decoded subject, text, HTML and the links in the text.
package mailtest

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is an SMTP server on 127.0.0.1 that keeps every message it
// accepts. It is safe for concurrent use.
type Server struct {
	srv  *smtp.Server
	addr *net.TCPAddr

	mu       sync.Mutex
	messages []*Message
	waited   map[*Message]bool // returned by WaitForMessage
	failNext int
	username string
	password string
}

// NewServer starts a server on a free port of 127.0.0.1 and stops it when
// the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{
		addr:   ln.Addr().(*net.TCPAddr),
		waited: make(map[*Message]bool),
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{server: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 50
	// The default logs to stderr; connection errors are part of the tests
	// that cause them.
	s.srv.ErrorLog = log.New(io.Discard, "", 0)

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			log.Printf("mailtest: serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		_ = s.srv.Close()
		// Close misses the listener if Serve has not registered it yet.
		_ = ln.Close()
		<-done
	})
	return s
}

// Host returns the address the server listens on, "127.0.0.1".
func (s *Server) Host() string { return s.addr.IP.String() }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.addr.Port }

// RequireAuth makes the server demand AUTH PLAIN with these credentials
// before MAIL FROM. Without it the server accepts mail from anyone, and
// accepts any credentials a client offers.
func (s *Server) RequireAuth(username, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.username, s.password = username, password
}

// FailNext makes the next n DATA commands fail with "451 4.3.0", a
// temporary error.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// WaitForMessage waits up to timeout for a message to to, and fails the
// test if none arrives. It returns the oldest message to that address that
// no earlier WaitForMessage call returned, so a test that triggers two
// emails to one address and waits twice gets them in order.
func (s *Server) WaitForMessage(t testing.TB, to string, timeout time.Duration) *Message {
	t.Helper()
	return s.WaitForMessageMatching(t, to, timeout, func(*Message) bool { return true })
}

// WaitForMessageMatching is WaitForMessage for the messages match accepts:
// the oldest such message to to not returned before. Messages it skips stay
// for later calls.
func (s *Server) WaitForMessageMatching(t testing.TB, to string, timeout time.Duration, match func(*Message) bool) *Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := s.takeMessage(to, match); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: no email to %s within %v (%d messages received)", to, timeout, len(s.Messages()))
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// takeMessage returns the oldest message to to that match accepts and that
// was not taken before.
func (s *Server) takeMessage(to string, match func(*Message) bool) *Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if !s.waited[m] && slices.ContainsFunc(m.To, func(rcpt string) bool { return strings.EqualFold(rcpt, to) }) && match(m) {
			s.waited[m] = true
			return m
		}
	}
	return nil
}

// errTemporary is the answer to DATA after FailNext.
var errTemporary = &smtp.SMTPError{
	Code:         451,
	EnhancedCode: smtp.EnhancedCode{4, 3, 0},
	Message:      "Temporary failure (mailtest FailNext)",
}

// session is one SMTP connection.
type session struct {
	server   *Server
	authUser string
	authed   bool
	from     string
	to       []string
}

var _ smtp.AuthSession = (*session)(nil)

// AuthMechanisms offers PLAIN.
func (c *session) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth checks the credentials set by RequireAuth, if any.
func (c *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		c.server.mu.Lock()
		wantUser, wantPass := c.server.username, c.server.password
		c.server.mu.Unlock()
		if wantUser != "" && (username != wantUser || password != wantPass) {
			return smtp.ErrAuthFailed
		}
		c.authUser, c.authed = username, true
		return nil
	}), nil
}

func (c *session) authRequired() bool {
	c.server.mu.Lock()
	defer c.server.mu.Unlock()
	return c.server.username != "" && !c.authed
}

// Mail starts a message.
func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	if c.authRequired() {
		return smtp.ErrAuthRequired
	}
	c.from = from
	return nil
}

// Rcpt adds a recipient.
func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if c.authRequired() {
		return smtp.ErrAuthRequired
	}
	c.to = append(c.to, to)
	return nil
}

// Data parses and stores the message, or fails as FailNext asked.
func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.server.mu.Lock()
	defer c.server.mu.Unlock()
	if c.server.failNext > 0 {
		c.server.failNext--
		return errTemporary
	}
	m, err := parseMessage(raw)
	if err != nil {
		return &smtp.SMTPError{
			Code:         554,
			EnhancedCode: smtp.EnhancedCode{5, 6, 0},
			Message:      "mailtest cannot parse the message: " + err.Error(),
		}
	}
	m.From = c.from
	m.To = slices.Clone(c.to)
	m.AuthUser = c.authUser
	m.Raw = bytes.Clone(raw)
	c.server.messages = append(c.server.messages, m)
	return nil
}

// Reset forgets the current message.
func (c *session) Reset() {
	c.from, c.to = "", nil
}

// Logout ends the session.
func (c *session) Logout() error { return nil }
