package slurm_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/providers/slurm"
	"github.com/waldur-go/waldur/workflows"
)

func slurmEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *slurm.Activities, *slurm.ClusterActivities) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	// A loaded CI machine can hold a workflow goroutine past the default 1 s
	// deadlock detection; these workflows do not block.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	a, c := &slurm.Activities{}, &slurm.ClusterActivities{}
	slurm.RegisterSlurm(env, a)
	slurm.RegisterSlurmCluster(env, c)
	return env, a, c
}

// TestSlurmResourceSyncCoalesces: sync requests that arrive while a sync
// runs make exactly one more sync after it; none, no more.
func TestSlurmResourceSyncCoalesces(t *testing.T) {
	env, a, c := slurmEnv(t)
	id := models.NewUUID()
	batch := slurm.SlurmBatch{OfferingUUID: models.NewUUID(), Allocations: []slurm.SlurmAllocation{{ResourceUUID: id, Account: "acc", Usernames: []string{"alice"}}}}
	env.OnActivity(a.SlurmAllocations, mock.Anything, mock.MatchedBy(func(in slurm.SlurmAllocationsInput) bool {
		return in.Members && len(in.Resources) == 1 && in.Resources[0] == id
	})).Return([]slurm.SlurmBatch{batch}, nil).Times(2)
	syncs := 0
	env.OnActivity(c.SlurmSyncAssociations, mock.Anything, mock.Anything).After(time.Minute).
		Return(slurm.SlurmSyncResult{OfferingUUID: batch.OfferingUUID}, nil).Run(func(mock.Arguments) { syncs++ }).Times(2)
	for _, at := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(slurm.SlurmSyncSignal, nil) }, at)
	}
	env.ExecuteWorkflow(slurm.SlurmResourceSync, slurm.SlurmResourceSyncInput{ResourceUUID: id})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out slurm.SlurmResourceSyncResult
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
	env.OnActivity(a.SlurmAllocations, mock.Anything, mock.Anything).Return([]slurm.SlurmBatch{}, nil).Once()
	env.ExecuteWorkflow(slurm.SlurmResourceSync, slurm.SlurmResourceSyncInput{ResourceUUID: models.NewUUID()})
	require.NoError(t, env.GetWorkflowError())
	var out slurm.SlurmResourceSyncResult
	require.NoError(t, env.GetWorkflowResult(&out))
	require.Equal(t, slurm.SlurmResourceSyncResult{Syncs: 1}, out)
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
			good := slurm.SlurmBatch{OfferingUUID: models.NewUUID(), OfferingName: "good", Allocations: []slurm.SlurmAllocation{{Account: "a"}}}
			bad := slurm.SlurmBatch{OfferingUUID: models.NewUUID(), OfferingName: "bad", Allocations: []slurm.SlurmAllocation{{Account: "b"}}}
			env.OnActivity(a.SlurmAllocations, mock.Anything, mock.Anything).Return([]slurm.SlurmBatch{good, bad}, nil).Once()
			var mu sync.Mutex
			var months []string
			env.OnActivity(c.SlurmReadUsage, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in slurm.SlurmUsageInput) (slurm.SlurmUsageReport, error) {
					if in.Batch.OfferingName == "bad" {
						return slurm.SlurmUsageReport{}, errors.New("sacct: slurmdbd is down")
					}
					mu.Lock()
					defer mu.Unlock()
					months = append(months, in.Month.String())
					return slurm.SlurmUsageReport{Month: in.Month, Accounts: map[string]slurm.UsageReading{}}, nil
				})
			env.OnActivity(a.RecordSlurmUsage, mock.Anything, mock.Anything).Return(
				slurm.RecordSlurmUsageResult{Outcomes: []slurm.SlurmUsageOutcome{{Account: "a", Outcome: "recorded"}}}, nil)
			var month billing.Month
			if tc.month != "" {
				var err error
				month, err = billing.ParseMonth(tc.month)
				require.NoError(t, err)
			}
			env.ExecuteWorkflow(slurm.SlurmUsagePull, slurm.SlurmUsagePullInput{Month: month})
			require.Error(t, env.GetWorkflowError(), "the bad offering fails the run")
			require.Contains(t, env.GetWorkflowError().Error(), "bad")
			require.Equal(t, tc.want, months)
		})
	}
}

func TestSlurmSchedules(t *testing.T) {
	ids := map[string]string{}
	for _, s := range slurm.SlurmSchedules {
		ids[s.ID] = s.Cron
		require.Equal(t, workflows.QueueCore, s.TaskQueue)
	}
	require.Equal(t, map[string]string{"waldur-slurm-usage-pull": "5 * * * *", "waldur-slurm-membership-sync": "*/5 * * * *",
		"waldur-slurm-membership-events": "* * * * *"}, ids)
}
