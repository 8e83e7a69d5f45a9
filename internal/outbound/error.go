package outbound

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// BlockedError is the refusal of a URL or of a connection. Its message is
// written for the workspace owner who typed the address and names only the
// host, never the whole URL: no path, query string, user name or password.
// Find it with errors.As in what the client returns.
type BlockedError struct {
	Host   string     // the host name or address as written, without port or brackets
	IP     netip.Addr // the address refused, when the refusal is about an address
	Port   int        // the port refused, when Reason is ReasonPort
	Ports  []int      // the ports allowed, when Reason is ReasonPort
	Reason Reason
}

// Error returns a sentence such as "example.com resolves to 10.0.0.5, a
// private address: Atrium only sends to public addresses."
func (e *BlockedError) Error() string {
	const public = "Atrium only sends to public addresses."
	switch e.Reason {
	case ReasonMalformed:
		return "This is not a valid web address."
	case ReasonScheme:
		return "The address must start with https:// or http://."
	case ReasonInsecure:
		return "The address must start with https://: Atrium only sends over encrypted connections."
	case ReasonNoHost:
		return "The address has no host name."
	case ReasonUserinfo:
		return "The address contains a user name or password: Atrium does not send credentials in the address."
	case ReasonHostName:
		return fmt.Sprintf("%s is not a public host name: %s", e.Host, public)
	case ReasonPort:
		return fmt.Sprintf("%s uses port %d: Atrium only sends to %s.", e.Host, e.Port, portList(e.Ports))
	}
	if e.Host == "" || e.Host == e.IP.String() {
		return fmt.Sprintf("%s is %s: %s", e.IP, e.Reason, public)
	}
	return fmt.Sprintf("%s resolves to %s, %s: %s", e.Host, e.IP, e.Reason, public)
}

// portList writes ports for a sentence: "port 443", "ports 80 and 443".
func portList(ports []int) string {
	if len(ports) == 0 {
		return "the ports it allows"
	}
	words := make([]string, len(ports))
	for i, p := range ports {
		words[i] = strconv.Itoa(p)
	}
	if len(words) == 1 {
		return "port " + words[0]
	}
	return "ports " + strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
