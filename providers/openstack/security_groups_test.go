package openstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestSecurityGroupActions: through the API, on a real Temporal server and
// the emulator: a security group created in a tenant (201, scheduled, then
// OK with its backend id and exactly the rules asked: Neutron's default
// egress rules gone), renamed, its rules replaced, deleted (202, then gone
// from the API and the cloud); refusals of bad input (400: no rules, a bad
// CIDR, a port range without a protocol, a name the tenant has) and of a
// busy group (409); staff's set_erred and set_ok.
func TestSecurityGroupActions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	_, tenant := cl.tenant("groups")
	tPath := "/api/openstack-tenants/" + tenant["uuid"].(string) + "/"
	cloudGroup := func(id string) (openstacktest.SecurityGroup, []openstacktest.SecurityGroupRule, bool) {
		st := cl.emu.State()
		var rules []openstacktest.SecurityGroupRule
		for _, r := range st.SecurityGroupRules {
			if r.SecurityGroupID == id {
				rules = append(rules, r)
			}
		}
		for _, g := range st.SecurityGroups {
			if g.ID == id {
				return g, rules, true
			}
		}
		return openstacktest.SecurityGroup{}, nil, false
	}

	// Refusals: nothing is made.
	var refusal map[string]any
	cl.do("POST", tPath+"create_security_group/", map[string]any{"name": "web"}, 400, &refusal)
	require.Contains(t, refusal, "rules")
	cl.do("POST", tPath+"create_security_group/", map[string]any{"name": "web", "rules": []any{map[string]any{"protocol": "tcp",
		"from_port": 22, "to_port": 22, "cidr": "10.0.0.300/8"}}}, 400, &refusal)
	require.Contains(t, refusal, "rules")
	cl.do("POST", tPath+"create_security_group/", map[string]any{"name": "web", "rules": []any{map[string]any{"from_port": 22, "to_port": 22}}}, 400, nil)
	cl.do("POST", tPath+"create_security_group/", map[string]any{"name": "ssh", "rules": []any{}}, 400, &refusal)
	require.Equal(t, []any{"Security group name should be unique."}, refusal["name"], "the tenant's default ssh group")

	// Create: the answer is the group, scheduled; the cloud follows.
	var sg map[string]any
	cl.do("POST", tPath+"create_security_group/", map[string]any{"name": "app", "description": "http", "rules": []any{
		map[string]any{"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "0.0.0.0/0"},
		map[string]any{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr": "10.0.0.0/8", "direction": "ingress", "ethertype": "IPv4"},
	}}, 201, &sg)
	require.Equal(t, "app", sg["name"])
	require.Contains(t, []any{"CREATION_SCHEDULED", "CREATING", "OK"}, sg["state"])
	require.Equal(t, tenant["url"], sg["tenant"])
	uuid := sg["uuid"].(string)
	sgPath := "/api/openstack-security-groups/" + uuid + "/"
	sg = cl.settle("openstack-security-groups", uuid)
	backendID := sg["backend_id"].(string)
	require.NotEmpty(t, backendID)
	g, rules, ok := cloudGroup(backendID)
	require.True(t, ok)
	require.Equal(t, "app", g.Name)
	require.Equal(t, "http", g.Description)
	require.Len(t, rules, 2, "exactly the rules asked: %v", rules)
	require.Len(t, sg["rules"], 2)

	// Rename; a name another group has is refused.
	cl.do("PATCH", sgPath, map[string]any{"name": "ssh"}, 400, nil)
	var upd map[string]any
	cl.do("PUT", sgPath, map[string]any{"name": "app-2", "description": "https"}, 200, &upd)
	require.Equal(t, map[string]any{"name": "app-2", "description": "https"}, upd)
	cl.do("PATCH", sgPath, map[string]any{"name": "app-3"}, 409, &refusal)
	require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
	cl.settle("openstack-security-groups", uuid)
	g, _, _ = cloudGroup(backendID)
	require.Equal(t, "app-2", g.Name)
	require.Equal(t, "https", g.Description)

	// set_rules: the rules become exactly these.
	cl.do("POST", sgPath+"set_rules/", []any{map[string]any{"protocol": "tcp", "from_port": 90, "to_port": 80}}, 400, nil)
	var ans map[string]any
	cl.do("POST", sgPath+"set_rules/", []any{map[string]any{"protocol": "icmp", "cidr": "0.0.0.0/0"},
		map[string]any{"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "0.0.0.0/0"}}, 202, &ans)
	require.Equal(t, "Rules update was successfully scheduled.", ans["status"])
	sg = cl.settle("openstack-security-groups", uuid)
	_, rules, _ = cloudGroup(backendID)
	require.Len(t, rules, 2)
	protocols := []string{rules[0].Protocol, rules[1].Protocol}
	require.ElementsMatch(t, []string{"icmp", "tcp"}, protocols)
	require.Len(t, sg["rules"], 2)

	// Staff's set_erred and set_ok.
	cl.do("POST", sgPath+"set_erred/", nil, 200, nil)
	cl.do("GET", sgPath, nil, 200, &sg)
	require.Equal(t, "ERRED", sg["state"])
	cl.do("POST", sgPath+"set_ok/", nil, 200, nil)

	// A tenant pull keeps the group.
	cl.do("POST", tPath+"pull_security_groups/", nil, 202, nil)
	cl.settle("openstack-tenants", tenant["uuid"].(string))
	cl.do("GET", sgPath, nil, 200, &sg)
	require.Equal(t, backendID, sg["backend_id"])

	// Delete: scheduled, a second delete refused, then gone from both sides.
	cl.do("DELETE", sgPath, nil, 202, &ans)
	require.Equal(t, "destroy was scheduled", ans["status"])
	cl.do("DELETE", sgPath, nil, 409, nil)
	deadline := time.Now().Add(time.Minute)
	for {
		var o map[string]any
		var list []map[string]any
		cl.do("GET", "/api/openstack-security-groups/?tenant_uuid="+tenant["uuid"].(string), nil, 200, &list)
		found := false
		for _, x := range list {
			if x["uuid"] == uuid {
				found, o = true, x
			}
		}
		if !found {
			break
		}
		require.NotEqual(t, "ERRED", o["state"], "%v", o["error_message"])
		require.True(t, time.Now().Before(deadline), "still there: %v", o["state"])
		time.Sleep(50 * time.Millisecond)
	}
	cl.do("GET", sgPath, nil, 404, nil)
	_, _, ok = cloudGroup(backendID)
	require.False(t, ok, "deleted in the cloud")
}
