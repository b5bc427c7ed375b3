package openstacktest_test

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	cinderlimits "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/limits"
	cinderquotas "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/stretchr/testify/require"
)

func waitBackup(t *testing.T, c clients, id, want string) {
	t.Helper()
	eventually(t, "backup "+want, func() (bool, error) {
		b, err := backups.Get(t.Context(), c.volume, id).Extract()
		if err != nil {
			return false, err
		}
		return b.Status == want, nil
	})
}

func listBackups(t *testing.T, c *gophercloud.ServiceClient, detail bool, opts backups.ListOpts) []backups.Backup {
	t.Helper()
	pager := backups.List(c, opts)
	if detail {
		pager = backups.ListDetail(c, backups.ListDetailOpts{AllTenants: opts.AllTenants})
	}
	all, err := pager.AllPages(t.Context())
	require.NoError(t, err)
	out, err := backups.ExtractBackups(all)
	require.NoError(t, err)
	return out
}

// TestBackups: full and incremental backups, in-use volumes with force,
// restores into a new volume or an existing one, the quotas, and backups
// outliving their volume.
func TestBackups(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	project := adminProjectID(t, srv)
	ims := listImages(t, ctx, c)
	vol, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 3, ImageID: smallImage(t, ims)}, nil).Extract()
	require.NoError(t, err)
	small, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 1}, nil).Extract()
	require.NoError(t, err)
	waitVolume(t, c, vol.ID, "available")
	waitVolume(t, c, small.ID, "available")

	full, err := backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: vol.ID, Name: "full", Description: "first"}).Extract()
	require.NoError(t, err)
	require.Equal(t, "full", full.Name)
	waitBackup(t, c, full.ID, "available")
	waitVolume(t, c, vol.ID, "available")
	got, err := backups.Get(ctx, c.volume, full.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, 3, got.Size)
	require.Equal(t, vol.ID, got.VolumeID)
	require.Equal(t, "first", got.Description)
	require.Equal(t, "volumebackups", got.Container)
	require.Equal(t, 62, got.ObjectCount, "3 GiB in 50 MiB objects")
	require.False(t, got.IsIncremental)
	require.False(t, got.DataTimestamp.IsZero())
	require.Empty(t, got.ProjectID, "the project shows from 3.18")
	require.Nil(t, got.Metadata, "metadata shows from 3.43")
	got, err = backups.Get(ctx, at(c.volume, "3.43"), full.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, project, got.ProjectID)
	require.NotNil(t, got.Metadata)
	require.Equal(t, 404, status(backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: "5c1e8a53-2d6f-4a8e-9b3c-7d0f1e2a3b4c"}).Err))

	// Incremental backups build on the newest available one, which then stays.
	require.Equal(t, 400, status(backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: small.ID, Incremental: true}).Err),
		"no backup to build on")
	inc, err := backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: vol.ID, Incremental: true}).Extract()
	require.NoError(t, err)
	waitBackup(t, c, inc.ID, "available")
	got, err = backups.Get(ctx, c.volume, inc.ID).Extract()
	require.NoError(t, err)
	require.True(t, got.IsIncremental)
	got, err = backups.Get(ctx, c.volume, full.ID).Extract()
	require.NoError(t, err)
	require.True(t, got.HasDependentBackups)
	err = backups.Delete(ctx, c.volume, full.ID).ExtractErr()
	require.Equal(t, 400, status(err))
	require.Contains(t, err.Error(), "Incremental backups exist for this backup.")

	// An in-use volume needs force; it is in-use again afterwards.
	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "vm", FlavorRef: "1", ImageRef: ims[0].ID}, nil).Extract()
	require.NoError(t, err)
	waitServer(t, c, sv.ID, "ACTIVE")
	_, err = volumeattach.Create(ctx, c.compute, sv.ID, volumeattach.CreateOpts{VolumeID: small.ID}).Extract()
	require.NoError(t, err)
	waitVolume(t, c, small.ID, "in-use")
	err = backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: small.ID}).Err
	require.Equal(t, 400, status(err))
	require.Contains(t, err.Error(), "Backing up an in-use volume must use the force flag.")
	hot, err := backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: small.ID, Force: true}).Extract()
	require.NoError(t, err)
	waitBackup(t, c, hot.ID, "available")
	waitVolume(t, c, small.ID, "in-use")

	// A snapshot must be the volume's.
	snap, err := snapshots.Create(ctx, c.volume, snapshots.CreateOpts{VolumeID: vol.ID}).Extract()
	require.NoError(t, err)
	waitSnapshot(t, c, snap.ID, "available")
	require.Equal(t, 400, status(backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: small.ID, SnapshotID: snap.ID}).Err))

	// Restores: into a new volume (the backup's size, bootable as the source),
	// or into an available volume at least as large.
	r, err := backups.RestoreFromBackup(ctx, c.volume, full.ID, backups.RestoreOpts{}).Extract()
	require.NoError(t, err)
	require.Equal(t, "restore_backup_"+full.ID, r.VolumeName)
	waitVolume(t, c, r.VolumeID, "available")
	restored, err := volumes.Get(ctx, c.volume, r.VolumeID).Extract()
	require.NoError(t, err)
	require.Equal(t, 3, restored.Size)
	require.Equal(t, "true", restored.Bootable)
	require.Equal(t, "auto-created_from_restore_from_backup", restored.Description)
	big, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 4}, nil).Extract()
	require.NoError(t, err)
	tiny, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 2}, nil).Extract()
	require.NoError(t, err)
	waitVolume(t, c, big.ID, "available")
	waitVolume(t, c, tiny.ID, "available")
	for _, tc := range []struct {
		name     string
		backup   string
		volumeID string
		want     int
	}{
		{"a volume too small", full.ID, tiny.ID, 400},
		{"an in-use volume", hot.ID, small.ID, 400},
		{"no such volume", full.ID, "5c1e8a53-2d6f-4a8e-9b3c-7d0f1e2a3b4c", 404},
		{"no such backup", "5c1e8a53-2d6f-4a8e-9b3c-7d0f1e2a3b4c", big.ID, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, status(backups.RestoreFromBackup(ctx, c.volume, tc.backup, backups.RestoreOpts{VolumeID: tc.volumeID}).Err))
		})
	}
	into, err := backups.RestoreFromBackup(ctx, c.volume, full.ID, backups.RestoreOpts{VolumeID: big.ID}).Extract()
	require.NoError(t, err)
	require.Equal(t, big.ID, into.VolumeID)
	waitVolume(t, c, big.ID, "available")
	waitBackup(t, c, full.ID, "available")
	got2, err := volumes.Get(ctx, c.volume, big.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, 4, got2.Size, "the volume keeps its size")

	// Lists and quotas.
	require.Len(t, listBackups(t, c.volume, false, backups.ListOpts{VolumeID: vol.ID}), 2)
	detail := listBackups(t, c.volume, true, backups.ListOpts{})
	require.Len(t, detail, 3)
	for _, b := range detail {
		require.Equal(t, "available", b.Status)
	}
	usage, err := cinderquotas.GetUsage(ctx, c.volume, project).Extract()
	require.NoError(t, err)
	require.Equal(t, 3, usage.Backups.InUse)
	require.Equal(t, 3+3+1, usage.BackupGigabytes.InUse)
	lim, err := cinderlimits.Get(ctx, c.volume).Extract()
	require.NoError(t, err)
	require.Equal(t, 3, lim.Absolute.TotalBackupsUsed)
	require.Equal(t, 7, lim.Absolute.TotalBackupGigabytesUsed)
	_, err = cinderquotas.Update(ctx, c.volume, project, cinderquotas.UpdateOpts{Backups: ptr(3)}).Extract()
	require.NoError(t, err)
	require.Equal(t, 413, status(backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: big.ID}).Err), "backups")
	_, err = cinderquotas.Update(ctx, c.volume, project, cinderquotas.UpdateOpts{Backups: ptr(10), BackupGigabytes: ptr(10)}).Extract()
	require.NoError(t, err)
	require.Equal(t, 413, status(backups.Create(ctx, c.volume, backups.CreateOpts{VolumeID: big.ID}).Err), "backup_gigabytes")
	require.NoError(t, cinderquotas.Delete(ctx, c.volume, project).ExtractErr())
	st := emulatorState(t, ctx, srv)
	require.Len(t, st.Backups, 3)
	require.Equal(t, 3, st.Counts.Backups)

	// A volume goes and its backups stay.
	require.NoError(t, volumes.Delete(ctx, c.volume, vol.ID, volumes.DeleteOpts{Cascade: true}).ExtractErr())
	gone(t, "volume", func() error { return volumes.Get(ctx, c.volume, vol.ID).Err })
	_, err = backups.Get(ctx, c.volume, full.ID).Extract()
	require.NoError(t, err)

	// Cleanup leaves the emulator empty.
	require.NoError(t, servers.Delete(ctx, c.compute, sv.ID).ExtractErr())
	gone(t, "server", func() error { return servers.Get(ctx, c.compute, sv.ID).Err })
	for _, id := range []string{inc.ID, hot.ID} {
		require.NoError(t, backups.Delete(ctx, c.volume, id).ExtractErr())
	}
	gone(t, "incremental backup", func() error { return backups.Get(ctx, c.volume, inc.ID).Err })
	require.NoError(t, backups.Delete(ctx, c.volume, full.ID).ExtractErr())
	for _, id := range []string{small.ID, r.VolumeID, big.ID, tiny.ID} {
		waitVolume(t, c, id, "available")
		require.NoError(t, volumes.Delete(ctx, c.volume, id, nil).ExtractErr())
	}
	gone(t, "full backup", func() error { return backups.Get(ctx, c.volume, full.ID).Err })
	gone(t, "hot backup", func() error { return backups.Get(ctx, c.volume, hot.ID).Err })
	gone(t, "volume", func() error { return volumes.Get(ctx, c.volume, tiny.ID).Err })
	st = emulatorState(t, ctx, srv)
	require.Empty(t, st.Backups)
	require.Empty(t, st.Snapshots)
	require.Empty(t, st.Volumes)
	require.Zero(t, st.Counts.Total(), "%+v", st.Counts)
	require.Equal(t, 3, st.Created.Backups)
}
