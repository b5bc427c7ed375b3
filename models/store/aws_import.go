package store

import (
	"context"

	"github.com/waldur-go/waldur/models"
)

// LinkImportedAWS ties a resource imported into an AWS offering to the
// instance or volume row the state pull recorded for its backend id (if
// any), so the import listing (/api/aws-instances/?importable=true) drops
// it at once rather than at the next pull. For the import transaction.
// Codes: internal.
func (s *Store) LinkImportedAWS(ctx context.Context, r ImportedRef, backendID string) error {
	table := "aws_instances"
	if r.OfferingType == "AWS.Volume" {
		table = "aws_volumes"
	}
	err := s.DB.WithContext(ctx).Table(table).Where("offering_id = ? AND backend_id = ?", r.OfferingID, backendID).
		Updates(map[string]any{"resource_id": r.ID, "modified": s.Now()}).Error
	if err != nil {
		return models.Internal(err)
	}
	return nil
}
