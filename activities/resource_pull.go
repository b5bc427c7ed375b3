package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// The pull of one resource (the API's pull action): its request is read on
// the core queue, the backend on the provider's queue (PullResource), the
// outcome recorded on the core queue again.

// ResourcePullSnapshot is what the pull workflow knows about its resource.
type ResourcePullSnapshot struct {
	// Pullable is false when the resource left OK and Erred, or its type's
	// provider cannot pull: the workflow ends without calling the backend.
	Pullable bool
	Queue    string
	Request  providers.Request
}

// LoadResourcePull reads the resource and resolves its provider's queue.
func (a *Orders) LoadResourcePull(ctx context.Context, id models.UUID) (ResourcePullSnapshot, error) {
	info, err := a.Store.ResourcePullInfo(ctx, id)
	if err != nil {
		return ResourcePullSnapshot{}, classify(err)
	}
	v := info.View
	p, queue, err := a.Providers.Lookup(v.OfferingType)
	if err != nil {
		return ResourcePullSnapshot{}, temporal.NewNonRetryableApplicationError(err.Error(), "UnknownOfferingType", err)
	}
	_, puller := p.(providers.Puller)
	snap := ResourcePullSnapshot{
		Pullable: puller && (v.State == models.ResourceOK || v.State == models.ResourceErred),
		Queue:    queue,
		Request: providers.Request{ResourceUUID: v.UUID, ResourceName: v.Name, BackendID: v.BackendID, OfferingType: v.OfferingType,
			PluginOptions: info.PluginOptions, SecretOptions: info.SecretOptions, Attributes: info.Attributes, Limits: info.Limits,
			ProjectUUID: v.ProjectUUID, ProjectName: v.ProjectName, CustomerUUID: v.CustomerUUID, CustomerName: v.CustomerName,
			OfferingUUID: v.OfferingUUID, OfferingName: v.OfferingName, PlanName: info.PlanName},
	}
	return snap, nil
}

// RecordPullInput is the outcome of a pull for RecordResourcePull.
type RecordPullInput struct {
	ResourceUUID models.UUID
	Pulled       store.ResourcePulled
}

// RecordResourcePull records a pull's outcome on the resource
// (store.ChangeResource); a resource unlinked meanwhile is no error.
func (a *Orders) RecordResourcePull(ctx context.Context, in RecordPullInput) error {
	err := a.Store.ChangeResource(ctx, in.ResourceUUID, store.ResourceChange{Pulled: &in.Pulled})
	if models.IsCode(err, models.CodeNotFound) {
		return nil
	}
	return classify(err)
}

// PullResource reads a resource back from its backend (providers.Puller),
// on the provider's queue. A permanent provider error is non-retryable.
func (a *Provision) PullResource(ctx context.Context, req providers.Request) (providers.Result, error) {
	p, _, err := a.Providers.Lookup(req.OfferingType)
	if err != nil {
		return providers.Result{}, temporal.NewNonRetryableApplicationError(err.Error(), "UnknownOfferingType", err)
	}
	puller, ok := p.(providers.Puller)
	if !ok {
		return providers.Result{}, temporal.NewNonRetryableApplicationError("the offering type's provider cannot pull", "NotPullable", nil)
	}
	res, err := puller.Pull(ctx, req)
	var perm *providers.PermanentError
	if errors.As(err, &perm) {
		return res, temporal.NewNonRetryableApplicationError(perm.Error(), ErrTypeProviderRefused, perm, perm.Output)
	}
	return res, err
}
