// Package mail delivers Atrium's email: an SMTP sender built on go-mail, a
// log sender for stub mode (no SMTP server configured), the outbox worker
// that drains app.OutboxService, and the email templates.
package mail

import (
	"context"
	"regexp"
	"strings"

	"atrium/internal/app"
)

// Sender delivers one rendered email.
type Sender interface {
	Send(ctx context.Context, msg app.Email) error
}

// linkPattern matches http(s) URLs in a plain-text body.
var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// findLinks returns the http(s) URLs in text, in order, without trailing
// sentence punctuation.
func findLinks(text string) []string {
	var links []string
	for _, l := range linkPattern.FindAllString(text, -1) {
		links = append(links, strings.TrimRight(l, ".,;:!?)]'"))
	}
	return links
}
