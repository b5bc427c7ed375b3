package activities

import (
	"context"
	"strings"

	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/aws"
)

// AWSImportKeeper is the database side of imports into AWS offerings: the
// resource is linked to the state pull's row of its instance or volume.
type AWSImportKeeper struct{}

var _ ImportKeeper = AWSImportKeeper{}

// AWSImportKeepers maps the AWS offering types to the keeper (for Imports.Keepers).
func AWSImportKeepers() map[string]ImportKeeper {
	return map[string]ImportKeeper{aws.OfferingInstance: AWSImportKeeper{}, aws.OfferingVolume: AWSImportKeeper{}}
}

// ImportLoaded implements ImportKeeper: the provider needs only the
// offering's options.
func (AWSImportKeeper) ImportLoaded(context.Context, *store.ImportOffering, *providers.Request) error {
	return nil
}

// ImportRecorded implements ImportKeeper (store.LinkImportedAWS).
func (AWSImportKeeper) ImportRecorded(ctx context.Context, tx *store.Store, r store.ImportedRef, in store.ImportResourceInput) error {
	return tx.LinkImportedAWS(ctx, r, strings.TrimSpace(in.BackendID))
}
