package outbound

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// CheckURL reports whether raw is an address Atrium may send to, without
// looking the host up: call it when an owner saves an address, to answer at
// once. It wants http or https (https only, unless opts allows plain http
// or private addresses), a host, no user name or password, and an allowed
// port. A literal IP is classified at once; a host written as a number in
// another form (2130706433, 0x7f.1, 017700000001, 127.1) is refused as not
// a public host name, and so are names that only mean something inside a
// network (localhost, a name without a dot, .local, .internal). A name is
// only checked again when the client connects, on the address it connects
// to. The error is a *BlockedError.
func CheckURL(raw string, opts Options) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error repeats the whole URL, secrets included.
		return &BlockedError{Reason: ReasonMalformed}
	}
	return checkURL(u, opts)
}

// checkURL is CheckURL on a parsed URL; the client runs it on every request.
func checkURL(u *url.URL, opts Options) error {
	port := 443
	switch u.Scheme {
	case "https":
	case "http":
		if !opts.AllowHTTP && !opts.AllowPrivate {
			return &BlockedError{Reason: ReasonInsecure}
		}
		port = 80
	default:
		return &BlockedError{Reason: ReasonScheme}
	}
	if u.User != nil {
		return &BlockedError{Reason: ReasonUserinfo}
	}
	host := u.Hostname()
	if host == "" {
		return &BlockedError{Reason: ReasonNoHost}
	}
	if err := checkHost(host, opts); err != nil {
		return err
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return &BlockedError{Reason: ReasonMalformed}
		}
		port = n
	}
	if !opts.portAllowed(port) {
		return &BlockedError{Host: host, Port: port, Ports: opts.allowedPorts(), Reason: ReasonPort}
	}
	return nil
}

// checkHost checks a URL's host: a literal address by its class, a name by
// its form.
func checkHost(host string, opts Options) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return &BlockedError{Host: host, Reason: ReasonHostName}
		}
		if reason := Classify(ip); reason != "" && !opts.AllowPrivate {
			return &BlockedError{Host: host, IP: ip, Reason: reason}
		}
		return nil
	}
	refused := &BlockedError{Host: host, Reason: ReasonHostName}
	name := strings.ToLower(host)
	if !isASCII(name) {
		// The transport sends the IDNA form, in which fullwidth digits
		// become ASCII ones: check that form.
		ascii, err := idna.Lookup.ToASCII(name)
		if err != nil {
			return refused
		}
		if _, err := netip.ParseAddr(ascii); err == nil {
			return refused
		}
		name = ascii
	}
	name = strings.TrimSuffix(name, ".")
	if !validName(name) || numeric(name) {
		return refused
	}
	if !opts.AllowPrivate && local(name) {
		return refused
	}
	return nil
}

// validName reports whether name is made of DNS labels: letters, digits,
// hyphens and underscores, 1 to 63 of them a label, 253 in all.
func validName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// numeric reports whether name's last label is a number (decimal, octal or
// 0x hexadecimal). No top-level domain is one, but inet_aton and browsers
// read such names as IPv4 addresses: 2130706433, 0x7f.1 and 127.1 are all
// 127.0.0.1.
func numeric(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	digits := "0123456789"
	if strings.HasPrefix(last, "0x") {
		last, digits = last[2:], "0123456789abcdef"
	}
	return strings.Trim(last, digits) == ""
}

// local reports whether name only means something inside a network.
func local(name string) bool {
	if !strings.Contains(name, ".") {
		return true
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".home.arpa", ".localdomain"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
