package openstack_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestInstanceNetworkActions: through the API, on a real Temporal server
// and the emulator, an instance's security groups set (ssh and web; then
// web alone), the allowed address pairs of its port set, a second port
// attached in another network with the address asked and detached again
// (the port Waldur made for it deleted), and its console URL read. Each
// action goes UPDATE_SCHEDULED → OK with its event; refusals: an instance
// that is not OK (409, nothing changes), a group, subnet or port that is
// not the tenant's, an address outside the subnet, a malformed pair (400,
// nothing changes). Everything deleted at the end leaves the emulator empty.
func TestInstanceNetworkActions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	torder, tenant := cl.tenant("inet")
	tid := tenant["uuid"].(string)
	q := "?tenant_uuid=" + tid
	iorder := cl.order(cl.vmOffering, cl.instanceAttrs(tenant, "vm-1"), nil)
	iid := iorder["resource_uuid"].(string)
	vmPath := "/api/openstack-instances/" + iid + "/"
	var vm map[string]any
	cl.do("GET", vmPath, nil, 200, &vm)
	serverID := vm["backend_id"].(string)
	serverPorts := func() []openstacktest.Port {
		var out []openstacktest.Port
		for _, p := range cl.emu.Ports() {
			if p.DeviceID == serverID {
				out = append(out, p)
			}
		}
		return out
	}
	cloudPort := func(id string) (openstacktest.Port, bool) {
		for _, p := range cl.emu.Ports() {
			if p.ID == id {
				return p, true
			}
		}
		return openstacktest.Port{}, false
	}
	require.Len(t, serverPorts(), 1)
	ssh := cl.first("/api/openstack-security-groups/" + q + "&name_exact=ssh")
	web := cl.first("/api/openstack-security-groups/" + q + "&name_exact=web")
	subnet := cl.first("/api/openstack-subnets/" + q)
	sgPath, portsPath, pairsPath := vmPath+"update_security_groups/", vmPath+"update_ports/", vmPath+"update_allowed_address_pairs/"
	groupsOf := func(p openstacktest.Port) []string {
		out := append([]string{}, p.SecurityGroups...)
		slices.Sort(out)
		return out
	}
	sorted := func(xs ...string) []string { slices.Sort(xs); return xs }
	unchanged := func() {
		t.Helper()
		cl.do("GET", vmPath, nil, 200, &vm)
		require.Equal(t, "OK", vm["state"])
		require.Len(t, serverPorts(), 1)
		require.Equal(t, []string{ssh["backend_id"].(string)}, groupsOf(serverPorts()[0]))
	}

	// Refusals change nothing.
	var refusal map[string]any
	cl.do("POST", sgPath, map[string]any{}, 400, &refusal)
	require.Contains(t, refusal, "security_groups")
	cl.do("POST", sgPath, map[string]any{"security_groups": []any{"http://x/api/openstack-security-groups/" + tid + "/"}}, 400, nil)
	cl.do("POST", pairsPath, map[string]any{"subnet": subnet["url"], "allowed_address_pairs": []any{map[string]any{"ip_address": "x"}}}, 400, nil)
	cl.do("POST", pairsPath, map[string]any{"subnet": "http://x/api/openstack-subnets/" + tid + "/", "allowed_address_pairs": []any{}}, 400, nil)
	cl.do("POST", portsPath, map[string]any{"ports": []any{map[string]any{}}}, 400, &refusal)
	require.Contains(t, refusal, "ports")
	cl.do("POST", portsPath, map[string]any{"ports": []any{map[string]any{"subnet": "http://x/api/openstack-subnets/" + tid + "/"}}}, 400, nil)
	cl.do("POST", portsPath, map[string]any{"ports": []any{map[string]any{"port": "http://x/api/openstack-ports/" + tid + "/"}}}, 400, nil)
	unchanged()
	cl.do("POST", vmPath+"set_erred/", nil, 200, nil)
	cl.do("POST", sgPath, map[string]any{"security_groups": []any{web["url"]}}, 409, &refusal)
	require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
	cl.do("POST", portsPath, map[string]any{"ports": []any{}}, 409, nil)
	cl.do("POST", pairsPath, map[string]any{"subnet": subnet["url"], "allowed_address_pairs": []any{}}, 409, nil)
	cl.do("GET", vmPath+"console/", nil, 409, nil)
	cl.do("POST", vmPath+"set_ok/", nil, 200, nil)
	unchanged()

	// Security groups: ssh and web, then web alone.
	var ans map[string]any
	cl.do("POST", sgPath, map[string]any{"security_groups": []any{ssh["url"], web["url"]}}, 202, &ans)
	require.Equal(t, "security groups update was scheduled", ans["status"])
	vm = cl.settle("openstack-instances", iid)
	require.Equal(t, sorted(ssh["backend_id"].(string), web["backend_id"].(string)), groupsOf(serverPorts()[0]))
	names := []string{}
	for _, g := range vm["security_groups"].([]any) {
		names = append(names, g.(map[string]any)["name"].(string))
	}
	require.ElementsMatch(t, []string{"ssh", "web"}, names)
	cl.l3RunDone(openstack.KindInstance, iid, "update_security_groups")
	cl.do("POST", sgPath, map[string]any{"security_groups": []any{web["url"]}}, 202, nil)
	vm = cl.settle("openstack-instances", iid)
	require.Equal(t, []string{web["backend_id"].(string)}, groupsOf(serverPorts()[0]))
	require.Len(t, vm["security_groups"], 1)

	// Allowed address pairs of the port in the subnet.
	cl.do("POST", pairsPath, map[string]any{"subnet": subnet["url"],
		"allowed_address_pairs": []any{map[string]any{"ip_address": "192.168.42.0/24"}}}, 202, &ans)
	require.Equal(t, "allowed address pairs update was scheduled", ans["status"])
	cl.settle("openstack-instances", iid)
	pairs := serverPorts()[0].AllowedAddressPairs
	require.Len(t, pairs, 1)
	require.Equal(t, "192.168.42.0/24", pairs[0].IPAddress)

	// A second port, in a network of its own, with the address asked.
	var net, sub map[string]any
	cl.do("POST", "/api/openstack-tenants/"+tid+"/create_network/", map[string]any{"name": "lab"}, 201, &net)
	net = cl.settle("openstack-networks", net["uuid"].(string))
	cl.do("POST", "/api/openstack-networks/"+net["uuid"].(string)+"/create_subnet/", map[string]any{"name": "lab-sub", "cidr": "10.40.0.0/24"}, 201, &sub)
	sub = cl.settle("openstack-subnets", sub["uuid"].(string))
	cl.do("POST", portsPath, map[string]any{"ports": []any{map[string]any{"subnet": subnet["url"]},
		map[string]any{"subnet": sub["url"], "fixed_ips": []any{map[string]any{"ip_address": "10.50.0.9", "subnet_id": sub["backend_id"]}}}}}, 400, &refusal)
	require.Contains(t, refusal, "ports")
	require.Len(t, serverPorts(), 1)
	first := serverPorts()[0].ID
	cl.do("POST", portsPath, map[string]any{"ports": []any{map[string]any{"subnet": subnet["url"]},
		map[string]any{"subnet": sub["url"], "fixed_ips": []any{map[string]any{"ip_address": "10.40.0.9", "subnet_id": sub["backend_id"]}}}}}, 202, &ans)
	require.Equal(t, "ports update was scheduled", ans["status"])
	vm = cl.settle("openstack-instances", iid)
	ps := serverPorts()
	require.Len(t, ps, 2)
	var second openstacktest.Port
	for _, p := range ps {
		if p.ID != first {
			second = p
		}
	}
	require.Equal(t, "10.40.0.9", second.FixedIPs[0].IPAddress)
	require.Equal(t, []string{web["backend_id"].(string)}, groupsOf(second), "the server's groups")
	require.Len(t, vm["ports"], 2)
	require.Contains(t, vm["internal_ips"], "10.40.0.9")
	var listed []map[string]any
	cl.do("GET", vmPath+"ports/", nil, 200, &listed)
	require.Len(t, listed, 2)

	// Back to the first one alone: the port made for the instance goes.
	cl.l3RunDone(openstack.KindInstance, iid, "update_ports")
	cl.do("POST", portsPath, map[string]any{"ports": []any{map[string]any{"subnet": subnet["url"]}}}, 202, nil)
	vm = cl.settle("openstack-instances", iid)
	require.Len(t, serverPorts(), 1)
	require.Equal(t, first, serverPorts()[0].ID)
	_, ok := cloudPort(second.ID)
	require.False(t, ok, "the port made for the instance is deleted")
	require.Len(t, vm["ports"], 1)
	cl.do("GET", vmPath+"ports/", nil, 200, &listed)
	require.Len(t, listed, 1)

	// The console.
	var console map[string]any
	cl.do("GET", vmPath+"console/", nil, 200, &console)
	require.True(t, strings.HasPrefix(console["url"].(string), "http"), "%v", console)
	cl.l3Valid(vmPath + "console/")

	// Events.
	for typ, n := range map[string]int{"resource_update_security_groups_succeeded": 2, "resource_update_ports_succeeded": 2,
		"resource_update_allowed_address_pairs_succeeded": 1, "resource_update_ports_scheduled": 2} {
		var events []map[string]any
		cl.do("GET", "/api/events/?event_type="+typ, nil, 200, &events)
		require.Len(t, events, n, typ)
	}

	cl.terminate(iorder["marketplace_resource_uuid"].(string))
	cl.terminate(torder["marketplace_resource_uuid"].(string))
	require.Zero(t, cl.emu.Counts().Total(), "the emulator is empty: %+v", cl.emu.Counts())
}
