// Package replaytest records the histories of long-lived workflows in
// end-to-end tests and replays them against today's code, so that a change
// which would break running workflows fails CI (docs/workflow-versioning.md).
// The platform's workflows keep theirs in workflows/testdata/histories, a
// plugin's in providers/<name>/testdata/histories.
package replaytest

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
)

// Dir is where a package keeps its recorded histories.
const Dir = "testdata/histories"

// record makes the end-to-end tests write the histories of the workflows
// they run into Dir.
var record = flag.Bool("record-histories", false, "write the histories of the end-to-end workflow tests into testdata/histories")

// Record writes the history of the finished run of workflowID as
// Dir/name.json (the format of `temporal workflow show --output json`) when
// the test runs with -record-histories; otherwise it does nothing.
func Record(t *testing.T, c client.Client, workflowID, name string) {
	t.Helper()
	if !*record {
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
	require.NoError(t, os.MkdirAll(Dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(Dir, name+".json"), append(b, '\n'), 0o644))
}

// registry registers workflows with a replayer and ignores activities, so
// that the replay uses the very registration functions a worker does (same
// names, same code).
type registry struct{ worker.WorkflowReplayer }

func (registry) RegisterActivity(any)                                         {}
func (registry) RegisterActivityWithOptions(any, activity.RegisterOptions)    {}
func (registry) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {}
func (registry) RegisterNexusService(*nexus.Service)                          {}

// ReplayAll replays every history in Dir against the workflows register
// registers (a worker's own registration function): a change that alters
// the commands an in-flight workflow issues, without workflow.GetVersion,
// fails with Temporal's nondeterminism error. It fails when Dir holds none.
func ReplayAll(t *testing.T, register func(worker.Registry)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories: run the end-to-end tests with -record-histories")
	sort.Strings(files)
	r := registry{worker.NewWorkflowReplayer()}
	register(r)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
