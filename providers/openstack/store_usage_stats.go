package openstack

import (
	"context"

	"github.com/waldur-go/waldur/models"
)

// The database side of /api/openstack-flavors/usage_stats/,
// /api/openstack-images/usage_stats/ and /api/openstack-volume-types/names/.

// UsageStat is how many instances the caller sees are made from a flavor
// or image name: Created counts them all, Running those ACTIVE.
type UsageStat struct {
	Name    string
	Running int64
	Created int64
}

// UsageStats counts, for each distinct name of the visible rows of
// catalog k (CatalogFlavors or CatalogImages) narrowed by f, the visible
// instances whose flavor_name (image_name) is that name, ordered by name.
func (s *Store) UsageStats(ctx context.Context, k Catalog, f Filter) ([]UsageStat, error) {
	names, err := s.CatalogNames(ctx, k, f)
	if err != nil {
		return nil, err
	}
	col := "i.flavor_name"
	if k == CatalogImages {
		col = "i.image_name"
	}
	q, err := s.visible(ctx, s.InstanceViews(ctx))
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Name    string
		Running int64
		Created int64
	}
	if len(names) > 0 {
		if err := q.Select(col+" AS name, COUNT(*) AS created, SUM(CASE WHEN i.runtime_state = 'ACTIVE' THEN 1 ELSE 0 END) AS running").
			Where(col+" IN ?", names).Group(col).Scan(&rows).Error; err != nil {
			return nil, models.Internal(err)
		}
	}
	by := map[string]UsageStat{}
	for _, r := range rows {
		by[r.Name] = UsageStat{Name: r.Name, Running: r.Running, Created: r.Created}
	}
	out := make([]UsageStat, len(names))
	for i, n := range names {
		out[i] = by[n]
		out[i].Name = n
	}
	return out, nil
}

// CatalogNames is the distinct names of the visible rows of catalog k
// narrowed by f, in order.
func (s *Store) CatalogNames(ctx context.Context, k Catalog, f Filter) ([]string, error) {
	q, err := s.catalogQuery(ctx, k, f)
	if err != nil {
		return nil, err
	}
	var names []string
	if err := q.Select("x.name").Group("x.name").Order("x.name").Pluck("x.name", &names).Error; err != nil {
		return nil, models.Internal(err)
	}
	return names, nil
}
