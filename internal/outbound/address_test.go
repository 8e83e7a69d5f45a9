package outbound_test

import (
	"net/netip"
	"testing"

	"atrium/internal/outbound"
)

// TestClassify checks every refused range inside and at its edges, and the
// public addresses just outside them.
func TestClassify(t *testing.T) {
	t.Parallel()
	const public = outbound.Reason("")
	for _, tc := range []struct {
		ip   string
		want outbound.Reason
	}{
		// 0.0.0.0/8
		{"0.0.0.0", outbound.ReasonUnspecified},
		{"0.255.255.255", outbound.ReasonUnspecified},
		{"1.0.0.0", public},
		// 10.0.0.0/8
		{"9.255.255.255", public},
		{"10.0.0.0", outbound.ReasonPrivate},
		{"10.0.0.5", outbound.ReasonPrivate},
		{"10.255.255.255", outbound.ReasonPrivate},
		{"11.0.0.0", public},
		// 100.64.0.0/10
		{"100.63.255.255", public},
		{"100.64.0.0", outbound.ReasonSharedNAT},
		{"100.127.255.255", outbound.ReasonSharedNAT},
		{"100.128.0.0", public},
		// 127.0.0.0/8
		{"126.255.255.255", public},
		{"127.0.0.0", outbound.ReasonLoopback},
		{"127.0.0.1", outbound.ReasonLoopback},
		{"127.255.255.255", outbound.ReasonLoopback},
		{"128.0.0.0", public},
		// 169.254.0.0/16
		{"169.253.255.255", public},
		{"169.254.0.0", outbound.ReasonLinkLocal},
		{"169.254.169.254", outbound.ReasonLinkLocal},
		{"169.254.255.255", outbound.ReasonLinkLocal},
		{"169.255.0.0", public},
		// 172.16.0.0/12
		{"172.15.255.255", public},
		{"172.16.0.0", outbound.ReasonPrivate},
		{"172.31.255.255", outbound.ReasonPrivate},
		{"172.32.0.0", public},
		// 192.0.0.0/24, 192.0.2.0/24
		{"191.255.255.255", public},
		{"192.0.0.0", outbound.ReasonReserved},
		{"192.0.0.255", outbound.ReasonReserved},
		{"192.0.1.0", public},
		{"192.0.2.0", outbound.ReasonReserved},
		{"192.0.2.255", outbound.ReasonReserved},
		{"192.0.3.0", public},
		// 192.88.99.0/24
		{"192.88.98.255", public},
		{"192.88.99.0", outbound.ReasonReserved},
		{"192.88.99.255", outbound.ReasonReserved},
		{"192.88.100.0", public},
		// 192.168.0.0/16
		{"192.167.255.255", public},
		{"192.168.0.0", outbound.ReasonPrivate},
		{"192.168.255.255", outbound.ReasonPrivate},
		{"192.169.0.0", public},
		// 198.18.0.0/15
		{"198.17.255.255", public},
		{"198.18.0.0", outbound.ReasonReserved},
		{"198.19.255.255", outbound.ReasonReserved},
		{"198.20.0.0", public},
		// 198.51.100.0/24, 203.0.113.0/24
		{"198.51.99.255", public},
		{"198.51.100.0", outbound.ReasonReserved},
		{"198.51.100.255", outbound.ReasonReserved},
		{"198.51.101.0", public},
		{"203.0.112.255", public},
		{"203.0.113.0", outbound.ReasonReserved},
		{"203.0.113.255", outbound.ReasonReserved},
		{"203.0.114.0", public},
		// 224.0.0.0/4, 240.0.0.0/4, 255.255.255.255
		{"223.255.255.255", public},
		{"224.0.0.0", outbound.ReasonMulticast},
		{"239.255.255.255", outbound.ReasonMulticast},
		{"240.0.0.0", outbound.ReasonReserved},
		{"255.255.255.254", outbound.ReasonReserved},
		{"255.255.255.255", outbound.ReasonBroadcast},
		{"8.8.8.8", public},

		// IPv6 unspecified, loopback
		{"::", outbound.ReasonUnspecified},
		{"::1", outbound.ReasonLoopback},
		// IPv4-mapped ::ffff:0:0/96
		{"::ffff:127.0.0.1", outbound.ReasonLoopback},
		{"::ffff:10.0.0.1", outbound.ReasonPrivate},
		{"::ffff:169.254.169.254", outbound.ReasonLinkLocal},
		{"::ffff:100.64.0.1", outbound.ReasonSharedNAT},
		{"::ffff:0.0.0.0", outbound.ReasonUnspecified},
		{"::ffff:255.255.255.255", outbound.ReasonBroadcast},
		{"::ffff:224.0.0.1", outbound.ReasonMulticast},
		{"::ffff:198.18.0.1", outbound.ReasonReserved},
		{"::ffff:8.8.8.8", public},
		// IPv4-compatible ::/96: refused even for a public IPv4 address
		{"::2", outbound.ReasonUnspecified},
		{"::127.0.0.1", outbound.ReasonLoopback},
		{"::10.0.0.1", outbound.ReasonPrivate},
		{"::169.254.169.254", outbound.ReasonLinkLocal},
		{"::8.8.8.8", outbound.ReasonReserved},
		{"::ffff:ffff", outbound.ReasonBroadcast},
		{"0:0:0:0:0:1::", outbound.ReasonReserved},
		// NAT64 64:ff9b::/96 and local-use 64:ff9b:1::/48
		{"64:ff9b::127.0.0.1", outbound.ReasonLoopback},
		{"64:ff9b::10.0.0.1", outbound.ReasonPrivate},
		{"64:ff9b::169.254.169.254", outbound.ReasonLinkLocal},
		{"64:ff9b::100.64.0.1", outbound.ReasonSharedNAT},
		{"64:ff9b::8.8.8.8", public},
		{"64:ff9b::ffff:ffff", outbound.ReasonBroadcast},
		{"64:ff9b:1::", outbound.ReasonPrivate},
		{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", outbound.ReasonPrivate},
		{"64:ff9b:2::", outbound.ReasonReserved},
		// 6to4 2002::/16
		{"2002:7f00:1::", outbound.ReasonLoopback},
		{"2002:a00:1::1", outbound.ReasonPrivate},
		{"2002:a9fe:a9fe::", outbound.ReasonLinkLocal},
		{"2002:808:808::1", public},
		// Teredo 2001::/32: server in clear, client inverted
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", outbound.ReasonLoopback},
		{"2001:0:4136:e378:8000:63bf:f5ff:fffe", outbound.ReasonPrivate},
		{"2001:0:a00:1:8000:63bf:f7f7:f7f7", outbound.ReasonPrivate},
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", public},
		// unique local fc00::/7
		{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", outbound.ReasonReserved},
		{"fc00::", outbound.ReasonPrivate},
		{"fd12:3456::1", outbound.ReasonPrivate},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", outbound.ReasonPrivate},
		// link-local fe80::/10, site-local fec0::/10
		{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", outbound.ReasonReserved},
		{"fe80::", outbound.ReasonLinkLocal},
		{"fe80::1%eth0", outbound.ReasonLinkLocal},
		{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", outbound.ReasonLinkLocal},
		{"fec0::", outbound.ReasonPrivate},
		{"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", outbound.ReasonPrivate},
		// multicast ff00::/8
		{"ff00::", outbound.ReasonMulticast},
		{"ff02::1", outbound.ReasonMulticast},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", outbound.ReasonMulticast},
		// documentation, benchmarking, discard and outside 2000::/3
		{"2001:db8::", outbound.ReasonReserved},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", outbound.ReasonReserved},
		{"2001:db9::", public},
		{"2001:2::1", outbound.ReasonReserved},
		{"2001:10::1", outbound.ReasonReserved},
		{"3fff::1", outbound.ReasonReserved},
		{"100::1", outbound.ReasonReserved},
		{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", outbound.ReasonReserved},
		{"2000::", public},
		{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", public},
		{"4000::", outbound.ReasonReserved},
		{"2001:4860:4860::8888", public},
		{"2606:4700:4700::1111", public},
	} {
		ip := netip.MustParseAddr(tc.ip)
		if got := outbound.Classify(ip); got != tc.want {
			t.Errorf("Classify(%s)=%q, want %q", tc.ip, got, tc.want)
		}
	}
	if got, want := outbound.Classify(netip.Addr{}), outbound.ReasonUnspecified; got != want {
		t.Errorf("Classify(zero)=%q, want %q", got, want)
	}
}
