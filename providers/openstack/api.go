package openstack

// The core half's routes: /api/openstack-*/ serve the plugin resources
// (tenants, instances and volumes: the scopes of OpenStack.Tenant,
// .Instance and .Volume marketplace resources, and what pulls imported)
// and what pulls read per tenant (flavors, images, volume types, networks,
// subnets, security groups and floating IPs): list and retrieve, with
// Waldur's shapes and filters.
//
// They are created and removed through marketplace orders; their actions
// (update, start, stop, change_flavor, extend, attach, ...) are
// api_actions.go's.
// A tenant plays the part of Waldur's per-tenant service settings: the
// catalog's settings field is the tenant's URL and settings_uuid filters by
// tenant; a plugin resource's service_settings is its tenant offering (the
// cloud connection).
//
// Visibility, decided by the store (store_query.go): staff and support
// see everything; others see the rows of projects where they (or their
// customer role) have a role, and the rows of tenants ordered from
// offerings of a customer where they have a role. A tenant's
// user_password is shown to staff and to holders of a role on the
// tenant's customer.

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/rbac"
)

// routes registers the OpenStack routes (an api.Module). What a caller may
// see and every query are the plugin's store's (store_query.go); the
// handlers decode the request into a filter and render the rows.
type routes struct {
	db   *Store
	rbac *rbac.Checker // who may act (api_actions.go)
	tc   client.Client // starts the actions' runs (nil: the dispatcher does)
}

var _ api.Module = (*routes)(nil)

// newRoutes returns the OpenStack routes.
func newRoutes(d plugin.APIDeps) *routes {
	return &routes{db: NewStore(d.Store), rbac: d.RBAC, tc: d.Temporal}
}

// Routes implements api.Module: list and retrieve of every collection, for
// signed-in users, and the objects' actions (api_actions.go).
func (m *routes) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}
	m.usageStatsRoutes(a) // static segments of the catalogs, before their /:uuid/
	for _, r := range []struct {
		path      string
		list, one api.Handler
	}{
		{"/openstack-tenants", m.listTenants, m.getTenant},
		{"/openstack-instances", m.listInstances, m.getInstance},
		{"/openstack-volumes", m.listVolumes, m.getVolume},
		{"/openstack-flavors", m.listFlavors, m.getFlavor},
		{"/openstack-images", m.listImages, m.getImage},
		{"/openstack-volume-types", m.listVolumeTypes, m.getVolumeType},
		{"/openstack-networks", m.listNetworks, m.getNetwork},
		{"/openstack-subnets", m.listSubnets, m.getSubnet},
		{"/openstack-security-groups", m.listSecurityGroups, m.getSecurityGroup},
		{"/openstack-floating-ips", m.listFloatingIPs, m.getFloatingIP},
	} {
		g := a.Group(r.path, api.RequireUser)
		g.Match(get, "/", api.H(r.list))
		g.Match(get, "/:uuid/", api.H(r.one))
	}
	m.actionRoutes(a)
	m.tenantActionRoutes(a)
	m.securityGroupRoutes(a)
	m.networkRoutes(a)
	m.l3Routes(a)
	m.storageRoutes(a)
	m.instanceNetworkRoutes(a)
	m.pushSecurityGroupsRoutes(a)
	m.backupRestoreRoutes(a)
	m.zoneRoutes(a)
	m.externalNetworkRoutes(a)
	m.rbacPolicyRoutes(a)
	m.migrationRoutes(a)
	m.imageRoutes(a)
	m.objectPullRoutes(a)        // api_object_pulls.go
	m.marketplaceTenantRoutes(a) // api_marketplace_tenants.go
}

var coreStates = map[string]bool{}

func init() {
	for _, s := range models.CoreStates {
		coreStates[string(s)] = true
	}
}

// filter decodes Waldur's common filters of the plugin views; hasState:
// the rows have a state, and ?state= must name core states.
func filter(c *gin.Context, hasState bool) (Filter, error) {
	f := Filter{Name: rest.Last(c, "name"), NameExact: rest.Last(c, "name_exact"), BackendID: rest.Last(c, "backend_id")}
	for key, dst := range map[string]*[]models.UUID{"uuid": &f.UUIDs, "project": &f.Projects, "project_uuid": &f.ProjectUUIDs,
		"customer": &f.Customers, "customer_uuid": &f.CustomerUUIDs, "tenant": &f.Tenants, "tenant_uuid": &f.TenantUUIDs,
		"settings_uuid": &f.SettingsUUIDs, "service_settings_uuid": &f.ServiceSettingsUUIDs} {
		ids, err := rest.UUIDs(c, key)
		if err != nil {
			return f, err
		}
		*dst = ids
	}
	f.ProjectName, f.CustomerName = rest.Last(c, "project_name"), rest.Last(c, "customer_name")
	if hasState {
		states := rest.Values(c, "state")
		for _, s := range states {
			if !coreStates[s] {
				return f, models.FieldError("state", "Select a valid choice. "+s+" is not one of the available choices.")
			}
		}
		f.States = states
	}
	return f, nil
}

func spec(main string, extra map[string]string) rest.ListSpec {
	o := map[string]string{"name": main + ".name", "backend_id": main + ".backend_id"}
	for k, v := range extra {
		o[k] = v
	}
	return rest.ListSpec{Ordering: o, DefaultOrdering: []string{"name"}, TieBreaker: main + ".id"}
}

var resourceOrdering = map[string]string{"created": "created", "state": "state", "project__name": "p.name", "customer__name": "c.name"}

func withMain(main string, m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !strings.Contains(v, ".") {
			v = main + "." + v
		}
		out[k] = v
	}
	return out
}

// @Summary	List OpenStack tenants
// @Tags		openstack-tenants
// @Param		name			query	string		false	"Name contains"
// @Param		project_uuid	query	string		false	"Project"
// @Param		customer_uuid	query	string		false	"Customer"
// @Param		state			query	[]string	false	"State (repeatable)"
// @Param		backend_id		query	string		false	"Backend id"
// @Success	200	{array}	Tenant
// @Router		/api/openstack-tenants/ [get]
func (m *routes) listTenants(c *gin.Context) error {
	f, err := filter(c, true)
	if err != nil {
		return err
	}
	q, err := m.db.TenantsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, spec("t", withMain("t", resourceOrdering)), func(v *TenantView) Tenant { return renderTenant(c, v) })
}

// @Summary	Get an OpenStack tenant
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"Tenant UUID"
// @Success	200	{object}	Tenant
// @Router		/api/openstack-tenants/{uuid}/ [get]
func (m *routes) getTenant(c *gin.Context) error {
	id, err := api.PathUUID(c, "Tenant")
	if err != nil {
		return err
	}
	v, err := m.db.VisibleTenant(c.Request.Context(), id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderTenant(c, v))
}

// instanceExtras loads the attached volumes and the tenants' security groups and subnets of a page.
func (m *routes) instanceExtras(c *gin.Context, vs []InstanceView) (*instanceExtras, error) {
	ctx := c.Request.Context()
	x := &instanceExtras{groups: map[int64]map[string]catalogRecord{}, subnets: map[int64]map[string]catalogRecord{}}
	var ids, tenants []int64
	for _, v := range vs {
		ids = append(ids, v.ID)
		tenants = append(tenants, v.TenantID)
	}
	var err error
	if x.volumes, err = m.db.VolumesOf(ctx, ids); err != nil {
		return nil, err
	}
	groups, subnets, err := m.db.GroupsAndSubnetsOf(ctx, tenants)
	if err != nil {
		return nil, err
	}
	for _, in := range []struct {
		rows []TenantItemRecord
		dst  map[int64]map[string]catalogRecord
	}{{groups, x.groups}, {subnets, x.subnets}} {
		for _, r := range in.rows {
			if in.dst[r.TenantID] == nil {
				in.dst[r.TenantID] = map[string]catalogRecord{}
			}
			rec := catalogRecord{UUID: r.UUID, Name: r.Name, Description: r.Description, CIDR: r.CIDR}
			in.dst[r.TenantID][r.BackendID] = rec
			in.dst[r.TenantID][r.Name] = rec
		}
	}
	return x, nil
}

// @Summary	List OpenStack instances
// @Tags		openstack-instances
// @Param		name			query	string		false	"Name contains"
// @Param		project_uuid	query	string		false	"Project"
// @Param		customer_uuid	query	string		false	"Customer"
// @Param		tenant_uuid		query	string		false	"Tenant"
// @Param		state			query	[]string	false	"State (repeatable)"
// @Param		runtime_state	query	string		false	"Runtime state"
// @Param		backend_id		query	string		false	"Backend id"
// @Success	200	{array}	Instance
// @Router		/api/openstack-instances/ [get]
func (m *routes) listInstances(c *gin.Context) error {
	f, err := filter(c, true)
	if err != nil {
		return err
	}
	q, err := m.db.InstancesQuery(c.Request.Context(), InstanceFilter{Filter: f, RuntimeState: rest.Last(c, "runtime_state")})
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, spec("i", withMain("i", resourceOrdering)), func(vs []InstanceView) ([]Instance, error) {
		x, err := m.instanceExtras(c, vs)
		if err != nil {
			return nil, err
		}
		out := make([]Instance, len(vs))
		for i := range vs {
			out[i] = renderInstance(c, &vs[i], x)
		}
		return out, nil
	})
}

// @Summary	Get an OpenStack instance
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"Instance UUID"
// @Success	200	{object}	Instance
// @Router		/api/openstack-instances/{uuid}/ [get]
func (m *routes) getInstance(c *gin.Context) error {
	id, err := api.PathUUID(c, "Instance")
	if err != nil {
		return err
	}
	v, err := m.db.VisibleInstance(c.Request.Context(), id)
	if err != nil {
		return err
	}
	x, err := m.instanceExtras(c, []InstanceView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderInstance(c, v, x))
}

// @Summary	List OpenStack volumes
// @Tags		openstack-volumes
// @Param		name			query	string		false	"Name contains"
// @Param		project_uuid	query	string		false	"Project"
// @Param		tenant_uuid		query	string		false	"Tenant"
// @Param		instance_uuid	query	string		false	"Instance the volume is attached to"
// @Param		state			query	[]string	false	"State (repeatable)"
// @Success	200	{array}	Volume
// @Router		/api/openstack-volumes/ [get]
func (m *routes) listVolumes(c *gin.Context) error {
	f := VolumeFilter{RuntimeState: rest.Last(c, "runtime_state")}
	var err error
	if f.Filter, err = filter(c, true); err != nil {
		return err
	}
	if f.InstanceUUIDs, err = rest.UUIDs(c, "instance_uuid"); err != nil {
		return err
	}
	q, err := m.db.VolumesQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, spec("v", withMain("v", map[string]string{"created": "created", "state": "state", "size": "size"})),
		func(v *VolumeView) Volume { return renderVolume(c, v) })
}

// @Summary	Get an OpenStack volume
// @Tags		openstack-volumes
// @Param		uuid	path	string	true	"Volume UUID"
// @Success	200	{object}	Volume
// @Router		/api/openstack-volumes/{uuid}/ [get]
func (m *routes) getVolume(c *gin.Context) error {
	id, err := api.PathUUID(c, "Volume")
	if err != nil {
		return err
	}
	v, err := m.db.VisibleVolume(c.Request.Context(), id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderVolume(c, v))
}

// catalogList serves one of the per-tenant collections.
func catalogList[R any](m *routes, c *gin.Context, k Catalog, extra map[string]string, render func(*CatalogItem) R) error {
	f, err := filter(c, k.HasState())
	if err != nil {
		return err
	}
	q, err := m.db.CatalogQuery(c.Request.Context(), k, f)
	if err != nil {
		return err
	}
	return rest.List(c, q, spec("x", extra), render)
}

// catalogOne serves a row of one of the per-tenant collections.
func catalogOne[R any](m *routes, c *gin.Context, k Catalog, render func(*CatalogItem) R) error {
	id, err := api.PathUUID(c, k.Noun())
	if err != nil {
		return err
	}
	v, err := m.db.VisibleCatalogItem(c.Request.Context(), k, id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, render(v))
}

// @Summary	List flavors of OpenStack tenants
// @Tags		openstack-flavors
// @Param		name			query	string	false	"Name contains"
// @Param		settings_uuid	query	string	false	"Tenant"
// @Param		tenant_uuid		query	string	false	"Tenant"
// @Success	200	{array}	Flavor
// @Router		/api/openstack-flavors/ [get]
func (m *routes) listFlavors(c *gin.Context) error {
	return catalogList(m, c, CatalogFlavors, map[string]string{"cores": "x.cores", "ram": "x.ram", "disk": "x.disk"},
		func(v *CatalogItem) Flavor { return renderFlavor(c, v) })
}

// @Summary	Get a flavor
// @Tags		openstack-flavors
// @Param		uuid	path	string	true	"Flavor UUID"
// @Success	200	{object}	Flavor
// @Router		/api/openstack-flavors/{uuid}/ [get]
func (m *routes) getFlavor(c *gin.Context) error {
	return catalogOne(m, c, CatalogFlavors, func(v *CatalogItem) Flavor { return renderFlavor(c, v) })
}

// @Summary	List images of OpenStack tenants
// @Tags		openstack-images
// @Param		name			query	string	false	"Name contains"
// @Param		settings_uuid	query	string	false	"Tenant"
// @Param		tenant_uuid		query	string	false	"Tenant"
// @Success	200	{array}	Image
// @Router		/api/openstack-images/ [get]
func (m *routes) listImages(c *gin.Context) error {
	return catalogList(m, c, CatalogImages, nil, func(v *CatalogItem) Image { return renderImage(c, v) })
}

// @Summary	Get an image
// @Tags		openstack-images
// @Param		uuid	path	string	true	"Image UUID"
// @Success	200	{object}	Image
// @Router		/api/openstack-images/{uuid}/ [get]
func (m *routes) getImage(c *gin.Context) error {
	return catalogOne(m, c, CatalogImages, func(v *CatalogItem) Image { return renderImage(c, v) })
}

// @Summary	List volume types of OpenStack tenants
// @Tags		openstack-volume-types
// @Param		name			query	string	false	"Name contains"
// @Param		settings_uuid	query	string	false	"Tenant"
// @Param		tenant_uuid		query	string	false	"Tenant"
// @Success	200	{array}	VolumeType
// @Router		/api/openstack-volume-types/ [get]
func (m *routes) listVolumeTypes(c *gin.Context) error {
	return catalogList(m, c, CatalogVolumeTypes, nil, func(v *CatalogItem) VolumeType { return renderVolumeType(c, v) })
}

// @Summary	Get a volume type
// @Tags		openstack-volume-types
// @Param		uuid	path	string	true	"Volume type UUID"
// @Success	200	{object}	VolumeType
// @Router		/api/openstack-volume-types/{uuid}/ [get]
func (m *routes) getVolumeType(c *gin.Context) error {
	return catalogOne(m, c, CatalogVolumeTypes, func(v *CatalogItem) VolumeType { return renderVolumeType(c, v) })
}

func (m *routes) networkSubnets(c *gin.Context, vs []CatalogItem) (map[int64][]CatalogItem, error) {
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	return m.db.SubnetsOf(c.Request.Context(), ids)
}

// @Summary	List networks of OpenStack tenants
// @Tags		openstack-networks
// @Param		name			query	string	false	"Name contains"
// @Param		tenant_uuid		query	string	false	"Tenant"
// @Param		project_uuid	query	string	false	"Project"
// @Param		is_external		query	bool	false	"External"
// @Success	200	{array}	Network
// @Router		/api/openstack-networks/ [get]
func (m *routes) listNetworks(c *gin.Context) error {
	var f NetworkFilter
	var err error
	if f.Filter, err = filter(c, CatalogNetworks.HasState()); err != nil {
		return err
	}
	if f.IsExternal, err = rest.Bool(c, "is_external"); err != nil {
		return err
	}
	q, err := m.db.NetworksQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, spec("x", nil), func(vs []CatalogItem) ([]Network, error) {
		subs, err := m.networkSubnets(c, vs)
		if err != nil {
			return nil, err
		}
		out := make([]Network, len(vs))
		for i := range vs {
			out[i] = renderNetwork(c, &vs[i], subs[vs[i].ID])
		}
		return out, m.withPolicies(c, vs, out) // api_rbac_policies.go
	})
}

// @Summary	Get a network
// @Tags		openstack-networks
// @Param		uuid	path	string	true	"Network UUID"
// @Success	200	{object}	Network
// @Router		/api/openstack-networks/{uuid}/ [get]
func (m *routes) getNetwork(c *gin.Context) error {
	id, err := api.PathUUID(c, CatalogNetworks.Noun())
	if err != nil {
		return err
	}
	v, err := m.db.VisibleCatalogItem(c.Request.Context(), CatalogNetworks, id)
	if err != nil {
		return err
	}
	subs, err := m.networkSubnets(c, []CatalogItem{*v})
	if err != nil {
		return err
	}
	out := []Network{renderNetwork(c, v, subs[v.ID])}
	if err := m.withPolicies(c, []CatalogItem{*v}, out); err != nil { // api_rbac_policies.go
		return err
	}
	return rest.Render(c, http.StatusOK, out[0])
}

// @Summary	List subnets of OpenStack tenants
// @Tags		openstack-subnets
// @Param		name			query	string	false	"Name contains"
// @Param		tenant_uuid		query	string	false	"Tenant"
// @Param		network_uuid	query	string	false	"Network"
// @Success	200	{array}	Subnet
// @Router		/api/openstack-subnets/ [get]
func (m *routes) listSubnets(c *gin.Context) error {
	var f SubnetFilter
	var err error
	if f.Filter, err = filter(c, CatalogSubnets.HasState()); err != nil {
		return err
	}
	if f.NetworkUUIDs, err = rest.UUIDs(c, "network_uuid"); err != nil {
		return err
	}
	q, err := m.db.SubnetsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, spec("x", nil), func(v *CatalogItem) Subnet { return renderSubnet(c, v) })
}

// @Summary	Get a subnet
// @Tags		openstack-subnets
// @Param		uuid	path	string	true	"Subnet UUID"
// @Success	200	{object}	Subnet
// @Router		/api/openstack-subnets/{uuid}/ [get]
func (m *routes) getSubnet(c *gin.Context) error {
	return catalogOne(m, c, CatalogSubnets, func(v *CatalogItem) Subnet { return renderSubnet(c, v) })
}

// @Summary	List security groups of OpenStack tenants
// @Tags		openstack-security-groups
// @Param		name		query	string	false	"Name contains"
// @Param		tenant_uuid	query	string	false	"Tenant"
// @Success	200	{array}	SecurityGroup
// @Router		/api/openstack-security-groups/ [get]
func (m *routes) listSecurityGroups(c *gin.Context) error {
	return catalogList(m, c, CatalogSecurityGroups, nil, func(v *CatalogItem) SecurityGroup { return renderSecurityGroup(c, v) })
}

// @Summary	Get a security group
// @Tags		openstack-security-groups
// @Param		uuid	path	string	true	"Security group UUID"
// @Success	200	{object}	SecurityGroup
// @Router		/api/openstack-security-groups/{uuid}/ [get]
func (m *routes) getSecurityGroup(c *gin.Context) error {
	return catalogOne(m, c, CatalogSecurityGroups, func(v *CatalogItem) SecurityGroup { return renderSecurityGroup(c, v) })
}

// @Summary	List floating IPs of OpenStack tenants
// @Tags		openstack-floating-ips
// @Param		tenant_uuid		query	string	false	"Tenant"
// @Param		runtime_state	query	string	false	"Runtime state"
// @Param		address			query	string	false	"Address"
// @Success	200	{array}	FloatingIP
// @Router		/api/openstack-floating-ips/ [get]
func (m *routes) listFloatingIPs(c *gin.Context) error {
	f := FloatingIPFilter{RuntimeState: rest.Last(c, "runtime_state"), Address: rest.Last(c, "address")}
	var err error
	if f.Filter, err = filter(c, CatalogFloatingIPs.HasState()); err != nil {
		return err
	}
	q, err := m.db.FloatingIPsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, rest.ListSpec{Ordering: map[string]string{"address": "x.address", "runtime_state": "x.runtime_state"},
		DefaultOrdering: []string{"address"}, TieBreaker: "x.id"}, func(v *CatalogItem) FloatingIP { return renderFloatingIP(c, v) })
}

// @Summary	Get a floating IP
// @Tags		openstack-floating-ips
// @Param		uuid	path	string	true	"Floating IP UUID"
// @Success	200	{object}	FloatingIP
// @Router		/api/openstack-floating-ips/{uuid}/ [get]
func (m *routes) getFloatingIP(c *gin.Context) error {
	return catalogOne(m, c, CatalogFloatingIPs, func(v *CatalogItem) FloatingIP { return renderFloatingIP(c, v) })
}
