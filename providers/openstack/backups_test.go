package openstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestBackups: through the API, on a real Temporal server and the
// emulator: an instance backed up (201, then OK: a snapshot of each of its
// volumes taken in Cinder, listed under the backup), renamed, pulled,
// deleted (its snapshots gone from the API and Cinder); an instance that
// is not OK refuses (409, nothing made); staff's set_erred, set_ok and
// unlink.
func TestBackups(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	_, tenant := cl.tenant("backups")
	tid := tenant["uuid"].(string)
	iorder := cl.order(cl.vmOffering, cl.instanceAttrs(tenant, "vm-1"), nil)
	vmPath := "/api/openstack-instances/" + iorder["resource_uuid"].(string) + "/"
	vm := cl.settle("openstack-instances", iorder["resource_uuid"].(string))
	var vols []map[string]any
	cl.do("GET", "/api/openstack-volumes/?instance_uuid="+vm["uuid"].(string), nil, 200, &vols)
	require.Len(t, vols, 2, "system and data volumes")
	volBackends := map[any]bool{}
	for _, v := range vols {
		volBackends[v["backend_id"]] = true
	}

	cl.do("POST", vmPath+"backup/", map[string]any{}, 400, nil)
	cl.do("POST", vmPath+"set_erred/", nil, 200, nil)
	var refusal map[string]any
	cl.do("POST", vmPath+"backup/", map[string]any{"name": "nightly"}, 409, &refusal)
	require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
	var list []map[string]any
	cl.do("GET", "/api/openstack-backups/?tenant_uuid="+tid, nil, 200, &list)
	require.Empty(t, list)
	require.Empty(t, cl.emu.Snapshots())
	cl.do("POST", vmPath+"set_ok/", nil, 200, nil)

	var b map[string]any
	cl.do("POST", vmPath+"backup/", map[string]any{"name": "nightly", "description": "before upgrade"}, 201, &b)
	require.Equal(t, "nightly", b["name"])
	require.Equal(t, "OpenStack.Backup", b["resource_type"])
	require.Equal(t, vmPath, path(b["instance"].(string)))
	require.Contains(t, []any{"CREATION_SCHEDULED", "CREATING", "OK"}, b["state"])
	bid := b["uuid"].(string)
	bPath := "/api/openstack-backups/" + bid + "/"
	cl.settle("openstack-backups", bid)
	var snaps []map[string]any
	cl.do("GET", "/api/openstack-snapshots/?backup_uuid="+bid, nil, 200, &snaps)
	require.Len(t, snaps, 2)
	ids := map[string]bool{}
	for _, s := range snaps {
		require.Equal(t, "OK", s["state"])
		ids[s["backend_id"].(string)] = true
	}
	require.Len(t, cl.emu.Snapshots(), 2)
	for _, s := range cl.emu.Snapshots() {
		require.True(t, ids[s.ID])
		require.True(t, volBackends[s.VolumeID], "a snapshot of one of the instance's volumes")
		require.Equal(t, "available", s.Status)
	}

	var upd map[string]any
	cl.do("PUT", bPath, map[string]any{"name": "nightly-1", "description": "kept"}, 200, &upd)
	require.Equal(t, "nightly-1", upd["name"])
	cl.settle("openstack-backups", bid)
	var ans map[string]any
	cl.do("POST", bPath+"pull/", nil, 202, &ans)
	cl.settle("openstack-backups", bid)

	cl.do("POST", bPath+"set_erred/", nil, 200, nil)
	cl.do("PATCH", bPath, map[string]any{"name": "x"}, 409, nil)
	cl.do("GET", bPath, nil, 200, &b)
	require.Equal(t, "nightly-1", b["name"], "nothing changed")
	cl.do("POST", bPath+"set_ok/", nil, 200, nil)

	cl.do("DELETE", bPath, nil, 202, &ans)
	require.Equal(t, "destroy was scheduled", ans["status"])
	cl.gone("/api/openstack-backups/?tenant_uuid="+tid, bid)
	cl.do("GET", "/api/openstack-snapshots/?tenant_uuid="+tid, nil, 200, &snaps)
	require.Empty(t, snaps)
	require.Empty(t, cl.emu.Snapshots(), "gone from Cinder")

	// Unlink forgets a backup (and its snapshots' rows) without touching Cinder.
	cl.do("POST", vmPath+"backup/", map[string]any{"name": "weekly"}, 201, &b)
	cl.settle("openstack-backups", b["uuid"].(string))
	cl.do("POST", "/api/openstack-backups/"+b["uuid"].(string)+"/unlink/", nil, 204, nil)
	cl.do("GET", "/api/openstack-snapshots/?tenant_uuid="+tid, nil, 200, &snaps)
	require.Empty(t, snaps)
	require.Len(t, cl.emu.Snapshots(), 2)
}
