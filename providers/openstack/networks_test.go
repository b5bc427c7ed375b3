package openstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// gone polls a listing until the object is no longer in it (or the test
// fails: ERRED, or still there after a minute).
func (cl *cloud) gone(listing, uuid string) {
	cl.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var list []map[string]any
		cl.do("GET", listing, nil, 200, &list)
		var o map[string]any
		for _, x := range list {
			if x["uuid"] == uuid {
				o = x
			}
		}
		if o == nil {
			return
		}
		require.NotEqual(cl.t, "ERRED", o["state"], "%v", o["error_message"])
		require.True(cl.t, time.Now().Before(deadline), "still there: %v", o["state"])
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNetworkActions: through the API, on a real Temporal server and the
// emulator: a network created in a tenant (201, then OK with its backend
// id), renamed, its MTU set; a subnet created in it (defaults: the first
// host the gateway, Waldur's pool), renamed, deleted; the network deleted
// with a second subnet (gone from the API and the cloud); refusals of bad
// input (400: a bad CIDR, a public one, an overlapping one, a gateway
// outside, a name the tenant's network has) and of a busy network (409).
func TestNetworkActions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	_, tenant := cl.tenant("nets")
	tid := tenant["uuid"].(string)
	tPath := "/api/openstack-tenants/" + tid + "/"
	cloudNet := func(id string) (openstacktest.Network, bool) {
		for _, n := range cl.emu.Networks() {
			if n.ID == id {
				return n, true
			}
		}
		return openstacktest.Network{}, false
	}
	cloudSub := func(id string) (openstacktest.Subnet, bool) {
		for _, s := range cl.emu.State().Subnets {
			if s.ID == id {
				return s, true
			}
		}
		return openstacktest.Subnet{}, false
	}

	cl.do("POST", tPath+"create_network/", map[string]any{}, 400, nil)
	var refusal map[string]any
	cl.do("POST", tPath+"create_network/", map[string]any{"name": "nets-int-net"}, 400, &refusal)
	require.Equal(t, []any{"Network name should be unique."}, refusal["name"], "the tenant's internal network")

	var net map[string]any
	cl.do("POST", tPath+"create_network/", map[string]any{"name": "lab", "description": "lab net"}, 201, &net)
	require.Equal(t, "lab", net["name"])
	require.Contains(t, []any{"CREATION_SCHEDULED", "CREATING", "OK"}, net["state"])
	nid := net["uuid"].(string)
	nPath := "/api/openstack-networks/" + nid + "/"
	net = cl.settle("openstack-networks", nid)
	netBackend := net["backend_id"].(string)
	bn, ok := cloudNet(netBackend)
	require.True(t, ok)
	require.Equal(t, "lab", bn.Name)

	cl.do("PATCH", nPath, map[string]any{"name": "lab-2"}, 200, nil)
	cl.do("POST", nPath+"set_mtu/", map[string]any{"mtu": 1400}, 409, nil)
	cl.settle("openstack-networks", nid)
	bn, _ = cloudNet(netBackend)
	require.Equal(t, "lab-2", bn.Name)
	cl.do("POST", nPath+"set_mtu/", map[string]any{"mtu": 10}, 400, nil)
	var mtu map[string]any
	cl.do("POST", nPath+"set_mtu/", map[string]any{"mtu": 1400}, 200, &mtu)
	require.EqualValues(t, 1400, mtu["mtu"])
	net = cl.settle("openstack-networks", nid)
	require.EqualValues(t, 1400, net["mtu"])
	bn, _ = cloudNet(netBackend)
	require.Equal(t, 1400, bn.MTU)

	// Subnets: refusals, then one with the defaults.
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "s1", "cidr": "10.10.0.300/24"}, 400, &refusal)
	require.Contains(t, refusal, "cidr")
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "s1", "cidr": "8.8.8.0/24"}, 400, nil)
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "s1", "cidr": "10.10.0.0/24", "gateway_ip": "10.20.0.1"}, 400, nil)
	var sub map[string]any
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "s1", "cidr": "10.10.0.0/24", "dns_nameservers": []any{"8.8.8.8"}}, 201, &sub)
	require.Equal(t, "10.10.0.1", sub["gateway_ip"])
	sid := sub["uuid"].(string)
	sPath := "/api/openstack-subnets/" + sid + "/"
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "s2", "cidr": "10.10.0.128/25"}, 400, &refusal)
	require.Contains(t, refusal, "cidr", "overlapping")
	sub = cl.settle("openstack-subnets", sid)
	subBackend := sub["backend_id"].(string)
	bs, ok := cloudSub(subBackend)
	require.True(t, ok)
	require.Equal(t, "10.10.0.0/24", bs.CIDR)
	require.Equal(t, netBackend, bs.NetworkID)
	require.Equal(t, []any{map[string]any{"start": "10.10.0.10", "end": "10.10.0.200"}}, sub["allocation_pools"])
	require.Equal(t, nPath, path(sub["network"].(string)))

	cl.do("PUT", sPath, map[string]any{"name": "s1-renamed"}, 200, nil)
	cl.settle("openstack-subnets", sid)
	bs, _ = cloudSub(subBackend)
	require.Equal(t, "s1-renamed", bs.Name)
	cl.do("DELETE", sPath, nil, 202, nil)
	cl.gone("/api/openstack-subnets/?tenant_uuid="+tid, sid)
	_, ok = cloudSub(subBackend)
	require.False(t, ok)

	// A second subnet goes with its network.
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "s2", "cidr": "10.30.0.0/28", "disable_gateway": true}, 201, &sub)
	require.Nil(t, sub["gateway_ip"])
	sub = cl.settle("openstack-subnets", sub["uuid"].(string))
	sub2Backend := sub["backend_id"].(string)
	var ans map[string]any
	cl.do("DELETE", nPath, nil, 202, &ans)
	require.Equal(t, "destroy was scheduled", ans["status"])
	cl.do("DELETE", nPath, nil, 409, nil)
	cl.gone("/api/openstack-networks/?tenant_uuid="+tid, nid)
	cl.do("GET", "/api/openstack-subnets/"+sub["uuid"].(string)+"/", nil, 404, nil)
	_, ok = cloudNet(netBackend)
	require.False(t, ok)
	_, ok = cloudSub(sub2Backend)
	require.False(t, ok)
}
