package workflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Schedule is a periodic job: a workflow started by a Temporal Schedule with
// a stable ID, so `temporal schedule list` shows it under the same name on
// every deployment and it can be paused and triggered from the CLI.
type Schedule struct {
	// ID is stable across releases, e.g. "waldur-role-expiry".
	ID string
	// Cron is a standard five-field cron expression, in UTC.
	Cron string
	// Workflow is the workflow function (or its registered name) and Args its arguments.
	Workflow any
	Args     []any
	// TaskQueue is where the workflow runs (QueueCore for platform jobs).
	TaskQueue string
	// Note is shown in the Temporal UI.
	Note string
}

func (s Schedule) spec() client.ScheduleSpec {
	return client.ScheduleSpec{CronExpressions: []string{s.Cron}}
}

func (s Schedule) action() *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:        s.ID, // Temporal appends the scheduled time: one workflow ID per run.
		Workflow:  s.Workflow,
		Args:      s.Args,
		TaskQueue: s.TaskQueue,
	}
}

// EnsureSchedules creates each schedule that does not exist and updates the
// spec and action of each that does, keeping its paused state and notes as
// an operator left them. Running it again, from any number of processes at
// once, changes nothing more.
func EnsureSchedules(ctx context.Context, c client.Client, scheds []Schedule, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	sc := c.ScheduleClient()
	for _, s := range scheds {
		if s.ID == "" || s.Cron == "" || s.Workflow == nil || s.TaskQueue == "" {
			return fmt.Errorf("schedule %q: ID, Cron, Workflow and TaskQueue are required", s.ID)
		}
		// A busy server (an embedded one on a loaded machine) can time a
		// call out; ensuring is idempotent, so it is tried again.
		var err error
		for attempt, wait := 1, time.Second; ; attempt, wait = attempt+1, wait*2 {
			if err = ensureSchedule(ctx, sc, s, log); err == nil || attempt == 5 || !transient(err) || ctx.Err() != nil {
				break
			}
			log.Warn("schedule not ensured yet; retrying", "schedule", s.ID, "attempt", attempt, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// transient tells a timeout or an unavailable server from a refusal.
func transient(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &unavailable) || errors.As(err, &deadline)
}

// ensureSchedule creates one schedule or updates its spec and action.
func ensureSchedule(ctx context.Context, sc client.ScheduleClient, s Schedule, log *slog.Logger) error {
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID:      s.ID,
		Spec:    s.spec(),
		Action:  s.action(),
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		// A job missed while the cluster was down runs once when it is back.
		CatchupWindow: 0,
		Note:          s.Note,
	})
	if err == nil {
		log.Info("schedule created", "schedule", s.ID, "cron", s.Cron)
		return nil
	}
	var exists *serviceerror.AlreadyExists
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) && !errors.As(err, &exists) {
		return fmt.Errorf("schedule %s: %w", s.ID, err)
	}
	err = sc.GetHandle(ctx, s.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			spec := s.spec()
			sched.Spec = &spec
			sched.Action = s.action()
			if sched.Policy == nil {
				sched.Policy = &client.SchedulePolicies{}
			}
			sched.Policy.Overlap = enums.SCHEDULE_OVERLAP_POLICY_SKIP
			// sched.State (paused, note) stays as the operator left it.
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("schedule %s: update: %w", s.ID, err)
	}
	return nil
}
