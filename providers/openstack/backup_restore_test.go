package openstack_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api/apitest"

	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestBackupRestore: through the API, on a real Temporal server and the
// emulator: an instance's backup restored into a new instance with another
// flavor and a floating IP: answered at once (200, CREATION_SCHEDULED),
// then OK with a server booted from a volume made from the backup's system
// snapshot, the data volume made from the other attached, a port in the
// subnet asked with the groups asked; refusals (a flavor or subnet of no
// tenant's, no flavor: 400; a backup that is not OK: 409) make nothing.
// The tenant's termination leaves the emulator empty.
func TestBackupRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			cl := newCloudOn(t, kind, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
				VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
			torder, tenant := cl.tenant("restore")
			tid := tenant["uuid"].(string)
			q := "?tenant_uuid=" + tid
			iorder := cl.order(cl.vmOffering, cl.instanceAttrs(tenant, "vm-1"), nil)
			vm := cl.settle("openstack-instances", iorder["resource_uuid"].(string))
			var b map[string]any
			cl.do("POST", "/api/openstack-instances/"+vm["uuid"].(string)+"/backup/", map[string]any{"name": "nightly"}, 201, &b)
			bid := b["uuid"].(string)
			bPath := "/api/openstack-backups/" + bid + "/"
			cl.settle("openstack-backups", bid)
			medium := cl.first("/api/openstack-flavors/" + q + "&name_exact=m1.medium")
			subnet := cl.first("/api/openstack-subnets/" + q)
			web := cl.first("/api/openstack-security-groups/" + q + "&name_exact=web")
			servers, volumes := len(cl.emu.Servers()), len(cl.emu.Volumes())

			// Refusals make nothing.
			var refusal map[string]any
			cl.do("POST", bPath+"restore/", map[string]any{}, 400, &refusal)
			require.Contains(t, refusal, "flavor")
			cl.do("POST", bPath+"restore/", map[string]any{"flavor": "http://x/api/openstack-flavors/" + tid + "/"}, 400, nil)
			cl.do("POST", bPath+"restore/", map[string]any{"flavor": medium["url"],
				"ports": []any{map[string]any{"subnet": "http://x/api/openstack-subnets/" + tid + "/"}}}, 400, nil)
			cl.do("POST", bPath+"set_erred/", nil, 200, nil)
			cl.do("POST", bPath+"restore/", map[string]any{"flavor": medium["url"]}, 409, &refusal)
			require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
			cl.do("POST", bPath+"set_ok/", nil, 200, nil)
			var instances []map[string]any
			cl.do("GET", "/api/openstack-instances/"+q, nil, 200, &instances)
			require.Len(t, instances, 1)
			require.Len(t, cl.emu.Servers(), servers)

			// The restore.
			// (Sent here to check the answer against Waldur's OpenAPI file.)
			raw, err := json.Marshal(map[string]any{"flavor": medium["url"], "name": "vm-restored",
				"ports": []any{map[string]any{"subnet": subnet["url"]}}, "security_groups": []any{map[string]any{"url": web["url"]}},
				"floating_ips": []any{map[string]any{"subnet": subnet["url"]}}})
			require.NoError(t, err)
			req := httptest.NewRequest("POST", bPath+"restore/", bytes.NewReader(raw))
			req.Header.Set("Authorization", "Token "+cl.token)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			cl.api.ServeHTTP(w, req)
			require.Equal(t, 200, w.Code, w.Body.String())
			apitest.ValidateResponse(t, req, w)
			var in map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &in))
			require.Equal(t, "vm-restored", in["name"])
			require.Contains(t, []any{"CREATION_SCHEDULED", "CREATING", "OK"}, in["state"])
			in = cl.settle("openstack-instances", in["uuid"].(string))
			require.Equal(t, "ACTIVE", in["runtime_state"])
			require.Equal(t, "m1.medium", in["flavor_name"])
			sv, ok := cl.emu.Server(in["backend_id"].(string))
			require.True(t, ok)
			require.Equal(t, "3", sv.FlavorID)
			require.Len(t, sv.Volumes, 2, "system and data volumes")
			require.Len(t, cl.emu.Volumes(), volumes+2)
			snapIDs := map[string]bool{}
			for _, s := range cl.emu.Snapshots() {
				snapIDs[s.ID] = true
			}
			for _, a := range sv.Volumes {
				v, ok := cl.emu.Volume(a.VolumeID)
				require.True(t, ok)
				require.True(t, snapIDs[v.SnapshotID], "made from a snapshot of the backup")
			}
			require.Len(t, sv.Ports, 1)
			var port openstacktest.Port
			for _, p := range cl.emu.Ports() {
				if p.ID == sv.Ports[0] {
					port = p
				}
			}
			require.Equal(t, []string{web["backend_id"].(string)}, port.SecurityGroups)
			require.Equal(t, subnet["backend_id"], port.FixedIPs[0].SubnetID)
			onPort := 0
			for _, f := range cl.emu.FloatingIPs() {
				if f.PortID == port.ID {
					onPort++
				}
			}
			require.Equal(t, 1, onPort, "a floating IP on its port")
			var vols []map[string]any
			cl.do("GET", "/api/openstack-volumes/?instance_uuid="+in["uuid"].(string), nil, 200, &vols)
			require.Len(t, vols, 2)
			cl.l3Valid("/api/openstack-instances/" + in["uuid"].(string) + "/")
			var events []map[string]any
			cl.do("GET", "/api/events/?event_type=resource_backup_restoration_succeeded", nil, 200, &events)
			require.Len(t, events, 1)
			// Billed like the backup's instance: a marketplace resource of its offering, OK.
			restored, _ := in["marketplace_resource_uuid"].(string)
			require.NotEmpty(t, restored, "the restored instance's marketplace resource")
			var mres, src map[string]any
			cl.do("GET", "/api/marketplace-resources/"+restored+"/", nil, 200, &mres)
			cl.do("GET", "/api/marketplace-resources/"+iorder["marketplace_resource_uuid"].(string)+"/", nil, 200, &src)
			require.Equal(t, "OK", mres["state"])
			require.Equal(t, "vm-restored", mres["name"])
			require.Equal(t, src["offering_uuid"], mres["offering_uuid"])
			require.Equal(t, src["plan_uuid"], mres["plan_uuid"])
			require.Equal(t, in["backend_id"], mres["backend_id"])

			// The backup goes (its snapshots with it), then the instance and the tenant
			// (the restored instance with the tenant's teardown).
			cl.do("DELETE", bPath, nil, 202, nil)
			cl.gone("/api/openstack-backups/"+q, bid)
			cl.terminate(iorder["marketplace_resource_uuid"].(string))
			cl.terminate(torder["marketplace_resource_uuid"].(string))
			require.Zero(t, cl.emu.Counts().Total(), "the emulator is empty: %+v", cl.emu.Counts())
			cl.do("GET", "/api/marketplace-resources/"+restored+"/", nil, 200, &mres)
			require.Equal(t, "Terminated", mres["state"], "ended with its tenant")
		})
	}
}
