package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// OpenStack plugin resources: tenants, instances and volumes (each the
// scope of its marketplace resource) and what pulls read per tenant. The
// order workflow's scope keeper records them through Ensure*, Complete*
// and FailOpenStackScope; the pull through ApplyOpenStackPull.

// OpenStackTenant is a tenant row.
type OpenStackTenant struct {
	ID                          int64 `gorm:"primaryKey"`
	UUID                        models.UUID
	ResourceID                  *int64
	ProjectID                   int64
	OfferingID                  int64
	Name                        string
	Description                 string
	State                       models.CoreState
	BackendID                   string
	ErrorMessage                string
	InternalNetworkID           string
	ExternalNetworkID           string
	SubnetID                    string
	RouterID                    string
	AvailabilityZone            string
	UserUsername                string
	UserPassword                string
	DefaultVolumeTypeName       string
	SkipCreationOfDefaultRouter bool
	Quotas                      []byte
	Pulled                      *time.Time
	Created                     time.Time
	Modified                    time.Time
}

// TableName is openstack_tenants.
func (OpenStackTenant) TableName() string { return "openstack_tenants" }

// QuotaList decodes the tenant's quotas.
func (t *OpenStackTenant) QuotaList() []models.OpenStackQuota {
	var q []models.OpenStackQuota
	_ = jsonUnmarshal(t.Quotas, &q)
	return q
}

// OpenStackInstance is an instance row.
type OpenStackInstance struct {
	ID               int64 `gorm:"primaryKey"`
	UUID             models.UUID
	ResourceID       *int64
	ProjectID        int64
	TenantID         int64
	Name             string
	Description      string
	State            models.CoreState
	BackendID        string
	ErrorMessage     string
	RuntimeState     string
	FlavorName       string
	FlavorDisk       int64
	Cores            int
	RAM              int64 `gorm:"column:ram"`
	Disk             int64
	MinRAM           int64 `gorm:"column:min_ram"`
	MinDisk          int64
	ImageName        string
	KeyName          string
	KeyFingerprint   string
	UserData         string
	AvailabilityZone string
	InternalIPs      []byte `gorm:"column:internal_ips"`
	ExternalIPs      []byte `gorm:"column:external_ips"`
	SecurityGroups   []byte
	Ports            []byte
	StartTime        *time.Time
	Created          time.Time
	Modified         time.Time
}

// TableName is openstack_instances.
func (OpenStackInstance) TableName() string { return "openstack_instances" }

// OpenStackVolume is a volume row (a volume ordered on its own, or one an
// instance order made, or one a pull imported).
type OpenStackVolume struct {
	ID               int64 `gorm:"primaryKey"`
	UUID             models.UUID
	ResourceID       *int64
	ProjectID        int64
	TenantID         int64
	InstanceID       *int64
	Name             string
	Description      string
	State            models.CoreState
	BackendID        string
	ErrorMessage     string
	RuntimeState     string
	Size             int64
	Bootable         bool
	Device           string
	TypeName         string
	ImageName        string
	AvailabilityZone string
	Created          time.Time
	Modified         time.Time
}

// TableName is openstack_volumes.
func (OpenStackVolume) TableName() string { return "openstack_volumes" }

// Catalog rows of a tenant.
type (
	osFlavorRow struct {
		ID        int64 `gorm:"primaryKey"`
		UUID      models.UUID
		TenantID  int64
		BackendID string
		Name      string
		Cores     int
		RAM       int64 `gorm:"column:ram"`
		Disk      int64
	}
	osImageRow struct {
		ID               int64 `gorm:"primaryKey"`
		UUID             models.UUID
		TenantID         int64
		BackendID        string
		Name             string
		MinDisk          int64
		MinRAM           int64 `gorm:"column:min_ram"`
		BackendCreatedAt *time.Time
	}
	osVolumeTypeRow struct {
		ID          int64 `gorm:"primaryKey"`
		UUID        models.UUID
		TenantID    int64
		BackendID   string
		Name        string
		Description string
	}
	osNetworkRow struct {
		ID          int64 `gorm:"primaryKey"`
		UUID        models.UUID
		TenantID    int64
		BackendID   string
		Name        string
		Description string
		IsExternal  bool
		IsShared    bool
		MTU         int `gorm:"column:mtu"`
		State       models.CoreState
		Created     time.Time
		Modified    time.Time
	}
	osSubnetRow struct {
		ID              int64 `gorm:"primaryKey"`
		UUID            models.UUID
		TenantID        int64
		NetworkID       *int64
		BackendID       string
		Name            string
		Description     string
		CIDR            string `gorm:"column:cidr"`
		GatewayIP       string `gorm:"column:gateway_ip"`
		IPVersion       int    `gorm:"column:ip_version"`
		EnableDHCP      bool   `gorm:"column:enable_dhcp"`
		AllocationPools []byte
		DNSNameservers  []byte `gorm:"column:dns_nameservers"`
		State           models.CoreState
		Created         time.Time
		Modified        time.Time
	}
	osSecurityGroupRow struct {
		ID          int64 `gorm:"primaryKey"`
		UUID        models.UUID
		TenantID    int64
		BackendID   string
		Name        string
		Description string
		Rules       []byte
		State       models.CoreState
		Created     time.Time
		Modified    time.Time
	}
	osFloatingIPRow struct {
		ID               int64 `gorm:"primaryKey"`
		UUID             models.UUID
		TenantID         int64
		BackendID        string
		Address          string
		RuntimeState     string
		BackendNetworkID string
		PortBackendID    string
		FixedIP          string `gorm:"column:fixed_ip"`
		Description      string
		State            models.CoreState
		Created          time.Time
		Modified         time.Time
	}
)

func (osFlavorRow) TableName() string        { return "openstack_flavors" }
func (osImageRow) TableName() string         { return "openstack_images" }
func (osVolumeTypeRow) TableName() string    { return "openstack_volume_types" }
func (osNetworkRow) TableName() string       { return "openstack_networks" }
func (osSubnetRow) TableName() string        { return "openstack_subnets" }
func (osSecurityGroupRow) TableName() string { return "openstack_security_groups" }
func (osFloatingIPRow) TableName() string    { return "openstack_floating_ips" }

func rawJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// setScope records a plugin resource as the scope of its marketplace resource.
func (s *Store) setScope(ctx context.Context, resourceID int64, typ string, id models.UUID) error {
	return translate(s.DB.WithContext(ctx).Table("resources").Where("id = ?", resourceID).
		Updates(map[string]any{"scope_type": typ, "scope_uuid": id}).Error, "Resource")
}

// EnsureOpenStackTenant records the tenant of a Create order once (by its
// marketplace resource; a second call returns the first row). Codes: internal.
func (s *Store) EnsureOpenStackTenant(ctx context.Context, t *OpenStackTenant) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var cur OpenStackTenant
		if err := db.Where("resource_id = ?", t.ResourceID).Limit(1).Find(&cur).Error; err != nil {
			return models.Internal(err)
		}
		if cur.ID != 0 {
			*t = cur
			return nil
		}
		now := tx.Now()
		t.UUID, t.Created, t.Modified = models.NewUUID(), now, now
		if err := db.Create(t).Error; err != nil {
			return translate(err, "Tenant")
		}
		return tx.setScope(ctx, *t.ResourceID, models.OfferingOpenStackTenant, t.UUID)
	})
}

// EnsureOpenStackInstance records the instance of a Create order once. Codes: internal.
func (s *Store) EnsureOpenStackInstance(ctx context.Context, in *OpenStackInstance) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var cur OpenStackInstance
		if err := db.Where("resource_id = ?", in.ResourceID).Limit(1).Find(&cur).Error; err != nil {
			return models.Internal(err)
		}
		if cur.ID != 0 {
			*in = cur
			return nil
		}
		now := tx.Now()
		in.UUID, in.Created, in.Modified = models.NewUUID(), now, now
		if err := db.Create(in).Error; err != nil {
			return translate(err, "Instance")
		}
		return tx.setScope(ctx, *in.ResourceID, models.OfferingOpenStackInstance, in.UUID)
	})
}

// EnsureOpenStackVolume records the volume of a Create order once. Codes: internal.
func (s *Store) EnsureOpenStackVolume(ctx context.Context, v *OpenStackVolume) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var cur OpenStackVolume
		if err := db.Where("resource_id = ?", v.ResourceID).Limit(1).Find(&cur).Error; err != nil {
			return models.Internal(err)
		}
		if cur.ID != 0 {
			*v = cur
			return nil
		}
		now := tx.Now()
		v.UUID, v.Created, v.Modified = models.NewUUID(), now, now
		if err := db.Create(v).Error; err != nil {
			return translate(err, "Volume")
		}
		return tx.setScope(ctx, *v.ResourceID, models.OfferingOpenStackVolume, v.UUID)
	})
}

// scopeTable is the plugin table of an OpenStack offering type.
func scopeTable(offeringType string) string {
	switch offeringType {
	case models.OfferingOpenStackTenant:
		return "openstack_tenants"
	case models.OfferingOpenStackInstance:
		return "openstack_instances"
	case models.OfferingOpenStackVolume:
		return "openstack_volumes"
	}
	return ""
}

// SetOpenStackScopeState moves the plugin resource of a marketplace
// resource to state (checked with models.CoreTransition; a move it refuses
// leaves the row as it is). Codes: not_found (no such plugin resource).
func (s *Store) SetOpenStackScopeState(ctx context.Context, offeringType string, resourceID int64, state models.CoreState, message string) error {
	table := scopeTable(offeringType)
	if table == "" {
		return models.Errorf(models.CodeInvalid, "%s has no OpenStack scope.", offeringType)
	}
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var cur []models.CoreState
		if err := forUpdate(db.Table(table).Where("resource_id = ?", resourceID)).Pluck("state", &cur).Error; err != nil {
			return models.Internal(err)
		}
		if len(cur) == 0 {
			return models.Errorf(models.CodeNotFound, "No plugin resource.")
		}
		if models.CoreTransition(cur[0], state) != nil {
			return nil
		}
		return translate(db.Table(table).Where("resource_id = ?", resourceID).
			Updates(map[string]any{"state": state, "error_message": message, "modified": tx.Now()}).Error, "Plugin resource")
	})
}

// FailOpenStackScope records a failed, rejected or canceled order on its
// plugin resource, which follows its marketplace resource: the row goes
// when the resource was terminated (nothing was made), is OK again when the
// resource is (a refused Update or Terminate order), and is Erred with the
// message otherwise.
func (s *Store) FailOpenStackScope(ctx context.Context, offeringType string, resourceID int64, message string) error {
	table := scopeTable(offeringType)
	if table == "" {
		return nil
	}
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var st []models.ResourceState
		if err := db.Table("resources").Where("id = ?", resourceID).Pluck("state", &st).Error; err != nil {
			return models.Internal(err)
		}
		if len(st) > 0 && st[0] == models.ResourceTerminated {
			if offeringType == models.OfferingOpenStackTenant {
				return tx.removeOpenStackScope(ctx, offeringType, resourceID)
			}
			return translate(db.Exec("DELETE FROM "+table+" WHERE resource_id = ?", resourceID).Error, "Plugin resource")
		}
		if len(st) > 0 && st[0] == models.ResourceOK {
			return translate(db.Table(table).Where("resource_id = ?", resourceID).
				Updates(map[string]any{"state": models.CoreOK, "modified": tx.Now()}).Error, "Plugin resource")
		}
		return translate(db.Table(table).Where("resource_id = ?", resourceID).
			Updates(map[string]any{"state": models.CoreErred, "error_message": message, "modified": tx.Now()}).Error, "Plugin resource")
	})
}

// CompleteOpenStackScope records a done order on its plugin resource:
// a Create or Update order sets it OK with what the provider read back
// (a tenant's ids, user and catalog; an instance's server, ports and
// volumes; a volume's size and attachment); a Terminate order removes it
// (a tenant with everything in it, ending the marketplace resources of
// its instances and volumes).
func (s *Store) CompleteOpenStackScope(ctx context.Context, offeringType string, orderType models.OrderType, resourceID int64, snap models.OpenStackSnapshot) error {
	return s.Tx(ctx, func(tx *Store) error {
		if orderType == models.OrderTerminate {
			return tx.removeOpenStackScope(ctx, offeringType, resourceID)
		}
		switch offeringType {
		case models.OfferingOpenStackTenant:
			var t OpenStackTenant
			if err := tx.DB.WithContext(ctx).Where("resource_id = ?", resourceID).Take(&t).Error; err != nil {
				return translate(err, "Tenant")
			}
			return tx.applyTenant(ctx, &t, snap, true)
		case models.OfferingOpenStackInstance:
			var in OpenStackInstance
			if err := tx.DB.WithContext(ctx).Where("resource_id = ?", resourceID).Take(&in).Error; err != nil {
				return translate(err, "Instance")
			}
			if len(snap.Servers) == 0 {
				return tx.setRow(ctx, "openstack_instances", in.ID, map[string]any{"state": models.CoreOK, "error_message": ""})
			}
			if err := tx.applyServer(ctx, &in, snap.Servers[0], models.CoreOK); err != nil {
				return err
			}
			for _, v := range snap.Volumes {
				if err := tx.upsertInstanceVolume(ctx, &in, v); err != nil {
					return err
				}
			}
			return nil
		case models.OfferingOpenStackVolume:
			var v OpenStackVolume
			if err := tx.DB.WithContext(ctx).Where("resource_id = ?", resourceID).Take(&v).Error; err != nil {
				return translate(err, "Volume")
			}
			updates := map[string]any{"state": models.CoreOK, "error_message": ""}
			if len(snap.Volumes) > 0 {
				for k, val := range tx.volumeUpdates(ctx, v.TenantID, snap.Volumes[0]) {
					updates[k] = val
				}
			}
			return tx.setRow(ctx, "openstack_volumes", v.ID, updates)
		}
		return nil
	})
}

func (s *Store) setRow(ctx context.Context, table string, id int64, updates map[string]any) error {
	updates["modified"] = s.Now()
	return translate(s.DB.WithContext(ctx).Table(table).Where("id = ?", id).Updates(updates).Error, "Plugin resource")
}

// removeOpenStackScope deletes the plugin resource of a terminated
// marketplace resource; a tenant takes its instances and volumes along,
// and their marketplace resources end with it.
func (s *Store) removeOpenStackScope(ctx context.Context, offeringType string, resourceID int64) error {
	db := s.DB.WithContext(ctx)
	switch offeringType {
	case models.OfferingOpenStackTenant:
		var t OpenStackTenant
		if err := db.Where("resource_id = ?", resourceID).Limit(1).Find(&t).Error; err != nil {
			return models.Internal(err)
		}
		if t.ID == 0 {
			return nil
		}
		var children []int64
		for _, table := range []string{"openstack_instances", "openstack_volumes"} {
			var ids []int64
			if err := db.Table(table).Where("tenant_id = ? AND resource_id IS NOT NULL", t.ID).Pluck("resource_id", &ids).Error; err != nil {
				return models.Internal(err)
			}
			children = append(children, ids...)
		}
		for _, id := range children {
			if err := s.endWithTenant(ctx, id, t.Name); err != nil {
				return err
			}
		}
		// Children first: SQLite enforces no cascade unless asked to.
		for _, table := range []string{"openstack_volumes", "openstack_instances", "openstack_floating_ips", "openstack_security_groups",
			"openstack_subnets", "openstack_networks", "openstack_volume_types", "openstack_images", "openstack_flavors"} {
			if err := db.Exec("DELETE FROM "+table+" WHERE tenant_id = ?", t.ID).Error; err != nil {
				return models.Internal(err)
			}
		}
		return translate(db.Delete(&OpenStackTenant{}, t.ID).Error, "Tenant")
	case models.OfferingOpenStackInstance:
		var ids []int64
		if err := db.Table("openstack_instances").Where("resource_id = ?", resourceID).Pluck("id", &ids).Error; err != nil {
			return models.Internal(err)
		}
		if len(ids) == 0 {
			return nil
		}
		// The volumes the instance order made go with it; volumes ordered on their own stay (detached).
		if err := db.Exec("DELETE FROM openstack_volumes WHERE instance_id IN ? AND resource_id IS NULL", ids).Error; err != nil {
			return models.Internal(err)
		}
		if err := db.Exec("UPDATE openstack_volumes SET instance_id = NULL, device = '' WHERE instance_id IN ?", ids).Error; err != nil {
			return models.Internal(err)
		}
		return translate(db.Exec("DELETE FROM openstack_instances WHERE id IN ?", ids).Error, "Instance")
	case models.OfferingOpenStackVolume:
		return translate(db.Exec("DELETE FROM openstack_volumes WHERE resource_id = ?", resourceID).Error, "Volume")
	}
	return nil
}

// endWithTenant terminates the marketplace resource of an instance or
// volume deleted with its tenant: state Terminated, its resource count
// given back, its plan period closed, an event.
func (s *Store) endWithTenant(ctx context.Context, resourceID int64, tenant string) error {
	db := s.DB.WithContext(ctx)
	var r struct {
		UUID       models.UUID
		Name       string
		State      models.ResourceState
		ProjectID  int64
		CustomerID int64
	}
	if err := db.Raw(`SELECT r.uuid, r.name, r.state, r.project_id, p.customer_id FROM resources r JOIN projects p ON p.id = r.project_id
		WHERE r.id = ?`, resourceID).Scan(&r).Error; err != nil {
		return models.Internal(err)
	}
	if r.UUID.IsZero() || r.State == models.ResourceTerminated {
		return nil
	}
	now := s.Now()
	if err := s.setResourceState(ctx, resourceID, models.ResourceTerminated, now); err != nil {
		return err
	}
	if err := s.AddQuotaUsage(ctx, []models.QuotaDelta{
		{Scope: models.Scope{Type: models.ScopeCustomer, ID: r.CustomerID}, Name: models.QuotaResourceCount, Delta: -1},
		{Scope: models.Scope{Type: models.ScopeProject, ID: r.ProjectID}, Name: models.QuotaResourceCount, Delta: -1},
	}); err != nil {
		return err
	}
	if err := translate(db.Model(&planPeriodRow{}).Where(`resource_id = ? AND "end" IS NULL`, resourceID).Update("end", now).Error, "Plan period"); err != nil {
		return err
	}
	return s.EmitEvent(ctx, &models.Event{
		EventType: "marketplace_resource_terminate_succeeded",
		Message:   fmt.Sprintf("Resource %s has been terminated with its tenant %s.", r.Name, tenant),
		Context:   map[string]any{"resource_uuid": r.UUID.String(), "resource_name": r.Name},
		Scopes:    []models.Scope{{Type: models.ScopeProject, ID: r.ProjectID}, {Type: models.ScopeCustomer, ID: r.CustomerID}},
	})
}

// applyTenant records a tenant's snapshot: its ids and user (when the
// snapshot carries them), quotas and catalog; ok also sets the state OK.
func (s *Store) applyTenant(ctx context.Context, t *OpenStackTenant, snap models.OpenStackSnapshot, ok bool) error {
	updates := map[string]any{}
	if ok {
		updates["state"], updates["error_message"] = models.CoreOK, ""
	}
	if ti := snap.Tenant; ti != nil {
		updates["backend_id"], updates["internal_network_id"], updates["subnet_id"] = ti.BackendID, ti.InternalNetworkID, ti.SubnetID
		updates["router_id"], updates["external_network_id"], updates["user_username"] = ti.RouterID, ti.ExternalNetworkID, ti.UserUsername
		updates["user_password"], updates["availability_zone"] = ti.UserPassword, ti.AvailabilityZone
	}
	if snap.Quotas != nil {
		updates["quotas"] = rawJSON(snap.Quotas)
	}
	if !snap.Taken.IsZero() {
		updates["pulled"] = snap.Taken
	}
	if err := s.setRow(ctx, "openstack_tenants", t.ID, updates); err != nil {
		return err
	}
	return s.applyCatalog(ctx, t.ID, snap)
}

// syncRows makes the rows of table for a tenant exactly the given backend
// ids: existing rows are updated, new ones inserted, missing ones deleted.
func (s *Store) syncRows(ctx context.Context, table string, tenantID int64, ids []string, values func(i int) map[string]any) error {
	db := s.DB.WithContext(ctx)
	var have []struct {
		ID        int64
		BackendID string
	}
	if err := db.Table(table).Select("id, backend_id").Where("tenant_id = ?", tenantID).Scan(&have).Error; err != nil {
		return models.Internal(err)
	}
	byBackend := map[string]int64{}
	for _, h := range have {
		byBackend[h.BackendID] = h.ID
	}
	keep := map[string]bool{}
	for i, id := range ids {
		if keep[id] {
			continue
		}
		keep[id] = true
		v := values(i)
		if rowID, ok := byBackend[id]; ok {
			delete(v, "created")
			if err := db.Table(table).Where("id = ?", rowID).Updates(v).Error; err != nil {
				return translate(err, table)
			}
			continue
		}
		v["uuid"], v["tenant_id"], v["backend_id"] = models.NewUUID(), tenantID, id
		if err := db.Table(table).Create(v).Error; err != nil {
			return translate(err, table)
		}
	}
	var gone []int64
	for _, h := range have {
		if !keep[h.BackendID] {
			gone = append(gone, h.ID)
		}
	}
	if len(gone) > 0 {
		return translate(db.Exec("DELETE FROM "+table+" WHERE id IN ?", gone).Error, table)
	}
	return nil
}

// applyCatalog records a tenant's flavors, images, volume types, networks,
// subnets, security groups and floating IPs (each list only when the
// snapshot has it: an instance's read-back carries no catalog).
func (s *Store) applyCatalog(ctx context.Context, tenantID int64, snap models.OpenStackSnapshot) error {
	now := s.Now()
	if !snap.Full {
		return nil // an order's read-back: no catalog
	}
	type list struct {
		table string
		ids   []string
		vals  func(i int) map[string]any
	}
	ids := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	lists := []list{
		{"openstack_flavors", ids(len(snap.Flavors), func(i int) string { return snap.Flavors[i].BackendID }), func(i int) map[string]any {
			f := snap.Flavors[i]
			return map[string]any{"name": f.Name, "cores": f.Cores, "ram": f.RAM, "disk": f.Disk}
		}},
		{"openstack_images", ids(len(snap.Images), func(i int) string { return snap.Images[i].BackendID }), func(i int) map[string]any {
			im := snap.Images[i]
			return map[string]any{"name": im.Name, "min_disk": im.MinDisk, "min_ram": im.MinRAM, "backend_created_at": im.Created}
		}},
		{"openstack_volume_types", ids(len(snap.VolumeTypes), func(i int) string { return snap.VolumeTypes[i].BackendID }), func(i int) map[string]any {
			vt := snap.VolumeTypes[i]
			return map[string]any{"name": vt.Name, "description": vt.Description}
		}},
		{"openstack_networks", ids(len(snap.Networks), func(i int) string { return snap.Networks[i].BackendID }), func(i int) map[string]any {
			n := snap.Networks[i]
			return map[string]any{"name": n.Name, "description": n.Description, "is_external": n.External, "is_shared": n.Shared, "mtu": n.MTU,
				"state": models.CoreOK, "created": now, "modified": now}
		}},
		{"openstack_security_groups", ids(len(snap.SecurityGroups), func(i int) string { return snap.SecurityGroups[i].BackendID }), func(i int) map[string]any {
			g := snap.SecurityGroups[i]
			return map[string]any{"name": g.Name, "description": g.Description, "rules": rawJSON(nonNilSlice(g.Rules)), "state": models.CoreOK,
				"created": now, "modified": now}
		}},
		{"openstack_floating_ips", ids(len(snap.FloatingIPs), func(i int) string { return snap.FloatingIPs[i].BackendID }), func(i int) map[string]any {
			f := snap.FloatingIPs[i]
			return map[string]any{"address": f.Address, "runtime_state": f.RuntimeState, "backend_network_id": f.NetworkBackendID,
				"port_backend_id": f.PortBackendID, "fixed_ip": f.FixedIP, "description": f.Description, "state": models.CoreOK, "created": now, "modified": now}
		}},
	}
	for _, l := range lists {
		if err := s.syncRows(ctx, l.table, tenantID, l.ids, l.vals); err != nil {
			return err
		}
	}
	var nets []struct {
		ID        int64
		BackendID string
	}
	if err := s.DB.WithContext(ctx).Table("openstack_networks").Select("id, backend_id").Where("tenant_id = ?", tenantID).Scan(&nets).Error; err != nil {
		return models.Internal(err)
	}
	netID := map[string]int64{}
	for _, n := range nets {
		netID[n.BackendID] = n.ID
	}
	return s.syncRows(ctx, "openstack_subnets", tenantID, ids(len(snap.Subnets), func(i int) string { return snap.Subnets[i].BackendID }),
		func(i int) map[string]any {
			sn := snap.Subnets[i]
			v := map[string]any{"name": sn.Name, "description": sn.Description, "cidr": sn.CIDR, "gateway_ip": sn.GatewayIP,
				"ip_version": sn.IPVersion, "enable_dhcp": sn.EnableDHCP, "allocation_pools": rawJSON(nonNilSlice(sn.AllocationPools)),
				"dns_nameservers": rawJSON(nonNilSlice(sn.DNSNameservers)), "state": models.CoreOK, "created": now, "modified": now, "network_id": nil}
			if id, ok := netID[sn.NetworkBackendID]; ok {
				v["network_id"] = id
			}
			return v
		})
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// applyServer records what a server looks like on an instance row.
func (s *Store) applyServer(ctx context.Context, in *OpenStackInstance, sv models.OpenStackServer, state models.CoreState) error {
	updates := map[string]any{"backend_id": sv.BackendID, "runtime_state": sv.Status,
		"internal_ips": rawJSON(nonNilSlice(sv.InternalIPs)), "external_ips": rawJSON(nonNilSlice(sv.ExternalIPs)),
		"security_groups": rawJSON(nonNilSlice(sv.SecurityGroups)), "ports": rawJSON(nonNilSlice(sv.Ports))}
	if sv.FlavorName != "" {
		updates["flavor_name"], updates["cores"], updates["ram"], updates["flavor_disk"] = sv.FlavorName, sv.Cores, sv.RAM, sv.Disk
	}
	if sv.ImageName != "" {
		updates["image_name"] = sv.ImageName
	}
	if sv.AvailabilityZone != "" {
		updates["availability_zone"] = sv.AvailabilityZone
	}
	if state != "" {
		updates["state"] = state
		if state == models.CoreOK {
			updates["error_message"] = ""
		}
	}
	if in.StartTime == nil && sv.Status == "ACTIVE" {
		updates["start_time"] = s.Now()
	}
	return s.setRow(ctx, "openstack_instances", in.ID, updates)
}

func (s *Store) volumeUpdates(ctx context.Context, tenantID int64, v models.OpenStackVolume) map[string]any {
	updates := map[string]any{"backend_id": v.BackendID, "runtime_state": v.Status, "size": v.Size, "bootable": v.Bootable,
		"type_name": v.TypeName, "device": v.Device, "availability_zone": v.AvailabilityZone, "instance_id": nil}
	if v.ServerBackendID != "" {
		var ids []int64
		_ = s.DB.WithContext(ctx).Table("openstack_instances").Where("tenant_id = ? AND backend_id = ?", tenantID, v.ServerBackendID).Pluck("id", &ids).Error
		if len(ids) > 0 {
			updates["instance_id"] = ids[0]
		}
	}
	if v.ImageBackendID != "" {
		var names []string
		_ = s.DB.WithContext(ctx).Table("openstack_images").Where("tenant_id = ? AND backend_id = ?", tenantID, v.ImageBackendID).Pluck("name", &names).Error
		if len(names) > 0 {
			updates["image_name"] = names[0]
		}
	}
	return updates
}

// upsertInstanceVolume records a volume an instance order made (no
// marketplace resource of its own).
func (s *Store) upsertInstanceVolume(ctx context.Context, in *OpenStackInstance, v models.OpenStackVolume) error {
	db := s.DB.WithContext(ctx)
	var cur OpenStackVolume
	if err := db.Where("tenant_id = ? AND backend_id = ?", in.TenantID, v.BackendID).Limit(1).Find(&cur).Error; err != nil {
		return models.Internal(err)
	}
	updates := s.volumeUpdates(ctx, in.TenantID, v)
	if cur.ID != 0 {
		return s.setRow(ctx, "openstack_volumes", cur.ID, updates)
	}
	now := s.Now()
	row := OpenStackVolume{UUID: models.NewUUID(), ProjectID: in.ProjectID, TenantID: in.TenantID, Name: v.Name, Description: v.Description,
		State: models.CoreOK, Created: now, Modified: now}
	if err := db.Create(&row).Error; err != nil {
		return translate(err, "Volume")
	}
	return s.setRow(ctx, "openstack_volumes", row.ID, updates)
}

// OpenStackTenantByRef finds a tenant by its own UUID or its marketplace
// resource's. Codes: not_found.
func (s *Store) OpenStackTenantByRef(ctx context.Context, ref models.UUID) (*OpenStackTenant, error) {
	var t OpenStackTenant
	err := s.DB.WithContext(ctx).Where("uuid = ? OR resource_id = (SELECT id FROM resources WHERE uuid = ?)", ref, ref).Take(&t).Error
	if err != nil {
		return nil, translate(err, "Tenant")
	}
	return &t, nil
}

// OpenStackTenantByID loads a tenant. Codes: not_found.
func (s *Store) OpenStackTenantByID(ctx context.Context, id int64) (*OpenStackTenant, error) {
	var t OpenStackTenant
	if err := s.DB.WithContext(ctx).Take(&t, id).Error; err != nil {
		return nil, translate(err, "Tenant")
	}
	return &t, nil
}

// OpenStackTenantOfResource loads the tenant a marketplace resource is the scope of. Codes: not_found.
func (s *Store) OpenStackTenantOfResource(ctx context.Context, resourceID int64) (*OpenStackTenant, error) {
	var t OpenStackTenant
	if err := s.DB.WithContext(ctx).Where("resource_id = ?", resourceID).Take(&t).Error; err != nil {
		return nil, translate(err, "Tenant")
	}
	return &t, nil
}

// OpenStackInstanceByRef finds an instance by its own UUID or its
// marketplace resource's. Codes: not_found.
func (s *Store) OpenStackInstanceByRef(ctx context.Context, ref models.UUID) (*OpenStackInstance, error) {
	var in OpenStackInstance
	err := s.DB.WithContext(ctx).Where("uuid = ? OR resource_id = (SELECT id FROM resources WHERE uuid = ?)", ref, ref).Take(&in).Error
	if err != nil {
		return nil, translate(err, "Instance")
	}
	return &in, nil
}

// OpenStackInstanceOfResource loads the instance of a marketplace resource. Codes: not_found.
func (s *Store) OpenStackInstanceOfResource(ctx context.Context, resourceID int64) (*OpenStackInstance, error) {
	var in OpenStackInstance
	if err := s.DB.WithContext(ctx).Where("resource_id = ?", resourceID).Take(&in).Error; err != nil {
		return nil, translate(err, "Instance")
	}
	return &in, nil
}

// OpenStackVolumeOfResource loads the volume of a marketplace resource. Codes: not_found.
func (s *Store) OpenStackVolumeOfResource(ctx context.Context, resourceID int64) (*OpenStackVolume, error) {
	var v OpenStackVolume
	if err := s.DB.WithContext(ctx).Where("resource_id = ?", resourceID).Take(&v).Error; err != nil {
		return nil, translate(err, "Volume")
	}
	return &v, nil
}

// catalogRef finds a row of a tenant's catalog table by its UUID, backend
// id or name (in that order).
func (s *Store) catalogRef(ctx context.Context, table string, tenantID int64, ref string, out any, what string) error {
	db := s.DB.WithContext(ctx).Table(table).Where("tenant_id = ?", tenantID)
	if id, err := models.ParseUUID(ref); err == nil {
		if res := db.Session(&gorm.Session{}).Where("uuid = ?", id).Limit(1).Find(out); res.Error != nil {
			return models.Internal(res.Error)
		} else if res.RowsAffected > 0 {
			return nil
		}
	}
	for _, col := range []string{"backend_id", "name"} {
		res := db.Session(&gorm.Session{}).Where(col+" = ?", ref).Order("id").Limit(1).Find(out)
		if res.Error != nil {
			return models.Internal(res.Error)
		}
		if res.RowsAffected > 0 {
			return nil
		}
	}
	return models.Errorf(models.CodeNotFound, "%s %q not found in the tenant.", what, ref)
}

// OpenStackFlavor finds a flavor of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) OpenStackFlavor(ctx context.Context, tenantID int64, ref string) (models.OpenStackFlavor, error) {
	var r osFlavorRow
	if err := s.catalogRef(ctx, "openstack_flavors", tenantID, ref, &r, "Flavor"); err != nil {
		return models.OpenStackFlavor{}, err
	}
	return models.OpenStackFlavor{BackendID: r.BackendID, Name: r.Name, Cores: r.Cores, RAM: r.RAM, Disk: r.Disk}, nil
}

// OpenStackImage finds an image of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) OpenStackImage(ctx context.Context, tenantID int64, ref string) (models.OpenStackImage, error) {
	var r osImageRow
	if err := s.catalogRef(ctx, "openstack_images", tenantID, ref, &r, "Image"); err != nil {
		return models.OpenStackImage{}, err
	}
	return models.OpenStackImage{BackendID: r.BackendID, Name: r.Name, MinDisk: r.MinDisk, MinRAM: r.MinRAM, Created: r.BackendCreatedAt}, nil
}

// OpenStackVolumeType finds a volume type of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) OpenStackVolumeType(ctx context.Context, tenantID int64, ref string) (models.OpenStackVolumeType, error) {
	var r osVolumeTypeRow
	if err := s.catalogRef(ctx, "openstack_volume_types", tenantID, ref, &r, "Volume type"); err != nil {
		return models.OpenStackVolumeType{}, err
	}
	return models.OpenStackVolumeType{BackendID: r.BackendID, Name: r.Name, Description: r.Description}, nil
}

// OpenStackSubnet finds a subnet of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) OpenStackSubnet(ctx context.Context, tenantID int64, ref string) (models.OpenStackSubnet, error) {
	var r osSubnetRow
	if err := s.catalogRef(ctx, "openstack_subnets", tenantID, ref, &r, "Subnet"); err != nil {
		return models.OpenStackSubnet{}, err
	}
	out := models.OpenStackSubnet{BackendID: r.BackendID, Name: r.Name, CIDR: r.CIDR}
	if r.NetworkID != nil {
		var nets []string
		if err := s.DB.WithContext(ctx).Table("openstack_networks").Where("id = ?", *r.NetworkID).Pluck("backend_id", &nets).Error; err != nil {
			return out, models.Internal(err)
		}
		if len(nets) > 0 {
			out.NetworkBackendID = nets[0]
		}
	}
	return out, nil
}

// OpenStackSecurityGroup finds a security group of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) OpenStackSecurityGroup(ctx context.Context, tenantID int64, ref string) (models.OpenStackSecurityGroup, error) {
	var r osSecurityGroupRow
	if err := s.catalogRef(ctx, "openstack_security_groups", tenantID, ref, &r, "Security group"); err != nil {
		return models.OpenStackSecurityGroup{}, err
	}
	return models.OpenStackSecurityGroup{BackendID: r.BackendID, Name: r.Name, Description: r.Description}, nil
}

// OpenStackPullTarget is a tenant a pull reads, with its offering's secret options.
type OpenStackPullTarget struct {
	UUID          models.UUID
	Name          string
	BackendID     string
	SecretOptions map[string]any
}

// OpenStackTenantsToPull lists the tenants that exist in their cloud (OK or Erred, with a backend id).
func (s *Store) OpenStackTenantsToPull(ctx context.Context) ([]OpenStackPullTarget, error) {
	var rows []struct {
		UUID          models.UUID
		Name          string
		BackendID     string
		SecretOptions []byte
	}
	err := s.DB.WithContext(ctx).Table("openstack_tenants t").Select("t.uuid, t.name, t.backend_id, f.secret_options").
		Joins("JOIN offerings f ON f.id = t.offering_id").
		Where("t.backend_id <> '' AND t.state IN ?", []models.CoreState{models.CoreOK, models.CoreErred}).Order("t.id").Scan(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	out := make([]OpenStackPullTarget, len(rows))
	for i, r := range rows {
		out[i] = OpenStackPullTarget{UUID: r.UUID, Name: r.Name, BackendID: r.BackendID}
		_ = jsonUnmarshal(r.SecretOptions, &out[i].SecretOptions)
	}
	return out, nil
}

// OpenStackPullReport says what a pull changed.
type OpenStackPullReport struct {
	Updated  int      // instances and volumes whose backend state was recorded
	Erred    []string // plugin resources found erred or gone on the backend
	Imported []string // servers and volumes found that Waldur did not know
	Removed  int      // imported rows whose backend object is gone
}

// ApplyOpenStackPull records a tenant's snapshot in one transaction: the
// catalog and quotas; each instance's and volume's backend state. An
// instance or volume that was OK before the snapshot was taken and is
// missing from it (deleted behind Waldur's back) or in ERROR becomes
// Erred, and so does its marketplace resource, with the event
// marketplace_resource_erred_on_backend. Servers and volumes Waldur does
// not know (neither by backend id nor by their waldur_resource_uuid
// metadata) are imported as plugin rows without a marketplace resource
// (resource_import_succeeded). A tenant gone from the cloud is Erred the
// same way. Codes: not_found.
func (s *Store) ApplyOpenStackPull(ctx context.Context, tenantUUID models.UUID, snap models.OpenStackSnapshot) (OpenStackPullReport, error) {
	var rep OpenStackPullReport
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var ids []int64
		if err := forUpdate(db.Table("openstack_tenants").Where("uuid = ?", tenantUUID)).Pluck("id", &ids).Error; err != nil {
			return models.Internal(err)
		}
		if len(ids) == 0 {
			return models.Errorf(models.CodeNotFound, "Tenant not found.")
		}
		t, err := tx.OpenStackTenantByID(ctx, ids[0])
		if err != nil {
			return err
		}
		if snap.Gone {
			if t.State == models.CoreOK && t.Modified.Before(snap.Taken) {
				msg := fmt.Sprintf("Tenant %s (%s) is gone from the backend.", t.Name, t.BackendID)
				if err := tx.errOnBackend(ctx, "openstack_tenants", t.ID, t.ResourceID, msg); err != nil {
					return err
				}
				rep.Erred = append(rep.Erred, t.Name)
			}
			return nil
		}
		if err := tx.applyTenant(ctx, t, snap, false); err != nil {
			return err
		}
		return tx.applyWorkloads(ctx, t, snap, &rep)
	})
	return rep, err
}

// errOnBackend marks a plugin row Erred with message and its marketplace
// resource (if any, and if OK) Erred with marketplace_resource_erred_on_backend.
func (s *Store) errOnBackend(ctx context.Context, table string, id int64, resourceID *int64, msg string) error {
	if err := s.setRow(ctx, table, id, map[string]any{"state": models.CoreErred, "error_message": msg}); err != nil {
		return err
	}
	if resourceID == nil {
		return nil
	}
	var res []struct {
		UUID  models.UUID
		State models.ResourceState
	}
	if err := s.DB.WithContext(ctx).Table("resources").Select("uuid, state").Where("id = ?", *resourceID).Scan(&res).Error; err != nil {
		return models.Internal(err)
	}
	if len(res) == 0 || res[0].State != models.ResourceOK {
		return nil
	}
	return s.ChangeResource(ctx, res[0].UUID, ResourceChange{State: models.ResourceErred, ErrorMessage: msg})
}

func (s *Store) applyWorkloads(ctx context.Context, t *OpenStackTenant, snap models.OpenStackSnapshot, rep *OpenStackPullReport) error {
	db := s.DB.WithContext(ctx)
	var instances []OpenStackInstance
	if err := db.Where("tenant_id = ?", t.ID).Find(&instances).Error; err != nil {
		return models.Internal(err)
	}
	var vols []OpenStackVolume
	if err := db.Where("tenant_id = ?", t.ID).Find(&vols).Error; err != nil {
		return models.Internal(err)
	}
	// Whose resource is whose: rows by marketplace resource UUID (an order in flight has a row before the backend has an id).
	var resUUIDs []struct {
		ID   int64
		UUID models.UUID
	}
	if err := db.Table("resources").Select("resources.id, resources.uuid").
		Where("resources.id IN (SELECT resource_id FROM openstack_instances WHERE tenant_id = ?) OR resources.id IN (SELECT resource_id FROM openstack_volumes WHERE tenant_id = ?)",
			t.ID, t.ID).Scan(&resUUIDs).Error; err != nil {
		return models.Internal(err)
	}
	known := map[string]bool{}
	for _, r := range resUUIDs {
		known[r.UUID.String()] = true
	}
	instanceOfResource := map[string]*OpenStackInstance{}
	byResourceID := map[int64]models.UUID{}
	for _, r := range resUUIDs {
		byResourceID[r.ID] = r.UUID
	}
	for i := range instances {
		if instances[i].ResourceID != nil {
			instanceOfResource[byResourceID[*instances[i].ResourceID].String()] = &instances[i]
		}
	}
	servers := map[string]models.OpenStackServer{}
	for _, sv := range snap.Servers {
		servers[sv.BackendID] = sv
	}
	seen := map[string]bool{}
	scopes := []models.Scope{{Type: models.ScopeProject, ID: t.ProjectID}}
	for i := range instances {
		in := &instances[i]
		if in.BackendID == "" {
			continue // an order in flight
		}
		seen[in.BackendID] = true
		sv, ok := servers[in.BackendID]
		settled := in.Modified.Before(snap.Taken)
		switch {
		case !ok && in.ResourceID == nil:
			if err := db.Delete(&OpenStackInstance{}, in.ID).Error; err != nil {
				return models.Internal(err)
			}
			rep.Removed++
		case !ok && in.State == models.CoreOK && settled:
			msg := fmt.Sprintf("Instance %s (%s) is gone from the backend.", in.Name, in.BackendID)
			if err := s.errOnBackend(ctx, "openstack_instances", in.ID, in.ResourceID, msg); err != nil {
				return err
			}
			rep.Erred = append(rep.Erred, in.Name)
		case ok && in.State == models.CoreOK && settled && sv.Status == "ERROR":
			if err := s.applyServer(ctx, in, sv, ""); err != nil {
				return err
			}
			msg := fmt.Sprintf("Instance %s (%s) is in ERROR on the backend: %s", in.Name, in.BackendID, sv.Fault)
			if err := s.errOnBackend(ctx, "openstack_instances", in.ID, in.ResourceID, msg); err != nil {
				return err
			}
			rep.Erred = append(rep.Erred, in.Name)
		case ok && settled && (in.State == models.CoreOK || in.State == models.CoreErred):
			if err := s.applyServer(ctx, in, sv, ""); err != nil {
				return err
			}
			rep.Updated++
		}
	}
	for _, sv := range snap.Servers {
		if seen[sv.BackendID] || known[sv.Metadata[models.MetaResourceUUID]] {
			continue
		}
		now := s.Now()
		in := OpenStackInstance{UUID: models.NewUUID(), ProjectID: t.ProjectID, TenantID: t.ID, Name: sv.Name, State: models.ServerState(sv.Status),
			BackendID: sv.BackendID, Created: now, Modified: now}
		if err := db.Create(&in).Error; err != nil {
			return translate(err, "Instance")
		}
		if err := s.applyServer(ctx, &in, sv, ""); err != nil {
			return err
		}
		rep.Imported = append(rep.Imported, sv.Name)
		if err := s.EmitEvent(ctx, &models.Event{EventType: "resource_import_succeeded",
			Message: fmt.Sprintf("Instance %s has been imported from tenant %s.", sv.Name, t.Name),
			Context: map[string]any{"resource_uuid": in.UUID.String(), "resource_name": in.Name, "resource_type": models.OfferingOpenStackInstance},
			Scopes:  scopes}); err != nil {
			return err
		}
	}

	volumes := map[string]models.OpenStackVolume{}
	for _, v := range snap.Volumes {
		volumes[v.BackendID] = v
	}
	seenVol := map[string]bool{}
	for i := range vols {
		v := &vols[i]
		if v.BackendID == "" {
			continue
		}
		seenVol[v.BackendID] = true
		bv, ok := volumes[v.BackendID]
		settled := v.Modified.Before(snap.Taken)
		switch {
		case !ok && v.ResourceID == nil && settled:
			if err := db.Delete(&OpenStackVolume{}, v.ID).Error; err != nil {
				return models.Internal(err)
			}
			rep.Removed++
		case !ok && v.State == models.CoreOK && settled:
			msg := fmt.Sprintf("Volume %s (%s) is gone from the backend.", v.Name, v.BackendID)
			if err := s.errOnBackend(ctx, "openstack_volumes", v.ID, v.ResourceID, msg); err != nil {
				return err
			}
			rep.Erred = append(rep.Erred, v.Name)
		case ok && settled && (v.State == models.CoreOK || v.State == models.CoreErred):
			if err := s.setRow(ctx, "openstack_volumes", v.ID, s.volumeUpdates(ctx, t.ID, bv)); err != nil {
				return err
			}
			rep.Updated++
		}
	}
	for _, bv := range snap.Volumes {
		if seenVol[bv.BackendID] {
			continue
		}
		owner := bv.Metadata[models.MetaResourceUUID]
		if in := instanceOfResource[owner]; in != nil && in.State == models.CoreOK {
			if err := s.upsertInstanceVolume(ctx, in, bv); err != nil { // an instance's own volume, recorded late
				return err
			}
			continue
		}
		if known[owner] {
			continue // an order in flight
		}
		now := s.Now()
		row := OpenStackVolume{UUID: models.NewUUID(), ProjectID: t.ProjectID, TenantID: t.ID, Name: bv.Name, Description: bv.Description,
			State: models.CoreOK, Created: now, Modified: now}
		if bv.Status == "error" {
			row.State = models.CoreErred
		}
		if err := db.Create(&row).Error; err != nil {
			return translate(err, "Volume")
		}
		if err := s.setRow(ctx, "openstack_volumes", row.ID, s.volumeUpdates(ctx, t.ID, bv)); err != nil {
			return err
		}
		rep.Imported = append(rep.Imported, bv.Name)
		if err := s.EmitEvent(ctx, &models.Event{EventType: "resource_import_succeeded",
			Message: fmt.Sprintf("Volume %s has been imported from tenant %s.", bv.Name, t.Name),
			Context: map[string]any{"resource_uuid": row.UUID.String(), "resource_name": row.Name, "resource_type": models.OfferingOpenStackVolume},
			Scopes:  scopes}); err != nil {
			return err
		}
	}
	return nil
}

// OpenStackTenantSecrets returns the secret options of a tenant's offering
// (its cloud's credentials). Codes: not_found.
func (s *Store) OpenStackTenantSecrets(ctx context.Context, tenantID int64) (map[string]any, error) {
	var raw [][]byte
	err := s.DB.WithContext(ctx).Table("openstack_tenants t").Joins("JOIN offerings f ON f.id = t.offering_id").
		Where("t.id = ?", tenantID).Pluck("f.secret_options", &raw).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	if len(raw) == 0 {
		return nil, models.Errorf(models.CodeNotFound, "Tenant not found.")
	}
	out := map[string]any{}
	_ = jsonUnmarshal(raw[0], &out)
	return out, nil
}
