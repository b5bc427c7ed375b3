package openstack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of a backup's restore (Waldur's BackupRestoration): the
// API makes the new instance's row at once (CREATION_SCHEDULED, action
// "create", the restore's request recorded in action_details: the row is
// the outbox), OpenStackAction makes it in the cloud (actionRequest calls
// backupRestoreRequest; FinishAction, through finishInstanceNetwork,
// finishRestore records the server and its volumes) or leaves it ERRED.

// BackupRestoreInput is what the API resolved of a restore's request.
type BackupRestoreInput struct {
	Name              string
	Flavor            CloudFlavor
	Ports             []SubnetRef
	FloatingIPSubnets []string
	// SecurityGroups are backend ids.
	SecurityGroups []string
}

// BackupSource is the instance a backup was taken of, as a restore's
// defaults need it (zero when the instance is gone).
type BackupSource struct {
	Name             string
	AvailabilityZone string
	ImageName        string
	Ports            []CloudPort
	SecurityGroups   []string // backend ids
}

// BackupSourceOf reads the backup's instance.
func (s *Store) BackupSourceOf(ctx context.Context, backupID int64) (BackupSource, error) {
	var row struct {
		TenantID         int64
		Name             string
		AvailabilityZone string
		ImageName        string
		Ports            []byte
		SecurityGroups   []byte
	}
	if err := s.DB.WithContext(ctx).Table("openstack_backups b").
		Select("i.tenant_id, i.name, i.availability_zone, i.image_name, i.ports, i.security_groups").
		Joins("JOIN openstack_instances i ON i.id = b.instance_id").Where("b.id = ?", backupID).Scan(&row).Error; err != nil {
		return BackupSource{}, models.Internal(err)
	}
	out := BackupSource{Name: row.Name, AvailabilityZone: row.AvailabilityZone, ImageName: row.ImageName}
	_ = json.Unmarshal(row.Ports, &out.Ports)
	var names []string
	_ = json.Unmarshal(row.SecurityGroups, &names)
	if len(names) > 0 {
		if err := s.DB.WithContext(ctx).Table("openstack_security_groups").Where("tenant_id = ? AND name IN ?", row.TenantID, names).
			Order("id").Pluck("backend_id", &out.SecurityGroups).Error; err != nil {
			return BackupSource{}, models.Internal(err)
		}
	}
	return out, nil
}

// RestoreBackup makes the row of the instance a backup is restored into
// and records the restore on it; 409 unless the backup is OK, 400 when it
// has no snapshot made in the cloud. Codes: not_found, conflict, invalid.
func (s *Store) RestoreBackup(ctx context.Context, backupID int64, in BackupRestoreInput) (*ActionObject, error) {
	var out *ActionObject
	err := s.Tx(ctx, func(tx *Store) error {
		b, err := tx.actionObject(ctx, KindBackup, backupID, true)
		if err != nil {
			return err
		}
		if b.State != models.CoreOK {
			return models.Errorf(models.CodeConflict, "Valid states for operation: OK.")
		}
		src, err := tx.BackupSourceOf(ctx, b.ID)
		if err != nil {
			return err
		}
		var snaps []struct {
			BackendID string
			Name      string
			Size      int64
			TypeName  string
			Bootable  bool
			Device    string
		}
		if err := tx.DB.WithContext(ctx).Table("openstack_snapshots x").
			Select("x.backend_id, x.name, x.size, COALESCE(v.type_name, '') AS type_name, COALESCE(v.bootable, FALSE) AS bootable, COALESCE(v.device, '') AS device").
			Joins("LEFT JOIN openstack_volumes v ON v.id = x.source_volume_id").Where("x.backup_id = ?", b.ID).Order("x.id").
			Scan(&snaps).Error; err != nil {
			return models.Internal(err)
		}
		if len(snaps) == 0 {
			return models.Errorf(models.CodeInvalid, "The backup has no snapshots to restore.")
		}
		now := tx.Now()
		row := InstanceRow{UUID: models.NewUUID(), ProjectID: b.ProjectID, TenantID: b.TenantID,
			Name: firstNonEmpty(in.Name, src.Name, b.Name), Description: fmt.Sprintf("Restored from backup %s", b.Name),
			State: models.CoreCreationScheduled, FlavorName: in.Flavor.Name, FlavorDisk: in.Flavor.Disk, Cores: in.Flavor.Cores,
			RAM: in.Flavor.RAM, ImageName: src.ImageName, AvailabilityZone: src.AvailabilityZone,
			InternalIPs: rawJSON([]string{}), ExternalIPs: rawJSON([]string{}), SecurityGroups: rawJSON([]string{}),
			Ports: rawJSON([]CloudPort{}), Created: now, Modified: now}
		req := BackupRestoreRequest{Name: row.Name, FlavorBackendID: in.Flavor.BackendID, Ports: nonNilSlice(in.Ports),
			FloatingIPSubnets: in.FloatingIPSubnets, SecurityGroups: in.SecurityGroups, AvailabilityZone: src.AvailabilityZone}
		boot := false
		for i, sn := range snaps {
			if isPending(sn.BackendID) {
				return models.Errorf(models.CodeInvalid, "The backup's snapshot %s is not in the cloud.", sn.Name)
			}
			v := RestoreVolume{SnapshotBackendID: sn.BackendID, Name: fmt.Sprintf("%s-volume-%d", row.Name, i), Size: sn.Size,
				TypeName: sn.TypeName, Boot: !boot && (sn.Bootable || sn.Device == "/dev/vda")}
			boot = boot || v.Boot
			row.Disk += sn.Size
			req.Volumes = append(req.Volumes, v)
		}
		if err := tx.DB.WithContext(ctx).Create(&row).Error; err != nil {
			return store.Translate(err, "Instance")
		}
		details := map[string]any{}
		_ = json.Unmarshal(rawJSON(req), &details)
		details["backup_uuid"] = b.UUID.String()
		if err := tx.setRow(ctx, "openstack_instances", row.ID, map[string]any{"action": "create", "action_details": rawJSON(details)}); err != nil {
			return err
		}
		if out, err = tx.actionObject(ctx, KindInstance, row.ID, false); err != nil {
			return err
		}
		return tx.emitObjectEvent(ctx, b, "resource_backup_restoration_scheduled",
			fmt.Sprintf("Backup %s restoration into instance %s has been scheduled.", b.Name, row.Name))
	})
	return out, err
}

// backupRestoreRequest resolves an instance's create from a backup.
func (s *Store) backupRestoreRequest(ctx context.Context, o *ActionObject, req *ActionRequest) error {
	r := &BackupRestoreRequest{}
	raw, err := json.Marshal(o.ActionDetails)
	if err != nil {
		return models.Internal(err)
	}
	if err := json.Unmarshal(raw, r); err != nil {
		return models.Errorf(models.CodeInvalid, "The restore of instance %s cannot be read: %v", o.Name, err)
	}
	if r.ExternalNetworkID, err = columnOf[string](ctx, s, KindTenant, o.TenantID, "external_network_id"); err != nil {
		return err
	}
	r.Marker = o.UUID.String()
	req.Restore = r
	return nil
}

// finishRestore records the server a backup's restore made and its volumes.
func (s *Store) finishRestore(ctx context.Context, o *ActionObject, res ActionResult, updates map[string]any) error {
	if len(res.Servers) == 0 {
		return nil
	}
	sv := res.Servers[0]
	updates["backend_id"] = sv.BackendID
	updates["internal_ips"], updates["external_ips"] = rawJSON(nonNilSlice(sv.InternalIPs)), rawJSON(nonNilSlice(sv.ExternalIPs))
	updates["security_groups"], updates["ports"] = rawJSON(nonNilSlice(sv.SecurityGroups)), rawJSON(nonNilSlice(sv.Ports))
	if sv.FlavorName != "" {
		updates["flavor_name"], updates["cores"], updates["ram"], updates["flavor_disk"] = sv.FlavorName, sv.Cores, sv.RAM, sv.Disk
	}
	in := &InstanceRow{ID: o.ID, ProjectID: o.ProjectID, TenantID: o.TenantID}
	// The server's backend id first: the volumes attached to it find it.
	if err := s.setRow(ctx, "openstack_instances", o.ID, map[string]any{"backend_id": sv.BackendID}); err != nil {
		return err
	}
	for _, v := range res.Volumes {
		if err := s.upsertInstanceVolume(ctx, in, v); err != nil {
			return err
		}
	}
	// Billed like the backup's instance (store_restored.go).
	backup, _ := o.ActionDetails["backup_uuid"].(string)
	source, err := s.restoreSource(ctx, backup, 0)
	if err != nil || backup == "" {
		return err
	}
	return s.billRestored(ctx, KindInstance, o.ID, source)
}
