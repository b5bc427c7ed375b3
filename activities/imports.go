package activities

import (
	"context"
	"maps"

	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/internal/temporalclient"
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
	// Keepers are the database side of offering types whose resources
	// have plugin rows, by offering type (nil: none).
	Keepers map[string]ImportKeeper
}

// ImportKeeper is the database side of importing an offering type's
// backend objects, for types whose resources have plugin rows (a cloud's
// instances and volumes, pulled instances and volumes). Its methods
// run on the core queue.
type ImportKeeper interface {
	// ImportLoaded completes the request the provider's Importer gets:
	// what it needs from the database travels in Request.Resolved (the
	// tenants a cloud offering imports from). A refusal is a coded
	// error (invalid).
	ImportLoaded(ctx context.Context, o *store.ImportOffering, req *providers.Request) error
	// ImportRecorded links the resource just recorded to the type's plugin
	// rows (a store.ImportLink: in the recording transaction, an error
	// rolls the import back).
	ImportRecorded(ctx context.Context, tx *store.Store, r store.ImportedRef, in store.ImportResourceInput) error
}

// ImportKeepers merges maps of keepers by offering type (for Imports.Keepers).
func ImportKeepers(ms ...map[string]ImportKeeper) map[string]ImportKeeper {
	out := map[string]ImportKeeper{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
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
		return ImportTarget{}, temporal.NewNonRetryableApplicationError(AppMessage(err), ErrTypeImportUnsupported, err)
	}
	req := providers.Request{OfferingType: o.Type, OfferingUUID: o.UUID, OfferingName: o.Name,
		PluginOptions: o.PluginOptions, SecretOptions: o.SecretOptions}
	if k := a.Keepers[o.Type]; k != nil {
		if err := k.ImportLoaded(ctx, o, &req); err != nil {
			return ImportTarget{}, importError(err)
		}
	}
	return ImportTarget{Queue: queue, Request: req}, nil
}

// importError makes a coded refusal non-retryable with its code as the
// type (the API answers with it); other failures are retried.
func importError(err error) error {
	if err != nil && models.ErrorCode(err) != models.CodeInternal {
		return temporalclient.Coded(err)
	}
	return err
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
// (store.ImportResource), linked to its plugin rows by the offering
// type's ImportKeeper; refusals are not retried.
func (a *Imports) RecordImport(ctx context.Context, in store.ImportResourceInput) (models.UUID, error) {
	var link store.ImportLink
	if len(a.Keepers) > 0 {
		o, err := a.Store.ImportOfferingByUUID(ctx, in.OfferingUUID)
		if err != nil {
			return models.UUID{}, importError(err)
		}
		if k := a.Keepers[o.Type]; k != nil {
			link = k.ImportRecorded
		}
	}
	id, err := a.Store.ImportResourceLinked(ctx, in, link)
	return id, importError(err)
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
		return nil, ProviderError(err)
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
		return out, ProviderError(err)
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
	return nil, temporal.NewNonRetryableApplicationError(AppMessage(err), ErrTypeImportUnsupported, err)
}
