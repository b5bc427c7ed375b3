package openstack

import (
	"context"
	"encoding/json"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of a tenant's set_quotas and change_password (see
// store_actions.go for the actions' run). set_quotas records, when it is
// done, the quotas read back on the tenant and the new limits of billed
// components (cores, ram, storage, ...) on its marketplace resource, the
// way a done Update order records them: the resource's limits, and a done
// limits-only Update order, which billing reads (a limit change takes
// effect in the invoice from the day it was made); the resource is put in
// the billing outbox.

// TenantQuotaNames maps Waldur's set_quotas fields onto the names of the
// quotas the cloud side pushes (an Update order's limits): vcpu is cores.
var TenantQuotaNames = map[string]string{"instances": "instances", "volumes": "volumes", "snapshots": "snapshots", "ram": "ram",
	"vcpu": "cores", "storage": "storage", "security_group_count": "security_group_count",
	"security_group_rule_count": "security_group_rule_count"}

// tenantActionRequest fills what set_quotas and change_password need.
func (s *Store) tenantActionRequest(ctx context.Context, o *ActionObject, req *ActionRequest) error {
	switch o.Action {
	case "set_quotas":
		req.Quotas = quotaDetails(o.ActionDetails)
	case "change_password":
		var cur struct{ UserUsername, UserPassword string }
		if err := s.DB.WithContext(ctx).Table("openstack_tenants").Select("user_username, user_password").Where("id = ?", o.ID).
			Scan(&cur).Error; err != nil {
			return models.Internal(err)
		}
		if cur.UserUsername == "" {
			return models.Errorf(models.CodeInvalid, "Tenant %s has no user.", o.Name)
		}
		req.UserUsername, req.UserPassword = cur.UserUsername, cur.UserPassword
	}
	return nil
}

// quotaDetails reads set_quotas' action_details (quotas: name → limit).
func quotaDetails(d map[string]any) map[string]int64 {
	out := map[string]int64{}
	m, _ := d["quotas"].(map[string]any)
	for k, v := range m {
		out[k] = int64(number(v))
	}
	return out
}

// finishSetQuotas records done set_quotas: the tenant's quotas (what the
// cloud read back; quotas it does not read keep the limit asked) and the
// new limits of the marketplace resource's limit components.
func (s *Store) finishSetQuotas(ctx context.Context, o *ActionObject, res ActionResult, updates map[string]any) error {
	asked := quotaDetails(o.ActionDetails)
	var raw [][]byte
	if err := s.DB.WithContext(ctx).Table("openstack_tenants").Where("id = ?", o.ID).Pluck("quotas", &raw).Error; err != nil {
		return models.Internal(err)
	}
	var cur []CloudQuota
	if len(raw) > 0 {
		_ = json.Unmarshal(raw[0], &cur)
	}
	byName := map[string]int{}
	for i, q := range cur {
		byName[q.Name] = i
	}
	set := func(q CloudQuota) {
		if i, ok := byName[q.Name]; ok {
			cur[i] = q
			return
		}
		byName[q.Name] = len(cur)
		cur = append(cur, q)
	}
	for _, q := range res.Quotas {
		set(q)
	}
	read := map[string]bool{}
	for _, q := range res.Quotas {
		read[q.Name] = true
	}
	for name, limit := range asked {
		if !read[name] {
			q := CloudQuota{Name: name, Limit: float64(limit)}
			if i, ok := byName[name]; ok {
				q.Usage = cur[i].Usage
			}
			set(q)
		}
	}
	if cur == nil {
		cur = []CloudQuota{}
	}
	updates["quotas"] = rawJSON(cur)
	if o.ResourceID == nil {
		return nil
	}
	return s.recordBilledLimits(ctx, *o.ResourceID, asked, "Limits set by the tenant's set_quotas.")
}

// recordBilledLimits sets the asked limits of the resource's offering's
// limit components on the resource (marketplace_resource_update_limits_succeeded)
// and records them as a done limits-only Update order for billing, whose
// output says why (a tenant's set_quotas, an instance's change_flavor, a
// volume's extend). Nothing happens when none of them changes (or the
// offering bills none of them).
func (s *Store) recordBilledLimits(ctx context.Context, resourceID int64, asked map[string]int64, output string) error {
	db := s.DB.WithContext(ctx)
	var rs []struct {
		UUID       models.UUID
		State      models.ResourceState
		OfferingID int64
		ProjectID  int64
		Limits     []byte
	}
	if err := db.Table("resources").Select("uuid, state, offering_id, project_id, limits").Where("id = ?", resourceID).Scan(&rs).Error; err != nil {
		return models.Internal(err)
	}
	if len(rs) == 0 || rs[0].State == models.ResourceTerminated {
		return nil
	}
	r := rs[0]
	var billed []string
	if err := db.Table("offering_components").Where("offering_id = ? AND billing_type = ?", r.OfferingID, "limit").
		Pluck("type", &billed).Error; err != nil {
		return models.Internal(err)
	}
	limits := map[string]int64{}
	if len(r.Limits) > 0 {
		_ = json.Unmarshal(r.Limits, &limits)
	}
	changed := false
	for _, c := range billed {
		if v, ok := asked[c]; ok {
			if old, had := limits[c]; !had || old != v {
				limits[c], changed = v, true
			}
		}
	}
	if !changed {
		return nil
	}
	if err := s.ChangeResource(ctx, r.UUID, store.ResourceChange{Limits: limits}); err != nil {
		return err
	}
	now := s.Now()
	if err := db.Table("orders").Create(map[string]any{"uuid": models.NewUUID(), "type": models.OrderUpdate, "state": models.OrderDone,
		"resource_id": resourceID, "offering_id": r.OfferingID, "project_id": r.ProjectID, "limits": rawJSON(limits),
		"attributes": rawJSON(map[string]any{}), "workflow_started": true, "output": output,
		"completed_at": now, "created": now, "modified": now}).Error; err != nil {
		return store.Translate(err, "Order")
	}
	return store.Translate(db.Table("resources").Where("id = ?", resourceID).Update("billing_dirty", true).Error, "Resource")
}

// TenantProviderCustomer is the customer of a tenant's offering (its
// cloud's service provider). Codes: not_found.
func (s *Store) TenantProviderCustomer(ctx context.Context, tenantID int64) (int64, error) {
	var ids []int64
	if err := s.DB.WithContext(ctx).Table("openstack_tenants t").Joins("JOIN offerings f ON f.id = t.offering_id").
		Where("t.id = ?", tenantID).Pluck("f.customer_id", &ids).Error; err != nil {
		return 0, models.Internal(err)
	}
	if len(ids) == 0 {
		return 0, models.Errorf(models.CodeNotFound, "No Tenant matches the given query.")
	}
	return ids[0], nil
}

// linkedBackendIDs are the backend ids of a tenant's instances or volumes
// that are some marketplace resource's (not importable).
func (s *Store) linkedBackendIDs(ctx context.Context, k Kind, tenantID int64) (map[string]bool, error) {
	var ids []string
	if err := s.DB.WithContext(ctx).Table(k.table()).Where("tenant_id = ? AND resource_id IS NOT NULL AND backend_id <> ''", tenantID).
		Pluck("backend_id", &ids).Error; err != nil {
		return nil, models.Internal(err)
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
