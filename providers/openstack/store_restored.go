package openstack

import (
	"context"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The marketplace resources of what a restore makes (Waldur creates one
// for a volume restored from a snapshot and for an instance restored from
// a backup, so they are billed like ordered ones): when the restore is
// done, in the transaction that records it, a resource of the source's
// offering and plan (the snapshot's volume's, the backup's instance's) in
// the tenant's project, OK, its limits the object's quantities on the
// offering's limit components (an instance's cores, ram and disk, a
// volume's size), its scope the new row. A source without a resource (an
// imported one) leaves the restored object without one, as before.

// billRestored gives the row id of kind (KindInstance or KindVolume) a
// marketplace resource like the source resource's (nil: none).
func (s *Store) billRestored(ctx context.Context, kind Kind, id int64, source *int64) error {
	if source == nil {
		return nil
	}
	db := s.DB.WithContext(ctx)
	var src []struct {
		OfferingUUID models.UUID
		OfferingID   int64
		PlanUUID     *models.UUID
		ProjectUUID  models.UUID
	}
	if err := db.Table("resources r").Select("f.uuid AS offering_uuid, f.id AS offering_id, pl.uuid AS plan_uuid, p.uuid AS project_uuid").
		Joins("JOIN offerings f ON f.id = r.offering_id").Joins("JOIN projects p ON p.id = r.project_id").
		Joins("LEFT JOIN plans pl ON pl.id = r.plan_id").Where("r.id = ?", *source).Scan(&src).Error; err != nil {
		return models.Internal(err)
	}
	if len(src) == 0 {
		return nil
	}
	var row struct {
		UUID        models.UUID
		Name        string
		Description string
		BackendID   string
		ResourceID  *int64
		Cores       int
		RAM         int64 `gorm:"column:ram"`
		Disk        int64
		Size        int64
	}
	cols := "uuid, name, description, backend_id, resource_id, cores, ram, disk, 0 AS size"
	typ := OfferingInstance
	if kind == KindVolume {
		cols, typ = "uuid, name, description, backend_id, resource_id, 0 AS cores, 0 AS ram, 0 AS disk, size", OfferingVolume
	}
	if err := db.Table(kind.table()).Select(cols).Where("id = ?", id).Scan(&row).Error; err != nil {
		return models.Internal(err)
	}
	if row.UUID.IsZero() || row.ResourceID != nil || row.BackendID == "" || isPending(row.BackendID) {
		return nil
	}
	quantities := volumeQuantities(row.Size)
	if kind == KindInstance {
		quantities = flavorQuantities(CloudFlavor{Cores: row.Cores, RAM: row.RAM, Disk: row.Disk})
	}
	comps, err := s.OfferingComponentsForOrder(ctx, src[0].OfferingID)
	if err != nil {
		return err
	}
	limits := map[string]int64{}
	for _, cp := range comps {
		if v, ok := quantities[cp.Type]; ok && cp.BillingType == models.BillingLimit {
			limits[cp.Type] = v
		}
	}
	in := store.ImportResourceInput{OfferingUUID: src[0].OfferingUUID, ProjectUUID: src[0].ProjectUUID, PlanUUID: src[0].PlanUUID,
		BackendID: row.BackendID, Name: row.Name, Description: row.Description, Limits: limits}
	_, err = s.ImportResourceLinked(ctx, in, func(ctx context.Context, tx *store.Store, r store.ImportedRef, _ store.ImportResourceInput) error {
		ts := &Store{Store: tx}
		if err := ts.setRow(ctx, kind.table(), id, map[string]any{"resource_id": r.ID}); err != nil {
			return err
		}
		return ts.setScope(ctx, r.ID, typ, row.UUID)
	})
	return err
}

// restoreSource is the resource of a restore's source: a backup's
// instance's (an instance restored from backup_uuid) or a snapshot's
// volume's (snapshot id).
func (s *Store) restoreSource(ctx context.Context, backupUUID string, snapshotID int64) (*int64, error) {
	q := s.DB.WithContext(ctx)
	var ids []*int64
	var err error
	if backupUUID != "" {
		err = q.Raw(`SELECT i.resource_id FROM openstack_backups b JOIN openstack_instances i ON i.id = b.instance_id WHERE b.uuid = ?`, backupUUID).
			Scan(&ids).Error
	} else {
		err = q.Raw(`SELECT v.resource_id FROM openstack_snapshots x JOIN openstack_volumes v ON v.id = x.source_volume_id WHERE x.id = ?`, snapshotID).
			Scan(&ids).Error
	}
	if err != nil {
		return nil, models.Internal(err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids[0], nil
}
