package workflows

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// The scan-and-fix jobs on resources and orders (Waldur's
// structure-set-erred-stuck-resources, process_pending_project_orders and
// terminate_resources_if_project_end_date_has_been_reached beats).
var (
	StuckResourcesSchedule = Schedule{
		ID: "waldur-stuck-resources", Cron: "15 * * * *", Workflow: MarkStuckResources, TaskQueue: QueueCore,
		Note: "Sets Erred the resources left in Creating, Updating or Terminating for over an hour with no order in progress.",
	}
	ProjectStartOrdersSchedule = Schedule{
		ID: "waldur-project-start-orders", Cron: "5 */2 * * *", Workflow: ReleaseProjectOrders, TaskQueue: QueueCore,
		Note: "Moves on the orders that waited for their project's start date once it has come.",
	}
	ProjectEndTerminationSchedule = Schedule{
		ID: "waldur-project-end-termination", Cron: "0 2 * * *", Workflow: TerminateEndedProjects, TaskQueue: QueueCore,
		Note: "Places terminate orders for the resources of projects whose end date has come.",
	}
)

// OrderJobs are the periodic jobs that drive orders through their
// workflows (so they live here, next to StartOrder): releasing orders
// whose project has started, terminating resources of ended projects.
type OrderJobs struct {
	Store    *store.Store
	Temporal client.Client // nil: the client of the worker running the activity
	// Capabilities answers for an offering type (the providers registry's):
	// the orders the jobs place follow its review rules.
	Capabilities func(offeringType string) (providers.Capabilities, bool)
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
}

// RegisterJobs registers the periodic job workflows and their activities
// on a core-queue worker (MarkStuckResources runs activities.Billing,
// registered by RegisterBilling).
func RegisterJobs(w worker.Registry, j *OrderJobs) {
	w.RegisterWorkflow(MarkStuckResources)
	w.RegisterWorkflow(ReleaseProjectOrders)
	w.RegisterWorkflow(TerminateEndedProjects)
	w.RegisterActivity(j)
}

func (j *OrderJobs) now() time.Time {
	if j.Now != nil {
		return j.Now().UTC()
	}
	return time.Now().UTC()
}

func (j *OrderJobs) client(ctx context.Context) client.Client {
	if j.Temporal != nil {
		return j.Temporal
	}
	return activity.GetClient(ctx)
}

// ReleaseStartedProjectOrders sends release_project to the workflow of
// every order waiting (pending-project) for a project that has started;
// the workflow moves it to provider review or executing. It returns how
// many it released; an order another process moved meanwhile is skipped.
func (j *OrderJobs) ReleaseStartedProjectOrders(ctx context.Context) (int, error) {
	c := j.client(ctx)
	orders, err := j.Store.StartedProjectOrders(ctx, j.now(), 500)
	if err != nil {
		return 0, err
	}
	n := 0
	oc := OrderClient{Client: c, Store: j.Store}
	for _, o := range orders {
		_, err := oc.Send(ctx, OrderRef{UUID: o.UUID, ID: o.ID}, OrderAction{Event: "release_project"}, false)
		switch {
		case err == nil:
			n++
		case models.ErrorCode(err) != models.CodeUnavailable:
			// Refused by the workflow: the order moved on meanwhile.
		default:
			return n, err
		}
		heartbeat(ctx, n)
	}
	return n, nil
}

func heartbeat(ctx context.Context, n int) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, n)
	}
}

// TerminateEndedProjectResources places a terminate order for every
// resource in use of a project whose end date has come, and starts its
// workflow; it returns how many orders it placed.
func (j *OrderJobs) TerminateEndedProjectResources(ctx context.Context) (int, error) {
	svc := marketplace.Service{Store: j.Store, Capabilities: j.Capabilities, Engine: OrderClient{Client: j.client(ctx), Store: j.Store}}
	n := 0
	after := map[int64]bool{}
	for {
		ids, err := j.Store.EndedProjectResourceIDs(ctx, j.now(), 500)
		if err != nil {
			return n, err
		}
		progress := false
		for _, id := range ids {
			if after[id] {
				continue
			}
			after[id] = true
			o, err := svc.TerminateForProjectEnd(ctx, id) // placed and started (the dispatcher retries a failed start)
			if err != nil {
				return n, err
			}
			if o == nil {
				continue
			}
			progress = true
			n++
			heartbeat(ctx, n)
		}
		if !progress {
			return n, nil
		}
	}
}

// jobOptions: scan-and-fix jobs retry a few times, then leave it to the next run.
func jobOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: 5 * time.Minute, MaximumAttempts: 5},
	})
}

// MarkStuckResources runs activities.Billing.MarkStuckResources.
func MarkStuckResources(ctx workflow.Context) (int, error) {
	var a *activities.Billing
	var n int
	err := workflow.ExecuteActivity(jobOptions(ctx), a.MarkStuckResources).Get(ctx, &n)
	return n, err
}

// ReleaseProjectOrders runs OrderJobs.ReleaseStartedProjectOrders.
func ReleaseProjectOrders(ctx workflow.Context) (int, error) {
	var j *OrderJobs
	var n int
	err := workflow.ExecuteActivity(jobOptions(ctx), j.ReleaseStartedProjectOrders).Get(ctx, &n)
	return n, err
}

// TerminateEndedProjects runs OrderJobs.TerminateEndedProjectResources.
func TerminateEndedProjects(ctx workflow.Context) (int, error) {
	var j *OrderJobs
	var n int
	err := workflow.ExecuteActivity(jobOptions(ctx), j.TerminateEndedProjectResources).Get(ctx, &n)
	return n, err
}
