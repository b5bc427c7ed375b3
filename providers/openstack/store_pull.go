package openstack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// PullTarget is a tenant a pull reads, with its offering's secret options.
type PullTarget struct {
	UUID          models.UUID
	Name          string
	BackendID     string
	SecretOptions map[string]any
}

// TenantsToPull lists the tenants that exist in their cloud (OK or Erred, with a backend id).
func (s *Store) TenantsToPull(ctx context.Context) ([]PullTarget, error) {
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
	out := make([]PullTarget, len(rows))
	for i, r := range rows {
		out[i] = PullTarget{UUID: r.UUID, Name: r.Name, BackendID: r.BackendID}
		_ = json.Unmarshal(r.SecretOptions, &out[i].SecretOptions)
	}
	return out, nil
}

// PullReport says what a pull changed.
type PullReport struct {
	Updated  int      // instances and volumes whose backend state was recorded
	Erred    []string // plugin resources found erred or gone on the backend
	Imported []string // servers and volumes found that Waldur did not know
	Removed  int      // imported rows whose backend object is gone
}

// ApplyPull records a tenant's snapshot in one transaction: the
// catalog and quotas; each instance's and volume's backend state. An
// instance or volume that was OK before the snapshot was taken and is
// missing from it (deleted behind Waldur's back) or in ERROR becomes
// Erred, and so does its marketplace resource, with the event
// marketplace_resource_erred_on_backend. Servers and volumes Waldur does
// not know (neither by backend id nor by their waldur_resource_uuid
// metadata) are imported as plugin rows without a marketplace resource
// (resource_import_succeeded). A tenant gone from the cloud is Erred the
// same way. Codes: not_found.
func (s *Store) ApplyPull(ctx context.Context, tenantUUID models.UUID, snap Snapshot) (PullReport, error) {
	var rep PullReport
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var ids []int64
		if err := store.ForUpdate(db.Table("openstack_tenants").Where("uuid = ?", tenantUUID)).Pluck("id", &ids).Error; err != nil {
			return models.Internal(err)
		}
		if len(ids) == 0 {
			return models.Errorf(models.CodeNotFound, "Tenant not found.")
		}
		t, err := tx.TenantByID(ctx, ids[0])
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
		if err := tx.applyL3(ctx, t.ID, snap); err != nil { // ports and routers: store_ports.go
			return err
		}
		if err := tx.applySurroundings(ctx, t.ID, snap); err != nil { // zones and external networks: store_zones.go
			return err
		}
		if err := tx.applyWorkloads(ctx, t, snap, &rep); err != nil {
			return err
		}
		// Server groups, snapshots (of the volumes just recorded), RBAC policies: store_pull_storage.go.
		return tx.applyStorage(ctx, t, snap)
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
	return s.ChangeResource(ctx, res[0].UUID, store.ResourceChange{State: models.ResourceErred, ErrorMessage: msg})
}

func (s *Store) applyWorkloads(ctx context.Context, t *TenantRow, snap Snapshot, rep *PullReport) error {
	db := s.DB.WithContext(ctx)
	var instances []InstanceRow
	if err := db.Where("tenant_id = ?", t.ID).Find(&instances).Error; err != nil {
		return models.Internal(err)
	}
	var vols []VolumeRow
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
	instanceOfResource := map[string]*InstanceRow{}
	byResourceID := map[int64]models.UUID{}
	for _, r := range resUUIDs {
		byResourceID[r.ID] = r.UUID
	}
	for i := range instances {
		if instances[i].ResourceID != nil {
			instanceOfResource[byResourceID[*instances[i].ResourceID].String()] = &instances[i]
		}
	}
	servers := map[string]CloudServer{}
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
			if err := db.Delete(&InstanceRow{}, in.ID).Error; err != nil {
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
		if seen[sv.BackendID] || known[sv.Metadata[MetaResourceUUID]] {
			continue
		}
		now := s.Now()
		in := InstanceRow{UUID: models.NewUUID(), ProjectID: t.ProjectID, TenantID: t.ID, Name: sv.Name, State: ServerState(sv.Status),
			BackendID: sv.BackendID, Created: now, Modified: now}
		if err := db.Create(&in).Error; err != nil {
			return store.Translate(err, "Instance")
		}
		if err := s.applyServer(ctx, &in, sv, ""); err != nil {
			return err
		}
		rep.Imported = append(rep.Imported, sv.Name)
		if err := s.EmitEvent(ctx, &models.Event{EventType: "resource_import_succeeded",
			Message: fmt.Sprintf("Instance %s has been imported from tenant %s.", sv.Name, t.Name),
			Context: map[string]any{"resource_uuid": in.UUID.String(), "resource_name": in.Name, "resource_type": OfferingInstance},
			Scopes:  scopes}); err != nil {
			return err
		}
	}

	volumes := map[string]CloudVolume{}
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
			if err := db.Delete(&VolumeRow{}, v.ID).Error; err != nil {
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
		owner := bv.Metadata[MetaResourceUUID]
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
		row := VolumeRow{UUID: models.NewUUID(), ProjectID: t.ProjectID, TenantID: t.ID, Name: bv.Name, Description: bv.Description,
			State: models.CoreOK, Created: now, Modified: now}
		if bv.Status == "error" {
			row.State = models.CoreErred
		}
		if err := db.Create(&row).Error; err != nil {
			return store.Translate(err, "Volume")
		}
		if err := s.setRow(ctx, "openstack_volumes", row.ID, s.volumeUpdates(ctx, t.ID, bv)); err != nil {
			return err
		}
		rep.Imported = append(rep.Imported, bv.Name)
		if err := s.EmitEvent(ctx, &models.Event{EventType: "resource_import_succeeded",
			Message: fmt.Sprintf("Volume %s has been imported from tenant %s.", bv.Name, t.Name),
			Context: map[string]any{"resource_uuid": row.UUID.String(), "resource_name": row.Name, "resource_type": OfferingVolume},
			Scopes:  scopes}); err != nil {
			return err
		}
	}
	return nil
}

// TenantSecrets returns the secret options of a tenant's offering
// (its cloud's credentials). Codes: not_found.
func (s *Store) TenantSecrets(ctx context.Context, tenantID int64) (map[string]any, error) {
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
	_ = json.Unmarshal(raw[0], &out)
	return out, nil
}
