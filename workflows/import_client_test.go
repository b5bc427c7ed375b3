package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/workflows"
)

// fakeRunner records the workflow the client starts and answers with
// result (JSON-encoded, as Temporal would) or the given errors.
type fakeRunner struct {
	client.Client // only ExecuteWorkflow is called
	opts          client.StartWorkflowOptions
	wf            any
	args          []any
	startErr      error
	getErr        error
	result        any
}

func (f *fakeRunner) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	f.opts, f.wf, f.args = opts, wf, args
	if f.startErr != nil {
		return nil, f.startErr
	}
	return fakeRun{f}, nil
}

type fakeRun struct{ f *fakeRunner }

func (fakeRun) GetID() string    { return "" }
func (fakeRun) GetRunID() string { return "" }
func (r fakeRun) Get(_ context.Context, out any) error {
	if r.f.getErr != nil {
		return r.f.getErr
	}
	b, err := json.Marshal(r.f.result)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
func (r fakeRun) GetWithOptions(ctx context.Context, out any, _ client.WorkflowRunGetOptions) error {
	return r.Get(ctx, out)
}

// workflowName is the name Temporal registers a workflow function under.
func workflowName(fn any) string {
	full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	return full[strings.LastIndex(full, ".")+1:]
}

func TestImportClientRunsTheWorkflows(t *testing.T) {
	off := models.NewUUID()
	f := &fakeRunner{result: []providers.ImportableResource{{BackendID: "a"}, {BackendID: "b"}}}
	c := workflows.ImportClient{Client: f}
	items, err := c.Importable(context.Background(), off)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].BackendID != "a" || items[1].BackendID != "b" {
		t.Fatalf("items = %+v", items)
	}
	if workflowName(f.wf) != workflowName(workflows.ListImportableResources) || f.opts.ID != workflows.ImportableResourcesWorkflowID(off) ||
		f.opts.TaskQueue != workflows.QueueCore || f.opts.WorkflowIDConflictPolicy != enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING ||
		f.opts.WorkflowExecutionTimeout != workflows.ImportTimeout {
		t.Fatalf("started %s with %+v", workflowName(f.wf), f.opts)
	}
	if in, ok := f.args[0].(workflows.ListImportableInput); !ok || in.OfferingUUID != off {
		t.Fatalf("input %#v", f.args)
	}

	want := models.NewUUID()
	f = &fakeRunner{result: want}
	c = workflows.ImportClient{Client: f}
	plan := models.NewUUID()
	r := marketplace.ImportRequest{OfferingUUID: off, ProjectUUID: models.NewUUID(), PlanUUID: &plan, BackendID: "acc1"}
	got, err := c.Import(context.Background(), r)
	if err != nil || got != want {
		t.Fatalf("import = %s, %v; want %s", got, err, want)
	}
	if workflowName(f.wf) != workflowName(workflows.ImportResource) || f.opts.ID != workflows.ImportResourceWorkflowID(off, "acc1") ||
		f.opts.WorkflowIDConflictPolicy != enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL || !f.opts.WorkflowExecutionErrorWhenAlreadyStarted {
		t.Fatalf("started %s with %+v", workflowName(f.wf), f.opts)
	}
	if in, ok := f.args[0].(workflows.ImportResourceInput); !ok || in != (workflows.ImportResourceInput{OfferingUUID: off, ProjectUUID: r.ProjectUUID, PlanUUID: &plan, BackendID: "acc1"}) {
		t.Fatalf("input %#v", f.args)
	}
}

// TestImportClientErrors: how a failed import workflow answers the API.
func TestImportClientErrors(t *testing.T) {
	cases := []struct {
		name    string
		runner  *fakeRunner
		code    models.Code
		message string
	}{
		{name: "no client", code: models.CodeUnavailable, message: workflows.MsgTemporalUnavailable},
		{name: "already started", runner: &fakeRunner{startErr: serviceerror.NewWorkflowExecutionAlreadyStarted("x", "", "")},
			code: models.CodeConflict, message: workflows.MsgImportInProgress},
		{name: "start fails", runner: &fakeRunner{startErr: errors.New("down")}, code: models.CodeUnavailable, message: workflows.MsgTemporalUnavailable},
		{name: "refusal keeps its code", runner: &fakeRunner{getErr: temporal.NewApplicationError("taken", string(models.CodeConflict))},
			code: models.CodeConflict, message: "taken"},
		{name: "a missing object is invalid", runner: &fakeRunner{getErr: temporal.NewApplicationError("no such account", string(models.CodeNotFound))},
			code: models.CodeInvalid, message: "no such account"},
		{name: "backend refusal", runner: &fakeRunner{getErr: temporal.NewApplicationError("boom", "SomeError")},
			code: models.CodeUnavailable, message: "The offering's backend refused the request: boom"},
		{name: "backend timeout", runner: &fakeRunner{getErr: temporal.NewTimeoutError(enums.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, nil)},
			code: models.CodeUnavailable, message: "The offering's backend did not answer in time (is a worker for its queue running?)."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ic workflows.ImportClient
			if c.runner != nil {
				ic.Client = c.runner
			}
			_, err := ic.Importable(context.Background(), models.NewUUID())
			var e *models.Error
			if !errors.As(err, &e) || e.Code != c.code || e.Message != c.message {
				t.Fatalf("err = %#v, want %s %q", err, c.code, c.message)
			}
		})
	}
}
