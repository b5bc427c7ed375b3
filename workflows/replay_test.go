package workflows_test

import (
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/workflows"
	"github.com/waldur-go/waldur/workflows/replaytest"
)

// recordHistory writes the history of a finished run when the tests run
// with -record-histories (replaytest.Record).
func recordHistory(t *testing.T, c client.Client, workflowID, name string) {
	t.Helper()
	replaytest.Record(t, c, workflowID, name)
}

// TestReplayRecordedHistories replays every recorded history
// (testdata/histories) against today's workflow code: a change that alters
// the commands an in-flight workflow issues, without workflow.GetVersion,
// fails here (docs/workflow-versioning.md).
func TestReplayRecordedHistories(t *testing.T) {
	replaytest.ReplayAll(t, func(r worker.Registry) {
		workflows.RegisterOrders(r, &activities.Orders{}, &workflows.OrderDispatcher{})
		workflows.RegisterBilling(r, &activities.Billing{})
		workflows.RegisterHooks(r, &activities.Hooks{})
	})
}
