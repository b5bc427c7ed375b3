package openstacktest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/openstack/utils"
	"github.com/gophercloud/gophercloud/v2/pagination"
	"github.com/stretchr/testify/require"
)

func TestServerActions(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	ims := listImages(t, ctx, c)
	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "vm", FlavorRef: "1", ImageRef: ims[0].ID}, nil).Extract()
	require.NoError(t, err)
	got, err := servers.Get(ctx, c.compute, sv.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "BUILD", got.Status)
	require.Equal(t, 409, status(servers.Stop(ctx, c.compute, sv.ID).ExtractErr()), "a building server cannot stop")
	waitServer(t, c, sv.ID, "ACTIVE")

	require.Equal(t, 409, status(servers.Start(ctx, c.compute, sv.ID).ExtractErr()), "an active server cannot start")
	require.NoError(t, servers.Stop(ctx, c.compute, sv.ID).ExtractErr())
	waitServer(t, c, sv.ID, "SHUTOFF")
	got, err = servers.Get(ctx, c.compute, sv.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, servers.PowerState(servers.SHUTDOWN), got.PowerState)
	require.NoError(t, servers.Start(ctx, c.compute, sv.ID).ExtractErr())
	waitServer(t, c, sv.ID, "ACTIVE")

	require.NoError(t, servers.Reboot(ctx, c.compute, sv.ID, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr())
	got, err = servers.Get(ctx, c.compute, sv.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "REBOOT", got.Status)
	waitServer(t, c, sv.ID, "ACTIVE")

	require.Equal(t, 400, status(servers.Resize(ctx, c.compute, sv.ID, servers.ResizeOpts{FlavorRef: "1"}).ExtractErr()), "same flavor")
	require.NoError(t, servers.Resize(ctx, c.compute, sv.ID, servers.ResizeOpts{FlavorRef: "2"}).ExtractErr())
	waitServer(t, c, sv.ID, "VERIFY_RESIZE")
	require.NoError(t, servers.RevertResize(ctx, c.compute, sv.ID).ExtractErr())
	waitServer(t, c, sv.ID, "ACTIVE")
	got, err = servers.Get(ctx, c.compute, sv.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "1", got.Flavor["id"])
	require.NoError(t, servers.Resize(ctx, c.compute, sv.ID, servers.ResizeOpts{FlavorRef: "2"}).ExtractErr())
	waitServer(t, c, sv.ID, "VERIFY_RESIZE")
	require.NoError(t, servers.ConfirmResize(ctx, c.compute, sv.ID).ExtractErr())
	got, err = servers.Get(ctx, c.compute, sv.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "ACTIVE", got.Status)
	require.Equal(t, "2", got.Flavor["id"])

	// Microversion 2.47 and later embed the flavor.
	mv, err := utils.RequireMicroversion(ctx, *c.compute, "2.79")
	require.NoError(t, err)
	got, err = servers.Get(ctx, &mv, sv.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "m1.small", got.Flavor["original_name"])
	tooNew := *c.compute
	tooNew.Microversion = "2.100"
	require.Equal(t, 406, status(servers.Get(ctx, &tooNew, sv.ID).Err))

	require.NoError(t, servers.Delete(ctx, c.compute, sv.ID).ExtractErr())
	got, err = servers.Get(ctx, c.compute, sv.ID).Extract()
	require.NoError(t, err, "a deleted server is visible for a moment")
	require.Equal(t, "deleting", got.TaskState)
	gone(t, "server", func() error { return servers.Get(ctx, c.compute, sv.ID).Err })
	require.Zero(t, srv.Counts().Servers)
}

func TestBootFromVolumeAndNovaPorts(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	ims := listImages(t, ctx, c)
	net, err := networks.Create(ctx, c.network, networks.CreateOpts{Name: "private"}).Extract()
	require.NoError(t, err)
	_, err = subnets.Create(ctx, c.network, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.1.0.0/24", IPVersion: 4}).Extract()
	require.NoError(t, err)
	data, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 2}, nil).Extract()
	require.NoError(t, err)
	waitVolume(t, c, data.ID, "available")

	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "bfv", FlavorRef: "1",
		Networks: []servers.Network{{UUID: net.ID, FixedIP: "10.1.0.77"}},
		BlockDevice: []servers.BlockDevice{
			{SourceType: servers.SourceImage, DestinationType: servers.DestinationVolume, UUID: ims[0].ID, VolumeSize: 5, BootIndex: 0, DeleteOnTermination: true},
			{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: data.ID, BootIndex: -1},
		}}, nil).Extract()
	require.NoError(t, err)
	waitServer(t, c, sv.ID, "ACTIVE")
	got, err := servers.Get(ctx, c.compute, sv.ID).Extract()
	require.NoError(t, err)
	require.Nil(t, got.Image, "booted from a volume")
	require.Len(t, got.AttachedVolumes, 2)

	atts, err := volumeattach.List(c.compute, sv.ID).AllPages(ctx)
	require.NoError(t, err)
	list, err := volumeattach.ExtractVolumeAttachments(atts)
	require.NoError(t, err)
	devices := map[string]string{}
	for _, a := range list {
		devices[a.VolumeID] = a.Device
	}
	require.Equal(t, "/dev/vdb", devices[data.ID])
	var root string
	for id, dev := range devices {
		if dev == "/dev/vda" {
			root = id
		}
	}
	require.NotEmpty(t, root)
	rootVol, err := volumes.Get(ctx, c.volume, root).Extract()
	require.NoError(t, err)
	require.Equal(t, "in-use", rootVol.Status)
	require.Equal(t, "true", rootVol.Bootable)
	require.Equal(t, 5, rootVol.Size)
	require.Equal(t, 400, status(volumeattach.Delete(ctx, c.compute, sv.ID, root).ExtractErr()), "the root volume stays")

	pp, err := ports.List(c.network, ports.ListOpts{DeviceID: sv.ID}).AllPages(ctx)
	require.NoError(t, err)
	novaPorts, err := ports.ExtractPorts(pp)
	require.NoError(t, err)
	require.Len(t, novaPorts, 1)
	require.Equal(t, "10.1.0.77", novaPorts[0].FixedIPs[0].IPAddress)
	require.Equal(t, "compute:nova", novaPorts[0].DeviceOwner)
	require.Len(t, novaPorts[0].SecurityGroups, 1, "the default group")

	require.NoError(t, servers.Delete(ctx, c.compute, sv.ID).ExtractErr())
	gone(t, "server", func() error { return servers.Get(ctx, c.compute, sv.ID).Err })
	gone(t, "root volume (delete on termination)", func() error { return volumes.Get(ctx, c.volume, root).Err })
	gone(t, "Nova's port", func() error { return ports.Get(ctx, c.network, novaPorts[0].ID).Err })
	waitVolume(t, c, data.ID, "available")
}

func TestConcurrentPortsGetDistinctAddresses(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	net, err := networks.Create(ctx, c.network, networks.CreateOpts{Name: "busy"}).Extract()
	require.NoError(t, err)
	_, err = subnets.Create(ctx, c.network, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.9.0.0/28", IPVersion: 4}).Extract()
	require.NoError(t, err)

	// A /28 has 13 addresses for ports (16 - network, gateway, broadcast).
	var wg sync.WaitGroup
	var mu sync.Mutex
	addrs := map[string]bool{}
	exhausted := 0
	for range 16 {
		wg.Go(func() {
			p, err := ports.Create(ctx, c.network, ports.CreateOpts{NetworkID: net.ID}).Extract()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if status(err) == 409 {
					exhausted++
				}
				return
			}
			addrs[p.FixedIPs[0].IPAddress] = true
		})
	}
	wg.Wait()
	require.Len(t, addrs, 13)
	require.Equal(t, 3, exhausted)
	require.NotContains(t, addrs, "10.9.0.1", "the gateway")
}

func TestPaginationFollowsLinks(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	for i := range 5 {
		_, err := networks.Create(ctx, c.network, networks.CreateOpts{Name: fmt.Sprintf("n%d", i)}).Extract()
		require.NoError(t, err)
	}
	var pages int
	err := networks.List(c.network, networks.ListOpts{Limit: 2}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		pages++
		return true, nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, pages, "6 networks (with the external one), 2 a page")
	all, err := networks.List(c.network, networks.ListOpts{Limit: 2}).AllPages(ctx)
	require.NoError(t, err)
	nets, err := networks.ExtractNetworks(all)
	require.NoError(t, err)
	require.Len(t, nets, 6)
}

func TestExtendingAnAttachedVolumeNeedsMicroversion342(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	ims := listImages(t, ctx, c)
	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "vm", FlavorRef: "1", ImageRef: ims[0].ID}, nil).Extract()
	require.NoError(t, err)
	vol, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 1}, nil).Extract()
	require.NoError(t, err)
	waitServer(t, c, sv.ID, "ACTIVE")
	waitVolume(t, c, vol.ID, "available")
	_, err = volumeattach.Create(ctx, c.compute, sv.ID, volumeattach.CreateOpts{VolumeID: vol.ID}).Extract()
	require.NoError(t, err)
	waitVolume(t, c, vol.ID, "in-use")

	require.Equal(t, 400, status(volumes.ExtendSize(ctx, c.volume, vol.ID, volumes.ExtendSizeOpts{NewSize: 2}).Err))
	v342 := *c.volume
	v342.Microversion = "3.42"
	require.NoError(t, volumes.ExtendSize(ctx, &v342, vol.ID, volumes.ExtendSizeOpts{NewSize: 2}).Err)
	waitVolume(t, c, vol.ID, "in-use")
	got, err := volumes.Get(ctx, c.volume, vol.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, 2, got.Size)
}
