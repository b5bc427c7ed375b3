package openstack

import (
	"context"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of the availability zones and external networks a
// pull reads (pull_zones.go; migration 28): recorded per tenant, listed
// to whoever may see the tenant (VisibleTo), like the flavors.

// ZoneKind is Nova's or Cinder's availability zones.
type ZoneKind int

// The kinds of availability zones.
const (
	InstanceZones ZoneKind = iota
	VolumeZones
)

func (k ZoneKind) table() string {
	if k == VolumeZones {
		return "openstack_volume_availability_zones"
	}
	return "openstack_instance_availability_zones"
}

// Noun names a zone of the kind in messages.
func (k ZoneKind) Noun() string {
	if k == VolumeZones {
		return "Volume availability zone"
	}
	return "Instance availability zone"
}

// ZoneView is an availability zone with its tenant.
type ZoneView struct {
	ID         int64
	UUID       models.UUID
	TenantID   int64
	BackendID  string
	Name       string
	Available  bool
	RowContext `gorm:"embedded"`
}

// ExternalNetworkView is an external network with its tenant; Subnets is
// the JSON of its []CloudSubnet.
type ExternalNetworkView struct {
	ID          int64
	UUID        models.UUID
	TenantID    int64
	BackendID   string
	Name        string
	Description string
	IsShared    bool
	IsDefault   bool
	Status      string
	Subnets     []byte
	RowContext  `gorm:"embedded"`
}

// applySurroundings records a pull's zones and external networks (each
// list only when the snapshot has it).
func (s *Store) applySurroundings(ctx context.Context, tenantID int64, snap Snapshot) error {
	if !snap.Full {
		return nil
	}
	for _, in := range []struct {
		kind  ZoneKind
		zones []CloudZone
	}{{InstanceZones, snap.InstanceZones}, {VolumeZones, snap.VolumeZones}} {
		if in.zones == nil {
			continue
		}
		zs := in.zones
		ids := make([]string, len(zs))
		for i, z := range zs {
			ids[i] = z.Name
		}
		if err := s.syncRows(ctx, in.kind.table(), tenantID, ids, func(i int) map[string]any {
			return map[string]any{"name": zs[i].Name, "available": zs[i].Available}
		}); err != nil {
			return err
		}
	}
	if ns := snap.ExternalNetworks; ns != nil {
		ids := make([]string, len(ns))
		for i, n := range ns {
			ids[i] = n.BackendID
		}
		if err := s.syncRows(ctx, "openstack_external_networks", tenantID, ids, func(i int) map[string]any {
			n := ns[i]
			return map[string]any{"name": n.Name, "description": n.Description, "is_shared": n.Shared, "is_default": n.Default,
				"status": n.Status, "subnets": rawJSON(nonNilSlice(n.Subnets))}
		}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) visibleRows(ctx context.Context, table string) (*gorm.DB, error) {
	return s.visible(ctx, s.CatalogViews(ctx, table))
}

// ZonesQuery returns the zones of kind k the caller may see, narrowed by
// f, as a query over ZoneView rows (alias x, its tenant t), for rest.List.
func (s *Store) ZonesQuery(ctx context.Context, k ZoneKind, f Filter) (store.Query, error) {
	q, err := s.visibleRows(ctx, k.table())
	if err != nil {
		return store.Query{}, err
	}
	return store.QueryOf(f.apply(q, "x")), nil
}

// VisibleZone loads the zone of kind k with uuid id if the caller may see
// it. Codes: not_found.
func (s *Store) VisibleZone(ctx context.Context, k ZoneKind, id models.UUID) (*ZoneView, error) {
	q, err := s.visibleRows(ctx, k.table())
	if err != nil {
		return nil, err
	}
	var v ZoneView
	if err := findVisible(q, "x", id, k.Noun(), &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ExternalNetworksQuery returns the external networks the caller may see,
// narrowed by f, as a query over ExternalNetworkView rows (alias x, its
// tenant t), for rest.List.
func (s *Store) ExternalNetworksQuery(ctx context.Context, f Filter) (store.Query, error) {
	q, err := s.visibleRows(ctx, "openstack_external_networks")
	if err != nil {
		return store.Query{}, err
	}
	return store.QueryOf(f.apply(q, "x")), nil
}

// VisibleExternalNetwork loads the external network with uuid id if the
// caller may see it. Codes: not_found ("No External network matches the
// given query.").
func (s *Store) VisibleExternalNetwork(ctx context.Context, id models.UUID) (*ExternalNetworkView, error) {
	q, err := s.visibleRows(ctx, "openstack_external_networks")
	if err != nil {
		return nil, err
	}
	var v ExternalNetworkView
	if err := findVisible(q, "x", id, "External network", &v); err != nil {
		return nil, err
	}
	return &v, nil
}
