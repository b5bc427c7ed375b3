package openstacktest_test

import (
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	cinderlimits "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/limits"
	cinderquotas "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
)

// smallImage is the id of an image without a minimum disk size (cirros).
func smallImage(t *testing.T, ims []images.Image) string {
	t.Helper()
	for _, im := range ims {
		if im.MinDiskGigabytes == 0 {
			return im.ID
		}
	}
	t.Fatal("no image without min_disk")
	return ""
}

func waitSnapshot(t *testing.T, c clients, id, want string) {
	t.Helper()
	eventually(t, "snapshot "+want, func() (bool, error) {
		s, err := snapshots.Get(t.Context(), c.volume, id).Extract()
		if err != nil {
			return false, err
		}
		return s.Status == want, nil
	})
}

func listSnapshots(t *testing.T, c *gophercloud.ServiceClient, detail bool, opts snapshots.ListOpts) []snapshots.Snapshot {
	t.Helper()
	list := snapshots.List
	if detail {
		list = snapshots.ListDetail
	}
	page, err := list(c, opts).AllPages(t.Context())
	require.NoError(t, err)
	out, err := snapshots.ExtractSnapshots(page)
	require.NoError(t, err)
	return out
}

// TestSnapshots: snapshots of available volumes, of in-use ones with force,
// volumes from snapshots (their size by default, never smaller), a volume
// with snapshots that stays unless cascade, and the quotas they count in.
func TestSnapshots(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	project := adminProjectID(t, srv)
	ims := listImages(t, ctx, c)
	vol, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 2, Name: "data", ImageID: smallImage(t, ims)}, nil).Extract()
	require.NoError(t, err)
	waitVolume(t, c, vol.ID, "available")

	snap, err := snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: vol.ID, Name: "s1", Description: "first",
		Metadata: map[string]string{"k": "v"}}).Extract()
	require.NoError(t, err)
	require.Equal(t, "creating", snap.Status)
	require.Equal(t, "0%", snap.Progress)
	waitSnapshot(t, c, snap.ID, "available")
	got, err := snapshots.Get(ctx, c.volume, snap.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, 2, got.Size)
	require.Equal(t, vol.ID, got.VolumeID)
	require.Equal(t, "100%", got.Progress)
	require.Equal(t, project, got.ProjectID)
	require.Equal(t, map[string]string{"k": "v"}, got.Metadata)
	require.Empty(t, got.UserID, "user_id shows from 3.41")
	got, err = snapshots.Get(ctx, at(c.volume, "3.41"), snap.ID).Extract()
	require.NoError(t, err)
	require.NotEmpty(t, got.UserID)
	v, err := volumes.Get(ctx, c.volume, vol.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "available", v.Status, "a snapshot leaves its volume's status alone")
	require.Equal(t, 404, status(snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: "5c1e8a53-2d6f-4a8e-9b3c-7d0f1e2a3b4c"}).Err))

	// A volume with snapshots stays.
	require.Equal(t, 400, status(volumes.Delete(ctx, c.volume, vol.ID, nil).ExtractErr()))

	// Volumes from the snapshot: its size by default, never smaller, one source only.
	clone, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{SnapshotID: snap.ID, Name: "clone"}, nil).Extract()
	require.NoError(t, err)
	require.Equal(t, 2, clone.Size)
	require.Equal(t, snap.ID, clone.SnapshotID)
	require.Equal(t, "true", clone.Bootable, "the data (an image) comes along")
	for _, tc := range []struct {
		name string
		opts volumes.CreateOpts
		want int
	}{
		{"smaller than the snapshot", volumes.CreateOpts{Size: 1, SnapshotID: snap.ID}, 400},
		{"not a uuid", volumes.CreateOpts{Size: 3, SnapshotID: "s1"}, 400},
		{"no such snapshot", volumes.CreateOpts{Size: 3, SnapshotID: "5c1e8a53-2d6f-4a8e-9b3c-7d0f1e2a3b4c"}, 404},
		{"a snapshot and an image", volumes.CreateOpts{Size: 3, SnapshotID: snap.ID, ImageID: smallImage(t, ims)}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, status(volumes.Create(ctx, c.volume, tc.opts, nil).Err))
		})
	}
	bigger, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 3, SnapshotID: snap.ID}, nil).Extract()
	require.NoError(t, err)
	require.Equal(t, 3, bigger.Size)
	waitVolume(t, c, clone.ID, "available")
	waitVolume(t, c, bigger.ID, "available")
	require.NoError(t, volumes.Delete(ctx, c.volume, bigger.ID, nil).ExtractErr())
	gone(t, "bigger", func() error { return volumes.Get(ctx, c.volume, bigger.ID).Err })

	// Lists (the summary has no extended attributes) and updates.
	summary := listSnapshots(t, c.volume, false, snapshots.ListOpts{VolumeID: vol.ID})
	require.Len(t, summary, 1)
	require.Empty(t, summary[0].Progress)
	detail := listSnapshots(t, c.volume, true, snapshots.ListOpts{Name: "s1"})
	require.Len(t, detail, 1)
	require.Equal(t, "100%", detail[0].Progress)
	upd, err := snapshots.Update(ctx, c.volume, snap.ID, snapshots.UpdateOpts{Name: ptr("renamed")}).Extract()
	require.NoError(t, err)
	require.Equal(t, "renamed", upd.Name)
	require.Equal(t, "first", upd.Description)
	require.Equal(t, 400, status(snapshots.Update(ctx, c.volume, snap.ID, snapshots.UpdateOpts{}).Err), "nothing to update")

	// An in-use volume needs force.
	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "vm", FlavorRef: "1", ImageRef: ims[0].ID}, nil).Extract()
	require.NoError(t, err)
	waitServer(t, c, sv.ID, "ACTIVE")
	_, err = volumeattach.Create(ctx, c.compute, sv.ID, volumeattach.CreateOpts{VolumeID: clone.ID}).Extract()
	require.NoError(t, err)
	waitVolume(t, c, clone.ID, "in-use")
	err = snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: clone.ID}).Err
	require.Equal(t, 400, status(err))
	require.Contains(t, err.Error(), "status must be available, but current status is: in-use")
	inUse, err := snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: clone.ID, Force: true}).Extract()
	require.NoError(t, err)
	waitSnapshot(t, c, inUse.ID, "available")

	// Quotas: snapshots, and their gigabytes with the volumes'.
	usage, err := cinderquotas.GetUsage(ctx, c.volume, project).Extract()
	require.NoError(t, err)
	require.Equal(t, 2, usage.Snapshots.InUse)
	require.Equal(t, 2+2+2+2, usage.Gigabytes.InUse, "two volumes and two snapshots of 2G")
	lim, err := cinderlimits.Get(ctx, c.volume).Extract()
	require.NoError(t, err)
	require.Equal(t, 2, lim.Absolute.TotalSnapshotsUsed)
	_, err = cinderquotas.Update(ctx, c.volume, project, cinderquotas.UpdateOpts{Snapshots: ptr(2)}).Extract()
	require.NoError(t, err)
	require.Equal(t, 413, status(snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: vol.ID}).Err))
	_, err = cinderquotas.Update(ctx, c.volume, project, cinderquotas.UpdateOpts{Snapshots: ptr(10), Gigabytes: ptr(9)}).Extract()
	require.NoError(t, err)
	require.Equal(t, 413, status(snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: vol.ID}).Err), "gigabytes")
	require.NoError(t, cinderquotas.Delete(ctx, c.volume, project).ExtractErr())

	st := emulatorState(t, ctx, srv)
	require.Len(t, st.Snapshots, 2)
	require.Equal(t, 2, st.Counts.Snapshots)

	// Cleanup: cascade takes the snapshots with the volume.
	require.NoError(t, volumes.Delete(ctx, c.volume, vol.ID, volumes.DeleteOpts{Cascade: true}).ExtractErr())
	gone(t, "volume", func() error { return volumes.Get(ctx, c.volume, vol.ID).Err })
	gone(t, "its snapshot", func() error { return snapshots.Get(ctx, c.volume, snap.ID).Err })
	require.NoError(t, servers.Delete(ctx, c.compute, sv.ID).ExtractErr())
	gone(t, "server", func() error { return servers.Get(ctx, c.compute, sv.ID).Err })
	waitVolume(t, c, clone.ID, "available")
	require.Equal(t, 400, status(volumes.Delete(ctx, c.volume, clone.ID, nil).ExtractErr()))
	require.NoError(t, snapshots.Delete(ctx, c.volume, inUse.ID).ExtractErr())
	gone(t, "snapshot", func() error { return snapshots.Get(ctx, c.volume, inUse.ID).Err })
	require.NoError(t, volumes.Delete(ctx, c.volume, clone.ID, nil).ExtractErr())
	gone(t, "clone", func() error { return volumes.Get(ctx, c.volume, clone.ID).Err })

	st = emulatorState(t, ctx, srv)
	require.Empty(t, st.Snapshots)
	require.Empty(t, st.Volumes)
	require.Zero(t, st.Counts.Total(), "%+v", st.Counts)
	require.Equal(t, 2, st.Created.Snapshots)
}

// TestVolumeObjectStatesFollowTheClock: the transitional states of snapshots,
// backups and restores, and what Cinder refuses while they last.
func TestVolumeObjectStatesFollowTheClock(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	opts := fast()
	opts.Now, opts.VolumeDelay, opts.DeleteDelay = clk.Now, time.Second, time.Second
	srv := start(t, opts)
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	volStatus := func(id string) string {
		v, err := volumes.Get(ctx, c.volume, id).Extract()
		require.NoError(t, err)
		return v.Status
	}
	snapStatus := func(id string) string {
		s, err := snapshots.Get(ctx, c.volume, id).Extract()
		require.NoError(t, err)
		return s.Status
	}
	backupStatus := func(id string) string {
		b, err := backups.Get(ctx, c.volume, id).Extract()
		require.NoError(t, err)
		return b.Status
	}

	vol, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 1}, nil).Extract()
	require.NoError(t, err)
	require.Equal(t, 400, status(snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: vol.ID}).Err), "the volume is creating")
	require.Equal(t, 400, status(backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: vol.ID}).Err), "the volume is creating")
	clk.Add(time.Second)

	snap, err := snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: vol.ID}).Extract()
	require.NoError(t, err)
	require.Equal(t, "creating", snapStatus(snap.ID))
	require.Equal(t, 400, status(snapshots.Delete(ctx, c.volume, snap.ID).ExtractErr()), "a creating snapshot stays")
	require.Equal(t, 400, status(volumes.Create(ctx, c.volume, volumes.CreateOpts{SnapshotID: snap.ID}, nil).Err), "nor is it a source yet")
	clk.Add(time.Second)
	require.Equal(t, "available", snapStatus(snap.ID))

	// The volume is backing-up while its backup is creating.
	bk, err := backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: vol.ID, Name: "full"}).Extract()
	require.NoError(t, err)
	require.Equal(t, "backing-up", volStatus(vol.ID))
	require.Equal(t, "creating", backupStatus(bk.ID))
	require.Equal(t, 400, status(backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: vol.ID}).Err), "one backup at a time")
	require.Equal(t, 400, status(snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: vol.ID}).Err))
	require.Equal(t, 400, status(backups.Delete(ctx, c.volume, bk.ID).ExtractErr()), "a creating backup stays")
	clk.Add(time.Second)
	require.Equal(t, "available", volStatus(vol.ID))
	require.Equal(t, "available", backupStatus(bk.ID))

	// A backup of a snapshot keeps the snapshot busy instead.
	fromSnap, err := backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: vol.ID, SnapshotID: snap.ID}).Extract()
	require.NoError(t, err)
	require.Equal(t, "backing-up", snapStatus(snap.ID))
	require.Equal(t, "available", volStatus(vol.ID))
	require.Equal(t, 400, status(snapshots.Delete(ctx, c.volume, snap.ID).ExtractErr()))
	clk.Add(time.Second)
	require.Equal(t, "available", snapStatus(snap.ID))
	b, err := backups.Get(ctx, c.volume, fromSnap.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, snap.ID, b.SnapshotID)
	s, err := snapshots.Get(ctx, c.volume, snap.ID).Extract()
	require.NoError(t, err)
	require.True(t, b.DataTimestamp.Equal(s.CreatedAt), "the data is the snapshot's")

	// A restore: the backup is restoring, the new volume restoring-backup.
	r, err := backups.RestoreFromBackup(ctx, c.volume, bk.ID, backups.RestoreOpts{Name: "restored"}).Extract()
	require.NoError(t, err)
	require.Equal(t, "restored", r.VolumeName)
	require.Equal(t, bk.ID, r.BackupID)
	require.Equal(t, "restoring", backupStatus(bk.ID))
	require.Equal(t, "restoring-backup", volStatus(r.VolumeID))
	require.Equal(t, 400, status(backups.Delete(ctx, c.volume, bk.ID).ExtractErr()))
	require.Equal(t, 400, status(backups.RestoreFromBackup(ctx, c.volume, bk.ID, backups.RestoreOpts{}).Err), "one restore at a time")
	clk.Add(time.Second)
	require.Equal(t, "available", backupStatus(bk.ID))
	require.Equal(t, "available", volStatus(r.VolumeID))

	// Deleted objects are deleting for DeleteDelay, then gone.
	require.NoError(t, backups.Delete(ctx, c.volume, bk.ID).ExtractErr())
	require.NoError(t, snapshots.Delete(ctx, c.volume, snap.ID).ExtractErr())
	require.Equal(t, "deleting", backupStatus(bk.ID))
	require.Equal(t, "deleting", snapStatus(snap.ID))
	require.Equal(t, 400, status(volumes.Delete(ctx, c.volume, vol.ID, nil).ExtractErr()), "the snapshot is not gone yet")
	clk.Add(time.Second)
	require.Equal(t, 404, status(backups.Get(ctx, c.volume, bk.ID).Err))
	require.Equal(t, 404, status(snapshots.Get(ctx, c.volume, snap.ID).Err))
	for _, id := range []string{vol.ID, r.VolumeID} {
		require.NoError(t, volumes.Delete(ctx, c.volume, id, nil).ExtractErr())
	}
	require.NoError(t, backups.Delete(ctx, c.volume, fromSnap.ID).ExtractErr())
	clk.Add(time.Second)
	require.Zero(t, srv.Counts().Total(), "%+v", srv.Counts())
}

// TestSnapshotAndBackupFaults: injected errors on the new routes, and the
// snapshot and backup error rates.
func TestSnapshotAndBackupFaults(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	vol, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 1}, nil).Extract()
	require.NoError(t, err)
	waitVolume(t, c, vol.ID, "available")

	require.NoError(t, srv.SetFaults(openstacktest.Faults{ErrorRate: 1, Services: []string{"volume"}, Methods: []string{"POST"}}))
	require.Equal(t, 503, status(snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: vol.ID}).Err))
	require.Equal(t, 503, status(backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: vol.ID}).Err))
	require.Zero(t, srv.Counts().Snapshots)
	require.Zero(t, srv.Counts().Backups)
	_, err = snapshots.List(c.volume, nil).AllPages(ctx)
	require.NoError(t, err, "reads pass")

	require.NoError(t, srv.SetFaults(openstacktest.Faults{SnapshotErrorRate: 1, BackupErrorRate: 1}))
	snap, err := snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: vol.ID}).Extract()
	require.NoError(t, err)
	waitSnapshot(t, c, snap.ID, "error")
	bk, err := backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: vol.ID}).Extract()
	require.NoError(t, err)
	waitBackup(t, c, bk.ID, "error")
	got, err := backups.Get(ctx, c.volume, bk.ID).Extract()
	require.NoError(t, err)
	require.NotEmpty(t, got.FailReason)
	waitVolume(t, c, vol.ID, "available")
	require.Equal(t, 400, status(backups.RestoreFromBackup(ctx, c.volume, bk.ID, backups.RestoreOpts{}).Err), "a failed backup restores nothing")

	require.NoError(t, srv.SetFaults(openstacktest.Faults{}))
	require.NoError(t, snapshots.Delete(ctx, c.volume, snap.ID).ExtractErr(), "a snapshot in error can be deleted")
	require.NoError(t, backups.Delete(ctx, c.volume, bk.ID).ExtractErr(), "so can a backup")
	gone(t, "snapshot", func() error { return snapshots.Get(ctx, c.volume, snap.ID).Err })
	require.NoError(t, volumes.Delete(ctx, c.volume, vol.ID, nil).ExtractErr())
	gone(t, "volume", func() error { return volumes.Get(ctx, c.volume, vol.ID).Err })
	gone(t, "backup", func() error { return backups.Get(ctx, c.volume, bk.ID).Err })
	require.Zero(t, srv.Counts().Total(), "%+v", srv.Counts())
}
