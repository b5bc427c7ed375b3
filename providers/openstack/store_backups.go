package openstack

import (
	"context"
	"fmt"
	"time"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of the backups (Waldur's instance backup: a snapshot
// of each of the instance's volumes, grouped).

// CreateBackup makes a backup of an instance: its row (CREATION_SCHEDULED,
// the create recorded) and a snapshot row of each volume attached to the
// instance ("<backup>-<volume>", CREATION_SCHEDULED, made by the backup's
// create). 409 unless the instance is OK. Codes: not_found, conflict.
func (s *Store) CreateBackup(ctx context.Context, instanceID int64, name, description string, keptUntil *time.Time) (*ActionObject, error) {
	var out *ActionObject
	err := s.Tx(ctx, func(tx *Store) error {
		in, err := tx.actionObject(ctx, KindInstance, instanceID, true)
		if err != nil {
			return err
		}
		if in.State != models.CoreOK {
			return models.Errorf(models.CodeConflict, "Valid states for operation: OK.")
		}
		o, err := tx.CreateObject(ctx, KindBackup, in.TenantID, map[string]any{"name": name, "description": description,
			"instance_id": in.ID, "kept_until": keptUntil, "metadata": rawJSON(map[string]any{})}, nil)
		if err != nil {
			return err
		}
		var vols []VolumeRow
		if err := tx.DB.WithContext(ctx).Where("instance_id = ?", in.ID).Order("id").Find(&vols).Error; err != nil {
			return models.Internal(err)
		}
		now := tx.Now()
		for _, v := range vols {
			id := models.NewUUID()
			if err := tx.DB.WithContext(ctx).Table("openstack_snapshots").Create(map[string]any{"uuid": id, "tenant_id": in.TenantID,
				"source_volume_id": v.ID, "backup_id": o.ID, "backend_id": pendingPrefix + id.String(),
				"name": fmt.Sprintf("%s-%s", name, v.Name), "description": description, "size": v.Size, "metadata": rawJSON(map[string]any{}),
				"kept_until": keptUntil, "state": models.CoreCreationScheduled, "error_message": "", "action": "",
				"action_details": rawJSON(map[string]any{}), "created": now, "modified": now}).Error; err != nil {
				return store.Translate(err, "Snapshot")
			}
		}
		out = o
		return nil
	})
	return out, err
}
