package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/openstack"
)

// OpenStackPullSchedule runs PullOpenStack every ten minutes (Waldur's
// tenant_resources_list_pull_task, tenant_properties_list_pull_task and
// create-resources-for-lost-instances-and-volumes in one job).
var OpenStackPullSchedule = Schedule{
	ID:        "waldur-openstack-pull",
	Cron:      "*/10 * * * *",
	Workflow:  PullOpenStack,
	Args:      []any{PullOpenStackInput{}},
	TaskQueue: QueueCore,
	Note:      "Pulls every OpenStack tenant: catalog, quotas, instance and volume states; errs what was deleted behind Waldur's back, imports what Waldur does not know.",
}

// RegisterOpenStackCore registers the pull workflow and its database
// activities on a core-queue worker.
func RegisterOpenStackCore(w worker.Registry, a *activities.OpenStackPull) {
	w.RegisterWorkflow(PullOpenStack)
	w.RegisterActivity(a)
}

// RegisterOpenStackBackend registers the pull's cloud activity on an
// OpenStack-queue worker.
func RegisterOpenStackBackend(w worker.Registry, a *activities.OpenStackBackend) {
	w.RegisterActivity(a)
}

// PullOpenStackInput is the input of PullOpenStack.
type PullOpenStackInput struct {
	// Parallel bounds the tenants read at once (0: 8).
	Parallel int
}

// PullOpenStackResult is what PullOpenStack returns.
type PullOpenStackResult struct {
	Tenants  int
	Failed   []string // tenants whose pull failed (left for the next run)
	Erred    []string // plugin resources found erred or gone
	Imported []string // servers and volumes imported
}

// PullOpenStack reads every tenant from its cloud (an activity on the
// openstack queue, near the cloud) and records the snapshot (an activity
// on the core queue, near the database), a few tenants at a time. A tenant
// whose pull fails is reported and left for the next run; it does not stop
// the others.
func PullOpenStack(ctx workflow.Context, in PullOpenStackInput) (PullOpenStackResult, error) {
	var res PullOpenStackResult
	dbCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
	})
	cloudCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           openstack.Queue,
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 3},
	})
	var pull *activities.OpenStackPull
	var backend *activities.OpenStackBackend
	var targets []store.OpenStackPullTarget
	if err := workflow.ExecuteActivity(dbCtx, pull.ListOpenStackTenants).Get(ctx, &targets); err != nil {
		return res, err
	}
	res.Tenants = len(targets)
	parallel := in.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	for start := 0; start < len(targets); start += parallel {
		batch := targets[start:min(start+parallel, len(targets))]
		futures := make([]workflow.Future, len(batch))
		for i, t := range batch {
			futures[i] = workflow.ExecuteActivity(cloudCtx, backend.PullOpenStackTenant,
				activities.PullOpenStackTenantInput{SecretOptions: t.SecretOptions, BackendID: t.BackendID})
		}
		for i, t := range batch {
			var snap models.OpenStackSnapshot
			if err := futures[i].Get(ctx, &snap); err != nil {
				workflow.GetLogger(ctx).Warn("OpenStack pull failed", "tenant", t.UUID.String(), "error", err)
				res.Failed = append(res.Failed, t.Name)
				continue
			}
			var rep store.OpenStackPullReport
			if err := workflow.ExecuteActivity(dbCtx, pull.ApplyOpenStackSnapshot,
				activities.ApplyOpenStackSnapshotInput{TenantUUID: t.UUID, Snapshot: snap}).Get(ctx, &rep); err != nil {
				workflow.GetLogger(ctx).Warn("recording an OpenStack pull failed", "tenant", t.UUID.String(), "error", err)
				res.Failed = append(res.Failed, t.Name)
				continue
			}
			res.Erred = append(res.Erred, rep.Erred...)
			res.Imported = append(res.Imported, rep.Imported...)
		}
	}
	workflow.GetLogger(ctx).Info("OpenStack pulled", "tenants", res.Tenants, "failed", len(res.Failed), "erred", len(res.Erred), "imported", len(res.Imported))
	return res, nil
}
