package egress_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/internal/egress"
)

// TestGuard: loopback, link-local, private and special ranges are refused
// (IPv4-mapped forms too), public addresses pass, allowed networks pass.
func TestGuard(t *testing.T) {
	g := egress.Guard{}
	for _, a := range []string{"127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
		"fe80::1", "fc00::1", "fd12::1", "0.0.0.0", "0.1.2.3", "::", "100.64.0.1", "224.0.0.1", "255.255.255.255",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "198.18.0.1"} {
		err := g.Control("tcp", netip.AddrPortFrom(netip.MustParseAddr(a), 80).String(), nil)
		require.ErrorIs(t, err, egress.ErrRefused, a)
	}
	for _, a := range []string{"93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "172.32.0.1", "100.128.0.1"} {
		require.NoError(t, g.Control("tcp", netip.AddrPortFrom(netip.MustParseAddr(a), 443).String(), nil), a)
	}
	require.ErrorIs(t, g.Control("tcp", "localhost:80", nil), egress.ErrRefused, "only resolved addresses are dialled")

	allowed := egress.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("127.0.0.1/32")}}
	require.NoError(t, allowed.Control("tcp", "10.1.200.3:8080", nil))
	require.NoError(t, allowed.Control("tcp", "127.0.0.1:8233", nil))
	require.NoError(t, allowed.Control("tcp", "[::ffff:127.0.0.1]:8233", nil))
	require.ErrorIs(t, allowed.Control("tcp", "10.2.0.1:80", nil), egress.ErrRefused)
	require.ErrorIs(t, allowed.Control("tcp", "127.0.0.2:80", nil), egress.ErrRefused)
}
