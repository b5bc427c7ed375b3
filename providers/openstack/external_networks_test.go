package openstack_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/providers/openstack"
)

// TestExternalNetworksAPI: the external networks a pull read, with their
// subnets, in Waldur's ExternalNetwork shape, to whoever sees the tenant.
func TestExternalNetworksAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		pullSurroundings(t, db, e, []openstack.CloudZone{{Name: "nova", Available: true}}, []openstack.CloudExternalNetwork{
			{BackendID: "8f3c1f0e-1d2b-4b8e-9c55-3b9f3e6f4a10", Name: "public", Description: "the world", Status: "ACTIVE", Default: true,
				Subnets: []openstack.CloudSubnet{{BackendID: "2b7b2f4e-8a6e-4d3f-a2c4-5f0d7e1c9b11", NetworkBackendID: "8f3c1f0e-1d2b-4b8e-9c55-3b9f3e6f4a10",
					Name: "public-subnet", CIDR: "172.24.4.0/24", GatewayIP: "172.24.4.1", IPVersion: 4,
					AllocationPools: []openstack.CloudAllocationPool{{Start: "172.24.4.2", End: "172.24.4.254"}}}}},
			{BackendID: "ext-2", Name: "provider", Shared: true},
		})
		var list []map[string]any
		for _, who := range []string{"staff", "owner", "member", "provider"} {
			e.get("/api/openstack-external-networks/", who, 200, &list)
			require.Len(t, list, 2, who)
		}
		e.get("/api/openstack-external-networks/", "plain", 200, &list)
		require.Empty(t, list)
		e.get("/api/openstack-external-networks/", "anonymous", 401, nil)

		e.get("/api/openstack-external-networks/?name_exact=public&settings_uuid="+e.tenant.String(), "member", 200, &list)
		require.Len(t, list, 1)
		var one map[string]any
		e.get("/api/openstack-external-networks/"+list[0]["uuid"].(string)+"/", "member", 200, &one)
		require.Equal(t, "public", one["name"])
		require.Equal(t, true, one["is_default"])
		require.Equal(t, "ACTIVE", one["status"])
		require.Contains(t, one["settings"], "/api/openstack-tenants/"+e.tenant.String()+"/")
		subs := one["subnets"].([]any)
		require.Len(t, subs, 1)
		sub := subs[0].(map[string]any)
		require.Equal(t, "2b7b2f4e8a6e4d3fa2c45f0d7e1c9b11", sub["uuid"])
		require.Equal(t, "172.24.4.1", sub["gateway_ip"])
		require.Equal(t, []any{map[string]any{"start": "172.24.4.2", "end": "172.24.4.254"}}, sub["allocation_pools"])
		e.get("/api/openstack-external-networks/"+list[0]["uuid"].(string)+"/", "plain", 404, nil)

		e.get("/api/openstack-external-networks/?name=prov", "staff", 200, &list)
		require.Len(t, list, 1)
		require.Equal(t, true, list[0]["is_shared"])
		require.Equal(t, []any{}, list[0]["subnets"])
	})
}
