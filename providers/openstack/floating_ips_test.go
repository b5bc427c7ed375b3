package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestFloatingIPsAPI: through the API, on a real Temporal server and the
// emulator: a floating IP created in a tenant (201, CREATION_SCHEDULED
// with no address, then OK with the address allocated on the external
// network), attached to a port of the tenant's internal network (the
// cloud associates it; another tenant's port or a made-up one: 400,
// nothing changes), listed among the port's and the instance's floating
// IPs, its description changed, detached (a second detach: 400); a busy
// floating IP refuses (409); a floating IP deleted outside Waldur goes
// with the tenant's pull_floating_ips; staff's set_erred and set_ok; the
// floating IP deleted (gone from the API and the cloud).
func TestFloatingIPsAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	_, tenant := cl.tenant("fip")
	tid := tenant["uuid"].(string)
	tPath := "/api/openstack-tenants/" + tid + "/"
	cloudFIP := func(id string) (openstacktest.FloatingIP, bool) {
		for _, f := range cl.emu.FloatingIPs() {
			if f.ID == id {
				return f, true
			}
		}
		return openstacktest.FloatingIP{}, false
	}
	cl.l3Pulled(tenant) // the tenant's router and ports

	// A port on the internal network (the tenant's router connects it to the external one).
	internal := cl.first("/api/openstack-networks/?tenant_uuid=" + tid + "&name_exact=fip-int-net")
	var port map[string]any
	cl.do("POST", "/api/openstack-ports/", map[string]any{"name": "web", "network": internal["url"]}, 201, &port)
	port = cl.settle("openstack-ports", port["uuid"].(string))
	require.Len(t, port["fixed_ips"], 1)

	// Create.
	var fip map[string]any
	cl.do("POST", tPath+"create_floating_ip/", map[string]any{"description": "front"}, 201, &fip)
	require.Contains(t, []any{"CREATION_SCHEDULED", "CREATING", "OK"}, fip["state"])
	require.Equal(t, tenant["url"], fip["tenant"])
	fid := fip["uuid"].(string)
	fPath := "/api/openstack-floating-ips/" + fid + "/"
	fip = cl.settle("openstack-floating-ips", fid)
	require.NotNil(t, fip["address"])
	backend := fip["backend_id"].(string)
	bf, ok := cloudFIP(backend)
	require.True(t, ok)
	require.Equal(t, fip["address"], bf.FloatingIP)
	require.Equal(t, "front", bf.Description, "the marker replaced by the description asked")
	require.Equal(t, cl.emu.ExternalNetworkID(), bf.FloatingNetworkID)

	// Attach: refusals first.
	var refusal map[string]any
	cl.do("POST", fPath+"attach_to_port/", map[string]any{}, 400, nil)
	cl.do("POST", fPath+"attach_to_port/", map[string]any{"port": "http://x/api/openstack-ports/" + tid + "/"}, 400, &refusal)
	require.Contains(t, refusal, "port")
	cl.do("POST", fPath+"detach_from_port/", nil, 400, nil)
	bf, _ = cloudFIP(backend)
	require.Empty(t, bf.PortID)
	var ans map[string]any
	cl.do("POST", fPath+"attach_to_port/", map[string]any{"port": port["url"]}, 202, &ans)
	cl.do("POST", fPath+"update_description/", map[string]any{"description": "x"}, 409, &refusal)
	require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
	fip = cl.settle("openstack-floating-ips", fid)
	bf, _ = cloudFIP(backend)
	require.Equal(t, port["backend_id"], bf.PortID)
	require.NotEmpty(t, fip["port"])
	var viaPort map[string]any
	cl.do("GET", path(fip["port"].(string)), nil, 200, &viaPort)
	require.Equal(t, port["uuid"], viaPort["uuid"])
	require.Equal(t, []any{fip["url"]}, viaPort["floating_ips"])
	cl.l3Valid(fPath)
	cl.l3Valid("/api/openstack-floating-ips/?tenant_uuid=" + tid)

	// The description.
	cl.do("POST", fPath+"update_description/", map[string]any{"description": "front door"}, 202, nil)
	fip = cl.settle("openstack-floating-ips", fid)
	require.Equal(t, "front door", fip["description"])
	bf, _ = cloudFIP(backend)
	require.Equal(t, "front door", bf.Description)

	// Detach.
	cl.do("POST", fPath+"detach_from_port/", nil, 202, nil)
	fip = cl.settle("openstack-floating-ips", fid)
	bf, _ = cloudFIP(backend)
	require.Empty(t, bf.PortID)
	_, attached := fip["port"]
	require.False(t, attached)
	cl.do("POST", fPath+"detach_from_port/", nil, 400, nil)

	// An instance's floating IPs: it was made with one; update_floating_ips moves ours onto it.
	iorder := cl.order(cl.vmOffering, cl.instanceAttrs(tenant, "vm-1"), nil)
	vmPath := "/api/openstack-instances/" + iorder["resource_uuid"].(string) + "/"
	var vm map[string]any
	cl.do("GET", vmPath, nil, 200, &vm)
	cl.l3RunDone(openstack.KindTenant, tid, "pull")
	cl.do("POST", tPath+"pull_floating_ips/", nil, 202, nil)
	var vmPorts, vmFIPs []map[string]any
	poll(t, "the instance's port and floating IP pulled", func() bool {
		cl.do("GET", vmPath+"ports/", nil, 200, &vmPorts)
		cl.do("GET", vmPath+"floating_ips/", nil, 200, &vmFIPs)
		return len(vmPorts) == 1 && len(vmFIPs) == 1
	})
	cl.l3Valid(vmPath + "ports/")
	cl.l3Valid(vmPath + "floating_ips/")
	own := vmFIPs[0]["backend_id"].(string)
	require.NotEqual(t, backend, own)
	subnetURL := vmPorts[0]["fixed_ips"].([]any)[0].(map[string]any)["subnet_id"].(string)
	internalSub := cl.l3Find("/api/openstack-subnets/?tenant_uuid="+tid, "backend_id", subnetURL)
	require.NotNil(t, internalSub)
	cl.do("POST", vmPath+"update_floating_ips/", map[string]any{"floating_ips": []any{map[string]any{"subnet": internalSub["url"]}}}, 202, nil)
	cl.settle("openstack-instances", iorder["resource_uuid"].(string))
	bf, _ = cloudFIP(own)
	require.Equal(t, vmPorts[0]["backend_id"], bf.PortID, "it keeps the one it has")
	cl.do("POST", vmPath+"update_floating_ips/", map[string]any{"floating_ips": []any{map[string]any{"subnet": "http://x/api/openstack-subnets/" + tid + "/"}}}, 400, nil)
	cl.l3RunDone(openstack.KindInstance, iorder["resource_uuid"].(string), "update_floating_ips")
	cl.do("POST", vmPath+"update_floating_ips/", map[string]any{"floating_ips": []any{map[string]any{"subnet": internalSub["url"], "url": fip["url"]}}}, 202, nil)
	cl.settle("openstack-instances", iorder["resource_uuid"].(string))
	bf, _ = cloudFIP(backend)
	require.Equal(t, vmPorts[0]["backend_id"], bf.PortID, "ours moved onto the instance's port")
	bf, _ = cloudFIP(own)
	require.Empty(t, bf.PortID, "its own detached")
	fip = cl.settle("openstack-floating-ips", fid)
	require.NotEmpty(t, fip["port"], "recorded at once")
	cl.l3RunDone(openstack.KindInstance, iorder["resource_uuid"].(string), "update_floating_ips")
	cl.do("POST", vmPath+"update_floating_ips/", map[string]any{"floating_ips": []any{}}, 202, nil)
	cl.settle("openstack-instances", iorder["resource_uuid"].(string))
	bf, _ = cloudFIP(backend)
	require.Empty(t, bf.PortID)

	// Staff's set_erred and set_ok.
	cl.do("POST", fPath+"set_erred/", nil, 200, nil)
	cl.do("GET", fPath, nil, 200, &fip)
	require.Equal(t, "ERRED", fip["state"])
	cl.do("POST", fPath+"set_ok/", nil, 200, nil)
	cl.do("POST", fPath+"pull/", nil, 202, nil)

	// A second floating IP, deleted outside Waldur: the tenant's pull drops it.
	var second map[string]any
	cl.do("POST", tPath+"create_floating_ip/", nil, 201, &second)
	second = cl.settle("openstack-floating-ips", second["uuid"].(string))
	require.NoError(t, floatingips.Delete(context.Background(), cl.l3Neutron(tenant), second["backend_id"].(string)).ExtractErr())
	cl.l3RunDone(openstack.KindFloatingIP, fid, "pull")
	cl.l3RunDone(openstack.KindTenant, tid, "pull")
	cl.do("POST", tPath+"pull_floating_ips/", nil, 202, nil)
	cl.gone("/api/openstack-floating-ips/?tenant_uuid="+tid, second["uuid"].(string))

	// Delete.
	cl.do("DELETE", fPath, nil, 202, &ans)
	require.Equal(t, "destroy was scheduled", ans["status"])
	cl.do("DELETE", fPath, nil, 409, nil)
	cl.gone("/api/openstack-floating-ips/?tenant_uuid="+tid, fid)
	_, ok = cloudFIP(backend)
	require.False(t, ok)
}
