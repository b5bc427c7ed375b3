package openstack_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// l3Find is the item of a listing with the given field value (nil if none).
func (cl *cloud) l3Find(listing, field, value string) map[string]any {
	cl.t.Helper()
	var list []map[string]any
	cl.do("GET", listing, nil, 200, &list)
	for _, x := range list {
		if x[field] == value {
			return x
		}
	}
	return nil
}

// l3Pulled pulls the tenant (its floating IPs' pull) and waits until a
// router of the tenant is listed: the pull recorded its routers and ports.
func (cl *cloud) l3Pulled(tenant map[string]any) map[string]any {
	cl.t.Helper()
	tid := tenant["uuid"].(string)
	cl.do("POST", "/api/openstack-tenants/"+tid+"/pull_floating_ips/", nil, 202, nil)
	var router map[string]any
	poll(cl.t, "the tenant's router pulled", func() bool {
		var list []map[string]any
		cl.do("GET", "/api/openstack-routers/?tenant_uuid="+tid, nil, 200, &list)
		if len(list) > 0 {
			router = list[0]
			return true
		}
		return false
	})
	return router
}

// l3Valid GETs path and checks the answer against Waldur's OpenAPI file.
func (cl *cloud) l3Valid(path string) {
	cl.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Token "+cl.token)
	w := httptest.NewRecorder()
	cl.api.ServeHTTP(w, req)
	require.Equal(cl.t, http.StatusOK, w.Code, "GET %s: %s", path, w.Body.String())
	apitest.ValidateResponse(cl.t, req, w)
}

// l3RunDone waits until the run of an object's action has ended: a
// second run of the same action is started only then (its workflow id is
// the object's and the action's).
func (cl *cloud) l3RunDone(k openstack.Kind, uuid, action string) {
	cl.t.Helper()
	id, err := models.ParseUUID(uuid)
	require.NoError(cl.t, err)
	require.NoError(cl.t, cl.tc.GetWorkflow(context.Background(), openstack.ActionWorkflowID(k, id, action), "").Get(context.Background(), nil))
}

// TestRoutersAPI: through the API, on a real Temporal server and the
// emulator: the tenant's router appears with a pull (its interface as a
// port); a router created (201, then OK with a gateway on the external
// network), a subnet added as its interface (202, the cloud follows; a
// second add, a subnet without a gateway: 400, nothing changes), its
// routes set (a next hop on no connected subnet: 400), the interface
// removed; a busy router refuses (409); a subnet connected to and
// disconnected from the tenant's router; staff's set_erred and set_ok;
// the router deleted (gone from the API and the cloud).
func TestRoutersAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	_, tenant := cl.tenant("rt")
	tid := tenant["uuid"].(string)
	cloudRouter := func(id string) (openstacktest.Router, bool) {
		for _, r := range cl.emu.Routers() {
			if r.ID == id {
				return r, true
			}
		}
		return openstacktest.Router{}, false
	}
	interfaces := func(routerID string) map[string]bool { // subnet ids of the router's interfaces
		out := map[string]bool{}
		for _, p := range cl.emu.Ports() {
			if p.DeviceID == routerID && p.DeviceOwner == "network:router_interface" {
				for _, ip := range p.FixedIPs {
					out[ip.SubnetID] = true
				}
			}
		}
		return out
	}

	// The pull brings the tenant's own router and its interface port.
	tr := cl.l3Pulled(tenant)
	require.Equal(t, "rt-router", tr["name"])
	require.Len(t, tr["ports"], 1)
	require.Len(t, tr["fixed_ips"], 1, "the gateway's address")
	trPath := "/api/openstack-routers/" + tr["uuid"].(string) + "/"
	iface := tr["ports"].([]any)[0].(map[string]any)
	require.NotNil(t, iface["subnet_uuid"])
	var port map[string]any
	cl.do("GET", path(iface["url"].(string)), nil, 200, &port)
	require.Equal(t, "network:router_interface", port["device_owner"])
	cl.do("DELETE", path(iface["url"].(string)), nil, 400, nil) // Neutron's refusal: the router's port

	// A network and subnets to connect.
	var net, sub, noGw map[string]any
	cl.do("POST", "/api/openstack-tenants/"+tid+"/create_network/", map[string]any{"name": "lab"}, 201, &net)
	net = cl.settle("openstack-networks", net["uuid"].(string))
	nPath := "/api/openstack-networks/" + net["uuid"].(string) + "/"
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "lab-sub", "cidr": "10.20.0.0/24"}, 201, &sub)
	sub = cl.settle("openstack-subnets", sub["uuid"].(string))
	cl.do("POST", nPath+"create_subnet/", map[string]any{"name": "lab-nogw", "cidr": "10.21.0.0/24", "disable_gateway": true}, 201, &noGw)
	noGw = cl.settle("openstack-subnets", noGw["uuid"].(string))

	// Create.
	cl.do("POST", "/api/openstack-routers/", map[string]any{"tenant": tenant["url"]}, 400, nil)
	cl.do("POST", "/api/openstack-routers/", map[string]any{"tenant": tenant["url"], "name": "rt-router"}, 400, nil)
	var created map[string]any
	cl.do("POST", "/api/openstack-routers/", map[string]any{"tenant": tenant["url"], "name": "edge"}, 201, &created)
	require.Equal(t, "edge", created["name"])
	require.Equal(t, tenant["url"], created["tenant"])
	require.Equal(t, cl.project, created["project"])
	rid := created["uuid"].(string)
	rPath := "/api/openstack-routers/" + rid + "/"
	r := cl.settle("openstack-routers", rid)
	backend := r["backend_id"].(string)
	br, ok := cloudRouter(backend)
	require.True(t, ok)
	require.Equal(t, "edge", br.Name)
	require.NotNil(t, br.Gateway)
	require.Equal(t, cl.emu.ExternalNetworkID(), br.Gateway.NetworkID)

	// Interfaces: refusals first, nothing changes.
	var refusal map[string]any
	cl.do("POST", rPath+"add_router_interface/", map[string]any{}, 400, nil)
	cl.do("POST", rPath+"add_router_interface/", map[string]any{"subnet": noGw["url"]}, 400, &refusal)
	require.Contains(t, refusal, "subnet")
	cl.do("POST", rPath+"remove_router_interface/", map[string]any{"subnet": sub["url"]}, 400, nil)
	require.Empty(t, interfaces(backend))
	var ans map[string]any
	cl.do("POST", rPath+"add_router_interface/", map[string]any{"subnet": sub["url"]}, 202, &ans)
	cl.do("POST", rPath+"set_routes/", map[string]any{"routes": []any{}}, 409, &refusal)
	require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
	r = cl.settle("openstack-routers", rid)
	require.True(t, interfaces(backend)[sub["backend_id"].(string)])
	cl.l3Valid(rPath)
	cl.l3Valid("/api/openstack-routers/?tenant_uuid=" + tid)
	require.Len(t, r["ports"], 1)
	require.Equal(t, sub["uuid"], r["ports"].([]any)[0].(map[string]any)["subnet_uuid"])
	cl.do("POST", rPath+"add_router_interface/", map[string]any{"subnet": sub["url"]}, 400, nil)

	// Routes.
	cl.do("POST", rPath+"set_routes/", map[string]any{"routes": []any{map[string]any{"destination": "10.99.0.0/16", "nexthop": "10.30.0.5"}}}, 400, nil)
	cl.do("POST", rPath+"set_routes/", map[string]any{"routes": []any{map[string]any{"destination": "bad", "nexthop": "10.20.0.5"}}}, 400, nil)
	cl.do("POST", rPath+"set_routes/", map[string]any{"routes": []any{map[string]any{"destination": "10.99.0.0/16", "nexthop": "10.20.0.5"}}}, 202, &ans)
	r = cl.settle("openstack-routers", rid)
	require.Equal(t, []any{map[string]any{"destination": "10.99.0.0/16", "nexthop": "10.20.0.5"}}, r["routes"])
	br, _ = cloudRouter(backend)
	require.Len(t, br.Routes, 1)
	require.Equal(t, "10.20.0.5", br.Routes[0].NextHop)
	cl.l3RunDone(openstack.KindRouter, rid, "set_routes") // a second run of an action starts once the first has ended
	cl.do("POST", rPath+"set_routes/", map[string]any{"routes": []any{}}, 202, nil)
	cl.settle("openstack-routers", rid)
	br, _ = cloudRouter(backend)
	require.Empty(t, br.Routes)

	cl.do("POST", rPath+"remove_router_interface/", map[string]any{"subnet": sub["url"]}, 202, nil)
	r = cl.settle("openstack-routers", rid)
	require.Empty(t, interfaces(backend))
	require.Empty(t, r["ports"])

	// The subnet connected to the tenant's router, and disconnected.
	sPath := "/api/openstack-subnets/" + sub["uuid"].(string) + "/"
	cl.do("POST", sPath+"disconnect/", nil, 400, nil)
	cl.do("POST", sPath+"connect/", nil, 202, nil)
	tr = cl.settle("openstack-routers", tr["uuid"].(string))
	require.Len(t, tr["ports"], 2)
	require.True(t, interfaces(tr["backend_id"].(string))[sub["backend_id"].(string)])
	cl.do("POST", sPath+"connect/", nil, 400, nil)
	cl.do("POST", sPath+"disconnect/", nil, 202, nil)
	tr = cl.settle("openstack-routers", tr["uuid"].(string))
	require.Len(t, tr["ports"], 1)
	require.False(t, interfaces(tr["backend_id"].(string))[sub["backend_id"].(string)])
	cl.do("GET", trPath, nil, 200, nil)

	// Staff's set_erred and set_ok.
	cl.do("POST", rPath+"set_erred/", nil, 200, nil)
	cl.do("GET", rPath, nil, 200, &r)
	require.Equal(t, "ERRED", r["state"])
	cl.do("POST", rPath+"set_ok/", nil, 200, nil)

	// Delete.
	cl.do("DELETE", rPath, nil, 202, &ans)
	require.Equal(t, "destroy was scheduled", ans["status"])
	cl.do("DELETE", rPath, nil, 409, nil)
	cl.gone("/api/openstack-routers/?tenant_uuid="+tid, rid)
	_, ok = cloudRouter(backend)
	require.False(t, ok)
}
