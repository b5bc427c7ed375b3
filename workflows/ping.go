package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
)

// PingInput is the input of Ping.
type PingInput struct {
	// Message is echoed back.
	Message string
}

// PingResult is what Ping returns.
type PingResult struct {
	Message string
	// Database is the database dialect the activity reached.
	Database string
}

// Ping is the smallest round trip through the platform: a workflow on the
// core queue runs one activity that touches the database. The integration
// tests and `make bench` use it as the baseline of workflow throughput.
func Ping(ctx workflow.Context, in PingInput) (PingResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    5,
		},
	})
	var core *activities.Core
	var out activities.PingResult
	if err := workflow.ExecuteActivity(ctx, core.Ping, activities.PingInput{Message: in.Message}).Get(ctx, &out); err != nil {
		return PingResult{}, err
	}
	return PingResult{Message: out.Message, Database: out.Database}, nil
}

// Empty does nothing: the baseline of the benchmarks (workflow overhead alone).
func Empty(ctx workflow.Context) error { return nil }
