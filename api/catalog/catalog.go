// Package catalog serves Waldur's marketplace catalog in its wire format:
// service providers (/api/marketplace-service-providers/), category groups
// and categories, provider offerings with their components, plans, SLURM
// partitions and state actions (/api/marketplace-provider-offerings/), the
// public catalog (/api/marketplace-public-offerings/) and plans
// (/api/marketplace-plans/).
//
// Every route needs an authenticated user (the OpenAPI security of these
// operations has no anonymous alternative). Provider offerings are visible
// to staff and support, to holders of a role in force on the offering's
// customer and to the offering's own role holders (OFFERING.MANAGER); the
// public catalog shows Active and Paused offerings that are shared, or that
// belong to a customer the caller is connected to. Changes are checked with
// the OFFERING.* permission the OpenAPI x-permissions name, on the offering
// and then its customer; objects the caller cannot see are 404.
package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the catalog endpoints need.
type Deps struct {
	Store *store.Store
	RBAC  *rbac.Checker
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
}

// Module registers the catalog routes (an api.Module).
type Module struct {
	st   *store.Store
	rbac *rbac.Checker
	now  func() time.Time
}

var _ api.Module = (*Module)(nil)

// New returns the catalog module.
func New(d Deps) *Module {
	m := &Module{st: d.Store, rbac: d.RBAC, now: d.Now}
	if m.now == nil {
		m.now = func() time.Time { return time.Now().UTC() }
	}
	return m
}

// Collections of the catalog's URLs.
const (
	colProviders = "marketplace-service-providers"
	colGroups    = "marketplace-category-groups"
	colCats      = "marketplace-categories"
	colOfferings = "marketplace-provider-offerings"
	colPublic    = "marketplace-public-offerings"
	colPlans     = "marketplace-plans"
)

// Routes implements api.Module.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}

	sp := a.Group("/"+colProviders, api.RequireUser)
	sp.Match(get, "/", api.H(m.listProviders))
	sp.POST("/", api.H(m.createProvider))
	sp.Match(get, "/:uuid/", api.H(m.getProvider))
	sp.PUT("/:uuid/", api.H(m.updateProvider))
	sp.PATCH("/:uuid/", api.H(m.updateProvider))
	sp.DELETE("/:uuid/", api.H(m.deleteProvider))
	sp.Match(get, "/:uuid/keys/", api.H(m.providerKeys))

	cg := a.Group("/"+colGroups, api.RequireUser)
	cg.Match(get, "/", api.H(m.listGroups))
	cg.POST("/", api.RequireStaff, api.H(m.createGroup))
	cg.Match(get, "/:uuid/", api.H(m.getGroup))
	cg.PUT("/:uuid/", api.RequireStaff, api.H(m.updateGroup))
	cg.PATCH("/:uuid/", api.RequireStaff, api.H(m.updateGroup))
	cg.DELETE("/:uuid/", api.RequireStaff, api.H(m.deleteGroup))

	ca := a.Group("/"+colCats, api.RequireUser)
	ca.Match(get, "/", api.H(m.listCategories))
	ca.POST("/", api.RequireStaff, api.H(m.createCategory))
	ca.Match(get, "/:uuid/", api.H(m.getCategory))
	ca.PUT("/:uuid/", api.RequireStaff, api.H(m.updateCategory))
	ca.PATCH("/:uuid/", api.RequireStaff, api.H(m.updateCategory))
	ca.DELETE("/:uuid/", api.RequireStaff, api.H(m.deleteCategory))

	of := a.Group("/"+colOfferings, api.RequireUser)
	of.Match(get, "/", api.H(m.listOfferings))
	of.POST("/", api.H(m.createOffering))
	of.Match(get, "/:uuid/", api.H(m.getOffering))
	of.DELETE("/:uuid/", api.H(m.deleteOffering))
	for _, action := range []string{"activate", "pause", "unpause", "archive", "draft"} {
		of.POST("/:uuid/"+action+"/", api.H(m.stateAction(action)))
	}
	of.POST("/:uuid/update_description/", api.H(m.updateDescription))
	of.POST("/:uuid/update_overview/", api.H(m.updateOverview))
	of.POST("/:uuid/update_options/", api.H(m.updateOptions("options")))
	of.POST("/:uuid/update_resource_options/", api.H(m.updateOptions("resource_options")))
	of.POST("/:uuid/update_integration/", api.H(m.updateIntegration))
	of.POST("/:uuid/update_attributes/", api.H(m.updateAttributes))
	of.POST("/:uuid/create_offering_component/", api.H(m.createComponent))
	of.POST("/:uuid/update_offering_component/", api.H(m.updateComponent))
	of.POST("/:uuid/remove_offering_component/", api.H(m.removeComponent))
	of.POST("/:uuid/add_partition/", api.H(m.addPartition))
	of.PATCH("/:uuid/update_partition/", api.H(m.updatePartition))
	of.POST("/:uuid/remove_partition/", api.H(m.removePartition))
	of.POST("/:uuid/check_unique_backend_id/", api.H(m.checkUniqueBackendID))
	of.Match(get, "/:uuid/list_project_service_accounts/", api.H(m.emptyAccounts))
	of.Match(get, "/:uuid/list_course_accounts/", api.H(m.emptyAccounts))
	of.Match(get, "/:uuid/user-attribute-config/", api.H(m.userAttributeConfig))

	po := a.Group("/"+colPublic, api.RequireUser)
	po.Match(get, "/", api.H(m.listPublic))
	po.Match(get, "/:uuid/", api.H(m.getPublic))
	po.Match(get, "/:uuid/plans/", api.H(m.listPublicPlans))
	po.Match(get, "/:uuid/plans/:plan/", api.H(m.getPublicPlan))

	pl := a.Group("/"+colPlans, api.RequireUser)
	pl.Match(get, "/", api.H(m.listPlans))
	pl.POST("/", api.H(m.createPlan))
	pl.Match(get, "/:uuid/", api.H(m.getPlan))
	pl.PUT("/:uuid/", api.H(m.updatePlan))
	pl.PATCH("/:uuid/", api.H(m.updatePlan))
	pl.POST("/:uuid/archive/", api.H(m.archivePlan))
	pl.POST("/:uuid/update_prices/", api.H(m.updatePlanComponents("prices")))
	pl.POST("/:uuid/update_quotas/", api.H(m.updatePlanComponents("quotas")))
}

// visibleOffering loads the offering of the path through find (the
// store's visibility of the provider or the public view); a hidden or
// missing one is a 404.
func (m *Module) visibleOffering(c *gin.Context, find func(context.Context, models.UUID) (*store.Offering, error)) (*store.Offering, error) {
	id, err := api.PathUUID(c, "Offering")
	if err != nil {
		return nil, err
	}
	return find(c.Request.Context(), id)
}

// pathRow loads the row of the path's :uuid with load (404 "No <what>…"
// for a malformed or unknown UUID).
func pathRow[T any](c *gin.Context, what string, load func(context.Context, models.UUID) (*T, error)) (*T, error) {
	id, err := api.PathUUID(c, what)
	if err != nil {
		return nil, err
	}
	return load(c.Request.Context(), id)
}

// requireOffering checks perm on the offering and then its customer: the
// scopes "*, customer, customer.serviceprovider" of the provider offering
// actions' x-permissions (the service provider is its customer here).
func (m *Module) requireOffering(c *gin.Context, o *store.Offering, perm models.Permission) error {
	return m.rbac.Require(c.Request.Context(), api.CurrentUser(c), perm, o.Scope(),
		models.Scope{Type: models.ScopeCustomer, ID: o.CustomerID})
}

// requireOfferingCustomer checks perm on the offering's customer only: the
// operations whose x-permissions name "customer" or "offering.customer"
// (deleting an offering, plans), where a role on the offering alone does
// not count.
func (m *Module) requireOfferingCustomer(c *gin.Context, o *store.Offering, perm models.Permission) error {
	return m.rbac.Require(c.Request.Context(), api.CurrentUser(c), perm, models.Scope{Type: models.ScopeCustomer, ID: o.CustomerID})
}

// canUpdate reports whether the caller may update the offering (and so see
// its secret options).
func (m *Module) canUpdate(c *gin.Context, o *store.Offering) (bool, error) {
	ok, err := m.rbac.Has(c.Request.Context(), api.CurrentUser(c), "OFFERING.UPDATE", o.Scope(),
		models.Scope{Type: models.ScopeCustomer, ID: o.CustomerID})
	if err != nil {
		return false, models.Internal(err)
	}
	return ok, nil
}

// object reads a JSON object field (a DictField/JSONField): absent gives
// (nil, false); null gives (nil, true) when nullable; anything but an
// object is recorded as an error.
func object(f *form.Form, k string, nullable bool) (map[string]any, bool) {
	raw, ok := f.Raw(k)
	if !ok {
		return nil, false
	}
	if f.IsNull(k) {
		if !nullable {
			f.Fail(k, form.MsgNull)
		}
		return nil, nullable
	}
	var out map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&out); err != nil || out == nil {
		f.Fail(k, "Expected a dictionary of items but got type \""+form.TypeName(raw)+"\".")
		return nil, false
	}
	return normalize(out).(map[string]any), true
}

// normalize turns json.Number values into float64 or int64 so that they
// are stored and rendered as numbers.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil
		}
		return f
	}
	return v
}

// optionsObject reads an OfferingOptions field: {"order": [str…], "options": {…}}.
func optionsObject(f *form.Form, k string) (map[string]any, bool) {
	v, ok := object(f, k, false)
	if !ok {
		return nil, false
	}
	order, hasOrder := v["order"]
	opts, hasOpts := v["options"]
	var msgs []string
	if !hasOrder {
		msgs = append(msgs, "order: "+form.MsgRequired)
	} else if list, ok := order.([]any); !ok {
		msgs = append(msgs, "order: Expected a list of items.")
	} else {
		for _, it := range list {
			if _, ok := it.(string); !ok {
				msgs = append(msgs, "order: "+form.MsgString)
				break
			}
		}
	}
	if !hasOpts {
		msgs = append(msgs, "options: "+form.MsgRequired)
	} else if fields, ok := opts.(map[string]any); !ok {
		msgs = append(msgs, "options: Expected a dictionary of items.")
	} else {
		for name, v := range fields {
			field, ok := v.(map[string]any)
			label, okLabel := field["label"].(string)
			typ, okType := field["type"].(string)
			if !ok || !okLabel || label == "" || !okType || !optionTypes[typ] {
				msgs = append(msgs, "options."+name+": an option needs a label and a valid type.")
			}
		}
	}
	for _, msg := range msgs {
		f.Fail(k, msg)
	}
	if len(msgs) > 0 {
		return nil, false
	}
	return v, true
}

// detail answers 200 {"detail": msg}.
func detail(c *gin.Context, msg string) error {
	c.JSON(http.StatusOK, gin.H{"detail": msg})
	return nil
}

// msgNoObject is DRF's message for a reference to a missing object.
const msgNoObject = "Invalid hyperlink - Object does not exist."

// offeringFilter reads the offering list filters: customer_uuid, state
// (display names) and type (both repeatable), category_uuid, name,
// name_exact, description, customer (URL), uuid_list, query, keyword,
// created, modified, shared, billable.
func offeringFilter(c *gin.Context) (store.OfferingFilter, error) {
	var f store.OfferingFilter
	var err error
	if f.CustomerUUIDs, err = rest.UUIDs(c, "customer_uuid"); err != nil {
		return f, err
	}
	if f.CategoryUUIDs, err = rest.UUIDs(c, "category_uuid"); err != nil {
		return f, err
	}
	f.States = rest.Values(c, "state")
	f.Types = rest.Values(c, "type")
	f.Name = rest.Last(c, "name")
	f.NameExact = rest.Last(c, "name_exact")
	f.Description = rest.Last(c, "description")
	if f.Customers, err = rest.RefUUIDs(c, "customer"); err != nil {
		return f, err
	}
	if v := rest.Last(c, "uuid_list"); v != "" { // comma-separated UUIDs
		for _, s := range strings.Split(v, ",") {
			id, err := models.ParseUUID(strings.TrimSpace(s))
			if err != nil {
				return f, models.FieldError("uuid_list", "Enter a valid UUID.")
			}
			f.UUIDs = append(f.UUIDs, id)
		}
	}
	f.Query = rest.Last(c, "query")
	if f.Created, err = rest.Since(c, "created"); err != nil {
		return f, err
	}
	if f.Modified, err = rest.Since(c, "modified"); err != nil {
		return f, err
	}
	f.Keyword = rest.Last(c, "keyword")
	if f.Shared, err = rest.Bool(c, "shared"); err != nil {
		return f, err
	}
	if f.Billable, err = rest.Bool(c, "billable"); err != nil {
		return f, err
	}
	return f, nil
}

// optionTypes are Waldur's OptionFieldTypeEnum.
var optionTypes = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`boolean integer money string text html_text select_string select_string_multi
		select_openstack_tenant select_multiple_openstack_tenants select_openstack_instance
		select_multiple_openstack_instances date time conditional_cascade component_multiplier
		single_datacenter_k8s_config multi_datacenter_k8s_config storage_folder_manager`) {
		optionTypes[t] = true
	}
}
