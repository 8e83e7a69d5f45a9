package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"slices"
	"strings"
)

// Message is an email the server accepted, decoded as a mail client would
// show it.
type Message struct {
	// From and To are the envelope sender and recipients (MAIL FROM, RCPT
	// TO).
	From string
	To   []string
	// Subject is the decoded Subject header.
	Subject string
	// Text and HTML are the decoded text/plain and text/html bodies, with
	// line endings turned into "\n".
	Text string
	HTML string
	// Header holds the raw top-level headers (Message-ID, Date, ...).
	Header mail.Header
	// AuthUser is the name the client authenticated as, if it did.
	AuthUser string
	// Raw is the message as received.
	Raw []byte
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// Links returns the http(s) URLs in the text body, in order, without
// trailing sentence punctuation.
func (m *Message) Links() []string {
	var links []string
	for _, l := range linkPattern.FindAllString(m.Text, -1) {
		links = append(links, strings.TrimRight(l, ".,;:!?)]'"))
	}
	return links
}

// parseMessage decodes raw into a Message (without the envelope).
func parseMessage(raw []byte) (*Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return nil, fmt.Errorf("decode subject: %w", err)
	}
	m := &Message{Subject: subject, Header: msg.Header}
	err = m.readPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// readPart stores the first text/plain and text/html bodies found in a
// part, descending into multiparts.
func (m *Message) readPart(contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediaType, err)
			}
			// multipart.Reader decodes quoted-printable itself and drops
			// the header, so this sees only other encodings.
			err = m.readPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if err != nil {
				return err
			}
		}
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil
	}
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
		return fmt.Errorf("%s: charset %q is not supported", mediaType, cs)
	}
	b, err := io.ReadAll(decode(encoding, body))
	if err != nil {
		return fmt.Errorf("%s: decode %s: %w", mediaType, encoding, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && m.Text == "":
		m.Text = text
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = text
	}
	return nil
}

// decode undoes a Content-Transfer-Encoding.
func decode(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r)
	default: // 7bit, 8bit, binary
		return r
	}
}

// LinkTo matches the messages that carry a link starting with prefix, for
// WaitForMessageMatching.
func LinkTo(prefix string) func(*Message) bool {
	return func(m *Message) bool {
		return slices.ContainsFunc(m.Links(), func(l string) bool { return strings.HasPrefix(l, prefix) })
	}
}
