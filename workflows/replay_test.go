package workflows_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nexus-rpc/sdk-go/nexus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/workflows"
)

// recordHistories makes the end-to-end tests that run the platform's
// long-lived workflows on a real server write their histories into
// testdata/histories (see docs/workflow-versioning.md).
var recordHistories = flag.Bool("record-histories", false, "write the histories of the end-to-end workflow tests into testdata/histories")

const historiesDir = "testdata/histories"

// recordHistory writes the history of a finished workflow run as name.json
// (the format of `temporal workflow show --output json`), when
// -record-histories is set.
func recordHistory(t *testing.T, c client.Client, workflowID, name string) {
	t.Helper()
	if !*recordHistories {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(historiesDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(historiesDir, name+".json"), append(b, '\n'), 0o644))
}

// replayRegistry is a worker registry that registers workflows with a
// replayer and ignores activities, so that the replay uses the very
// registration functions a worker does (same names, same code).
type replayRegistry struct{ worker.WorkflowReplayer }

func (replayRegistry) RegisterActivity(any)                                         {}
func (replayRegistry) RegisterActivityWithOptions(any, activity.RegisterOptions)    {}
func (replayRegistry) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {}
func (replayRegistry) RegisterNexusService(*nexus.Service)                          {}

// TestReplayRecordedHistories replays every recorded history
// (testdata/histories) against today's workflow code: a change that alters
// the commands an in-flight workflow issues, without workflow.GetVersion,
// fails here (docs/workflow-versioning.md).
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories: run the workflow tests with -record-histories")
	sort.Strings(files)
	r := replayRegistry{worker.NewWorkflowReplayer()}
	workflows.RegisterOrders(r, &activities.Orders{}, &workflows.OrderDispatcher{})
	workflows.RegisterBilling(r, &activities.Billing{})
	workflows.RegisterHooks(r, &activities.Hooks{})
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
