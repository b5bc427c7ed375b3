package openstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestTeardownWithSnapshotsAndServerGroups: through the API, on a real
// Temporal server and the emulator: a volume with a snapshot is
// terminated (its snapshot deleted first: Cinder refuses a volume with
// snapshots); a tenant holding a server group and a volume with a snapshot
// is terminated: the order ends done and the emulator holds nothing of the
// tenant's project (nor anything at all).
func TestTeardownWithSnapshotsAndServerGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	torder, tenant := cl.tenant("td")
	tid := tenant["uuid"].(string)
	project := tenant["backend_id"].(string)
	snapshotOf := func(name string) (map[string]any, map[string]any) {
		t.Helper()
		vorder := cl.order(cl.volumeOffering, map[string]any{"name": name, "tenant": tenant["url"], "size": 1024}, nil)
		vol := cl.settle("openstack-volumes", vorder["resource_uuid"].(string))
		var sn map[string]any
		cl.do("POST", "/api/openstack-volumes/"+vol["uuid"].(string)+"/snapshot/", map[string]any{"name": name + "-snap"}, 201, &sn)
		sn = cl.settle("openstack-snapshots", sn["uuid"].(string))
		return vorder, sn
	}

	// A volume with a snapshot, terminated on its own.
	vorder, sn := snapshotOf("alone")
	require.Len(t, cl.emu.Snapshots(), 1)
	cl.terminate(vorder["marketplace_resource_uuid"].(string))
	for _, s := range cl.emu.Snapshots() {
		require.NotEqual(t, sn["backend_id"], s.ID, "the snapshot went before its volume")
	}
	require.Empty(t, cl.emu.Volumes())

	// The tenant with a server group and a volume with a snapshot.
	snapshotOf("kept")
	var g map[string]any
	cl.do("POST", "/api/openstack-tenants/"+tid+"/create_server_group/", map[string]any{"name": "ha", "policy": "anti-affinity"}, 201, &g)
	cl.settle("openstack-server-groups", g["uuid"].(string))
	require.Len(t, cl.emu.ServerGroups(), 1)
	require.Len(t, cl.emu.Snapshots(), 1)

	cl.terminate(torder["marketplace_resource_uuid"].(string))
	for _, s := range cl.emu.Snapshots() {
		require.NotEqual(t, project, s.ProjectID)
	}
	for _, sg := range cl.emu.ServerGroups() {
		require.NotEqual(t, project, sg.ProjectID)
	}
	for _, v := range cl.emu.Volumes() {
		require.NotEqual(t, project, v.ProjectID)
	}
	require.Zero(t, cl.emu.Counts().Total(), "the emulator is empty: %+v", cl.emu.Counts())
}
