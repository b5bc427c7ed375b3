package openstack

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The lists and retrieves of /api/openstack-*, with what the caller may see
// decided here: the caller is the request's actor (the context), whose
// roles in force come from store.Store.CallerRoleScopes. Staff and support
// see every row; anyone else what VisibleTo lets through. A list is a
// store.Query (the API orders and pages it); a retrieve is the row, and a
// row the caller may not see is not found ("No <what> matches the given
// query.").

// Filter narrows an /api/openstack-* list: Waldur's common filters of the
// plugin views. Empty values do not filter; each list of UUIDs is its own
// condition (?project= and ?project_uuid= both apply).
type Filter struct {
	Name      string // the name contains (case-insensitive)
	NameExact string
	BackendID string
	// UUIDs is ?uuid=: the row itself.
	UUIDs []models.UUID
	// ?project=, ?project_uuid=: the row's project.
	Projects, ProjectUUIDs []models.UUID
	// ?customer=, ?customer_uuid=: the project's customer.
	Customers, CustomerUUIDs []models.UUID
	// ?tenant=, ?tenant_uuid=, ?settings_uuid=: the row's tenant (a tenant
	// plays Waldur's per-tenant service settings).
	Tenants, TenantUUIDs, SettingsUUIDs []models.UUID
	// ServiceSettingsUUIDs is ?service_settings_uuid=: the offering (the
	// cloud connection) of the row's tenant or marketplace resource.
	ServiceSettingsUUIDs []models.UUID
	ProjectName          string // the project's name is
	CustomerName         string // the customer's name is
	// States are core states, already valid; only for rows that have a
	// state (not flavors, images or volume types: Catalog.HasState).
	States []string
}

// apply narrows q, whose main table has alias main (its tenant t, project
// p, customer c, offering f), by f.
func (f *Filter) apply(q *gorm.DB, main string) *gorm.DB {
	if f.Name != "" {
		q = q.Where("LOWER("+main+".name) LIKE ?", "%"+strings.ToLower(f.Name)+"%")
	}
	if f.NameExact != "" {
		q = q.Where(main+".name = ?", f.NameExact)
	}
	if f.BackendID != "" {
		q = q.Where(main+".backend_id = ?", f.BackendID)
	}
	for _, in := range []struct {
		col string
		ids []models.UUID
	}{{main + ".uuid", f.UUIDs}, {"p.uuid", f.Projects}, {"p.uuid", f.ProjectUUIDs}, {"c.uuid", f.Customers}, {"c.uuid", f.CustomerUUIDs},
		{"t.uuid", f.Tenants}, {"t.uuid", f.TenantUUIDs}, {"t.uuid", f.SettingsUUIDs}, {"f.uuid", f.ServiceSettingsUUIDs}} {
		if len(in.ids) > 0 {
			q = q.Where(in.col+" IN ?", in.ids)
		}
	}
	if f.ProjectName != "" {
		q = q.Where("p.name = ?", f.ProjectName)
	}
	if f.CustomerName != "" {
		q = q.Where("c.name = ?", f.CustomerName)
	}
	if len(f.States) > 0 {
		q = q.Where(main+".state IN ?", f.States)
	}
	return q
}

// visible narrows a view (aliases p, t, f) to what the caller of ctx may
// see (VisibleTo).
func (s *Store) visible(ctx context.Context, q *gorm.DB) (*gorm.DB, error) {
	rs, err := s.CallerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs != nil {
		q = VisibleTo(rs, q)
	}
	return q, nil
}

// findVisible loads the row with uuid id of a visible view whose main
// table has alias main into dest. Codes: not_found ("No <what> matches the
// given query.").
func findVisible(q *gorm.DB, main string, id models.UUID, what string, dest any) error {
	res := q.Where(main+".uuid = ?", id).Limit(1).Find(dest)
	if res.Error != nil {
		return models.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "No %s matches the given query.", what)
	}
	return nil
}

// visibleTenants is the tenants (alias t) the caller may see, each with
// whether the caller may read its user_password (TenantView.PasswordVisible):
// staff and support, and holders of a role on the tenant's customer.
func (s *Store) visibleTenants(ctx context.Context) (*gorm.DB, error) {
	rs, err := s.CallerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		return s.tenantViews(ctx, "(1 = 1)"), nil
	}
	return VisibleTo(rs, s.tenantViews(ctx, "(p.customer_id IN ?)", store.NonEmpty(rs.Customers))), nil
}

// TenantsQuery returns the tenants the caller may see, narrowed by f, as a
// query over TenantView rows (alias t), for rest.List.
func (s *Store) TenantsQuery(ctx context.Context, f Filter) (store.Query, error) {
	q, err := s.visibleTenants(ctx)
	if err != nil {
		return store.Query{}, err
	}
	return store.QueryOf(f.apply(q, "t")), nil
}

// VisibleTenant loads the tenant with uuid id if the caller may see it
// (see TenantsQuery). Codes: not_found ("No Tenant matches the given
// query.").
func (s *Store) VisibleTenant(ctx context.Context, id models.UUID) (*TenantView, error) {
	q, err := s.visibleTenants(ctx)
	if err != nil {
		return nil, err
	}
	var v TenantView
	if err := findVisible(q, "t", id, "Tenant", &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// InstanceFilter narrows InstancesQuery.
type InstanceFilter struct {
	Filter
	RuntimeState string // the runtime state is
}

// InstancesQuery returns the instances the caller may see, narrowed by f,
// as a query over InstanceView rows (alias i, its tenant t), for rest.List.
func (s *Store) InstancesQuery(ctx context.Context, f InstanceFilter) (store.Query, error) {
	q, err := s.visible(ctx, s.InstanceViews(ctx))
	if err != nil {
		return store.Query{}, err
	}
	q = f.apply(q, "i")
	if f.RuntimeState != "" {
		q = q.Where("i.runtime_state = ?", f.RuntimeState)
	}
	return store.QueryOf(q), nil
}

// VisibleInstance loads the instance with uuid id if the caller may see
// it (see InstancesQuery). Codes: not_found ("No Instance matches the given
// query.").
func (s *Store) VisibleInstance(ctx context.Context, id models.UUID) (*InstanceView, error) {
	q, err := s.visible(ctx, s.InstanceViews(ctx))
	if err != nil {
		return nil, err
	}
	var v InstanceView
	if err := findVisible(q, "i", id, "Instance", &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// VolumeFilter narrows VolumesQuery.
type VolumeFilter struct {
	Filter
	InstanceUUIDs []models.UUID // attached to one of these instances
	RuntimeState  string        // the runtime state is
}

// VolumesQuery returns the volumes the caller may see, narrowed by f, as a
// query over VolumeView rows (alias v, its tenant t, its instance i), for
// rest.List.
func (s *Store) VolumesQuery(ctx context.Context, f VolumeFilter) (store.Query, error) {
	q, err := s.visible(ctx, s.VolumeViews(ctx))
	if err != nil {
		return store.Query{}, err
	}
	q = f.apply(q, "v")
	if len(f.InstanceUUIDs) > 0 {
		q = q.Where("i.uuid IN ?", f.InstanceUUIDs)
	}
	if f.RuntimeState != "" {
		q = q.Where("v.runtime_state = ?", f.RuntimeState)
	}
	return store.QueryOf(q), nil
}

// VisibleVolume loads the volume with uuid id if the caller may see it
// (see VolumesQuery). Codes: not_found ("No Volume matches the given
// query.").
func (s *Store) VisibleVolume(ctx context.Context, id models.UUID) (*VolumeView, error) {
	q, err := s.visible(ctx, s.VolumeViews(ctx))
	if err != nil {
		return nil, err
	}
	var v VolumeView
	if err := findVisible(q, "v", id, "Volume", &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Catalog is one of the per-tenant collections the pulls read.
type Catalog int

// The per-tenant collections.
const (
	CatalogFlavors Catalog = iota
	CatalogImages
	CatalogVolumeTypes
	CatalogNetworks
	CatalogSubnets
	CatalogSecurityGroups
	CatalogFloatingIPs
)

var catalogs = [...]struct {
	table, noun string
	state       bool
}{
	CatalogFlavors:        {"openstack_flavors", "Flavor", false},
	CatalogImages:         {"openstack_images", "Image", false},
	CatalogVolumeTypes:    {"openstack_volume_types", "Volume type", false},
	CatalogNetworks:       {"openstack_networks", "Network", true},
	CatalogSubnets:        {"openstack_subnets", "Subnet", true},
	CatalogSecurityGroups: {"openstack_security_groups", "Security group", true},
	CatalogFloatingIPs:    {"openstack_floating_ips", "Floating IP", true},
}

// Noun names one row of the collection in messages ("No <noun> matches
// the given query.").
func (k Catalog) Noun() string { return catalogs[k].noun }

// HasState reports whether the collection's rows have a state (and so
// Filter.States applies).
func (k Catalog) HasState() bool { return catalogs[k].state }

// CatalogQuery returns the rows of collection k the caller may see,
// narrowed by f, as a query over CatalogItem rows (alias x, its tenant t),
// for rest.List. The collections with filters of their own have their own
// queries too (NetworksQuery, SubnetsQuery, FloatingIPsQuery).
func (s *Store) CatalogQuery(ctx context.Context, k Catalog, f Filter) (store.Query, error) {
	q, err := s.catalogQuery(ctx, k, f)
	if err != nil {
		return store.Query{}, err
	}
	return store.QueryOf(q), nil
}

func (s *Store) catalogQuery(ctx context.Context, k Catalog, f Filter) (*gorm.DB, error) {
	q, err := s.visible(ctx, s.CatalogViews(ctx, catalogs[k].table))
	if err != nil {
		return nil, err
	}
	return f.apply(q, "x"), nil
}

// VisibleCatalogItem loads the row with uuid id of collection k if the
// caller may see it (see CatalogQuery). Codes: not_found ("No <k.Noun()>
// matches the given query.").
func (s *Store) VisibleCatalogItem(ctx context.Context, k Catalog, id models.UUID) (*CatalogItem, error) {
	q, err := s.visible(ctx, s.CatalogViews(ctx, catalogs[k].table))
	if err != nil {
		return nil, err
	}
	var v CatalogItem
	if err := findVisible(q, "x", id, k.Noun(), &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// NetworkFilter narrows NetworksQuery.
type NetworkFilter struct {
	Filter
	IsExternal *bool
}

// NetworksQuery is CatalogQuery of CatalogNetworks with f's own filters.
func (s *Store) NetworksQuery(ctx context.Context, f NetworkFilter) (store.Query, error) {
	q, err := s.catalogQuery(ctx, CatalogNetworks, f.Filter)
	if err != nil {
		return store.Query{}, err
	}
	if f.IsExternal != nil {
		q = q.Where("x.is_external = ?", *f.IsExternal)
	}
	return store.QueryOf(q), nil
}

// SubnetFilter narrows SubnetsQuery.
type SubnetFilter struct {
	Filter
	NetworkUUIDs []models.UUID // of one of these networks
}

// SubnetsQuery is CatalogQuery of CatalogSubnets with f's own filters.
func (s *Store) SubnetsQuery(ctx context.Context, f SubnetFilter) (store.Query, error) {
	q, err := s.catalogQuery(ctx, CatalogSubnets, f.Filter)
	if err != nil {
		return store.Query{}, err
	}
	if len(f.NetworkUUIDs) > 0 {
		q = q.Where("n.uuid IN ?", f.NetworkUUIDs)
	}
	return store.QueryOf(q), nil
}

// FloatingIPFilter narrows FloatingIPsQuery.
type FloatingIPFilter struct {
	Filter
	RuntimeState string // the runtime state is
	Address      string // the address is
}

// FloatingIPsQuery is CatalogQuery of CatalogFloatingIPs with f's own
// filters.
func (s *Store) FloatingIPsQuery(ctx context.Context, f FloatingIPFilter) (store.Query, error) {
	q, err := s.catalogQuery(ctx, CatalogFloatingIPs, f.Filter)
	if err != nil {
		return store.Query{}, err
	}
	if f.RuntimeState != "" {
		q = q.Where("x.runtime_state = ?", f.RuntimeState)
	}
	if f.Address != "" {
		q = q.Where("x.address = ?", f.Address)
	}
	return store.QueryOf(q), nil
}
