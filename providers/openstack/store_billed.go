package openstack

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/plugin"
)

// Billed quantities and tenant quotas of instances and volumes.
//
// A done change_flavor or extend records the object's new quantities on
// its marketplace resource the way a tenant's set_quotas does
// (recordBilledLimits: the limits of the offering's limit components, and a
// done limits-only Update order billing reads, in the transaction that
// finishes the action), so the open month's invoice bills the old quantity
// up to the change and the new one after it.
//
// Before an instance or a volume is ordered in a tenant, what it needs
// (cores, ram, storage, one instance, its volumes) is checked against the
// tenant's quotas (Waldur's validate_quotas): an order that does not fit is
// refused with 400 naming every quota it would exceed, and the order
// preview shows the same reason.

// flavorQuantities are the billed quantities of an instance of flavor f
// (the limit components an instance offering may have: cores, ram in MiB,
// disk in MiB).
func flavorQuantities(f CloudFlavor) map[string]int64 {
	return map[string]int64{"cores": int64(f.Cores), "ram": f.RAM, "disk": f.Disk}
}

// volumeQuantities are the billed quantities of a volume of size MiB (the
// limit components a volume offering may have: size, storage, disk).
func volumeQuantities(size int64) map[string]int64 {
	return map[string]int64{"size": size, "storage": size, "disk": size}
}

// OrderChecks implements plugin.OrderChecker: instance and volume orders
// are checked against their tenant's quotas.
func (Plugin) OrderChecks(st *store.Store) map[string]plugin.OrderCheck {
	s := NewStore(st)
	return map[string]plugin.OrderCheck{
		OfferingInstance: func(ctx context.Context, o *store.NewOrder) error {
			return s.CheckTenantQuotas(ctx, OfferingInstance, o)
		},
		OfferingVolume: func(ctx context.Context, o *store.NewOrder) error { return s.CheckTenantQuotas(ctx, OfferingVolume, o) },
	}
}

// orderNeeds is what a Create order of an instance or a volume would take
// from its tenant's quotas, and the tenant (nil when the order names none
// that can be found: the order's own resolution refuses it later).
func (s *Store) orderNeeds(ctx context.Context, offeringType string, o *store.NewOrder) (*TenantRow, map[string]int64, error) {
	a := attrs(o.Attributes)
	var tenant *TenantRow
	if t := a.str("tenant"); t != "" {
		id, err := models.ParseUUID(ref(t))
		if err != nil {
			return nil, nil, nil
		}
		if tenant, err = s.TenantByRef(ctx, id); models.IsCode(err, models.CodeNotFound) {
			return nil, nil, nil
		} else if err != nil {
			return nil, nil, err
		}
	} else {
		var err error
		if tenant, err = (&Keeper{Store: s}).onlyTenant(ctx, o.ProjectID); err != nil || tenant == nil {
			return nil, nil, err
		}
	}
	needs := map[string]int64{}
	switch offeringType {
	case OfferingVolume:
		size := a.int("size")
		if v, ok := o.Limits["size"]; ok && size == 0 {
			size = v
		}
		needs["storage"], needs["volumes"] = size, 1
	case OfferingInstance:
		f, err := s.Flavor(ctx, tenant.ID, ref(a.str("flavor")))
		if models.IsCode(err, models.CodeNotFound) || a.str("flavor") == "" {
			return nil, nil, nil
		} else if err != nil {
			return nil, nil, err
		}
		needs["cores"], needs["ram"], needs["instances"] = int64(f.Cores), f.RAM, 1
		for _, k := range []string{"system_volume_size", "data_volume_size"} {
			if n := a.int(k); n > 0 {
				needs["storage"] += n
				needs["volumes"]++
			}
		}
		if vols, ok := o.Attributes["data_volumes"].([]any); ok {
			for _, v := range vols {
				if m, ok := v.(map[string]any); ok {
					if n := attrs(m).int("size"); n > 0 {
						needs["storage"] += n
						needs["volumes"]++
					}
				}
			}
		}
	}
	return tenant, needs, nil
}

// tenantUsage is what a tenant's instances and volumes known to Waldur
// take (cores, ram, instances, storage, volumes), counted from their rows.
func (s *Store) tenantUsage(ctx context.Context, tenantID int64) (map[string]int64, error) {
	db := s.DB.WithContext(ctx)
	var in struct{ N, Cores, RAM int64 }
	if err := db.Table("openstack_instances").Select("COUNT(*) AS n, COALESCE(SUM(cores), 0) AS cores, COALESCE(SUM(ram), 0) AS ram").
		Where("tenant_id = ?", tenantID).Scan(&in).Error; err != nil {
		return nil, models.Internal(err)
	}
	var vol struct{ N, Size int64 }
	if err := db.Table("openstack_volumes").Select("COUNT(*) AS n, COALESCE(SUM(size), 0) AS size").
		Where("tenant_id = ?", tenantID).Scan(&vol).Error; err != nil {
		return nil, models.Internal(err)
	}
	return map[string]int64{"instances": in.N, "cores": in.Cores, "ram": in.RAM, "volumes": vol.N, "storage": vol.Size}, nil
}

// CheckTenantQuotas refuses (400, CodeInvalid) a Create order of an
// instance or a volume that would exceed its tenant's quotas (as set_quotas
// and the pulls record them; a quota without a limit, or a negative one,
// is no bound). The usage of a quota is the larger of what the cloud
// reported and what the tenant's rows in Waldur take. The message names
// every quota exceeded: "One or more quotas would be exceeded: cores
// (limit 20, usage 18, requested 4)."
func (s *Store) CheckTenantQuotas(ctx context.Context, offeringType string, o *store.NewOrder) error {
	tenant, needs, err := s.orderNeeds(ctx, offeringType, o)
	if err != nil || tenant == nil {
		return err
	}
	usage, err := s.tenantUsage(ctx, tenant.ID)
	if err != nil {
		return err
	}
	quotas := map[string]CloudQuota{}
	for _, q := range tenant.QuotaList() {
		quotas[q.Name] = q
	}
	names := make([]string, 0, len(needs))
	for n := range needs {
		names = append(names, n)
	}
	order := map[string]int{"cores": 0, "ram": 1, "storage": 2, "instances": 3, "volumes": 4}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	var over []string
	for _, n := range names {
		q, ok := quotas[n]
		if !ok || q.Limit < 0 || needs[n] <= 0 {
			continue
		}
		used := max(int64(q.Usage), usage[n])
		if limit := int64(q.Limit); used+needs[n] > limit {
			over = append(over, fmt.Sprintf("%s (limit %d, usage %d, requested %d)", n, limit, used, needs[n]))
		}
	}
	if len(over) == 0 {
		return nil
	}
	return models.Errorf(models.CodeInvalid, "One or more quotas would be exceeded: %s.", strings.Join(over, ", "))
}
