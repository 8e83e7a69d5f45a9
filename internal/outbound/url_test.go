package outbound_test

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/idna"

	"atrium/internal/outbound"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	var (
		production = outbound.Options{}
		plainHTTP  = outbound.Options{AllowHTTP: true}
		port8443   = outbound.Options{Ports: []int{443, 8443}}
		private    = outbound.Options{AllowPrivate: true}
	)
	for _, tc := range []struct {
		raw  string
		opts outbound.Options
		want outbound.Reason // "" for accepted
	}{
		{"https://example.com/hooks/atrium", production, ""},
		{"https://Example.COM:443/x?y=1#z", production, ""},
		{"https://example.com./", production, ""},
		{"https://bücher.example/", production, ""},
		{"https://8.8.8.8/", production, ""},
		{"https://[2001:4860:4860::8888]/", production, ""},
		{"http://example.com/", production, outbound.ReasonInsecure},
		{"http://example.com/", plainHTTP, ""},
		{"http://example.com:80/", plainHTTP, ""},
		{"ftp://example.com/", production, outbound.ReasonScheme},
		{"file:///etc/passwd", production, outbound.ReasonScheme},
		{"gopher://example.com/", private, outbound.ReasonScheme},
		{"example.com/hook", production, outbound.ReasonScheme},
		{"https:example.com", production, outbound.ReasonNoHost},
		{"https:///path", production, outbound.ReasonNoHost},
		{"https://%zz/", production, outbound.ReasonMalformed},
		{"https://example.com:99999999999999999999/", production, outbound.ReasonMalformed},
		{"https://alice:hunter2@example.com/", production, outbound.ReasonUserinfo},
		{"https://alice@example.com/", private, outbound.ReasonUserinfo},
		{"https://example.com:8443/", production, outbound.ReasonPort},
		{"https://example.com:8443/", port8443, ""},
		{"https://example.com/", port8443, ""},
		{"http://example.com/", port8443, outbound.ReasonInsecure},
		{"https://example.com:22/", production, outbound.ReasonPort},
		{"https://example.com:0/", production, outbound.ReasonPort},
		{"https://localhost/", production, outbound.ReasonHostName},
		{"https://app.localhost/", production, outbound.ReasonHostName},
		{"https://metadata/", production, outbound.ReasonHostName},
		{"https://printer.local/", production, outbound.ReasonHostName},
		{"https://metadata.google.internal/", production, outbound.ReasonHostName},
		{"https://router.home.arpa/", production, outbound.ReasonHostName},
		{"https://0x7f.1/", production, outbound.ReasonHostName},
		{"https://127.1/", production, outbound.ReasonHostName},
		{"https://2130706433/", production, outbound.ReasonHostName},
		{"https://0x7f000001/", production, outbound.ReasonHostName},
		{"https://017700000001/", production, outbound.ReasonHostName},
		{"https://0177.0.0.1/", production, outbound.ReasonHostName},
		{"https://127.0.0.1./", production, outbound.ReasonHostName},
		{"https://１２７.０.０.１/", production, outbound.ReasonHostName},
		{"https://2130706433/", private, outbound.ReasonHostName},
		{"https://a..b/", production, outbound.ReasonHostName},
		{"https://[fe80::1%25eth0]/", production, outbound.ReasonHostName},
		{"https://10.0.0.5/", production, outbound.ReasonPrivate},
		{"https://127.0.0.1/", production, outbound.ReasonLoopback},
		{"https://169.254.169.254/latest/meta-data/", production, outbound.ReasonLinkLocal},
		{"https://100.64.0.1/", production, outbound.ReasonSharedNAT},
		{"https://0.0.0.0/", production, outbound.ReasonUnspecified},
		{"https://[::]/", production, outbound.ReasonUnspecified},
		{"https://[::1]/", production, outbound.ReasonLoopback},
		{"https://[::ffff:127.0.0.1]/", production, outbound.ReasonLoopback},
		{"https://[::ffff:7f00:1]/", production, outbound.ReasonLoopback},
		{"https://[64:ff9b::a9fe:a9fe]/", production, outbound.ReasonLinkLocal},
		{"https://[fd00::1]/", production, outbound.ReasonPrivate},
		{"http://127.0.0.1:8080/", private, ""},
		{"http://localhost:3000/hook", private, ""},
		{"https://10.0.0.5/", private, ""},
	} {
		err := outbound.CheckURL(tc.raw, tc.opts)
		if tc.want == "" {
			if err != nil {
				t.Errorf("CheckURL(%q)=%v, want nil", tc.raw, err)
			}
			continue
		}
		var blocked *outbound.BlockedError
		if !errors.As(err, &blocked) {
			t.Errorf("CheckURL(%q)=%v, want a *BlockedError", tc.raw, err)
			continue
		}
		if got := blocked.Reason; got != tc.want {
			t.Errorf("CheckURL(%q).Reason=%q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestBlockedError_Error(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  outbound.BlockedError
		want string
	}{
		{
			outbound.BlockedError{Host: "example.com", IP: netip.MustParseAddr("10.0.0.5"), Reason: outbound.ReasonPrivate},
			"example.com resolves to 10.0.0.5, a private address: Atrium only sends to public addresses.",
		},
		{
			outbound.BlockedError{Host: "::ffff:127.0.0.1", IP: netip.MustParseAddr("::ffff:127.0.0.1"), Reason: outbound.ReasonLoopback},
			"::ffff:127.0.0.1 is a loopback address: Atrium only sends to public addresses.",
		},
		{
			outbound.BlockedError{Host: "0x7f.1", Reason: outbound.ReasonHostName},
			"0x7f.1 is not a public host name: Atrium only sends to public addresses.",
		},
		{
			outbound.BlockedError{Host: "example.com", Port: 8080, Ports: []int{80, 443}, Reason: outbound.ReasonPort},
			"example.com uses port 8080: Atrium only sends to ports 80 and 443.",
		},
		{
			outbound.BlockedError{Host: "example.com", Port: 8080, Ports: []int{443}, Reason: outbound.ReasonPort},
			"example.com uses port 8080: Atrium only sends to port 443.",
		},
		{
			outbound.BlockedError{Reason: outbound.ReasonInsecure},
			"The address must start with https://: Atrium only sends over encrypted connections.",
		},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error()=%q, want %q", got, tc.want)
		}
	}
}

// TestCheckURL_NoSecrets checks that a refusal names the host at most: never
// the user name, password, path or query string of the URL.
func TestCheckURL_NoSecrets(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"https://alice:hunter2@example.com/?token=s3cr3t",
		"https://alice:hunter2@10.0.0.5/?token=s3cr3t",
		"http://alice:hunter2@example.com:8443/p?token=s3cr3t",
		"https://example.com:8443/pathsecret?token=s3cr3t",
		"https://10.0.0.5/pathsecret?token=s3cr3t",
		"https://example.com:bad/?token=s3cr3t",
		"https://alice:hunter2@%zz/?token=s3cr3t",
		"ftp://alice:hunter2@example.com/?token=s3cr3t",
		"https:alice:hunter2@example.com?token=s3cr3t",
	} {
		err := outbound.CheckURL(raw, outbound.Options{})
		if err == nil {
			t.Fatalf("CheckURL(%q)=nil, want a refusal", raw)
		}
		assertNoSecrets(t, err.Error())
	}
}

// assertNoSecrets fails when msg holds a part of the URLs above that is not
// their host.
func assertNoSecrets(t *testing.T, msg string) {
	t.Helper()
	for _, secret := range []string{"alice", "hunter2", "token", "s3cr3t", "pathsecret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q contains %q", msg, secret)
		}
	}
}

// FuzzCheckURL checks that CheckURL never panics, refuses only with a
// *BlockedError, and never accepts a URL whose host is a non-public address,
// written as an IP literal or as a number that inet_aton would read as one.
func FuzzCheckURL(f *testing.F) {
	for _, seed := range []string{
		"https://example.com/", "http://example.com:8080/x?y=z", "https://alice:hunter2@host/?token=s3cr3t",
		"https://127.0.0.1/", "https://[::ffff:127.0.0.1]:443/", "https://[64:ff9b::a00:1]/",
		"https://2130706433/", "https://0x7f000001/", "https://017700000001/", "https://127.1/",
		"https://0x7f.1/", "https://１２７.０.０.１/", "https://[fe80::1%25eth0]/", "https://[2002:7f00:1::]/",
		"https://8.8.8.8/", "https:example.com", "https://%zz/", "https://a.b.c.d.e/",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, raw string, plainHTTP bool) {
		opts := outbound.Options{AllowHTTP: plainHTTP, Ports: []int{80, 443, 8080}}
		err := outbound.CheckURL(raw, opts)
		if err != nil {
			var blocked *outbound.BlockedError
			if !errors.As(err, &blocked) {
				t.Fatalf("CheckURL(%q)=%v, want a *BlockedError", raw, err)
			}
			_ = err.Error()
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("CheckURL accepted %q, which url.Parse refuses: %v", raw, perr)
		}
		if u.User != nil {
			t.Fatalf("CheckURL accepted %q with a user name", raw)
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !plainHTTP) {
			t.Fatalf("CheckURL accepted %q with scheme %q", raw, u.Scheme)
		}
		host := u.Hostname()
		if ip, err := netip.ParseAddr(host); err == nil {
			if reason := outbound.Classify(ip); reason != "" {
				t.Fatalf("CheckURL accepted %q, whose host is %s", raw, reason)
			}
			return
		}
		if ascii, err := idna.Lookup.ToASCII(host); err == nil {
			host = ascii
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			t.Fatalf("CheckURL accepted %q, whose host is the address %s in other characters", raw, ip)
		}
		if looksLikeIPv4(host) {
			t.Fatalf("CheckURL accepted %q, whose host inet_aton reads as an IPv4 address", raw)
		}
	})
}

// looksLikeIPv4 reports whether host is one to four dot-separated numbers
// (decimal, octal or 0x hexadecimal), the forms inet_aton accepts.
func looksLikeIPv4(host string) bool {
	parts := strings.Split(strings.TrimSuffix(strings.ToLower(host), "."), ".")
	if len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		digits := "0123456789"
		if strings.HasPrefix(p, "0x") {
			p, digits = p[2:], "0123456789abcdef"
		} else if p == "" {
			return false
		}
		if strings.Trim(p, digits) != "" {
			return false
		}
	}
	return true
}

// TestRedact checks that Redact keeps the scheme and host of a *url.Error's
// URL and drops the rest, and that errors.As still finds what it wraps.
func TestRedact(t *testing.T) {
	t.Parallel()
	blocked := &outbound.BlockedError{Host: "example.com", IP: netip.MustParseAddr("10.0.0.5"), Reason: outbound.ReasonPrivate}
	err := &url.Error{Op: "Post", URL: "https://alice:***@example.com:8443/hooks/pathsecret?token=s3cr3t#frag", Err: blocked}
	got := outbound.Redact(err)
	if want := `Post "https://example.com:8443": ` + blocked.Error(); got.Error() != want {
		t.Errorf("Redact=%q, want %q", got, want)
	}
	assertNoSecrets(t, got.Error())
	var found *outbound.BlockedError
	if !errors.As(got, &found) {
		t.Fatalf("errors.As(Redact(err)) found no *BlockedError")
	}
	if diff := cmp.Diff(blocked, found, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("BlockedError (-want +got):\n%s", diff)
	}
	plain := errors.New("no URL here")
	if got := outbound.Redact(plain); got != plain {
		t.Errorf("Redact(plain)=%v, want it unchanged", got)
	}
}
