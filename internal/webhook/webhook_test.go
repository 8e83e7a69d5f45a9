package webhook_test

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"atrium/internal/webhook"
)

// verifier is the Standard Webhooks reference library's verifier for a
// secret's text form, as a receiver would build it.
func verifier(t *testing.T, secret string) *standardwebhooks.Webhook {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("the reference library refuses the secret %q: %v", secret, err)
	}
	return wh
}

// TestSign_ReferenceLibraryVerifies: a receiver using the specification's
// reference library verifies what Sign sends, with the secret's text form
// as the endpoint's owner copied it; a changed body, id or timestamp, or
// another secret, does not verify.
func TestSign_ReferenceLibraryVerifies(t *testing.T) {
	secret, text := webhook.NewSecret()
	if !strings.HasPrefix(text, "whsec_") || secret.String() != text {
		t.Fatalf("secret text %q, String %q", text, secret.String())
	}
	body := []byte(`{"type":"member.joined","data":{"email":"ada@example.com"}}`)
	h := http.Header{}
	webhook.Sign(h, "msg_2Kq", time.Now(), body, secret)
	if err := verifier(t, text).Verify(body, h); err != nil {
		t.Fatalf("the reference library does not verify the delivery: %v (headers %v)", err, h)
	}
	_, other := webhook.NewSecret()
	if err := verifier(t, other).Verify(body, h); err == nil {
		t.Error("another endpoint's secret verifies the delivery")
	}
	if err := verifier(t, text).Verify(bytes.Replace(body, []byte("ada"), []byte("eve"), 1), h); err == nil {
		t.Error("a changed body verifies")
	}
	for _, k := range []string{webhook.HeaderID, webhook.HeaderTimestamp} {
		changed := h.Clone()
		changed.Set(k, changed.Get(k)+"1")
		if err := verifier(t, text).VerifyIgnoringTimestamp(body, changed); err == nil {
			t.Errorf("a changed %s verifies", k)
		}
	}
	// An old attempt replayed later is refused by the receiver's clock.
	stale := http.Header{}
	webhook.Sign(stale, "msg_2Kq", time.Now().Add(-10*time.Minute), body, secret)
	if err := verifier(t, text).Verify(body, stale); err == nil {
		t.Error("a delivery signed ten minutes ago verifies")
	}
}

// TestSign_Rotation: while an endpoint has a new and an old secret, each
// delivery carries both signatures, so a receiver holding either one
// verifies it; after the overlap, only the new one.
func TestSign_Rotation(t *testing.T) {
	oldSecret, oldText := webhook.NewSecret()
	newSecret, newText := webhook.NewSecret()
	body := []byte(`{"type":"invite.accepted"}`)
	h := http.Header{}
	webhook.Sign(h, "msg_rot", time.Now(), body, newSecret, oldSecret)
	if got := len(strings.Fields(h.Get(webhook.HeaderSignature))); got != 2 {
		t.Fatalf("%d signatures during the overlap, want 2: %q", got, h.Get(webhook.HeaderSignature))
	}
	for name, text := range map[string]string{"old": oldText, "new": newText} {
		if err := verifier(t, text).Verify(body, h); err != nil {
			t.Errorf("a receiver with the %s secret: %v", name, err)
		}
	}
	after := http.Header{}
	webhook.Sign(after, "msg_rot2", time.Now(), body, newSecret)
	if err := verifier(t, oldText).Verify(body, after); err == nil {
		t.Error("after the overlap, the old secret still verifies")
	}
}

// TestParseSecret reads back a secret's text form and refuses anything
// else with one sentence.
func TestParseSecret(t *testing.T) {
	s, text := webhook.NewSecret()
	got, err := webhook.ParseSecret(text)
	if err != nil || got.String() != s.String() {
		t.Fatalf("ParseSecret(%q) = %v, %v", text, got, err)
	}
	for _, bad := range []string{"", "whsec_", "secret", "whsec_!!!", "whsec_" + strings.Repeat("A", 8), "whsec_" + strings.Repeat("A", 200),
		strings.TrimPrefix(text, "whsec_"), "whsec_\xff\xfe"} {
		if _, err := webhook.ParseSecret(bad); err != webhook.ErrSecret {
			t.Errorf("ParseSecret(%q) = %v, want ErrSecret", bad, err)
		}
	}
}

// TestNextRetry: about three days of retries, each wait near its step of
// the schedule and growing, then none.
func TestNextRetry(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var total, prev time.Duration
	for n := 1; ; n++ {
		wait, ok := webhook.NextRetry(n, r)
		if !ok {
			if n != webhook.Attempts {
				t.Errorf("retries end after attempt %d, want %d", n, webhook.Attempts)
			}
			break
		}
		if wait <= 0 || (n > 1 && wait < prev*9/10) {
			t.Errorf("attempt %d: wait %s after %s", n, wait, prev)
		}
		prev, total = wait, total+wait
	}
	if total < 60*time.Hour || total > 84*time.Hour {
		t.Errorf("retries span %s, want about three days", total)
	}
	if _, ok := webhook.NextRetry(0, r); ok {
		t.Error("NextRetry(0) retries")
	}
	// The spread: two bursts of the same attempt do not wait the same.
	a, _ := webhook.NextRetry(4, r)
	b, _ := webhook.NextRetry(4, r)
	if a == b || a < 108*time.Minute || a > 132*time.Minute {
		t.Errorf("attempt 4 waits %s and %s, want two different waits within 2h ± 10%%", a, b)
	}
}

func TestClassify(t *testing.T) {
	for status, want := range map[int]webhook.Outcome{200: webhook.Delivered, 204: webhook.Delivered, 299: webhook.Delivered,
		0: webhook.Retry, 301: webhook.Retry, 400: webhook.Retry, 404: webhook.Retry, 429: webhook.Retry, 500: webhook.Retry,
		410: webhook.Gone} {
		if got := webhook.Classify(status); got != want {
			t.Errorf("Classify(%d) = %v, want %v", status, got, want)
		}
	}
}

// TestExcerpt: at most 4 KiB of valid UTF-8, never a character cut in two.
func TestExcerpt(t *testing.T) {
	if got := webhook.Excerpt([]byte("ok")); got != "ok" {
		t.Errorf("short body: %q", got)
	}
	long := strings.Repeat("a", webhook.ExcerptMax-1) + "é" + "tail"
	got := webhook.Excerpt([]byte(long))
	if len(got) > webhook.ExcerptMax || !utf8.ValidString(got) || strings.HasSuffix(got, "\uFFFD") {
		t.Errorf("a body cut inside é: %d bytes, valid %v, ends %q", len(got), utf8.ValidString(got), got[len(got)-4:])
	}
	bad := bytes.Repeat([]byte{0xff}, webhook.ExcerptMax+100)
	got = webhook.Excerpt(bad)
	if len(got) > webhook.ExcerptMax || !utf8.ValidString(got) || got == "" {
		t.Errorf("invalid UTF-8: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}
