package aws

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/workflows"
)

// CatalogPullSchedule pulls every AWS offering's catalog (regions,
// images, instance types) hourly.
var CatalogPullSchedule = workflows.Schedule{
	ID:        "waldur-aws-catalog-pull",
	Cron:      "17 * * * *",
	Workflow:  AWSPull,
	Args:      []any{PullInput{Catalog: true}},
	TaskQueue: workflows.QueueCore,
	Note:      "Pulls the regions, images and instance types of every AWS offering's account into the catalog.",
}

// StatePullSchedule pulls every AWS offering's instances and volumes
// every five minutes: the import listing, and resources deleted behind
// Waldur's back (marketplace_resource_erred_on_backend).
var StatePullSchedule = workflows.Schedule{
	ID:        "waldur-aws-state-pull",
	Cron:      "*/5 * * * *",
	Workflow:  AWSPull,
	Args:      []any{PullInput{State: true}},
	TaskQueue: workflows.QueueCore,
	Note:      "Pulls every AWS offering's instances and volumes; marks resources whose backend object is gone as Erred.",
}

// RegisterCore registers the AWS pull workflow (and the activities it runs
// locally) on a core-queue worker.
func RegisterCore(w worker.Registry, a *Activities) {
	w.RegisterWorkflow(AWSPull)
	w.RegisterActivity(a)
}

// RegisterQueue registers the AWS pull activities on an aws-queue worker.
func RegisterQueue(w worker.Registry, a *Activities) { w.RegisterActivity(a) }

// PullInput is the input of AWSPull.
type PullInput struct {
	// Catalog pulls regions, images and sizes; State pulls instances and volumes.
	Catalog, State bool
	// Offerings limits the pull to these offerings (empty: every AWS offering).
	Offerings []models.UUID
	// Queue is the task queue of the AWS activities ("" = aws).
	Queue string
}

// PullOffering is what AWSPull did for one offering.
type PullOffering struct {
	UUID    models.UUID
	Name    string
	Catalog SyncStats
	State   StateResult
	Error   string
}

// PullResult is what AWSPull returns.
type PullResult struct {
	Offerings []PullOffering
}

// pullOptions: one offering's pull; heartbeats come at least per page
// of EC2 results. Retried a few times, otherwise left to the next run.
func pullOptions(ctx workflow.Context, queue string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           queue,
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    3,
		},
	})
}

// AWSPull pulls the AWS offerings, all at once, on the aws queue: their
// catalogs and/or their instances and volumes (Activities). One
// offering failing does not stop the others; the run fails at the end
// naming the offerings that failed.
func AWSPull(ctx workflow.Context, in PullInput) (PullResult, error) {
	queue := in.Queue
	if queue == "" {
		queue = Queue
	}
	actx := pullOptions(ctx, queue)
	var a *Activities
	var offs []OfferingRef
	// Listing the offerings needs only the database: a local activity of the
	// core worker, so a deployment without AWS offerings (and without an aws
	// worker) runs the schedules to an empty result.
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 5}})
	if err := workflow.ExecuteLocalActivity(lctx, a.ListAWSOfferings).Get(ctx, &offs); err != nil {
		return PullResult{}, err
	}
	if len(in.Offerings) > 0 {
		want := map[models.UUID]bool{}
		for _, id := range in.Offerings {
			want[id] = true
		}
		var keep []OfferingRef
		for _, o := range offs {
			if want[o.UUID] {
				keep = append(keep, o)
			}
		}
		offs = keep
	}
	out := PullResult{Offerings: make([]PullOffering, len(offs))}
	var catalog, state []workflow.Future
	for i, o := range offs {
		out.Offerings[i] = PullOffering{UUID: o.UUID, Name: o.Name}
		if in.Catalog {
			catalog = append(catalog, workflow.ExecuteActivity(actx, a.PullAWSCatalog, o.UUID))
		}
		if in.State {
			state = append(state, workflow.ExecuteActivity(actx, a.PullAWSState, o.UUID))
		}
	}
	var failed []string
	fail := func(i int, what string, err error) {
		out.Offerings[i].Error = strings.TrimSpace(out.Offerings[i].Error + " " + what + ": " + err.Error())
		failed = append(failed, fmt.Sprintf("%s (%s)", out.Offerings[i].Name, what))
	}
	for i := range offs {
		if in.Catalog {
			if err := catalog[i].Get(ctx, &out.Offerings[i].Catalog); err != nil {
				fail(i, "catalog", err)
			}
		}
		if in.State {
			if err := state[i].Get(ctx, &out.Offerings[i].State); err != nil {
				fail(i, "state", err)
			}
		}
	}
	workflow.GetLogger(ctx).Info("AWS pull done", "offerings", len(offs), "failed", len(failed))
	if len(failed) > 0 {
		return out, temporal.NewNonRetryableApplicationError("AWS pull failed for "+strings.Join(failed, ", "), "AWSPullFailed", nil, out)
	}
	return out, nil
}
