package openstacktest_test

import (
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/attachinterfaces"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/stretchr/testify/require"
)

func listInterfaces(t *testing.T, c clients, serverID string) []attachinterfaces.Interface {
	t.Helper()
	pages, err := attachinterfaces.List(c.compute, serverID).AllPages(t.Context())
	require.NoError(t, err)
	out, err := attachinterfaces.ExtractInterfaces(pages)
	require.NoError(t, err)
	return out
}

// TestServerInterfaces: Nova's os-interface as the compute API reference
// describes it. A server's port is listed and shown; a network attached
// gets a new port Nova owns (with the fixed IP asked, in the network's
// subnet), deleted when detached; a port made in Neutron is bound to the
// server and only unbound when detached; refusals: both net_id and
// port_id, fixed_ips without net_id (400), a port bound elsewhere (409), a
// network or port that does not exist (404), a building server (409), a
// port that is not the server's (404).
func TestServerInterfaces(t *testing.T) {
	// A server's deletion takes long enough for the refusal of a detach
	// during it to be seen (5 ms lost that race under load).
	opts := fast()
	opts.DeleteDelay = 2 * time.Second
	srv := start(t, opts)
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	ims := listImages(t, ctx, c)
	net, err := networks.Create(ctx, c.network, networks.CreateOpts{Name: "private"}).Extract()
	require.NoError(t, err)
	sub, err := subnets.Create(ctx, c.network, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.1.0.0/24", IPVersion: 4}).Extract()
	require.NoError(t, err)
	other, err := networks.Create(ctx, c.network, networks.CreateOpts{Name: "other"}).Extract()
	require.NoError(t, err)
	_, err = subnets.Create(ctx, c.network, subnets.CreateOpts{NetworkID: other.ID, CIDR: "10.2.0.0/24", IPVersion: 4}).Extract()
	require.NoError(t, err)

	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "vm", FlavorRef: "1", ImageRef: ims[0].ID,
		Networks: []servers.Network{{UUID: net.ID}}}, nil).Extract()
	require.NoError(t, err)
	require.Equal(t, 409, status(attachinterfaces.Create(ctx, c.compute, sv.ID, attachinterfaces.CreateOpts{NetworkID: other.ID}).Err),
		"a building server takes no interface")
	waitServer(t, c, sv.ID, "ACTIVE")

	// The server's own port.
	ifs := listInterfaces(t, c, sv.ID)
	require.Len(t, ifs, 1)
	require.Equal(t, net.ID, ifs[0].NetID)
	require.Equal(t, sub.ID, ifs[0].FixedIPs[0].SubnetID)
	require.Equal(t, "ACTIVE", ifs[0].PortState)
	got, err := attachinterfaces.Get(ctx, c.compute, sv.ID, ifs[0].PortID).Extract()
	require.NoError(t, err)
	require.Equal(t, ifs[0].MACAddr, got.MACAddr)

	// Refusals.
	require.Equal(t, 400, status(attachinterfaces.Create(ctx, c.compute, sv.ID,
		attachinterfaces.CreateOpts{NetworkID: other.ID, PortID: ifs[0].PortID}).Err), "both")
	require.Equal(t, 400, status(attachinterfaces.Create(ctx, c.compute, sv.ID,
		attachinterfaces.CreateOpts{FixedIPs: []attachinterfaces.FixedIP{{IPAddress: "10.2.0.9"}}}).Err), "an address without a network")
	require.Equal(t, 404, status(attachinterfaces.Create(ctx, c.compute, sv.ID,
		attachinterfaces.CreateOpts{NetworkID: "7d5a8a0c-0000-4000-8000-000000000000"}).Err))
	require.Equal(t, 404, status(attachinterfaces.Create(ctx, c.compute, sv.ID,
		attachinterfaces.CreateOpts{PortID: "7d5a8a0c-0000-4000-8000-000000000000"}).Err))
	require.Equal(t, 409, status(attachinterfaces.Create(ctx, c.compute, sv.ID, attachinterfaces.CreateOpts{PortID: ifs[0].PortID}).Err),
		"a port in use")
	require.Equal(t, 400, status(attachinterfaces.Create(ctx, c.compute, sv.ID, attachinterfaces.CreateOpts{}).Err),
		"two networks: which one?")
	require.Equal(t, 404, status(attachinterfaces.Delete(ctx, c.compute, sv.ID, "7d5a8a0c-0000-4000-8000-000000000000").ExtractErr()))
	require.Len(t, listInterfaces(t, c, sv.ID), 1, "nothing changed")

	// A network: Nova makes the port, with the address asked.
	att, err := attachinterfaces.Create(ctx, c.compute, sv.ID, attachinterfaces.CreateOpts{NetworkID: other.ID,
		FixedIPs: []attachinterfaces.FixedIP{{IPAddress: "10.2.0.9"}}}).Extract()
	require.NoError(t, err)
	require.Equal(t, other.ID, att.NetID)
	require.Equal(t, "10.2.0.9", att.FixedIPs[0].IPAddress)
	pt, err := ports.Get(ctx, c.network, att.PortID).Extract()
	require.NoError(t, err)
	require.Equal(t, sv.ID, pt.DeviceID)
	require.Equal(t, "compute:nova", pt.DeviceOwner)
	require.Len(t, listInterfaces(t, c, sv.ID), 2)
	full, err := servers.Get(ctx, c.compute, sv.ID).Extract()
	require.NoError(t, err)
	require.Contains(t, full.Addresses, "other")

	// Detached: Nova's own port goes.
	require.NoError(t, attachinterfaces.Delete(ctx, c.compute, sv.ID, att.PortID).ExtractErr())
	require.Equal(t, 404, status(ports.Get(ctx, c.network, att.PortID).Err))
	require.Equal(t, 404, status(attachinterfaces.Get(ctx, c.compute, sv.ID, att.PortID).Err))

	// A port made in Neutron: bound, then only unbound.
	own, err := ports.Create(ctx, c.network, ports.CreateOpts{NetworkID: other.ID, Name: "mine"}).Extract()
	require.NoError(t, err)
	att, err = attachinterfaces.Create(ctx, c.compute, sv.ID, attachinterfaces.CreateOpts{PortID: own.ID}).Extract()
	require.NoError(t, err)
	require.Equal(t, own.ID, att.PortID)
	pt, err = ports.Get(ctx, c.network, own.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, sv.ID, pt.DeviceID)
	require.NoError(t, attachinterfaces.Delete(ctx, c.compute, sv.ID, own.ID).ExtractErr())
	pt, err = ports.Get(ctx, c.network, own.ID).Extract()
	require.NoError(t, err, "a port Nova did not make stays")
	require.Empty(t, pt.DeviceID)
	require.Len(t, listInterfaces(t, c, sv.ID), 1)

	// A stopped server takes one too; a server being deleted does not.
	require.NoError(t, servers.Stop(ctx, c.compute, sv.ID).ExtractErr())
	waitServer(t, c, sv.ID, "SHUTOFF")
	_, err = attachinterfaces.Create(ctx, c.compute, sv.ID, attachinterfaces.CreateOpts{PortID: own.ID}).Extract()
	require.NoError(t, err)
	require.NoError(t, servers.Delete(ctx, c.compute, sv.ID).ExtractErr())
	require.Equal(t, 409, status(attachinterfaces.Delete(ctx, c.compute, sv.ID, own.ID).ExtractErr()))
	gone(t, "server", func() error { return servers.Get(ctx, c.compute, sv.ID).Err })
	pt, err = ports.Get(ctx, c.network, own.ID).Extract()
	require.NoError(t, err)
	require.Empty(t, pt.DeviceID, "unbound with the server")
}
