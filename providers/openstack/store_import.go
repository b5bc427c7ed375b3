package openstack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The plugin side of imports into OpenStack.Instance and OpenStack.Volume
// offerings (import_resource): the imported resource is tied to the
// server's or volume's row in its tenant, which the pull keeps (an object
// deleted behind Waldur's back makes the resource Erred) and orders act on.

// ImportTenants lists the tenants an OpenStack.Instance or
// OpenStack.Volume offering of the customer imports from when its options
// name none: the tenants in state OK with a backend id of the customer's
// OpenStack.Tenant offerings (the clouds the provider runs), by id, each
// with its offering's secret options. Codes: internal.
func (s *Store) ImportTenants(ctx context.Context, customerID int64) ([]PullTarget, error) {
	var rows []struct {
		UUID          models.UUID
		Name          string
		BackendID     string
		SecretOptions []byte
	}
	err := s.DB.WithContext(ctx).Table("openstack_tenants t").Select("t.uuid, t.name, t.backend_id, f.secret_options").
		Joins("JOIN offerings f ON f.id = t.offering_id").
		Where("f.customer_id = ? AND f.type = ? AND t.backend_id <> '' AND t.state = ?", customerID, OfferingTenant, models.CoreOK).
		Order("t.id").Scan(&rows).Error
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

// LinkImported ties a resource imported into an OpenStack.Instance
// or OpenStack.Volume offering to its plugin row in the tenant (by the
// tenant's UUID): the row a pull recorded for the server or volume, or a
// new one, becomes the resource's (scope_type/scope_uuid), OK, with what
// the provider read (snap: the server with its ports and attached volumes,
// or the volume). For the import transaction (an ImportLink). Refused
// (invalid): a tenant of another project than the resource's, an object
// whose row belongs to a resource not terminated. Codes: invalid, not_found.
func (s *Store) LinkImported(ctx context.Context, r store.ImportedRef, tenantUUID models.UUID, snap Snapshot) error {
	db := s.DB.WithContext(ctx)
	var t TenantRow
	if err := db.Where("uuid = ?", tenantUUID).Take(&t).Error; err != nil {
		return store.Translate(err, "Tenant")
	}
	if t.ProjectID != r.ProjectID {
		return models.FieldError("project", fmt.Sprintf("Tenant %s is in another project: import into the tenant's project.", t.Name))
	}
	// taken refuses a row that is another live resource's.
	taken := func(what, backendID string, resourceID *int64) error {
		if resourceID == nil || *resourceID == r.ID {
			return nil
		}
		var st []models.ResourceState
		if err := db.Table("resources").Where("id = ?", *resourceID).Pluck("state", &st).Error; err != nil {
			return models.Internal(err)
		}
		if len(st) > 0 && st[0] != models.ResourceTerminated {
			return models.FieldError("backend_id", fmt.Sprintf("%s %s is a resource already.", what, backendID))
		}
		return nil
	}
	now := s.Now()
	switch {
	case r.OfferingType == OfferingInstance && len(snap.Servers) > 0:
		sv := snap.Servers[0]
		var row InstanceRow
		if err := store.ForUpdate(db.Where("tenant_id = ? AND backend_id = ?", t.ID, sv.BackendID)).Limit(1).Find(&row).Error; err != nil {
			return models.Internal(err)
		}
		if err := taken("Server", sv.BackendID, row.ResourceID); err != nil {
			return err
		}
		if row.ID == 0 {
			row = InstanceRow{UUID: models.NewUUID(), ResourceID: &r.ID, ProjectID: r.ProjectID, TenantID: t.ID, Name: r.Name,
				State: models.CoreOK, BackendID: sv.BackendID, Created: now, Modified: now}
			if err := db.Create(&row).Error; err != nil {
				return store.Translate(err, "Instance")
			}
		} else if err := s.setRow(ctx, "openstack_instances", row.ID, map[string]any{"resource_id": r.ID, "project_id": r.ProjectID}); err != nil {
			return err
		}
		row.ResourceID, row.ProjectID = &r.ID, r.ProjectID
		if err := s.applyServer(ctx, &row, sv, models.CoreOK); err != nil {
			return err
		}
		for _, v := range snap.Volumes {
			if err := s.upsertInstanceVolume(ctx, &row, v); err != nil {
				return err
			}
		}
		return s.setScope(ctx, r.ID, OfferingInstance, row.UUID)
	case r.OfferingType == OfferingVolume && len(snap.Volumes) > 0:
		v := snap.Volumes[0]
		var row VolumeRow
		if err := store.ForUpdate(db.Where("tenant_id = ? AND backend_id = ?", t.ID, v.BackendID)).Limit(1).Find(&row).Error; err != nil {
			return models.Internal(err)
		}
		if err := taken("Volume", v.BackendID, row.ResourceID); err != nil {
			return err
		}
		if row.ID == 0 {
			row = VolumeRow{UUID: models.NewUUID(), ResourceID: &r.ID, ProjectID: r.ProjectID, TenantID: t.ID, Name: r.Name,
				Description: v.Description, State: models.CoreOK, Created: now, Modified: now}
			if err := db.Create(&row).Error; err != nil {
				return store.Translate(err, "Volume")
			}
		}
		updates := s.volumeUpdates(ctx, t.ID, v)
		updates["resource_id"], updates["project_id"], updates["state"], updates["error_message"] = r.ID, r.ProjectID, models.CoreOK, ""
		if err := s.setRow(ctx, "openstack_volumes", row.ID, updates); err != nil {
			return err
		}
		return s.setScope(ctx, r.ID, OfferingVolume, row.UUID)
	}
	return models.Errorf(models.CodeInvalid, "The backend's answer has no %s to record.", r.OfferingType)
}
