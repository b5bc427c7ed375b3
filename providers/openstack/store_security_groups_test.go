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

// TestSecurityGroupActionsStore: on both databases, a security group made
// through the API is a row in CREATION_SCHEDULED with a placeholder
// backend id, begun (CREATING) with its name and rules for the cloud side;
// a pull meanwhile neither deletes it nor imports beside it the group an
// earlier attempt made; finished, it is OK with the cloud's id and rules
// (a row imported of the same cloud object gives way);
// its project is its tenant's; a delete (DELETION_SCHEDULED, DELETING)
// finished removes the row; a failed create is ERRED; the dispatcher lists
// each scheduled kind.
func TestSecurityGroupActionsStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedOpenStack(t, db)
		now := time.Now().UTC()
		ten := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: "t",
			State: models.CoreCreating}
		require.NoError(t, w.st.EnsureTenant(ctx, ten))
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, w.tenantRes.ResourceID, fullSnapshot(now)))

		rules := []openstack.CloudRule{{Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", FromPort: ptrTo(22), ToPort: ptrTo(22), CIDR: "0.0.0.0/0"}}
		o, err := w.st.CreateObject(ctx, openstack.KindSecurityGroup, ten.ID, map[string]any{"name": "web", "description": "d", "rules": `[]`},
			map[string]any{"rules": rules})
		require.NoError(t, err)
		require.Equal(t, models.CoreCreationScheduled, o.State)
		require.Equal(t, w.project, o.ProjectID, "the tenant's project")
		require.Contains(t, o.BackendID, "pending-")
		pending, err := w.st.PendingActions(ctx, now.Add(time.Hour))
		require.NoError(t, err)
		require.Contains(t, pending, openstack.PendingAction{Kind: openstack.KindSecurityGroup, UUID: o.UUID, Action: "create"})

		req, ok, err := w.st.BeginAction(ctx, openstack.KindSecurityGroup, o.UUID, "create")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "web", req.Name)
		require.Equal(t, "", req.BackendID)
		require.Equal(t, rules, req.Rules)
		got, err := w.st.ActionObjectByUUID(ctx, openstack.KindSecurityGroup, o.UUID)
		require.NoError(t, err)
		require.Equal(t, models.CoreCreating, got.State)

		// A pull while it is made: the row stays, the cloud's group of the
		// same name (made by an earlier attempt) is not imported beside it.
		snap := fullSnapshot(now.Add(time.Second))
		snap.SecurityGroups = append(snap.SecurityGroups, openstack.CloudSecurityGroup{BackendID: "sg-web", Name: "web"})
		_, err = w.st.ApplyPull(ctx, ten.UUID, snap)
		require.NoError(t, err)
		var names []string
		require.NoError(t, db.Table("openstack_security_groups").Where("tenant_id = ?", ten.ID).Order("name").Pluck("name", &names).Error)
		require.Equal(t, []string{"ssh", "web"}, names)

		// A row of the made group imported anyway (renamed in the cloud
		// meanwhile, say) gives way to this one.
		require.NoError(t, db.Table("openstack_security_groups").Create(map[string]any{"uuid": models.NewUUID(), "tenant_id": ten.ID,
			"backend_id": "sg-web", "name": "web-imported", "rules": `[]`, "state": "OK", "created": now, "modified": now}).Error)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindSecurityGroup, o.UUID, "create",
			openstack.ActionResult{BackendID: "sg-web", Rules: rules}))
		got, err = w.st.ActionObjectByUUID(ctx, openstack.KindSecurityGroup, o.UUID)
		require.NoError(t, err)
		require.Equal(t, models.CoreOK, got.State)
		require.Equal(t, "sg-web", got.BackendID)
		_, err = w.st.ApplyPull(ctx, ten.UUID, snap)
		require.NoError(t, err)
		require.NoError(t, db.Table("openstack_security_groups").Where("tenant_id = ?", ten.ID).Order("name").Pluck("name", &names).Error)
		require.Equal(t, []string{"ssh", "web"}, names, "the pull updates the made group")

		// Delete: a busy group refuses a second one; the finish removes the row.
		_, err = w.st.ScheduleAction(ctx, openstack.KindSecurityGroup, got.ID, openstack.ScheduledAction{Action: "delete",
			To: models.CoreDeletionScheduled, From: []models.CoreState{models.CoreOK, models.CoreErred}})
		require.NoError(t, err)
		_, err = w.st.ScheduleAction(ctx, openstack.KindSecurityGroup, got.ID, openstack.ScheduledAction{Action: "update"})
		require.True(t, models.IsCode(err, models.CodeConflict), "%v", err)
		req, ok, err = w.st.BeginAction(ctx, openstack.KindSecurityGroup, o.UUID, "delete")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "sg-web", req.BackendID)
		_, err = w.st.ApplyPull(ctx, ten.UUID, fullSnapshot(now.Add(2*time.Second)))
		require.NoError(t, err)
		_, err = w.st.ActionObjectByUUID(ctx, openstack.KindSecurityGroup, o.UUID)
		require.NoError(t, err, "a pull leaves a group being deleted to its action")
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindSecurityGroup, o.UUID, "delete", openstack.ActionResult{}))
		_, err = w.st.ActionObjectByUUID(ctx, openstack.KindSecurityGroup, o.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound))

		// A failed create is ERRED, its placeholder kept (nothing to delete in the cloud).
		o2, err := w.st.CreateObject(ctx, openstack.KindSecurityGroup, ten.ID, map[string]any{"name": "bad", "rules": `[]`}, nil)
		require.NoError(t, err)
		_, _, err = w.st.BeginAction(ctx, openstack.KindSecurityGroup, o2.UUID, "create")
		require.NoError(t, err)
		require.NoError(t, w.st.FailAction(ctx, openstack.KindSecurityGroup, o2.UUID, "create", "refused"))
		got, err = w.st.ActionObjectByUUID(ctx, openstack.KindSecurityGroup, o2.UUID)
		require.NoError(t, err)
		require.Equal(t, models.CoreErred, got.State)
		_, err = w.st.ScheduleAction(ctx, openstack.KindSecurityGroup, got.ID, openstack.ScheduledAction{Action: "delete",
			To: models.CoreDeletionScheduled, From: []models.CoreState{models.CoreOK, models.CoreErred}})
		require.NoError(t, err)
		req, ok, err = w.st.BeginAction(ctx, openstack.KindSecurityGroup, o2.UUID, "delete")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "", req.BackendID, "never made in the cloud")
	})
}
