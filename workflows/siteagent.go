package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
)

// IntegrationStatusTimeoutSchedule runs DisconnectStaleAgents every five
// minutes (Waldur's mark-offering-backend-as-disconnected-after-timeout
// beat, run more often so a silent agent shows within minutes of its
// timeout).
var IntegrationStatusTimeoutSchedule = Schedule{
	ID:        "waldur-integration-status-timeout",
	Cron:      "*/5 * * * *",
	Workflow:  DisconnectStaleAgents,
	Args:      []any{DisconnectStaleAgentsInput{}},
	TaskQueue: QueueCore,
	Note:      "Marks Disconnected the integration status of every offering's site agent that has sent no request within the timeout (1 h).",
}

// RegisterSiteAgent registers the site agent workflows and their activities
// on a core-queue worker.
func RegisterSiteAgent(w worker.Registry, a *activities.SiteAgent) {
	w.RegisterWorkflow(DisconnectStaleAgents)
	w.RegisterActivity(a)
}

// DisconnectStaleAgentsInput is the input of DisconnectStaleAgents (none
// yet; a struct so it can grow).
type DisconnectStaleAgentsInput struct{}

// DisconnectStaleAgentsResult is what DisconnectStaleAgents returns.
type DisconnectStaleAgentsResult struct {
	// Disconnected is how many integration statuses became Disconnected.
	Disconnected int64
}

// DisconnectStaleAgents marks Disconnected the integration statuses of the
// agents that fell silent, through activities.SiteAgent. The job is
// idempotent, so a failing run is retried briefly and otherwise left to
// the next one.
func DisconnectStaleAgents(ctx workflow.Context, _ DisconnectStaleAgentsInput) (DisconnectStaleAgentsResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    5,
		},
	})
	var a *activities.SiteAgent
	var n int64
	if err := workflow.ExecuteActivity(ctx, a.DisconnectStaleIntegrations).Get(ctx, &n); err != nil {
		return DisconnectStaleAgentsResult{}, err
	}
	if n > 0 {
		workflow.GetLogger(ctx).Info("site agents disconnected", "statuses", n)
	}
	return DisconnectStaleAgentsResult{Disconnected: n}, nil
}
