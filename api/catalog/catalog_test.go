package catalog_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

func TestOfferingLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		// Not a service provider yet: 400 on customer.
		w := e.do("POST", "/api/marketplace-provider-offerings/", "owner", e.offeringBody("Early"))
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), "customer")
		e.registerProvider()

		o := e.createOffering("HPC")
		require.Equal(t, "Draft", o["state"])
		require.Len(t, o["components"], 2)
		plans := o["plans"].([]any)
		require.Len(t, plans, 1)
		plan := plans[0].(map[string]any)
		require.Equal(t, "10.5000000", plan["unit_price"])
		comps := plan["components"].([]any)
		require.Equal(t, "0.1250000000", comps[0].(map[string]any)["price"])
		require.EqualValues(t, 100, comps[0].(map[string]any)["amount"])
		require.Equal(t, map[string]any{"cpu": 0.125, "ram": 2.0}, plan["prices"])
		require.Equal(t, map[string]any{"auto_approve_in_service_provider_projects": true}, o["plugin_options"])
		require.Equal(t, "s3cret", o["secret_options"].(map[string]any)["token"])
		path := "/api/marketplace-provider-offerings/" + o["uuid"].(string) + "/"

		// Who sees the provider offering, and its secrets.
		for user, want := range map[string]int{"staff": 200, "support": 200, "owner": 200, "manager": 200,
			"member": 404, "plain": 404, "other": 404, "anonymous": 401} {
			w := e.do("GET", path, user, nil)
			require.Equal(t, want, w.Code, user)
			if want == 200 {
				var got map[string]any
				e.ok(200, "GET", path, user, nil, &got)
				_, hasSecret := got["secret_options"]
				require.Equal(t, user != "support", hasSecret, user)
			}
		}

		// Draft is not public.
		pub := "/api/marketplace-public-offerings/" + o["uuid"].(string) + "/"
		require.Equal(t, 404, e.do("GET", pub, "plain", nil).Code)

		// State actions: permissions and 409s.
		require.Equal(t, 403, e.do("POST", path+"activate/", "support", nil).Code)
		require.Equal(t, 404, e.do("POST", path+"activate/", "plain", nil).Code)
		require.Equal(t, 409, e.do("POST", path+"unpause/", "owner", nil).Code)
		var ds map[string]any
		e.ok(200, "POST", path+"activate/", "owner", nil, &ds)
		require.Equal(t, "Active", ds["state"])
		w = e.do("POST", path+"activate/", "owner", nil)
		require.Equal(t, 409, w.Code)
		require.Contains(t, w.Body.String(), "Valid states for operation: Draft, Paused.")
		e.ok(200, "POST", path+"pause/", "manager", map[string]any{"paused_reason": "maintenance"}, &ds)
		require.Equal(t, "Paused", ds["state"])
		var got map[string]any
		e.ok(200, "GET", path, "owner", nil, &got)
		require.Equal(t, "maintenance", got["paused_reason"])
		e.ok(200, "POST", path+"unpause/", "manager", nil, &ds)

		// Public now: anyone authenticated, never secrets.
		for _, user := range []string{"plain", "member", "other", "support"} {
			got = nil
			e.ok(200, "GET", pub, user, nil, &got)
			_, hasSecret := got["secret_options"]
			require.False(t, hasSecret)
		}
		require.Equal(t, 401, e.do("GET", pub, "anonymous", nil).Code)
		var pplans []map[string]any
		e.ok(200, "GET", pub+"plans/", "plain", nil, &pplans)
		require.Len(t, pplans, 1)
		planURL := pplans[0]["url"].(string)
		require.True(t, strings.HasSuffix(planURL, pub+"plans/"+pplans[0]["uuid"].(string)+"/"), "a public offering's plan is under it: %s", planURL)
		var one map[string]any
		e.ok(200, "GET", pub+"plans/"+pplans[0]["uuid"].(string)+"/", "plain", nil, &one)
		require.Equal(t, planURL, one["url"])
		// Each serializer its own view: the public offering's url is its
		// public one, its plans' urls the nested ones; the provider
		// offering keeps its own.
		got = nil
		e.ok(200, "GET", pub, "plain", nil, &got)
		require.True(t, strings.HasSuffix(got["url"].(string), pub), "%v", got["url"])
		require.Equal(t, planURL, got["plans"].([]any)[0].(map[string]any)["url"])
		got = nil
		e.ok(200, "GET", path, "owner", nil, &got)
		require.True(t, strings.HasSuffix(got["url"].(string), path), "%v", got["url"])
		var list []map[string]any
		e.ok(200, "GET", "/api/marketplace-public-offerings/?state=Active&type=Marketplace.Slurm", "plain", nil, &list)
		require.Len(t, list, 1)
		e.ok(200, "GET", "/api/marketplace-provider-offerings/?state=Draft", "owner", nil, &list)
		require.Len(t, list, 0)
		e.ok(200, "GET", "/api/marketplace-provider-offerings/?keyword=provider", "owner", nil, &list)
		require.Len(t, list, 1)
		e.ok(200, "GET", "/api/marketplace-provider-offerings/", "plain", nil, &list)
		require.Len(t, list, 0)

		// Categories count Active offerings.
		var cats []map[string]any
		e.ok(200, "GET", "/api/marketplace-categories/?title=hp", "plain", nil, &cats)
		require.Len(t, cats, 1)
		require.EqualValues(t, 1, cats[0]["offering_count"])

		// Update actions.
		require.Equal(t, 404, e.do("POST", path+"update_integration/", "other", nil).Code)
		require.Equal(t, 403, e.do("POST", path+"update_integration/", "support", nil).Code)
		e.ok(200, "POST", path+"update_integration/", "manager", map[string]any{"secret_options": map[string]any{"token": "new"}}, nil)
		// The overview of an Active offering is staff's (Waldur's can_update_offering).
		require.Equal(t, 403, e.do("POST", path+"update_overview/", "owner", map[string]any{"name": "HPC 2", "description": "d"}).Code)
		e.ok(200, "POST", path+"update_overview/", "staff", map[string]any{"name": "HPC 2", "description": "d"}, nil)
		e.ok(200, "POST", path+"update_options/", "owner", map[string]any{"options": map[string]any{"order": []string{}, "options": map[string]any{}}}, nil)
		require.Equal(t, 400, e.do("POST", path+"update_options/", "owner", map[string]any{"options": 5}).Code)
		e.ok(200, "POST", path+"update_attributes/", "owner", map[string]any{"k": "v"}, nil)
		got = nil
		e.ok(200, "GET", path, "owner", nil, &got)
		require.Equal(t, "HPC 2", got["name"])
		require.Equal(t, "new", got["secret_options"].(map[string]any)["token"])
		require.Equal(t, map[string]any{"k": "v"}, got["attributes"])

		// Components.
		var comp map[string]any
		e.ok(201, "POST", path+"create_offering_component/", "owner", map[string]any{"type": "gpu", "name": "GPU", "billing_type": "fixed"}, &comp)
		require.Equal(t, 400, e.do("POST", path+"create_offering_component/", "owner", map[string]any{"type": "gpu", "name": "GPU", "billing_type": "fixed"}).Code)
		require.Equal(t, 400, e.do("POST", path+"create_offering_component/", "owner", map[string]any{"type": "x", "name": "X", "billing_type": "monthly"}).Code)
		require.Equal(t, 403, e.do("POST", path+"create_offering_component/", "support", map[string]any{"type": "y", "name": "Y", "billing_type": "fixed"}).Code)
		e.ok(200, "POST", path+"update_offering_component/", "manager", map[string]any{"uuid": comp["uuid"], "type": "gpu", "name": "GPU h", "billing_type": "usage"}, nil)
		e.ok(200, "POST", path+"remove_offering_component/", "owner", map[string]any{"uuid": comp["uuid"]}, nil)
		e.ok(200, "GET", path, "owner", nil, &got)
		require.Len(t, got["components"], 2)

		// Plans.
		planPath := "/api/marketplace-plans/" + plan["uuid"].(string) + "/"
		e.ok(200, "GET", planPath, "plain", nil, nil)
		e.ok(200, "POST", planPath+"update_prices/", "owner", map[string]any{"prices": map[string]any{"cpu": "1.5"}}, nil)
		require.Equal(t, 400, e.do("POST", planPath+"update_prices/", "owner", map[string]any{"prices": map[string]any{"nope": "1"}}).Code)
		require.Equal(t, 403, e.do("POST", planPath+"update_prices/", "plain", map[string]any{"prices": map[string]any{"cpu": "1"}}).Code)
		// Plans are the provider customer's (OFFERING.UPDATE_PLAN on offering.customer): not the offering manager's.
		require.Equal(t, 403, e.do("POST", planPath+"update_quotas/", "manager", map[string]any{"quotas": map[string]any{"cpu": 7}}).Code)
		e.ok(200, "POST", planPath+"update_quotas/", "owner", map[string]any{"quotas": map[string]any{"cpu": 7}}, nil)
		var p map[string]any
		e.ok(200, "PATCH", planPath, "owner", map[string]any{"unit_price": "3.25"}, &p)
		require.Equal(t, "3.2500000", p["unit_price"])
		require.Equal(t, 1.5, p["prices"].(map[string]any)["cpu"])
		require.Equal(t, 7.0, p["quotas"].(map[string]any)["cpu"])
		var np map[string]any
		e.ok(201, "POST", "/api/marketplace-plans/", "owner", map[string]any{"name": "Big", "offering": path,
			"unit": "day", "unit_price": "1", "prices": map[string]any{"ram": "0.5"}}, &np)
		require.Equal(t, 400, e.do("POST", "/api/marketplace-plans/", "owner", map[string]any{"name": "Bad", "offering": o["uuid"], "unit": "week"}).Code)
		require.Equal(t, 400, e.do("POST", "/api/marketplace-plans/", "plain", map[string]any{"name": "Bad", "offering": o["uuid"]}).Code)
		e.ok(200, "POST", "/api/marketplace-plans/"+np["uuid"].(string)+"/archive/", "owner", nil, nil)
		require.Equal(t, 409, e.do("POST", "/api/marketplace-plans/"+np["uuid"].(string)+"/archive/", "owner", nil).Code)
		e.ok(200, "GET", "/api/marketplace-plans/?offering_uuid="+o["uuid"].(string), "owner", nil, &list)
		require.Len(t, list, 2)

		// Events reached the provider's feed.
		var types []string
		require.NoError(t, db.Table("events").Joins("JOIN event_feeds f ON f.event_id = events.id").
			Where("f.scope_type = ? AND f.scope_id = ?", "customer", e.provider.ID).Pluck("event_type", &types).Error)
		for _, want := range []string{"marketplace_offering_created", "marketplace_offering_updated", "marketplace_plan_created",
			"marketplace_plan_updated", "marketplace_plan_archived", "marketplace_offering_component_created",
			"marketplace_offering_component_updated", "marketplace_offering_component_deleted"} {
			require.Contains(t, types, want)
		}

		// Archive, then delete: non-staff only a Draft without resources.
		e.ok(200, "POST", path+"archive/", "owner", nil, nil)
		require.Equal(t, 409, e.do("DELETE", path, "owner", nil).Code)
		e.ok(200, "POST", path+"draft/", "owner", nil, nil)
		require.Equal(t, 403, e.do("DELETE", path, "support", nil).Code)
		require.Equal(t, 204, e.do("DELETE", path, "owner", nil).Code)
		require.Equal(t, 404, e.do("GET", path, "owner", nil).Code)
		_ = context.Background()
		// name_exact: exact (a client resolving a name to a URL needs one match).
		exact := e.createOffering("Exact")
		e.createOffering("Exact plus")
		var named []map[string]any
		e.ok(200, "GET", "/api/marketplace-provider-offerings/?name=Exact", "owner", nil, &named)
		require.Len(t, named, 2, "name is contains")
		e.ok(200, "GET", "/api/marketplace-provider-offerings/?name_exact=Exact", "owner", nil, &named)
		require.Len(t, named, 1)
		require.Equal(t, exact["uuid"], named[0]["uuid"])
		e.ok(200, "GET", "/api/marketplace-provider-offerings/?name_exact=exact", "owner", nil, &named)
		require.Empty(t, named, "exact, case included")
	})
}

func TestCreateValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		e.registerProvider()
		mut := func(f func(b map[string]any)) map[string]any { b := e.offeringBody("V"); f(b); return b }
		cases := map[string]struct {
			body  any
			field string
		}{
			"no name":          {mut(func(b map[string]any) { delete(b, "name") }), "name"},
			"bad billing type": {mut(func(b map[string]any) { b["components"].([]map[string]any)[0]["billing_type"] = "monthly" }), "components"},
			"dup type":         {mut(func(b map[string]any) { b["components"].([]map[string]any)[1]["type"] = "cpu" }), "components"},
			"bad unit":         {mut(func(b map[string]any) { b["plans"].([]map[string]any)[0]["unit"] = "week" }), "plans"},
			"bad price":        {mut(func(b map[string]any) { b["plans"].([]map[string]any)[0]["unit_price"] = "x" }), "plans"},
			"unknown price":    {mut(func(b map[string]any) { b["plans"].([]map[string]any)[0]["prices"] = map[string]any{"gpu": 1} }), "plans"},
			"bad category":     {mut(func(b map[string]any) { b["category"] = "nope" }), "category"},
			"bad options":      {mut(func(b map[string]any) { b["options"] = []int{1} }), "options"},
			"not an object":    {"[1]", ""},
			"bad json":         {"{", ""},
		}
		for name, tc := range cases {
			w := e.do("POST", "/api/marketplace-provider-offerings/", "owner", tc.body)
			require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", name, w.Body.String())
			require.Contains(t, w.Body.String(), tc.field, name)
		}
		// Permissions of create.
		for user, want := range map[string]int{"plain": 403, "member": 403, "support": 403, "other": 403, "manager": 403, "staff": 201, "owner": 201, "anonymous": 401} {
			require.Equal(t, want, e.do("POST", "/api/marketplace-provider-offerings/", user, e.offeringBody("P "+user)).Code, user)
		}
	})
}

func TestProvidersAndCategories(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		body := map[string]any{"customer": e.provider.UUID.String()}
		for _, user := range []string{"plain", "member", "support"} {
			w := e.do("POST", "/api/marketplace-service-providers/", user, body)
			require.Contains(t, []int{400, 403}, w.Code, user)
		}
		require.Equal(t, 401, e.do("GET", "/api/marketplace-service-providers/", "anonymous", nil).Code)
		// Registering is staff's (SERVICE_PROVIDER.REGISTER is no default role's), the owner's too.
		require.Equal(t, 403, e.do("POST", "/api/marketplace-service-providers/", "owner", body).Code)
		sp := e.registerProvider()
		require.Equal(t, "PO", sp["customer_abbreviation"])
		require.Equal(t, 400, e.do("POST", "/api/marketplace-service-providers/", "staff", body).Code)
		path := "/api/marketplace-service-providers/" + sp["uuid"].(string) + "/"
		var list []map[string]any
		e.ok(200, "GET", "/api/marketplace-service-providers/", "plain", nil, &list)
		require.Len(t, list, 1)
		e.ok(200, "GET", path, "plain", nil, nil)
		require.Equal(t, 403, e.do("PATCH", path, "other", map[string]any{"description": "x"}).Code)
		var got map[string]any
		e.ok(200, "PATCH", path, "owner", map[string]any{"description": "new"}, &got)
		require.Equal(t, "new", got["description"])
		// Waldur's is_owner: the owner deletes a provider without active offerings; others may not.
		require.Equal(t, 403, e.do("DELETE", path, "other", nil).Code)
		require.Equal(t, 204, e.do("DELETE", path, "owner", nil).Code)

		// Category groups and categories: read for users, write for staff.
		var g map[string]any
		e.ok(201, "POST", "/api/marketplace-category-groups/", "staff", map[string]any{"title": "Compute"}, &g)
		for _, user := range []string{"owner", "support", "plain"} {
			require.Equal(t, 403, e.do("POST", "/api/marketplace-category-groups/", user, map[string]any{"title": "x"}).Code)
			require.Equal(t, 403, e.do("POST", "/api/marketplace-categories/", user, map[string]any{"title": "x"}).Code)
		}
		require.Equal(t, 401, e.do("GET", "/api/marketplace-categories/", "anonymous", nil).Code)
		var cat map[string]any
		e.ok(201, "POST", "/api/marketplace-categories/", "staff", map[string]any{"title": "VMs", "group": g["url"]}, &cat)
		require.Equal(t, g["url"], cat["group"])
		e.ok(200, "GET", "/api/marketplace-categories/?group_uuid="+g["uuid"].(string), "plain", nil, &list)
		require.Len(t, list, 1)
		e.ok(200, "GET", "/api/marketplace-category-groups/"+g["uuid"].(string)+"/", "plain", nil, nil)
		e.ok(200, "PATCH", "/api/marketplace-categories/"+cat["uuid"].(string)+"/", "staff", map[string]any{"title": "VM"}, &cat)
		require.Equal(t, "VM", cat["title"])
		require.Equal(t, 204, e.do("DELETE", "/api/marketplace-categories/"+cat["uuid"].(string)+"/", "staff", nil).Code)
		require.Equal(t, 204, e.do("DELETE", "/api/marketplace-category-groups/"+g["uuid"].(string)+"/", "staff", nil).Code)
	})
}
