package mailtest_test

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"atrium/internal/mail/mailtest"
)

// send delivers raw (LF line endings) to srv with a plain SMTP client.
func send(t *testing.T, srv *mailtest.Server, to, raw string) error {
	t.Helper()
	c, err := smtp.Dial(net.JoinHostPort(srv.Host(), strconv.Itoa(srv.Port())))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	return c.SendMail("sender@example.com", []string{to}, strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
}

func TestServer_Decoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		subject string
		text    string
		html    string
		links   []string
	}{
		{
			name: "PlainSevenBit",
			raw: `Subject: Hello
Content-Type: text/plain; charset=us-ascii

Visit https://example.com/a?b=c.
Then http://localhost:8080/x, done.
`,
			subject: "Hello",
			text:    "Visit https://example.com/a?b=c.\nThen http://localhost:8080/x, done.\n",
			links:   []string{"https://example.com/a?b=c", "http://localhost:8080/x"},
		},
		{
			name: "AlternativeQuotedPrintableAndBase64",
			raw: `Subject: =?UTF-8?q?Caf=C3=A9_?= =?UTF-8?b?4piV?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=XYZ

--XYZ
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Link: https://example.com/callback?token=3Dabcdefghijklmnopqrstuvwxyz0123456=
789&next=3D%2Fw
--XYZ
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: base64

PHA+Q2Fmw6k8L3A+
--XYZ--
`,
			subject: "Café ☕",
			text:    "Link: https://example.com/callback?token=abcdefghijklmnopqrstuvwxyz0123456789&next=%2Fw",
			html:    "<p>Café</p>",
			links:   []string{"https://example.com/callback?token=abcdefghijklmnopqrstuvwxyz0123456789&next=%2Fw"},
		},
		{
			name: "NestedMixed",
			raw: `Subject: Nested
Content-Type: multipart/mixed; boundary=OUT

--OUT
Content-Type: multipart/alternative; boundary=IN

--IN
Content-Type: text/plain

inner text
--IN--
--OUT
Content-Type: application/pdf
Content-Transfer-Encoding: base64

JVBERi0=
--OUT--
`,
			subject: "Nested",
			text:    "inner text",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.NewServer(t)
			if err := send(t, srv, "jane@example.com", tt.raw); err != nil {
				t.Fatalf("send: %v", err)
			}
			m := srv.WaitForMessage(t, "jane@example.com", 5*time.Second)
			if got, want := m.Subject, tt.subject; got != want {
				t.Errorf("Subject=%q, want %q", got, want)
			}
			if got, want := m.Text, tt.text; got != want {
				t.Errorf("Text=%q, want %q", got, want)
			}
			if got, want := m.HTML, tt.html; got != want {
				t.Errorf("HTML=%q, want %q", got, want)
			}
			if diff := cmp.Diff(tt.links, m.Links()); diff != "" {
				t.Errorf("Links (-want +got):\n%s", diff)
			}
			if got, want := m.From, "sender@example.com"; got != want {
				t.Errorf("From=%q, want %q", got, want)
			}
			if diff := cmp.Diff([]string{"jane@example.com"}, m.To); diff != "" {
				t.Errorf("To (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServer_FailNext(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	srv.FailNext(2)
	const raw = "Subject: x\n\nbody\n"

	for i := range 2 {
		err := send(t, srv, "jane@example.com", raw)
		var smtpErr *smtp.SMTPError
		if !errors.As(err, &smtpErr) || smtpErr.Code != 451 {
			t.Fatalf("send %d: %v, want a 451", i+1, err)
		}
	}
	if err := send(t, srv, "jane@example.com", raw); err != nil {
		t.Fatalf("send 3: %v", err)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("Messages=%d, want 1", got)
	}
}

func TestServer_WaitForMessageInOrder(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	for _, subject := range []string{"first", "second"} {
		if err := send(t, srv, "jane@example.com", "Subject: "+subject+"\n\nbody\n"); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if err := send(t, srv, "bob@example.com", "Subject: other\n\nbody\n"); err != nil {
		t.Fatalf("send: %v", err)
	}
	for _, want := range []string{"first", "second"} {
		if got := srv.WaitForMessage(t, "Jane@Example.com", 5*time.Second).Subject; got != want {
			t.Errorf("Subject=%q, want %q", got, want)
		}
	}
	if got, want := srv.WaitForMessage(t, "bob@example.com", 5*time.Second).Subject, "other"; got != want {
		t.Errorf("Subject=%q, want %q", got, want)
	}
	if got := len(srv.Messages()); got != 3 {
		t.Errorf("Messages=%d, want 3", got)
	}
}
