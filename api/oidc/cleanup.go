package oidc

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/workflows"
)

// CleanupSchedule deletes, every hour, the authorization requests nobody
// answered and the browser sessions past their expiry.
var CleanupSchedule = workflows.Schedule{
	ID:        "waldur-auth-cleanup",
	Cron:      "41 * * * *",
	Workflow:  CleanupAuth,
	TaskQueue: workflows.QueueCore,
	Note:      "Deletes expired OpenID Connect login requests and browser sessions.",
}

// Cleaner is the activity side of CleanupAuth.
type Cleaner struct{ Store *Store }

// RegisterCleanup adds the workflow and its activity to a core worker.
func RegisterCleanup(w worker.Registry, c *Cleaner) {
	w.RegisterWorkflow(CleanupAuth)
	w.RegisterActivity(c)
}

// CleanupAuth runs PruneAuth.
func CleanupAuth(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: 2 * time.Minute, MaximumAttempts: 3},
	})
	var c *Cleaner
	return workflow.ExecuteActivity(ctx, c.PruneAuth).Get(ctx, nil)
}

// PruneAuth deletes the expired authorization requests and sessions.
func (c *Cleaner) PruneAuth(ctx context.Context) error { return c.Store.Prune(ctx) }
