package openstack

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/workflows"
)

// The core half of the objects' actions: the workflow that runs one action
// on one object, its database activities (core queue), the dispatcher that
// starts what a dead process scheduled but did not start, and the read
// workflow of console_log. The cloud side is RunAction (actions_backend.go),
// on the openstack queue.

// ActionInput names one action on one object.
type ActionInput struct {
	Kind   Kind
	UUID   models.UUID
	Action string
	// Length is a console_log read's number of lines (0: all).
	Length int `json:",omitempty"`
}

// ActionWorkflowID is the id of an object's action's run: one object, one
// action, one run at a time (a second start while it runs is refused).
func ActionWorkflowID(k Kind, id models.UUID, action string) string {
	return fmt.Sprintf("openstack-%s-%s-%s", k, id, action)
}

// ActionDispatchSchedule starts, every two minutes, the runs of actions
// scheduled by a process that died (or could not reach Temporal) before it
// started them.
var ActionDispatchSchedule = workflows.Schedule{
	ID:        "waldur-openstack-actions",
	Cron:      "*/2 * * * *",
	Workflow:  DispatchOpenStackActions,
	TaskQueue: workflows.QueueCore,
	Note:      "Starts the runs of OpenStack object actions (start, stop, resize, extend, attach, ...) and tenant migrations that were scheduled but not started.",
}

// actionPolicies are the activities' options; tests shorten them.
var actionPolicies = struct {
	DB, Cloud workflow.ActivityOptions
}{
	DB: workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second}},
	Cloud: workflow.ActivityOptions{TaskQueue: Queue, StartToCloseTimeout: 45 * time.Minute, HeartbeatTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			MaximumAttempts: 6}},
}

// OpenStackAction runs one action on one object: begin (UPDATE_SCHEDULED →
// UPDATING; nothing to do when the object is not scheduled for it), the
// cloud call on the openstack queue, then finish (OK, with what the cloud
// read back) or fail (ERRED, with the message). Every step is idempotent,
// so a worker killed at any point resumes without acting twice.
func OpenStackAction(ctx workflow.Context, in ActionInput) error {
	dbCtx := workflow.WithActivityOptions(ctx, actionPolicies.DB)
	cloudCtx := workflow.WithActivityOptions(ctx, actionPolicies.Cloud)
	var core *ActionCore
	var begun BegunAction
	if err := workflow.ExecuteActivity(dbCtx, core.BeginOpenStackAction, in).Get(ctx, &begun); err != nil {
		return err
	}
	if !begun.OK {
		return nil
	}
	var res ActionResult
	if err := workflow.ExecuteActivity(cloudCtx, ActivityRunAction, begun.Request).Get(ctx, &res); err != nil {
		msg, _ := workflows.FailureOf(err)
		return workflow.ExecuteActivity(dbCtx, core.FailOpenStackAction, FailActionInput{ActionInput: in, Message: msg}).Get(ctx, nil)
	}
	return workflow.ExecuteActivity(dbCtx, core.FinishOpenStackAction, FinishActionInput{ActionInput: in, Result: res}).Get(ctx, nil)
}

// DispatchOpenStackActions starts the run of every action scheduled more
// than a minute ago and not begun, as a child that outlives it; a run
// already going keeps going (its id is taken). The same for the tenants'
// migrations left Creation Scheduled.
func DispatchOpenStackActions(ctx workflow.Context) (int, error) {
	var core *ActionCore
	var pending []PendingAction
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, actionPolicies.DB), core.PendingOpenStackActions).Get(ctx, &pending); err != nil {
		return 0, err
	}
	started := 0
	for _, p := range pending {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: ActionWorkflowID(p.Kind, p.UUID, p.Action), TaskQueue: workflows.QueueCore,
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		})
		f := workflow.ExecuteChildWorkflow(cctx, OpenStackAction, ActionInput{Kind: p.Kind, UUID: p.UUID, Action: p.Action})
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			if !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
				workflow.GetLogger(ctx).Warn("starting an OpenStack action failed", "object", p.UUID.String(), "action", p.Action, "error", err)
			}
			continue
		}
		started++
	}
	// And the tenants' migrations whose run nobody started (workflow_migrations.go).
	return started + startPendingMigrations(ctx), nil
}

// OpenStackRead runs a read-only call on an object's cloud side (the
// instance's console log) and returns what it read; the object's state
// does not change.
func OpenStackRead(ctx workflow.Context, in ActionInput) (ActionResult, error) {
	var core *ActionCore
	var req ActionRequest
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, actionPolicies.DB), core.ResolveOpenStackRead, in).Get(ctx, &req); err != nil {
		return ActionResult{}, err
	}
	cloud := actionPolicies.Cloud
	cloud.StartToCloseTimeout, cloud.RetryPolicy = time.Minute, &temporal.RetryPolicy{MaximumAttempts: 2}
	var res ActionResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, cloud), ActivityRunAction, req).Get(ctx, &res)
	return res, err
}

// ActionCore holds the database activities of the actions (core queue).
type ActionCore struct {
	Store *Store
	// Now is the clock (nil: the store's).
	Now func() time.Time
}

// BegunAction is what BeginOpenStackAction answers: OK false when there is
// nothing to do.
type BegunAction struct {
	OK      bool
	Request ActionRequest
}

// BeginOpenStackAction begins the action (Store.BeginAction).
func (a *ActionCore) BeginOpenStackAction(ctx context.Context, in ActionInput) (BegunAction, error) {
	req, ok, err := a.Store.BeginAction(ctx, in.Kind, in.UUID, in.Action)
	if err != nil && models.ErrorCode(err) != models.CodeInternal {
		// A reference that cannot be resolved fails the action, not the run.
		if ferr := a.Store.FailAction(ctx, in.Kind, in.UUID, in.Action, activities.AppMessage(err)); ferr != nil {
			return BegunAction{}, activities.Classify(ferr)
		}
		return BegunAction{}, nil
	}
	return BegunAction{OK: ok, Request: req}, activities.Classify(err)
}

// FinishActionInput is the input of FinishOpenStackAction.
type FinishActionInput struct {
	ActionInput
	Result ActionResult
}

// FinishOpenStackAction records a done action (Store.FinishAction).
func (a *ActionCore) FinishOpenStackAction(ctx context.Context, in FinishActionInput) error {
	return activities.Classify(a.Store.FinishAction(ctx, in.Kind, in.UUID, in.Action, in.Result))
}

// FailActionInput is the input of FailOpenStackAction.
type FailActionInput struct {
	ActionInput
	Message string
}

// FailOpenStackAction records a failed action (Store.FailAction).
func (a *ActionCore) FailOpenStackAction(ctx context.Context, in FailActionInput) error {
	return activities.Classify(a.Store.FailAction(ctx, in.Kind, in.UUID, in.Action, in.Message))
}

// PendingOpenStackActions lists the actions to start (Store.PendingActions).
func (a *ActionCore) PendingOpenStackActions(ctx context.Context) ([]PendingAction, error) {
	now := a.Store.Now()
	if a.Now != nil {
		now = a.Now()
	}
	out, err := a.Store.PendingActions(ctx, now.Add(-time.Minute))
	return out, activities.Classify(err)
}

// ResolveOpenStackRead resolves a read's request (the object's cloud and id).
func (a *ActionCore) ResolveOpenStackRead(ctx context.Context, in ActionInput) (ActionRequest, error) {
	o, err := a.Store.ActionObjectByUUID(ctx, in.Kind, in.UUID)
	if err != nil {
		return ActionRequest{}, activities.Classify(err)
	}
	o.Action = in.Action
	req, err := a.Store.actionRequest(ctx, o)
	req.Length = in.Length
	return req, activities.Classify(err)
}

// registerActions registers the actions' workflows and database
// activities on a core-queue worker.
func registerActions(w worker.Registry, a *ActionCore) {
	w.RegisterWorkflow(OpenStackAction)
	w.RegisterWorkflow(DispatchOpenStackActions)
	w.RegisterWorkflow(OpenStackRead)
	w.RegisterWorkflow(OpenStackPullObject)
	w.RegisterActivity(a)
}

// closingRunWait bounds how long startAction waits for an open run of the
// same action to close.
var closingRunWait = 10 * time.Second

// runOpenHook, set by tests, is called when startAction meets an open run.
var runOpenHook atomic.Pointer[func(workflowID string)]

// startAction starts an action's run; the row is its outbox, so a start
// that fails is logged and left to the dispatcher. A run of the same
// action on the same object still open is, as a rule, the previous one
// closing: the row is scheduled again only once that run finished it (OK
// or ERRED), a moment before its workflow ends. So the start waits for that
// run to close and starts again; a run that does not close within
// closingRunWait (a dispatcher's run of this very request, or a core worker
// gone) is left to itself and the dispatcher.
func startAction(ctx context.Context, tc client.Client, in ActionInput) error {
	if tc == nil {
		return errors.New("no Temporal client")
	}
	id := ActionWorkflowID(in.Kind, in.UUID, in.Action)
	for attempt := 0; ; attempt++ {
		// (Without WorkflowExecutionErrorWhenAlreadyStarted the SDK answers
		// an open run's handle as if it had started one.)
		_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id,
			TaskQueue: workflows.QueueCore, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
			WorkflowExecutionErrorWhenAlreadyStarted: true}, OpenStackAction, in)
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if !errors.As(err, &started) {
			return err
		}
		if attempt == 2 {
			return nil
		}
		if h := runOpenHook.Load(); h != nil {
			(*h)(id)
		}
		wctx, cancel := context.WithTimeout(ctx, closingRunWait)
		err = tc.GetWorkflow(wctx, id, "").Get(wctx, nil)
		timedOut := wctx.Err() != nil
		cancel()
		if timedOut {
			return nil
		}
		_ = err // how the previous run ended is its own row's business
	}
}
