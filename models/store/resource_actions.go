package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/waldur-go/waldur/models"
)

// The resource actions that reach past the resource's own columns: pull
// (refresh a resource from its backend, through the provider's worker) and
// unlink (staff's forced removal of a resource from the database).

// ResourcePullInfo is what a pull of a resource sends its provider.
type ResourcePullInfo struct {
	View          *ResourceView
	PluginOptions map[string]any
	SecretOptions map[string]any
	Attributes    map[string]any
	Limits        map[string]int64
	PlanName      string // "" without a plan
}

// ResourcePullInfo loads a resource for a pull. Codes: not_found.
func (s *Store) ResourcePullInfo(ctx context.Context, id models.UUID) (*ResourcePullInfo, error) {
	v, err := s.ResourceViewByUUID(ctx, id)
	if err != nil {
		return nil, err
	}
	var row struct{ SecretOptions []byte }
	if err := s.DB.WithContext(ctx).Table("offerings").Select("secret_options").Where("id = ?", v.OfferingID).Take(&row).Error; err != nil {
		return nil, translate(err, "Offering")
	}
	secret := row.SecretOptions
	info := &ResourcePullInfo{View: v, PlanName: deref(v.PlanName)}
	for raw, dst := range map[*[]byte]any{&v.OfferingPluginOpts: &info.PluginOptions, &secret: &info.SecretOptions,
		&v.Attributes: &info.Attributes, &v.Limits: &info.Limits} {
		if err := jsonUnmarshal(*raw, dst); err != nil {
			return nil, models.Internal(err)
		}
	}
	return info, nil
}

// ResourcePulled is the outcome of a pull: the backend's metadata, or the
// error that ended it.
type ResourcePulled struct {
	Metadata map[string]any // nil: unchanged
	Error    string         // not empty: the pull failed
}

// pulledUpdates is ChangeResource's Pulled case: a resource that is neither OK
// nor Erred any more (an order started changing it meanwhile) is left as
// it is; a successful pull records the metadata and the sync time and
// brings an Erred resource back to OK; a failed one marks an OK resource
// Erred with the error, as Waldur's pull executor.
func pulledUpdates(r *ResourceView, p *ResourcePulled, updates map[string]any) (evType, msg string, skip bool) {
	if r.State != models.ResourceOK && r.State != models.ResourceErred {
		return "", "", true
	}
	if p.Error != "" {
		updates["state"], updates["error_message"], updates["error_traceback"] = models.ResourceErred, p.Error, ""
		return "marketplace_resource_erred_on_backend", fmt.Sprintf("Resource %s could not be pulled from its backend: %s", r.Name, p.Error), false
	}
	if p.Metadata != nil {
		raw, _ := json.Marshal(p.Metadata)
		updates["backend_metadata"] = raw
	}
	updates["last_sync"] = updates["modified"]
	if r.State == models.ResourceErred {
		updates["state"], updates["error_message"], updates["error_traceback"] = models.ResourceOK, "", ""
	}
	return "marketplace_resource_update_succeeded", fmt.Sprintf("Resource %s has been pulled from its backend.", r.Name), false
}

// UnlinkResource deletes a resource from the database without touching
// its backend (Waldur's staff-only unlink, for a resource stuck in a
// transitional state): its orders, usages, plan periods and endpoints go
// with it (foreign keys cascade), invoice items keep their figures without
// it, plugin resources are let go; a resource that was not Terminated
// gives its nc_resource_count back. One transaction with the
// marketplace_resource_unlinked event. It returns the UUIDs of the
// resource's orders that had not ended, whose workflows the caller stops.
// Codes: not_found.
func (s *Store) UnlinkResource(ctx context.Context, id models.UUID) (running []models.UUID, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		r, err := tx.lockedResource(ctx, db, id)
		if err != nil {
			return err
		}
		running = nil
		var orders []struct {
			UUID  models.UUID
			State models.OrderState
		}
		if err := db.Table("orders").Select("uuid, state").Where("resource_id = ?", r.ID).Scan(&orders).Error; err != nil {
			return models.Internal(err)
		}
		for _, o := range orders {
			if !o.State.Terminal() {
				running = append(running, o.UUID)
			}
		}
		if r.State != models.ResourceTerminated {
			if err := tx.releaseResourceCount(ctx, r.CustomerID, r.ProjectID); err != nil {
				return err
			}
		}
		if err := db.Where("id = ?", r.ID).Delete(&resourceRow{}).Error; err != nil {
			return translate(err, "Resource")
		}
		return tx.EmitEvent(ctx, &models.Event{
			EventType: "marketplace_resource_unlinked",
			Message:   fmt.Sprintf("Resource %s has been unlinked.", r.Name),
			Context: map[string]any{"resource_uuid": r.UUID.String(), "resource_name": r.Name, "resource_state": string(r.State),
				"offering_uuid": r.OfferingUUID.String(), "offering_name": r.OfferingName},
			Scopes: []models.Scope{{Type: models.ScopeProject, ID: r.ProjectID}, {Type: models.ScopeCustomer, ID: r.CustomerID},
				{Type: models.ScopeOffering, ID: r.OfferingID}},
		})
	})
	return running, err
}
