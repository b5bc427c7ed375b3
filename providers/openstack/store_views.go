package openstack

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// What the /api/openstack-* endpoints render: plugin rows joined with their
// project, customer, tenant, offering and marketplace resource.

// RowContext is what every OpenStack view shows about where a row
// belongs: its project and customer, its tenant, and the tenant's
// offering and marketplace resource (or the row's own, for instances and
// volumes).
type RowContext struct {
	ProjectUUID          models.UUID
	ProjectName          string
	CustomerID           int64
	CustomerUUID         models.UUID
	CustomerName         string
	CustomerNativeName   string
	CustomerAbbreviation string
	TenantUUID           models.UUID
	TenantName           string
	OfferingUUID         *models.UUID
	OfferingName         *string
	OfferingPluginOpts   []byte
	OfferingType         *string
	CategoryUUID         *models.UUID
	CategoryTitle        *string
	ResourceUUID         *models.UUID
	ResourceState        *string
	PlanUUID             *models.UUID
	LimitBased           *bool
	UsageBased           *bool
}

// TenantView is a tenant as the API renders it.
type TenantView struct {
	TenantRow  `gorm:"embedded"`
	RowContext `gorm:"embedded"`
	// PasswordVisible: the caller may read the tenant's user_password
	// (staff and support, and holders of a role on the tenant's customer).
	PasswordVisible bool
}

// InstanceView is an instance as the API renders it.
type InstanceView struct {
	InstanceRow `gorm:"embedded"`
	RowContext  `gorm:"embedded"`
}

// VolumeView is a volume as the API renders it.
type VolumeView struct {
	VolumeRow            `gorm:"embedded"`
	RowContext           `gorm:"embedded"`
	InstanceUUID         *models.UUID
	InstanceName         *string
	InstanceResourceUUID *models.UUID
}

// CatalogItem is a flavor, image, volume type, network, subnet,
// security group or floating IP with its tenant (the columns a table lacks
// stay zero).
type CatalogItem struct {
	ID        int64
	UUID      models.UUID
	TenantID  int64
	BackendID string
	// ErrorMessage is an erred object's (security groups, networks, ...).
	ErrorMessage     string
	Name             string
	Description      string
	Cores            int
	RAM              int64 `gorm:"column:ram"`
	Disk             int64
	MinDisk          int64
	MinRAM           int64 `gorm:"column:min_ram"`
	BackendCreatedAt *time.Time
	IsExternal       bool
	IsShared         bool
	MTU              *int `gorm:"column:mtu"`
	State            models.CoreState
	CIDR             string `gorm:"column:cidr"`
	GatewayIP        string `gorm:"column:gateway_ip"`
	IPVersion        int    `gorm:"column:ip_version"`
	EnableDHCP       bool   `gorm:"column:enable_dhcp"`
	AllocationPools  []byte
	DNSNameservers   []byte `gorm:"column:dns_nameservers"`
	Rules            []byte
	Address          string
	RuntimeState     string
	BackendNetworkID string
	PortBackendID    string
	FixedIP          string `gorm:"column:fixed_ip"`
	NetworkUUID      *models.UUID
	NetworkName      *string
	Created          *time.Time
	Modified         *time.Time
	RowContext       `gorm:"embedded"`
}

// osContextColumns are the RowContext columns over aliases t (the
// tenant), p, c, f, cat, r (the marketplace resource of alias owner).
const osContextColumns = `p.uuid AS project_uuid, p.name AS project_name, c.id AS customer_id, c.uuid AS customer_uuid, c.name AS customer_name,
	c.native_name AS customer_native_name, c.abbreviation AS customer_abbreviation, t.uuid AS tenant_uuid, t.name AS tenant_name,
	f.uuid AS offering_uuid, f.name AS offering_name, f.plugin_options AS offering_plugin_opts, f.type AS offering_type,
	cat.uuid AS category_uuid, cat.title AS category_title, r.uuid AS resource_uuid, r.state AS resource_state, pl.uuid AS plan_uuid,
	(SELECT COUNT(*) > 0 FROM offering_components oc WHERE oc.offering_id = f.id AND oc.billing_type = 'limit') AS limit_based,
	(SELECT COUNT(*) > 0 FROM offering_components oc WHERE oc.offering_id = f.id AND oc.billing_type = 'usage') AS usage_based`

// osJoins joins the context of a query whose main table has alias main and
// a tenant (alias t already joined, or main itself).
func osJoins(q *gorm.DB, main string) *gorm.DB {
	return q.Joins("JOIN projects p ON p.id = t.project_id").
		Joins("JOIN customers c ON c.id = p.customer_id").
		Joins("LEFT JOIN resources r ON r.id = " + main + ".resource_id").
		Joins("LEFT JOIN offerings f ON f.id = COALESCE(r.offering_id, t.offering_id)").
		Joins("LEFT JOIN categories cat ON cat.id = f.category_id").
		Joins("LEFT JOIN plans pl ON pl.id = r.plan_id")
}

// tenantViews is the query over tenants (alias t); shown is the SQL (with
// its args) of TenantView.PasswordVisible.
func (s *Store) tenantViews(ctx context.Context, shown string, args ...any) *gorm.DB {
	q := s.DB.WithContext(ctx).Table("openstack_tenants t").Select("t.*, "+osContextColumns+", "+shown+" AS password_visible", args...)
	return osJoins(q, "t")
}

// InstanceViews is the query over instances (alias i, its tenant t).
func (s *Store) InstanceViews(ctx context.Context) *gorm.DB {
	q := s.DB.WithContext(ctx).Table("openstack_instances i").Select("i.*, " + osContextColumns).
		Joins("JOIN openstack_tenants t ON t.id = i.tenant_id")
	return osJoins(q, "i")
}

// VolumeViews is the query over volumes (alias v, its tenant t, its instance i).
func (s *Store) VolumeViews(ctx context.Context) *gorm.DB {
	q := s.DB.WithContext(ctx).Table("openstack_volumes v").Select("v.*, " + osContextColumns +
		", i.uuid AS instance_uuid, i.name AS instance_name, ir.uuid AS instance_resource_uuid").
		Joins("JOIN openstack_tenants t ON t.id = v.tenant_id").
		Joins("LEFT JOIN openstack_instances i ON i.id = v.instance_id").
		Joins("LEFT JOIN resources ir ON ir.id = i.resource_id")
	return osJoins(q, "v")
}

// CatalogViews is the query over one of the per-tenant tables
// (openstack_flavors, _images, _volume_types, _networks, _subnets,
// _security_groups, _floating_ips; alias x, its tenant t).
func (s *Store) CatalogViews(ctx context.Context, table string) *gorm.DB {
	sel := "x.*, " + osContextColumns
	q := s.DB.WithContext(ctx).Table(table + " x").Joins("JOIN openstack_tenants t ON t.id = x.tenant_id")
	if table == "openstack_subnets" {
		sel += ", n.uuid AS network_uuid, n.name AS network_name"
		q = q.Joins("LEFT JOIN openstack_networks n ON n.id = x.network_id")
	}
	return osJoins(q.Select(sel), "t")
}

// SubnetsOf lists the subnets of networks, by network id (for rendering networks).
func (s *Store) SubnetsOf(ctx context.Context, networkIDs []int64) (map[int64][]CatalogItem, error) {
	out := map[int64][]CatalogItem{}
	if len(networkIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		CatalogItem `gorm:"embedded"`
		NetworkID   int64
	}
	if err := s.DB.WithContext(ctx).Table("openstack_subnets").Where("network_id IN ?", networkIDs).Order("id").Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.NetworkID] = append(out[r.NetworkID], r.CatalogItem)
	}
	return out, nil
}

// VolumesOf lists the volumes attached to instances, by instance id.
func (s *Store) VolumesOf(ctx context.Context, instanceIDs []int64) (map[int64][]VolumeView, error) {
	out := map[int64][]VolumeView{}
	if len(instanceIDs) == 0 {
		return out, nil
	}
	var rows []VolumeView
	if err := s.VolumeViews(ctx).Where("v.instance_id IN ?", instanceIDs).Order("v.id").Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[*r.InstanceID] = append(out[*r.InstanceID], r)
	}
	return out, nil
}

// TenantItemRecord is a security group or a subnet of a tenant, as the
// rendering of an instance looks it up (CIDR: subnets only).
type TenantItemRecord struct {
	TenantID    int64
	UUID        models.UUID
	BackendID   string
	Name        string
	Description string
	CIDR        string `gorm:"column:cidr"`
}

// GroupsAndSubnetsOf lists the security groups and the subnets of tenants
// (for rendering instances).
func (s *Store) GroupsAndSubnetsOf(ctx context.Context, tenantIDs []int64) (groups, subnets []TenantItemRecord, err error) {
	if len(tenantIDs) == 0 {
		return nil, nil, nil
	}
	const cols = "tenant_id, uuid, backend_id, name, description"
	if err := s.DB.WithContext(ctx).Table("openstack_security_groups").Select(cols).Where("tenant_id IN ?", tenantIDs).Find(&groups).Error; err != nil {
		return nil, nil, models.Internal(err)
	}
	if err := s.DB.WithContext(ctx).Table("openstack_subnets").Select(cols+", cidr").Where("tenant_id IN ?", tenantIDs).Find(&subnets).Error; err != nil {
		return nil, nil, models.Internal(err)
	}
	return groups, subnets, nil
}

// VisibleTo limits a view to what the scopes see: rows in a project where
// a role is held (on the project or its customer), and rows of tenants
// ordered from offerings of a customer where a role is held.
func VisibleTo(rs *store.RoleScopes, q *gorm.DB) *gorm.DB {
	return q.Where("(p.customer_id IN ? OR t.project_id IN ? OR f.customer_id IN ?)",
		store.NonEmpty(rs.Customers), store.NonEmpty(rs.Projects), store.NonEmpty(rs.Customers))
}
