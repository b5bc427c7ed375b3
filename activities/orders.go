package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// Orders holds the activities of the order workflow that touch the
// database; they run on the core queue.
type Orders struct {
	Store     *store.Store
	Providers *providers.Registry
	// Scopes are the keepers of plugin resources, by offering type (nil: none).
	Scopes map[string]ScopeKeeper
}

// ScopeKeeper keeps the plugin resources of an offering type (a cloud's
// tenant, instance or volume: its marketplace resource's scope) in step with
// its orders. It runs with the order's database activities on the core
// queue; every method must be idempotent (a local activity may run again).
type ScopeKeeper interface {
	// OrderLoaded records the order's plugin resource and resolves what the
	// provider needs from the database into req.Resolved. A reference to
	// nothing is no error here: it travels in req.Resolved and the provider
	// fails the order with it.
	OrderLoaded(ctx context.Context, info *store.OrderInfo, req *providers.Request) error
	// OrderCompleted records what the provider did and read back, through
	// tx: the transaction that records the order done, so the API never
	// shows a done order with its plugin resource still being created.
	OrderCompleted(ctx context.Context, tx *store.Store, info *store.OrderInfo, res providers.Result) error
	// OrderFailed records a failed, rejected or canceled order, through tx
	// (the transaction of the order's change).
	OrderFailed(ctx context.Context, tx *store.Store, info *store.OrderInfo, message string) error
}

// keeper returns the scope keeper of an order and the order's info, read
// through st (nil when the type has none).
func (a *Orders) keeper(ctx context.Context, st *store.Store, id models.UUID) (ScopeKeeper, *store.OrderInfo, error) {
	if len(a.Scopes) == 0 {
		return nil, nil, nil
	}
	info, err := st.OrderInfo(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return a.Scopes[info.OfferingType], info, nil
}

// OrderSnapshot is what the order workflow knows about its order.
type OrderSnapshot struct {
	State        models.OrderState
	Type         models.OrderType
	OfferingType string
	// Queue is the task queue of the offering's provider.
	Queue   string
	Request providers.Request
}

// Deprecated: ErrTypeOrderConflict was the type of a refused order event;
// refusals now carry their models code (temporalclient.Coded).
// it is never retried.
const ErrTypeOrderConflict = "OrderConflict"

// LoadOrder reads the order and resolves its provider's task queue.
func (a *Orders) LoadOrder(ctx context.Context, id models.UUID) (OrderSnapshot, error) {
	info, err := a.Store.OrderInfo(ctx, id)
	if err != nil {
		return OrderSnapshot{}, classify(err)
	}
	_, queue, err := a.Providers.Lookup(info.OfferingType)
	if err != nil {
		return OrderSnapshot{}, temporal.NewNonRetryableApplicationError(err.Error(), "UnknownOfferingType", err)
	}
	snap := OrderSnapshot{
		State: info.Order.State, Type: info.Order.Type, OfferingType: info.OfferingType, Queue: queue,
		Request: providers.Request{
			OrderUUID: info.Order.UUID, OrderType: info.Order.Type, ResourceUUID: info.ResourceUUID, ResourceName: info.ResourceName,
			BackendID: info.ResourceBackendID, OfferingType: info.OfferingType, PluginOptions: info.PluginOptions,
			SecretOptions: info.SecretOptions, Attributes: info.Order.Attributes, Limits: info.Order.Limits,
			ProjectUUID: info.ProjectUUID, ProjectName: info.ProjectName, CustomerUUID: info.CustomerUUID, CustomerName: info.CustomerName,
			OfferingUUID: info.OfferingUUID, OfferingName: info.OfferingName, PlanName: info.PlanName,
		},
	}
	if info.Order.Type == models.OrderUpdate {
		snap.Request.OldLimits = info.ResourceLimits
	}
	if k := a.Scopes[info.OfferingType]; k != nil {
		if err := k.OrderLoaded(ctx, info, &snap.Request); err != nil {
			return OrderSnapshot{}, classify(err)
		}
	}
	return snap, nil
}

// providerCompletes: the type's provider completes its orders itself, so
// it reviews them (models.ReviewContext.ProviderCompletes).
func (a *Orders) providerCompletes(offeringType string) bool {
	if a.Providers == nil {
		return false
	}
	caps, _ := a.Providers.Capabilities(offeringType)
	return caps.ManualCompletion
}

// ApplyOrderEvent applies a review or state event (store.ApplyOrderEvent).
func (a *Orders) ApplyOrderEvent(ctx context.Context, ev store.OrderEvent) (models.OrderState, error) {
	var st models.OrderState
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if st, err = tx.ApplyOrderEvent(ctx, ev, a.providerCompletes); err != nil {
			return err
		}
		if st != models.OrderRejected && st != models.OrderCanceled && st != models.OrderErred {
			return nil // reviews and approvals leave the plugin resource alone: no keeper lookup
		}
		k, info, err := a.keeper(ctx, tx, ev.OrderUUID)
		if err != nil || k == nil {
			return err
		}
		return k.OrderFailed(ctx, tx, info, ev.Message) // with the event, or neither
	})
	return st, classify(err)
}

// CompleteOrderInput is the input of CompleteOrder.
type CompleteOrderInput struct {
	OrderUUID models.UUID
	Result    providers.Result
}

// CompleteOrder records the provider's success (idempotent).
func (a *Orders) CompleteOrder(ctx context.Context, in CompleteOrderInput) error {
	k, info, err := a.keeper(ctx, a.Store, in.OrderUUID)
	if err != nil {
		return classify(err)
	}
	return classify(a.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CompleteOrder(ctx, in.OrderUUID, in.Result.BackendID, in.Result.Metadata, in.Result.Output); err != nil {
			return err
		}
		if k != nil {
			return k.OrderCompleted(ctx, tx, info, in.Result)
		}
		return nil
	}))
}

// FailOrderInput is the input of FailOrder.
type FailOrderInput struct {
	OrderUUID models.UUID
	Message   string
	Output    string // what the backend printed before failing
}

// FailOrder records a final failure and compensates the resource (idempotent).
func (a *Orders) FailOrder(ctx context.Context, in FailOrderInput) error {
	k, info, err := a.keeper(ctx, a.Store, in.OrderUUID)
	if err != nil {
		return classify(err)
	}
	return classify(a.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.FailOrder(ctx, in.OrderUUID, in.Message, in.Output); err != nil {
			return err
		}
		if k != nil {
			return k.OrderFailed(ctx, tx, info, in.Message)
		}
		return nil
	}))
}

// classify makes application errors that a retry cannot change non-retryable.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch models.ErrorCode(err) {
	case models.CodeConflict, models.CodeNotFound, models.CodeInvalid, models.CodeQuotaExceeded:
		return temporalclient.Coded(err)
	}
	return err
}

// Provision runs the provider's side of orders; it is registered on each
// provider's task queue, so it runs where the backend is reachable.
type Provision struct {
	Providers *providers.Registry
	// HeartbeatEvery is how often a long provider call reports liveness.
	HeartbeatEvery time.Duration
}

// ErrTypeProviderRefused marks a permanent provider failure; not retried.
const ErrTypeProviderRefused = "ProviderRefused"

// ProvisionOrder performs the order on the backend (create, update or
// terminate), heartbeating while the provider works. A permanent provider
// error is non-retryable; anything else is retried by the workflow's policy.
// Providers make retries safe: the request carries the order UUID as the
// idempotency key.
func (a *Provision) ProvisionOrder(ctx context.Context, req providers.Request) (providers.Result, error) {
	p, _, err := a.Providers.Lookup(req.OfferingType)
	if err != nil {
		return providers.Result{}, temporal.NewNonRetryableApplicationError(err.Error(), "UnknownOfferingType", err)
	}
	defer Heartbeat(ctx, a.HeartbeatEvery, "provider working")()
	var res providers.Result
	switch req.OrderType {
	case models.OrderCreate:
		res, err = p.Create(ctx, req)
	case models.OrderUpdate:
		res, err = p.Update(ctx, req)
	case models.OrderTerminate:
		res, err = p.Terminate(ctx, req)
	default:
		return res, temporal.NewNonRetryableApplicationError("unknown order type "+string(req.OrderType), "InvalidOrder", nil)
	}
	var perm *providers.PermanentError
	if errors.As(err, &perm) {
		return res, temporal.NewNonRetryableApplicationError(perm.Error(), ErrTypeProviderRefused, perm, perm.Output)
	}
	return res, err
}

// Heartbeat records detail as the activity's heartbeat every interval (5s
// when 0) until the returned stop is called: for an activity that waits on
// a backend, so a worker that dies is noticed within the heartbeat timeout.
func Heartbeat(ctx context.Context, every time.Duration, detail any) (stop func()) {
	if every <= 0 {
		every = 5 * time.Second
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, detail)
			}
		}
	}()
	return func() { close(done) }
}
