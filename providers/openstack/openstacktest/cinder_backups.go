package openstacktest

import (
	"encoding/json"
	"net/http"

	"github.com/google/uuid"
)

// Cinder volume backups. A backup is creating for Options.VolumeDelay and
// then available (or error, Faults.BackupErrorRate); meanwhile the volume it
// copies is backing-up and then back to its previous status (available or
// in-use), or, for a backup of a snapshot, the snapshot is. A restore puts
// the backup in restoring and the target volume in restoring-backup for
// VolumeDelay, then both are available. A deleted backup is deleting for
// Options.DeleteDelay, then gone. Backups count towards the project's
// backups and backup_gigabytes quotas and outlive their volume.

const backupObjectMiB = 50 // Swift backup driver's object size (backup_swift_object_size)

func (e *Emulator) backupRoutes(r route) {
	r("POST", "/backups", (*call).createBackup)
	r("GET", "/backups", func(c *call) *apiError { return c.listBackups(false) })
	r("GET", "/backups/detail", func(c *call) *apiError { return c.listBackups(true) })
	r("GET", "/backups/{id}", (*call).getBackup)
	r("DELETE", "/backups/{id}", (*call).deleteBackup)
	r("POST", "/backups/{id}/restore", (*call).restoreBackup)
}

// backup finds a backup visible to the caller: its project's, or any for an admin.
func (c *call) backup(id string) (*Backup, *apiError) {
	b := c.s().backups.get(id)
	if b == nil || (b.ProjectID != c.projectID() && !c.isAdmin()) {
		return nil, errf(http.StatusNotFound, "Backup %s could not be found.", id)
	}
	return b, nil
}

// hasDependents tells whether an incremental backup is based on this one.
func (s *store) hasDependents(b *Backup) bool {
	for _, x := range s.backups.all() {
		if x.ParentID == b.ID {
			return true
		}
	}
	return false
}

func (c *call) backupLinks(id string) []map[string]any {
	return []map[string]any{
		{"rel": "self", "href": c.cinderURL("backups", id)},
		{"rel": "bookmark", "href": c.base() + "/volume/" + c.projectID() + "/backups/" + id},
	}
}

// renderBackup is Cinder's backup view: id, name and links in the summary
// (GET /backups, the create answer), everything in the detail; metadata from
// 3.43, user_id from 3.56, the project to admins from 3.18.
func (c *call) renderBackup(b *Backup, detail bool) map[string]any {
	m := map[string]any{"id": b.ID, "name": b.Name, "links": c.backupLinks(b.ID)}
	if !detail {
		return m
	}
	m["status"], m["size"], m["object_count"], m["availability_zone"] = b.Status, b.Size, b.ObjectCount, "nova"
	m["container"], m["created_at"], m["updated_at"] = orNull(b.Container), tCinder(b.Created), tCinder(b.Updated)
	m["description"], m["fail_reason"], m["volume_id"] = b.Description, orNull(b.FailReason), b.VolumeID
	m["is_incremental"], m["has_dependent_backups"] = b.Incremental, c.s().hasDependents(b)
	m["snapshot_id"], m["data_timestamp"] = orNull(b.SnapshotID), tCinder(b.DataTimestamp)
	if c.mv >= 18 && c.isAdmin() {
		m["os-backup-project-attr:project_id"] = b.ProjectID
	}
	if c.mv >= 43 {
		m["metadata"] = nonNilMap(b.Metadata)
	}
	if c.mv >= 56 {
		m["user_id"] = b.UserID
	}
	return m
}

// backupQuotaCheck answers 413 as Cinder does when one more backup of
// gigabytes GiB would exceed the backups or backup_gigabytes quota.
func (c *call) backupQuotaCheck(projectID string, gigabytes int) *apiError {
	l, u := c.s().quotaLimits(projectID, "volume"), c.s().volumeUsage(projectID)
	over := overQuota(l, u, map[string]int{"backups": 1, "backup_gigabytes": gigabytes})
	switch {
	case len(over) == 0:
		return nil
	case over[0] == "backup_gigabytes":
		return overLimit("VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested %dG, quota is %dG and %dG has been consumed.",
			gigabytes, l["backup_gigabytes"], u["backup_gigabytes"])
	}
	return overLimit("BackupLimitExceeded: Maximum number of backups allowed (%d) exceeded", l["backups"])
}

// createBackup follows Cinder's backup API: the volume must exist (404);
// with snapshot_id the snapshot must be the volume's and available, else the
// volume must be available, or in-use with force=true (400 otherwise); an
// incremental backup needs an available backup of the volume to build on.
func (c *call) createBackup() *apiError {
	var body struct {
		Backup map[string]json.RawMessage `json:"backup"`
	}
	if err := c.decode(&body); err != nil {
		return err
	}
	if body.Backup == nil {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute backup. 'backup' is a required property")
	}
	allowed := map[string]bool{"volume_id": true, "container": true, "name": true, "description": true,
		"incremental": true, "force": true, "snapshot_id": true, "metadata": c.mv >= 43, "availability_zone": c.mv >= 51}
	for k := range body.Backup {
		if !allowed[k] {
			return errf(http.StatusBadRequest, "Invalid input for field/attribute backup. Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	var in struct {
		VolumeID         string            `json:"volume_id"`
		Container        *string           `json:"container"`
		Name             *string           `json:"name"`
		Description      *string           `json:"description"`
		Incremental      any               `json:"incremental"`
		Force            any               `json:"force"`
		SnapshotID       *string           `json:"snapshot_id"`
		Metadata         map[string]string `json:"metadata"`
		AvailabilityZone *string           `json:"availability_zone"`
	}
	raw, _ := json.Marshal(body.Backup)
	if err := json.Unmarshal(raw, &in); err != nil {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute backup. %v", err)
	}
	if in.VolumeID == "" {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute backup. 'volume_id' is a required property")
	}
	force, ok := boolValue(in.Force)
	if !ok {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute force. Value: %v. %v is not of type 'boolean'", in.Force, in.Force)
	}
	incremental, ok := boolValue(in.Incremental)
	if !ok {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute incremental. Value: %v. %v is not of type 'boolean'", in.Incremental, in.Incremental)
	}
	if in.AvailabilityZone != nil && *in.AvailabilityZone != "nova" {
		return errf(http.StatusBadRequest, "Invalid input received: Availability zone '%s' is invalid.", *in.AvailabilityZone)
	}
	v, err := c.volume(in.VolumeID)
	if err != nil {
		return err
	}
	var snap *Snapshot
	if in.SnapshotID != nil && *in.SnapshotID != "" {
		if snap, err = c.snapshot(*in.SnapshotID); err != nil {
			return err
		}
		if snap.VolumeID != v.ID {
			return errf(http.StatusBadRequest, "Invalid volume: Volume %s does not match with snapshot.volume_id %s.", v.ID, snap.VolumeID)
		}
		if snap.Status != "available" {
			return errf(http.StatusBadRequest, "Invalid snapshot: Snapshot to be backed up must be available, but the current status is \"%s\".", snap.Status)
		}
	} else if v.Status != "available" && v.Status != "in-use" {
		return errf(http.StatusBadRequest, "Invalid volume: Volume to be backed up must be available or in-use, but the current status is \"%s\".", v.Status)
	} else if v.Status == "in-use" && !force {
		return errf(http.StatusBadRequest, "Invalid volume: Backing up an in-use volume must use the force flag.")
	}
	if err := c.backupQuotaCheck(c.projectID(), v.Size); err != nil {
		return err
	}
	s := c.s()
	var parent *Backup
	for _, x := range s.backups.all() {
		if x.VolumeID == v.ID && x.ProjectID == c.projectID() && x.Status == "available" &&
			(parent == nil || !x.DataTimestamp.Before(parent.DataTimestamp)) {
			parent = x
		}
	}
	if incremental && parent == nil {
		return errf(http.StatusBadRequest, "Invalid backup: No backups available to do an incremental backup.")
	}

	b := &Backup{ID: uuid.NewString(), ProjectID: c.projectID(), UserID: c.userID(), VolumeID: v.ID, Status: "creating",
		Size: v.Size, Container: "volumebackups", Incremental: incremental, Metadata: nonNilMap(in.Metadata),
		Bootable: v.Bootable, ImageID: v.ImageID, DataTimestamp: c.now, Created: c.now, Updated: c.now}
	if in.Name != nil {
		b.Name = *in.Name
	}
	if in.Description != nil {
		b.Description = *in.Description
	}
	if in.Container != nil && *in.Container != "" {
		b.Container = *in.Container
	}
	if incremental {
		b.ParentID = parent.ID
	}
	s.backups.put(b.ID, b)
	bop := s.bump(b.ID)

	// The source is busy while the backup runs.
	var restore func()
	if snap != nil {
		b.SnapshotID, b.DataTimestamp = snap.ID, snap.Created
		back := snap.Status
		snap.Status, snap.Updated = "backing-up", c.now
		sop := s.bump(snap.ID)
		restore = func() {
			if s.current(snap.ID, sop) {
				snap.Status, snap.Updated = back, c.e.now()
			}
		}
	} else {
		back := v.Status
		v.Status, v.Updated = "backing-up", c.now
		vop := s.bump(v.ID)
		restore = func() {
			if s.current(v.ID, vop) {
				v.Status, v.Updated = back, c.e.now()
			}
		}
	}
	fail := c.e.draw(func(f Faults) float64 { return f.BackupErrorRate })
	s.schedule(c.now.Add(c.e.opts.VolumeDelay), func() {
		restore()
		if !s.current(b.ID, bop) {
			return
		}
		b.Updated = c.e.now()
		if fail {
			b.Status, b.FailReason = "error", "Backup driver failed (injected by the OpenStack emulator)."
			return
		}
		b.Status, b.ObjectCount = "available", (b.Size*1024+backupObjectMiB-1)/backupObjectMiB
	})
	c.json(http.StatusAccepted, map[string]any{"backup": c.renderBackup(b, false)})
	return nil
}

func (c *call) listBackups(detail bool) *apiError {
	q := c.query()
	var items []map[string]any
	for _, b := range c.s().backups.newest() {
		if !c.cinderListed(q, b.ProjectID) {
			continue
		}
		if n := q.Get("name"); n != "" && n != b.Name {
			continue
		}
		if st := q.Get("status"); st != "" && st != b.Status {
			continue
		}
		if vid := q.Get("volume_id"); vid != "" && vid != b.VolumeID {
			continue
		}
		items = append(items, c.renderBackup(b, detail))
	}
	return c.cinderList("backups", items)
}

func (c *call) getBackup() *apiError {
	b, err := c.backup(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"backup": c.renderBackup(b, true)})
	return nil
}

// deleteBackup answers 202 for an available backup or one in error that no
// incremental backup builds on (400 otherwise, as Cinder).
func (c *call) deleteBackup() *apiError {
	b, err := c.backup(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if b.Status != "available" && b.Status != "error" {
		return errf(http.StatusBadRequest, "Invalid backup: Backup status must be available or error")
	}
	s := c.s()
	if s.hasDependents(b) {
		return errf(http.StatusBadRequest, "Invalid backup: Incremental backups exist for this backup.")
	}
	b.Status, b.Updated = "deleting", c.now
	op := s.bump(b.ID)
	s.schedule(c.now.Add(c.e.opts.DeleteDelay), func() {
		if s.current(b.ID, op) {
			s.backups.del(b.ID)
			delete(s.ops, b.ID)
		}
	})
	c.noContent(http.StatusAccepted)
	return nil
}

// restoreBackup restores an available backup into the volume volume_id (which
// must be available and at least as large as the backup) or, without
// volume_id, into a new volume of the backup's size and the default type,
// named name or restore_backup_<id> (counted against the volume quotas).
func (c *call) restoreBackup() *apiError {
	b, err := c.backup(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var body struct {
		Restore *struct {
			VolumeID *string `json:"volume_id"`
			Name     *string `json:"name"`
		} `json:"restore"`
	}
	if err := c.decode(&body); err != nil {
		return err
	}
	if body.Restore == nil {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute restore. 'restore' is a required property")
	}
	if b.Status != "available" {
		return errf(http.StatusBadRequest, "Invalid backup: Backup status must be available")
	}
	s := c.s()
	var v *Volume
	if id := body.Restore.VolumeID; id != nil && *id != "" {
		if v, err = c.volume(*id); err != nil {
			return err
		}
		if v.Status != "available" {
			return errf(http.StatusBadRequest, "Invalid volume: Volume to be restored to must be available")
		}
		if b.Size > v.Size {
			return errf(http.StatusBadRequest, "Invalid volume: volume size %d is too small to restore backup of size %d.", v.Size, b.Size)
		}
	} else {
		vt, _ := c.volumeType("")
		if err := c.volumeQuotaCheck(c.projectID(), vt.Name, 1, b.Size); err != nil {
			return err
		}
		name := "restore_backup_" + b.ID
		if body.Restore.Name != nil && *body.Restore.Name != "" {
			name = *body.Restore.Name
		}
		// Cinder's API waits for the new volume to leave creating before it
		// answers, so the restore starts from an available volume.
		v = c.e.newVolume(c.projectID(), c.userID(), name, b.Size, vt.Name, "", c.now)
		v.Description = "auto-created_from_restore_from_backup"
	}
	b.Status, b.RestoreVolumeID, b.Updated = "restoring", v.ID, c.now
	bop := s.bump(b.ID)
	v.Status, v.Updated = "restoring-backup", c.now
	vop := s.bump(v.ID)
	s.schedule(c.now.Add(c.e.opts.VolumeDelay), func() {
		now := c.e.now()
		if s.current(b.ID, bop) {
			b.Status, b.Updated = "available", now
		}
		if s.current(v.ID, vop) {
			v.Status, v.Bootable, v.ImageID, v.Updated = "available", b.Bootable, b.ImageID, now
		}
	})
	c.json(http.StatusAccepted, map[string]any{"restore": map[string]any{"backup_id": b.ID, "volume_id": v.ID, "volume_name": v.Name}})
	return nil
}
