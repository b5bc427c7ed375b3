package slurm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/workflows"
)

// The SLURM integration's workflows (core queue). Database steps run as
// activities of the core worker; cluster steps run on the "slurm" queue
// (ClusterActivities), where the cluster's commands are. With no
// SLURM allocation at all, no cluster step is scheduled, so deployments
// without a slurm worker run these schedules to an empty result.

// SlurmUsagePullSchedule pulls the usage of every allocation hourly
// (Waldur pulls SLURM usage with its hourly resource pull).
var SlurmUsagePullSchedule = workflows.Schedule{
	ID:        "waldur-slurm-usage-pull",
	Cron:      "5 * * * *",
	Workflow:  SlurmUsagePull,
	Args:      []any{SlurmUsagePullInput{}},
	TaskQueue: workflows.QueueCore,
	Note:      "Pulls this month's (on the 1st also last month's) SLURM usage from sacct into component usages and invoice items.",
}

// SlurmMembershipSyncSchedule brings every allocation's associations in
// step with its project's members every five minutes.
var SlurmMembershipSyncSchedule = workflows.Schedule{
	ID:        "waldur-slurm-membership-sync",
	Cron:      "*/5 * * * *",
	Workflow:  SlurmMembershipSync,
	Args:      []any{SlurmMembershipSyncInput{}},
	TaskQueue: workflows.QueueCore,
	Note:      "Makes every SLURM allocation's associations the users of its project and customer (full sync).",
}

// SlurmMembershipEventsSchedule follows the event log every minute: each
// allocation whose members changed (a role granted or revoked in its
// project or customer, an offering account changed, the allocation
// created) gets its own sync at once. A change reaches the cluster within
// about a minute; SlurmMembershipSyncSchedule catches anything missed
// within five.
var SlurmMembershipEventsSchedule = workflows.Schedule{
	ID:        "waldur-slurm-membership-events",
	Cron:      "* * * * *",
	Workflow:  SlurmFollowMembership,
	Args:      []any{SlurmFollowMembershipInput{}},
	TaskQueue: workflows.QueueCore,
	Note:      "Starts the association sync of each SLURM allocation whose members changed since the last run.",
}

// SlurmSchedules are the SLURM integration's periodic jobs.
var SlurmSchedules = []workflows.Schedule{SlurmUsagePullSchedule, SlurmMembershipSyncSchedule, SlurmMembershipEventsSchedule}

// RegisterSlurm registers the SLURM integration's workflows and database
// activities on a core-queue worker.
func RegisterSlurm(w worker.Registry, a *Activities) {
	if a.SyncWorkflow == nil {
		a.SyncWorkflow = SlurmResourceSync
	}
	if a.SyncQueue == "" {
		a.SyncQueue = workflows.QueueCore
	}
	w.RegisterWorkflow(SlurmUsagePull)
	w.RegisterWorkflow(SlurmMembershipSync)
	w.RegisterWorkflow(SlurmFollowMembership)
	w.RegisterWorkflow(SlurmResourceSync)
	w.RegisterActivity(a)
}

// RegisterSlurmCluster registers the cluster activities on a slurm-queue worker.
func RegisterSlurmCluster(w worker.Registry, a *ClusterActivities) { w.RegisterActivity(a) }

// slurmDB is for the database steps: local activities of the core worker,
// retried a few times (a scheduled run that fails is run again by the
// next schedule).
func slurmDB(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 5}})
}

// slurmRecord is for the long database steps (recording usage, starting
// syncs): heartbeating activities of the core queue.
func slurmRecord(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
}

// slurmCluster is for the cluster steps on queue: each command is bounded
// by the executor; a step heartbeats between commands; a cluster that
// stays unreachable (or no slurm worker) fails the step within the hour.
func slurmCluster(ctx workflow.Context, queue string) workflow.Context {
	if queue == "" {
		queue = Queue
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              queue,
		ScheduleToCloseTimeout: time.Hour,
		StartToCloseTimeout:    30 * time.Minute,
		HeartbeatTimeout:       5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 2 * time.Minute,
			MaximumAttempts: 5},
	})
}

// SlurmUsagePullInput is the input of SlurmUsagePull.
type SlurmUsagePullInput struct {
	// Month is the month to pull; zero means the current month, and on the
	// 1st also the month before (its last hours).
	Month billing.Month
	// Offerings limits the pull (empty: every SlurmInvoices offering).
	Offerings []models.UUID
	// Queue is the task queue of the cluster activities ("" = slurm).
	Queue string
}

// SlurmUsagePullOffering is what the pull did for one offering and month.
type SlurmUsagePullOffering struct {
	OfferingUUID models.UUID
	OfferingName string
	Month        billing.Month
	Allocations  int
	// Recorded, Unchanged, Skipped and Erred count the outcomes.
	Recorded, Unchanged, Skipped, Erred int
	// Outcomes are the allocations whose usage changed or that were skipped
	// or marked Erred (the unchanged ones are only counted).
	Outcomes []SlurmUsageOutcome `json:",omitempty"`
	Error    string              `json:",omitempty"`
}

// SlurmUsagePullResult is what SlurmUsagePull returns.
type SlurmUsagePullResult struct {
	Months    []billing.Month
	Offerings []SlurmUsagePullOffering
}

// SlurmUsagePull reads each allocation's usage of the month from sacct
// (one read per offering: SlurmReadUsage on the slurm queue) and records
// it as component usages, per user too, with the resources' invoice items
// (RecordSlurmUsage). Offerings run in parallel; one failing does not stop
// the others, and the run fails at the end naming them. Idempotent.
func SlurmUsagePull(ctx workflow.Context, in SlurmUsagePullInput) (SlurmUsagePullResult, error) {
	var months []billing.Month
	if !in.Month.IsZero() {
		months = []billing.Month{in.Month}
	} else {
		now := workflow.Now(ctx).UTC()
		cur := billing.MonthOf(now)
		if now.Day() == 1 {
			months = append(months, cur.Prev())
		}
		months = append(months, cur)
	}
	out := SlurmUsagePullResult{Months: months}
	var a *Activities
	var c *ClusterActivities
	var batches []SlurmBatch
	err := workflow.ExecuteLocalActivity(slurmDB(ctx), a.SlurmAllocations,
		SlurmAllocationsInput{States: SlurmUsageStates, Offerings: in.Offerings}).Get(ctx, &batches)
	if err != nil {
		return out, err
	}
	cctx, rctx := slurmCluster(ctx, in.Queue), slurmRecord(ctx)
	for _, month := range months {
		futures := make([]workflow.Future, len(batches))
		res := make([]SlurmUsagePullOffering, len(batches))
		for i, b := range batches {
			res[i] = SlurmUsagePullOffering{OfferingUUID: b.OfferingUUID, OfferingName: b.OfferingName, Month: month, Allocations: len(b.Allocations)}
			f, set := workflow.NewFuture(ctx)
			futures[i] = f
			workflow.Go(ctx, func(ctx workflow.Context) {
				var rep SlurmUsageReport
				if err := workflow.ExecuteActivity(cctx, c.SlurmReadUsage, SlurmUsageInput{Batch: b, Month: month}).Get(ctx, &rep); err != nil {
					set.Set(nil, err)
					return
				}
				var rec RecordSlurmUsageResult
				err := workflow.ExecuteActivity(rctx, a.RecordSlurmUsage, RecordSlurmUsageInput{Batch: b, Report: rep}).Get(ctx, &rec)
				set.Set(rec, err)
			})
		}
		for i, f := range futures {
			var rec RecordSlurmUsageResult
			if err := f.Get(ctx, &rec); err != nil {
				res[i].Error = err.Error()
				continue
			}
			res[i].Recorded, res[i].Unchanged = rec.Count("recorded"), rec.Count("unchanged")
			res[i].Skipped, res[i].Erred = rec.Count("skipped"), rec.Count("erred")
			for _, o := range rec.Outcomes {
				if o.Outcome != "unchanged" {
					res[i].Outcomes = append(res[i].Outcomes, o)
				}
			}
		}
		out.Offerings = append(out.Offerings, res...)
	}
	var failed []string
	for _, o := range out.Offerings {
		if o.Error != "" {
			failed = append(failed, fmt.Sprintf("%s (%s)", o.OfferingName, o.Month))
		}
	}
	workflow.GetLogger(ctx).Info("SLURM usage pull done", "months", months, "offerings", len(batches), "failed", len(failed))
	if len(failed) > 0 {
		return out, temporal.NewNonRetryableApplicationError("SLURM usage pull failed for "+strings.Join(failed, ", "), "SlurmUsagePullFailed", nil, out)
	}
	return out, nil
}

// SlurmMembershipSyncInput is the input of SlurmMembershipSync.
type SlurmMembershipSyncInput struct {
	// Offerings and Resources narrow the sync (empty: every allocation).
	Offerings []models.UUID
	Resources []models.UUID
	// DryRun only reports how the associations differ (the association report).
	DryRun bool
	// Queue is the task queue of the cluster activities ("" = slurm).
	Queue string
}

// SlurmMembershipOffering is one offering's sync or report.
type SlurmMembershipOffering struct {
	OfferingName string
	SlurmSyncResult
	Error string `json:",omitempty"`
}

// SlurmMembershipSyncResult is what SlurmMembershipSync returns.
type SlurmMembershipSyncResult struct {
	DryRun    bool
	Offerings []SlurmMembershipOffering
}

// SlurmMembershipSync makes the associations of every allocation (OK,
// Updating or Erred) exactly the users of its project and its customer:
// one cluster read per offering, then a change only where they differ.
// With DryRun it changes nothing and returns the association report.
// Offerings run in parallel; the run fails at the end naming the ones that
// failed.
func SlurmMembershipSync(ctx workflow.Context, in SlurmMembershipSyncInput) (SlurmMembershipSyncResult, error) {
	var a *Activities
	var c *ClusterActivities
	out := SlurmMembershipSyncResult{DryRun: in.DryRun}
	var batches []SlurmBatch
	err := workflow.ExecuteLocalActivity(slurmDB(ctx), a.SlurmAllocations, SlurmAllocationsInput{
		States: SlurmSyncStates, Offerings: in.Offerings, Resources: in.Resources, Members: true}).Get(ctx, &batches)
	if err != nil {
		return out, err
	}
	cctx := slurmCluster(ctx, in.Queue)
	futures := make([]workflow.Future, len(batches))
	for i, b := range batches {
		futures[i] = workflow.ExecuteActivity(cctx, c.SlurmSyncAssociations, SlurmSyncInput{Batch: b, DryRun: in.DryRun})
	}
	var failed []string
	for i, f := range futures {
		o := SlurmMembershipOffering{OfferingName: batches[i].OfferingName}
		if err := f.Get(ctx, &o.SlurmSyncResult); err != nil {
			o.OfferingUUID, o.Error = batches[i].OfferingUUID, err.Error()
			failed = append(failed, batches[i].OfferingName)
		}
		out.Offerings = append(out.Offerings, o)
	}
	if len(failed) > 0 {
		return out, temporal.NewNonRetryableApplicationError("SLURM membership sync failed for "+strings.Join(failed, ", "), "SlurmSyncFailed", nil, out)
	}
	return out, nil
}

// SlurmResourceSyncResult is what SlurmResourceSync returns.
type SlurmResourceSyncResult struct {
	// Syncs counts the syncs run (one per burst of requests).
	Syncs int
	// Last is the last sync's report (nil when the resource had nothing to sync).
	Last *SlurmSyncResult `json:",omitempty"`
}

// slurmResourceSyncMaxRuns bounds one run's history: after that many syncs
// the workflow continues as new.
const slurmResourceSyncMaxRuns = 100

// SlurmResourceSync syncs one allocation's associations with its members.
// It runs under the stable ID SlurmResourceSyncWorkflowID(resource) and is
// started (or, while running, asked again) by the signal
// SlurmSyncSignal (StartSlurmSyncs uses signal-with-start):
// requests that arrive during a sync make one more sync after it, so the
// last change is always seen, and many requests cost one sync.
func SlurmResourceSync(ctx workflow.Context, in SlurmResourceSyncInput) (SlurmResourceSyncResult, error) {
	var a *Activities
	var c *ClusterActivities
	ch := workflow.GetSignalChannel(ctx, SlurmSyncSignal)
	drain := func() bool {
		got := false
		for ch.ReceiveAsync(nil) {
			got = true
		}
		return got
	}
	var out SlurmResourceSyncResult
	for {
		drain()
		var batches []SlurmBatch
		err := workflow.ExecuteLocalActivity(slurmDB(ctx), a.SlurmAllocations, SlurmAllocationsInput{
			States: SlurmSyncStates, Resources: []models.UUID{in.ResourceUUID}, Members: true}).Get(ctx, &batches)
		if err != nil {
			return out, err
		}
		out.Syncs++
		out.Last = nil
		if len(batches) > 0 {
			var res SlurmSyncResult
			err := workflow.ExecuteActivity(slurmCluster(ctx, in.Queue), c.SlurmSyncAssociations, SlurmSyncInput{Batch: batches[0]}).Get(ctx, &res)
			if err != nil {
				return out, err
			}
			out.Last = &res
		}
		if !drain() {
			return out, nil
		}
		if out.Syncs >= slurmResourceSyncMaxRuns {
			// Asked again: the next run syncs at once, without the signal.
			return out, workflow.NewContinueAsNewError(ctx, SlurmResourceSync, in)
		}
	}
}

// SlurmFollowMembershipInput is the input of SlurmFollowMembership.
type SlurmFollowMembershipInput struct{}

// SlurmFollowMembershipResult is what SlurmFollowMembership returns; its
// cursor is where the next scheduled run continues.
type SlurmFollowMembershipResult struct {
	Events    int
	Resources []models.UUID
	Cursor    SlurmEventCursor
}

// SlurmFollowMembership reads the membership events since the previous
// run (its cursor is the previous run's result, which a schedule passes
// on) and asks each allocation they concern for a sync
// (StartSlurmSyncs). A failed run leaves the cursor where it was.
func SlurmFollowMembership(ctx workflow.Context, _ SlurmFollowMembershipInput) (SlurmFollowMembershipResult, error) {
	var a *Activities
	var cur SlurmEventCursor
	if workflow.HasLastCompletionResult(ctx) {
		var last SlurmFollowMembershipResult
		if err := workflow.GetLastCompletionResult(ctx, &last); err == nil {
			cur = last.Cursor
		}
	}
	var scan SlurmEventScan
	if err := workflow.ExecuteLocalActivity(slurmDB(ctx), a.SlurmMembershipEvents, cur).Get(ctx, &scan); err != nil {
		return SlurmFollowMembershipResult{Cursor: cur}, err
	}
	out := SlurmFollowMembershipResult{Events: scan.Events, Resources: scan.Resources, Cursor: scan.Cursor}
	if len(scan.Resources) == 0 {
		return out, nil
	}
	sort.Slice(out.Resources, func(i, j int) bool { return out.Resources[i].String() < out.Resources[j].String() })
	var n int
	if err := workflow.ExecuteActivity(slurmRecord(ctx), a.StartSlurmSyncs, out.Resources).Get(ctx, &n); err != nil {
		return SlurmFollowMembershipResult{Cursor: cur}, err
	}
	return out, nil
}

// RunSlurmMembershipSync runs SlurmMembershipSync now (the CLI's
// association report and sync) and waits for its result. A run that
// failed for some offerings returns their errors in the result too.
func RunSlurmMembershipSync(ctx context.Context, c client.Client, in SlurmMembershipSyncInput) (SlurmMembershipSyncResult, error) {
	id := "slurm-membership-sync-now-" + models.NewUUID().String()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.QueueCore}, SlurmMembershipSync, in)
	if err != nil {
		return SlurmMembershipSyncResult{}, fmt.Errorf("start %s: %w", id, err)
	}
	var out SlurmMembershipSyncResult
	err = run.Get(ctx, &out)
	if err != nil {
		detailsOf(err, &out)
	}
	return out, err
}

// RunSlurmUsagePull runs SlurmUsagePull now and waits for its result (see
// RunSlurmMembershipSync).
func RunSlurmUsagePull(ctx context.Context, c client.Client, in SlurmUsagePullInput) (SlurmUsagePullResult, error) {
	id := "slurm-usage-pull-now-" + models.NewUUID().String()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.QueueCore}, SlurmUsagePull, in)
	if err != nil {
		return SlurmUsagePullResult{}, fmt.Errorf("start %s: %w", id, err)
	}
	var out SlurmUsagePullResult
	err = run.Get(ctx, &out)
	if err != nil {
		detailsOf(err, &out)
	}
	return out, err
}

// detailsOf decodes the partial result a failed run carries in its
// application error's details.
func detailsOf(err error, out any) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.HasDetails() {
		_ = app.Details(out)
	}
}
