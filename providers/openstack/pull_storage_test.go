package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/rbacpolicies"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// outside are Nova, Cinder and Neutron clients of someone working in the tenant without Waldur.
func (cl *cloud) outside(tenant map[string]any) (nova, cinder, neutron *gophercloud.ServiceClient) {
	cl.t.Helper()
	pc, err := gcos.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{IdentityEndpoint: cl.emu.IdentityURL(), Username: "admin",
		Password: "admin", DomainName: "Default", TenantID: tenant["backend_id"].(string)})
	require.NoError(cl.t, err)
	nova, err = gcos.NewComputeV2(pc, gophercloud.EndpointOpts{})
	require.NoError(cl.t, err)
	nova.Microversion = "2.64"
	cinder, err = gcos.NewBlockStorageV3(pc, gophercloud.EndpointOpts{})
	require.NoError(cl.t, err)
	neutron, err = gcos.NewNetworkV2(pc, gophercloud.EndpointOpts{})
	require.NoError(cl.t, err)
	return nova, cinder, neutron
}

// pullAll runs the periodic pull once and waits for it.
func (cl *cloud) pullAll() openstack.PullOpenStackResult {
	cl.t.Helper()
	run, err := cl.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: workflows.QueueCore},
		openstack.PullOpenStack, openstack.PullOpenStackInput{})
	require.NoError(cl.t, err)
	var res openstack.PullOpenStackResult
	require.NoError(cl.t, run.Get(context.Background(), &res))
	require.Empty(cl.t, res.Failed)
	return res
}

// TestPullServerGroupsSnapshotsPolicies: the periodic pull (PullOpenStack,
// its Schedule's workflow) records the server groups, Cinder snapshots and
// network RBAC policies made in the cloud without Waldur, updates what
// changed there (a snapshot renamed) and removes what the cloud no longer
// has. On a real Temporal server and the emulator, both databases.
func TestPullServerGroupsSnapshotsPolicies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			cl := newCloudOn(t, kind, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 50 * time.Millisecond,
				VolumeDelay: 20 * time.Millisecond, DeleteDelay: 20 * time.Millisecond, ActionDelay: 20 * time.Millisecond})
			_, a := cl.tenant("pull-a")
			_, b := cl.tenant("pull-b")
			q := "?tenant_uuid=" + a["uuid"].(string)
			nova, cinder, neutron := cl.outside(a)
			net := cl.first("/api/openstack-networks/" + q)

			g, err := servergroups.Create(ctx, nova, servergroups.CreateOpts{Name: "outside-ha", Policy: "anti-affinity"}).Extract()
			require.NoError(t, err)
			v, err := volumes.Create(ctx, cinder, volumes.CreateOpts{Name: "outside-vol", Size: 1}, nil).Extract()
			require.NoError(t, err)
			deadline := time.Now().Add(time.Minute)
			for {
				got, err := volumes.Get(ctx, cinder, v.ID).Extract()
				require.NoError(t, err)
				if got.Status == "available" {
					break
				}
				require.True(t, time.Now().Before(deadline), "volume still %s", got.Status)
				time.Sleep(20 * time.Millisecond)
			}
			sn, err := snapshots.Create(ctx, cinder, snapshots.CreateOpts{VolumeID: v.ID, Name: "outside-snap"}).Extract()
			require.NoError(t, err)
			rp, err := rbacpolicies.Create(ctx, neutron, rbacpolicies.CreateOpts{Action: rbacpolicies.ActionAccessShared, ObjectType: "network",
				ObjectID: net["backend_id"].(string), TargetTenant: b["backend_id"].(string)}).Extract()
			require.NoError(t, err)

			cl.pullAll()
			var groups, snaps, policies []map[string]any
			cl.checked("GET", "/api/openstack-server-groups/"+q, nil, 200, &groups)
			require.Len(t, groups, 1)
			require.Equal(t, "outside-ha", groups[0]["name"])
			require.Equal(t, "anti-affinity", groups[0]["policy"])
			require.Equal(t, g.ID, groups[0]["backend_id"])
			cl.checked("GET", "/api/openstack-snapshots/"+q, nil, 200, &snaps)
			require.Len(t, snaps, 1)
			require.Equal(t, "outside-snap", snaps[0]["name"])
			require.Equal(t, "outside-vol", snaps[0]["source_volume_name"], "its volume resolved")
			cl.checked("GET", "/api/openstack-network-rbac-policies/?network_uuid="+net["uuid"].(string), nil, 200, &policies)
			require.Len(t, policies, 1)
			require.Equal(t, rp.ID, policies[0]["backend_id"])
			require.Equal(t, "pull-b", policies[0]["target_tenant_name"])

			// A rename in the cloud is pulled; what the cloud deleted goes.
			newName := "outside-snap-2"
			_, err = snapshots.Update(ctx, cinder, sn.ID, snapshots.UpdateOpts{Name: &newName}).Extract()
			require.NoError(t, err)
			cl.pullAll()
			cl.checked("GET", "/api/openstack-snapshots/"+q, nil, 200, &snaps)
			require.Len(t, snaps, 1)
			require.Equal(t, newName, snaps[0]["name"])
			require.Equal(t, snaps[0]["uuid"], snaps[0]["uuid"])

			require.NoError(t, servergroups.Delete(ctx, nova, g.ID).ExtractErr())
			require.NoError(t, snapshots.Delete(ctx, cinder, sn.ID).ExtractErr())
			require.NoError(t, rbacpolicies.Delete(ctx, neutron, rp.ID).ExtractErr())
			deadline = time.Now().Add(time.Minute)
			for {
				_, err := snapshots.Get(ctx, cinder, sn.ID).Extract()
				if gophercloud.ResponseCodeIs(err, 404) {
					break
				}
				require.True(t, time.Now().Before(deadline), "snapshot still in Cinder")
				time.Sleep(20 * time.Millisecond)
			}
			cl.pullAll()
			cl.checked("GET", "/api/openstack-server-groups/"+q, nil, 200, &groups)
			require.Empty(t, groups)
			cl.checked("GET", "/api/openstack-snapshots/"+q, nil, 200, &snaps)
			require.Empty(t, snaps)
			cl.checked("GET", "/api/openstack-network-rbac-policies/?network_uuid="+net["uuid"].(string), nil, 200, &policies)
			require.Empty(t, policies)
		})
	}
}
