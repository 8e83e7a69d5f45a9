// Package outbound sends HTTP requests to addresses that users type
// (webhook URLs, OpenID Connect issuers) without letting them reach the
// server's own network: loopback, private, link-local, carrier-grade NAT,
// multicast and reserved addresses are refused, in every IPv6 form that
// carries one of them. The client checks the address it actually connects
// to, in the dialer, so a name that answers with a public address when it is
// saved and a private one when it is used (DNS rebinding) is still refused.
// Every feature that sends requests to user-supplied URLs goes through
// NewClient, and checks addresses with CheckURL when they are saved.
package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options configures the client and CheckURL. The zero value is the
// production setting: https to public addresses on port 443, 10 seconds.
type Options struct {
	// AllowPrivate turns the address checks off, allows plain http and,
	// unless Ports is set, any port: for development, where the webhook
	// receiver or the identity provider runs on the same machine.
	AllowPrivate bool
	// AllowHTTP allows plain http as well as https, to public addresses.
	AllowHTTP bool
	// Ports are the ports requests may go to; empty means 80 and 443 (any
	// port with AllowPrivate).
	Ports []int
	// Timeout bounds a whole request, reading the body included; zero
	// means 10 seconds.
	Timeout time.Duration
	// Resolver looks host names up; nil means the system's. Tests point it
	// at a DNS server of their own.
	Resolver *net.Resolver
}

// DefaultTimeout is the Timeout of Options that leave it zero.
const DefaultTimeout = 10 * time.Second

// allowedPorts returns the ports requests may go to, nil for any.
func (o Options) allowedPorts() []int {
	switch {
	case len(o.Ports) > 0:
		return o.Ports
	case o.AllowPrivate:
		return nil
	}
	return []int{80, 443}
}

// portAllowed reports whether requests may go to port.
func (o Options) portAllowed(port int) bool {
	ports := o.allowedPorts()
	return ports == nil || slices.Contains(ports, port)
}

// NewClient returns a client for requests to addresses users type. Before
// each request it runs CheckURL on the request's URL; when it connects, it
// checks the address and port it is connecting to and refuses a non-public
// one, whatever the name resolved to before. It follows no redirect (the
// caller gets the 3xx response and its Location), uses no proxy from the
// environment, and bounds every step of a request. A refusal is a
// *BlockedError inside the *url.Error the client returns; Redact makes that
// error safe to log. Read bodies through an io.LimitReader: the client
// bounds headers, not bodies.
func NewClient(opts Options) *http.Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{
		Timeout:        min(timeout, 5*time.Second),
		KeepAlive:      30 * time.Second,
		Resolver:       opts.Resolver,
		ControlContext: opts.control,
	}
	next := &http.Transport{
		Proxy: nil, // never HTTPS_PROXY and friends from the environment
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			return dialer.DialContext(context.WithValue(ctx, hostKey{}, host), network, addr)
		},
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    min(timeout, 5*time.Second),
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        60 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Transport: &transport{opts: opts, next: next},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: timeout,
	}
}

// hostKey is the context key under which the dialer finds the host name
// it is connecting for, to name it in a refusal.
type hostKey struct{}

// control is the dialer's Control function: it runs once the address is
// resolved, before the connection is made, on the IP and port the socket is
// about to connect to.
func (o Options) control(ctx context.Context, _, address string, _ syscall.RawConn) error {
	host, _ := ctx.Value(hostKey{}).(string)
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Host: host, Reason: ReasonMalformed}
	}
	ip := ap.Addr()
	if reason := Classify(ip); reason != "" && !o.AllowPrivate {
		return &BlockedError{Host: host, IP: ip, Reason: reason}
	}
	if port := int(ap.Port()); !o.portAllowed(port) {
		return &BlockedError{Host: host, Port: port, Ports: o.allowedPorts(), Reason: ReasonPort}
	}
	return nil
}

// transport runs CheckURL on each request before handing it on.
type transport struct {
	opts Options
	next *http.Transport
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkURL(req.URL, t.opts); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return t.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// connections the transport keeps.
func (t *transport) CloseIdleConnections() {
	t.next.CloseIdleConnections()
}

// Redact returns err with the URL inside its *url.Error cut down to scheme
// and host, so that it can be logged: the user name, password and query
// string may hold secrets, and so may the path (chat webhooks put their
// token there). errors.Is and errors.As see through it to err. An error
// without a *url.Error comes back unchanged.
func Redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	short := "(not a valid URL)"
	if u, perr := url.Parse(ue.URL); perr == nil {
		short = (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
	}
	msg := strings.ReplaceAll(err.Error(), strconv.Quote(ue.URL), strconv.Quote(short))
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error with a message cleaned by Redact.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
