package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/openstack"
)

// TestStoreStorage: on both databases, the server groups', snapshots' and
// backups' actions on the store: a server group's create hands the cloud
// side its policy and finishes OK with its backend id; a tenant's
// pull_server_groups imports a group made behind Waldur's back, renames a
// known one, removes one gone and leaves one being made alone; a
// snapshot's create hands over its volume's backend id; a restore makes a
// volume row and a restoration at once and, failing, leaves the volume
// ERRED; a backup takes a snapshot row of each of the instance's volumes,
// finishes them OK with their ids, and its delete takes them along.
func TestStoreStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedOpenStack(t, db)
		now := time.Now().UTC()
		ten := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: "t",
			State: models.CoreCreating}
		require.NoError(t, w.st.EnsureTenant(ctx, ten))
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, w.tenantRes.ResourceID, fullSnapshot(now)))
		count := func(table, where string, args ...any) int64 {
			var n int64
			require.NoError(t, db.Table(table).Where(where, args...).Count(&n).Error)
			return n
		}

		// Server groups.
		g, err := w.st.CreateObject(ctx, openstack.KindServerGroup, ten.ID, map[string]any{"name": "ha", "description": "", "policy": "anti-affinity"}, nil)
		require.NoError(t, err)
		req, ok, err := w.st.BeginAction(ctx, openstack.KindServerGroup, g.UUID, "create")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "anti-affinity", req.Storage.Policy)
		require.Equal(t, "ha", req.Name)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindServerGroup, g.UUID, "create", openstack.ActionResult{BackendID: "sg-ha",
			Storage: &openstack.StorageResult{ServerGroup: &openstack.CloudServerGroup{BackendID: "sg-ha", Name: "ha", Policy: "anti-affinity"}}}))
		g, err = w.st.ActionObjectByUUID(ctx, openstack.KindServerGroup, g.UUID)
		require.NoError(t, err)
		require.Equal(t, models.CoreOK, g.State)
		require.Equal(t, "sg-ha", g.BackendID)
		gone, err := w.st.CreateObject(ctx, openstack.KindServerGroup, ten.ID, map[string]any{"name": "old", "policy": "affinity"}, nil)
		require.NoError(t, err)
		require.NoError(t, db.Table("openstack_server_groups").Where("uuid = ?", gone.UUID).
			Updates(map[string]any{"state": models.CoreOK, "backend_id": "sg-old", "action": ""}).Error)
		making, err := w.st.CreateObject(ctx, openstack.KindServerGroup, ten.ID, map[string]any{"name": "new", "policy": "affinity"}, nil)
		require.NoError(t, err)

		_, err = w.st.ScheduleAction(ctx, openstack.KindTenant, ten.ID, openstack.ScheduledAction{Action: "pull_server_groups"})
		require.NoError(t, err)
		req, ok, err = w.st.BeginAction(ctx, openstack.KindTenant, ten.UUID, "pull_server_groups")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "proj-1", req.BackendID)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindTenant, ten.UUID, "pull_server_groups", openstack.ActionResult{
			ServerGroups: []openstack.CloudServerGroup{{BackendID: "sg-ha", Name: "ha-renamed", Policy: "anti-affinity"},
				{BackendID: "sg-other", Name: "other", Policy: "soft-affinity"}, {BackendID: "sg-new", Name: "new", Policy: "affinity"}}}))
		var names []string
		require.NoError(t, db.Table("openstack_server_groups").Where("tenant_id = ?", ten.ID).Order("name").Pluck("name", &names).Error)
		require.Equal(t, []string{"ha-renamed", "new", "other"}, names, "renamed, left alone (being made), imported; old removed")
		require.EqualValues(t, 1, count("openstack_server_groups", "uuid = ? AND state = ?", making.UUID, models.CoreCreationScheduled))
		require.EqualValues(t, 1, count("openstack_server_groups", "backend_id = ? AND policy = ? AND state = ?", "sg-other", "soft-affinity", models.CoreOK))
		require.EqualValues(t, 1, count("events", "event_type = ?", "openstack_server_group_imported"))
		require.EqualValues(t, 1, count("events", "event_type = ?", "openstack_server_group_cleaned"))
		tn, err := w.st.ActionObjectByUUID(ctx, openstack.KindTenant, ten.UUID)
		require.NoError(t, err)
		require.Equal(t, models.CoreOK, tn.State)

		// An instance with a volume: a snapshot of the volume.
		in := &openstack.InstanceRow{UUID: models.NewUUID(), ProjectID: w.project, TenantID: ten.ID, Name: "vm", State: models.CoreOK,
			BackendID: "srv-1", Created: now, Modified: now}
		require.NoError(t, db.Create(in).Error)
		vol := &openstack.VolumeRow{UUID: models.NewUUID(), ProjectID: w.project, TenantID: ten.ID, InstanceID: &in.ID, Name: "root",
			State: models.CoreOK, BackendID: "vol-1", RuntimeState: "in-use", Size: 2048, TypeName: "ssd", Created: now, Modified: now}
		require.NoError(t, db.Create(vol).Error)
		sn, err := w.st.CreateObject(ctx, openstack.KindSnapshot, ten.ID, map[string]any{"name": "s1", "description": "",
			"source_volume_id": vol.ID, "size": vol.Size, "metadata": `{}`}, nil)
		require.NoError(t, err)
		req, ok, err = w.st.BeginAction(ctx, openstack.KindSnapshot, sn.UUID, "create")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "vol-1", req.Storage.VolumeBackendID)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindSnapshot, sn.UUID, "create", openstack.ActionResult{BackendID: "snap-1",
			RuntimeState: "available", Storage: &openstack.StorageResult{Snapshot: &openstack.CloudSnapshot{BackendID: "snap-1", Size: 2048, Status: "available"}}}))
		require.EqualValues(t, 1, count("openstack_snapshots", "uuid = ? AND state = ? AND backend_id = ? AND runtime_state = ?",
			sn.UUID, models.CoreOK, "snap-1", "available"))
		require.EqualValues(t, 1, count("events", "event_type = ?", "resource_creation_succeeded"))

		// A restore: a volume row and a restoration at once; failing, the volume is ERRED.
		_, volUUID, err := w.st.RestoreSnapshot(ctx, sn.ID, "from-s1", "restored")
		require.NoError(t, err)
		require.EqualValues(t, 1, count("openstack_volumes", "uuid = ? AND state = ? AND size = ? AND type_name = ?",
			volUUID, models.CoreCreationScheduled, 2048, "ssd"))
		require.EqualValues(t, 1, count("openstack_snapshot_restorations", "snapshot_id = ?", sn.ID))
		_, _, err = w.st.RestoreSnapshot(ctx, sn.ID, "again", "")
		require.True(t, models.IsCode(err, models.CodeConflict), "busy: %v", err)
		require.EqualValues(t, 0, count("openstack_volumes", "name = ?", "again"), "nothing made")
		req, ok, err = w.st.BeginAction(ctx, openstack.KindSnapshot, sn.UUID, "restore")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "snap-1", req.BackendID)
		require.Equal(t, "from-s1", req.Storage.Volume.Name)
		require.EqualValues(t, 2048, req.Storage.Volume.Size)
		require.NoError(t, w.st.FailAction(ctx, openstack.KindSnapshot, sn.UUID, "restore", "no room"))
		require.EqualValues(t, 1, count("openstack_volumes", "uuid = ? AND state = ? AND error_message = ?", volUUID, models.CoreErred, "no room"))

		// A backup of the instance: a snapshot of its volume.
		b, err := w.st.CreateBackup(ctx, in.ID, "nightly", "", nil)
		require.NoError(t, err)
		require.EqualValues(t, 1, count("openstack_snapshots", "backup_id = ? AND name = ? AND state = ?", b.ID, "nightly-root", models.CoreCreationScheduled))
		req, ok, err = w.st.BeginAction(ctx, openstack.KindBackup, b.UUID, "create")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "srv-1", req.InstanceBackendID)
		require.Equal(t, []openstack.CloudSnapshot{{Name: "nightly-root", VolumeBackendID: "vol-1"}}, req.Storage.Snapshots)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindBackup, b.UUID, "create", openstack.ActionResult{InstanceBackendID: "srv-1",
			Storage: &openstack.StorageResult{Snapshots: []openstack.CloudSnapshot{{BackendID: "snap-b1", VolumeBackendID: "vol-1", Name: "nightly-root",
				Size: 2048, Status: "available"}}}}))
		require.EqualValues(t, 1, count("openstack_snapshots", "backup_id = ? AND backend_id = ? AND state = ?", b.ID, "snap-b1", models.CoreOK))
		require.EqualValues(t, 1, count("openstack_backups", "id = ? AND state = ? AND backend_id = ?", b.ID, models.CoreOK, "srv-1"))
		require.EqualValues(t, 1, count("events", "event_type = ?", "resource_backup_creation_succeeded"))

		_, err = w.st.ScheduleAction(ctx, openstack.KindBackup, b.ID, openstack.ScheduledAction{Action: "delete", To: models.CoreDeletionScheduled})
		require.NoError(t, err)
		req, _, err = w.st.BeginAction(ctx, openstack.KindBackup, b.UUID, "delete")
		require.NoError(t, err)
		require.Equal(t, []openstack.CloudSnapshot{{BackendID: "snap-b1", Name: "nightly-root", VolumeBackendID: "vol-1"}}, req.Storage.Snapshots)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindBackup, b.UUID, "delete", openstack.ActionResult{}))
		require.EqualValues(t, 0, count("openstack_backups", "id = ?", b.ID))
		require.EqualValues(t, 0, count("openstack_snapshots", "backup_id = ?", b.ID), "its snapshots went with it")

		// The dispatcher sees the family's scheduled actions.
		_, err = w.st.ScheduleAction(ctx, openstack.KindServerGroup, g.ID, openstack.ScheduledAction{Action: "pull"})
		require.NoError(t, err)
		pending, err := w.st.PendingActions(ctx, time.Now().Add(time.Hour))
		require.NoError(t, err)
		require.Contains(t, pending, openstack.PendingAction{Kind: openstack.KindServerGroup, UUID: g.UUID, Action: "pull"})
	})
}
