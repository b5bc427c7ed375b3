package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// l3Neutron is a Neutron client of someone working in the tenant without Waldur.
func (cl *cloud) l3Neutron(tenant map[string]any) *gophercloud.ServiceClient {
	cl.t.Helper()
	pc, err := gcos.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{IdentityEndpoint: cl.emu.IdentityURL(), Username: "admin",
		Password: "admin", DomainName: "Default", TenantID: tenant["backend_id"].(string)})
	require.NoError(cl.t, err)
	nc, err := gcos.NewNetworkV2(pc, gophercloud.EndpointOpts{})
	require.NoError(cl.t, err)
	return nc
}

// TestPortsAPI: through the API, on a real Temporal server and the
// emulator: a port created in a network with a fixed IP (201, then OK with
// its backend id and MAC), renamed, disabled and enabled, its IP changed
// (an address outside the subnet: 400, nothing changes), its security
// groups set, its port security disabled; a busy port refuses (409); a
// port made in the cloud without Waldur appears with a pull; the instance
// ports listing; staff's set_erred, set_ok and unlink; the port deleted
// (gone from the API and the cloud).
func TestPortsAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	_, tenant := cl.tenant("pt")
	tid := tenant["uuid"].(string)
	cloudPort := func(id string) (openstacktest.Port, bool) {
		for _, p := range cl.emu.Ports() {
			if p.ID == id {
				return p, true
			}
		}
		return openstacktest.Port{}, false
	}
	var net, sub, other map[string]any
	cl.do("POST", "/api/openstack-tenants/"+tid+"/create_network/", map[string]any{"name": "lab"}, 201, &net)
	net = cl.settle("openstack-networks", net["uuid"].(string))
	nPath := "/api/openstack-networks/" + net["uuid"].(string) + "/"
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "lab-sub", "cidr": "10.40.0.0/24"}, 201, &sub)
	sub = cl.settle("openstack-subnets", sub["uuid"].(string))
	subBackend := sub["backend_id"].(string)
	sg := cl.first("/api/openstack-security-groups/?tenant_uuid=" + tid + "&name_exact=ssh")
	other = cl.first("/api/openstack-subnets/?tenant_uuid=" + tid + "&name_exact=pt-sub-net")

	// Create: refusals first (nothing made), then a port with an address.
	var refusal map[string]any
	cl.do("POST", "/api/openstack-ports/", map[string]any{"name": "p1"}, 400, &refusal)
	require.Contains(t, refusal, "network")
	cl.do("POST", "/api/openstack-ports/", map[string]any{"name": "p1", "network": net["url"],
		"fixed_ips": []any{map[string]any{"ip_address": "10.50.0.20", "subnet_id": subBackend}}}, 400, &refusal)
	require.Contains(t, refusal, "fixed_ips")
	cl.do("POST", "/api/openstack-ports/", map[string]any{"name": "p1", "network": net["url"],
		"fixed_ips": []any{map[string]any{"ip_address": "10.40.0.20", "subnet_id": other["backend_id"]}}}, 400, nil)
	var port map[string]any
	cl.do("POST", "/api/openstack-ports/", map[string]any{"name": "p1", "description": "web", "network": net["url"],
		"fixed_ips": []any{map[string]any{"ip_address": "10.40.0.20", "subnet_id": subBackend}}}, 201, &port)
	require.Equal(t, "p1", port["name"])
	require.Equal(t, net["url"], port["network"])
	require.Contains(t, []any{"CREATION_SCHEDULED", "CREATING", "OK"}, port["state"])
	pid := port["uuid"].(string)
	pPath := "/api/openstack-ports/" + pid + "/"
	cl.do("POST", "/api/openstack-ports/", map[string]any{"name": "p1", "network": net["url"]}, 400, &refusal)
	require.Equal(t, []any{"Port name should be unique."}, refusal["name"])
	port = cl.settle("openstack-ports", pid)
	backend := port["backend_id"].(string)
	bp, ok := cloudPort(backend)
	require.True(t, ok)
	require.Equal(t, "p1", bp.Name)
	require.Equal(t, "web", bp.Description)
	require.Equal(t, "10.40.0.20", bp.FixedIPs[0].IPAddress)
	require.Equal(t, bp.MACAddress, port["mac_address"])
	require.Equal(t, []any{map[string]any{"ip_address": "10.40.0.20", "subnet_id": subBackend}}, port["fixed_ips"])
	require.Equal(t, true, port["admin_state_up"])

	// Rename; a busy port refuses what else is asked.
	cl.do("PATCH", pPath, map[string]any{"name": "p1-renamed"}, 200, nil)
	cl.do("POST", pPath+"disable_port/", nil, 409, &refusal)
	require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
	cl.settle("openstack-ports", pid)
	bp, _ = cloudPort(backend)
	require.Equal(t, "p1-renamed", bp.Name)

	// Disable, enable.
	var ans map[string]any
	cl.do("POST", pPath+"disable_port/", nil, 202, &ans)
	require.NotEmpty(t, ans["status"])
	port = cl.settle("openstack-ports", pid)
	require.Equal(t, false, port["admin_state_up"])
	bp, _ = cloudPort(backend)
	require.False(t, bp.AdminStateUp)
	cl.do("POST", pPath+"enable_port/", nil, 202, nil)
	port = cl.settle("openstack-ports", pid)
	require.Equal(t, true, port["admin_state_up"])

	// The address: refusals, then a change.
	cl.do("POST", pPath+"update_port_ip/", map[string]any{"subnet": sub["url"], "ip_address": "10.41.0.30"}, 400, nil)
	cl.do("POST", pPath+"update_port_ip/", map[string]any{"subnet": other["url"], "ip_address": "192.168.42.30"}, 400, nil)
	cl.do("POST", pPath+"update_port_ip/", map[string]any{"subnet": sub["url"]}, 400, nil)
	bp, _ = cloudPort(backend)
	require.Equal(t, "10.40.0.20", bp.FixedIPs[0].IPAddress, "nothing changed")
	cl.do("POST", pPath+"update_port_ip/", map[string]any{"subnet": sub["url"], "ip_address": "10.40.0.30"}, 202, nil)
	port = cl.settle("openstack-ports", pid)
	bp, _ = cloudPort(backend)
	require.Equal(t, "10.40.0.30", bp.FixedIPs[0].IPAddress)
	require.Equal(t, "10.40.0.30", port["fixed_ips"].([]any)[0].(map[string]any)["ip_address"])

	// Security groups, then port security off.
	cl.do("POST", pPath+"update_security_groups/", map[string]any{"security_groups": []any{"http://x/api/openstack-security-groups/" + tid + "/"}}, 400, nil)
	cl.do("POST", pPath+"update_security_groups/", map[string]any{"security_groups": []any{sg["url"]}}, 202, nil)
	port = cl.settle("openstack-ports", pid)
	bp, _ = cloudPort(backend)
	require.Equal(t, []string{sg["backend_id"].(string)}, bp.SecurityGroups)
	require.Len(t, port["security_groups"], 1)
	require.Equal(t, sg["url"], port["security_groups"].([]any)[0].(map[string]any)["url"])
	cl.l3Valid(pPath)
	cl.l3Valid("/api/openstack-ports/?tenant_uuid=" + tid)
	cl.do("POST", pPath+"disable_port_security/", nil, 202, nil)
	port = cl.settle("openstack-ports", pid)
	require.Equal(t, false, port["port_security_enabled"])
	require.Empty(t, port["security_groups"])
	bp, _ = cloudPort(backend)
	require.Empty(t, bp.SecurityGroups)

	// Listing filters.
	var list []map[string]any
	cl.do("GET", "/api/openstack-ports/?network_uuid="+net["uuid"].(string), nil, 200, &list)
	require.Len(t, list, 1)
	cl.do("GET", "/api/openstack-ports/?fixed_ips=10.40.0.30", nil, 200, &list)
	require.Len(t, list, 1)
	cl.do("GET", "/api/openstack-ports/?exclude_subnet_uuids="+sub["uuid"].(string)+"&network_uuid="+net["uuid"].(string), nil, 200, &list)
	require.Empty(t, list)

	// A port made without Waldur appears with a pull.
	ctx := context.Background()
	nc := cl.l3Neutron(tenant)
	outside, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: net["backend_id"].(string), Name: "made-outside"}).Extract()
	require.NoError(t, err)
	cl.do("POST", pPath+"pull/", nil, 202, &ans)
	require.Equal(t, "Pull operation was successfully scheduled.", ans["detail"])
	poll(t, "the port made outside pulled", func() bool {
		return cl.l3Find("/api/openstack-ports/?tenant_uuid="+tid, "backend_id", outside.ID) != nil
	})
	made := cl.l3Find("/api/openstack-ports/?tenant_uuid="+tid, "backend_id", outside.ID)
	require.Equal(t, "made-outside", made["name"])
	require.Equal(t, net["url"], made["network"])
	require.Equal(t, "OK", made["state"])
	var byBackend map[string]any
	cl.do("GET", "/api/openstack-ports/"+outside.ID+"/", nil, 200, &byBackend)
	require.Equal(t, made["uuid"], byBackend["uuid"], "a port URL may name its backend id")

	// Staff's set_erred, set_ok, unlink (the cloud keeps it).
	mPath := "/api/openstack-ports/" + made["uuid"].(string) + "/"
	cl.do("POST", mPath+"set_erred/", nil, 200, nil)
	cl.do("GET", mPath, nil, 200, &made)
	require.Equal(t, "ERRED", made["state"])
	cl.do("POST", mPath+"set_ok/", nil, 200, nil)
	cl.do("POST", mPath+"unlink/", nil, 204, nil)
	cl.do("GET", mPath, nil, 404, nil)
	_, ok = cloudPort(outside.ID)
	require.True(t, ok)

	// Delete.
	cl.do("DELETE", pPath, nil, 202, &ans)
	require.Equal(t, "destroy was scheduled", ans["status"])
	cl.do("DELETE", pPath, nil, 409, nil)
	cl.gone("/api/openstack-ports/?tenant_uuid="+tid, pid)
	_, ok = cloudPort(backend)
	require.False(t, ok)
}
