package openstack

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of the tenants' migrations (migration 31): the rows,
// who sees them, and what the migration's workflow reads (the destination
// resource's state, the destination tenant, the networks to copy) and
// records (its state).

// MigrationMappings is Waldur's Mapping: how the copy maps the source
// tenant's volume types and subnet CIDRs, which of its networks it copies
// (none named: all), whether the new tenant skips the router to the
// external network, and sync_instance_ports (recorded; instances are not
// copied, see the README).
type MigrationMappings struct {
	VolumeTypes          []VolumeTypeMapping `json:"volume_types"`
	Subnets              []SubnetMapping     `json:"subnets"`
	SkipConnectionExtnet bool                `json:"skip_connection_extnet"`
	SyncInstancePorts    bool                `json:"sync_instance_ports"`
	Networks             []models.UUID       `json:"networks"`
}

// VolumeTypeMapping maps a volume type of the source tenant to one of the
// destination offering's.
type VolumeTypeMapping struct {
	SrcTypeUUID models.UUID `json:"src_type_uuid"`
	DstTypeUUID models.UUID `json:"dst_type_uuid"`
}

// SubnetMapping gives a source subnet's CIDR its CIDR in the copy.
type SubnetMapping struct {
	SrcCIDR string `json:"src_cidr"`
	DstCIDR string `json:"dst_cidr"`
}

// cidr maps a source CIDR (unmapped: itself).
func (m MigrationMappings) cidr(src string) string {
	for _, s := range m.Subnets {
		if s.SrcCIDR == src {
			return s.DstCIDR
		}
	}
	return src
}

// MigrationRow is a migration row.
type MigrationRow struct {
	ID             int64 `gorm:"primaryKey"`
	UUID           models.UUID
	CreatedByID    int64
	SrcResourceID  int64
	DstResourceID  int64
	Mappings       []byte
	State          models.CoreState
	ErrorMessage   string
	ErrorTraceback string
	Created        time.Time
	Modified       time.Time
}

// TableName is openstack_migrations.
func (MigrationRow) TableName() string { return "openstack_migrations" }

// MigrationView is a migration as the API renders it.
type MigrationView struct {
	MigrationRow
	CreatedByUUID      models.UUID
	CreatedByFirstName string
	CreatedByLastName  string
	SrcResourceUUID    models.UUID
	SrcResourceName    string
	SrcOfferingUUID    models.UUID
	SrcOfferingName    string
	DstResourceUUID    models.UUID
	DstResourceName    string
	DstResourceState   models.ResourceState
	DstOfferingUUID    models.UUID
	DstOfferingName    string
}

// MappingList decodes the view's mappings.
func (v *MigrationView) MappingList() MigrationMappings {
	var m MigrationMappings
	_ = json.Unmarshal(v.Mappings, &m)
	return m
}

// MigrationFilter narrows the list: ?src_resource_uuid=, ?dst_resource_uuid=.
type MigrationFilter struct {
	SrcResourceUUIDs, DstResourceUUIDs []models.UUID
}

// migrationViews is the migrations (alias m) with their resources (sr,
// dr), offerings (sf, df), the source's project (p) and the creator (u),
// narrowed to what the caller sees: staff and support everything, others
// the migrations of a source resource in a project or customer where they
// hold a role (Waldur's GenericRoleFilter on the source resource).
func (s *Store) migrationViews(ctx context.Context) (*gorm.DB, error) {
	q := s.DB.WithContext(ctx).Table("openstack_migrations m").Select(`m.*, u.uuid AS created_by_uuid,
		u.first_name AS created_by_first_name, u.last_name AS created_by_last_name,
		sr.uuid AS src_resource_uuid, sr.name AS src_resource_name, sf.uuid AS src_offering_uuid, sf.name AS src_offering_name,
		dr.uuid AS dst_resource_uuid, dr.name AS dst_resource_name, dr.state AS dst_resource_state,
		df.uuid AS dst_offering_uuid, df.name AS dst_offering_name`).
		Joins("JOIN resources sr ON sr.id = m.src_resource_id").Joins("JOIN offerings sf ON sf.id = sr.offering_id").
		Joins("JOIN resources dr ON dr.id = m.dst_resource_id").Joins("JOIN offerings df ON df.id = dr.offering_id").
		Joins("JOIN projects p ON p.id = sr.project_id").Joins("JOIN users u ON u.id = m.created_by_id")
	rs, err := s.CallerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs != nil {
		q = q.Where("(p.customer_id IN ? OR p.id IN ?)", store.NonEmpty(rs.Customers), store.NonEmpty(rs.Projects))
	}
	return q, nil
}

// MigrationsQuery returns the migrations the caller sees, narrowed by f,
// as a query over MigrationView rows (alias m), for rest.List.
func (s *Store) MigrationsQuery(ctx context.Context, f MigrationFilter) (store.Query, error) {
	q, err := s.migrationViews(ctx)
	if err != nil {
		return store.Query{}, err
	}
	if len(f.SrcResourceUUIDs) > 0 {
		q = q.Where("sr.uuid IN ?", f.SrcResourceUUIDs)
	}
	if len(f.DstResourceUUIDs) > 0 {
		q = q.Where("dr.uuid IN ?", f.DstResourceUUIDs)
	}
	return store.QueryOf(q), nil
}

// VisibleMigration loads the migration with uuid id if the caller sees
// it. Codes: not_found ("No Migration matches the given query.").
func (s *Store) VisibleMigration(ctx context.Context, id models.UUID) (*MigrationView, error) {
	q, err := s.migrationViews(ctx)
	if err != nil {
		return nil, err
	}
	var v MigrationView
	if err := findVisible(q, "m", id, "Migration", &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// CreateMigration records a migration (state CREATION_SCHEDULED).
func (s *Store) CreateMigration(ctx context.Context, createdBy int64, src, dst int64, m MigrationMappings) (*MigrationRow, error) {
	raw, _ := json.Marshal(m)
	now := s.Now()
	row := MigrationRow{UUID: models.NewUUID(), CreatedByID: createdBy, SrcResourceID: src, DstResourceID: dst, Mappings: raw,
		State: models.CoreCreationScheduled, Created: now, Modified: now}
	if err := s.DB.WithContext(ctx).Create(&row).Error; err != nil {
		return nil, models.Internal(err)
	}
	return &row, nil
}

// UpdateMigration sets the given columns (mappings, error_message,
// error_traceback) of migration id.
func (s *Store) UpdateMigration(ctx context.Context, id int64, values map[string]any) error {
	values["modified"] = s.Now()
	if err := s.DB.WithContext(ctx).Table("openstack_migrations").Where("id = ?", id).Updates(values).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}

// DeleteMigration removes migration id (its resources stay).
func (s *Store) DeleteMigration(ctx context.Context, id int64) error {
	if err := s.DB.WithContext(ctx).Exec("DELETE FROM openstack_migrations WHERE id = ?", id).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}

// SetMigrationState records the migration's state (and, for ERRED, why).
// A migration deleted meanwhile is not an error.
func (s *Store) SetMigrationState(ctx context.Context, id models.UUID, state models.CoreState, message string) error {
	values := map[string]any{"state": state, "modified": s.Now()}
	if state == models.CoreErred {
		values["error_message"] = message
	}
	if err := s.DB.WithContext(ctx).Table("openstack_migrations").Where("uuid = ?", id).Updates(values).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}

// MigrationNetwork is a source network the copy makes in the new tenant,
// with its subnets' CIDRs already mapped.
type MigrationNetwork struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	MTU         int           `json:"mtu"`
	Subnets     []CloudSubnet `json:"subnets"`
}

// MigrationProgress is what the migration's workflow reads: whether the
// migration is still there, the destination resource's state and error,
// and, once the destination tenant exists in the cloud, what to copy into
// it and how to pull it.
type MigrationProgress struct {
	Gone     bool
	DstState models.ResourceState
	DstError string
	Target   *PullTarget
	Networks []MigrationNetwork
}

// MigrationProgressOf reads the progress of migration id. The networks are
// the source tenant's (those mappings.networks names, or all but the
// external ones), except its internal network, which the destination
// tenant's Create order already made with the mapped CIDR.
func (s *Store) MigrationProgressOf(ctx context.Context, id models.UUID) (MigrationProgress, error) {
	var out MigrationProgress
	db := s.DB.WithContext(ctx)
	var rows []MigrationRow
	if err := db.Where("uuid = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return out, models.Internal(err)
	}
	if len(rows) == 0 {
		out.Gone = true
		return out, nil
	}
	m := rows[0]
	var mappings MigrationMappings
	_ = json.Unmarshal(m.Mappings, &mappings)
	var dst struct {
		State        models.ResourceState
		ErrorMessage string
	}
	if err := db.Table("resources").Select("state, error_message").Where("id = ?", m.DstResourceID).Scan(&dst).Error; err != nil {
		return out, models.Internal(err)
	}
	out.DstState, out.DstError = dst.State, dst.ErrorMessage
	if dst.State != models.ResourceOK {
		return out, nil
	}
	var t []struct {
		UUID          models.UUID
		Name          string
		BackendID     string
		SecretOptions []byte
	}
	if err := db.Table("openstack_tenants t").Select("t.uuid, t.name, t.backend_id, f.secret_options").
		Joins("JOIN offerings f ON f.id = t.offering_id").Where("t.resource_id = ? AND t.backend_id <> ''", m.DstResourceID).Scan(&t).Error; err != nil {
		return out, models.Internal(err)
	}
	if len(t) == 0 {
		return out, nil
	}
	out.Target = &PullTarget{UUID: t[0].UUID, Name: t[0].Name, BackendID: t[0].BackendID}
	_ = json.Unmarshal(t[0].SecretOptions, &out.Target.SecretOptions)

	var src []struct {
		ID                int64
		InternalNetworkID string
	}
	if err := db.Table("openstack_tenants").Select("id, internal_network_id").Where("resource_id = ?", m.SrcResourceID).Scan(&src).Error; err != nil {
		return out, models.Internal(err)
	}
	if len(src) == 0 {
		return out, nil
	}
	nq := db.Table("openstack_networks").Where("tenant_id = ? AND is_external = ? AND backend_id <> ?", src[0].ID, false, src[0].InternalNetworkID)
	if len(mappings.Networks) > 0 {
		nq = nq.Where("uuid IN ?", mappings.Networks)
	}
	var nets []struct {
		ID          int64
		Name        string
		Description string
		MTU         int `gorm:"column:mtu"`
	}
	if err := nq.Select("id, name, description, mtu").Order("id").Scan(&nets).Error; err != nil {
		return out, models.Internal(err)
	}
	for _, n := range nets {
		var subs []struct {
			Name, Description string
			CIDR              string `gorm:"column:cidr"`
			GatewayIP         string `gorm:"column:gateway_ip"`
			IPVersion         int
			EnableDHCP        bool   `gorm:"column:enable_dhcp"`
			DNSNameservers    []byte `gorm:"column:dns_nameservers"`
		}
		if err := db.Table("openstack_subnets").Select("name, description, cidr, gateway_ip, ip_version, enable_dhcp, dns_nameservers").
			Where("network_id = ?", n.ID).Order("id").Scan(&subs).Error; err != nil {
			return out, models.Internal(err)
		}
		mn := MigrationNetwork{Name: n.Name, Description: n.Description, MTU: n.MTU}
		for _, sb := range subs {
			cs := CloudSubnet{Name: sb.Name, Description: sb.Description, CIDR: mappings.cidr(sb.CIDR), IPVersion: sb.IPVersion, EnableDHCP: sb.EnableDHCP}
			if cs.CIDR == sb.CIDR {
				cs.GatewayIP = sb.GatewayIP // a mapped CIDR gets the cloud's default gateway
			}
			_ = json.Unmarshal(sb.DNSNameservers, &cs.DNSNameservers)
			mn.Subnets = append(mn.Subnets, cs)
		}
		out.Networks = append(out.Networks, mn)
	}
	return out, nil
}

// MigrationSource is what a migration's create reads of the source
// tenant: its row, the CIDR of its internal subnet, its security groups
// (without "default", which every project has) and the ids of its volume
// types and networks, by UUID.
type MigrationSource struct {
	TenantID     int64
	State        models.CoreState
	SubnetCIDR   string
	Groups       []CloudSecurityGroup
	VolumeTypes  map[models.UUID]string // name by UUID
	NetworkUUIDs map[models.UUID]bool
}

// MigrationSourceOf reads the source tenant of marketplace resource
// resourceID. Codes: not_found (the resource has no tenant).
func (s *Store) MigrationSourceOf(ctx context.Context, resourceID int64) (*MigrationSource, error) {
	db := s.DB.WithContext(ctx)
	var t []TenantRow
	if err := db.Where("resource_id = ?", resourceID).Limit(1).Find(&t).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(t) == 0 {
		return nil, models.Errorf(models.CodeNotFound, "The resource has no OpenStack tenant.")
	}
	out := &MigrationSource{TenantID: t[0].ID, State: t[0].State, VolumeTypes: map[models.UUID]string{}, NetworkUUIDs: map[models.UUID]bool{}}
	var cidr []string
	if err := db.Table("openstack_subnets").Where("tenant_id = ? AND backend_id = ?", t[0].ID, t[0].SubnetID).Pluck("cidr", &cidr).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(cidr) > 0 {
		out.SubnetCIDR = cidr[0]
	}
	var groups []struct {
		Name, Description string
		Rules             []byte
	}
	if err := db.Table("openstack_security_groups").Select("name, description, rules").
		Where("tenant_id = ? AND name <> ?", t[0].ID, "default").Order("id").Scan(&groups).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, g := range groups {
		cg := CloudSecurityGroup{Name: g.Name, Description: g.Description}
		_ = json.Unmarshal(g.Rules, &cg.Rules)
		out.Groups = append(out.Groups, cg)
	}
	var types []struct {
		UUID models.UUID
		Name string
	}
	if err := db.Table("openstack_volume_types").Select("uuid, name").Where("tenant_id = ?", t[0].ID).Scan(&types).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, vt := range types {
		out.VolumeTypes[vt.UUID] = vt.Name
	}
	var nets []models.UUID
	if err := db.Table("openstack_networks").Where("tenant_id = ?", t[0].ID).Pluck("uuid", &nets).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, n := range nets {
		out.NetworkUUIDs[n] = true
	}
	return out, nil
}

// VolumeTypeOfOffering returns the name of volume type id if it is a
// volume type of a tenant of offering offeringID ("" when not).
func (s *Store) VolumeTypeOfOffering(ctx context.Context, id models.UUID, offeringID int64) (string, error) {
	var names []string
	err := s.DB.WithContext(ctx).Table("openstack_volume_types vt").Joins("JOIN openstack_tenants t ON t.id = vt.tenant_id").
		Where("vt.uuid = ? AND t.offering_id = ?", id, offeringID).Limit(1).Pluck("vt.name", &names).Error
	if err != nil {
		return "", models.Internal(err)
	}
	if len(names) == 0 {
		return "", nil
	}
	return names[0], nil
}

// PendingMigrations lists the migrations still CREATION_SCHEDULED since
// before cutoff: their run was not started (Temporal unreachable at the
// POST), so the actions' dispatcher starts it.
func (s *Store) PendingMigrations(ctx context.Context, cutoff time.Time) ([]models.UUID, error) {
	var ids []models.UUID
	if err := s.DB.WithContext(ctx).Table("openstack_migrations").Where("state = ? AND modified < ?", models.CoreCreationScheduled, cutoff).
		Order("id").Pluck("uuid", &ids).Error; err != nil {
		return nil, models.Internal(err)
	}
	return ids, nil
}
