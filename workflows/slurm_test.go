package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/slurm"
	"github.com/waldur-go/waldur/workflows"
)

func slurmEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *activities.Slurm, *activities.SlurmCluster) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	a, c := &activities.Slurm{}, &activities.SlurmCluster{}
	workflows.RegisterSlurm(env, a)
	workflows.RegisterSlurmCluster(env, c)
	return env, a, c
}

// TestSlurmResourceSyncCoalesces: sync requests that arrive while a sync
// runs make exactly one more sync after it; none, no more.
func TestSlurmResourceSyncCoalesces(t *testing.T) {
	env, a, c := slurmEnv(t)
	id := models.NewUUID()
	batch := activities.SlurmBatch{OfferingUUID: models.NewUUID(), Allocations: []activities.SlurmAllocation{{ResourceUUID: id, Account: "acc", Usernames: []string{"alice"}}}}
	env.OnActivity(a.SlurmAllocations, mock.Anything, mock.MatchedBy(func(in activities.SlurmAllocationsInput) bool {
		return in.Members && len(in.Resources) == 1 && in.Resources[0] == id
	})).Return([]activities.SlurmBatch{batch}, nil).Times(2)
	syncs := 0
	env.OnActivity(c.SlurmSyncAssociations, mock.Anything, mock.Anything).After(time.Minute).
		Return(activities.SlurmSyncResult{OfferingUUID: batch.OfferingUUID}, nil).Run(func(mock.Arguments) { syncs++ }).Times(2)
	for _, at := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(activities.SlurmSyncSignal, nil) }, at)
	}
	env.ExecuteWorkflow(workflows.SlurmResourceSync, workflows.SlurmResourceSyncInput{ResourceUUID: id})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out workflows.SlurmResourceSyncResult
	require.NoError(t, env.GetWorkflowResult(&out))
	require.Equal(t, 2, out.Syncs, "three requests during the first sync: one more sync")
	require.Equal(t, 2, syncs)
	require.NotNil(t, out.Last)
	env.AssertExpectations(t)
}

// TestSlurmResourceSyncNothingToSync: a resource that is not (or no
// longer) an allocation with an account reaches no cluster.
func TestSlurmResourceSyncNothingToSync(t *testing.T) {
	env, a, _ := slurmEnv(t)
	env.OnActivity(a.SlurmAllocations, mock.Anything, mock.Anything).Return([]activities.SlurmBatch{}, nil).Once()
	env.ExecuteWorkflow(workflows.SlurmResourceSync, workflows.SlurmResourceSyncInput{ResourceUUID: models.NewUUID()})
	require.NoError(t, env.GetWorkflowError())
	var out workflows.SlurmResourceSyncResult
	require.NoError(t, env.GetWorkflowResult(&out))
	require.Equal(t, workflows.SlurmResourceSyncResult{Syncs: 1}, out)
}

// TestSlurmUsagePullMonths: on the 1st the pull reads last month too; one
// offering failing fails the run at the end, with the others recorded.
func TestSlurmUsagePullMonths(t *testing.T) {
	cases := []struct {
		name  string
		start time.Time
		month string
		want  []string
	}{
		{"mid-month", time.Date(2026, 11, 15, 10, 0, 0, 0, time.UTC), "", []string{"2026-11"}},
		{"the 1st", time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC), "", []string{"2026-11", "2026-12"}},
		{"asked", time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC), "2026-10", []string{"2026-10"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, a, c := slurmEnv(t)
			env.SetStartTime(tc.start)
			good := activities.SlurmBatch{OfferingUUID: models.NewUUID(), OfferingName: "good", Allocations: []activities.SlurmAllocation{{Account: "a"}}}
			bad := activities.SlurmBatch{OfferingUUID: models.NewUUID(), OfferingName: "bad", Allocations: []activities.SlurmAllocation{{Account: "b"}}}
			env.OnActivity(a.SlurmAllocations, mock.Anything, mock.Anything).Return([]activities.SlurmBatch{good, bad}, nil).Once()
			var mu sync.Mutex
			var months []string
			env.OnActivity(c.SlurmReadUsage, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.SlurmUsageInput) (activities.SlurmUsageReport, error) {
					if in.Batch.OfferingName == "bad" {
						return activities.SlurmUsageReport{}, errors.New("sacct: slurmdbd is down")
					}
					mu.Lock()
					defer mu.Unlock()
					months = append(months, in.Month)
					return activities.SlurmUsageReport{Month: in.Month, Accounts: map[string]slurm.UsageReading{}}, nil
				})
			env.OnActivity(a.RecordSlurmUsage, mock.Anything, mock.Anything).Return(
				activities.RecordSlurmUsageResult{Outcomes: []activities.SlurmUsageOutcome{{Account: "a", Outcome: "recorded"}}}, nil)
			env.ExecuteWorkflow(workflows.SlurmUsagePull, workflows.SlurmUsagePullInput{Month: tc.month})
			require.Error(t, env.GetWorkflowError(), "the bad offering fails the run")
			require.Contains(t, env.GetWorkflowError().Error(), "bad")
			require.Equal(t, tc.want, months)
		})
	}
}

func TestSlurmSchedules(t *testing.T) {
	ids := map[string]string{}
	for _, s := range workflows.SlurmSchedules {
		ids[s.ID] = s.Cron
		require.Equal(t, workflows.QueueCore, s.TaskQueue)
	}
	require.Equal(t, map[string]string{"waldur-slurm-usage-pull": "5 * * * *", "waldur-slurm-membership-sync": "*/5 * * * *",
		"waldur-slurm-membership-events": "* * * * *"}, ids)
}
