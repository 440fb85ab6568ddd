package limit

import (
	"net"
	"net/netip"
	"strings"
)

// Proxies are the networks of reverse proxies trusted to say, in
// X-Forwarded-For, whom they forwarded a request for. Empty, no header is
// believed: the client is the peer of the connection.
type Proxies []netip.Prefix

// ParseProxies parses CIDRs ("10.0.0.0/8") and single addresses ("::1").
func ParseProxies(list []string) (Proxies, error) {
	var out Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, &net.ParseError{Type: "CIDR or IP address", Text: s}
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (p Proxies) trusted(a netip.Addr) bool {
	for _, n := range p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the address of the client of a request that came from
// the peer remoteAddr ("host:port") with the given X-Forwarded-For header
// values. A peer outside the trusted proxies is the client, whatever the
// header says. A trusted peer's header is read from the right (the entries
// our own proxies appended) to the first entry that is not a trusted proxy:
// entries further left were written by the client and prove nothing. When
// that entry is malformed, or every entry is a proxy, the nearest proxy
// that can be named is the client. The second result is false only when
// remoteAddr itself is not an address.
func (p Proxies) ClientIP(remoteAddr string, forwardedFor []string) (netip.Addr, bool) {
	peer, ok := parseHost(remoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if len(p) == 0 || !p.trusted(peer) {
		return peer, true
	}
	client := peer
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		hops := strings.Split(forwardedFor[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop := strings.TrimSpace(hops[j])
			if hop == "" {
				continue
			}
			a, ok := parseHost(hop)
			if !ok {
				return client, true
			}
			client = a
			if !p.trusted(a) {
				return a, true
			}
		}
	}
	return client, true
}

// parseHost parses "1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80" or "[::1]".
func parseHost(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

// Key is the rate-limit key of a client address: the address itself for
// IPv4, its /64 network for IPv6, since one customer commonly holds a whole
// /64 and could otherwise step around a limit address by address.
func Key(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
