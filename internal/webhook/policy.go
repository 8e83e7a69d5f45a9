package webhook

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// schedule is the wait before each retry of a delivery: the attempts
// after the first come 5 seconds, 5 minutes, 30 minutes, 2, 5 and 10 hours
// later, then every 14 hours four times: about three days from the first
// attempt to the last, so a receiver that is down over a weekend still gets
// its deliveries. Each wait is spread by up to a tenth either way so that
// the deliveries of one burst do not come back together.
var schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour,
	14 * time.Hour, 14 * time.Hour, 14 * time.Hour, 14 * time.Hour,
}

// Attempts is how many times a delivery is tried before it is given up.
var Attempts = len(schedule) + 1

// NextRetry returns how long to wait after failed attempt n (1 for the
// first), and false when that was the last.
func NextRetry(n int, r *rand.Rand) (time.Duration, bool) {
	if n < 1 || n > len(schedule) {
		return 0, false
	}
	wait := schedule[n-1]
	spread := int64(wait / 10)
	return wait + time.Duration(r.Int64N(2*spread+1)-spread), true
}

// Outcome is what an attempt's answer means for the delivery.
type Outcome int

const (
	// Delivered: a 2xx. The delivery is done.
	Delivered Outcome = iota
	// Retry: anything else, or no answer. The delivery is tried again.
	Retry
	// Gone: 410. The receiver asked to stop: the endpoint is disabled.
	Gone
)

// Classify reads an answer's status (0 when there was none: a refused
// connection, a timeout).
func Classify(status int) Outcome {
	switch {
	case status >= 200 && status < 300:
		return Delivered
	case status == http.StatusGone:
		return Gone
	}
	return Retry
}

// ExcerptMax is the most of a receiver's answer kept in the delivery log.
const ExcerptMax = 4 << 10

// Excerpt is the part of an answer's body the delivery log keeps: at most
// ExcerptMax bytes, cut at a character boundary, with invalid UTF-8
// replaced so that the log shows text.
func Excerpt(body []byte) string {
	n := min(len(body), ExcerptMax)
	for n > 0 && n < len(body) && !utf8.RuneStart(body[n]) {
		n--
	}
	s := strings.ToValidUTF8(string(body[:n]), "\uFFFD")
	for len(s) > ExcerptMax { // each replacement may be longer than what it replaced
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
