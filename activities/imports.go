package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// Imports holds the database side of importing backend objects as
// resources (importable_resources, import_resource); the provider side is
// Provision.ListImportable and Provision.DescribeImport, on the provider's
// queue.
type Imports struct {
	Store     *store.Store
	Providers *providers.Registry
}

// ImportTarget is an offering's provider queue and the request its
// provider gets (type, options, UUID).
type ImportTarget struct {
	Queue   string
	Request providers.Request
}

// ErrTypeImportUnsupported marks an offering whose provider cannot import.
const ErrTypeImportUnsupported = "invalid"

// LoadImportTarget reads the offering and resolves its provider. An
// unknown offering is not_found, a type whose provider cannot import is
// invalid; neither is retried.
func (a *Imports) LoadImportTarget(ctx context.Context, offering models.UUID) (ImportTarget, error) {
	o, err := a.Store.ImportOfferingByUUID(ctx, offering)
	if err != nil {
		return ImportTarget{}, classify(err)
	}
	p, queue, err := a.Providers.Lookup(o.Type)
	if err == nil {
		if _, ok := p.(providers.Importer); !ok {
			err = models.Errorf(models.CodeInvalid, "Offering type %s does not support importing resources.", o.Type)
		}
	}
	if err != nil {
		return ImportTarget{}, temporal.NewNonRetryableApplicationError(appMessage(err), ErrTypeImportUnsupported, err)
	}
	return ImportTarget{Queue: queue, Request: providers.Request{OfferingType: o.Type, OfferingUUID: o.UUID, OfferingName: o.Name,
		PluginOptions: o.PluginOptions, SecretOptions: o.SecretOptions}}, nil
}

// FilterImportableInput is the input of FilterImportable.
type FilterImportableInput struct {
	OfferingUUID models.UUID
	Items        []providers.ImportableResource
}

// FilterImportable drops the objects a resource of the offering (not
// terminated) has already.
func (a *Imports) FilterImportable(ctx context.Context, in FilterImportableInput) ([]providers.ImportableResource, error) {
	ids := make([]string, len(in.Items))
	for i, it := range in.Items {
		ids[i] = it.BackendID
	}
	used, err := a.Store.UsedBackendIDs(ctx, in.OfferingUUID, ids)
	if err != nil {
		return nil, err
	}
	out := []providers.ImportableResource{}
	for _, it := range in.Items {
		if !used[it.BackendID] {
			out = append(out, it)
		}
	}
	return out, nil
}

// RecordImport records the described object as a resource
// (store.ImportResource); refusals are not retried.
func (a *Imports) RecordImport(ctx context.Context, in store.ImportResourceInput) (models.UUID, error) {
	id, err := a.Store.ImportResource(ctx, in)
	if err != nil && models.ErrorCode(err) != models.CodeInternal {
		return id, temporal.NewNonRetryableApplicationError(appMessage(err), string(models.ErrorCode(err)), err)
	}
	return id, err
}

// ListImportable lists the backend objects of the request's offering that
// could become resources (its provider's providers.Importer).
func (a *Provision) ListImportable(ctx context.Context, req providers.Request) ([]providers.ImportableResource, error) {
	imp, err := a.importer(req.OfferingType)
	if err != nil {
		return nil, err
	}
	out, err := imp.Importable(ctx, req)
	if err != nil {
		return nil, providerError(err)
	}
	return out, nil
}

// DescribeImport reads the backend object req.BackendID for an import.
func (a *Provision) DescribeImport(ctx context.Context, req providers.Request) (providers.ImportedResource, error) {
	imp, err := a.importer(req.OfferingType)
	if err != nil {
		return providers.ImportedResource{}, err
	}
	out, err := imp.DescribeImport(ctx, req)
	if err != nil {
		return out, providerError(err)
	}
	return out, nil
}

func (a *Provision) importer(offeringType string) (providers.Importer, error) {
	p, _, err := a.Providers.Lookup(offeringType)
	if err == nil {
		if imp, ok := p.(providers.Importer); ok {
			return imp, nil
		}
		err = models.Errorf(models.CodeInvalid, "Offering type %s does not support importing resources.", offeringType)
	}
	return nil, temporal.NewNonRetryableApplicationError(appMessage(err), ErrTypeImportUnsupported, err)
}
