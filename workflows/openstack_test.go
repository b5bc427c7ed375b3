package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// TestPullOpenStack: every tenant is read and its snapshot recorded; a
// tenant whose cloud keeps failing is reported and does not stop the
// others; a read that fails once is retried.
func TestPullOpenStack(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	pull, backend := &activities.OpenStackPull{}, &activities.OpenStackBackend{}
	workflows.RegisterOpenStackCore(env, pull)
	workflows.RegisterOpenStackBackend(env, backend)
	targets := []store.OpenStackPullTarget{{UUID: models.NewUUID(), Name: "a", BackendID: "p-a"}, {UUID: models.NewUUID(), Name: "b", BackendID: "p-b"},
		{UUID: models.NewUUID(), Name: "c", BackendID: "p-c"}}
	env.OnActivity(pull.ListOpenStackTenants, mock.Anything).Return(targets, nil).Once()
	snap := func(id string) models.OpenStackSnapshot {
		return models.OpenStackSnapshot{Taken: time.Now(), Full: true, Servers: []models.OpenStackServer{{BackendID: "srv-" + id}}}
	}
	env.OnActivity(backend.PullOpenStackTenant, mock.Anything, activities.PullOpenStackTenantInput{BackendID: "p-a"}).Return(snap("a"), nil).Once()
	env.OnActivity(backend.PullOpenStackTenant, mock.Anything, activities.PullOpenStackTenantInput{BackendID: "p-b"}).
		Return(models.OpenStackSnapshot{}, temporal.NewApplicationError("cloud down", "Unavailable")).Times(3)
	env.OnActivity(backend.PullOpenStackTenant, mock.Anything, activities.PullOpenStackTenantInput{BackendID: "p-c"}).
		Return(models.OpenStackSnapshot{}, errors.New("timeout")).Once()
	env.OnActivity(backend.PullOpenStackTenant, mock.Anything, activities.PullOpenStackTenantInput{BackendID: "p-c"}).Return(snap("c"), nil).Once()
	env.OnActivity(pull.ApplyOpenStackSnapshot, mock.Anything, mock.MatchedBy(func(in activities.ApplyOpenStackSnapshotInput) bool {
		return in.TenantUUID == targets[0].UUID && in.Snapshot.Servers[0].BackendID == "srv-a"
	})).Return(store.OpenStackPullReport{Imported: []string{"stray"}}, nil).Once()
	env.OnActivity(pull.ApplyOpenStackSnapshot, mock.Anything, mock.MatchedBy(func(in activities.ApplyOpenStackSnapshotInput) bool {
		return in.TenantUUID == targets[2].UUID
	})).Return(store.OpenStackPullReport{Erred: []string{"vm"}}, nil).Once()
	env.ExecuteWorkflow(workflows.PullOpenStack, workflows.PullOpenStackInput{Parallel: 2})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.PullOpenStackResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.PullOpenStackResult{Tenants: 3, Failed: []string{"b"}, Erred: []string{"vm"}, Imported: []string{"stray"}}, res)
	env.AssertExpectations(t)
}

func TestOpenStackPullSchedule(t *testing.T) {
	require.Equal(t, "waldur-openstack-pull", workflows.OpenStackPullSchedule.ID)
	require.Equal(t, workflows.QueueCore, workflows.OpenStackPullSchedule.TaskQueue)
	require.Equal(t, []any{workflows.PullOpenStackInput{}}, workflows.OpenStackPullSchedule.Args)
}
