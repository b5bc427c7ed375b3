package openstack

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The core half's store: the plugin resources (tenants, instances and
// volumes, each the scope of its marketplace resource) and what pulls read
// per tenant, in the tables of migration 13. The order workflow's scope
// keeper records them through Ensure*, CompleteScope and FailScope; the
// pull through ApplyPull.

// Store is the plugin's queries over the application database, on the
// platform's store (its transactions, events, quotas and resources).
type Store struct {
	*store.Store
}

// NewStore returns the plugin's store on st.
func NewStore(st *store.Store) *Store { return &Store{Store: st} }

// Tx runs fn in a transaction of the platform's store (store.Store.Tx).
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	return s.Store.Tx(ctx, func(tx *store.Store) error { return fn(&Store{Store: tx}) })
}

// TenantRow is a tenant row.
type TenantRow struct {
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
func (TenantRow) TableName() string { return "openstack_tenants" }

// QuotaList decodes the tenant's quotas.
func (t *TenantRow) QuotaList() []CloudQuota {
	var q []CloudQuota
	_ = json.Unmarshal(t.Quotas, &q)
	return q
}

// InstanceRow is an instance row.
type InstanceRow struct {
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
func (InstanceRow) TableName() string { return "openstack_instances" }

// VolumeRow is a volume row (a volume ordered on its own, or one an
// instance order made, or one a pull imported).
type VolumeRow struct {
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
func (VolumeRow) TableName() string { return "openstack_volumes" }

// Catalog rows of a tenant.
type (
	flavorRow struct {
		ID        int64 `gorm:"primaryKey"`
		UUID      models.UUID
		TenantID  int64
		BackendID string
		Name      string
		Cores     int
		RAM       int64 `gorm:"column:ram"`
		Disk      int64
	}
	imageRow struct {
		ID               int64 `gorm:"primaryKey"`
		UUID             models.UUID
		TenantID         int64
		BackendID        string
		Name             string
		MinDisk          int64
		MinRAM           int64 `gorm:"column:min_ram"`
		BackendCreatedAt *time.Time
	}
	volumeTypeRow struct {
		ID          int64 `gorm:"primaryKey"`
		UUID        models.UUID
		TenantID    int64
		BackendID   string
		Name        string
		Description string
	}
	networkRow struct {
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
	subnetRow struct {
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
	securityGroupRow struct {
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
	floatingIPRow struct {
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

func (flavorRow) TableName() string        { return "openstack_flavors" }
func (imageRow) TableName() string         { return "openstack_images" }
func (volumeTypeRow) TableName() string    { return "openstack_volume_types" }
func (networkRow) TableName() string       { return "openstack_networks" }
func (subnetRow) TableName() string        { return "openstack_subnets" }
func (securityGroupRow) TableName() string { return "openstack_security_groups" }
func (floatingIPRow) TableName() string    { return "openstack_floating_ips" }

func rawJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// setScope records a plugin resource as the scope of its marketplace resource.
func (s *Store) setScope(ctx context.Context, resourceID int64, typ string, id models.UUID) error {
	return store.Translate(s.DB.WithContext(ctx).Table("resources").Where("id = ?", resourceID).
		Updates(map[string]any{"scope_type": typ, "scope_uuid": id}).Error, "Resource")
}

// scopeRow is a plugin resource row (*TenantRow, *InstanceRow,
// *VolumeRow) as ensureScope sees it.
type scopeRow[T any] interface {
	*T
	// scopeKeys are the row's id, marketplace resource and UUID.
	scopeKeys() (id int64, resourceID *int64, uuid models.UUID)
	// stamp gives a new row its UUID and creation time.
	stamp(uuid models.UUID, now time.Time)
}

func (t *TenantRow) scopeKeys() (int64, *int64, models.UUID) { return t.ID, t.ResourceID, t.UUID }
func (t *TenantRow) stamp(id models.UUID, now time.Time) {
	t.UUID, t.Created, t.Modified = id, now, now
}
func (in *InstanceRow) scopeKeys() (int64, *int64, models.UUID) { return in.ID, in.ResourceID, in.UUID }
func (in *InstanceRow) stamp(id models.UUID, now time.Time) {
	in.UUID, in.Created, in.Modified = id, now, now
}
func (v *VolumeRow) scopeKeys() (int64, *int64, models.UUID) { return v.ID, v.ResourceID, v.UUID }
func (v *VolumeRow) stamp(id models.UUID, now time.Time) {
	v.UUID, v.Created, v.Modified = id, now, now
}

// ensureScope records row, the plugin resource of a Create order, once, in
// one transaction: when its marketplace resource already has a row, row
// becomes that row (nothing is updated); otherwise row is inserted with a
// new UUID and made the resource's scope of type scopeType. what names the
// row in errors. Nothing retries a race: a concurrent call that inserted
// first makes this insert hit the unique resource_id, and the error goes
// through store.Translate (conflict, "<what> already exists."). Codes:
// internal, conflict.
func ensureScope[T any, P scopeRow[T]](ctx context.Context, s *Store, row P, scopeType, what string) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		_, resourceID, _ := row.scopeKeys()
		var cur T
		if err := db.Where("resource_id = ?", resourceID).Limit(1).Find(&cur).Error; err != nil {
			return models.Internal(err)
		}
		if id, _, _ := P(&cur).scopeKeys(); id != 0 {
			*row = cur
			return nil
		}
		row.stamp(models.NewUUID(), tx.Now())
		if err := db.Create(row).Error; err != nil {
			return store.Translate(err, what)
		}
		_, resourceID, uuid := row.scopeKeys()
		return tx.setScope(ctx, *resourceID, scopeType, uuid)
	})
}

// EnsureTenant records the tenant of a Create order once (by its
// marketplace resource; a second call returns the first row). Codes: internal.
func (s *Store) EnsureTenant(ctx context.Context, t *TenantRow) error {
	return ensureScope(ctx, s, t, OfferingTenant, "Tenant")
}

// EnsureInstance records the instance of a Create order once. Codes: internal.
func (s *Store) EnsureInstance(ctx context.Context, in *InstanceRow) error {
	return ensureScope(ctx, s, in, OfferingInstance, "Instance")
}

// EnsureVolume records the volume of a Create order once. Codes: internal.
func (s *Store) EnsureVolume(ctx context.Context, v *VolumeRow) error {
	return ensureScope(ctx, s, v, OfferingVolume, "Volume")
}

// scopeTable is the plugin table of an OpenStack offering type.
func scopeTable(offeringType string) string {
	switch offeringType {
	case OfferingTenant:
		return "openstack_tenants"
	case OfferingInstance:
		return "openstack_instances"
	case OfferingVolume:
		return "openstack_volumes"
	}
	return ""
}

// SetScopeState moves the plugin resource of a marketplace
// resource to state (checked with models.CoreTransition; a move it refuses
// leaves the row as it is). Codes: not_found (no such plugin resource).
func (s *Store) SetScopeState(ctx context.Context, offeringType string, resourceID int64, state models.CoreState, message string) error {
	table := scopeTable(offeringType)
	if table == "" {
		return models.Errorf(models.CodeInvalid, "%s has no OpenStack scope.", offeringType)
	}
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var cur []models.CoreState
		if err := store.ForUpdate(db.Table(table).Where("resource_id = ?", resourceID)).Pluck("state", &cur).Error; err != nil {
			return models.Internal(err)
		}
		if len(cur) == 0 {
			return models.Errorf(models.CodeNotFound, "No plugin resource.")
		}
		if models.CoreTransition(cur[0], state) != nil {
			return nil
		}
		return store.Translate(db.Table(table).Where("resource_id = ?", resourceID).
			Updates(map[string]any{"state": state, "error_message": message, "modified": tx.Now()}).Error, "Plugin resource")
	})
}

// FailScope records a failed, rejected or canceled order on its
// plugin resource, which follows its marketplace resource: the row goes
// when the resource was terminated (nothing was made), is OK again when the
// resource is (a refused Update or Terminate order), and is Erred with the
// message otherwise.
func (s *Store) FailScope(ctx context.Context, offeringType string, resourceID int64, message string) error {
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
			if offeringType == OfferingTenant {
				return tx.removeScope(ctx, offeringType, resourceID, Snapshot{})
			}
			return store.Translate(db.Exec("DELETE FROM "+table+" WHERE resource_id = ?", resourceID).Error, "Plugin resource")
		}
		if len(st) > 0 && st[0] == models.ResourceOK {
			return store.Translate(db.Table(table).Where("resource_id = ?", resourceID).
				Updates(map[string]any{"state": models.CoreOK, "modified": tx.Now()}).Error, "Plugin resource")
		}
		return store.Translate(db.Table(table).Where("resource_id = ?", resourceID).
			Updates(map[string]any{"state": models.CoreErred, "error_message": message, "modified": tx.Now()}).Error, "Plugin resource")
	})
}

// CompleteScope records a done order on its plugin resource:
// a Create or Update order sets it OK with what the provider read back
// (a tenant's ids, user and catalog; an instance's server, ports and
// volumes; a volume's size and attachment); a Terminate order removes it
// (a tenant with everything in it, ending the marketplace resources of
// its instances and volumes).
func (s *Store) CompleteScope(ctx context.Context, offeringType string, orderType models.OrderType, resourceID int64, snap Snapshot) error {
	return s.Tx(ctx, func(tx *Store) error {
		if orderType == models.OrderTerminate {
			return tx.removeScope(ctx, offeringType, resourceID, snap)
		}
		switch offeringType {
		case OfferingTenant:
			t, err := tx.TenantOfResource(ctx, resourceID)
			if err != nil {
				return err
			}
			return tx.applyTenant(ctx, t, snap, true)
		case OfferingInstance:
			in, err := tx.InstanceOfResource(ctx, resourceID)
			if err != nil {
				return err
			}
			if len(snap.Servers) == 0 {
				return tx.setRow(ctx, "openstack_instances", in.ID, map[string]any{"state": models.CoreOK, "error_message": ""})
			}
			if err := tx.applyServer(ctx, in, snap.Servers[0], models.CoreOK); err != nil {
				return err
			}
			for _, v := range snap.Volumes {
				if err := tx.upsertInstanceVolume(ctx, in, v); err != nil {
					return err
				}
			}
			return nil
		case OfferingVolume:
			v, err := tx.VolumeOfResource(ctx, resourceID)
			if err != nil {
				return err
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
	return store.Translate(s.DB.WithContext(ctx).Table(table).Where("id = ?", id).Updates(updates).Error, "Plugin resource")
}

// removeScope deletes the plugin resource of a terminated
// marketplace resource; a tenant takes its instances and volumes along,
// and their marketplace resources end with it.
func (s *Store) removeScope(ctx context.Context, offeringType string, resourceID int64, snap Snapshot) error {
	db := s.DB.WithContext(ctx)
	switch offeringType {
	case OfferingTenant:
		var t TenantRow
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
		return store.Translate(db.Delete(&TenantRow{}, t.ID).Error, "Tenant")
	case OfferingInstance:
		var ids []int64
		if err := db.Table("openstack_instances").Where("resource_id = ?", resourceID).Pluck("id", &ids).Error; err != nil {
			return models.Internal(err)
		}
		if len(ids) == 0 {
			return nil
		}
		// Its backups and their snapshots go with it (the provider deleted the snapshots: store_instance_end.go).
		if err := s.endInstanceBackups(ctx, ids); err != nil {
			return err
		}
		// The volumes the instance order made go with it, unless the termination kept them
		// (delete_volumes false: snap.Volumes); volumes ordered on their own stay (detached).
		kept := []string{""}
		for _, v := range snap.Volumes {
			kept = append(kept, v.BackendID)
		}
		if err := db.Exec("DELETE FROM openstack_volumes WHERE instance_id IN ? AND resource_id IS NULL AND backend_id NOT IN ?", ids, kept).Error; err != nil {
			return models.Internal(err)
		}
		if err := db.Exec("UPDATE openstack_volumes SET instance_id = NULL, device = '' WHERE instance_id IN ?", ids).Error; err != nil {
			return models.Internal(err)
		}
		return store.Translate(db.Exec("DELETE FROM openstack_instances WHERE id IN ?", ids).Error, "Instance")
	case OfferingVolume:
		return store.Translate(db.Exec("DELETE FROM openstack_volumes WHERE resource_id = ?", resourceID).Error, "Volume")
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
	if err := s.SetResourceState(ctx, resourceID, models.ResourceTerminated, now); err != nil {
		return err
	}
	if err := s.AddQuotaUsage(ctx, []models.QuotaDelta{
		{Scope: models.Scope{Type: models.ScopeCustomer, ID: r.CustomerID}, Name: models.QuotaResourceCount, Delta: -1},
		{Scope: models.Scope{Type: models.ScopeProject, ID: r.ProjectID}, Name: models.QuotaResourceCount, Delta: -1},
	}); err != nil {
		return err
	}
	if err := s.ClosePlanPeriod(ctx, resourceID, now); err != nil {
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
func (s *Store) applyTenant(ctx context.Context, t *TenantRow, snap Snapshot, ok bool) error {
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

// objectTables are the tables of the objects made and deleted through the
// API (their rows carry actions).
var objectTables = map[string]bool{"openstack_security_groups": true, "openstack_floating_ips": true,
	"openstack_networks": true, "openstack_subnets": true}

// syncRows makes the rows of table for a tenant exactly the given backend
// ids: existing rows are updated, new ones inserted, missing ones deleted;
// a row of objectTables busy with an action (or with a placeholder backend
// id) is left alone, and a cloud object named as a row being created is
// not imported beside it.
func (s *Store) syncRows(ctx context.Context, table string, tenantID int64, ids []string, values func(i int) map[string]any) error {
	db := s.DB.WithContext(ctx)
	var have []struct {
		ID        int64
		BackendID string
		State     models.CoreState
		Name      string
	}
	cols := "id, backend_id, '' AS state, '' AS name"
	if objectTables[table] {
		cols = "id, backend_id, state, name"
		if table == "openstack_floating_ips" {
			cols = "id, backend_id, state, '' AS name" // a floating IP has no name
		}
	}
	if err := db.Table(table).Select(cols).Where("tenant_id = ?", tenantID).Scan(&have).Error; err != nil {
		return models.Internal(err)
	}
	byBackend := map[string]int64{}
	// A row being made, updated or deleted through the API (or erred with
	// no object made) is its action's: the pull leaves it alone, and does
	// not import as new what a create in flight (or a failed one) made.
	busyRow := map[int64]bool{}
	creating := map[string]bool{}
	for _, h := range have {
		byBackend[h.BackendID] = h.ID
		if objectTables[table] && (busy(h.State) || isPending(h.BackendID)) {
			busyRow[h.ID] = true
			if isPending(h.BackendID) {
				creating[h.Name] = true
			}
		}
	}
	keep := map[string]bool{}
	for i, id := range ids {
		if keep[id] {
			continue
		}
		keep[id] = true
		v := values(i)
		if rowID, ok := byBackend[id]; ok {
			if busyRow[rowID] {
				continue
			}
			delete(v, "created")
			if err := db.Table(table).Where("id = ?", rowID).Updates(v).Error; err != nil {
				return store.Translate(err, table)
			}
			continue
		}
		if name, ok := v["name"].(string); ok && creating[name] {
			continue
		}
		v["uuid"], v["tenant_id"], v["backend_id"] = models.NewUUID(), tenantID, id
		if err := db.Table(table).Create(v).Error; err != nil {
			return store.Translate(err, table)
		}
	}
	var gone []int64
	for _, h := range have {
		if !keep[h.BackendID] && !busyRow[h.ID] {
			gone = append(gone, h.ID)
		}
	}
	if len(gone) > 0 {
		return store.Translate(db.Exec("DELETE FROM "+table+" WHERE id IN ?", gone).Error, table)
	}
	return nil
}

// applyCatalog records a tenant's flavors, images, volume types, networks,
// subnets, security groups and floating IPs (each list only when the
// snapshot has it: an instance's read-back carries no catalog).
func (s *Store) applyCatalog(ctx context.Context, tenantID int64, snap Snapshot) error {
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
func (s *Store) applyServer(ctx context.Context, in *InstanceRow, sv CloudServer, state models.CoreState) error {
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

func (s *Store) volumeUpdates(ctx context.Context, tenantID int64, v CloudVolume) map[string]any {
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
func (s *Store) upsertInstanceVolume(ctx context.Context, in *InstanceRow, v CloudVolume) error {
	db := s.DB.WithContext(ctx)
	var cur VolumeRow
	if err := db.Where("tenant_id = ? AND backend_id = ?", in.TenantID, v.BackendID).Limit(1).Find(&cur).Error; err != nil {
		return models.Internal(err)
	}
	updates := s.volumeUpdates(ctx, in.TenantID, v)
	if cur.ID != 0 {
		return s.setRow(ctx, "openstack_volumes", cur.ID, updates)
	}
	now := s.Now()
	row := VolumeRow{UUID: models.NewUUID(), ProjectID: in.ProjectID, TenantID: in.TenantID, Name: v.Name, Description: v.Description,
		State: models.CoreOK, Created: now, Modified: now}
	if err := db.Create(&row).Error; err != nil {
		return store.Translate(err, "Volume")
	}
	return s.setRow(ctx, "openstack_volumes", row.ID, updates)
}

// byRef loads the plugin row whose own UUID or marketplace resource's UUID
// is ref; what names it in errors. Codes: not_found.
func byRef[T any](ctx context.Context, s *Store, ref models.UUID, what string) (*T, error) {
	var row T
	err := s.DB.WithContext(ctx).Where("uuid = ? OR resource_id = (SELECT id FROM resources WHERE uuid = ?)", ref, ref).Take(&row).Error
	if err != nil {
		return nil, store.Translate(err, what)
	}
	return &row, nil
}

// ofResource loads the plugin row of a marketplace resource; what names it
// in errors. Codes: not_found.
func ofResource[T any](ctx context.Context, s *Store, resourceID int64, what string) (*T, error) {
	var row T
	if err := s.DB.WithContext(ctx).Where("resource_id = ?", resourceID).Take(&row).Error; err != nil {
		return nil, store.Translate(err, what)
	}
	return &row, nil
}

// TenantByRef finds a tenant by its own UUID or its marketplace
// resource's. Codes: not_found.
func (s *Store) TenantByRef(ctx context.Context, ref models.UUID) (*TenantRow, error) {
	return byRef[TenantRow](ctx, s, ref, "Tenant")
}

// TenantByID loads a tenant. Codes: not_found.
func (s *Store) TenantByID(ctx context.Context, id int64) (*TenantRow, error) {
	var t TenantRow
	if err := s.DB.WithContext(ctx).Take(&t, id).Error; err != nil {
		return nil, store.Translate(err, "Tenant")
	}
	return &t, nil
}

// TenantOfResource loads the tenant a marketplace resource is the scope of. Codes: not_found.
func (s *Store) TenantOfResource(ctx context.Context, resourceID int64) (*TenantRow, error) {
	return ofResource[TenantRow](ctx, s, resourceID, "Tenant")
}

// InstanceByRef finds an instance by its own UUID or its
// marketplace resource's. Codes: not_found.
func (s *Store) InstanceByRef(ctx context.Context, ref models.UUID) (*InstanceRow, error) {
	return byRef[InstanceRow](ctx, s, ref, "Instance")
}

// InstanceOfResource loads the instance of a marketplace resource. Codes: not_found.
func (s *Store) InstanceOfResource(ctx context.Context, resourceID int64) (*InstanceRow, error) {
	return ofResource[InstanceRow](ctx, s, resourceID, "Instance")
}

// VolumeOfResource loads the volume of a marketplace resource. Codes: not_found.
func (s *Store) VolumeOfResource(ctx context.Context, resourceID int64) (*VolumeRow, error) {
	return ofResource[VolumeRow](ctx, s, resourceID, "Volume")
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

// Flavor finds a flavor of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) Flavor(ctx context.Context, tenantID int64, ref string) (CloudFlavor, error) {
	var r flavorRow
	if err := s.catalogRef(ctx, "openstack_flavors", tenantID, ref, &r, "Flavor"); err != nil {
		return CloudFlavor{}, err
	}
	return CloudFlavor{BackendID: r.BackendID, Name: r.Name, Cores: r.Cores, RAM: r.RAM, Disk: r.Disk}, nil
}

// Image finds an image of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) Image(ctx context.Context, tenantID int64, ref string) (CloudImage, error) {
	var r imageRow
	if err := s.catalogRef(ctx, "openstack_images", tenantID, ref, &r, "Image"); err != nil {
		return CloudImage{}, err
	}
	return CloudImage{BackendID: r.BackendID, Name: r.Name, MinDisk: r.MinDisk, MinRAM: r.MinRAM, Created: r.BackendCreatedAt}, nil
}

// VolumeType finds a volume type of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) VolumeType(ctx context.Context, tenantID int64, ref string) (CloudVolumeType, error) {
	var r volumeTypeRow
	if err := s.catalogRef(ctx, "openstack_volume_types", tenantID, ref, &r, "Volume type"); err != nil {
		return CloudVolumeType{}, err
	}
	return CloudVolumeType{BackendID: r.BackendID, Name: r.Name, Description: r.Description}, nil
}

// Subnet finds a subnet of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) Subnet(ctx context.Context, tenantID int64, ref string) (CloudSubnet, error) {
	var r subnetRow
	if err := s.catalogRef(ctx, "openstack_subnets", tenantID, ref, &r, "Subnet"); err != nil {
		return CloudSubnet{}, err
	}
	out := CloudSubnet{BackendID: r.BackendID, Name: r.Name, CIDR: r.CIDR}
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

// SecurityGroup finds a security group of a tenant by UUID, backend id or name. Codes: not_found.
func (s *Store) SecurityGroup(ctx context.Context, tenantID int64, ref string) (CloudSecurityGroup, error) {
	var r securityGroupRow
	if err := s.catalogRef(ctx, "openstack_security_groups", tenantID, ref, &r, "Security group"); err != nil {
		return CloudSecurityGroup{}, err
	}
	return CloudSecurityGroup{BackendID: r.BackendID, Name: r.Name, Description: r.Description}, nil
}
