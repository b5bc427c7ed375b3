package openstack_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	novaquotas "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// quotaOf is a tenant's quota limit as the API shows it.
func quotaOf(t testing.TB, tenant map[string]any, name string) float64 {
	t.Helper()
	for _, q := range tenant["quotas"].([]any) {
		if m := q.(map[string]any); m["name"] == name {
			return m["limit"].(float64)
		}
	}
	t.Fatalf("tenant has no quota %s: %v", name, tenant["quotas"])
	return 0
}

// TestTenantActions: through the API, on a real Temporal server and the
// emulator: a tenant's quotas set (pushed to the cloud, read back, the
// marketplace resource's billed limits changed and the invoice billing the
// new quantity), its user's password changed in Keystone, its servers and
// volumes Waldur does not manage listed, and pulls of the tenant (a change
// made behind Waldur's back is found), its quotas, an instance and a
// volume; refusals of bad input (400) and of a busy object (409).
func TestTenantActions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	ctx := context.Background()
	torder, tenant := cl.tenant("quotas")
	tid := tenant["uuid"].(string)
	tPath := "/api/openstack-tenants/" + tid + "/"
	mrPath := "/api/marketplace-resources/" + torder["marketplace_resource_uuid"].(string) + "/"

	// set_quotas: bad values are refused and change nothing.
	var refusal map[string]any
	cl.do("POST", tPath+"set_quotas/", map[string]any{"vcpu": 0}, 400, &refusal)
	require.Contains(t, refusal, "vcpu")
	cl.do("POST", tPath+"set_quotas/", map[string]any{"ram": "lots"}, 400, nil)

	var ans map[string]any
	cl.do("POST", tPath+"set_quotas/", map[string]any{"vcpu": 30, "ram": 60 * 1024, "storage": 300 * 1024, "instances": 15,
		"snapshots": 25, "security_group_count": 50, "security_group_rule_count": 200}, 202, &ans)
	require.Equal(t, "Quota update has been scheduled", ans["detail"])
	cl.do("POST", tPath+"set_quotas/", map[string]any{"vcpu": 31}, 409, &refusal)
	require.Equal(t, "Valid states for operation: OK.", refusal["detail"])
	tenant = cl.settle("openstack-tenants", tid)
	require.EqualValues(t, 30, quotaOf(t, tenant, "cores"), "read back from Nova")
	require.EqualValues(t, 60*1024, quotaOf(t, tenant, "ram"))
	require.EqualValues(t, 300*1024, quotaOf(t, tenant, "storage"), "read back from Cinder")
	require.EqualValues(t, 15, quotaOf(t, tenant, "instances"))
	require.EqualValues(t, 50, quotaOf(t, tenant, "security_group_count"))

	// The billed limits follow, and billing sees them from today.
	var mr map[string]any
	cl.do("GET", mrPath, nil, 200, &mr)
	limits := mr["limits"].(map[string]any)
	require.EqualValues(t, 30, limits["cores"])
	require.EqualValues(t, 60*1024, limits["ram"])
	require.EqualValues(t, 300*1024, limits["storage"])
	require.EqualValues(t, 15, limits["instances"])
	var events []map[string]any
	cl.do("GET", "/api/events/?event_type=marketplace_resource_update_limits_succeeded", nil, 200, &events)
	require.Len(t, events, 1)
	cl.do("GET", "/api/events/?event_type=openstack_tenant_quota_limit_updated", nil, 200, &events)
	require.Len(t, events, 1)
	st := store.New(cl.db)
	_, err := st.RegisterDirtyResources(ctx, billing.MonthOf(time.Now().UTC()), 100)
	require.NoError(t, err)
	var items []map[string]any
	cl.do("GET", "/api/invoice-items/?resource_uuid="+torder["marketplace_resource_uuid"].(string), nil, 200, &items)
	quantities := map[string][]float64{}
	for _, it := range items {
		if ct, ok := it["offering_component_type"].(string); ok {
			n, err := strconv.ParseFloat(it["quantity"].(string), 64)
			require.NoError(t, err)
			quantities[ct] = append(quantities[ct], n)
		}
	}
	require.Contains(t, quantities["cores"], 30.0, "the new limit is billed: %v", quantities)
	require.Contains(t, quantities["ram"], 61440.0, "items: %v", quantities)
	require.NotContains(t, quantities["cores"], 20.0, "changed the day the tenant was made: the new limit only: %v", quantities)

	// change_password: Keystone takes the new one.
	cl.do("POST", tPath+"change_password/", map[string]any{}, 400, nil)
	cl.do("POST", tPath+"change_password/", map[string]any{"user_password": ""}, 400, nil)
	cl.do("POST", tPath+"change_password/", map[string]any{"user_password": "n3w-Secret-pass"}, 202, &ans)
	require.Equal(t, "Password update has been scheduled.", ans["status"])
	cl.settle("openstack-tenants", tid)
	_, err = gcos.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: cl.emu.IdentityURL(), Username: tenant["user_username"].(string),
		Password: "n3w-Secret-pass", DomainName: "Default", TenantID: tenant["backend_id"].(string)})
	require.NoError(t, err, "the tenant user signs in with the new password")
	cl.do("POST", tPath+"change_password/", map[string]any{"user_password": "n3w-Secret-pass"}, 400, &refusal)
	require.Equal(t, []any{"New password cannot match the old password."}, refusal["user_password"])

	// pull_quotas finds a quota changed behind Waldur's back.
	out := outsideOf(t, cl.emu, tenant["backend_id"].(string))
	require.NoError(t, novaquotas.Update(ctx, out.compute, tenant["backend_id"].(string), novaquotas.UpdateOpts{Cores: ptrTo(40)}).Err)
	waitPull := func(k openstack.Kind, id string) {
		t.Helper()
		run := cl.tc.GetWorkflow(ctx, openstack.ActionWorkflowID(k, models.MustParseUUID(id), "pull"), "")
		var rep openstack.PullReport
		require.NoError(t, run.Get(ctx, &rep))
	}
	cl.do("POST", tPath+"pull_quotas/", nil, 202, &ans)
	require.Equal(t, "Quotas pull has been scheduled.", ans["status"])
	waitPull(openstack.KindTenant, tid)
	cl.do("GET", tPath, nil, 200, &tenant)
	require.EqualValues(t, 40, quotaOf(t, tenant, "cores"))
	cl.do("POST", tPath+"pull_security_groups/", nil, 202, &ans)
	require.Equal(t, "Security groups pull has been scheduled.", ans["status"])
	waitPull(openstack.KindTenant, tid)
	cl.do("POST", tPath+"pull_floating_ips/", nil, 202, nil)
	waitPull(openstack.KindTenant, tid)

	// A server and a volume made outside Waldur: listed by backend_instances
	// and backend_volumes; what Waldur made is not.
	q := "?tenant_uuid=" + tid
	flavor := cl.first("/api/openstack-flavors/" + q + "&name_exact=m1.small")
	image := cl.first("/api/openstack-images/" + q)
	network := cl.first("/api/openstack-networks/" + q)
	iorder := cl.order(cl.vmOffering, cl.instanceAttrs(tenant, "vm-1"), nil)
	vorder := cl.order(cl.volumeOffering, map[string]any{"name": "scratch", "tenant": tenant["url"], "size": 1024}, nil)
	foreign := out.server("outsider", flavor["backend_id"].(string), image["backend_id"].(string), network["backend_id"].(string))
	foreignVol := out.volume("outsider-data", 1)
	var backendServers, backendVolumes []map[string]any
	cl.do("GET", tPath+"backend_instances/", nil, 200, &backendServers)
	require.Len(t, backendServers, 1, "%v", backendServers)
	require.Equal(t, foreign, backendServers[0]["backend_id"])
	require.Equal(t, "outsider", backendServers[0]["name"])
	require.Equal(t, "ACTIVE", backendServers[0]["runtime_state"])
	cl.do("GET", tPath+"backend_volumes/", nil, 200, &backendVolumes)
	require.Len(t, backendVolumes, 1, "%v", backendVolumes)
	require.Equal(t, foreignVol, backendVolumes[0]["backend_id"])
	require.EqualValues(t, 1024, backendVolumes[0]["size"])

	// The tenant's pull: a second one while it runs is refused.
	cl.do("POST", tPath+"pull/", nil, 202, &ans)
	require.Equal(t, "Pull operation was successfully scheduled.", ans["detail"])
	cl.do("POST", tPath+"pull/", nil, 409, &refusal)
	require.Equal(t, "Pull operation is already in progress.", refusal["detail"])
	waitPull(openstack.KindTenant, tid)

	// An instance's and a volume's pulls.
	vmPath := "/api/openstack-instances/" + iorder["resource_uuid"].(string) + "/"
	volPath := "/api/openstack-volumes/" + vorder["resource_uuid"].(string) + "/"
	cl.do("POST", vmPath+"pull/", nil, 202, nil)
	waitPull(openstack.KindInstance, iorder["resource_uuid"].(string))
	cl.do("POST", volPath+"pull/", nil, 202, nil)
	waitPull(openstack.KindVolume, vorder["resource_uuid"].(string))
	var vm map[string]any
	cl.do("GET", vmPath, nil, 200, &vm)
	require.Equal(t, "OK", vm["state"])
	require.Equal(t, "ACTIVE", vm["runtime_state"])

	// A busy tenant is not pulled.
	cl.do("POST", tPath+"set_erred/", nil, 200, nil)
	cl.do("POST", tPath+"pull_quotas/", nil, 409, nil)
	cl.do("POST", tPath+"set_quotas/", map[string]any{"vcpu": 10}, 409, nil)
	cl.do("POST", tPath+"set_ok/", nil, 200, nil)
}

func ptrTo[T any](v T) *T { return &v }
