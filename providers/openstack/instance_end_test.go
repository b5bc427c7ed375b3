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

// TestInstanceTerminationOptions: an instance with a backup is terminated
// through the marketplace with Waldur's delete_volumes and
// release_floating_ips false: the server goes, the backup and its Cinder
// snapshots go with it (Cinder would keep the volumes otherwise), the data
// volume stays (detached, in the API and in Cinder) and the floating IP
// stays in the tenant, off any port. A second instance with a backup,
// terminated with the defaults, takes everything with it. On a real
// Temporal server and the emulator, both databases.
func TestInstanceTerminationOptions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			cl := newCloudOn(t, kind, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 50 * time.Millisecond,
				VolumeDelay: 20 * time.Millisecond, DeleteDelay: 20 * time.Millisecond, ActionDelay: 20 * time.Millisecond})
			torder, tenant := cl.tenant("ending")
			q := "?tenant_uuid=" + tenant["uuid"].(string)
			withBackup := func(name string) (order, vm map[string]any, backup string) {
				order = cl.order(cl.vmOffering, cl.instanceAttrs(tenant, name), nil)
				vm = cl.settle("openstack-instances", order["resource_uuid"].(string))
				var b map[string]any
				cl.do("POST", "/api/openstack-instances/"+vm["uuid"].(string)+"/backup/", map[string]any{"name": name + "-backup"}, 201, &b)
				cl.settle("openstack-backups", b["uuid"].(string))
				return order, vm, b["uuid"].(string)
			}
			endWith := func(resource string, attrs map[string]any) {
				var r map[string]any
				cl.do("POST", "/api/marketplace-resources/"+resource+"/terminate/", map[string]any{"attributes": attrs}, 200, &r)
				cl.wait(r["order_uuid"].(string), 2*time.Minute)
			}

			// Kept: the data volume and the floating IP.
			order, vm, backup := withBackup("keep")
			require.NotEmpty(t, cl.emu.Snapshots())
			var vols []map[string]any
			cl.do("GET", "/api/openstack-volumes/?instance_uuid="+vm["uuid"].(string), nil, 200, &vols)
			require.Len(t, vols, 2, "system and data volumes")
			var data map[string]any
			for _, v := range vols {
				if v["bootable"] != true {
					data = v
				}
			}
			require.NotNil(t, data, "a data volume")
			fips := len(cl.emu.FloatingIPs())
			require.Equal(t, 1, fips)
			endWith(order["marketplace_resource_uuid"].(string), map[string]any{"delete_volumes": false, "release_floating_ips": false})
			_, ok := cl.emu.Server(vm["backend_id"].(string))
			require.False(t, ok, "the server gone")
			require.Empty(t, cl.emu.Snapshots(), "the backup's snapshots gone from Cinder")
			cl.do("GET", "/api/openstack-backups/"+backup+"/", nil, 404, nil)
			var snaps []map[string]any
			cl.do("GET", "/api/openstack-snapshots/"+q, nil, 200, &snaps)
			require.Empty(t, snaps)
			cv, ok := cl.emu.Volume(data["backend_id"].(string))
			require.True(t, ok, "the data volume kept in Cinder")
			require.Equal(t, "available", cv.Status)
			require.Len(t, cl.emu.Volumes(), 1, "the system volume gone")
			var kept map[string]any
			cl.do("GET", "/api/openstack-volumes/"+data["uuid"].(string)+"/", nil, 200, &kept)
			require.Nil(t, kept["instance"], "detached")
			require.Len(t, cl.emu.FloatingIPs(), 1, "the floating IP kept")
			require.Empty(t, cl.emu.FloatingIPs()[0].PortID, "off the port")

			// The defaults: everything goes.
			order, vm, backup = withBackup("all")
			endWith(order["marketplace_resource_uuid"].(string), map[string]any{})
			_, ok = cl.emu.Server(vm["backend_id"].(string))
			require.False(t, ok)
			require.Empty(t, cl.emu.Snapshots())
			cl.do("GET", "/api/openstack-backups/"+backup+"/", nil, 404, nil)
			require.Len(t, cl.emu.Volumes(), 1, "only the kept data volume")
			require.Len(t, cl.emu.FloatingIPs(), 1, "only the kept floating IP")

			cl.terminate(torder["marketplace_resource_uuid"].(string))
			require.Zero(t, cl.emu.Counts().Total(), "the emulator is empty: %+v", cl.emu.Counts())
		})
	}
}
