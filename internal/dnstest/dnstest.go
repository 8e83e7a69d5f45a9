// Package dnstest runs a real DNS server on 127.0.0.1 (UDP, through
// github.com/miekg/dns) for tests and local tools: A and AAAA answers from
// a table, with DNS rebinding (successive answers), and TXT records the
// caller publishes as it goes. Any other name is NXDOMAIN.
package dnstest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is a DNS server answering from its tables.
type Server struct {
	// Addr is the server's host:port, for a setting such as
	// SSO_DNS_RESOLVER.
	Addr string

	srv   *dns.Server
	mu    sync.Mutex
	addrs map[string][]netip.Addr // by lower-case fully qualified name
	asked map[string]int          // by name and question type
	txt   map[string][]string     // by lower-case fully qualified name
}

// Start starts a server; Close stops it.
func Start() (*Server, error) {
	s := &Server{addrs: map[string][]netip.Addr{}, asked: map[string]int{}, txt: map[string][]string{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	started := make(chan struct{})
	s.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serveDNS), NotifyStartedFunc: func() { close(started) }}
	go func() { _ = s.srv.ActivateAndServe() }()
	<-started
	s.Addr = pc.LocalAddr().String()
	return s, nil
}

// New starts a server that stops when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s, err := Start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() { _ = s.srv.Shutdown() }

// Resolver returns a resolver that asks only this server.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", s.Addr)
		},
	}
}

// SetAddrs sets the addresses name resolves to. Several of one family are
// given one after the other, one per question, then the last one again:
// the first answer can be public and the next private, as in DNS
// rebinding.
func (s *Server) SetAddrs(name string, addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := fqdn(name)
	s.addrs[key] = nil
	for _, a := range addrs {
		s.addrs[key] = append(s.addrs[key], netip.MustParseAddr(a))
	}
}

// SetTXT publishes the TXT values of name (none removes it).
func (s *Server) SetTXT(name string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[fqdn(name)] = values
}

func fqdn(name string) string { return dns.Fqdn(strings.ToLower(name)) }

// serveDNS answers one question.
func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		s.mu.Lock()
		all, isHost := s.addrs[name]
		txt := s.txt[name]
		if !isHost && len(txt) == 0 {
			m.Rcode = dns.RcodeNameError
		}
		switch q.Qtype {
		case dns.TypeTXT:
			for _, v := range txt {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1},
					Txt: []string{v}})
			}
		case dns.TypeA, dns.TypeAAAA:
			var family []netip.Addr
			for _, a := range all {
				if a.Is4() == (q.Qtype == dns.TypeA) {
					family = append(family, a)
				}
			}
			if len(family) > 0 {
				key := name + "/" + dns.TypeToString[q.Qtype]
				n := min(s.asked[key], len(family)-1)
				s.asked[key]++
				hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET}
				if q.Qtype == dns.TypeA {
					m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: family[n].AsSlice()})
				} else {
					m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: family[n].AsSlice()})
				}
			}
		}
		s.mu.Unlock()
	}
	_ = w.WriteMsg(m)
}
