package workflows

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/models/store"
)

// MsgTemporalUnavailable is the 503 detail when the workflow service cannot
// be reached.
const MsgTemporalUnavailable = "The workflow service (Temporal) is unavailable; try again later."

// OrderClient is the one place that talks to Temporal about an order: it
// starts the order's workflow and records that it exists (the outbox the
// dispatcher drains), and sends the workflow review and state events. The
// API, the dispatcher and the periodic jobs all use it.
type OrderClient struct {
	Client client.Client
	Store  *store.Store
}

// Start starts the order's workflow (a second start is a no-op) and marks
// the order started. A failure leaves the order in the outbox: the
// dispatcher starts it later.
func (c OrderClient) Start(ctx context.Context, o OrderRef) error {
	if c.Client == nil {
		return &models.Error{Code: models.CodeUnavailable, Message: MsgTemporalUnavailable}
	}
	if err := StartOrder(ctx, c.Client, o.UUID); err != nil {
		return err
	}
	return c.Store.MarkOrderWorkflowStarted(ctx, o.ID)
}

// OrderRef names an order: its UUID (the workflow's) and its row.
type OrderRef = marketplace.Ref

var _ marketplace.Engine = OrderClient{}

// Send delivers a to the order's workflow (started first if needed) and
// waits for the new state. A refusal keeps the code it crossed Temporal
// with (invalid 400, conflict 409, …); with retry, a momentary refusal (the
// provider activity still being recorded) is retried until ctx ends; an
// order whose workflow is closed is a conflict; Temporal unreachable is
// unavailable.
func (c OrderClient) Send(ctx context.Context, o OrderRef, a OrderAction, retry bool) (models.OrderState, error) {
	if c.Client == nil {
		return "", &models.Error{Code: models.CodeUnavailable, Message: MsgTemporalUnavailable}
	}
	if err := StartOrder(ctx, c.Client, o.UUID); err != nil {
		return "", OrderError(err)
	}
	_ = c.Store.MarkOrderWorkflowStarted(ctx, o.ID) // the dispatcher retries a missed mark
	backoff := 20 * time.Millisecond
	for {
		var st models.OrderState
		h, err := c.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: OrderWorkflowID(o.UUID), UpdateName: UpdateOrderEvent,
			Args: []any{a}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, &st)
		}
		if err == nil {
			return st, nil
		}
		if retry && temporalclient.IsBusy(err) && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 500*time.Millisecond)
			continue
		}
		return "", OrderError(err)
	}
}

// OrderError maps an error of a Temporal call about an order onto the
// platform's errors: a coded refusal keeps its code; a momentary one and
// any other application error are conflicts; a closed workflow is a
// conflict; anything else means Temporal is unavailable.
func OrderError(err error) error {
	if e, ok := temporalclient.Decode(err); ok {
		return e
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return models.Errorf(models.CodeConflict, "%s", app.Message())
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return models.Errorf(models.CodeConflict, "Order is already in a final state.")
	}
	return &models.Error{Code: models.CodeUnavailable, Message: MsgTemporalUnavailable, Err: err}
}
