// Package providers holds the provider contract, the registry keyed by
// offering type, and one sub-package per provider. Each provider's
// activities run on its own task queue, so its workers can run wherever the
// backend is reachable (waldur worker --queue NAME).
package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// Request is what a provider gets to act on one order. Everything a
// provider needs travels in it (activities must not read the API's state
// behind the workflow's back), and OrderUUID is the idempotency key: a
// provider must make a retried call with the same OrderUUID a no-op (look
// up before create, client tokens, names or tags that carry it).
type Request struct {
	OrderUUID    models.UUID
	OrderType    models.OrderType
	ResourceUUID models.UUID
	ResourceName string
	BackendID    string // the backend's id of the resource, once known
	OfferingType string
	// Options are the offering's plugin and secret options (credentials, scripts).
	PluginOptions map[string]any
	SecretOptions map[string]any
	Attributes    map[string]any
	Limits        map[string]int64
	OldLimits     map[string]int64
	PlanName      string
	ProjectUUID   models.UUID
	ProjectName   string
	CustomerUUID  models.UUID
	CustomerName  string
	OfferingUUID  models.UUID
	OfferingName  string
	// Resolved is what the core looked up in the database for the provider
	// (a cloud instance's tenant, flavor and image backend ids, the
	// tenant's cloud credentials): providers read no database. Set by the
	// offering type's activities.ScopeKeeper; nil for most types. It is
	// the JSON of the plugin's own type, opaque to the core (see Encode,
	// Decode).
	Resolved json.RawMessage
}

// Result is what a provider reports back.
type Result struct {
	// Done: the change is complete on the backend. False means the order
	// waits for an outside party (a provider's operator or site agent) to
	// finish it through the API (Basic and Slurm offerings).
	Done      bool
	BackendID string
	// Metadata is stored as the resource's backend_metadata; Output as the order's output.
	Metadata map[string]any
	Output   string
	// Pulled is what the provider read back from the backend for the
	// offering type's plugin resources (a cloud tenant's networks and
	// flavors, an instance's ports and volumes); the core records it through
	// the type's activities.ScopeKeeper. Not stored on the resource. It is
	// the JSON of the plugin's own type, opaque to the core (see Encode,
	// Decode).
	Pulled json.RawMessage
}

// Provider performs orders of one or more offering types. Methods are
// called from activities (with heartbeats and retries): they must be
// idempotent per Request.OrderUUID and return a permanent error (see
// Permanent) for failures a retry cannot fix.
type Provider interface {
	// Name is the provider's name and the default task queue of its workers.
	Name() string
	// Validate checks an order before it is accepted (attributes, limits).
	Validate(ctx context.Context, r Request) error
	Create(ctx context.Context, r Request) (Result, error)
	Update(ctx context.Context, r Request) (Result, error)
	Terminate(ctx context.Context, r Request) (Result, error)
}

// Puller is a provider that can refresh a resource's state from its backend.
type Puller interface {
	Pull(ctx context.Context, r Request) (Result, error)
}

// PermanentError marks a failure that retrying will not fix (bad input,
// refused by the backend); workflows fail the order at once.
type PermanentError struct {
	Err error
	// Output is what the backend printed before failing (kept in the order's output).
	Output string
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// PermanentWithOutput is Permanent keeping what the backend printed.
func PermanentWithOutput(err error, output string) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err, Output: output}
}

// Permanent wraps err as a PermanentError.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Registry maps offering types to providers and their task queues.
type Registry struct {
	mu     sync.RWMutex
	byType map[string]entry
}

type entry struct {
	p     Provider
	queue string
	caps  Capabilities
}

// Capabilities are what the platform may do with an offering type's orders
// besides running its provider (the API asks the registry, never the type).
type Capabilities struct {
	// ManualCompletion: the provider's side — a person, or a site agent —
	// finishes executing orders (set_state_done); it also reviews every
	// order (models.ReviewContext.ProviderCompletes).
	ManualCompletion bool
	// AgentDriven: a site agent moves orders with set_state_executing and
	// set_state_erred.
	AgentDriven bool
	// Cancelable: an order waiting for the provider may be canceled.
	Cancelable bool
	// WholeUsageUnits: usage is billed in whole units, rounded up per
	// component and month (billing.WholeUsageUnits).
	WholeUsageUnits bool
	// ScopePath is where the API serves the plugin resources of the
	// offering type (a cloud tenant: "/api/openstack-tenants/"): a
	// marketplace resource's scope (Waldur's Resource.scope) is that path
	// and the plugin resource's UUID. Empty: the type has none.
	ScopePath string
	// Pull: the type's provider refreshes a resource from its backend
	// (it is a Puller; set by RegisterWith), so its resources answer the
	// API's pull action.
	Pull bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byType: map[string]entry{}} }

// Register makes p serve the offering types, on task queue queue ("" = p.Name()).
func (r *Registry) Register(p Provider, queue string, offeringTypes ...string) {
	r.RegisterWith(p, queue, Capabilities{}, offeringTypes...)
}

// RegisterWith is Register with the offering types' capabilities.
func (r *Registry) RegisterWith(p Provider, queue string, caps Capabilities, offeringTypes ...string) {
	if queue == "" {
		queue = p.Name()
	}
	if caps.WholeUsageUnits {
		billing.DeclareWholeUsageUnits(offeringTypes...)
	}
	_, caps.Pull = p.(Puller)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range offeringTypes {
		if _, dup := r.byType[t]; dup {
			panic(fmt.Sprintf("providers: offering type %s registered twice", t))
		}
		r.byType[t] = entry{p: p, queue: queue, caps: caps}
	}
}

// Lookup returns the provider and task queue of an offering type.
func (r *Registry) Lookup(offeringType string) (Provider, string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.byType[offeringType]
	if !ok {
		return nil, "", models.Errorf(models.CodeInvalid, "Offering type %q is not supported.", offeringType)
	}
	return e.p, e.queue, nil
}

// Capabilities returns an offering type's capabilities; ok is false for
// a type no provider serves.
func (r *Registry) Capabilities(offeringType string) (caps Capabilities, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.byType[offeringType]
	return e.caps, ok
}

// Types lists the registered offering types, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.byType))
	for t := range r.byType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Queues lists the distinct task queues, sorted.
func (r *Registry) Queues() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	seen := map[string]bool{}
	var out []string
	for _, e := range r.byType {
		if !seen[e.queue] {
			seen[e.queue] = true
			out = append(out, e.queue)
		}
	}
	sort.Strings(out)
	return out
}
