// Package billingtest runs Stripe's own stripe-mock for tests and signs
// webhook payloads the way Stripe does.
//
// stripe-mock answers every documented Stripe endpoint with fixture
// objects and keeps no state: a created customer cannot be fetched back,
// and a subscription read returns the same fixture whatever the id.
package billingtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"atrium/internal/billing"
)

// StripeMockVersion is the stripe-mock release the tests are written for;
// .ci/run installs it.
const StripeMockVersion = "v0.203.0"

// StripeMock returns the base URL of a running stripe-mock
// ("http://127.0.0.1:PORT"), for billing.Config.APIBase or STRIPE_API_BASE.
// STRIPE_MOCK_URL names one already running; otherwise the binary found on
// PATH or in $(go env GOPATH)/bin is started on a free loopback port and
// stopped when the test ends. Without a binary the test is skipped, or
// fails under CI=true.
func StripeMock(t testing.TB) string {
	t.Helper()
	if u := strings.TrimRight(os.Getenv("STRIPE_MOCK_URL"), "/"); u != "" {
		return u
	}
	bin, err := findStripeMock()
	if err != nil {
		msg := "stripe-mock not found (" + err.Error() + "); install it with 'go install github.com/stripe/stripe-mock@" + StripeMockVersion + "'"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true runs every test: " + msg)
		}
		t.Skip(msg)
	}
	// Both listeners on ephemeral loopback ports: given only -http-addr,
	// stripe-mock also opens HTTPS on :12112, which parallel tests share.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	// stripe-mock prints "Listening for HTTP at address: 127.0.0.1:PORT"
	// once it accepts connections.
	addr := make(chan string, 1)
	var seen strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "Listening for HTTP at address: "); ok {
				addr <- strings.TrimSpace(a)
				break
			}
			seen.WriteString(line + "\n")
		}
		_, _ = io.Copy(io.Discard, out)
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("%s exited before listening:\n%s", bin, seen.String())
		}
		_, port, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatalf("stripe-mock listens at %q: %v", a, err)
		}
		u := "http://127.0.0.1:" + port
		waitAnswers(t, u)
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not report its HTTP address within 30s", bin)
	}
	return ""
}

// findStripeMock looks for the binary on PATH, then in $(go env GOPATH)/bin.
func findStripeMock() (string, error) {
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", errors.New("not on PATH, and 'go env GOPATH' failed")
	}
	for _, dir := range filepath.SplitList(strings.TrimSpace(string(gopath))) {
		p := filepath.Join(dir, "bin", "stripe-mock")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("not on PATH nor in $(go env GOPATH)/bin")
}

// waitAnswers waits until stripe-mock answers HTTP at base.
func waitAnswers(t testing.TB, base string) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := c.Get(base + "/v1/customers/cus_probe")
		if err == nil {
			res.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock at %s does not answer: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Sign returns the Stripe-Signature header for payload signed with secret
// at time at, exactly as Stripe signs its webhook deliveries.
func Sign(payload []byte, secret string, at time.Time) string {
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	return sp.Header
}

// Event is a Stripe event for webhook tests.
type Event struct {
	ID   string
	Type string
	// APIVersion defaults to billing.APIVersion, the client's.
	APIVersion string
	Created    time.Time
	// Object is data.object: the subscription, Checkout Session or invoice.
	Object map[string]any
}

// JSON returns the event as Stripe delivers it.
func (e Event) JSON() []byte {
	v := e.APIVersion
	if v == "" {
		v = billing.APIVersion
	}
	b, err := json.Marshal(map[string]any{
		"id": e.ID, "object": "event", "type": e.Type, "api_version": v, "created": e.Created.Unix(),
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": e.Object},
	})
	if err != nil {
		panic(err) // only maps of JSON values are marshalled
	}
	return b
}

// SubscriptionItemID returns the id stripe-mock at base gives every
// subscription's first item: the item a seat update is sent to.
func SubscriptionItemID(t testing.TB, base string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/v1/subscriptions/sub_any", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_item")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	var sub struct {
		Items struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&sub); err != nil || len(sub.Items.Data) == 0 {
		t.Fatalf("read stripe-mock's subscription: %v", err)
	}
	return sub.Items.Data[0].ID
}
