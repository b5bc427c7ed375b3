package openstacktest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

func (e *Emulator) volumeRoutes() {
	r := func(method, path string, h handler) {
		e.handle(method+" /volume/v3/{project}"+path, svcVolume, project, func(c *call) *apiError {
			if c.r.PathValue("project") != c.projectID() {
				return errf(http.StatusBadRequest, "Malformed request url")
			}
			mv, err := c.microversion("volume", "X-OpenStack-Volume-API-Version", 3, 0, cinderMaxMinor)
			if err != nil {
				return err
			}
			c.mv = mv
			return h(c)
		})
	}
	r("POST", "/volumes", (*call).createVolume)
	r("GET", "/volumes", func(c *call) *apiError { return c.listVolumes(false) })
	r("GET", "/volumes/detail", func(c *call) *apiError { return c.listVolumes(true) })
	r("GET", "/volumes/{id}", (*call).getVolume)
	r("PUT", "/volumes/{id}", (*call).updateVolume)
	r("DELETE", "/volumes/{id}", (*call).deleteVolume)
	r("POST", "/volumes/{id}/action", (*call).volumeAction)
	e.snapshotRoutes(r)
	e.backupRoutes(r)
	e.volumeZoneRoutes(r)

	r("GET", "/types", (*call).listVolumeTypes)
	r("GET", "/types/default", func(c *call) *apiError {
		vt, _ := c.volumeType("")
		c.json(http.StatusOK, map[string]any{"volume_type": renderVolumeType(vt)})
		return nil
	})
	r("GET", "/types/{id}", (*call).getVolumeType)

	r("GET", "/os-quota-sets/{qp}", func(c *call) *apiError { return c.getVolumeQuotas(false) })
	r("GET", "/os-quota-sets/{qp}/defaults", func(c *call) *apiError { return c.getVolumeQuotas(true) })
	r("PUT", "/os-quota-sets/{qp}", (*call).updateVolumeQuotas)
	r("DELETE", "/os-quota-sets/{qp}", (*call).deleteVolumeQuotas)
	r("GET", "/limits", (*call).volumeLimits)
}

func (c *call) cinderURL(parts ...string) string {
	return c.base() + "/volume/v3/" + c.projectID() + "/" + strings.Join(parts, "/")
}

// volumeType finds a type by name or id; empty means the default type.
func (c *call) volumeType(ref string) (*VolumeType, *apiError) {
	if ref == "" {
		ref = "__DEFAULT__"
	}
	for _, t := range c.s().volumeTypes.all() {
		if t.ID == ref || t.Name == ref {
			return t, nil
		}
	}
	return nil, errf(http.StatusNotFound, "Volume type with name %s could not be found.", ref)
}

func renderVolumeType(t *VolumeType) map[string]any {
	return map[string]any{"id": t.ID, "name": t.Name, "description": t.Description, "is_public": true,
		"extra_specs": map[string]string{}, "qos_specs_id": nil, "os-volume-type-access:is_public": true}
}

func (c *call) listVolumeTypes() *apiError {
	var items []map[string]any
	for _, t := range c.s().volumeTypes.all() {
		items = append(items, renderVolumeType(t))
	}
	c.json(http.StatusOK, map[string]any{"volume_types": nonNil(filterMaps(items, c.query(), "is_public"))})
	return nil
}

func (c *call) getVolumeType() *apiError {
	t := c.s().volumeTypes.get(c.r.PathValue("id"))
	if t == nil {
		return errf(http.StatusNotFound, "Volume type %s could not be found.", c.r.PathValue("id"))
	}
	c.json(http.StatusOK, map[string]any{"volume_type": renderVolumeType(t)})
	return nil
}

// newVolume stores a volume in status creating.
func (e *Emulator) newVolume(projectID, userID, name string, size int, vtype, imageID string, now time.Time) *Volume {
	v := &Volume{ID: uuid.NewString(), Name: name, ProjectID: projectID, UserID: userID, Status: "creating", Size: size,
		VolumeType: vtype, AvailabilityZone: "nova", ImageID: imageID, Bootable: imageID != "",
		Metadata: map[string]string{}, Attachments: []VolumeAttachment{}, Created: now, Updated: now}
	e.st.volumes.put(v.ID, v)
	return v
}

func (c *call) renderVolume(v *Volume) map[string]any {
	atts := []map[string]any{}
	for _, a := range v.Attachments {
		atts = append(atts, map[string]any{"id": v.ID, "attachment_id": a.ID, "server_id": a.ServerID, "volume_id": v.ID,
			"device": a.Device, "host_name": nil, "attached_at": tCinder(a.AttachedAt)})
	}
	m := map[string]any{
		"id": v.ID, "name": v.Name, "description": v.Description, "status": v.Status, "size": v.Size,
		"availability_zone": v.AvailabilityZone, "created_at": tCinder(v.Created), "updated_at": tCinder(v.Updated),
		"attachments": atts, "volume_type": v.VolumeType, "snapshot_id": orNull(v.SnapshotID), "source_volid": orNull(v.SourceVolID), "backup_id": nil,
		"metadata": nonNilMap(v.Metadata), "user_id": v.UserID, "bootable": fmt.Sprint(v.Bootable), "encrypted": false,
		"replication_status": nil, "consistencygroup_id": nil, "multiattach": false, "migration_status": nil,
		"group_id": nil, "provider_id": nil, "shared_targets": true, "os-vol-tenant-attr:tenant_id": v.ProjectID,
		"links": []map[string]any{{"rel": "self", "href": c.cinderURL("volumes", v.ID)}},
	}
	if c.isAdmin() {
		m["os-vol-host-attr:host"] = "emulator@lvm#lvm"
	}
	if v.ImageID != "" {
		meta := map[string]string{"image_id": v.ImageID}
		if im := c.s().images.get(v.ImageID); im != nil {
			meta["image_name"], meta["disk_format"], meta["container_format"] = im.Name, im.DiskFormat, im.ContainerFormat
			meta["min_disk"], meta["min_ram"], meta["size"], meta["checksum"] = fmt.Sprint(im.MinDisk), fmt.Sprint(im.MinRAM), fmt.Sprint(im.Size), im.Checksum
		}
		m["volume_image_metadata"] = meta
	}
	return m
}

func (c *call) volume(id string) (*Volume, *apiError) {
	v := c.s().volumes.get(id)
	if v == nil || (v.ProjectID != c.projectID() && !c.isAdmin()) {
		return nil, errf(http.StatusNotFound, "Volume %s could not be found.", id)
	}
	return v, nil
}

func (c *call) volumeQuotaCheck(projectID, vtype string, volumes, gigabytes int) *apiError {
	return c.cinderQuotaCheck(projectID, vtype, "volumes", volumes, gigabytes)
}

// cinderQuotaCheck checks count new objects of a kind ("volumes" or
// "snapshots") holding gigabytes GiB of a volume type against the project's
// limits (also the per-type ones) and answers 413 as Cinder does.
func (c *call) cinderQuotaCheck(projectID, vtype, kind string, count, gigabytes int) *apiError {
	l, u := c.s().quotaLimits(projectID, "volume"), c.s().volumeUsage(projectID)
	req := map[string]int{kind: count, "gigabytes": gigabytes, kind + "_" + vtype: count, "gigabytes_" + vtype: gigabytes}
	over := overQuota(l, u, req)
	if len(over) == 0 {
		return nil
	}
	k := over[0]
	switch {
	case strings.HasPrefix(k, "gigabytes"):
		return overLimit("VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed %s quota. Requested %dG, quota is %dG and %dG has been consumed.",
			k, gigabytes, l[k], u[k])
	case kind == "snapshots":
		return overLimit("SnapshotLimitExceeded: Maximum number of snapshots allowed (%d) exceeded", l[k])
	}
	return overLimit("VolumeLimitExceeded: Maximum number of volumes allowed (%d) exceeded for quota '%s'.", l[k], k)
}

// overLimit is Cinder's 413 answer to a quota exceeded.
func overLimit(format string, args ...any) *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, kind: "overLimit", msg: fmt.Sprintf(format, args...)}
}

func (c *call) createVolume() *apiError {
	var b struct {
		Volume struct {
			Name             string            `json:"name"`
			Description      string            `json:"description"`
			Size             int               `json:"size"`
			VolumeType       string            `json:"volume_type"`
			AvailabilityZone string            `json:"availability_zone"`
			ImageRef         string            `json:"imageRef"`
			SourceVolID      string            `json:"source_volid"`
			SnapshotID       string            `json:"snapshot_id"`
			Metadata         map[string]string `json:"metadata"`
		} `json:"volume"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Volume
	s := c.s()
	sources := 0
	for _, ref := range []string{in.SnapshotID, in.ImageRef, in.SourceVolID} {
		if ref != "" {
			sources++
		}
	}
	if sources > 1 {
		return errf(http.StatusBadRequest, "Invalid input received: May specify only one of snapshot, imageRef, source_volume")
	}
	var src *Volume // the volume whose data the new one gets (the snapshot's or the source volume)
	var snap *Snapshot
	if in.SnapshotID != "" {
		if _, perr := uuid.Parse(in.SnapshotID); perr != nil {
			return errf(http.StatusBadRequest, "Snapshot ID must be in UUID form.")
		}
		var err *apiError
		if snap, err = c.snapshot(in.SnapshotID); err != nil {
			return err
		}
		if snap.Status != "available" && snap.Status != "backing-up" {
			return errf(http.StatusBadRequest, "Invalid snapshot: Originating snapshot status must be one of 'available, backing-up' values")
		}
		if in.Size == 0 {
			in.Size = snap.Size
		}
		if in.Size < snap.Size {
			return errf(http.StatusBadRequest, "Invalid input received: Volume size '%d'GB cannot be smaller than the snapshot size %dGB. They must be >= original snapshot size.", in.Size, snap.Size)
		}
		src = s.volumes.get(snap.VolumeID)
		if in.VolumeType == "" {
			in.VolumeType = snap.VolumeType
		}
	}
	if in.SourceVolID != "" {
		var err *apiError
		if src, err = c.volume(in.SourceVolID); err != nil {
			return errf(http.StatusBadRequest, "Invalid input received: source volume %s could not be found.", in.SourceVolID)
		}
		if in.Size == 0 {
			in.Size = src.Size
		}
		if in.Size < src.Size {
			return errf(http.StatusBadRequest, "Invalid input received: Volume size '%d' must be an integer and greater than 0 and not less than the source volume size %d.", in.Size, src.Size)
		}
		if in.VolumeType == "" {
			in.VolumeType = src.VolumeType
		}
	}
	if in.Size <= 0 {
		return errf(http.StatusBadRequest, "Invalid input received: Volume size '%d' must be an integer and greater than 0.", in.Size)
	}
	if in.AvailabilityZone != "" && in.AvailabilityZone != "nova" {
		return errf(http.StatusBadRequest, "Invalid input received: Availability zone '%s' is invalid.", in.AvailabilityZone)
	}
	vt, err := c.volumeType(in.VolumeType)
	if err != nil {
		return err
	}
	imageID := in.ImageRef
	if imageID != "" {
		im := s.images.get(imageID)
		if im == nil || !c.imageVisible(im) {
			return errf(http.StatusBadRequest, "Invalid image identifier or unable to access requested image.")
		}
		if im.MinDisk > in.Size {
			return errf(http.StatusBadRequest, "Invalid input received: Volume size %dGB cannot be smaller than the image minDisk size %dGB.", in.Size, im.MinDisk)
		}
	}
	if src != nil {
		imageID = src.ImageID
	}
	if err := c.volumeQuotaCheck(c.projectID(), vt.Name, 1, in.Size); err != nil {
		return err
	}
	v := c.e.newVolume(c.projectID(), c.userID(), in.Name, in.Size, vt.Name, imageID, c.now)
	v.Description = in.Description
	if src != nil {
		v.Bootable = src.Bootable
	}
	if snap != nil {
		v.SnapshotID = snap.ID
	} else {
		v.SourceVolID = in.SourceVolID
	}
	if in.Metadata != nil {
		v.Metadata = in.Metadata
	}
	fail := c.e.draw(func(f Faults) float64 { return f.VolumeErrorRate })
	final := "available"
	if fail {
		final = "error"
	}
	c.volumeTransition(v, "creating", final, c.e.opts.VolumeDelay)
	c.json(http.StatusAccepted, map[string]any{"volume": c.renderVolume(v)})
	return nil
}

// volumeTransition shows status now and final after delay (unless another
// operation on the volume came first).
func (c *call) volumeTransition(v *Volume, status, final string, delay time.Duration) {
	s := c.s()
	v.Status, v.Updated = status, c.now
	op := s.bump(v.ID)
	s.schedule(c.now.Add(delay), func() {
		if s.current(v.ID, op) {
			v.Status, v.Updated = final, c.e.now()
		}
	})
}

// cinderListed tells whether a Cinder listing shows an object of a project:
// the caller's project's, or with all_tenants (admins) every project's or
// those of project_id.
func (c *call) cinderListed(q url.Values, projectID string) bool {
	if c.isAdmin() && boolParam(q, "all_tenants") {
		p := q.Get("project_id")
		return p == "" || p == projectID
	}
	return projectID == c.projectID()
}

// cinderList answers a Cinder collection: offset, limit and marker applied,
// with the next link in <collection>_links.
func (c *call) cinderList(collection string, items []map[string]any) *apiError {
	q := c.query()
	items, err := skipOffset(items, q)
	if err != nil {
		return err
	}
	items, next, err := page(items, q)
	if err != nil {
		return err
	}
	body := map[string]any{collection: nonNil(items)}
	if next != "" {
		body[collection+"_links"] = c.pageLinks(next)
	}
	c.json(http.StatusOK, body)
	return nil
}

func (c *call) listVolumes(detail bool) *apiError {
	q := c.query()
	var items []map[string]any
	for _, v := range c.s().volumes.newest() {
		if !c.cinderListed(q, v.ProjectID) {
			continue
		}
		if n := q.Get("name"); n != "" && n != v.Name {
			continue
		}
		if st := q.Get("status"); st != "" && st != v.Status {
			continue
		}
		if detail {
			items = append(items, c.renderVolume(v))
		} else {
			items = append(items, map[string]any{"id": v.ID, "name": v.Name,
				"links": []map[string]any{{"rel": "self", "href": c.cinderURL("volumes", v.ID)}}})
		}
	}
	return c.cinderList("volumes", items)
}

func (c *call) getVolume() *apiError {
	v, err := c.volume(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"volume": c.renderVolume(v)})
	return nil
}

func (c *call) updateVolume() *apiError {
	v, err := c.volume(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b struct {
		Volume struct {
			Name        *string           `json:"name"`
			Description *string           `json:"description"`
			Metadata    map[string]string `json:"metadata"`
		} `json:"volume"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Volume.Name != nil {
		v.Name = *b.Volume.Name
	}
	if b.Volume.Description != nil {
		v.Description = *b.Volume.Description
	}
	if b.Volume.Metadata != nil {
		v.Metadata = b.Volume.Metadata
	}
	v.Updated = c.now
	c.json(http.StatusOK, map[string]any{"volume": c.renderVolume(v)})
	return nil
}

// errVolumeNotDeletable is Cinder's answer to deleting a volume in the wrong
// status, with snapshots (without cascade) or attached.
var errVolumeNotDeletable = errf(http.StatusBadRequest, "Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.")

// deleteVolume answers 202; the volume is deleting for DeleteDelay, then
// gone. A volume with snapshots goes only with cascade=true, its snapshots
// with it (each must be available or error).
func (c *call) deleteVolume() *apiError {
	v, err := c.volume(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	switch v.Status {
	case "available", "error", "error_restoring", "error_extending", "error_managing":
	default:
		return errVolumeNotDeletable
	}
	if len(v.Attachments) > 0 {
		return errf(http.StatusBadRequest, "Invalid volume: Volume must not be attached.")
	}
	snaps := c.s().volumeSnapshots(v.ID)
	if len(snaps) > 0 {
		if !boolParam(c.query(), "cascade") {
			return errVolumeNotDeletable
		}
		for _, sn := range snaps {
			if sn.Status != "available" && sn.Status != "error" {
				return errVolumeNotDeletable
			}
		}
		for _, sn := range snaps {
			c.startSnapshotDelete(sn)
		}
	}
	c.startVolumeDelete(v)
	c.noContent(http.StatusAccepted)
	return nil
}

func (c *call) startVolumeDelete(v *Volume) {
	s := c.s()
	v.Status, v.Updated = "deleting", c.now
	op := s.bump(v.ID)
	s.schedule(c.now.Add(c.e.opts.DeleteDelay), func() {
		if s.current(v.ID, op) {
			s.volumes.del(v.ID)
			delete(s.ops, v.ID)
		}
	})
}

func (c *call) volumeAction() *apiError {
	v, err := c.volume(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var body map[string]any
	if err := c.decode(&body); err != nil {
		return err
	}
	if len(body) != 1 {
		return errf(http.StatusBadRequest, "Malformed request body: exactly one action expected")
	}
	for action, arg := range body {
		argMap, _ := arg.(map[string]any)
		switch action {
		case "os-extend":
			n, ok := argMap["new_size"].(float64)
			if !ok || n != float64(int(n)) {
				return errf(http.StatusBadRequest, "Invalid input for field/attribute new_size.")
			}
			newSize := int(n)
			if v.Status != "available" && !(v.Status == "in-use" && c.mv >= 42) {
				return errf(http.StatusBadRequest, "Invalid volume: Volume %s status must be 'available' or 'in-use' (with microversion 3.42 or later) to extend, currently %s.", v.ID, v.Status)
			}
			if newSize <= v.Size {
				return errf(http.StatusBadRequest, "Invalid input received: New size for extend must be greater than current size. (current: %d, extended: %d).", v.Size, newSize)
			}
			if err := c.volumeQuotaCheck(v.ProjectID, v.VolumeType, 0, newSize-v.Size); err != nil {
				return err
			}
			s, back := c.s(), v.Status
			v.Status, v.Updated = "extending", c.now
			op := s.bump(v.ID)
			s.schedule(c.now.Add(c.e.opts.VolumeDelay), func() {
				if s.current(v.ID, op) {
					v.Status, v.Size, v.Updated = back, newSize, c.e.now()
				}
			})
			c.noContent(http.StatusAccepted)
		case "os-retype":
			name, _ := argMap["new_type"].(string)
			vt, err := c.volumeType(name)
			if err != nil {
				return err
			}
			if v.Status != "available" && v.Status != "in-use" {
				return errf(http.StatusBadRequest, "Invalid volume: Volume status must be available or in-use, but current status is: %s.", v.Status)
			}
			if vt.Name != v.VolumeType {
				l, u := c.s().quotaLimits(v.ProjectID, "volume"), c.s().volumeUsage(v.ProjectID)
				if over := overQuota(l, u, map[string]int{"volumes_" + vt.Name: 1, "gigabytes_" + vt.Name: v.Size}); len(over) > 0 {
					return overLimit("Quota exceeded for %s", strings.Join(over, ", "))
				}
			}
			v.VolumeType = vt.Name
			c.volumeTransition(v, "retyping", v.Status, c.e.opts.VolumeDelay)
			c.noContent(http.StatusAccepted)
		case "os-reset_status":
			if err := c.requireAdmin(); err != nil {
				return err
			}
			st, _ := argMap["status"].(string)
			if st == "" {
				return errf(http.StatusBadRequest, "Must specify 'status'")
			}
			c.s().bump(v.ID)
			v.Status, v.Updated = st, c.now
			c.noContent(http.StatusAccepted)
		case "os-set_bootable":
			bv, ok := argMap["bootable"].(bool)
			if !ok {
				return errf(http.StatusBadRequest, "Invalid value for 'bootable'.")
			}
			v.Bootable = bv
			c.noContent(http.StatusOK)
		case "os-force_delete":
			if err := c.requireAdmin(); err != nil {
				return err
			}
			if len(c.s().volumeSnapshots(v.ID)) > 0 { // force skips the status check only
				return errVolumeNotDeletable
			}
			for _, a := range v.Attachments {
				if sv := c.s().servers.get(a.ServerID); sv != nil {
					detach(v, sv)
				}
			}
			c.startVolumeDelete(v)
			c.noContent(http.StatusAccepted)
		default:
			return errf(http.StatusBadRequest, "There is no such action: %s", action)
		}
	}
	return nil
}

func (c *call) volumeQuotaProject(write bool) (string, *apiError) {
	id := c.r.PathValue("qp")
	if write || id != c.projectID() {
		if err := c.requireAdmin(); err != nil {
			return "", err
		}
	}
	if c.s().projects.get(id) == nil {
		return "", errf(http.StatusBadRequest, "Invalid input received: Project ID %s is not a valid project.", id)
	}
	return id, nil
}

func (c *call) getVolumeQuotas(defaults bool) *apiError {
	id, err := c.volumeQuotaProject(false)
	if err != nil {
		return err
	}
	limits := c.s().quotaLimits(id, "volume")
	if defaults {
		limits = defaultVolumeQuotas
	}
	usage := c.s().volumeUsage(id)
	detail := boolParam(c.query(), "usage")
	out := map[string]any{"id": id}
	for k, v := range limits {
		if detail {
			out[k] = map[string]any{"limit": v, "in_use": usage[k], "reserved": 0, "allocated": 0}
		} else {
			out[k] = v
		}
	}
	c.json(http.StatusOK, map[string]any{"quota_set": out})
	return nil
}

func (c *call) updateVolumeQuotas() *apiError {
	id, err := c.volumeQuotaProject(true)
	if err != nil {
		return err
	}
	var b struct {
		QuotaSet map[string]any `json:"quota_set"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	delete(b.QuotaSet, "force")
	delete(b.QuotaSet, "id")
	in, err := intMap(b.QuotaSet)
	if err != nil {
		return err
	}
	usage := c.s().volumeUsage(id)
	for k, v := range in {
		if v >= 0 && usage[k] > v {
			return errf(http.StatusBadRequest, "Invalid input received: Quota limit %d for %s must be greater than or equal to already used and reserved %d.", v, k, usage[k])
		}
	}
	if err := c.s().setQuotas(id, "volume", in); err != nil {
		return err
	}
	out := map[string]any{}
	for k, v := range c.s().quotaLimits(id, "volume") {
		out[k] = v
	}
	c.json(http.StatusOK, map[string]any{"quota_set": out})
	return nil
}

func (c *call) deleteVolumeQuotas() *apiError {
	id, err := c.volumeQuotaProject(true)
	if err != nil {
		return err
	}
	c.s().resetQuotas(id, "volume")
	c.noContent(http.StatusOK)
	return nil
}

func (c *call) volumeLimits() *apiError {
	l, u := c.s().quotaLimits(c.projectID(), "volume"), c.s().volumeUsage(c.projectID())
	c.json(http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": map[string]any{
		"maxTotalVolumes": l["volumes"], "totalVolumesUsed": u["volumes"],
		"maxTotalVolumeGigabytes": l["gigabytes"], "totalGigabytesUsed": u["gigabytes"],
		"maxTotalSnapshots": l["snapshots"], "totalSnapshotsUsed": u["snapshots"],
		"maxTotalBackups": l["backups"], "totalBackupsUsed": u["backups"],
		"maxTotalBackupGigabytes": l["backup_gigabytes"], "totalBackupGigabytesUsed": u["backup_gigabytes"],
	}}})
	return nil
}
