// Package example is the smallest complete integration, the one
// docs/writing-a-provider.md walks through: an offering type
// "Example.Counter" whose resources are numbers kept by a backend, with a
// pull job. It is compiled and tested with the platform, so the guide
// cannot drift from the contract; it is not in the build's plugin list.
package example

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/workflows"
)

// OfferingType is the type this plugin serves.
const OfferingType = "Example.Counter"

// Queue is the task queue of its provider: a worker runs it where the
// backend is reachable (`waldur worker --queue example`).
const Queue = "example"

// --- The backend half: no database. ---

// Backend is what the provider drives (a cloud's API in a real plugin).
type Backend struct {
	mu     sync.Mutex
	values map[string]int64 // by backend id
}

// Provider is the backend half: it creates, updates and terminates
// counters for orders. Every method is idempotent, keyed by the order's
// resource UUID (an activity may run twice).
type Provider struct{ Backend *Backend }

var (
	_ providers.Provider = Provider{}
	_ providers.Puller   = Provider{}
)

// Name implements providers.Provider.
func (Provider) Name() string { return Queue }

// Validate implements providers.Provider: refusals are coded errors.
func (Provider) Validate(_ context.Context, r providers.Request) error {
	if r.Limits["value"] < 0 {
		return models.Errorf(models.CodeInvalid, "The value cannot be negative.")
	}
	return nil
}

// Create implements providers.Provider.
func (p Provider) Create(_ context.Context, r providers.Request) (providers.Result, error) {
	id := "counter-" + r.ResourceUUID.String() // the same resource, the same id: a retry finds it
	p.Backend.mu.Lock()
	defer p.Backend.mu.Unlock()
	if p.Backend.values == nil {
		p.Backend.values = map[string]int64{}
	}
	p.Backend.values[id] = r.Limits["value"]
	return providers.Result{Done: true, BackendID: id}, nil
}

// Update implements providers.Provider.
func (p Provider) Update(ctx context.Context, r providers.Request) (providers.Result, error) {
	p.Backend.mu.Lock()
	defer p.Backend.mu.Unlock()
	if _, ok := p.Backend.values[r.BackendID]; !ok {
		return providers.Result{}, providers.Permanent(fmt.Errorf("Counter %s is gone.", r.BackendID))
	}
	p.Backend.values[r.BackendID] = r.Limits["value"]
	return providers.Result{Done: true}, nil
}

// Terminate implements providers.Provider: already gone is success.
func (p Provider) Terminate(_ context.Context, r providers.Request) (providers.Result, error) {
	p.Backend.mu.Lock()
	defer p.Backend.mu.Unlock()
	delete(p.Backend.values, r.BackendID)
	return providers.Result{Done: true}, nil
}

// Pull implements providers.Puller: what the backend says now.
func (p Provider) Pull(_ context.Context, r providers.Request) (providers.Result, error) {
	p.Backend.mu.Lock()
	defer p.Backend.mu.Unlock()
	v, ok := p.Backend.values[r.BackendID]
	if !ok {
		return providers.Result{}, providers.Permanent(fmt.Errorf("Counter %s is gone.", r.BackendID))
	}
	return providers.Result{Done: true, Output: fmt.Sprint(v)}, nil
}

// --- The plugin: what it adds to the platform. ---

// Plugin is the integration's one value, listed in internal/plugins.
type Plugin struct{ Backend *Backend }

var (
	_ plugin.Plugin    = Plugin{}
	_ plugin.Workers   = Plugin{}
	_ plugin.Scheduled = Plugin{}
)

// Name implements plugin.Plugin.
func (Plugin) Name() string { return "example" }

// Providers implements plugin.Plugin: the offering type, its queue and
// what its orders allow (here: nothing manual; the provider finishes them).
func (p Plugin) Providers(r *providers.Registry) {
	r.RegisterWith(Provider{Backend: p.Backend}, Queue, providers.Capabilities{}, OfferingType)
}

// PullSchedule runs the pull every hour.
var PullSchedule = workflows.Schedule{ID: "waldur-example-pull", Cron: "17 * * * *", Workflow: PullCounters,
	TaskQueue: workflows.QueueCore, Note: "Example: read every counter back"}

// Schedules implements plugin.Scheduled.
func (Plugin) Schedules() []workflows.Schedule { return []workflows.Schedule{PullSchedule} }

// Workers implements plugin.Workers: the pull workflow on the core queue.
// (Its activities would read the database through d.Store() there, and
// call the backend on Queue.)
func (Plugin) Workers(plugin.Deps) []plugin.Worker {
	return []plugin.Worker{{Queue: workflows.QueueCore, Register: func(w worker.Registry) {
		w.RegisterWorkflow(PullCounters)
	}}}
}

// PullCounters is the pull job's workflow (a stand-in: a real plugin lists
// its resources with a core activity and reads each on its queue).
func PullCounters(ctx workflow.Context) (int, error) {
	return 0, workflow.Sleep(ctx, time.Millisecond)
}
