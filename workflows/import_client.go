package workflows

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/providers"
)

// ImportTimeout bounds one import call (the backend read is bounded to a
// minute by the workflow).
const ImportTimeout = 90 * time.Second

// MsgImportInProgress is the conflict of a second import of an object
// while the first runs.
const MsgImportInProgress = "This backend resource is being imported already."

// ImportClient runs the import workflows on the core queue for the
// marketplace service (marketplace.Importer) and waits for their results.
type ImportClient struct {
	Client client.Client
}

var _ marketplace.Importer = ImportClient{}

// Importable runs ListImportableResources; concurrent calls for an
// offering share one run.
func (c ImportClient) Importable(ctx context.Context, offering models.UUID) ([]providers.ImportableResource, error) {
	var items []providers.ImportableResource
	err := c.run(ctx, client.StartWorkflowOptions{
		ID:                       ImportableResourcesWorkflowID(offering),
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, ListImportableResources, ListImportableInput{OfferingUUID: offering}, &items)
	return items, err
}

// Import runs ImportResource; a second import of the same object while
// the first runs is refused (conflict).
func (c ImportClient) Import(ctx context.Context, r marketplace.ImportRequest) (models.UUID, error) {
	var id models.UUID
	err := c.run(ctx, client.StartWorkflowOptions{
		ID:                                       ImportResourceWorkflowID(r.OfferingUUID, r.BackendID),
		WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, ImportResource, ImportResourceInput{OfferingUUID: r.OfferingUUID, ProjectUUID: r.ProjectUUID, PlanUUID: r.PlanUUID,
		BackendID: r.BackendID}, &id)
	return id, err
}

// run runs an import workflow on the core queue and waits for its result
// (ImportTimeout), mapping its failure onto the API's errors: the
// provider's or the store's refusal keeps its code (not_found becomes
// invalid: the object named in the request, not the offering, is
// missing); a backend that did not answer and Temporal being down are
// unavailable.
func (c ImportClient) run(ctx context.Context, opts client.StartWorkflowOptions, wf any, in any, out any) error {
	if c.Client == nil {
		return &models.Error{Code: models.CodeUnavailable, Message: MsgTemporalUnavailable}
	}
	ctx, cancel := context.WithTimeout(ctx, ImportTimeout)
	defer cancel()
	opts.TaskQueue = QueueCore
	opts.WorkflowIDReusePolicy = enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	opts.WorkflowExecutionTimeout = ImportTimeout
	run, err := c.Client.ExecuteWorkflow(ctx, opts, wf, in)
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return models.Errorf(models.CodeConflict, MsgImportInProgress)
		}
		return &models.Error{Code: models.CodeUnavailable, Message: MsgTemporalUnavailable, Err: err}
	}
	err = run.Get(ctx, out)
	if err == nil {
		return nil
	}
	if e, ok := temporalclient.Decode(err); ok {
		switch e.Code {
		case models.CodeInvalid, models.CodeConflict, models.CodeQuotaExceeded, models.CodeForbidden:
			return e
		case models.CodeNotFound:
			return models.Errorf(models.CodeInvalid, "%s", e.Message) // the object named in the body, not the URL, is missing
		}
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return &models.Error{Code: models.CodeUnavailable, Message: "The offering's backend refused the request: " + app.Message(), Err: err}
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) || ctx.Err() != nil {
		return &models.Error{Code: models.CodeUnavailable,
			Message: "The offering's backend did not answer in time (is a worker for its queue running?).", Err: err}
	}
	return &models.Error{Code: models.CodeUnavailable, Message: MsgTemporalUnavailable, Err: err}
}
