package store_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// dnsServer is a real DNS server on 127.0.0.1 (UDP) that answers A and AAAA
// questions from a table. A name with several addresses of one family gives
// the next one each time it is asked, then keeps giving the last: the
// first answer can be public and the next private, as in DNS rebinding.
type dnsServer struct {
	mu      sync.Mutex
	answers map[string][]netip.Addr // by lower-case fully qualified name
	asked   map[string]int          // by name and question type
}

// startDNS starts a DNS server answering names with addresses and returns
// a resolver that asks only it.
func startDNS(t *testing.T, names map[string][]string) *net.Resolver {
	t.Helper()
	s := &dnsServer{answers: map[string][]netip.Addr{}, asked: map[string]int{}}
	for name, addrs := range names {
		for _, a := range addrs {
			s.answers[dns.Fqdn(name)] = append(s.answers[dns.Fqdn(name)], netip.MustParseAddr(a))
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serveDNS), NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
}

// serveDNS answers one question.
func (s *dnsServer) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		all, known := s.answers[name]
		if !known {
			m.Rcode = dns.RcodeNameError
		}
		var family []netip.Addr
		for _, a := range all {
			if (q.Qtype == dns.TypeA) == a.Is4() && (q.Qtype == dns.TypeA || q.Qtype == dns.TypeAAAA) {
				family = append(family, a)
			}
		}
		if len(family) > 0 {
			s.mu.Lock()
			key := name + "/" + dns.TypeToString[q.Qtype]
			n := min(s.asked[key], len(family)-1)
			s.asked[key]++
			s.mu.Unlock()
			hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET}
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: family[n].AsSlice()})
			} else {
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: family[n].AsSlice()})
			}
		}
	}
	_ = w.WriteMsg(m)
}
