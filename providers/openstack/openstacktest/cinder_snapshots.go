package openstacktest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Cinder volume snapshots. A snapshot is creating and becomes available (or
// error, Faults.SnapshotErrorRate) after Options.VolumeDelay; a deleted one
// is deleting for Options.DeleteDelay, then gone. It counts towards the
// project's snapshots and gigabytes quotas (and their per-type forms) from
// its creation until it is gone.

func (e *Emulator) snapshotRoutes(r route) {
	r("POST", "/snapshots", (*call).createSnapshot)
	r("GET", "/snapshots", func(c *call) *apiError { return c.listSnapshots(false) })
	r("GET", "/snapshots/detail", func(c *call) *apiError { return c.listSnapshots(true) })
	r("GET", "/snapshots/{id}", (*call).getSnapshot)
	r("PUT", "/snapshots/{id}", (*call).updateSnapshot)
	r("DELETE", "/snapshots/{id}", (*call).deleteSnapshot)
}

// snapshot finds a snapshot visible to the caller: its project's, or any for an admin.
func (c *call) snapshot(id string) (*Snapshot, *apiError) {
	sn := c.s().snapshots.get(id)
	if sn == nil || (sn.ProjectID != c.projectID() && !c.isAdmin()) {
		return nil, errf(http.StatusNotFound, "Snapshot %s could not be found.", id)
	}
	return sn, nil
}

// volumeSnapshots are the snapshots of a volume, oldest first.
func (s *store) volumeSnapshots(volumeID string) []*Snapshot {
	var out []*Snapshot
	for _, sn := range s.snapshots.all() {
		if sn.VolumeID == volumeID {
			out = append(out, sn)
		}
	}
	return out
}

// renderSnapshot is Cinder's snapshot view: the summary in GET /snapshots,
// with the extended attributes (progress, project) and the microversioned
// fields in the detail list, show, create and update answers.
func (c *call) renderSnapshot(sn *Snapshot, detail bool) map[string]any {
	m := map[string]any{
		"id": sn.ID, "name": sn.Name, "description": sn.Description, "volume_id": sn.VolumeID, "status": sn.Status,
		"size": sn.Size, "metadata": nonNilMap(sn.Metadata), "created_at": tCinder(sn.Created), "updated_at": tCinder(sn.Updated),
	}
	if !detail {
		return m
	}
	progress := "0%"
	if sn.Status != "creating" && sn.Status != "error" {
		progress = "100%"
	}
	m["os-extended-snapshot-attributes:progress"] = progress
	m["os-extended-snapshot-attributes:project_id"] = sn.ProjectID
	if c.mv >= 14 {
		m["group_snapshot_id"] = nil
	}
	if c.mv >= 41 {
		m["user_id"] = sn.UserID
	}
	return m
}

// createSnapshot takes a snapshot of an available volume, or of an in-use one
// with force=true (Cinder: "Volume <id> status must be available, but current
// status is: in-use." otherwise). The volume's status does not change.
func (c *call) createSnapshot() *apiError {
	var b struct {
		Snapshot *struct {
			VolumeID    string            `json:"volume_id"`
			Force       any               `json:"force"`
			Name        string            `json:"name"`
			Description string            `json:"description"`
			Metadata    map[string]string `json:"metadata"`
		} `json:"snapshot"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Snapshot
	if in == nil {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute snapshot. 'snapshot' is a required property")
	}
	if in.VolumeID == "" {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute snapshot. 'volume_id' is a required property")
	}
	force, ok := boolValue(in.Force)
	if !ok {
		v, _ := json.Marshal(in.Force)
		return errf(http.StatusBadRequest, "Invalid value '%s' for force.", v)
	}
	v, err := c.volume(in.VolumeID)
	if err != nil {
		return err
	}
	valid := []string{"available"}
	if force {
		valid = append(valid, "in-use")
	}
	if !slices.Contains(valid, v.Status) {
		return errf(http.StatusBadRequest, "Invalid volume: Volume %s status must be %s, but current status is: %s.",
			v.ID, strings.Join(valid, ", "), v.Status)
	}
	if err := c.cinderQuotaCheck(c.projectID(), v.VolumeType, "snapshots", 1, v.Size); err != nil {
		return err
	}
	sn := &Snapshot{ID: uuid.NewString(), Name: in.Name, Description: in.Description, ProjectID: c.projectID(),
		UserID: c.userID(), VolumeID: v.ID, Status: "creating", Size: v.Size, VolumeType: v.VolumeType,
		Metadata: nonNilMap(in.Metadata), Created: c.now, Updated: c.now}
	s := c.s()
	s.snapshots.put(sn.ID, sn)
	final := "available"
	if c.e.draw(func(f Faults) float64 { return f.SnapshotErrorRate }) {
		final = "error"
	}
	op := s.bump(sn.ID)
	s.schedule(c.now.Add(c.e.opts.VolumeDelay), func() {
		if s.current(sn.ID, op) {
			sn.Status, sn.Updated = final, c.e.now()
		}
	})
	c.json(http.StatusAccepted, map[string]any{"snapshot": c.renderSnapshot(sn, true)})
	return nil
}

func (c *call) listSnapshots(detail bool) *apiError {
	q := c.query()
	var items []map[string]any
	for _, sn := range c.s().snapshots.newest() {
		if !c.cinderListed(q, sn.ProjectID) {
			continue
		}
		if n := q.Get("name"); n != "" && n != sn.Name {
			continue
		}
		if st := q.Get("status"); st != "" && st != sn.Status {
			continue
		}
		if vid := q.Get("volume_id"); vid != "" && vid != sn.VolumeID {
			continue
		}
		items = append(items, c.renderSnapshot(sn, detail))
	}
	return c.cinderList("snapshots", items)
}

func (c *call) getSnapshot() *apiError {
	sn, err := c.snapshot(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"snapshot": c.renderSnapshot(sn, true)})
	return nil
}

// updateSnapshot changes the name or description (one of them, or their
// display_ forms, is required, as Cinder's schema says).
func (c *call) updateSnapshot() *apiError {
	sn, err := c.snapshot(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b struct {
		Snapshot map[string]json.RawMessage `json:"snapshot"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Snapshot == nil {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute snapshot. 'snapshot' is a required property")
	}
	if len(b.Snapshot) == 0 {
		return errf(http.StatusBadRequest, "Invalid input for field/attribute snapshot. Value: {}. {} is not valid under any of the given schemas")
	}
	for k, raw := range b.Snapshot {
		var str *string
		if json.Unmarshal(raw, &str) != nil {
			return errf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %s. %s is not of type 'string', 'null'", k, raw, raw)
		}
		val := ""
		if str != nil {
			val = *str
		}
		switch k {
		case "name", "display_name":
			sn.Name = val
		case "description", "display_description":
			sn.Description = val
		default:
			return errf(http.StatusBadRequest, "Invalid input for field/attribute snapshot. Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	sn.Updated = c.now
	c.json(http.StatusOK, map[string]any{"snapshot": c.renderSnapshot(sn, true)})
	return nil
}

// deleteSnapshot answers 202 for an available snapshot or one in error (400
// otherwise, as Cinder); it is deleting for DeleteDelay, then gone.
func (c *call) deleteSnapshot() *apiError {
	sn, err := c.snapshot(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if sn.Status != "available" && sn.Status != "error" {
		return errf(http.StatusBadRequest, "Invalid snapshot: Snapshot status must be available or error and must not be part of a group.")
	}
	c.startSnapshotDelete(sn)
	c.noContent(http.StatusAccepted)
	return nil
}

func (c *call) startSnapshotDelete(sn *Snapshot) {
	s := c.s()
	sn.Status, sn.Updated = "deleting", c.now
	op := s.bump(sn.ID)
	s.schedule(c.now.Add(c.e.opts.DeleteDelay), func() {
		if s.current(sn.ID, op) {
			s.snapshots.del(sn.ID)
			delete(s.ops, sn.ID)
		}
	})
}
