// Package egress guards the connections the platform opens on a user's
// behalf (web hooks): the address is checked when the connection is made,
// after name resolution, so neither a host name that resolves to an
// internal address nor DNS rebinding nor a redirect can reach one.
// Loopback, link-local, private and other special-purpose ranges are
// refused unless the operator allows a network.
package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefused is the cause of a connection the guard refused.
var ErrRefused = errors.New("destination address not allowed")

// blocked are the ranges refused by default besides what netip classifies
// as loopback, private, link-local, multicast or unspecified.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network" (0.x reaches the host on Linux)
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, shared address space
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: an IPv4 address inside
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2002::/16"),      // 6to4: an IPv4 address inside
	netip.MustParsePrefix("2001::/32"),      // Teredo: an IPv4 address inside
}

// Guard decides which addresses may be connected to.
type Guard struct {
	// Allowed networks are reachable even when in a refused range.
	Allowed []netip.Prefix
}

// Internal reports whether a is in a range refused by default.
func Internal(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range blocked {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Check returns an error wrapping ErrRefused when a may not be reached.
func (g Guard) Check(a netip.Addr) error {
	a = a.Unmap()
	for _, p := range g.Allowed {
		if p.Contains(a) {
			return nil
		}
	}
	if Internal(a) {
		return fmt.Errorf("%w: %s is a loopback, link-local, private or reserved address", ErrRefused, a)
	}
	return nil
}

// Control is a net.Dialer Control: it runs for every connection attempt
// with the resolved address, before the connection is made.
func (g Guard) Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrRefused, address)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrRefused, host)
	}
	return g.Check(a)
}

// HTTPClient returns a client whose every connection, redirects included,
// goes through the guard. It uses no proxy from the environment (a proxy
// would make the connection the guard cannot see).
func (g Guard) HTTPClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.Control}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}
}
