package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"atrium/internal/outbound"
)

// Timeout bounds one attempt, reading the answer included.
const Timeout = 10 * time.Second

// UserAgent is the User-Agent of every delivery.
const UserAgent = "Atrium-Webhooks/1"

// Sender sends signed deliveries through the outbound client, so every
// attempt gets the address checks (in the dialer: DNS rebinding cannot slip
// past), no redirects and the port rules.
type Sender struct {
	client *http.Client
}

// NewSender returns a sender with opts (Timeout defaults to 10 seconds).
func NewSender(opts outbound.Options) *Sender {
	if opts.Timeout <= 0 {
		opts.Timeout = Timeout
	}
	return &Sender{client: outbound.NewClient(opts)}
}

// Message is one attempt to send.
type Message struct {
	URL string
	// ID is the webhook-id, the same on every attempt of an event.
	ID   string
	Body []byte
	// Secrets sign the attempt: the current one, and the previous one
	// during a rotation's overlap.
	Secrets []Secret
	// At is the attempt's time, its webhook-timestamp.
	At time.Time
}

// Result is what an attempt got.
type Result struct {
	// StatusCode is the answer's status; 0 when there was none.
	StatusCode int
	Latency    time.Duration
	// Excerpt is the start of the answer's body (Excerpt).
	Excerpt string
	// Err says why there was no answer, safe to log and show: the address
	// is cut to its scheme and host, never with its path or query (which
	// may hold the receiver's token), and no secret is in it.
	Err error
	// Blocked is set when the outbound rules refused the address.
	Blocked *outbound.BlockedError
}

// Outcome is what the result means for the delivery.
func (r Result) Outcome() Outcome { return Classify(r.StatusCode) }

// Send makes one attempt. A redirect is an answer like any other 3xx: it
// is not followed, and the delivery is retried.
func (s *Sender) Send(ctx context.Context, m Message) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return Result{Err: errors.New("the address is not valid")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	Sign(req.Header, m.ID, m.At, m.Body, m.Secrets...)
	start := time.Now()
	res, err := s.client.Do(req)
	if err != nil {
		r := Result{Latency: time.Since(start), Err: outbound.Redact(err)}
		errors.As(err, &r.Blocked)
		if r.Blocked != nil {
			r.Err = r.Blocked
		}
		return r
	}
	defer func() { _ = res.Body.Close() }()
	// A little more than the excerpt, so that it is cut at a character
	// boundary, and never the whole of a large answer.
	body, _ := io.ReadAll(io.LimitReader(res.Body, ExcerptMax+4))
	return Result{StatusCode: res.StatusCode, Latency: time.Since(start), Excerpt: Excerpt(body)}
}

// CloseIdleConnections closes the sender's idle connections.
func (s *Sender) CloseIdleConnections() { s.client.CloseIdleConnections() }
