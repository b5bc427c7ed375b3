package openstacktest_test

import (
	"net/netip"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	cinderquotas "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	novaquotas "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	neutronquotas "github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/stretchr/testify/require"
)

const testPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxXlAq4gY0e0XlqU3PZkFFiOeKVTDMdA9uF2vu2xMOZ test@example"

// TestTenantChain walks Waldur's OpenStack chains with gophercloud alone:
// a tenant (project, user, roles, network, subnet, router with gateway and
// interface, security group with rules, quotas), an instance with a volume
// and a port reaching ACTIVE, volume extend/attach/detach, a floating IP, and
// deletion in reverse order that leaves the emulator empty.
func TestTenantChain(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	adm := admin(t, ctx, srv)

	// Keystone: project, user, roles.
	project, err := projects.Create(ctx, adm.identity, projects.CreateOpts{Name: "waldur-tenant-1", DomainID: "default",
		Description: "Tenant of an organization"}).Extract()
	require.NoError(t, err)
	page, err := projects.List(adm.identity, projects.ListOpts{Name: "waldur-tenant-1"}).AllPages(ctx)
	require.NoError(t, err)
	found, err := projects.ExtractProjects(page)
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, project.ID, found[0].ID)

	user, err := users.Create(ctx, adm.identity, users.CreateOpts{Name: "waldur-tenant-1-user", DomainID: "default",
		Password: "s3cret", DefaultProjectID: project.ID}).Extract()
	require.NoError(t, err)
	rolePage, err := roles.List(adm.identity, roles.ListOpts{Name: "member"}).AllPages(ctx)
	require.NoError(t, err)
	member, err := roles.ExtractRoles(rolePage)
	require.NoError(t, err)
	require.Len(t, member, 1)
	require.NoError(t, roles.Assign(ctx, adm.identity, member[0].ID, roles.AssignOpts{UserID: user.ID, ProjectID: project.ID}).ExtractErr())
	adminRolePage, err := roles.List(adm.identity, roles.ListOpts{Name: "admin"}).AllPages(ctx)
	require.NoError(t, err)
	adminRole, err := roles.ExtractRoles(adminRolePage)
	require.NoError(t, err)
	adminUser, err := users.List(adm.identity, users.ListOpts{Name: "admin"}).AllPages(ctx)
	require.NoError(t, err)
	adminUsers, err := users.ExtractUsers(adminUser)
	require.NoError(t, err)
	require.Len(t, adminUsers, 1)
	require.NoError(t, roles.Assign(ctx, adm.identity, adminRole[0].ID, roles.AssignOpts{UserID: adminUsers[0].ID, ProjectID: project.ID}).ExtractErr())

	// Quotas, pushed by the admin.
	_, err = novaquotas.Update(ctx, adm.compute, project.ID, novaquotas.UpdateOpts{Instances: ptr(5), Cores: ptr(8), RAM: ptr(16384)}).Extract()
	require.NoError(t, err)
	_, err = cinderquotas.Update(ctx, adm.volume, project.ID, cinderquotas.UpdateOpts{Volumes: ptr(5), Gigabytes: ptr(100)}).Extract()
	require.NoError(t, err)
	nq, err := neutronquotas.Update(ctx, adm.network, project.ID, neutronquotas.UpdateOpts{Network: ptr(3), Subnet: ptr(3),
		Router: ptr(2), FloatingIP: ptr(2), SecurityGroup: ptr(5), SecurityGroupRule: ptr(30), Port: ptr(20)}).Extract()
	require.NoError(t, err)
	require.Equal(t, 3, nq.Network)
	cq, err := novaquotas.Get(ctx, adm.compute, project.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, 5, cq.Instances)
	require.Equal(t, 8, cq.Cores)
	vq, err := cinderquotas.Get(ctx, adm.volume, project.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, 100, vq.Gigabytes)

	// The tenant user works inside the tenant from here on.
	ten := login(t, ctx, srv.IdentityURL(), gophercloud.AuthOptions{Username: "waldur-tenant-1-user", Password: "s3cret",
		DomainID: "default", TenantID: project.ID})

	extPage, err := networks.List(ten.network, external.ListOptsExt{ListOptsBuilder: networks.ListOpts{}, External: ptr(true)}).AllPages(ctx)
	require.NoError(t, err)
	extNets, err := networks.ExtractNetworks(extPage)
	require.NoError(t, err)
	require.Len(t, extNets, 1)
	ext := extNets[0]
	require.Equal(t, srv.ExternalNetworkID(), ext.ID)

	// Neutron: network, subnet, router with gateway and interface, security group.
	net, err := networks.Create(ctx, ten.network, networks.CreateOpts{Name: "waldur-tenant-1-int-net"}).Extract()
	require.NoError(t, err)
	require.Equal(t, project.ID, net.ProjectID)
	sub, err := subnets.Create(ctx, ten.network, subnets.CreateOpts{NetworkID: net.ID, Name: "waldur-tenant-1-sub-net",
		CIDR: "192.168.42.0/24", IPVersion: gophercloud.IPv4, GatewayIP: ptr("192.168.42.1"),
		AllocationPools: []subnets.AllocationPool{{Start: "192.168.42.10", End: "192.168.42.200"}},
		DNSNameservers:  []string{"8.8.8.8"}}).Extract()
	require.NoError(t, err)
	require.Equal(t, []string{"8.8.8.8"}, sub.DNSNameservers)

	router, err := routers.Create(ctx, ten.network, routers.CreateOpts{Name: "waldur-router",
		GatewayInfo: &routers.GatewayInfo{NetworkID: ext.ID}}).Extract()
	require.NoError(t, err)
	require.Equal(t, ext.ID, router.GatewayInfo.NetworkID)
	require.Len(t, router.GatewayInfo.ExternalFixedIPs, 1)
	gwIP := netip.MustParseAddr(router.GatewayInfo.ExternalFixedIPs[0].IPAddress)
	require.True(t, netip.MustParsePrefix("172.24.4.0/24").Contains(gwIP), gwIP)
	iface, err := routers.AddInterface(ctx, ten.network, router.ID, routers.AddInterfaceOpts{SubnetID: sub.ID}).Extract()
	require.NoError(t, err)
	require.Equal(t, sub.ID, iface.SubnetID)

	sg, err := groups.Create(ctx, ten.network, groups.CreateOpts{Name: "web", Description: "ssh and http"}).Extract()
	require.NoError(t, err)
	require.Len(t, sg.Rules, 2, "egress rules of a new group")
	for _, port := range []int{22, 80} {
		_, err := rules.Create(ctx, ten.network, rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress,
			EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: port, PortRangeMax: port,
			RemoteIPPrefix: "0.0.0.0/0"}).Extract()
		require.NoError(t, err)
	}
	_, err = rules.Create(ctx, ten.network, rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress,
		EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22, RemoteIPPrefix: "0.0.0.0/0"}).Extract()
	require.Equal(t, 409, status(err), "a duplicate rule")
	sgPage, err := groups.List(ten.network, groups.ListOpts{}).AllPages(ctx)
	require.NoError(t, err)
	sgs, err := groups.ExtractGroups(sgPage)
	require.NoError(t, err)
	require.Len(t, sgs, 2, "web and the project's default group")

	// Catalog data the provider pulls.
	flPage, err := flavors.ListDetail(ten.compute, nil).AllPages(ctx)
	require.NoError(t, err)
	fls, err := flavors.ExtractFlavors(flPage)
	require.NoError(t, err)
	require.NotEmpty(t, fls)
	imPage, err := images.List(ten.image, images.ListOpts{Name: "cirros-0.6.2-x86_64-disk"}).AllPages(ctx)
	require.NoError(t, err)
	ims, err := images.ExtractImages(imPage)
	require.NoError(t, err)
	require.Len(t, ims, 1)
	vtPage, err := volumetypes.List(ten.volume, nil).AllPages(ctx)
	require.NoError(t, err)
	vts, err := volumetypes.ExtractVolumeTypes(vtPage)
	require.NoError(t, err)
	require.NotEmpty(t, vts)

	// Instance: keypair, data volume, port, server.
	_, err = keypairs.Create(ctx, ten.compute, keypairs.CreateOpts{Name: "alice", PublicKey: testPublicKey}).Extract()
	require.NoError(t, err)
	vol, err := volumes.Create(ctx, ten.volume, volumes.CreateOpts{Name: "data", Size: 10, VolumeType: "ssd"}, nil).Extract()
	require.NoError(t, err)
	require.Equal(t, "creating", vol.Status)
	waitVolume(t, ten, vol.ID, "available")
	require.NoError(t, volumes.ExtendSize(ctx, ten.volume, vol.ID, volumes.ExtendSizeOpts{NewSize: 20}).ExtractErr())
	waitVolume(t, ten, vol.ID, "available")
	vol, err = volumes.Get(ctx, ten.volume, vol.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, 20, vol.Size)

	port, err := ports.Create(ctx, ten.network, ports.CreateOpts{NetworkID: net.ID, Name: "vm-port",
		FixedIPs: []ports.IP{{SubnetID: sub.ID, IPAddress: "192.168.42.50"}}, SecurityGroups: &[]string{sg.ID}}).Extract()
	require.NoError(t, err)
	require.Equal(t, "DOWN", port.Status)

	server, err := servers.Create(ctx, ten.compute, keypairs.CreateOptsExt{KeyName: "alice",
		CreateOptsBuilder: servers.CreateOpts{Name: "vm-1", FlavorRef: "2", ImageRef: ims[0].ID,
			Networks: []servers.Network{{Port: port.ID}}, Metadata: map[string]string{"waldur": "yes"}, AvailabilityZone: "nova"}}, nil).Extract()
	require.NoError(t, err)
	require.NoError(t, servers.WaitForStatus(ctx, ten.compute, server.ID, "ACTIVE"))
	server, err = servers.Get(ctx, ten.compute, server.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "ACTIVE", server.Status)
	require.Equal(t, servers.PowerState(servers.RUNNING), server.PowerState)
	require.Equal(t, "alice", server.KeyName)
	require.Equal(t, "yes", server.Metadata["waldur"])
	require.Equal(t, "2", server.Flavor["id"])
	require.Equal(t, ims[0].ID, server.Image["id"])
	require.Contains(t, server.Addresses, "waldur-tenant-1-int-net")
	require.Equal(t, []map[string]any{{"name": "web"}}, server.SecurityGroups)
	port, err = ports.Get(ctx, ten.network, port.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "ACTIVE", port.Status)
	require.Equal(t, server.ID, port.DeviceID)
	byDevice, err := ports.List(ten.network, ports.ListOpts{DeviceID: server.ID}).AllPages(ctx)
	require.NoError(t, err)
	devPorts, err := ports.ExtractPorts(byDevice)
	require.NoError(t, err)
	require.Len(t, devPorts, 1)
	named, err := servers.List(ten.compute, servers.ListOpts{Name: "^vm-1$"}).AllPages(ctx)
	require.NoError(t, err)
	namedServers, err := servers.ExtractServers(named)
	require.NoError(t, err)
	require.Len(t, namedServers, 1)

	// Floating IP on the external network, associated with the port.
	fip, err := floatingips.Create(ctx, ten.network, floatingips.CreateOpts{FloatingNetworkID: ext.ID, PortID: port.ID}).Extract()
	require.NoError(t, err)
	require.Equal(t, "192.168.42.50", fip.FixedIP)
	require.Equal(t, router.ID, fip.RouterID)
	require.Equal(t, "ACTIVE", fip.Status)
	server, err = servers.Get(ctx, ten.compute, server.ID).Extract()
	require.NoError(t, err)
	addrs := server.Addresses["waldur-tenant-1-int-net"].([]any)
	require.Len(t, addrs, 2, "fixed and floating")
	require.Equal(t, fip.FloatingIP, addrs[1].(map[string]any)["addr"])

	// Attach, detach.
	att, err := volumeattach.Create(ctx, ten.compute, server.ID, volumeattach.CreateOpts{VolumeID: vol.ID}).Extract()
	require.NoError(t, err)
	require.Equal(t, "/dev/vdb", att.Device)
	waitVolume(t, ten, vol.ID, "in-use")
	vol, err = volumes.Get(ctx, ten.volume, vol.ID).Extract()
	require.NoError(t, err)
	require.Len(t, vol.Attachments, 1)
	require.Equal(t, server.ID, vol.Attachments[0].ServerID)
	err = volumes.Delete(ctx, ten.volume, vol.ID, nil).ExtractErr()
	require.Equal(t, 400, status(err), "an attached volume cannot be deleted")
	require.NoError(t, volumeattach.Delete(ctx, ten.compute, server.ID, vol.ID).ExtractErr())
	waitVolume(t, ten, vol.ID, "available")
	require.NoError(t, volumeattach.Create(ctx, ten.compute, server.ID, volumeattach.CreateOpts{VolumeID: vol.ID}).Err)
	waitVolume(t, ten, vol.ID, "in-use")

	// The network cannot go while the port is on it.
	err = networks.Delete(ctx, ten.network, net.ID).ExtractErr()
	require.Equal(t, 409, status(err))

	// Deletion in reverse order.
	require.NoError(t, floatingips.Delete(ctx, ten.network, fip.ID).ExtractErr())
	require.NoError(t, servers.Delete(ctx, ten.compute, server.ID).ExtractErr())
	gone(t, "server", func() error { return servers.Get(ctx, ten.compute, server.ID).Err })
	waitVolume(t, ten, vol.ID, "available") // detached with the server
	port, err = ports.Get(ctx, ten.network, port.ID).Extract()
	require.NoError(t, err)
	require.Empty(t, port.DeviceID, "a port made before the server outlives it, unbound")
	require.NoError(t, ports.Delete(ctx, ten.network, port.ID).ExtractErr())
	require.NoError(t, volumes.Delete(ctx, ten.volume, vol.ID, nil).ExtractErr())
	gone(t, "volume", func() error { return volumes.Get(ctx, ten.volume, vol.ID).Err })
	require.NoError(t, keypairs.Delete(ctx, ten.compute, "alice", nil).ExtractErr())
	require.NoError(t, groups.Delete(ctx, ten.network, sg.ID).ExtractErr())
	_, err = routers.RemoveInterface(ctx, ten.network, router.ID, routers.RemoveInterfaceOpts{SubnetID: sub.ID}).Extract()
	require.NoError(t, err)
	require.NoError(t, routers.Delete(ctx, ten.network, router.ID).ExtractErr())
	require.NoError(t, subnets.Delete(ctx, ten.network, sub.ID).ExtractErr())
	require.NoError(t, networks.Delete(ctx, ten.network, net.ID).ExtractErr())

	// The default group is the admin's to remove.
	defPage, err := groups.List(adm.network, groups.ListOpts{ProjectID: project.ID, Name: "default"}).AllPages(ctx)
	require.NoError(t, err)
	def, err := groups.ExtractGroups(defPage)
	require.NoError(t, err)
	require.Len(t, def, 1)
	require.Equal(t, 409, status(groups.Delete(ctx, ten.network, def[0].ID).ExtractErr()))
	require.NoError(t, groups.Delete(ctx, adm.network, def[0].ID).ExtractErr())

	require.NoError(t, users.Delete(ctx, adm.identity, user.ID).ExtractErr())
	require.NoError(t, projects.Delete(ctx, adm.identity, project.ID).ExtractErr())
	require.Zero(t, srv.Counts().Total(), "%+v", srv.Counts())

	// The tenant user's token died with the user.
	_, err = networks.List(ten.network, nil).AllPages(ctx)
	require.Equal(t, 401, status(err))
}

func waitVolume(t *testing.T, c clients, id, want string) {
	t.Helper()
	eventually(t, "volume "+want, func() (bool, error) {
		v, err := volumes.Get(t.Context(), c.volume, id).Extract()
		if err != nil {
			return false, err
		}
		return v.Status == want, nil
	})
}
