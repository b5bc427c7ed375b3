package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/waldur-go/waldur/models"
)

// ImportResourceInput is a backend object to record as a marketplace
// resource (import_resource): the provider describes it, the caller says
// where it goes.
type ImportResourceInput struct {
	OfferingUUID models.UUID
	ProjectUUID  models.UUID
	// PlanUUID is the plan to bill it on; nil takes the offering's only
	// active plan when it has exactly one (else the resource has no plan).
	PlanUUID        *models.UUID
	BackendID       string
	Name            string
	Description     string
	Limits          map[string]int64
	BackendMetadata map[string]any
	// Pulled is the provider's read of the object for the offering type's
	// plugin rows (providers.ImportedResource.Pulled: the JSON of the
	// plugin's own type, opaque here); see ImportLink.
	Pulled json.RawMessage
}

// ImportedRef is the resource an import has just recorded, as an
// ImportLink sees it.
type ImportedRef struct {
	ID           int64
	UUID         models.UUID
	Name         string
	ProjectID    int64
	OfferingID   int64
	OfferingType string
}

// ImportLink ties an imported resource to its offering type's plugin rows
// (a cloud instance row, a pulled instance) inside the
// transaction that records it; an error rolls the import back.
type ImportLink func(ctx context.Context, tx *Store, r ImportedRef, in ImportResourceInput) error

// ImportResource records a backend object as a resource of the offering in
// the project, in state OK (it exists already), in one transaction with the
// project's and customer's nc_resource_count and the
// marketplace_resource_create_succeeded event. Billing counts it active
// from now on its plan and limits. Refused (code invalid): a removed
// project, a blocked or archived customer, an archived offering, a plan of
// another offering, a backend id that a resource of the offering not
// terminated already has. Codes: invalid, not_found, quota_exceeded.
func (s *Store) ImportResource(ctx context.Context, in ImportResourceInput) (models.UUID, error) {
	return s.ImportResourceLinked(ctx, in, nil)
}

// ImportResourceLinked is ImportResource that runs link (when not nil) in
// its transaction once the resource row exists, before the counts and the
// event. Codes: those of ImportResource and of link.
func (s *Store) ImportResourceLinked(ctx context.Context, in ImportResourceInput, link ImportLink) (models.UUID, error) {
	backendID := strings.TrimSpace(in.BackendID)
	if backendID == "" {
		return models.UUID{}, models.FieldError("backend_id", "This field may not be blank.")
	}
	var out models.UUID
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var of struct {
			ID    int64
			Name  string
			Type  string
			State models.OfferingState
		}
		if err := db.Table("offerings").Select("id, name, type, state").Where("uuid = ?", in.OfferingUUID).Take(&of).Error; err != nil {
			return translate(err, "Offering")
		}
		if of.State == models.OfferingArchived {
			return models.Errorf(models.CodeInvalid, "Offering is archived.")
		}
		var pr struct {
			ID              int64
			Name            string
			IsRemoved       bool
			CustomerID      int64
			CustomerBlocked bool
			CustomerArchive bool
		}
		err := db.Table("projects p").Select(`p.id, p.name, p.is_removed, c.id AS customer_id, c.blocked AS customer_blocked,
				c.archived AS customer_archive`).Joins("JOIN customers c ON c.id = p.customer_id").
			Where("p.uuid = ?", in.ProjectUUID).Take(&pr).Error
		if err != nil || pr.IsRemoved {
			if err == nil || models.IsCode(translate(err, "Project"), models.CodeNotFound) {
				return models.FieldError("project", "Invalid hyperlink - Object does not exist.")
			}
			return translate(err, "Project")
		}
		if pr.CustomerBlocked || pr.CustomerArchive {
			return models.Errorf(models.CodeInvalid, "Blocked/Archived organization is not available.")
		}
		var planID *int64
		if in.PlanUUID != nil {
			var ids []int64
			if err := db.Table("plans").Where("uuid = ? AND offering_id = ?", *in.PlanUUID, of.ID).Pluck("id", &ids).Error; err != nil {
				return models.Internal(err)
			}
			if len(ids) == 0 {
				return models.FieldError("plan", "Plan does not belong to the offering.")
			}
			planID = &ids[0]
		} else {
			var ids []int64
			if err := db.Table("plans").Where("offering_id = ? AND archived = ?", of.ID, false).Order("id").Limit(2).Pluck("id", &ids).Error; err != nil {
				return models.Internal(err)
			}
			if len(ids) == 1 {
				planID = &ids[0]
			}
		}
		var taken int64
		if err := db.Table("resources").Where("offering_id = ? AND backend_id = ? AND state <> ?", of.ID, backendID, models.ResourceTerminated).
			Count(&taken).Error; err != nil {
			return models.Internal(err)
		}
		if taken > 0 {
			return models.FieldError("backend_id", fmt.Sprintf("Resource with backend ID %q already exists in the offering.", backendID))
		}
		name := strings.TrimSpace(in.Name)
		if name == "" {
			name = backendID
		}
		slug, err := tx.nextSlug(ctx, "resources", name)
		if err != nil {
			return err
		}
		now := tx.Now()
		attrs, _ := json.Marshal(map[string]any{"name": name})
		limits, _ := json.Marshal(in.Limits)
		row := resourceRow{UUID: models.NewUUID(), ProjectID: pr.ID, OfferingID: of.ID, PlanID: planID, Name: name, Slug: slug,
			State: models.ResourceOK, Attributes: attrs, Limits: limits, Created: now, Modified: now}
		if err := db.Create(&row).Error; err != nil {
			return translate(err, "Resource")
		}
		meta := in.BackendMetadata
		if meta == nil {
			meta = map[string]any{}
		}
		rawMeta, _ := json.Marshal(meta)
		if err := db.Model(&resourceRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"backend_id": backendID, "backend_metadata": rawMeta, "description": strings.TrimSpace(in.Description)}).Error; err != nil {
			return translate(err, "Resource")
		}
		if link != nil {
			if err := link(ctx, tx, ImportedRef{ID: row.ID, UUID: row.UUID, Name: name, ProjectID: pr.ID, OfferingID: of.ID, OfferingType: of.Type}, in); err != nil {
				return err
			}
		}
		if err := tx.AddQuotaUsage(ctx, []models.QuotaDelta{
			{Scope: models.Scope{Type: models.ScopeCustomer, ID: pr.CustomerID}, Name: models.QuotaResourceCount, Delta: 1},
			{Scope: models.Scope{Type: models.ScopeProject, ID: pr.ID}, Name: models.QuotaResourceCount, Delta: 1},
		}); err != nil {
			return err
		}
		out = row.UUID
		return tx.EmitEvent(ctx, &models.Event{
			EventType: "marketplace_resource_create_succeeded", // Waldur has no import event type; the message says what happened
			Message:   fmt.Sprintf("Resource %s has been imported from the backend of offering %s into project %s.", name, of.Name, pr.Name),
			Context: map[string]any{"resource_uuid": row.UUID.String(), "resource_name": name, "backend_id": backendID,
				"offering_uuid": in.OfferingUUID.String(), "offering_name": of.Name},
			Scopes: []models.Scope{{Type: models.ScopeProject, ID: pr.ID}, {Type: models.ScopeCustomer, ID: pr.CustomerID},
				{Type: models.ScopeOffering, ID: of.ID}},
		})
	})
	return out, err
}

// UsedBackendIDs reports which of the backend ids a resource of the
// offering that is not terminated has. Codes: internal.
func (s *Store) UsedBackendIDs(ctx context.Context, offering models.UUID, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var used []string
	err := s.DB.WithContext(ctx).Table("resources r").Joins("JOIN offerings f ON f.id = r.offering_id").
		Where("f.uuid = ? AND r.backend_id IN ? AND r.state <> ?", offering, ids, models.ResourceTerminated).
		Pluck("r.backend_id", &used).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	for _, id := range used {
		out[id] = true
	}
	return out, nil
}

// ImportOffering is what an import needs of an offering.
type ImportOffering struct {
	ID            int64
	UUID          models.UUID
	Name          string
	Type          string
	State         models.OfferingState
	Shared        bool
	CustomerID    int64
	PluginOptions JSONObject
	SecretOptions JSONObject
}

// ImportOfferingByUUID loads an offering for an import. Codes: not_found.
func (s *Store) ImportOfferingByUUID(ctx context.Context, id models.UUID) (*ImportOffering, error) {
	var out ImportOffering
	err := s.DB.WithContext(ctx).Table("offerings").Select("id, uuid, name, type, state, shared, customer_id, plugin_options, secret_options").
		Where("uuid = ?", id).Take(&out).Error
	if err != nil {
		return nil, translate(err, "Offering")
	}
	return &out, nil
}
