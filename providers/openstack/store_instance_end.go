package openstack

import (
	"context"

	"github.com/waldur-go/waldur/models"
)

// An instance's termination takes its backups with it (the backups' Cinder
// snapshots are deleted by the provider before the volumes: Cinder keeps a
// volume that has snapshots); with delete_volumes false its data volumes
// stay, detached (terminateInstance).

// BackupSnapshotsOf lists the Cinder ids of the snapshots of instance
// id's backups (those made in the cloud).
func (s *Store) BackupSnapshotsOf(ctx context.Context, instanceID int64) ([]string, error) {
	var ids []string
	err := s.DB.WithContext(ctx).Table("openstack_snapshots x").Joins("JOIN openstack_backups b ON b.id = x.backup_id").
		Where("b.instance_id = ? AND x.backend_id <> '' AND x.backend_id NOT LIKE ?", instanceID, pendingPrefix+"%").Order("x.id").
		Pluck("x.backend_id", &ids).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return ids, nil
}

// endInstanceBackups removes the rows of the backups of instances ids and
// of their snapshots (and the snapshots' restorations).
func (s *Store) endInstanceBackups(ctx context.Context, ids []int64) error {
	db := s.DB.WithContext(ctx)
	for _, q := range []string{
		`DELETE FROM openstack_snapshot_restorations WHERE snapshot_id IN (SELECT x.id FROM openstack_snapshots x
			JOIN openstack_backups b ON b.id = x.backup_id WHERE b.instance_id IN ?)`,
		`DELETE FROM openstack_snapshots WHERE backup_id IN (SELECT id FROM openstack_backups WHERE instance_id IN ?)`,
		`DELETE FROM openstack_backups WHERE instance_id IN ?`,
	} {
		if err := db.Exec(q, ids).Error; err != nil {
			return models.Internal(err)
		}
	}
	return nil
}
