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

// TestServerGroups: through the API, on a real Temporal server and the
// emulator: a server group created in a tenant (201, then OK with its
// backend id, made in Nova with its policy in the tenant's project),
// pulled, unlinked and imported again by the tenant's pull_server_groups,
// deleted (gone from the API and Nova); refusals of bad input (400: no
// name, a policy Waldur does not know, a name the tenant's group has) and
// of a tenant that is not OK (409, nothing made); staff's set_erred and
// set_ok.
func TestServerGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	_, tenant := cl.tenant("groups")
	tid := tenant["uuid"].(string)
	tPath := "/api/openstack-tenants/" + tid + "/"
	listing := "/api/openstack-server-groups/?tenant_uuid=" + tid
	cloudGroup := func(id string) (openstacktest.ServerGroup, bool) {
		for _, g := range cl.emu.ServerGroups() {
			if g.ID == id {
				return g, true
			}
		}
		return openstacktest.ServerGroup{}, false
	}

	var refusal map[string]any
	cl.do("POST", tPath+"create_server_group/", map[string]any{}, 400, &refusal)
	require.Contains(t, refusal, "name")
	cl.do("POST", tPath+"create_server_group/", map[string]any{"name": "ha", "policy": "spread"}, 400, &refusal)
	require.Contains(t, refusal, "policy")

	var g map[string]any
	cl.do("POST", tPath+"create_server_group/", map[string]any{"name": "ha", "description": "web tier", "policy": "anti-affinity"}, 201, &g)
	require.Equal(t, "ha", g["name"])
	require.Equal(t, "anti-affinity", g["policy"])
	require.Equal(t, "OpenStack.ServerGroup", g["resource_type"])
	require.Contains(t, []any{"CREATION_SCHEDULED", "CREATING", "OK"}, g["state"])
	gid := g["uuid"].(string)
	gPath := "/api/openstack-server-groups/" + gid + "/"
	g = cl.settle("openstack-server-groups", gid)
	backend := g["backend_id"].(string)
	cg, ok := cloudGroup(backend)
	require.True(t, ok, "made in Nova")
	require.Equal(t, "ha", cg.Name)
	require.Equal(t, "anti-affinity", cg.Policy)
	require.Equal(t, tenant["backend_id"], cg.ProjectID)
	require.Equal(t, tPath, path(g["tenant"].(string)))

	cl.do("POST", tPath+"create_server_group/", map[string]any{"name": "ha"}, 400, &refusal)
	require.Equal(t, []any{"Server group name should be unique."}, refusal["name"])

	// A tenant that is not OK refuses, and nothing is made.
	cl.do("POST", tPath+"set_erred/", nil, 200, nil)
	cl.do("POST", tPath+"create_server_group/", map[string]any{"name": "db"}, 409, &refusal)
	require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
	cl.do("POST", tPath+"pull_server_groups/", nil, 409, nil)
	var groups []map[string]any
	cl.do("GET", listing, nil, 200, &groups)
	require.Len(t, groups, 1)
	require.Len(t, cl.emu.ServerGroups(), 1)
	cl.do("POST", tPath+"set_ok/", nil, 200, nil)

	var ans map[string]any
	cl.do("POST", gPath+"pull/", nil, 202, &ans)
	require.Equal(t, "Pull operation was successfully scheduled.", ans["detail"])
	cl.settle("openstack-server-groups", gid)

	cl.do("POST", gPath+"set_erred/", nil, 200, nil)
	cl.do("GET", gPath, nil, 200, &g)
	require.Equal(t, "ERRED", g["state"])
	cl.do("POST", gPath+"set_ok/", nil, 200, nil)

	// Unlinked, the group stays in Nova; the tenant's pull imports it again.
	cl.do("POST", gPath+"unlink/", nil, 204, nil)
	cl.do("GET", gPath, nil, 404, nil)
	_, ok = cloudGroup(backend)
	require.True(t, ok)
	cl.do("POST", tPath+"pull_server_groups/", nil, 202, &ans)
	require.Equal(t, "Server groups pull has been scheduled.", ans["status"])
	cl.settle("openstack-tenants", tid)
	cl.do("GET", listing, nil, 200, &groups)
	require.Len(t, groups, 1)
	require.Equal(t, backend, groups[0]["backend_id"])
	require.Equal(t, "anti-affinity", groups[0]["policy"])
	require.Equal(t, "OK", groups[0]["state"])
	gid = groups[0]["uuid"].(string)
	gPath = "/api/openstack-server-groups/" + gid + "/"

	cl.do("DELETE", gPath, nil, 202, &ans)
	require.Equal(t, "destroy was scheduled", ans["status"])
	cl.do("DELETE", gPath, nil, 409, nil)
	cl.gone(listing, gid)
	require.Empty(t, cl.emu.ServerGroups())
}

// TestServerGroupsSnapshotsBackupsShapes: the server groups, snapshots
// (with a restoration) and backups render Waldur's shapes (checked against
// the OpenAPI file) for those who see their tenant, and nothing for others.
func TestServerGroupsSnapshotsBackupsShapes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		now := time.Now().UTC()
		idOf := func(table string, id models.UUID) int64 {
			var n int64
			require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
			return n
		}
		ins := func(table string, v map[string]any) models.UUID {
			id := models.NewUUID()
			v["uuid"], v["created"] = id, now
			if table != "openstack_snapshot_restorations" {
				v["modified"] = now
			}
			require.NoError(t, db.Table(table).Create(v).Error)
			return id
		}
		tenant, vm := idOf("openstack_tenants", e.tenant), idOf("openstack_instances", e.vm)
		var vol VolumeRef
		require.NoError(t, db.Table("openstack_volumes").Select("id, uuid, project_id").Where("instance_id = ?", vm).Limit(1).Scan(&vol).Error)
		sg := ins("openstack_server_groups", map[string]any{"tenant_id": tenant, "backend_id": "sg-9", "name": "ha", "policy": "anti-affinity", "state": "OK"})
		b := ins("openstack_backups", map[string]any{"tenant_id": tenant, "instance_id": vm, "backend_id": "srv-1", "name": "nightly", "state": "OK",
			"metadata": `{}`, "kept_until": now.Add(24 * time.Hour)})
		sn := ins("openstack_snapshots", map[string]any{"tenant_id": tenant, "source_volume_id": vol.ID, "backup_id": idOf("openstack_backups", b),
			"backend_id": "snap-9", "name": "nightly-system", "size": 10240, "runtime_state": "available", "state": "OK", "metadata": `{"k":"v"}`})
		restored := ins("openstack_volumes", map[string]any{"project_id": vol.ProjectID, "tenant_id": tenant, "name": "from-snap", "state": "OK", "size": 10240})
		ins("openstack_snapshot_restorations", map[string]any{"snapshot_id": idOf("openstack_snapshots", sn),
			"volume_id": idOf("openstack_volumes", restored), "description": "restored"})

		for _, tc := range []struct {
			collection string
			id         models.UUID
		}{{"openstack-server-groups", sg}, {"openstack-snapshots", sn}, {"openstack-backups", b}} {
			path := "/api/" + tc.collection + "/"
			var list []map[string]any
			for _, who := range []string{"staff", "owner", "member"} {
				e.get(path, who, 200, &list)
				require.Len(t, list, 1, "%s sees %s", who, tc.collection)
			}
			e.get(path, "plain", 200, &list)
			require.Empty(t, list)
			e.get(path+tc.id.String()+"/", "plain", 404, nil)
		}
		var g map[string]any
		e.get("/api/openstack-server-groups/"+sg.String()+"/", "member", 200, &g)
		require.Equal(t, "anti-affinity", g["policy"])
		require.Equal(t, e.tenant.String(), g["tenant_uuid"])
		var s map[string]any
		e.get("/api/openstack-snapshots/"+sn.String()+"/", "member", 200, &s)
		require.Equal(t, "available", s["runtime_state"])
		require.Equal(t, map[string]any{"k": "v"}, s["metadata"])
		require.Contains(t, s["source_volume"], "/api/openstack-volumes/"+vol.UUID.String()+"/")
		require.Len(t, s["restorations"], 1)
		var rs []map[string]any
		e.get("/api/openstack-snapshots/"+sn.String()+"/restorations/", "member", 200, &rs)
		require.Equal(t, "from-snap", rs[0]["volume_name"])
		e.get("/api/openstack-snapshots/?backup_uuid="+b.String(), "member", 200, &rs)
		require.Len(t, rs, 1)
		var bk map[string]any
		e.get("/api/openstack-backups/"+b.String()+"/", "member", 200, &bk)
		require.Contains(t, bk["instance"], "/api/openstack-instances/"+e.vm.String()+"/")
		require.NotNil(t, bk["kept_until"])
		e.get("/api/openstack-backups/?instance_uuid="+e.vm.String(), "member", 200, &rs)
		require.Len(t, rs, 1)
	})
}

// VolumeRef is a volume's ids.
type VolumeRef struct {
	ID        int64
	UUID      models.UUID
	ProjectID int64
}
