package aws

import (
	"context"
	"strings"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// ImportKeeper is the database side of imports into AWS offerings (core
// half): the resource is linked to the state pull's row of its instance or
// volume.
type ImportKeeper struct{}

var _ activities.ImportKeeper = ImportKeeper{}

// ImportLoaded implements activities.ImportKeeper: the provider needs only
// the offering's options.
func (ImportKeeper) ImportLoaded(context.Context, *store.ImportOffering, *providers.Request) error {
	return nil
}

// ImportRecorded implements activities.ImportKeeper (LinkImported).
func (ImportKeeper) ImportRecorded(ctx context.Context, tx *store.Store, r store.ImportedRef, in store.ImportResourceInput) error {
	return LinkImported(ctx, tx, r, strings.TrimSpace(in.BackendID))
}

// LinkImported ties a resource imported into an AWS offering to the
// instance or volume row the state pull recorded for its backend id (if
// any), so the import listing (/api/aws-instances/?importable=true) drops
// it at once rather than at the next pull. For the import transaction.
// Codes: internal.
func LinkImported(ctx context.Context, s *store.Store, r store.ImportedRef, backendID string) error {
	table := "aws_instances"
	if r.OfferingType == OfferingVolume {
		table = "aws_volumes"
	}
	err := s.DB.WithContext(ctx).Table(table).Where("offering_id = ? AND backend_id = ?", r.OfferingID, backendID).
		Updates(map[string]any{"resource_id": r.ID, "modified": s.Now()}).Error
	if err != nil {
		return models.Internal(err)
	}
	return nil
}
