package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// RegisterOrders registers the order workflow, the resource pull, their
// database activities and the outbox dispatcher on the core queue.
func RegisterOrders(w worker.Registry, a *activities.Orders, d *OrderDispatcher) {
	w.RegisterWorkflow(OrderWorkflow)
	w.RegisterWorkflow(ResourcePull)
	w.RegisterActivity(a)
	w.RegisterWorkflow(DispatchOrders)
	w.RegisterActivity(d)
}

// RegisterProvision registers the provider activity on a provider's queue.
func RegisterProvision(w worker.Registry, p *activities.Provision) { w.RegisterActivity(p) }

// SetOrderPolicies replaces the order workflow's policies (tests shorten them).
func SetOrderPolicies(p OrderPolicies) { orderPolicies = p }

// StartOrder starts the order's workflow if it is not running yet. Starting
// it again is a no-op, so the API (right after the order is committed) and
// the dispatcher (for every order whose start was missed) may both call it.
func StartOrder(ctx context.Context, c client.Client, id models.UUID) error {
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       OrderWorkflowID(id),
		TaskQueue:                QueueCore,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// In one process (serve, or an API replica that also runs the core
		// queue) the first workflow task comes back with the start's answer
		// instead of through matching; elsewhere this is a plain start.
		EnableEagerStart: true,
	}, OrderWorkflow, OrderInput{OrderUUID: id})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start %s: %w", OrderWorkflowID(id), err)
	}
	return nil
}

// OrderDispatcher is the outbox relay: it starts the workflow of every
// order committed without one (Temporal was down, or the API process died
// between commit and start) and marks it started.
type OrderDispatcher struct {
	Store    *store.Store
	Temporal client.Client // nil: the client of the worker running the activity
}

// DispatchPendingOrders starts up to limit missing order workflows and
// returns how many it started or found running.
func (d *OrderDispatcher) DispatchPendingOrders(ctx context.Context, limit int) (int, error) {
	c := d.Temporal
	if c == nil {
		c = activity.GetClient(ctx)
	}
	orders, err := d.Store.PendingWorkflowOrders(ctx, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	oc := OrderClient{Client: c, Store: d.Store}
	for _, o := range orders {
		if err := oc.Start(ctx, OrderRef{UUID: o.UUID, ID: o.ID}); err != nil {
			return n, err
		}
		n++
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, n)
		}
	}
	return n, nil
}

// DispatchOrders runs the dispatcher once (from OrderDispatchSchedule and at start-up).
func DispatchOrders(ctx workflow.Context) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute, HeartbeatTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 5},
	})
	var d *OrderDispatcher
	var n int
	err := workflow.ExecuteActivity(ctx, d.DispatchPendingOrders, 500).Get(ctx, &n)
	return n, err
}

// OrderDispatchSchedule relays missed order starts every minute.
var OrderDispatchSchedule = Schedule{
	ID: "waldur-order-dispatch", Cron: "* * * * *", Workflow: DispatchOrders, TaskQueue: QueueCore,
	Note: "Starts the workflow of every accepted order that has none (transactional outbox).",
}
