package openstack

import (
	"context"
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/workflows"
)

// The pull of one object (Waldur's pull, pull_quotas,
// pull_security_groups and pull_floating_ips of a tenant; pull of an
// instance or a volume): the object's tenant is read from its cloud
// (PullOpenStackTenant on the openstack queue) and the snapshot recorded
// (ApplyOpenStackSnapshot), as the every-ten-minutes pull does for every
// tenant. Its workflow id is the object's (ActionWorkflowID(kind, uuid,
// "pull")): one pull of an object at a time.

// ErrPullRunning is what startPull answers when the object's pull runs.
var ErrPullRunning = errors.New("the pull of the object runs already")

// OpenStackPullObject pulls the tenant of one object and records what it
// read; the object's state does not change (a pull of an erred object
// that finds it well records what it found, as the periodic pull does).
func OpenStackPullObject(ctx workflow.Context, in ActionInput) (PullReport, error) {
	dbCtx := workflow.WithActivityOptions(ctx, actionPolicies.DB)
	cloud := actionPolicies.Cloud
	cloud.StartToCloseTimeout, cloud.HeartbeatTimeout = 5*time.Minute, 0
	cloud.RetryPolicy = &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 3}
	var core *ActionCore
	var pull *PullCore
	var backend *PullBackend
	var t PullTarget
	if err := workflow.ExecuteActivity(dbCtx, core.ResolveOpenStackPull, in).Get(ctx, &t); err != nil {
		return PullReport{}, err
	}
	var snap Snapshot
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, cloud), backend.PullOpenStackTenant,
		PullOpenStackTenantInput{SecretOptions: t.SecretOptions, BackendID: t.BackendID}).Get(ctx, &snap); err != nil {
		return PullReport{}, err
	}
	var rep PullReport
	err := workflow.ExecuteActivity(dbCtx, pull.ApplyOpenStackSnapshot, ApplyOpenStackSnapshotInput{TenantUUID: t.UUID, Snapshot: snap}).Get(ctx, &rep)
	return rep, err
}

// ResolveOpenStackPull names the tenant of the object to pull, with its
// offering's secret options. Codes: not_found; invalid when the tenant has
// no project in the cloud.
func (a *ActionCore) ResolveOpenStackPull(ctx context.Context, in ActionInput) (PullTarget, error) {
	o, err := a.Store.ActionObjectByUUID(ctx, in.Kind, in.UUID)
	if err != nil {
		return PullTarget{}, activities.Classify(err)
	}
	t, err := a.Store.TenantByID(ctx, o.TenantID)
	if err != nil {
		return PullTarget{}, activities.Classify(err)
	}
	if t.BackendID == "" {
		return PullTarget{}, activities.Classify(models.Errorf(models.CodeInvalid, "Tenant %s has no project in the cloud.", t.Name))
	}
	secrets, err := a.Store.TenantSecrets(ctx, t.ID)
	if err != nil {
		return PullTarget{}, activities.Classify(err)
	}
	return PullTarget{UUID: t.UUID, Name: t.Name, BackendID: t.BackendID, SecretOptions: secrets}, nil
}

// startPull starts an object's pull; ErrPullRunning when it runs already.
func startPull(ctx context.Context, tc client.Client, k Kind, id models.UUID) error {
	if tc == nil {
		return models.Errorf(models.CodeUnavailable, "%s", workflows.MsgTemporalUnavailable)
	}
	_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ActionWorkflowID(k, id, "pull"), TaskQueue: workflows.QueueCore,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowExecutionTimeout:                 30 * time.Minute}, OpenStackPullObject, ActionInput{Kind: k, UUID: id, Action: "pull"})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		return ErrPullRunning
	case err != nil:
		return models.Errorf(models.CodeUnavailable, "%s", workflows.MsgTemporalUnavailable)
	}
	return nil
}
