package openstack

import (
	"context"

	"github.com/waldur-go/waldur/models"
)

// applyStorage records the server groups, snapshots and RBAC policies of
// a full snapshot (pull_storage.go) as applyL3 records ports and routers
// (syncL3Rows): a row of a cloud object is updated, one the cloud no longer
// has is deleted, a cloud object Waldur does not know is imported (OK), and
// a row in an action of its own is left to it. A snapshot's source volume
// and a policy's network and target tenant are resolved among the rows; a
// policy whose network or target is no tenant row of the same cloud is not
// imported.
func (s *Store) applyStorage(ctx context.Context, t *TenantRow, snap Snapshot) error {
	if !snap.Full {
		return nil
	}
	db := s.DB.WithContext(ctx)
	if snap.ServerGroups != nil {
		ids := make([]string, len(snap.ServerGroups))
		for i, g := range snap.ServerGroups {
			ids[i] = g.BackendID
		}
		if err := s.syncL3Rows(ctx, "openstack_server_groups", t.ID, ids, func(i int) map[string]any {
			return map[string]any{"name": snap.ServerGroups[i].Name, "policy": snap.ServerGroups[i].Policy}
		}, true); err != nil {
			return err
		}
	}
	if snap.VolumeSnapshots != nil {
		var vols []struct {
			ID        int64
			BackendID string
		}
		if err := db.Table("openstack_volumes").Select("id, backend_id").Where("tenant_id = ?", t.ID).Scan(&vols).Error; err != nil {
			return models.Internal(err)
		}
		volumeID := map[string]int64{}
		for _, v := range vols {
			volumeID[v.BackendID] = v.ID
		}
		ids := make([]string, len(snap.VolumeSnapshots))
		for i, sn := range snap.VolumeSnapshots {
			ids[i] = sn.BackendID
		}
		if err := s.syncL3Rows(ctx, "openstack_snapshots", t.ID, ids, func(i int) map[string]any {
			sn := snap.VolumeSnapshots[i]
			v := map[string]any{"name": sn.Name, "description": sn.Description, "size": sn.Size, "runtime_state": sn.Status}
			if id, ok := volumeID[sn.VolumeBackendID]; ok {
				v["source_volume_id"] = id
			}
			return v
		}, true); err != nil {
			return err
		}
	}
	if snap.RBACPolicies != nil {
		return s.applyRBACPolicies(ctx, t, snap.RBACPolicies)
	}
	return nil
}

// applyRBACPolicies records the policies of the tenant's networks.
func (s *Store) applyRBACPolicies(ctx context.Context, t *TenantRow, ps []CloudRBACPolicy) error {
	db := s.DB.WithContext(ctx)
	var nets []struct {
		ID        int64
		BackendID string
	}
	if err := db.Table("openstack_networks").Select("id, backend_id").Where("tenant_id = ?", t.ID).Scan(&nets).Error; err != nil {
		return models.Internal(err)
	}
	network := map[string]int64{}
	for _, n := range nets {
		network[n.BackendID] = n.ID
	}
	var targets []struct {
		ID        int64
		BackendID string
	}
	if err := db.Table("openstack_tenants").Select("id, backend_id").Where("offering_id = ? AND backend_id <> '' AND id <> ?", t.OfferingID, t.ID).
		Scan(&targets).Error; err != nil {
		return models.Internal(err)
	}
	target := map[string]int64{}
	for _, tt := range targets {
		target[tt.BackendID] = tt.ID
	}
	var known []string
	if err := db.Table("openstack_network_rbac_policies").Where("tenant_id = ?", t.ID).Pluck("backend_id", &known).Error; err != nil {
		return models.Internal(err)
	}
	have := map[string]bool{}
	for _, k := range known {
		have[k] = true
	}
	var ids []string
	var vals []map[string]any
	for _, p := range ps {
		v := map[string]any{"policy_type": p.PolicyType}
		n, okN := network[p.NetworkBackendID]
		tt, okT := target[p.TargetProjectID]
		if okN && okT {
			v["network_id"], v["target_tenant_id"] = n, tt
		} else if !have[p.BackendID] {
			continue // nothing to tie it to
		}
		ids, vals = append(ids, p.BackendID), append(vals, v)
	}
	return s.syncL3Rows(ctx, "openstack_network_rbac_policies", t.ID, ids, func(i int) map[string]any { return vals[i] }, true)
}
