package workflows

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models/store"
)

// DeliverEventHooksInput is the input of DeliverEventHooks (one event).
type DeliverEventHooksInput = activities.DeliverEventHooksInput

// DeliverEventHooksResult is what DeliverEventHooks returns.
type DeliverEventHooksResult = activities.DeliverEventHooksResult

// HookOptions are the timeouts and retry policies of the hook deliveries.
type HookOptions struct {
	// Delivery is the retry policy of each web or email delivery.
	Delivery temporal.RetryPolicy
	// DeliveryStartToClose bounds one attempt; DeliveryScheduleToClose all
	// attempts of one delivery together.
	DeliveryStartToClose, DeliveryScheduleToClose time.Duration
	// Database is the retry policy of the steps that only touch the
	// database (matching and marking): they retry until the database answers.
	Database temporal.RetryPolicy
}

// DefaultHookOptions are the production policies: a delivery is retried
// after 1 s, 2 s, 4 s, … (at most 5 min apart), 10 attempts at most, all
// within 24 h; a 4xx refusal other than 408/429 is not retried.
func DefaultHookOptions() HookOptions {
	return HookOptions{
		Delivery: temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
			MaximumAttempts:    10,
		},
		DeliveryStartToClose:    time.Minute,
		DeliveryScheduleToClose: 24 * time.Hour,
		Database: temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	}
}

// DeliverEventHooks delivers one event to every hook that wants it: it
// matches the hooks (MatchHooks), runs one delivery per hook in parallel
// (DeliverWebHook or SendEmailHook, each with its own retries), waits for
// all of them, and finally marks the event dispatched (MarkDispatched).
// A delivery that gives up is counted as failed and does not fail the
// workflow. Its workflow ID is event-hooks-<event uuid>; the production
// registration is under the name "DeliverEventHooks" with DefaultHookOptions.
func DeliverEventHooks(ctx workflow.Context, in DeliverEventHooksInput) (DeliverEventHooksResult, error) {
	return deliverEventHooks(ctx, in, DefaultHookOptions())
}

func deliverEventHooks(ctx workflow.Context, in DeliverEventHooksInput, o HookOptions) (DeliverEventHooksResult, error) {
	log := workflow.GetLogger(ctx)
	var a *activities.Hooks
	dbCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &o.Database,
	})
	var hooks []activities.MatchedHook
	if err := workflow.ExecuteActivity(dbCtx, a.MatchHooks, in.EventID).Get(ctx, &hooks); err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == activities.ErrEventNotFound {
			log.Warn("event to deliver is gone", "event_id", in.EventID)
			return DeliverEventHooksResult{}, nil
		}
		return DeliverEventHooksResult{}, err
	}

	deliveryCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    o.DeliveryStartToClose,
		ScheduleToCloseTimeout: o.DeliveryScheduleToClose,
		RetryPolicy:            &o.Delivery,
	})
	res := DeliverEventHooksResult{Matched: len(hooks)}
	futures := make([]workflow.Future, len(hooks))
	for i, h := range hooks {
		switch h.Type {
		case store.HookTypeWeb:
			futures[i] = workflow.ExecuteActivity(deliveryCtx, a.DeliverWebHook, h.ID, in.EventID)
		case store.HookTypeEmail:
			futures[i] = workflow.ExecuteActivity(deliveryCtx, a.SendEmailHook, h.ID, in.EventID)
		}
	}
	for i, f := range futures {
		if f == nil {
			log.Warn("unknown hook type", "hook_id", hooks[i].ID, "type", hooks[i].Type)
			res.Failed++
			continue
		}
		if err := f.Get(ctx, nil); err != nil {
			log.Warn("hook delivery failed", "hook_id", hooks[i].ID, "event_id", in.EventID, "error", err)
			res.Failed++
			continue
		}
		res.Delivered++
	}

	if err := workflow.ExecuteActivity(dbCtx, a.MarkDispatched, in.EventID).Get(ctx, nil); err != nil {
		return res, err
	}
	return res, nil
}

// DispatchEventsInput is the input of DispatchEvents.
type DispatchEventsInput struct {
	// Limit is the batch size (default 100).
	Limit int
}

// DispatchEvents relays the events whose hooks were not dispatched yet
// (the transactional outbox) to DeliverEventHooks workflows. The core
// worker runs it every minute from EventDispatchSchedule.
func DispatchEvents(ctx workflow.Context, in DispatchEventsInput) (activities.DispatchResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    10 * time.Second,
			MaximumAttempts:    3,
		},
	})
	var a *activities.Hooks
	var res activities.DispatchResult
	err := workflow.ExecuteActivity(ctx, a.DispatchPendingEvents, in.Limit).Get(ctx, &res)
	return res, err
}

// EventDispatchSchedule runs DispatchEvents every minute on the core queue.
var EventDispatchSchedule = Schedule{
	ID:        "waldur-event-dispatch",
	Cron:      "* * * * *",
	Workflow:  DispatchEvents,
	Args:      []any{DispatchEventsInput{}},
	TaskQueue: QueueCore,
	Note:      "Starts the hook deliveries of new events (the events outbox).",
}

// DispatchPendingEvents starts the DeliverEventHooks workflow on the core
// queue for each pending event (see activities.DispatchPendingEvents); a
// second start of the same event is a no-op.
func DispatchPendingEvents(ctx context.Context, c client.Client, st *store.Store, limit int) (activities.DispatchResult, error) {
	return activities.DispatchPendingEvents(ctx, c, st, QueueCore, limit)
}

// RegisterHooks registers the hook workflows (DeliverEventHooks,
// DispatchEvents) and activities (MatchHooks, DeliverWebHook,
// SendEmailHook, MarkDispatched, DispatchPendingEvents) on a worker of the
// core queue, with the production policies.
func RegisterHooks(w worker.Registry, a *activities.Hooks) {
	RegisterHooksWithOptions(w, a, DefaultHookOptions())
}

// RegisterHooksWithOptions is RegisterHooks with other delivery policies (tests).
func RegisterHooksWithOptions(w worker.Registry, a *activities.Hooks, o HookOptions) {
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, in DeliverEventHooksInput) (DeliverEventHooksResult, error) {
		return deliverEventHooks(ctx, in, o)
	}, workflow.RegisterOptions{Name: activities.DeliverEventHooksWorkflow})
	w.RegisterWorkflow(DispatchEvents)
	w.RegisterActivity(a)
}
