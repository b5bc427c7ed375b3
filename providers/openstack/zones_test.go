package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/openstack"
)

// pullSurroundings applies a pull of newEnv's tenant that reads zones
// and external networks too (the workloads as newEnv's pull left them).
func pullSurroundings(t *testing.T, db *gorm.DB, e *env, zones []openstack.CloudZone, ext []openstack.CloudExternalNetwork) {
	t.Helper()
	st := openstack.NewStore(store.New(db))
	server := openstack.CloudServer{BackendID: "srv-1", Name: "vm", Status: "ACTIVE", FlavorName: "m1.small", Cores: 1, RAM: 2048, Disk: 20480,
		InternalIPs: []string{"192.168.42.11"}, ExternalIPs: []string{"172.24.4.10"}, SecurityGroups: []string{"ssh"},
		Metadata: map[string]string{openstack.MetaResourceUUID: e.vmRes.String()}}
	_, err := st.ApplyPull(context.Background(), e.tenant, openstack.Snapshot{Taken: time.Now().UTC().Add(time.Minute), Full: true,
		Flavors:     []openstack.CloudFlavor{{BackendID: "2", Name: "m1.small", Cores: 1, RAM: 2048, Disk: 20480}},
		Images:      []openstack.CloudImage{{BackendID: "img-1", Name: "cirros", MinDisk: 1024}},
		VolumeTypes: []openstack.CloudVolumeType{{BackendID: "vt-1", Name: "ssd", Description: "fast"}},
		Networks:    []openstack.CloudNetwork{{BackendID: "net-1", Name: "research-int-net", MTU: 1500}},
		Subnets: []openstack.CloudSubnet{{BackendID: "sub-1", NetworkBackendID: "net-1", Name: "research-sub-net", CIDR: "192.168.42.0/24",
			GatewayIP: "192.168.42.1", IPVersion: 4, EnableDHCP: true}},
		Servers:       []openstack.CloudServer{server, {BackendID: "srv-legacy", Name: "legacy", Status: "SHUTOFF"}},
		Volumes:       []openstack.CloudVolume{{BackendID: "vol-1", Name: "vm-system", Size: 10240, Status: "in-use", ServerBackendID: "srv-1", Device: "/dev/vda"}},
		InstanceZones: zones, VolumeZones: zones[:1], ExternalNetworks: ext})
	require.NoError(t, err)
}

// TestAvailabilityZonesAPI: the zones a pull read are listed per tenant
// to whoever sees the tenant, in Waldur's shapes; a later pull without a
// zone removes it; filters by name and tenant.
func TestAvailabilityZonesAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		var list []map[string]any
		e.get("/api/openstack-instance-availability-zones/", "staff", 200, &list)
		require.Empty(t, list, "nothing read yet")
		pullSurroundings(t, db, e, []openstack.CloudZone{{Name: "nova", Available: true}, {Name: "az-2", Available: false}}, nil)

		for _, who := range []string{"staff", "owner", "member", "provider"} {
			e.get("/api/openstack-instance-availability-zones/", who, 200, &list)
			require.Len(t, list, 2, who)
		}
		e.get("/api/openstack-instance-availability-zones/", "plain", 200, &list)
		require.Empty(t, list)
		e.get("/api/openstack-instance-availability-zones/", "anonymous", 401, nil)

		e.get("/api/openstack-instance-availability-zones/?o=name", "member", 200, &list)
		require.Equal(t, "az-2", list[0]["name"])
		require.Equal(t, false, list[0]["available"])
		require.Contains(t, list[0]["settings"], "/api/openstack-tenants/"+e.tenant.String()+"/")
		e.get("/api/openstack-instance-availability-zones/?name_exact=nova&tenant_uuid="+e.tenant.String(), "member", 200, &list)
		require.Len(t, list, 1)
		id := list[0]["uuid"].(string)
		e.get("/api/openstack-instance-availability-zones/?settings_uuid="+models.NewUUID().String(), "member", 200, &list)
		require.Empty(t, list)

		var one map[string]any
		e.get("/api/openstack-instance-availability-zones/"+id+"/", "member", 200, &one)
		require.Equal(t, "nova", one["name"])
		require.Equal(t, true, one["available"])
		e.get("/api/openstack-instance-availability-zones/"+id+"/", "plain", 404, nil)
		e.get("/api/openstack-volume-availability-zones/"+id+"/", "staff", 404, nil)

		e.get("/api/openstack-volume-availability-zones/", "member", 200, &list)
		require.Len(t, list, 1)
		e.get("/api/openstack-volume-availability-zones/"+list[0]["uuid"].(string)+"/", "owner", 200, &one)
		require.Equal(t, "nova", one["name"])

		pullSurroundings(t, db, e, []openstack.CloudZone{{Name: "nova", Available: true}}, nil)
		e.get("/api/openstack-instance-availability-zones/", "staff", 200, &list)
		require.Len(t, list, 1)
		require.Equal(t, id, list[0]["uuid"], "kept across pulls")
	})
}

// TestPullReadsSurroundings: a tenant's snapshot from the emulator carries
// Nova's and Cinder's zones and the external network with its subnet.
func TestPullReadsSurroundings(t *testing.T) {
	srv := fastEmulator(t)
	p := fastProvider()
	ctx := ctxT(t)
	res, err := p.Create(ctx, tenantOrder(srv, "zoned"))
	require.NoError(t, err)
	snap := snapshotOf(t, res)
	require.Equal(t, []openstack.CloudZone{{Name: "nova", Available: true}}, snap.InstanceZones)
	require.Equal(t, []openstack.CloudZone{{Name: "nova", Available: true}}, snap.VolumeZones)
	require.Len(t, snap.ExternalNetworks, 1)
	ext := snap.ExternalNetworks[0]
	require.Equal(t, srv.ExternalNetworkID(), ext.BackendID)
	require.Equal(t, "public", ext.Name)
	require.Len(t, ext.Subnets, 1)
	require.Equal(t, "172.24.4.0/24", ext.Subnets[0].CIDR)
	require.Len(t, snap.Networks, 1, "the tenant's networks stay its own")
}
