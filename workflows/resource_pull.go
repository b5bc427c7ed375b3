package workflows

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// ResourcePullWorkflowID is the pull of one resource: one at a time, so a
// second pull action while one runs joins it (nothing is read twice).
func ResourcePullWorkflowID(resource models.UUID) string { return "resource-pull-" + resource.String() }

// ResourcePullInput is the input of ResourcePull.
type ResourcePullInput struct {
	ResourceUUID models.UUID
}

// resourcePullPolicy: a pull is tried for up to ten minutes (1 s doubling
// to a minute between attempts), each attempt bounded to five.
var resourcePullPolicy = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}

// ResourcePull refreshes a resource from its backend (the API's pull
// action, Waldur's ResourcePullExecutor): the provider's Pull runs on its
// queue; its metadata is recorded with the sync time and an Erred resource
// comes back to OK; a pull that fails for good marks the resource Erred
// with the provider's message. A resource that left OK and Erred before
// the backend was read is not pulled.
func ResourcePull(ctx workflow.Context, in ResourcePullInput) error {
	var orders *activities.Orders
	dbCtx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second, RetryPolicy: orderPolicies.DB})
	var snap activities.ResourcePullSnapshot
	if err := workflow.ExecuteLocalActivity(dbCtx, orders.LoadResourcePull, in.ResourceUUID).Get(ctx, &snap); err != nil {
		return err
	}
	if !snap.Pullable {
		return nil
	}
	provCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              snap.Queue,
		ScheduleToCloseTimeout: 10 * time.Minute,
		StartToCloseTimeout:    5 * time.Minute,
		RetryPolicy:            resourcePullPolicy,
	})
	var prov *activities.Provision
	var res providers.Result
	out := activities.RecordPullInput{ResourceUUID: in.ResourceUUID}
	if err := workflow.ExecuteActivity(provCtx, prov.PullResource, snap.Request).Get(ctx, &res); err != nil {
		out.Pulled.Error, _ = FailureOf(err)
	} else {
		out.Pulled.Metadata = res.Metadata
	}
	return workflow.ExecuteLocalActivity(dbCtx, orders.RecordResourcePull, out).Get(ctx, nil)
}

// StartResourcePull starts the pull of a resource, or joins the one
// running (WorkflowIDConflictPolicy USE_EXISTING); it does not wait for it.
func StartResourcePull(ctx context.Context, c client.Client, id models.UUID) error {
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       ResourcePullWorkflowID(id),
		TaskQueue:                QueueCore,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A pull is best-effort: one the database or the backend holds up
		// for half an hour gives way to the next.
		WorkflowExecutionTimeout: 30 * time.Minute,
	}, ResourcePull, ResourcePullInput{ResourceUUID: id})
	if err != nil {
		return fmt.Errorf("start %s: %w", ResourcePullWorkflowID(id), err)
	}
	return nil
}

// StopOrders terminates the workflows of orders whose rows are gone (a
// resource unlinked by staff), best-effort: an order whose workflow has
// ended or never started is no error.
func StopOrders(ctx context.Context, c client.Client, ids []models.UUID, reason string) {
	for _, id := range ids {
		_ = c.TerminateWorkflow(ctx, OrderWorkflowID(id), "", reason)
	}
}
