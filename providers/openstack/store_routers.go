package openstack

import (
	"context"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The routers' rows: their columns from what the cloud read (routerValues)
// and the views the API renders.

// routerValues are a router's columns.
func routerValues(r CloudRouter) map[string]any {
	return map[string]any{"name": r.Name, "description": r.Description, "external_network_id": r.ExternalNetworkID,
		"routes": rawJSON(nonNilSlice(r.Routes)), "fixed_ips": rawJSON(nonNilSlice(r.FixedIPs)), "ports": rawJSON(nonNilSlice(r.Ports))}
}

// RouterView is a router as the API renders it.
type RouterView struct {
	CatalogItem       `gorm:"embedded"`
	ExternalNetworkID string
	Routes            []byte
	FixedIPs          []byte `gorm:"column:fixed_ips"`
	Ports             []byte
}

// routerViews is the query over routers (alias x, its tenant t).
func (s *Store) routerViews(ctx context.Context) *gorm.DB {
	q := s.DB.WithContext(ctx).Table("openstack_routers x").Joins("JOIN openstack_tenants t ON t.id = x.tenant_id").
		Select("x.*, " + osContextColumns)
	return osJoins(q, "t")
}

// RoutersQuery returns the routers the caller may see, narrowed by f.
func (s *Store) RoutersQuery(ctx context.Context, f Filter) (store.Query, error) {
	q, err := s.visible(ctx, s.routerViews(ctx))
	if err != nil {
		return store.Query{}, err
	}
	return store.QueryOf(f.apply(q, "x")), nil
}

// VisibleRouter loads a router the caller may see. Codes: not_found.
func (s *Store) VisibleRouter(ctx context.Context, id models.UUID) (*RouterView, error) {
	q, err := s.visible(ctx, s.routerViews(ctx))
	if err != nil {
		return nil, err
	}
	var v RouterView
	if err := findVisible(q, "x", id, "Router", &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// tenantRouter is the tenant's router the subnets connect to: the one
// named in the tenant's router_id, else its first. nil when it has none.
func (s *Store) tenantRouter(ctx context.Context, tenantID int64) (*ActionObject, error) {
	routerID, err := columnOf[string](ctx, s, KindTenant, tenantID, "router_id")
	if err != nil {
		return nil, err
	}
	var ids []int64
	db := s.DB.WithContext(ctx).Table("openstack_routers")
	if routerID != "" {
		if err := db.Where("tenant_id = ? AND backend_id = ?", tenantID, routerID).Limit(1).Pluck("id", &ids).Error; err != nil {
			return nil, models.Internal(err)
		}
	}
	if len(ids) == 0 {
		if err := s.DB.WithContext(ctx).Table("openstack_routers").Where("tenant_id = ?", tenantID).Order("id").Limit(1).Pluck("id", &ids).Error; err != nil {
			return nil, models.Internal(err)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return s.actionObject(ctx, KindRouter, ids[0], false)
}
