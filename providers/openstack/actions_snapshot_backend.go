package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// The backend half of the snapshots' actions: create (a Cinder snapshot
// of the volume, forced as the volume may be in use; one of the name made
// by an earlier attempt is taken), update (name and description), pull
// (read back; one gone is a permanent error), restore (a new volume made
// from the snapshot, found by name and snapshot if an earlier attempt
// made it) and delete (waited for until Cinder has it gone; one gone
// already is deleted). Each waits for the target status, so a retry does
// not act twice.

// StorageRequest is what the actions of server groups, snapshots and
// backups need besides the object's name and description.
type StorageRequest struct {
	// Policy is a server group's (affinity, anti-affinity, ...).
	Policy string `json:"policy,omitempty"`
	// VolumeBackendID is the volume a snapshot is taken of.
	VolumeBackendID string `json:"volume_backend_id,omitempty"`
	// Snapshots are a backup's: to take (create: name, description and
	// volume) or to delete (delete: their ids).
	Snapshots []CloudSnapshot `json:"snapshots,omitempty"`
	// Volume is the volume a restore makes (name, description, size in
	// MiB, type name).
	Volume *CloudVolume `json:"volume,omitempty"`
}

// StorageResult is a server group, snapshot, backup's snapshots or
// restored volume read back.
type StorageResult struct {
	ServerGroup *CloudServerGroup `json:"server_group,omitempty"`
	Snapshot    *CloudSnapshot    `json:"snapshot,omitempty"`
	Snapshots   []CloudSnapshot   `json:"snapshots,omitempty"`
	Volume      *CloudVolume      `json:"volume,omitempty"`
}

// CloudSnapshot is a Cinder snapshot as Waldur records it (size in MiB).
type CloudSnapshot struct {
	BackendID       string `json:"backend_id,omitempty"`
	VolumeBackendID string `json:"volume_backend_id"`
	Name            string `json:"name"`
	Description     string `json:"description,omitempty"`
	Size            int64  `json:"size,omitempty"`
	Status          string `json:"status,omitempty"`
}

func cloudSnapshot(sn snapshots.Snapshot) CloudSnapshot {
	return CloudSnapshot{BackendID: sn.ID, VolumeBackendID: sn.VolumeID, Name: sn.Name, Description: sn.Description,
		Size: MiB(sn.Size), Status: sn.Status}
}

func (p *Provider) snapshotAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	st := req.Storage
	if st == nil {
		st = &StorageRequest{}
	}
	switch req.Action {
	case "create":
		if st.VolumeBackendID == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "the snapshot names no volume in the cloud")
		}
		sn, err := p.ensureSnapshot(ctx, s, CloudSnapshot{VolumeBackendID: st.VolumeBackendID, Name: req.Name, Description: req.Description})
		if err != nil {
			return ActionResult{}, err
		}
		return ActionResult{BackendID: sn.BackendID, RuntimeState: sn.Status, Storage: &StorageResult{Snapshot: &sn}}, nil
	case "update":
		err := p.step(ctx, "updating the snapshot", func() error {
			_, err := snapshots.Update(ctx, s.volume, req.BackendID, snapshots.UpdateOpts{Name: &req.Name, Description: &req.Description}).Extract()
			return goneIf(err, "snapshot", req.BackendID)
		})
		if err != nil {
			return ActionResult{}, err
		}
		fallthrough
	case "pull":
		var out CloudSnapshot
		err := p.step(ctx, "reading the snapshot", func() error {
			sn, err := snapshots.Get(ctx, s.volume, req.BackendID).Extract()
			if err != nil {
				return goneIf(err, "snapshot", req.BackendID)
			}
			out = cloudSnapshot(*sn)
			return nil
		})
		if err != nil {
			return ActionResult{}, err
		}
		return ActionResult{RuntimeState: out.Status, Storage: &StorageResult{Snapshot: &out}}, nil
	case "restore":
		return p.restoreSnapshot(ctx, s, req.BackendID, st.Volume)
	case "delete":
		return ActionResult{}, p.deleteSnapshots(ctx, s, req.BackendID)
	}
	return ActionResult{}, refuse(models.CodeInvalid, "snapshots have no action %q", req.Action)
}

// ensureSnapshot finds the volume's snapshot of the name (not failed) or
// takes it, and waits until it is available.
func (p *Provider) ensureSnapshot(ctx context.Context, s *session, want CloudSnapshot) (CloudSnapshot, error) {
	var id string
	err := p.step(ctx, "taking the snapshot of volume "+want.VolumeBackendID, func() error {
		pages, err := snapshots.ListDetail(s.volume, snapshots.ListOpts{VolumeID: want.VolumeBackendID, Name: want.Name}).AllPages(ctx)
		if err != nil {
			return err
		}
		have, err := snapshots.ExtractSnapshots(pages)
		if err != nil {
			return err
		}
		for _, h := range have {
			if h.Name == want.Name && h.VolumeID == want.VolumeBackendID && h.Status != "error" && h.Status != "deleting" {
				id = h.ID // taken by an earlier attempt
				return nil
			}
		}
		sn, err := snapshots.Create(ctx, s.volume, snapshots.CreateOpts{VolumeID: want.VolumeBackendID, Force: true, Name: want.Name,
			Description: want.Description}).Extract()
		if notFound(err) {
			return goneError("volume", want.VolumeBackendID)
		} else if err != nil {
			return err
		}
		id = sn.ID
		return nil
	})
	if err != nil {
		return CloudSnapshot{}, err
	}
	var out CloudSnapshot
	err = p.waitFor(ctx, "snapshot "+id+" to become available", p.opts.VolumeTimeout, func() (bool, error) {
		sn, err := snapshots.Get(ctx, s.volume, id).Extract()
		if err != nil {
			return false, goneIf(err, "snapshot", id)
		}
		if sn.Status == "error" {
			return false, providers.Permanent(fmt.Errorf("snapshot %s went to error", firstNonEmpty(sn.Name, id)))
		}
		out = cloudSnapshot(*sn)
		return sn.Status == "available", nil
	})
	return out, err
}

// deleteSnapshots deletes snapshots (one gone already is deleted) and
// waits until Cinder has them gone.
func (p *Provider) deleteSnapshots(ctx context.Context, s *session, ids ...string) error {
	for _, id := range ids {
		if id == "" {
			continue // never made in the cloud
		}
		err := p.step(ctx, "deleting snapshot "+id, func() error {
			sn, err := snapshots.Get(ctx, s.volume, id).Extract()
			if notFound(err) {
				return nil
			} else if err != nil {
				return err
			}
			if sn.Status == "deleting" {
				return nil
			}
			err = snapshots.Delete(ctx, s.volume, id).ExtractErr()
			if notFound(err) {
				return nil
			}
			return err
		})
		if err != nil {
			return err
		}
		err = p.waitFor(ctx, "snapshot "+id+" to be deleted", p.opts.VolumeTimeout, func() (bool, error) {
			sn, err := snapshots.Get(ctx, s.volume, id).Extract()
			if notFound(err) {
				return true, nil
			} else if err != nil {
				return false, err
			}
			if sn.Status == "error_deleting" {
				return false, providers.Permanent(fmt.Errorf("snapshot %s could not be deleted (error_deleting)", firstNonEmpty(sn.Name, id)))
			}
			return false, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// restoreSnapshot makes a volume from the snapshot (one of the name made
// from it already is taken) and waits until it is available.
func (p *Provider) restoreSnapshot(ctx context.Context, s *session, snapshotID string, want *CloudVolume) (ActionResult, error) {
	if want == nil || want.Name == "" {
		return ActionResult{}, refuse(models.CodeInvalid, "the restore names no volume to make")
	}
	var id string
	err := p.step(ctx, "making a volume from snapshot "+snapshotID, func() error {
		pages, err := volumes.List(s.volume, volumes.ListOpts{Name: want.Name}).AllPages(ctx)
		if err != nil {
			return err
		}
		have, err := volumes.ExtractVolumes(pages)
		if err != nil {
			return err
		}
		for _, v := range have {
			if v.Name == want.Name && v.SnapshotID == snapshotID && v.Status != "error" {
				id = v.ID
				return nil
			}
		}
		v, err := volumes.Create(ctx, s.volume, volumes.CreateOpts{SnapshotID: snapshotID, Name: want.Name, Description: want.Description,
			Size: GiB(want.Size), VolumeType: want.TypeName}, nil).Extract()
		if notFound(err) {
			return goneError("snapshot", snapshotID)
		} else if err != nil {
			return err
		}
		id = v.ID
		return nil
	})
	if err != nil {
		return ActionResult{}, err
	}
	if err := p.waitVolume(ctx, s, id, "available"); err != nil {
		return ActionResult{}, err
	}
	var out CloudVolume
	err = p.step(ctx, "reading the restored volume", func() error {
		v, err := getVolume(ctx, s, id)
		if err != nil {
			return err
		}
		out = volumeOf(*v)
		return nil
	})
	if err != nil {
		return ActionResult{}, err
	}
	return ActionResult{Storage: &StorageResult{Volume: &out}}, nil
}
