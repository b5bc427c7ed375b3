package openstack_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// billComponents gives an offering (by URL) limit components of period
// month, priced in its plan.
func (cl *cloud) billComponents(offeringURL string, prices map[string]string) {
	cl.t.Helper()
	var of, plan map[string]any
	cl.do("GET", path(offeringURL), nil, 200, &of)
	cl.do("GET", path(cl.plans[offeringURL]), nil, 200, &plan)
	idOf := func(table, uuid string) int64 {
		var ids []int64
		require.NoError(cl.t, cl.db.Table(table).Where("uuid = ?", uuid).Pluck("id", &ids).Error)
		require.Len(cl.t, ids, 1)
		return ids[0]
	}
	offeringID, planID := idOf("offerings", of["uuid"].(string)), idOf("plans", plan["uuid"].(string))
	for typ, price := range prices {
		cu := models.NewUUID()
		require.NoError(cl.t, cl.db.Table("offering_components").Create(map[string]any{"uuid": cu, "offering_id": offeringID,
			"type": typ, "name": typ, "billing_type": "limit", "limit_period": "month"}).Error)
		require.NoError(cl.t, cl.db.Table("plan_components").Create(map[string]any{"plan_id": planID,
			"component_id": idOf("offering_components", cu.String()), "price": price}).Error)
	}
}

// quantities are the quantities billed this month for a marketplace
// resource, by component type, one per span of constant limit (an item's
// resource_limit_periods, in order; the item's quantity when it has none),
// after the billing outbox is drained.
func (cl *cloud) quantities(resourceUUID string) map[string][]float64 {
	cl.t.Helper()
	_, err := store.New(cl.db).RegisterDirtyResources(context.Background(), billing.MonthOf(time.Now().UTC()), 100)
	require.NoError(cl.t, err)
	var items []map[string]any
	cl.do("GET", "/api/invoice-items/?resource_uuid="+resourceUUID, nil, 200, &items)
	out := map[string][]float64{}
	for _, it := range items {
		ct, ok := it["offering_component_type"].(string)
		if !ok {
			continue
		}
		details, _ := it["details"].(map[string]any)
		if periods, ok := details["resource_limit_periods"].([]any); ok && len(periods) > 0 {
			for _, p := range periods {
				out[ct] = append(out[ct], p.(map[string]any)["quantity"].(float64))
			}
			continue
		}
		n, err := strconv.ParseFloat(it["quantity"].(string), 64)
		require.NoError(cl.t, err)
		out[ct] = append(out[ct], n)
	}
	return out
}

// backdate moves a resource's Create order's completion to the start of
// this month, so that a change made now is billed after the first
// quantity (a change the day of the creation bills the new one only).
func (cl *cloud) backdate(resourceUUID string) {
	cl.t.Helper()
	ms := billing.MonthOf(time.Now().UTC()).Start().Add(time.Minute)
	require.NoError(cl.t, cl.db.Exec("UPDATE orders SET completed_at = ? WHERE type = ? AND resource_id = (SELECT id FROM resources WHERE uuid = ?)",
		ms, models.OrderCreate, resourceUUID).Error)
}

// TestBilledChangesAndTenantQuotas: on both databases, through the API on
// a real Temporal server and the emulator, an instance and a volume whose
// offerings bill cores, ram and storage as limits: the instance resized
// and the volume extended, their marketplace resources carry the new
// quantities and the invoice bills the old quantity up to the change and
// the new one after; then an instance that does not fit in the tenant's
// quotas is refused (400 naming the quota, nothing created) and the order
// preview says why, while one that fits is accepted and done.
func TestBilledChangesAndTenantQuotas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			cl := newCloudOn(t, kind, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 50 * time.Millisecond,
				VolumeDelay: 20 * time.Millisecond, DeleteDelay: 20 * time.Millisecond, ActionDelay: 20 * time.Millisecond})
			cl.billComponents(cl.vmOffering, map[string]string{"cores": "3", "ram": "0.001"})
			cl.billComponents(cl.volumeOffering, map[string]string{"storage": "0.01"})
			_, tenant := cl.tenant("billed")
			tPath := "/api/openstack-tenants/" + tenant["uuid"].(string) + "/"
			splits := time.Now().UTC().Day() > 1 // on the 1st the old quantity has no day of its own

			// The instance: m1.small (1 core, 2048 MiB), resized to m1.medium (2 cores, 4096 MiB).
			iorder := cl.order(cl.vmOffering, cl.instanceAttrs(tenant, "vm-1"), map[string]any{"cores": 1, "ram": 2048})
			vmRes := iorder["marketplace_resource_uuid"].(string)
			vmPath := "/api/openstack-instances/" + iorder["resource_uuid"].(string) + "/"
			cl.backdate(vmRes)
			q := cl.quantities(vmRes)
			require.Equal(t, []float64{1}, q["cores"], "before the resize: %v", q)
			medium := cl.first("/api/openstack-flavors/?tenant_uuid=" + tenant["uuid"].(string) + "&name_exact=m1.medium")
			cl.do("POST", vmPath+"stop/", nil, 202, nil)
			cl.settle("openstack-instances", iorder["resource_uuid"].(string))
			cl.do("POST", vmPath+"change_flavor/", map[string]any{"flavor": medium["url"]}, 202, nil)
			vm := cl.settle("openstack-instances", iorder["resource_uuid"].(string))
			require.Equal(t, "m1.medium", vm["flavor_name"])
			var mr map[string]any
			cl.do("GET", "/api/marketplace-resources/"+vmRes+"/", nil, 200, &mr)
			require.Equal(t, map[string]any{"cores": 2.0, "ram": 4096.0}, mr["limits"], "the billed components only")
			q = cl.quantities(vmRes)
			require.Contains(t, q["cores"], 2.0, "the new flavor is billed: %v", q)
			require.Contains(t, q["ram"], 4096.0, "%v", q)
			if splits {
				require.Equal(t, []float64{1, 2}, q["cores"], "the old flavor up to the change, the new one after: %v", q)
				require.Equal(t, []float64{2048, 4096}, q["ram"], "%v", q)
			}
			var orders []map[string]any
			cl.do("GET", "/api/marketplace-orders/?resource_uuid="+vmRes+"&type=Update", nil, 200, &orders)
			require.Len(t, orders, 1, "one limits-only Update order")
			require.Equal(t, "done", orders[0]["state"])

			// The volume: 2048 MiB extended to 4096.
			vorder := cl.order(cl.volumeOffering, map[string]any{"name": "scratch", "tenant": tenant["url"], "size": 2048},
				map[string]any{"storage": 2048})
			volRes := vorder["marketplace_resource_uuid"].(string)
			cl.backdate(volRes)
			cl.do("POST", "/api/openstack-volumes/"+vorder["resource_uuid"].(string)+"/extend/", map[string]any{"disk_size": 4096}, 202, nil)
			vol := cl.settle("openstack-volumes", vorder["resource_uuid"].(string))
			require.EqualValues(t, 4096, vol["size"])
			cl.do("GET", "/api/marketplace-resources/"+volRes+"/", nil, 200, &mr)
			require.Equal(t, map[string]any{"storage": 4096.0}, mr["limits"])
			q = cl.quantities(volRes)
			require.Contains(t, q["storage"], 4096.0, "%v", q)
			if splits {
				require.Equal(t, []float64{2048, 4096}, q["storage"], "%v", q)
			}

			// The tenant's cores quota down to 3 (2 in use): another m1.medium does not fit.
			cl.do("POST", tPath+"set_quotas/", map[string]any{"vcpu": 3}, 202, nil)
			tenant = cl.settle("openstack-tenants", tenant["uuid"].(string))
			count := func(table string) int64 {
				var n int64
				require.NoError(t, cl.db.Table(table).Count(&n).Error)
				return n
			}
			ordersBefore, resourcesBefore, instancesBefore := count("orders"), count("resources"), count("openstack_instances")
			big := cl.instanceAttrs(tenant, "vm-big")
			big["flavor"] = medium["url"]
			body := map[string]any{"offering": cl.vmOffering, "project": cl.project, "attributes": big, "plan": cl.plans[cl.vmOffering],
				"limits": map[string]any{"cores": 2, "ram": 4096}}
			want := "One or more quotas would be exceeded: cores (limit 3, usage 2, requested 2)."
			var refusal map[string]any
			cl.do("POST", "/api/marketplace-orders/", body, 400, &refusal)
			require.Equal(t, []any{want}, refusal["non_field_errors"], "Waldur's validation error: %v", refusal)
			require.Equal(t, ordersBefore, count("orders"), "no order")
			require.Equal(t, resourcesBefore, count("resources"), "no resource")
			require.Equal(t, instancesBefore, count("openstack_instances"), "no instance")
			var preview map[string]any
			cl.do("POST", "/api/marketplace-orders/preview/", body, 200, &preview)
			require.Equal(t, false, preview["accepted"])
			ref := preview["refusal"].(map[string]any)
			require.EqualValues(t, 400, ref["status"])
			require.Equal(t, want, ref["detail"])
			require.Equal(t, ordersBefore, count("orders"), "the preview creates nothing")

			// A volume larger than the storage left is refused too.
			storage := int64(quotaOf(t, tenant, "storage"))
			vbody := map[string]any{"offering": cl.volumeOffering, "project": cl.project, "plan": cl.plans[cl.volumeOffering],
				"attributes": map[string]any{"name": "huge", "tenant": tenant["url"], "size": storage}}
			cl.do("POST", "/api/marketplace-orders/", vbody, 400, &refusal)
			require.Contains(t, fmt.Sprint(refusal["non_field_errors"]), fmt.Sprintf("storage (limit %d, usage ", storage), "%v", refusal)

			// m1.small (1 core) fits: accepted and done.
			cl.do("POST", "/api/marketplace-orders/preview/", map[string]any{"offering": cl.vmOffering, "project": cl.project,
				"attributes": cl.instanceAttrs(tenant, "vm-2"), "plan": cl.plans[cl.vmOffering]}, 200, &preview)
			require.Equal(t, true, preview["accepted"], "%v", preview)
			cl.order(cl.vmOffering, cl.instanceAttrs(tenant, "vm-2"), map[string]any{"cores": 1, "ram": 2048})
		})
	}
}
