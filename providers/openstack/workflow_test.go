package openstack

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/workflows"
)

// TestPullOpenStack: every tenant is read and its snapshot recorded; a
// tenant whose cloud keeps failing is reported and does not stop the
// others; a read that fails once is retried.
func TestPullOpenStack(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	// A loaded CI machine can hold a workflow goroutine past the default 1 s
	// deadlock detection; these workflows do not block.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	pull, backend := &PullCore{}, &PullBackend{}
	registerCore(env, pull)
	registerBackend(env, backend)
	targets := []PullTarget{{UUID: models.NewUUID(), Name: "a", BackendID: "p-a"}, {UUID: models.NewUUID(), Name: "b", BackendID: "p-b"},
		{UUID: models.NewUUID(), Name: "c", BackendID: "p-c"}}
	env.OnActivity(pull.ListOpenStackTenants, mock.Anything).Return(targets, nil).Once()
	snap := func(id string) Snapshot {
		return Snapshot{Taken: time.Now(), Full: true, Servers: []CloudServer{{BackendID: "srv-" + id}}}
	}
	env.OnActivity(backend.PullOpenStackTenant, mock.Anything, PullOpenStackTenantInput{BackendID: "p-a"}).Return(snap("a"), nil).Once()
	env.OnActivity(backend.PullOpenStackTenant, mock.Anything, PullOpenStackTenantInput{BackendID: "p-b"}).
		Return(Snapshot{}, temporal.NewApplicationError("cloud down", "Unavailable")).Times(3)
	env.OnActivity(backend.PullOpenStackTenant, mock.Anything, PullOpenStackTenantInput{BackendID: "p-c"}).
		Return(Snapshot{}, errors.New("timeout")).Once()
	env.OnActivity(backend.PullOpenStackTenant, mock.Anything, PullOpenStackTenantInput{BackendID: "p-c"}).Return(snap("c"), nil).Once()
	env.OnActivity(pull.ApplyOpenStackSnapshot, mock.Anything, mock.MatchedBy(func(in ApplyOpenStackSnapshotInput) bool {
		return in.TenantUUID == targets[0].UUID && in.Snapshot.Servers[0].BackendID == "srv-a"
	})).Return(PullReport{Imported: []string{"stray"}}, nil).Once()
	env.OnActivity(pull.ApplyOpenStackSnapshot, mock.Anything, mock.MatchedBy(func(in ApplyOpenStackSnapshotInput) bool {
		return in.TenantUUID == targets[2].UUID
	})).Return(PullReport{Erred: []string{"vm"}}, nil).Once()
	env.ExecuteWorkflow(PullOpenStack, PullOpenStackInput{Parallel: 2})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res PullOpenStackResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, PullOpenStackResult{Tenants: 3, Failed: []string{"b"}, Erred: []string{"vm"}, Imported: []string{"stray"}}, res)
	env.AssertExpectations(t)
}

func TestOpenStackPullSchedule(t *testing.T) {
	require.Equal(t, "waldur-openstack-pull", PullSchedule.ID)
	require.Equal(t, workflows.QueueCore, PullSchedule.TaskQueue)
	require.Equal(t, []any{PullOpenStackInput{}}, PullSchedule.Args)
}
