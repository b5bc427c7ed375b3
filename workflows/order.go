package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// OrderWorkflowID is the workflow of an order: one per order, its ID
// derived from the order, which makes it the order's lock.
func OrderWorkflowID(id models.UUID) string { return "order-" + id.String() }

// OrderInput is the input of OrderWorkflow.
type OrderInput struct {
	OrderUUID models.UUID
}

// UpdateOrderEvent is the name of the Temporal Update that carries a review
// or state event to an order (approve_by_consumer, approve_by_provider,
// reject_by_*, cancel, set_state_executing, set_state_done, set_state_erred).
// The API sends it and waits for the result: the order's new state.
const UpdateOrderEvent = "order-event"

// OrderAction is the argument of UpdateOrderEvent.
type OrderAction = marketplace.Action

// OrderPolicies are the retry policies and timeouts of the order workflow.
type OrderPolicies struct {
	// DB is for database activities: retried until they succeed (the
	// database coming back is only a matter of time).
	DB *temporal.RetryPolicy
	// Provider is for the backend call.
	Provider *temporal.RetryPolicy
	// ProviderTimeout bounds one backend attempt; HeartbeatTimeout detects a dead worker.
	ProviderTimeout, HeartbeatTimeout time.Duration
}

// DefaultOrderPolicies are the production policies: a backend call is tried
// for up to a day (1 s doubling to 10 min between attempts), each attempt
// bounded to an hour and declared dead after a minute without heartbeat.
func DefaultOrderPolicies() OrderPolicies {
	return OrderPolicies{
		DB:               &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Provider:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute, MaximumAttempts: 50},
		ProviderTimeout:  time.Hour,
		HeartbeatTimeout: time.Minute,
	}
}

// orderPolicies is set by RegisterOrders (tests shorten it).
var orderPolicies = DefaultOrderPolicies()

// OrderWorkflow drives one order from its first state to a final one:
// it waits (as long as it takes) for the reviews, runs the provider's
// activity on the provider's task queue, and records the result. Reviews
// and state changes arrive as Updates, validated against the order's state
// before they are accepted; the database is written only by activities. If
// the backend call fails for good, the order is failed and its resource
// compensated (terminated when nothing was created, erred otherwise).
func OrderWorkflow(ctx workflow.Context, in OrderInput) (models.OrderState, error) {
	pol := orderPolicies
	// Database steps are local activities: they run in the worker that runs
	// this workflow (the core worker, which has the database) without a
	// round trip through the server's task queues; their results are still
	// recorded in the history, so a replay never repeats them.
	dbCtx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second, RetryPolicy: pol.DB})
	var orders *activities.Orders

	var snap activities.OrderSnapshot
	loaded := false
	var state models.OrderState
	provisioning := false
	waitingForProvider := false // a manual provider (Basic, Slurm agent) finishes the order through the API

	// check is the validation of an action against the order's current state.
	check := func(a OrderAction) error {
		if provisioning {
			return temporalclient.Busy("Order is being processed by its provider; try again when it is done.")
		}
		if a.Event == "set_state_done" && !waitingForProvider {
			return temporalclient.Busy("Valid states for operation: executing (waiting for the provider).")
		}
		_, err := models.OrderTransition(a.Event, state)
		return temporalclient.Coded(err) // invalid (an unknown event) or conflict (a wrong state)
	}
	// mayResync: a refused action may be one the database is already ready
	// for, because a transition it recorded was lost on Temporal's side (an
	// Update whose database step committed, in a workflow task that died
	// with the server before it was recorded). When the caller saw the
	// order in another state than the workflow's, the handler reads the
	// state back and adopts it (see resync) before it decides. Unknown
	// events and a running provider step are refused as they are.
	mayResync := func(a OrderAction, err error) bool {
		if err == nil || provisioning || a.Seen == "" || a.Seen == state {
			return false
		}
		e, ok := temporalclient.Decode(err)
		return !ok || e.Code != models.CodeInvalid
	}
	// resync reads the order's state from the database and, when the
	// database is ahead (the workflow's transitions are the only ones the
	// order has, so it is never behind), takes it over: the main loop then
	// goes on from there as if the lost Update had been recorded.
	resync := func(ctx workflow.Context) error {
		var now activities.OrderSnapshot
		if err := workflow.ExecuteLocalActivity(dbCtx, orders.LoadOrder, in.OrderUUID).Get(ctx, &now); err != nil {
			return err
		}
		if now.State != state {
			workflow.GetLogger(ctx).Warn("order state taken over from the database", "workflow", state, "database", now.State)
			state = now.State
		}
		return nil
	}
	// The handler is registered before anything blocks, so an Update sent
	// right after the workflow starts is never lost; it waits for the order
	// to load and is validated then.
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateOrderEvent,
		func(ctx workflow.Context, a OrderAction) (models.OrderState, error) {
			if err := workflow.Await(ctx, func() bool { return loaded }); err != nil {
				return state, err
			}
			err := check(a)
			if mayResync(a, err) && workflow.GetVersion(ctx, "order-resync", workflow.DefaultVersion, 1) == 1 {
				if err := resync(ctx); err != nil {
					return state, err
				}
				err = check(a)
			}
			if err != nil {
				return state, err
			}
			if a.Event == "set_state_done" {
				err := workflow.ExecuteLocalActivity(dbCtx, orders.CompleteOrder, activities.CompleteOrderInput{OrderUUID: in.OrderUUID}).Get(ctx, nil)
				if err != nil {
					return state, err
				}
				state = models.OrderDone
				return state, nil
			}
			var next models.OrderState
			ev := store.OrderEvent{OrderUUID: in.OrderUUID, Event: a.Event, ActorID: a.ActorID, Message: a.Message, From: state}
			if err := workflow.ExecuteLocalActivity(dbCtx, orders.ApplyOrderEvent, ev).Get(ctx, &next); err != nil {
				return state, err
			}
			state = next
			return state, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, a OrderAction) error {
			if !loaded {
				return nil // validated by the handler once the order is loaded
			}
			if err := check(a); err != nil && !mayResync(a, err) {
				return err
			}
			return nil
		}},
	)
	if err != nil {
		return "", err
	}
	if err := workflow.ExecuteLocalActivity(dbCtx, orders.LoadOrder, in.OrderUUID).Get(ctx, &snap); err != nil {
		return "", err
	}
	state, loaded = snap.State, true
	// Index the order for the Web UI (the attributes are registered at start-up).
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		SAOrderUUID.ValueSet(in.OrderUUID.String()),
		SACustomerUUID.ValueSet(snap.Request.CustomerUUID.String()),
		SAProjectUUID.ValueSet(snap.Request.ProjectUUID.String()),
		SAOfferingType.ValueSet(snap.OfferingType),
		SAOrderState.ValueSet(string(state))); err != nil {
		return "", err
	}
	lastIndexed := state

	provCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           snap.Queue,
		StartToCloseTimeout: pol.ProviderTimeout,
		HeartbeatTimeout:    pol.HeartbeatTimeout,
		RetryPolicy:         pol.Provider,
	})
	provisioned := false
	for !state.Terminal() {
		if state != models.OrderExecuting || provisioned {
			// Wait for a review, a cancellation, or (manual providers) completion.
			before := state
			if err := workflow.Await(ctx, func() bool { return state != before }); err != nil {
				return state, err
			}
			if state != lastIndexed {
				if err := workflow.UpsertTypedSearchAttributes(ctx, SAOrderState.ValueSet(string(state))); err != nil {
					return state, err
				}
				lastIndexed = state
			}
			continue
		}
		provisioning = true
		var res providers.Result
		var prov *activities.Provision
		err := workflow.ExecuteActivity(provCtx, prov.ProvisionOrder, snap.Request).Get(ctx, &res)
		provisioning = false
		provisioned = true
		if err != nil {
			// Compensation: the order fails and its resource is cleaned up.
			msg, output := FailureOf(err)
			if ferr := workflow.ExecuteLocalActivity(dbCtx, orders.FailOrder, activities.FailOrderInput{OrderUUID: in.OrderUUID, Message: msg, Output: output}).Get(ctx, nil); ferr != nil {
				return state, ferr
			}
			state = models.OrderErred
			break
		}
		if !res.Done {
			waitingForProvider = true
			continue
		}
		if err := workflow.ExecuteLocalActivity(dbCtx, orders.CompleteOrder, activities.CompleteOrderInput{OrderUUID: in.OrderUUID, Result: res}).Get(ctx, nil); err != nil {
			return state, err
		}
		state = models.OrderDone
	}
	// Let accepted updates finish before the workflow closes.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return state, err
	}
	if state != lastIndexed {
		if err := workflow.UpsertTypedSearchAttributes(ctx, SAOrderState.ValueSet(string(state))); err != nil {
			return state, err
		}
	}
	return state, nil
}

// FailureOf is the error message and output of a failed activity (an
// order's provisioning, a plugin's action): the provider's own message (not
// Temporal's wrapping) and what the backend printed, carried as the
// application error's details.
func FailureOf(err error) (msg, output string) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if appErr.HasDetails() {
			_ = appErr.Details(&output)
		}
		return appErr.Message(), output
	}
	return err.Error(), ""
}
