package policies

import (
	"context"
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// EvaluationWorkflowID is the workflow of an evaluation started on demand
// (a policy written): one at a time; a start while one runs joins it.
const EvaluationWorkflowID = "policy-evaluation"

// EvaluationSchedule evaluates every policy each minute: a usage report or
// an order that moves a figure over a threshold fires the policy's actions
// within a minute (the run first registers the billing outbox, so usage
// reported a moment ago is in the invoice items it reads). A period's end
// is seen by the first run of the next period, which lifts its flags.
var EvaluationSchedule = workflows.Schedule{
	ID:        "waldur-policy-evaluation",
	Cron:      "* * * * *",
	Workflow:  EvaluatePolicies,
	TaskQueue: workflows.QueueCore,
	Note:      "Evaluates the marketplace policies (cost and usage limits, SLURM periodic policies): fires and lifts their actions.",
}

// PeriodSchedule re-evaluates every policy daily just after midnight UTC,
// so the first day of a month, quarter or year lifts what the period before
// set even if the minute schedule is paused.
var PeriodSchedule = workflows.Schedule{
	ID:        "waldur-policy-period",
	Cron:      "1 0 * * *",
	Workflow:  EvaluatePolicies,
	TaskQueue: workflows.QueueCore,
	Note:      "Re-evaluates the marketplace policies daily and at period boundaries.",
}

// Activities evaluate the policies.
type Activities struct {
	Store *store.Store
	// Now is the evaluation's clock (nil: the wall clock, UTC).
	Now func() time.Time
	// SMTP sends notify_external_user's e-mails (unset: logged, as the
	// email hooks do).
	SMTP activities.SMTPConfig
}

// PolicyEvaluate registers the billing outbox (the invoice items of
// resources with new usage or done orders) and evaluates every policy.
func (a *Activities) PolicyEvaluate(ctx context.Context) (Summary, error) {
	e := &Evaluator{St: a.Store, Now: a.Now}
	month := billing.MonthOf(e.now())
	for i := 0; i < 20; i++ {
		n, err := a.Store.RegisterDirtyResources(ctx, month, 500)
		if err != nil {
			return Summary{}, err
		}
		if n == 0 {
			break
		}
	}
	sum, err := e.EvaluateAll(ctx)
	if err != nil {
		return sum, err
	}
	// the e-mails of the crossings just fired (and any a failed run left)
	_, err = (&Mailer{St: a.Store, SMTP: a.SMTP}).SendExternalMails(ctx)
	return sum, err
}

// EvaluatePolicies runs PolicyEvaluate, retried until the database answers.
func EvaluatePolicies(ctx workflow.Context) (Summary, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	var a *Activities
	var out Summary
	err := workflow.ExecuteActivity(ctx, a.PolicyEvaluate).Get(ctx, &out)
	return out, err
}

// Register registers the evaluation workflow and its activities on a
// core-queue worker.
func Register(w worker.Registry, a *Activities) {
	w.RegisterWorkflow(EvaluatePolicies)
	w.RegisterActivity(a)
}

// StartEvaluation starts an evaluation now on queue (best effort: a run in
// progress is joined, and the schedule evaluates within a minute anyway).
func StartEvaluation(ctx context.Context, tc client.Client, queue string) (client.WorkflowRun, error) {
	if tc == nil {
		return nil, errors.New("no Temporal client")
	}
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: EvaluationWorkflowID, TaskQueue: queue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, EvaluatePolicies)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return tc.GetWorkflow(ctx, EvaluationWorkflowID, ""), nil
	}
	return run, err
}
