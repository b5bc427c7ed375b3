package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// Imports of backend objects made outside Waldur as resources: the API's
// importable_resources and import_resource run these workflows (core
// queue) and wait for their result; the backend is read on the offering
// provider's queue (activities.Provision.ListImportable, DescribeImport),
// where it is reachable. Providers that can import implement
// providers.Importer.

// ImportableResourcesWorkflowID is the listing of an offering's importable
// objects; concurrent requests share one run.
func ImportableResourcesWorkflowID(offering models.UUID) string {
	return "importable-" + offering.String()
}

// ImportResourceWorkflowID is the import of one backend object: one at a
// time per offering and backend id.
func ImportResourceWorkflowID(offering models.UUID, backendID string) string {
	return "import-" + offering.String() + "-" + backendID
}

// RegisterImports registers the import workflows and their database
// activities on a core-queue worker (the provider side is registered with
// activities.Provision on each provider's queue).
func RegisterImports(w worker.Registry, a *activities.Imports) {
	w.RegisterWorkflow(ListImportableResources)
	w.RegisterWorkflow(ImportResource)
	w.RegisterActivity(a)
}

// importDB: the database steps, local to the core worker.
func importDB(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumAttempts: 3}})
}

// importBackend: the backend read on the provider's queue. Someone waits
// for the answer, so it is tried briefly: a backend that does not answer
// within a minute fails the request.
func importBackend(ctx workflow.Context, queue string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              queue,
		ScheduleToCloseTimeout: time.Minute,
		StartToCloseTimeout:    50 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 2},
	})
}

// ListImportableInput is the input of ListImportableResources.
type ListImportableInput struct {
	OfferingUUID models.UUID
}

// ListImportableResources lists the backend objects of the offering that
// no resource of it (not terminated) has yet, in the backend's order.
func ListImportableResources(ctx workflow.Context, in ListImportableInput) ([]providers.ImportableResource, error) {
	var a *activities.Imports
	var p *activities.Provision
	var target activities.ImportTarget
	if err := workflow.ExecuteLocalActivity(importDB(ctx), a.LoadImportTarget, in.OfferingUUID).Get(ctx, &target); err != nil {
		return nil, err
	}
	var items []providers.ImportableResource
	if err := workflow.ExecuteActivity(importBackend(ctx, target.Queue), p.ListImportable, target.Request).Get(ctx, &items); err != nil {
		return nil, err
	}
	var out []providers.ImportableResource
	err := workflow.ExecuteLocalActivity(importDB(ctx), a.FilterImportable,
		activities.FilterImportableInput{OfferingUUID: in.OfferingUUID, Items: items}).Get(ctx, &out)
	return out, err
}

// ImportResourceInput is the input of ImportResource.
type ImportResourceInput struct {
	OfferingUUID models.UUID
	ProjectUUID  models.UUID
	PlanUUID     *models.UUID
	BackendID    string
}

// ImportResource reads the backend object (its provider's DescribeImport)
// and records it as a resource of the offering in the project
// (store.ImportResource), returning the resource's UUID.
func ImportResource(ctx workflow.Context, in ImportResourceInput) (models.UUID, error) {
	var a *activities.Imports
	var p *activities.Provision
	var target activities.ImportTarget
	if err := workflow.ExecuteLocalActivity(importDB(ctx), a.LoadImportTarget, in.OfferingUUID).Get(ctx, &target); err != nil {
		return models.UUID{}, err
	}
	req := target.Request
	req.BackendID = in.BackendID
	var obj providers.ImportedResource
	if err := workflow.ExecuteActivity(importBackend(ctx, target.Queue), p.DescribeImport, req).Get(ctx, &obj); err != nil {
		return models.UUID{}, err
	}
	var id models.UUID
	err := workflow.ExecuteLocalActivity(importDB(ctx), a.RecordImport, store.ImportResourceInput{
		OfferingUUID: in.OfferingUUID, ProjectUUID: in.ProjectUUID, PlanUUID: in.PlanUUID, BackendID: obj.BackendID,
		Name: obj.Name, Description: obj.Description, Limits: obj.Limits, BackendMetadata: obj.Metadata, Pulled: obj.Pulled}).Get(ctx, &id)
	return id, err
}
