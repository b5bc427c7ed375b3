package store

import (
	"context"
	"time"

	"github.com/waldur-go/waldur/models"
)

// BackendResource is a marketplace resource as a state pull compares it
// with its backend.
type BackendResource struct {
	UUID      models.UUID
	Name      string
	BackendID string
	State     models.ResourceState
	Modified  time.Time
}

// BackendResources lists the offering's resources in one of states that
// have a backend id and were last changed before before (a resource that
// changed after the backend was listed is left to the next pull). For the
// state pull activities. Codes: internal.
func (s *Store) BackendResources(ctx context.Context, offeringID int64, before time.Time, states ...models.ResourceState) ([]BackendResource, error) {
	var out []BackendResource
	err := s.DB.WithContext(ctx).Table("resources").Select("uuid, name, backend_id, state, modified").
		Where("offering_id = ? AND state IN ? AND backend_id <> '' AND modified < ?", offeringID, states, before).
		Order("id").Scan(&out).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return out, nil
}

// MarkErredOnBackend marks an OK resource Erred because its backend object
// is gone (ChangeResource: event marketplace_resource_erred_on_backend),
// only if it is still OK and unchanged since before (an order that took it
// meanwhile wins). For the state pull activities. Codes: not_found,
// conflict (it moved on).
func (s *Store) MarkErredOnBackend(ctx context.Context, id models.UUID, before time.Time, message string) error {
	return s.Tx(ctx, func(tx *Store) error {
		var cur struct {
			State    models.ResourceState
			Modified time.Time
		}
		q := forUpdate(tx.DB.WithContext(ctx).Table("resources").Select("state, modified").Where("uuid = ?", id))
		if err := q.Take(&cur).Error; err != nil {
			return translate(err, "Resource")
		}
		if cur.State != models.ResourceOK || !cur.Modified.Before(before) {
			return models.Errorf(models.CodeConflict, "Resource changed since the backend was listed.")
		}
		return tx.ChangeResource(ctx, id, ResourceChange{State: models.ResourceErred, ErrorMessage: message})
	})
}
