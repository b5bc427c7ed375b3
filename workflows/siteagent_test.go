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

// agentStatus seeds one offering whose order-processing agent was last
// heard at last, and returns a reader of its status.
func agentStatus(t *testing.T, db *gorm.DB, last time.Time) func() models.IntegrationState {
	t.Helper()
	ctx := context.Background()
	st := store.New(db)
	var cust, cat, off int64
	require.NoError(t, db.Raw(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) VALUES (?, 'P', ?, ?, ?) RETURNING id`,
		models.NewUUID(), last, last, last).Scan(&cust).Error)
	require.NoError(t, db.Raw(`INSERT INTO categories (uuid, title, created, modified) VALUES (?, 'HPC', ?, ?) RETURNING id`,
		models.NewUUID(), last, last).Scan(&cat).Error)
	require.NoError(t, db.Raw(`INSERT INTO offerings (uuid, name, customer_id, category_id, type, state, created, modified)
		VALUES (?, 'O', ?, ?, 'Marketplace.Slurm', 'Active', ?, ?) RETURNING id`, models.NewUUID(), cust, cat, last, last).Scan(&off).Error)
	require.NoError(t, st.TouchIntegrationStatus(ctx, off, models.AgentOrderProcessing, "waldur-site-agent-order-process/0.7.0", last))
	return func() models.IntegrationState {
		m, err := st.IntegrationStatusesOf(ctx, []int64{off})
		require.NoError(t, err)
		require.Len(t, m[off], 1)
		return m[off][0].Status
	}
}

func TestDisconnectStaleAgentsWithTestSuite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		status := agentStatus(t, db, now.Add(-30*time.Minute))
		a := &activities.SiteAgent{Store: store.New(db), Now: func() time.Time { return now }}
		run := func() workflows.DisconnectStaleAgentsResult {
			t.Helper()
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			workflows.RegisterSiteAgent(env, a)
			env.ExecuteWorkflow(workflows.DisconnectStaleAgents, workflows.DisconnectStaleAgentsInput{})
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			var out workflows.DisconnectStaleAgentsResult
			require.NoError(t, env.GetWorkflowResult(&out))
			return out
		}
		require.Zero(t, run().Disconnected, "heard half an hour ago")
		require.Equal(t, models.IntegrationActive, status())
		now = now.Add(31 * time.Minute)
		require.EqualValues(t, 1, run().Disconnected)
		require.Equal(t, models.IntegrationDisconnected, status())
		require.Zero(t, run().Disconnected)
	})
}

// TestDisconnectStaleAgentsRetries: a failing activity is retried by the policy.
func TestDisconnectStaleAgentsRetries(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	a := &activities.SiteAgent{}
	workflows.RegisterSiteAgent(env, a)
	env.OnActivity(a.DisconnectStaleIntegrations, mock.Anything).Return(int64(0), errors.New("database is down")).Once()
	env.OnActivity(a.DisconnectStaleIntegrations, mock.Anything).Return(int64(4), nil).Once()
	env.ExecuteWorkflow(workflows.DisconnectStaleAgents, workflows.DisconnectStaleAgentsInput{})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out workflows.DisconnectStaleAgentsResult
	require.NoError(t, env.GetWorkflowResult(&out))
	require.EqualValues(t, 4, out.Disconnected)
	env.AssertExpectations(t)
}

// TestIntegrationStatusTimeoutOnEmbeddedServer runs the job on a real
// Temporal server and registers its schedule: every five minutes, on the
// core queue, under its stable ID.
func TestIntegrationStatusTimeoutOnEmbeddedServer(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	status := agentStatus(t, db, time.Now().UTC().Add(-2*time.Hour))

	srv := temporaltest.Start(t)
	c := srv.Client(t)
	r := workflows.NewRegistry()
	r.Add(workflows.QueueCore, func(reg worker.Registry) {
		workflows.RegisterSiteAgent(reg, &activities.SiteAgent{Store: store.New(db)})
	})
	ws, err := r.Start(c, []string{workflows.QueueCore}, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "integration-timeout-test", TaskQueue: workflows.QueueCore},
		workflows.DisconnectStaleAgents, workflows.DisconnectStaleAgentsInput{})
	require.NoError(t, err)
	var out workflows.DisconnectStaleAgentsResult
	require.NoError(t, run.Get(ctx, &out))
	require.EqualValues(t, 1, out.Disconnected)
	require.Equal(t, models.IntegrationDisconnected, status())

	require.NoError(t, workflows.EnsureSchedules(ctx, c, []workflows.Schedule{workflows.IntegrationStatusTimeoutSchedule}, nil))
	d, err := c.ScheduleClient().GetHandle(ctx, "waldur-integration-status-timeout").Describe(ctx)
	require.NoError(t, err)
	require.Len(t, d.Schedule.Spec.Calendars, 1)
	require.Equal(t, []client.ScheduleRange{{Start: 0, End: 59, Step: 5}}, d.Schedule.Spec.Calendars[0].Minute)
	action, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	require.Equal(t, "DisconnectStaleAgents", action.Workflow)
	require.Equal(t, workflows.QueueCore, action.TaskQueue)
}
