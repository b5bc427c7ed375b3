package openstack

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of the server groups, snapshots and backups: their
// views (what the API lists, with the caller's visibility), what their
// actions hand the cloud side, and what a finished or failed action
// records. A snapshot's restore makes a volume row (CREATION_SCHEDULED)
// and a restoration at once; the snapshot's restore action makes the
// volume in the cloud and the volume row is OK (or ERRED) with it.

// StorageView is a server group, snapshot or backup as the API renders
// it (the columns a table lacks stay zero).
type StorageView struct {
	ID            int64
	UUID          models.UUID
	TenantID      int64
	BackendID     string
	Name          string
	Description   string
	State         models.CoreState
	ErrorMessage  string
	Policy        string
	Size          int64
	Metadata      []byte
	RuntimeState  string
	KeptUntil     *time.Time
	Action        string
	ActionDetails []byte
	Created       time.Time
	Modified      time.Time
	// A snapshot's source volume, a backup's instance.
	SourceVolumeUUID         *models.UUID
	SourceVolumeName         *string
	SourceVolumeResourceUUID *models.UUID
	InstanceUUID             *models.UUID
	InstanceName             *string
	InstanceResourceUUID     *models.UUID
	RowContext               `gorm:"embedded"`
}

// storageViews is the query over a kind's rows (alias x, its tenant t).
func (s *Store) storageViews(ctx context.Context, k Kind) *gorm.DB {
	sel := "x.*, " + osContextColumns
	q := s.DB.WithContext(ctx).Table(k.table() + " x").Joins("JOIN openstack_tenants t ON t.id = x.tenant_id")
	switch k {
	case KindSnapshot:
		sel += ", sv.uuid AS source_volume_uuid, sv.name AS source_volume_name, svr.uuid AS source_volume_resource_uuid"
		q = q.Joins("LEFT JOIN openstack_volumes sv ON sv.id = x.source_volume_id").Joins("LEFT JOIN resources svr ON svr.id = sv.resource_id")
	case KindBackup:
		sel += ", i.uuid AS instance_uuid, i.name AS instance_name, ir.uuid AS instance_resource_uuid"
		q = q.Joins("LEFT JOIN openstack_instances i ON i.id = x.instance_id").Joins("LEFT JOIN resources ir ON ir.id = i.resource_id")
	}
	return osJoins(q.Select(sel), "t")
}

// StorageFilter narrows StorageQuery.
type StorageFilter struct {
	Filter
	SourceVolumeUUIDs []models.UUID // snapshots of these volumes
	BackupUUIDs       []models.UUID // snapshots of these backups
	InstanceUUIDs     []models.UUID // backups of these instances
	RuntimeState      string
}

// StorageQuery returns the rows of kind k the caller may see, narrowed by
// f, as a query over StorageView rows (alias x), for rest.List.
func (s *Store) StorageQuery(ctx context.Context, k Kind, f StorageFilter) (store.Query, error) {
	q, err := s.visible(ctx, s.storageViews(ctx, k))
	if err != nil {
		return store.Query{}, err
	}
	q = f.apply(q, "x")
	if len(f.SourceVolumeUUIDs) > 0 {
		q = q.Where("sv.uuid IN ?", f.SourceVolumeUUIDs)
	}
	if len(f.BackupUUIDs) > 0 {
		q = q.Where("x.backup_id IN (SELECT id FROM openstack_backups WHERE uuid IN ?)", f.BackupUUIDs)
	}
	if len(f.InstanceUUIDs) > 0 {
		q = q.Where("i.uuid IN ?", f.InstanceUUIDs)
	}
	if f.RuntimeState != "" {
		q = q.Where("x.runtime_state = ?", f.RuntimeState)
	}
	return store.QueryOf(q), nil
}

// VisibleStorage loads the row of kind k with uuid id if the caller may
// see it. Codes: not_found ("No <noun> matches the given query.").
func (s *Store) VisibleStorage(ctx context.Context, k Kind, id models.UUID) (*StorageView, error) {
	q, err := s.visible(ctx, s.storageViews(ctx, k))
	if err != nil {
		return nil, err
	}
	var v StorageView
	if err := findVisible(q, "x", id, k.Noun(), &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// RestorationView is a snapshot's restoration with its volume.
type RestorationView struct {
	SnapshotID         int64
	UUID               models.UUID
	Description        string
	Created            time.Time
	VolumeUUID         models.UUID
	VolumeName         string
	VolumeState        string
	VolumeRuntimeState string
	VolumeSize         int64
	VolumeDevice       string
}

// RestorationsOf lists the restorations of snapshots, by snapshot id.
func (s *Store) RestorationsOf(ctx context.Context, snapshotIDs []int64) (map[int64][]RestorationView, error) {
	out := map[int64][]RestorationView{}
	if len(snapshotIDs) == 0 {
		return out, nil
	}
	var rows []RestorationView
	if err := s.DB.WithContext(ctx).Table("openstack_snapshot_restorations r").
		Select("r.snapshot_id, r.uuid, r.description, r.created, v.uuid AS volume_uuid, v.name AS volume_name, v.state AS volume_state, "+
			"v.runtime_state AS volume_runtime_state, v.size AS volume_size, v.device AS volume_device").
		Joins("JOIN openstack_volumes v ON v.id = r.volume_id").Where("r.snapshot_id IN ?", snapshotIDs).Order("r.id").
		Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.SnapshotID] = append(out[r.SnapshotID], r)
	}
	return out, nil
}

// RestoreSnapshot schedules a snapshot's restore: a volume row
// (CREATION_SCHEDULED, the snapshot's size and its source volume's type)
// and a restoration are made, and the snapshot is scheduled for its
// restore action (409 unless it is OK, and nothing is made). Codes:
// not_found, conflict.
func (s *Store) RestoreSnapshot(ctx context.Context, snapshotID int64, name, description string) (*ActionObject, models.UUID, error) {
	var out *ActionObject
	var volUUID models.UUID
	err := s.Tx(ctx, func(tx *Store) error {
		o, err := tx.actionObject(ctx, KindSnapshot, snapshotID, true)
		if err != nil {
			return err
		}
		if o.State != models.CoreOK {
			return models.Errorf(models.CodeConflict, "Valid states for operation: OK.")
		}
		var src struct {
			Size     int64
			TypeName string
			AZ       string
		}
		if err := tx.DB.WithContext(ctx).Table("openstack_snapshots x").
			Select("x.size, COALESCE(v.type_name, '') AS type_name, COALESCE(v.availability_zone, '') AS az").
			Joins("LEFT JOIN openstack_volumes v ON v.id = x.source_volume_id").Where("x.id = ?", o.ID).Scan(&src).Error; err != nil {
			return models.Internal(err)
		}
		now := tx.Now()
		vol := VolumeRow{UUID: models.NewUUID(), ProjectID: o.ProjectID, TenantID: o.TenantID, Name: name, Description: description,
			State: models.CoreCreationScheduled, Size: src.Size, TypeName: src.TypeName, AvailabilityZone: src.AZ, Created: now, Modified: now}
		if err := tx.DB.WithContext(ctx).Create(&vol).Error; err != nil {
			return store.Translate(err, "Volume")
		}
		if err := tx.DB.WithContext(ctx).Table("openstack_snapshot_restorations").Create(map[string]any{"uuid": models.NewUUID(),
			"snapshot_id": o.ID, "volume_id": vol.ID, "description": description, "created": now}).Error; err != nil {
			return models.Internal(err)
		}
		out, err = tx.ScheduleAction(ctx, KindSnapshot, o.ID, ScheduledAction{Action: "restore",
			Details: map[string]any{"volume_uuid": vol.UUID.String()}})
		volUUID = vol.UUID
		return err
	})
	return out, volUUID, err
}

// storageRequest resolves what a server group's, snapshot's or backup's
// action needs: its name and description, a group's policy, a snapshot's
// volume (create) or the volume to make (restore), a backup's snapshots.
func (s *Store) storageRequest(ctx context.Context, o *ActionObject, req *ActionRequest) error {
	db := s.DB.WithContext(ctx)
	var cur struct {
		Name, Description string
		Policy            string
		SourceVolumeID    *int64
		InstanceID        *int64
	}
	cols := "name, description"
	switch o.Kind {
	case KindServerGroup:
		cols += ", policy"
	case KindSnapshot:
		cols += ", source_volume_id"
	case KindBackup:
		cols += ", instance_id"
	}
	if err := db.Table(o.Kind.table()).Select(cols).Where("id = ?", o.ID).Scan(&cur).Error; err != nil {
		return models.Internal(err)
	}
	req.Name, req.Description = cur.Name, cur.Description
	st := &StorageRequest{Policy: cur.Policy}
	req.Storage = st
	str := func(k string) string { v, _ := o.ActionDetails[k].(string); return v }
	switch {
	case o.Kind == KindSnapshot && o.Action == "create":
		var ids []string
		if cur.SourceVolumeID != nil {
			if err := db.Table("openstack_volumes").Where("id = ?", *cur.SourceVolumeID).Pluck("backend_id", &ids).Error; err != nil {
				return models.Internal(err)
			}
		}
		if len(ids) == 0 || ids[0] == "" {
			return models.Errorf(models.CodeInvalid, "The volume of snapshot %s is not in the cloud.", o.Name)
		}
		st.VolumeBackendID = ids[0]
	case o.Kind == KindSnapshot && o.Action == "restore":
		var v VolumeRow
		if err := db.Where("uuid = ?", str("volume_uuid")).Limit(1).Find(&v).Error; err != nil {
			return models.Internal(err)
		}
		if v.ID == 0 {
			return models.Errorf(models.CodeInvalid, "The volume to restore snapshot %s into is gone.", o.Name)
		}
		st.Volume = &CloudVolume{Name: v.Name, Description: v.Description, Size: v.Size, TypeName: v.TypeName}
	case o.Kind == KindBackup:
		var rows []struct {
			BackendID, Name, Description, VolumeBackendID string
		}
		if err := db.Table("openstack_snapshots x").Select("x.backend_id, x.name, x.description, COALESCE(v.backend_id, '') AS volume_backend_id").
			Joins("LEFT JOIN openstack_volumes v ON v.id = x.source_volume_id").Where("x.backup_id = ?", o.ID).Order("x.id").
			Scan(&rows).Error; err != nil {
			return models.Internal(err)
		}
		st.Snapshots = []CloudSnapshot{}
		for _, r := range rows {
			sn := CloudSnapshot{BackendID: r.BackendID, Name: r.Name, Description: r.Description, VolumeBackendID: r.VolumeBackendID}
			if isPending(sn.BackendID) {
				sn.BackendID = ""
			}
			if o.Action == "create" && sn.VolumeBackendID == "" {
				return models.Errorf(models.CodeInvalid, "A volume of backup %s is not in the cloud.", o.Name)
			}
			if o.Action != "create" && sn.BackendID == "" {
				continue
			}
			st.Snapshots = append(st.Snapshots, sn)
		}
		if cur.InstanceID != nil {
			var ids []string
			if err := db.Table("openstack_instances").Where("id = ?", *cur.InstanceID).Pluck("backend_id", &ids).Error; err != nil {
				return models.Internal(err)
			}
			if len(ids) > 0 {
				req.InstanceBackendID = ids[0]
			}
		}
	}
	return nil
}

// finishStorage records what the cloud read back after a server group's,
// snapshot's or backup's action.
func (s *Store) finishStorage(ctx context.Context, o *ActionObject, action string, res ActionResult, updates map[string]any) error {
	if res.BackendID != "" {
		updates["backend_id"] = res.BackendID
	}
	st := res.Storage
	if st == nil {
		st = &StorageResult{}
	}
	db := s.DB.WithContext(ctx)
	switch o.Kind {
	case KindServerGroup:
		if g := st.ServerGroup; g != nil {
			updates["policy"] = g.Policy
			if g.Name != "" {
				updates["name"] = g.Name
			}
		}
	case KindSnapshot:
		if sn := st.Snapshot; sn != nil {
			updates["size"], updates["runtime_state"] = sn.Size, sn.Status
		}
		if v := st.Volume; v != nil && action == "restore" {
			volUUID, _ := o.ActionDetails["volume_uuid"].(string)
			var ids []int64
			if err := db.Table("openstack_volumes").Where("uuid = ?", volUUID).Pluck("id", &ids).Error; err != nil {
				return models.Internal(err)
			}
			if len(ids) == 0 {
				return nil // forgotten meanwhile
			}
			// A pull may have imported the volume before this row had its id.
			if err := db.Exec("DELETE FROM openstack_volumes WHERE tenant_id = ? AND backend_id = ? AND id <> ? AND resource_id IS NULL",
				o.TenantID, v.BackendID, ids[0]).Error; err != nil {
				return models.Internal(err)
			}
			if err := s.setRow(ctx, "openstack_volumes", ids[0], map[string]any{"state": models.CoreOK, "backend_id": v.BackendID,
				"runtime_state": v.Status, "size": v.Size, "type_name": v.TypeName, "bootable": v.Bootable, "error_message": ""}); err != nil {
				return err
			}
			// Billed like the snapshot's volume (store_restored.go).
			source, err := s.restoreSource(ctx, "", o.ID)
			if err != nil {
				return err
			}
			if err := s.billRestored(ctx, KindVolume, ids[0], source); err != nil {
				return err
			}
		}
	case KindBackup:
		if action == "create" && res.InstanceBackendID != "" {
			updates["backend_id"] = res.InstanceBackendID
		}
		for _, sn := range st.Snapshots {
			set := map[string]any{"size": sn.Size, "runtime_state": sn.Status, "state": models.CoreOK, "error_message": "", "modified": s.Now()}
			q := db.Table("openstack_snapshots").Where("backup_id = ?", o.ID)
			if action == "create" {
				set["backend_id"] = sn.BackendID
				q = q.Where("source_volume_id IN (SELECT id FROM openstack_volumes WHERE tenant_id = ? AND backend_id = ?)", o.TenantID, sn.VolumeBackendID)
			} else {
				q = q.Where("backend_id = ?", sn.BackendID)
			}
			if err := q.Updates(set).Error; err != nil {
				return store.Translate(err, "Snapshot")
			}
		}
	}
	return nil
}

// failStorage records a failed action's consequences besides the
// object's ERRED: a restore's volume row is ERRED too, a backup's
// snapshots not made are ERRED.
func (s *Store) failStorage(ctx context.Context, o *ActionObject, action, message string) error {
	db := s.DB.WithContext(ctx)
	switch {
	case o.Kind == KindSnapshot && action == "restore":
		volUUID, _ := o.ActionDetails["volume_uuid"].(string)
		if err := db.Table("openstack_volumes").Where("uuid = ? AND state = ?", volUUID, models.CoreCreationScheduled).
			Updates(map[string]any{"state": models.CoreErred, "error_message": message, "modified": s.Now()}).Error; err != nil {
			return models.Internal(err)
		}
	case o.Kind == KindBackup && action == "create":
		if err := db.Table("openstack_snapshots").Where("backup_id = ? AND state <> ?", o.ID, models.CoreOK).
			Updates(map[string]any{"state": models.CoreErred, "error_message": message, "modified": s.Now()}).Error; err != nil {
			return models.Internal(err)
		}
	}
	return nil
}

// deleteStorageChildren removes the rows that go with a deleted or
// unlinked object: a backup's snapshots.
func (s *Store) deleteStorageChildren(ctx context.Context, o *ActionObject) error {
	if o.Kind != KindBackup {
		return nil
	}
	if err := s.DB.WithContext(ctx).Exec("DELETE FROM openstack_snapshots WHERE backup_id = ?", o.ID).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}
