package outbound

import "net/netip"

// Reason says why a request is refused. The values of the address reasons
// read as a noun phrase ("a private address") so that they fit into a
// sentence about the address.
type Reason string

// The reasons for refusing an address: the classes Classify returns.
const (
	ReasonLoopback    Reason = "a loopback address"
	ReasonPrivate     Reason = "a private address"
	ReasonLinkLocal   Reason = "a link-local address"
	ReasonSharedNAT   Reason = "a carrier-grade NAT address"
	ReasonMulticast   Reason = "a multicast address"
	ReasonUnspecified Reason = "an unspecified address"
	ReasonBroadcast   Reason = "a broadcast address"
	ReasonReserved    Reason = "a reserved address"
)

// The reasons for refusing a URL before any address is known.
const (
	ReasonMalformed Reason = "not a valid address"
	ReasonScheme    Reason = "not an http or https address"
	ReasonInsecure  Reason = "not an https address"
	ReasonNoHost    Reason = "an address without a host"
	ReasonUserinfo  Reason = "an address with a user name or password"
	ReasonHostName  Reason = "not a public host name"
	ReasonPort      Reason = "a port that is not allowed"
)

// addressRange is one block of addresses that are not public, and why.
type addressRange struct {
	prefix netip.Prefix
	reason Reason
}

// v4Ranges lists the IPv4 blocks that are not public (IANA's special-purpose
// registry, RFC 6890 and its updates). Classify takes the first match, so
// the broadcast address comes before the block it sits in.
var v4Ranges = []addressRange{
	{netip.MustParsePrefix("0.0.0.0/8"), ReasonUnspecified},
	{netip.MustParsePrefix("10.0.0.0/8"), ReasonPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), ReasonSharedNAT},
	{netip.MustParsePrefix("127.0.0.0/8"), ReasonLoopback},
	{netip.MustParsePrefix("169.254.0.0/16"), ReasonLinkLocal},
	{netip.MustParsePrefix("172.16.0.0/12"), ReasonPrivate},
	{netip.MustParsePrefix("192.0.0.0/24"), ReasonReserved},   // IETF protocol assignments
	{netip.MustParsePrefix("192.0.2.0/24"), ReasonReserved},   // documentation (TEST-NET-1)
	{netip.MustParsePrefix("192.88.99.0/24"), ReasonReserved}, // 6to4 relay anycast, deprecated
	{netip.MustParsePrefix("192.168.0.0/16"), ReasonPrivate},
	{netip.MustParsePrefix("198.18.0.0/15"), ReasonReserved},   // benchmarking
	{netip.MustParsePrefix("198.51.100.0/24"), ReasonReserved}, // documentation (TEST-NET-2)
	{netip.MustParsePrefix("203.0.113.0/24"), ReasonReserved},  // documentation (TEST-NET-3)
	{netip.MustParsePrefix("224.0.0.0/4"), ReasonMulticast},
	{netip.MustParsePrefix("255.255.255.255/32"), ReasonBroadcast},
	{netip.MustParsePrefix("240.0.0.0/4"), ReasonReserved}, // future use
}

// v6Ranges lists the IPv6 blocks that are not public and carry no IPv4
// address Classify looks into. Anything outside 2000::/3 that is not listed
// here or embedded is reserved too.
var v6Ranges = []addressRange{
	{netip.MustParsePrefix("::/128"), ReasonUnspecified},
	{netip.MustParsePrefix("::1/128"), ReasonLoopback},
	{netip.MustParsePrefix("64:ff9b:1::/48"), ReasonPrivate}, // local-use NAT64
	{netip.MustParsePrefix("2001:2::/48"), ReasonReserved},   // benchmarking
	{netip.MustParsePrefix("2001:10::/28"), ReasonReserved},  // ORCHID, deprecated
	{netip.MustParsePrefix("2001:db8::/32"), ReasonReserved}, // documentation
	{netip.MustParsePrefix("3fff::/20"), ReasonReserved},     // documentation
	{netip.MustParsePrefix("fc00::/7"), ReasonPrivate},       // unique local
	{netip.MustParsePrefix("fe80::/10"), ReasonLinkLocal},
	{netip.MustParsePrefix("fec0::/10"), ReasonPrivate}, // site-local, deprecated
	{netip.MustParsePrefix("ff00::/8"), ReasonMulticast},
}

// The IPv6 blocks that embed an IPv4 address.
var (
	v4Compatible = netip.MustParsePrefix("::/96")        // deprecated IPv4-compatible form
	nat64        = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64 prefix
	sixToFour    = netip.MustParsePrefix("2002::/16")    // 6to4
	teredo       = netip.MustParsePrefix("2001::/32")    // Teredo
	globalV6     = netip.MustParsePrefix("2000::/3")     // global unicast
)

// Classify returns why ip is not a public address, or "" when it is one.
// An IPv6 address that carries an IPv4 address (IPv4-mapped,
// IPv4-compatible, NAT64, 6to4, Teredo) is refused for the reason its
// IPv4 address would be. A zone is ignored; the zero Addr is unspecified.
func Classify(ip netip.Addr) Reason {
	ip = ip.WithZone("")
	switch {
	case !ip.IsValid():
		return ReasonUnspecified
	case ip.Is4():
		return classify4(ip)
	case ip.Is4In6():
		return classify4(ip.Unmap())
	}
	for _, r := range v6Ranges {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	b := ip.As16()
	switch {
	case v4Compatible.Contains(ip):
		if reason := classify4(netip.AddrFrom4([4]byte(b[12:]))); reason != "" {
			return reason
		}
		return ReasonReserved
	case nat64.Contains(ip):
		return classify4(netip.AddrFrom4([4]byte(b[12:])))
	case sixToFour.Contains(ip):
		return classify4(netip.AddrFrom4([4]byte(b[2:6])))
	case teredo.Contains(ip):
		// The server's address is in clear, the client's inverted.
		if reason := classify4(netip.AddrFrom4([4]byte(b[4:8]))); reason != "" {
			return reason
		}
		return classify4(netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}))
	case !globalV6.Contains(ip):
		return ReasonReserved
	}
	return ""
}

// classify4 is Classify for an IPv4 address.
func classify4(ip netip.Addr) Reason {
	for _, r := range v4Ranges {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	return ""
}
