package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/workflows"
)

func registry(t testing.TB) *workflows.Registry {
	db := dbtest.Migrated(t, config.SQLite)
	r := workflows.NewRegistry()
	r.Add(workflows.QueueCore, func(w worker.Registry) {
		w.RegisterWorkflow(workflows.Ping)
		w.RegisterWorkflow(workflows.Empty)
		w.RegisterActivity(&activities.Core{DB: db})
	})
	return r
}

// TestPingOnEmbeddedServer runs the trivial workflow end to end: a real
// in-process Temporal server, a worker from the registry, an activity that
// reaches the database.
func TestPingOnEmbeddedServer(t *testing.T) {
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	r := registry(t)
	ws, err := r.Start(c, []string{workflows.QueueCore}, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "ping-test", TaskQueue: workflows.QueueCore}, workflows.Ping, workflows.PingInput{Message: "hello"})
	require.NoError(t, err)
	var out workflows.PingResult
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, workflows.PingResult{Message: "hello", Database: "sqlite"}, out)

	desc, err := c.DescribeWorkflowExecution(ctx, "ping-test", "")
	require.NoError(t, err)
	require.Equal(t, "Ping", desc.WorkflowExecutionInfo.Type.Name)
}

func TestRegistryResolve(t *testing.T) {
	r := workflows.NewRegistry()
	r.Add("core", func(worker.Registry) {})
	r.Add("basic", func(worker.Registry) {})
	qs, err := r.Resolve([]string{"all"})
	require.NoError(t, err)
	require.Equal(t, []string{"basic", "core"}, qs)
	qs, err = r.Resolve([]string{"core,basic", "core"})
	require.NoError(t, err)
	require.Equal(t, []string{"core", "basic"}, qs)
	_, err = r.Resolve([]string{"nope"})
	require.ErrorContains(t, err, `unknown queue "nope"`)
	_, err = r.Resolve(nil)
	require.Error(t, err)
}

func noop(ctx workflow.Context) error { return nil }

// TestEnsureSchedulesIsIdempotentAndKeepsPause: registering the same
// schedules again (as every restart does) creates nothing new, applies a
// changed cron, and leaves a schedule an operator paused paused.
func TestEnsureSchedulesIsIdempotentAndKeepsPause(t *testing.T) {
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	scheds := []workflows.Schedule{
		{ID: "waldur-test-a", Cron: "0 3 * * *", Workflow: noop, TaskQueue: workflows.QueueCore},
		{ID: "waldur-test-b", Cron: "*/10 * * * *", Workflow: noop, TaskQueue: workflows.QueueCore},
	}
	require.NoError(t, workflows.EnsureSchedules(ctx, c, scheds, nil))
	require.NoError(t, workflows.EnsureSchedules(ctx, c, scheds, nil), "second registration is a no-op")

	h := c.ScheduleClient().GetHandle(ctx, "waldur-test-a")
	require.NoError(t, h.Pause(ctx, client.SchedulePauseOptions{Note: "paused by operator"}))
	// A schedule takes a pause, and an update, as signals to its own
	// workflow: what Describe shows follows once it has processed them. The
	// operator's pause is in place before the next start re-registers.
	describe := func(until func(*client.ScheduleDescription) bool) *client.ScheduleDescription {
		t.Helper()
		var d *client.ScheduleDescription
		require.Eventually(t, func() bool {
			var err error
			d, err = h.Describe(ctx)
			require.NoError(t, err)
			return until(d)
		}, 30*time.Second, 20*time.Millisecond)
		return d
	}
	describe(func(d *client.ScheduleDescription) bool { return d.Schedule.State.Paused })

	scheds[0].Cron = "0 4 * * *"
	require.NoError(t, workflows.EnsureSchedules(ctx, c, scheds, nil))

	// The server keeps a cron string as a structured calendar.
	d := describe(func(d *client.ScheduleDescription) bool {
		cal := d.Schedule.Spec.Calendars
		return len(cal) == 1 && len(cal[0].Hour) == 1 && cal[0].Hour[0].Start == 4
	})
	require.Equal(t, []client.ScheduleRange{{Start: 4, End: 4, Step: 1}}, d.Schedule.Spec.Calendars[0].Hour, "the changed cron is applied")
	require.True(t, d.Schedule.State.Paused, "pause survives re-registration")
	db, err := c.ScheduleClient().GetHandle(ctx, "waldur-test-b").Describe(ctx)
	require.NoError(t, err)
	require.False(t, db.Schedule.State.Paused)

	ids := map[string]int{}
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	require.NoError(t, err)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		ids[e.ID]++
	}
	// Visibility is eventually consistent; what is listed is listed once.
	for id, n := range ids {
		require.Equal(t, 1, n, id)
	}

	bad := []workflows.Schedule{{ID: "x", Workflow: noop, TaskQueue: "core"}}
	require.Error(t, workflows.EnsureSchedules(ctx, c, bad, nil))
}
