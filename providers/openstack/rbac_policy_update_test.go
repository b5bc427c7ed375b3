package openstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// settledPolicy polls a policy's row until its action is done (OK); ERRED
// fails the test with its message.
func (cl *cloud) settledPolicy(uuid string) map[string]any {
	cl.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var row struct {
			State        string
			ErrorMessage string
		}
		require.NoError(cl.t, cl.db.Table("openstack_network_rbac_policies").Select("state, error_message").Where("uuid = ?", uuid).Scan(&row).Error)
		require.NotEqual(cl.t, "ERRED", row.State, row.ErrorMessage)
		if row.State == "OK" {
			var p map[string]any
			cl.checked("GET", "/api/openstack-network-rbac-policies/"+uuid+"/", nil, 200, &p)
			return p
		}
		require.True(cl.t, time.Now().Before(deadline), "policy %s still %s", uuid, row.State)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNetworkRBACPolicyUpdate: PATCH and PUT of a network RBAC policy
// through the API on a real Temporal server and the emulator, both
// databases: a new target is Neutron's update of the same policy; a new
// type (or network) is a new policy in Neutron, the old one deleted; bad
// input (the network's own tenant, a duplicate, PUT without network, an
// unknown type) is 400 and changes nothing; answers validate against the
// OpenAPI file.
func TestNetworkRBACPolicyUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			cl := newCloudOn(t, kind, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 50 * time.Millisecond,
				VolumeDelay: 20 * time.Millisecond, DeleteDelay: 20 * time.Millisecond, ActionDelay: 20 * time.Millisecond})
			_, a := cl.tenant("upd-a")
			_, b := cl.tenant("upd-b")
			_, c := cl.tenant("upd-c")
			net := cl.first("/api/openstack-networks/?tenant_uuid=" + a["uuid"].(string))
			var p map[string]any
			cl.do("POST", "/api/openstack-network-rbac-policies/", map[string]any{"network": net["url"], "target_tenant": b["url"]}, 201, &p)
			id := p["uuid"].(string)
			pPath := "/api/openstack-network-rbac-policies/" + id + "/"
			p = cl.madePolicy(id)
			first := p["backend_id"].(string)

			// Another target: the same Neutron policy, updated.
			cl.checked("PATCH", pPath, map[string]any{"target_tenant": c["url"]}, 200, &p)
			require.Equal(t, "upd-c", p["target_tenant_name"])
			p = cl.settledPolicy(id)
			require.Equal(t, first, p["backend_id"])
			cloud := cl.emu.RBACPolicies()
			require.Len(t, cloud, 1)
			require.Equal(t, first, cloud[0].ID)
			require.Equal(t, c["backend_id"], cloud[0].TargetTenant)

			// Refusals change nothing.
			cl.do("PATCH", pPath, map[string]any{"target_tenant": a["url"]}, 400, nil)
			cl.do("PATCH", pPath, map[string]any{"policy_type": "nope"}, 400, nil)
			cl.do("PUT", pPath, map[string]any{"target_tenant": b["url"]}, 400, nil)
			var other map[string]any
			cl.do("POST", "/api/openstack-network-rbac-policies/", map[string]any{"network": net["url"], "target_tenant": b["url"]}, 201, &other)
			cl.madePolicy(other["uuid"].(string))
			cl.do("PATCH", pPath, map[string]any{"target_tenant": b["url"]}, 400, nil)
			cl.do("DELETE", "/api/openstack-network-rbac-policies/"+other["uuid"].(string)+"/", nil, 204, nil)
			cl.goneRow("openstack_network_rbac_policies", other["uuid"].(string))
			cl.checked("GET", pPath, nil, 200, &p)
			require.Equal(t, "upd-c", p["target_tenant_name"])
			require.Equal(t, "access_as_shared", p["policy_type"])

			// Another type (PUT): a new Neutron policy, the old one gone.
			cl.checked("PUT", pPath, map[string]any{"network": net["url"], "target_tenant": b["url"], "policy_type": "access_as_external"}, 200, &p)
			p = cl.settledPolicy(id)
			require.Equal(t, "access_as_external", p["policy_type"])
			require.NotEqual(t, first, p["backend_id"])
			cloud = cl.emu.RBACPolicies()
			require.Len(t, cloud, 1)
			require.Equal(t, p["backend_id"], cloud[0].ID)
			require.Equal(t, "access_as_external", cloud[0].Action)
			require.Equal(t, b["backend_id"], cloud[0].TargetTenant)

			// Nothing changed: answered at once.
			cl.checked("PATCH", pPath, map[string]any{}, 200, &p)
			cl.do("DELETE", pPath, nil, 204, nil)
			cl.goneRow("openstack_network_rbac_policies", id)
			require.Empty(t, cl.emu.RBACPolicies())
		})
	}
}
