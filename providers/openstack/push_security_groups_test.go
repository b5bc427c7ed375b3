package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestPushSecurityGroups: through the API, on a real Temporal server and
// the emulator, a tenant's security groups pushed in one request: ssh (by
// UUID) gets a new description and its rules replaced, app is made with a
// rule whose remote group is named, the tenant's other groups (ping, web)
// are deleted and its default group stays; in the cloud and in the API,
// with Waldur's events. Refusals (400: a UUID of no group of the tenant, a
// name given twice, a remote group named that will not exist; 409: a
// tenant that is not OK) change nothing.
func TestPushSecurityGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	torder, tenant := cl.tenant("push")
	tid := tenant["uuid"].(string)
	tPath := "/api/openstack-tenants/" + tid + "/"
	list := "/api/openstack-security-groups/?tenant_uuid=" + tid
	cloudGroups := func() map[string]groups.SecGroup {
		pages, err := groups.List(cl.l3Neutron(tenant), groups.ListOpts{ProjectID: tenant["backend_id"].(string)}).AllPages(context.Background())
		require.NoError(t, err)
		gs, err := groups.ExtractGroups(pages)
		require.NoError(t, err)
		out := map[string]groups.SecGroup{}
		for _, g := range gs {
			out[g.Name] = g
		}
		return out
	}
	apiGroups := func() map[string]map[string]any {
		var items []map[string]any
		cl.do("GET", list, nil, 200, &items)
		out := map[string]map[string]any{}
		for _, g := range items {
			out[g["name"].(string)] = g
		}
		return out
	}
	before := apiGroups()
	require.Contains(t, before, "ssh")
	require.Contains(t, before, "ping")
	require.Contains(t, before, "web")
	ssh := before["ssh"]
	cloudBefore := cloudGroups()

	push := []any{
		map[string]any{"uuid": ssh["uuid"], "name": "ssh", "description": "ssh from the campus",
			"rules": []any{map[string]any{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "10.0.0.0/8"}}},
		map[string]any{"name": "app", "description": "the app",
			"rules": []any{map[string]any{"protocol": "tcp", "from_port": 8080, "to_port": 8080, "remote_group_name": "ssh"}}},
	}

	// Refusals.
	var refusal map[string]any
	cl.do("POST", tPath+"push_security_groups/", []any{map[string]any{"uuid": tid, "name": "x"}}, 400, &refusal)
	require.Contains(t, refusal, "non_field_errors")
	cl.do("POST", tPath+"push_security_groups/", []any{map[string]any{"name": "a"}, map[string]any{"name": "a"}}, 400, nil)
	cl.do("POST", tPath+"push_security_groups/", []any{map[string]any{"name": "a",
		"rules": []any{map[string]any{"protocol": "tcp", "from_port": 1, "to_port": 2, "remote_group_name": "web"}}}}, 400, nil)
	cl.do("POST", tPath+"push_security_groups/", map[string]any{"name": "a"}, 400, nil)
	cl.do("POST", tPath+"set_erred/", nil, 200, nil)
	cl.do("POST", tPath+"push_security_groups/", push, 409, &refusal)
	require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
	cl.do("POST", tPath+"set_ok/", nil, 200, nil)
	require.Equal(t, len(before), len(apiGroups()), "nothing changed")
	require.Equal(t, len(cloudBefore), len(cloudGroups()))

	// The push.
	var ans map[string]any
	cl.do("POST", tPath+"push_security_groups/", push, 202, &ans)
	require.Equal(t, "push_security_groups was scheduled", ans["status"])
	cl.settle("openstack-tenants", tid)

	cg := cloudGroups()
	require.NotContains(t, cg, "ping")
	require.NotContains(t, cg, "web")
	require.Contains(t, cg, "default")
	require.Equal(t, "ssh from the campus", cg["ssh"].Description)
	require.Equal(t, ssh["backend_id"], cg["ssh"].ID, "updated, not made again")
	ingress := func(g groups.SecGroup) []map[string]any {
		var out []map[string]any
		for _, r := range g.Rules {
			if r.Direction == "ingress" {
				out = append(out, map[string]any{"port": r.PortRangeMin, "cidr": r.RemoteIPPrefix, "remote": r.RemoteGroupID})
			}
		}
		return out
	}
	require.Equal(t, []map[string]any{{"port": 22, "cidr": "10.0.0.0/8", "remote": ""}}, ingress(cg["ssh"]))
	require.Equal(t, []map[string]any{{"port": 8080, "cidr": "", "remote": cg["ssh"].ID}}, ingress(cg["app"]))

	after := apiGroups()
	require.NotContains(t, after, "ping")
	require.NotContains(t, after, "web")
	require.Equal(t, ssh["uuid"], after["ssh"]["uuid"])
	require.Equal(t, "ssh from the campus", after["ssh"]["description"])
	require.Equal(t, cg["app"].ID, after["app"]["backend_id"])
	require.Equal(t, "OK", after["app"]["state"])
	cl.l3Valid(list)

	for typ, n := range map[string]int{"openstack_security_group_created": 1, "openstack_security_group_updated": 1,
		"openstack_security_group_deleted": 2} {
		var events []map[string]any
		cl.do("GET", "/api/events/?event_type="+typ, nil, 200, &events)
		require.Len(t, events, n, typ)
	}

	cl.terminate(torder["marketplace_resource_uuid"].(string))
	require.Zero(t, cl.emu.Counts().Total(), "the emulator is empty: %+v", cl.emu.Counts())
}
