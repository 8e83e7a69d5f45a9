package store_test

import (
	"net"
	"testing"

	"atrium/internal/dnstest"
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
