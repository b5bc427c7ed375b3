package openstack

import (
	"context"
	"fmt"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// Imports of servers and volumes into OpenStack.Instance and
// OpenStack.Volume offerings (the database side; the cloud side is
// Provider's Importer).
//
// Which tenants an offering imports from: the one its plugin_options name
// (tenant: the URL or UUID of an OpenStack tenant or of its marketplace
// resource), else every tenant (OK, in the cloud) of the OpenStack.Tenant
// offerings of the offering's own customer, the clouds its provider runs.
// An imported object goes into the project of its tenant.

var _ activities.ImportKeeper = (*Keeper)(nil)

// importKeepers maps the OpenStack offering types to k (for
// Imports.Keepers).
func importKeepers(k *Keeper) map[string]activities.ImportKeeper {
	return map[string]activities.ImportKeeper{OfferingTenant: k, OfferingInstance: k, OfferingVolume: k}
}

// ImportLoaded implements activities.ImportKeeper: the offering's tenants with their
// clouds' credentials go into Request.Resolved (ImportSource).
// Tenants are not imported (invalid); a tenant option that names no ready
// tenant is invalid.
func (k *Keeper) ImportLoaded(ctx context.Context, o *store.ImportOffering, req *providers.Request) error {
	if o.Type == OfferingTenant {
		return models.Errorf(models.CodeInvalid, "Offering type %s does not support importing resources.", o.Type)
	}
	var targets []PullTarget
	if v := attrs(o.PluginOptions).str("tenant"); v != "" {
		id, err := models.ParseUUID(ref(v))
		if err != nil {
			return models.Errorf(models.CodeInvalid, "The offering's option tenant %q is not a tenant reference.", v)
		}
		t, err := k.Store.TenantByRef(ctx, id)
		if models.IsCode(err, models.CodeNotFound) {
			return models.Errorf(models.CodeInvalid, "The offering's tenant %s does not exist.", v)
		} else if err != nil {
			return err
		}
		if t.State != models.CoreOK || t.BackendID == "" {
			return models.Errorf(models.CodeInvalid, "The offering's tenant %s is not ready (state %s).", t.Name, t.State)
		}
		secrets, err := k.Store.TenantSecrets(ctx, t.ID)
		if err != nil {
			return err
		}
		targets = []PullTarget{{UUID: t.UUID, Name: t.Name, BackendID: t.BackendID, SecretOptions: secrets}}
	} else {
		var err error
		if targets, err = k.Store.ImportTenants(ctx, o.CustomerID); err != nil {
			return err
		}
	}
	src := ImportSource{Tenants: []ImportTenant{}}
	for _, t := range targets {
		conn, err := ConnectionFrom(t.SecretOptions)
		if err != nil {
			return models.Errorf(models.CodeInvalid, "Tenant %s: %s", t.Name, message(err))
		}
		src.Tenants = append(src.Tenants, ImportTenant{UUID: t.UUID.String(), Name: t.Name, BackendID: t.BackendID, Connection: conn})
	}
	req.Resolved = providers.MustEncode(src)
	return nil
}

// ImportRecorded implements activities.ImportKeeper: the resource becomes the scope
// of the server's or volume's row in its tenant (store.LinkImportedOpenStack).
func (k *Keeper) ImportRecorded(ctx context.Context, tx *store.Store, r store.ImportedRef, in store.ImportResourceInput) error {
	imp, err := providers.Decode[Imported](in.Pulled)
	if err != nil {
		return fmt.Errorf("the provider's read of the import is malformed: %w", err)
	}
	tenant, err := models.ParseUUID(imp.TenantUUID)
	if err != nil {
		return fmt.Errorf("the provider's read of the import names no tenant (%q)", imp.TenantUUID)
	}
	return NewStore(tx).LinkImported(ctx, r, tenant, imp.Snapshot)
}
