package openstack

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/workflows"
)

// The core half of the pull: the workflow and its database activities, on
// the core queue; the cloud read is PullBackend's, on the openstack queue.

// PullSchedule runs PullOpenStack every ten minutes (Waldur's
// tenant_resources_list_pull_task, tenant_properties_list_pull_task and
// create-resources-for-lost-instances-and-volumes in one job; the server
// groups, snapshots and RBAC policies too: pull_storage.go).
var PullSchedule = workflows.Schedule{
	ID:        "waldur-openstack-pull",
	Cron:      "*/10 * * * *",
	Workflow:  PullOpenStack,
	Args:      []any{PullOpenStackInput{}},
	TaskQueue: workflows.QueueCore,
	Note:      "Pulls every OpenStack tenant: catalog, quotas, instance and volume states, server groups, snapshots, network RBAC policies; errs what was deleted behind Waldur's back, imports what Waldur does not know.",
}

// registerCore registers the pull workflow and its database
// activities on a core-queue worker.
func registerCore(w worker.Registry, a *PullCore) {
	w.RegisterWorkflow(PullOpenStack)
	w.RegisterActivity(a)
}

// registerBackend registers the pull's cloud activity on an
// OpenStack-queue worker.
func registerBackend(w worker.Registry, a *PullBackend) {
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
		TaskQueue:           Queue,
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 3},
	})
	var pull *PullCore
	var backend *PullBackend
	var targets []PullTarget
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
				PullOpenStackTenantInput{SecretOptions: t.SecretOptions, BackendID: t.BackendID})
		}
		for i, t := range batch {
			var snap Snapshot
			if err := futures[i].Get(ctx, &snap); err != nil {
				workflow.GetLogger(ctx).Warn("OpenStack pull failed", "tenant", t.UUID.String(), "error", err)
				res.Failed = append(res.Failed, t.Name)
				continue
			}
			var rep PullReport
			if err := workflow.ExecuteActivity(dbCtx, pull.ApplyOpenStackSnapshot,
				ApplyOpenStackSnapshotInput{TenantUUID: t.UUID, Snapshot: snap}).Get(ctx, &rep); err != nil {
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

// PullCore holds the database side of the OpenStack pull (core queue).
type PullCore struct {
	Store *Store
}

// ListOpenStackTenants lists the tenants to pull.
func (a *PullCore) ListOpenStackTenants(ctx context.Context) ([]PullTarget, error) {
	return a.Store.TenantsToPull(ctx)
}

// ApplyOpenStackSnapshotInput is the input of ApplyOpenStackSnapshot.
type ApplyOpenStackSnapshotInput struct {
	TenantUUID models.UUID
	Snapshot   Snapshot
}

// ApplyOpenStackSnapshot records what a pull read (Store.ApplyPull).
func (a *PullCore) ApplyOpenStackSnapshot(ctx context.Context, in ApplyOpenStackSnapshotInput) (PullReport, error) {
	rep, err := a.Store.ApplyPull(ctx, in.TenantUUID, in.Snapshot)
	return rep, activities.Classify(err)
}
