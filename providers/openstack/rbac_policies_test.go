package openstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// madePolicy polls a network RBAC policy until the cloud made it (its
// backend_id is set); an ERRED row fails the test with its message.
func (cl *cloud) madePolicy(uuid string) map[string]any {
	cl.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var p map[string]any
		cl.do("GET", "/api/openstack-network-rbac-policies/"+uuid+"/", nil, 200, &p)
		if p["backend_id"] != "" {
			return p
		}
		var row struct {
			State        string
			ErrorMessage string
		}
		require.NoError(cl.t, cl.db.Table("openstack_network_rbac_policies").Select("state, error_message").Where("uuid = ?", uuid).Scan(&row).Error)
		require.NotEqual(cl.t, "ERRED", row.State, row.ErrorMessage)
		require.True(cl.t, time.Now().Before(deadline), "policy %s still %s", uuid, row.State)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNetworkRBACPolicies: through the API, on a real Temporal server and
// the emulator: tenant A's network shared with tenant B (201, then made in
// Neutron with B's project as the target); listed and filtered; refusals
// (a duplicate, the network's own tenant, an unknown policy type: 400);
// deleted (204, gone from the API and the cloud); the deprecated network
// actions do the same.
func TestNetworkRBACPolicies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 50 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	_, a := cl.tenant("rbac-a")
	_, b := cl.tenant("rbac-b")
	net := cl.first("/api/openstack-networks/?tenant_uuid=" + a["uuid"].(string))
	netPath := path(net["url"].(string))
	bProject := b["backend_id"].(string)

	var p map[string]any
	cl.do("POST", "/api/openstack-network-rbac-policies/", map[string]any{"network": net["url"], "target_tenant": b["url"]}, 201, &p)
	require.Equal(t, "access_as_shared", p["policy_type"])
	require.Equal(t, "rbac-b", p["target_tenant_name"])
	require.Equal(t, net["name"], p["network_name"])
	p = cl.madePolicy(p["uuid"].(string))
	cloud := cl.emu.RBACPolicies()
	require.Len(t, cloud, 1)
	require.Equal(t, p["backend_id"], cloud[0].ID)
	require.Equal(t, bProject, cloud[0].TargetTenant)
	require.Equal(t, net["backend_id"], cloud[0].ObjectID)
	require.Equal(t, "access_as_shared", cloud[0].Action)

	var refusal map[string]any
	cl.do("POST", "/api/openstack-network-rbac-policies/", map[string]any{"network": net["url"], "target_tenant": b["url"]}, 400, &refusal)
	require.Contains(t, refusal, "non_field_errors", "a duplicate")
	cl.do("POST", "/api/openstack-network-rbac-policies/", map[string]any{"network": net["url"], "target_tenant": a["url"]}, 400, &refusal)
	require.Contains(t, refusal, "target_tenant", "the network's own tenant")
	cl.do("POST", "/api/openstack-network-rbac-policies/", map[string]any{"network": net["url"], "target_tenant": b["url"], "policy_type": "nope"}, 400, nil)
	cl.do("POST", "/api/openstack-network-rbac-policies/", map[string]any{"target_tenant": b["url"]}, 400, &refusal)
	require.Contains(t, refusal, "network")

	var list []map[string]any
	cl.do("GET", "/api/openstack-network-rbac-policies/?network_uuid="+net["uuid"].(string), nil, 200, &list)
	require.Len(t, list, 1)
	cl.do("GET", "/api/openstack-network-rbac-policies/?target_tenant_uuid="+a["uuid"].(string), nil, 200, &list)
	require.Empty(t, list)
	cl.do("GET", "/api/openstack-network-rbac-policies/?policy_type=access_as_external", nil, 200, &list)
	require.Empty(t, list)
	cl.do("GET", "/api/openstack-network-rbac-policies/?policy_type=bogus", nil, 400, nil)

	cl.do("DELETE", "/api/openstack-network-rbac-policies/"+p["uuid"].(string)+"/", nil, 204, nil)
	cl.goneRow("openstack_network_rbac_policies", p["uuid"].(string))
	require.Empty(t, cl.emu.RBACPolicies())

	// The deprecated spellings on the network.
	cl.do("POST", netPath+"rbac_policy_create/", map[string]any{"target_tenant": b["url"], "policy_type": "access_as_external"}, 200, &p)
	require.Equal(t, "access_as_external", p["policy_type"])
	p = cl.madePolicy(p["uuid"].(string))
	require.Equal(t, "access_as_external", cl.emu.RBACPolicies()[0].Action)
	other := cl.first("/api/openstack-networks/?tenant_uuid=" + b["uuid"].(string))
	cl.do("DELETE", path(other["url"].(string))+"rbac_policy_delete/"+p["uuid"].(string)+"/", nil, 404, nil)
	cl.do("DELETE", netPath+"rbac_policy_delete/"+p["uuid"].(string)+"/", nil, 204, nil)
	cl.goneRow("openstack_network_rbac_policies", p["uuid"].(string))
	require.Empty(t, cl.emu.RBACPolicies())
}

// goneRow polls until the row with uuid is gone from table.
func (cl *cloud) goneRow(table, uuid string) {
	cl.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var n int64
		require.NoError(cl.t, cl.db.Table(table).Where("uuid = ?", uuid).Count(&n).Error)
		if n == 0 {
			return
		}
		require.True(cl.t, time.Now().Before(deadline), "%s %s still there", table, uuid)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRBACPolicyShapes: policies render Waldur's NetworkRBACPolicy (checked
// against the OpenAPI file), on their own and in their network's
// rbac_policies, to whoever sees the network's tenant.
func TestRBACPolicyShapes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		now := time.Now().UTC()
		var ten struct {
			ID         int64
			ProjectID  int64
			OfferingID int64
		}
		require.NoError(t, db.Table("openstack_tenants").Select("id, project_id, offering_id").Where("uuid = ?", e.tenant).Scan(&ten).Error)
		other := models.NewUUID()
		require.NoError(t, db.Table("openstack_tenants").Create(map[string]any{"uuid": other, "project_id": ten.ProjectID, "offering_id": ten.OfferingID,
			"name": "other", "state": "OK", "backend_id": "proj-2", "quotas": `[]`, "created": now, "modified": now}).Error)
		var otherID, netID int64
		require.NoError(t, db.Raw("SELECT id FROM openstack_tenants WHERE uuid = ?", other).Scan(&otherID).Error)
		require.NoError(t, db.Raw("SELECT id FROM openstack_networks WHERE uuid = ?", e.ids["net"]).Scan(&netID).Error)
		policy := models.NewUUID()
		require.NoError(t, db.Table("openstack_network_rbac_policies").Create(map[string]any{"uuid": policy, "tenant_id": ten.ID, "network_id": netID,
			"target_tenant_id": otherID, "backend_id": "rbac-1", "policy_type": "access_as_shared", "state": "OK", "created": now, "modified": now}).Error)

		var list []map[string]any
		for _, who := range []string{"staff", "owner", "member", "provider"} {
			e.get("/api/openstack-network-rbac-policies/", who, 200, &list)
			require.Len(t, list, 1, who)
		}
		e.get("/api/openstack-network-rbac-policies/", "plain", 200, &list)
		require.Empty(t, list)
		var one map[string]any
		e.get("/api/openstack-network-rbac-policies/"+policy.String()+"/", "member", 200, &one)
		require.Equal(t, "rbac-1", one["backend_id"])
		require.Equal(t, "other", one["target_tenant_name"])
		require.Equal(t, "research-int-net", one["network_name"])
		require.Contains(t, one["network"], "/api/openstack-networks/"+e.ids["net"].String()+"/")
		e.get("/api/openstack-network-rbac-policies/"+policy.String()+"/", "plain", 404, nil)
		e.get("/api/openstack-network-rbac-policies/?target_tenant_uuid="+other.String()+"&tenant_uuid="+e.tenant.String(), "staff", 200, &list)
		require.Len(t, list, 1)

		var net map[string]any
		e.get("/api/openstack-networks/"+e.ids["net"].String()+"/", "member", 200, &net)
		require.Len(t, net["rbac_policies"], 1)
		require.Equal(t, policy.String(), net["rbac_policies"].([]any)[0].(map[string]any)["uuid"])
		var nets []map[string]any
		e.get("/api/openstack-networks/?tenant_uuid="+e.tenant.String(), "owner", 200, &nets)
		require.Len(t, nets[0]["rbac_policies"], 1)
	})
}
