package openstack

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
)

// TestSnapshotListsSurviveTemporal: a list read empty from the cloud
// stays an empty list, not "not read" (nil), once through Temporal's data
// converter, as an activity's result is; a list not read stays nil.
func TestSnapshotListsSurviveTemporal(t *testing.T) {
	in := Snapshot{Full: true, Ports: []CloudPortInfo{}, Routers: []CloudRouter{}, InstanceZones: []CloudZone{},
		VolumeZones: []CloudZone{}, ExternalNetworks: []CloudExternalNetwork{}, ServerGroups: []CloudServerGroup{},
		VolumeSnapshots: []CloudSnapshot{}, RBACPolicies: []CloudRBACPolicy{}}
	dc := converter.GetDefaultDataConverter()
	p, err := dc.ToPayload(in)
	require.NoError(t, err)
	var out Snapshot
	require.NoError(t, dc.FromPayload(p, &out))
	require.NotNil(t, out.Ports)
	require.NotNil(t, out.Routers)
	require.NotNil(t, out.InstanceZones)
	require.NotNil(t, out.VolumeZones)
	require.NotNil(t, out.ExternalNetworks)
	require.NotNil(t, out.ServerGroups)
	require.NotNil(t, out.VolumeSnapshots)
	require.NotNil(t, out.RBACPolicies)

	p, err = dc.ToPayload(Snapshot{Full: true})
	require.NoError(t, err)
	out = Snapshot{}
	require.NoError(t, dc.FromPayload(p, &out))
	require.Nil(t, out.Ports)
	require.Nil(t, out.ExternalNetworks)
	require.Nil(t, out.ServerGroups)
}
