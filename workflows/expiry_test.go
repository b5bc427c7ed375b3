package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// expWorld has one customer and project, a role that expires in an hour
// and an invitation created now; the clock is moved by the tests.
type expWorld struct {
	db         *gorm.DB
	st         *store.Store
	now        time.Time
	customer   models.Scope
	project    models.Scope
	user       *models.User
	invitation models.UUID
}

func newExpWorld(t *testing.T, db *gorm.DB) *expWorld {
	t.Helper()
	ctx := context.Background()
	w := &expWorld{db: db, now: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)}
	w.st = store.New(db)
	w.st.Now = func() time.Time { return w.now }
	cid := models.NewUUID()
	require.NoError(t, db.Exec(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) VALUES (?, ?, ?, ?, ?)`,
		cid, "Org", w.now, w.now, w.now).Error)
	require.NoError(t, db.Table("customers").Where("uuid = ?", cid).Pluck("id", &w.customer.ID).Error)
	w.customer.Type = models.ScopeCustomer
	pid := models.NewUUID()
	require.NoError(t, db.Exec(`INSERT INTO projects (uuid, customer_id, name, created, modified) VALUES (?, ?, ?, ?, ?)`,
		pid, w.customer.ID, "Proj", w.now, w.now).Error)
	require.NoError(t, db.Table("projects").Where("uuid = ?", pid).Pluck("id", &w.project.ID).Error)
	w.project.Type = models.ScopeProject
	w.user = &models.User{Username: "temp", Email: "temp@example.com", IsActive: true}
	require.NoError(t, w.st.CreateUser(ctx, w.user, ""))

	role, err := w.st.RoleByName(ctx, models.RoleProjectAdmin)
	require.NoError(t, err)
	sc, err := w.st.ResolveRoleScope(ctx, w.project)
	require.NoError(t, err)
	exp := w.now.Add(time.Hour)
	_, err = w.st.GrantRole(ctx, store.Grant{User: w.user, Role: role, Scope: w.project, CustomerID: sc.CustomerID,
		ExpirationTime: &exp, EventScopes: sc.EventScopes(), ScopeName: sc.Name})
	require.NoError(t, err)
	inv, err := w.st.CreateInvitation(ctx, store.NewInvitation{Scope: sc, Role: role, Email: "x@example.com", CreatedBy: w.user})
	require.NoError(t, err)
	w.invitation = inv.UUID
	return w
}

func (w *expWorld) activeRoles(t *testing.T) int64 {
	t.Helper()
	var n int64
	require.NoError(t, w.db.Table("user_roles").Where("is_active = ?", true).Count(&n).Error)
	return n
}

func (w *expWorld) invitationState(t *testing.T) store.InvitationState {
	t.Helper()
	inv, err := w.st.InvitationByUUID(context.Background(), w.invitation)
	require.NoError(t, err)
	return inv.State
}

func TestExpiryWorkflowsWithTestSuite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newExpWorld(t, db)
		run := func(wf any, out any) {
			t.Helper()
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			workflows.RegisterExpiry(env, &activities.Expiry{Store: w.st})
			env.ExecuteWorkflow(wf)
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			require.NoError(t, env.GetWorkflowResult(out))
		}

		var roles workflows.RevokeExpiredRolesResult
		run(workflows.RevokeExpiredRoles, &roles)
		require.Equal(t, 0, roles.Revoked, "not expired yet")
		require.Equal(t, int64(1), w.activeRoles(t))

		w.now = w.now.Add(2 * time.Hour)
		run(workflows.RevokeExpiredRoles, &roles)
		require.Equal(t, 1, roles.Revoked)
		require.Zero(t, w.activeRoles(t))
		var revoked int64
		require.NoError(t, db.Table("events").Where("event_type = ?", "role_revoked").Count(&revoked).Error)
		require.Equal(t, int64(1), revoked)
		run(workflows.RevokeExpiredRoles, &roles)
		require.Equal(t, 0, roles.Revoked, "a role is revoked once")

		var invs activities.InvitationExpiryResult
		run(workflows.ExpireInvitations, &invs)
		require.Zero(t, invs.Expired)
		require.Equal(t, store.InvitationPending, w.invitationState(t))
		w.now = w.now.Add(7 * 24 * time.Hour)
		run(workflows.ExpireInvitations, &invs)
		require.Equal(t, 1, invs.Expired)
		require.Equal(t, store.InvitationExpired, w.invitationState(t))
	})
}

// TestExpiryWorkflowRetriesActivity: a failing activity is retried by the
// policy, and the workflow reports the count of the attempt that worked.
func TestExpiryWorkflowRetriesActivity(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	a := &activities.Expiry{}
	workflows.RegisterExpiry(env, a)
	env.OnActivity(a.RevokeExpiredRoles, mock.Anything).Return(0, errors.New("database is down")).Once()
	env.OnActivity(a.RevokeExpiredRoles, mock.Anything).Return(3, nil).Once()
	env.ExecuteWorkflow(workflows.RevokeExpiredRoles)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out workflows.RevokeExpiredRolesResult
	require.NoError(t, env.GetWorkflowResult(&out))
	require.Equal(t, 3, out.Revoked)
	env.AssertExpectations(t)
}

func TestExpirySchedules(t *testing.T) {
	require.Equal(t, "waldur-role-expiry", workflows.RoleExpirySchedule.ID)
	require.Equal(t, "0 1 * * *", workflows.RoleExpirySchedule.Cron)
	require.Equal(t, workflows.QueueCore, workflows.RoleExpirySchedule.TaskQueue)
	require.Equal(t, "waldur-invitation-expiry", workflows.InvitationExpirySchedule.ID)
	require.Equal(t, "30 1 * * *", workflows.InvitationExpirySchedule.Cron)
	require.Equal(t, workflows.QueueCore, workflows.InvitationExpirySchedule.TaskQueue)
}

// TestExpiryOnEmbeddedServer runs both expiry workflows on a real Temporal
// server with a worker registered by RegisterExpiry, and registers their
// schedules.
func TestExpiryOnEmbeddedServer(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	w := newExpWorld(t, db)
	w.now = w.now.Add(8 * 24 * time.Hour)

	srv := temporaltest.Start(t)
	c := srv.Client(t)
	r := workflows.NewRegistry()
	r.Add(workflows.QueueCore, func(reg worker.Registry) { workflows.RegisterExpiry(reg, &activities.Expiry{Store: w.st}) })
	ws, err := r.Start(c, []string{workflows.QueueCore}, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "role-expiry-test", TaskQueue: workflows.QueueCore}, workflows.RevokeExpiredRoles)
	require.NoError(t, err)
	var roles workflows.RevokeExpiredRolesResult
	require.NoError(t, run.Get(ctx, &roles))
	require.Equal(t, 1, roles.Revoked)
	require.Zero(t, w.activeRoles(t))

	run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "invitation-expiry-test", TaskQueue: workflows.QueueCore}, workflows.ExpireInvitations)
	require.NoError(t, err)
	var invs activities.InvitationExpiryResult
	require.NoError(t, run.Get(ctx, &invs))
	require.Equal(t, 1, invs.Expired)
	require.Equal(t, store.InvitationExpired, w.invitationState(t))

	scheds := []workflows.Schedule{workflows.RoleExpirySchedule, workflows.InvitationExpirySchedule}
	require.NoError(t, workflows.EnsureSchedules(ctx, c, scheds, nil))
	for _, s := range []struct {
		id       string
		workflow string
		hour     int
		minute   int
	}{{"waldur-role-expiry", "RevokeExpiredRoles", 1, 0}, {"waldur-invitation-expiry", "ExpireInvitations", 1, 30}} {
		d, err := c.ScheduleClient().GetHandle(ctx, s.id).Describe(ctx)
		require.NoError(t, err)
		require.Len(t, d.Schedule.Spec.Calendars, 1)
		cal := d.Schedule.Spec.Calendars[0]
		require.Equal(t, []client.ScheduleRange{{Start: s.hour, End: s.hour, Step: 1}}, cal.Hour, s.id)
		require.Equal(t, []client.ScheduleRange{{Start: s.minute, End: s.minute, Step: 1}}, cal.Minute, s.id)
		action, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
		require.True(t, ok)
		require.Equal(t, s.workflow, action.Workflow)
		require.Equal(t, workflows.QueueCore, action.TaskQueue)
	}
}
