package openstacktest_test

import (
	"testing"

	cinderzones "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/availabilityzones"
	novazones "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/stretchr/testify/require"
)

// The zones of Nova and Cinder read through gophercloud: one zone "nova"
// for a member; Nova's detail (admin only) adds the internal zone and hosts.
func TestAvailabilityZones(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	adm := admin(t, ctx, srv)
	m := member(t, ctx, srv, adm, "zones")

	pages, err := novazones.List(m.compute).AllPages(ctx)
	require.NoError(t, err)
	zs, err := novazones.ExtractAvailabilityZones(pages)
	require.NoError(t, err)
	require.Len(t, zs, 1)
	require.Equal(t, "nova", zs[0].ZoneName)
	require.True(t, zs[0].ZoneState.Available)
	require.Empty(t, zs[0].Hosts)

	_, err = novazones.ListDetail(m.compute).AllPages(ctx)
	require.Equal(t, 403, status(err), "the detail is the admin's")
	pages, err = novazones.ListDetail(adm.compute).AllPages(ctx)
	require.NoError(t, err)
	zs, err = novazones.ExtractAvailabilityZones(pages)
	require.NoError(t, err)
	names := map[string]novazones.AvailabilityZone{}
	for _, z := range zs {
		names[z.ZoneName] = z
	}
	require.Contains(t, names, "internal")
	require.True(t, names["nova"].Hosts["emulator"]["nova-compute"].Available)
	require.False(t, names["nova"].Hosts["emulator"]["nova-compute"].UpdatedAt.IsZero())

	pages, err = cinderzones.List(m.volume).AllPages(ctx)
	require.NoError(t, err)
	vz, err := cinderzones.ExtractAvailabilityZones(pages)
	require.NoError(t, err)
	require.Len(t, vz, 1)
	require.Equal(t, "nova", vz[0].ZoneName)
	require.True(t, vz[0].ZoneState.Available)
}
