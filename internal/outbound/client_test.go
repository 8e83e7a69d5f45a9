package outbound_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"atrium/internal/dnstest"
	"atrium/internal/outbound"
)

// startDNS starts a DNS server answering names with addresses and returns
// a resolver that asks only it.
func startDNS(t *testing.T, names map[string][]string) *net.Resolver {
	t.Helper()
	s := dnstest.New(t)
	for name, addrs := range names {
		s.SetAddrs(name, addrs...)
	}
	return s.Resolver()
}

// target is a real HTTP server on 127.0.0.1 that counts its requests, so a
// test can tell that a refused request never reached it.
type target struct {
	*httptest.Server
	port int
	hits atomic.Int32
}

// startTarget starts a target that answers "ok" to every request.
func startTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tg.hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(tg.Close)
	u, _ := url.Parse(tg.URL)
	tg.port, _ = strconv.Atoi(u.Port())
	return tg
}

// mustBlock fails unless err is the client's *url.Error around a
// *BlockedError with the host, reason and address wanted (want.IP zero:
// no address), and returns that error.
func mustBlock(t *testing.T, err error, want outbound.BlockedError) *outbound.BlockedError {
	t.Helper()
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("err=%v, want a *url.Error", err)
	}
	var blocked *outbound.BlockedError
	if !errors.As(err, &blocked) {
		t.Fatalf("err=%v, want a *BlockedError inside", err)
	}
	if got, want := blocked.Host, want.Host; got != want {
		t.Errorf("Host=%q, want %q", got, want)
	}
	if got, want := blocked.Reason, want.Reason; got != want {
		t.Errorf("Reason=%q, want %q", got, want)
	}
	if got, want := blocked.IP.Unmap(), want.IP.Unmap(); got != want {
		t.Errorf("IP=%v, want %v", got, want)
	}
	return blocked
}

// TestClient_ResolvedAddresses checks that a name which resolves to a
// non-public address is refused when the client connects: CheckURL cannot
// see the address, the dialer's check does.
func TestClient_ResolvedAddresses(t *testing.T) {
	t.Parallel()
	tg := startTarget(t)
	resolver := startDNS(t, map[string][]string{
		"loopback.atrium.test": {"127.0.0.1"},
		"metadata.atrium.test": {"169.254.169.254"},
		"mapped.atrium.test":   {"::ffff:127.0.0.1"},
		"private.atrium.test":  {"10.0.0.1"},
		"cgnat.atrium.test":    {"100.64.0.1"},
	})
	opts := outbound.Options{AllowHTTP: true, Ports: []int{tg.port}, Resolver: resolver}
	client := outbound.NewClient(opts)
	for _, tc := range []struct {
		name   string
		ip     string
		reason outbound.Reason
	}{
		{"loopback.atrium.test", "127.0.0.1", outbound.ReasonLoopback},
		{"metadata.atrium.test", "169.254.169.254", outbound.ReasonLinkLocal},
		{"mapped.atrium.test", "::ffff:127.0.0.1", outbound.ReasonLoopback},
		{"private.atrium.test", "10.0.0.1", outbound.ReasonPrivate},
		{"cgnat.atrium.test", "100.64.0.1", outbound.ReasonSharedNAT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := "http://" + tc.name + ":" + strconv.Itoa(tg.port) + "/hook?token=s3cr3t"
			if err := outbound.CheckURL(raw, opts); err != nil {
				t.Fatalf("CheckURL(%q)=%v, want nil: a name is checked when connecting", raw, err)
			}
			res, err := client.Get(raw)
			if err == nil {
				res.Body.Close()
				t.Fatalf("GET %s answered %d, want a refusal", raw, res.StatusCode)
			}
			blocked := mustBlock(t, err, outbound.BlockedError{Host: tc.name, IP: netip.MustParseAddr(tc.ip), Reason: tc.reason})
			if got, want := blocked.Error(), tc.name+" resolves to "; !strings.HasPrefix(got, want) {
				t.Errorf("Error()=%q, want it to start %q", got, want)
			}
			assertNoSecrets(t, outbound.Redact(err).Error())
		})
	}
	if got := tg.hits.Load(); got != 0 {
		t.Errorf("target got %d requests, want 0", got)
	}
}

// TestClient_Rebinding checks DNS rebinding: the name resolves to a public
// address when it is first looked up (as a check made when the address is
// saved would see it) and to 127.0.0.1 when the client connects. The client
// refuses, because it checks the address it connects to.
func TestClient_Rebinding(t *testing.T) {
	t.Parallel()
	tg := startTarget(t)
	const name = "rebind.atrium.test"
	resolver := startDNS(t, map[string][]string{name: {"8.8.8.8", "127.0.0.1"}})
	raw := "http://" + name + ":" + strconv.Itoa(tg.port) + "/"

	first, err := resolver.LookupNetIP(t.Context(), "ip4", name)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := first, []netip.Addr{netip.MustParseAddr("8.8.8.8")}; len(got) != 1 || got[0] != want[0] {
		t.Fatalf("first answer=%v, want %v", got, want)
	}

	client := outbound.NewClient(outbound.Options{AllowHTTP: true, Ports: []int{tg.port}, Resolver: resolver})
	res, err := client.Get(raw)
	if err == nil {
		res.Body.Close()
		t.Fatalf("GET %s answered %d, want a refusal", raw, res.StatusCode)
	}
	mustBlock(t, err, outbound.BlockedError{Host: name, IP: netip.MustParseAddr("127.0.0.1"), Reason: outbound.ReasonLoopback})
	if got := tg.hits.Load(); got != 0 {
		t.Fatalf("target got %d requests, want 0", got)
	}

	// The same name and resolver with the checks off reach the target: the
	// refusal above was the check, and the second answer is 127.0.0.1.
	dev := outbound.NewClient(outbound.Options{AllowPrivate: true, Resolver: resolver})
	res, err = dev.Get(raw)
	if err != nil {
		t.Fatalf("GET %s with AllowPrivate: %v", raw, err)
	}
	res.Body.Close()
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("status=%d, want %d", got, want)
	}
}

// TestClient_LiteralAddresses checks URLs whose host is a loopback address,
// written plainly or in the forms resolvers and browsers also accept: both
// CheckURL and the client refuse them, and nothing reaches the server.
func TestClient_LiteralAddresses(t *testing.T) {
	t.Parallel()
	tg := startTarget(t)
	port := strconv.Itoa(tg.port)
	opts := outbound.Options{AllowHTTP: true, Ports: []int{80, tg.port}}
	client := outbound.NewClient(opts)
	for _, tc := range []struct {
		raw  string
		want outbound.BlockedError
	}{
		{"http://[::ffff:127.0.0.1]:" + port + "/", outbound.BlockedError{Host: "::ffff:127.0.0.1", IP: netip.MustParseAddr("::ffff:127.0.0.1"), Reason: outbound.ReasonLoopback}},
		{"http://127.0.0.1:" + port + "/", outbound.BlockedError{Host: "127.0.0.1", IP: netip.MustParseAddr("127.0.0.1"), Reason: outbound.ReasonLoopback}},
		{"http://[::1]:" + port + "/", outbound.BlockedError{Host: "::1", IP: netip.MustParseAddr("::1"), Reason: outbound.ReasonLoopback}},
		{"http://0.0.0.0:" + port + "/", outbound.BlockedError{Host: "0.0.0.0", IP: netip.MustParseAddr("0.0.0.0"), Reason: outbound.ReasonUnspecified}},
		{"http://2130706433/", outbound.BlockedError{Host: "2130706433", Reason: outbound.ReasonHostName}},
		{"http://2130706433:" + port + "/", outbound.BlockedError{Host: "2130706433", Reason: outbound.ReasonHostName}},
		{"http://0x7f000001/", outbound.BlockedError{Host: "0x7f000001", Reason: outbound.ReasonHostName}},
		{"http://017700000001/", outbound.BlockedError{Host: "017700000001", Reason: outbound.ReasonHostName}},
		{"http://127.1/", outbound.BlockedError{Host: "127.1", Reason: outbound.ReasonHostName}},
		{"http://0x7f.1:" + port + "/", outbound.BlockedError{Host: "0x7f.1", Reason: outbound.ReasonHostName}},
		{"http://１２７.０.０.１:" + port + "/", outbound.BlockedError{Host: "１２７.０.０.１", Reason: outbound.ReasonHostName}},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			var blocked *outbound.BlockedError
			if err := outbound.CheckURL(tc.raw, opts); !errors.As(err, &blocked) || blocked.Reason != tc.want.Reason {
				t.Errorf("CheckURL(%q)=%v, want %q", tc.raw, err, tc.want.Reason)
			}
			res, err := client.Get(tc.raw)
			if err == nil {
				res.Body.Close()
				t.Fatalf("GET %s answered %d, want a refusal", tc.raw, res.StatusCode)
			}
			mustBlock(t, err, tc.want)
		})
	}
	if got := tg.hits.Load(); got != 0 {
		t.Errorf("target got %d requests, want 0", got)
	}
}

// TestClient_Redirects checks that the client hands a redirect back to its
// caller instead of following it, to the metadata address or anywhere else.
func TestClient_Redirects(t *testing.T) {
	t.Parallel()
	tg := startTarget(t)
	for _, tc := range []struct {
		status   int
		location string
	}{
		{http.StatusFound, "http://169.254.169.254/latest/meta-data/"},
		{http.StatusMovedPermanently, "http://169.254.169.254/latest/meta-data/"},
		{http.StatusSeeOther, tg.URL + "/after-redirect"},
		{http.StatusTemporaryRedirect, tg.URL + "/after-redirect"},
		{http.StatusPermanentRedirect, tg.URL + "/after-redirect"},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tc.location, tc.status)
			}))
			defer redirector.Close()
			// The redirector is on 127.0.0.1, which only AllowPrivate reaches;
			// redirects are refused all the same.
			client := outbound.NewClient(outbound.Options{AllowPrivate: true})
			res, err := client.Post(redirector.URL+"/hook", "application/json", strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got, want := res.StatusCode, tc.status; got != want {
				t.Errorf("status=%d, want %d", got, want)
			}
			if got, want := res.Header.Get("Location"), tc.location; got != want {
				t.Errorf("Location=%q, want %q", got, want)
			}
		})
	}
	if got := tg.hits.Load(); got != 0 {
		t.Errorf("redirect target got %d requests, want 0", got)
	}
}

// TestClient_AllowPrivate checks that the refusals above come from the
// checks: with AllowPrivate the same local server answers, by address and
// by a name that resolves to it, and Ports still limits where requests go.
func TestClient_AllowPrivate(t *testing.T) {
	t.Parallel()
	tg := startTarget(t)
	resolver := startDNS(t, map[string][]string{"loopback.atrium.test": {"127.0.0.1"}})
	port := strconv.Itoa(tg.port)
	client := outbound.NewClient(outbound.Options{AllowPrivate: true, Resolver: resolver})
	for _, raw := range []string{
		tg.URL + "/",
		"http://loopback.atrium.test:" + port + "/",
		"http://[::ffff:127.0.0.1]:" + port + "/",
	} {
		res, err := client.Get(raw)
		if err != nil {
			t.Fatalf("GET %s: %v", raw, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("GET %s=%d %q, want 200 \"ok\"", raw, res.StatusCode, body)
		}
	}
	if got, want := tg.hits.Load(), int32(3); got != want {
		t.Errorf("target got %d requests, want %d", got, want)
	}

	narrow := outbound.NewClient(outbound.Options{AllowPrivate: true, Ports: []int{80}})
	_, err := narrow.Get(tg.URL + "/")
	blocked := mustBlock(t, err, outbound.BlockedError{Host: "127.0.0.1", Reason: outbound.ReasonPort})
	if got, want := blocked.Port, tg.port; got != want {
		t.Errorf("Port=%d, want %d", got, want)
	}
}

// TestClient_NoSecrets checks that the client's error, once redacted, names
// the host but not the user name, password, path or query string, and
// that errors.As still finds the refusal in it.
func TestClient_NoSecrets(t *testing.T) {
	t.Parallel()
	tg := startTarget(t)
	client := outbound.NewClient(outbound.Options{AllowHTTP: true, Ports: []int{tg.port}})
	for _, raw := range []string{
		"http://alice:hunter2@127.0.0.1:" + strconv.Itoa(tg.port) + "/pathsecret?token=s3cr3t",
		"http://127.0.0.1:" + strconv.Itoa(tg.port) + "/pathsecret?token=s3cr3t",
	} {
		_, err := client.Get(raw)
		if err == nil {
			t.Fatalf("GET %s succeeded, want a refusal", raw)
		}
		if !strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("err=%q, want the query string in it: http.Client's *url.Error keeps it, which is why Redact exists", err)
		}
		redacted := outbound.Redact(err)
		assertNoSecrets(t, redacted.Error())
		if !strings.Contains(redacted.Error(), "127.0.0.1") {
			t.Errorf("Redact(err)=%q, want the host in it", redacted)
		}
		var blocked *outbound.BlockedError
		if !errors.As(redacted, &blocked) {
			t.Fatalf("Redact(err)=%v, want a *BlockedError inside", redacted)
		}
		assertNoSecrets(t, blocked.Error())
	}
}
