package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// ResourceFlag is a boolean column of a resource that staff set
// (set_downscaled, set_paused, set_restrict_member_access).
type ResourceFlag string

// The flags staff set.
const (
	FlagDownscaled           ResourceFlag = "downscaled"
	FlagPaused               ResourceFlag = "paused"
	FlagRestrictMemberAccess ResourceFlag = "restrict_member_access"
)

// flagOf is the flag's value in a view.
func flagOf(r *ResourceView, f ResourceFlag) (bool, bool) {
	switch f {
	case FlagDownscaled:
		return r.Downscaled, true
	case FlagPaused:
		return r.Paused, true
	case FlagRestrictMemberAccess:
		return r.RestrictMemberAcc, true
	}
	return false, false
}

// SetResourceFlag sets one flag of a resource, with its event, in one
// transaction. changed is false (and nothing is written) when the flag
// already had the value, as Waldur answers "… is not changed.". Codes:
// not_found.
func (s *Store) SetResourceFlag(ctx context.Context, id models.UUID, flag ResourceFlag, v bool) (changed bool, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		r, err := tx.lockedResource(ctx, db, id)
		if err != nil {
			return err
		}
		old, ok := flagOf(r, flag)
		if !ok {
			return models.Errorf(models.CodeInvalid, "Unknown resource flag %q.", flag)
		}
		if old == v {
			return nil
		}
		changed = true
		evType := "marketplace_resource_update_succeeded"
		msg := fmt.Sprintf("Flag %s of resource %s has been changed from %t to %t.", flag, r.Name, old, v)
		switch {
		case flag == FlagDownscaled && v:
			evType, msg = "marketplace_resource_downscaled", fmt.Sprintf("Resource %s has been downscaled.", r.Name)
		case flag == FlagPaused && v:
			evType, msg = "marketplace_resource_paused", fmt.Sprintf("Resource %s has been paused.", r.Name)
		}
		return tx.updateResourceColumns(ctx, db, r, map[string]any{string(flag): v}, evType, msg)
	})
	return changed, err
}

// MsgResourceSlugTaken is the field error of a slug another resource has.
const MsgResourceSlugTaken = "Resource with this slug already exists."

// SetResourceSlug changes a resource's slug, with its event, in one
// transaction. A slug names one resource (site agents name backend accounts
// after it): another resource's slug is a 400 on "slug". changed is false
// when the slug is the resource's already. Codes: not_found, invalid.
func (s *Store) SetResourceSlug(ctx context.Context, id models.UUID, slug string) (changed bool, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		r, err := tx.lockedResource(ctx, db, id)
		if err != nil {
			return err
		}
		if r.Slug == slug {
			return nil
		}
		var n int64
		if err := db.Table("resources").Where("slug = ? AND id <> ?", slug, r.ID).Count(&n).Error; err != nil {
			return translate(err, "Resource")
		}
		if n > 0 {
			return models.FieldError("slug", MsgResourceSlugTaken)
		}
		changed = true
		msg := fmt.Sprintf("Slug of resource %s has been changed from %q to %q.", r.Name, r.Slug, slug)
		return tx.updateResourceColumns(ctx, db, r, map[string]any{"slug": slug}, "marketplace_resource_update_succeeded", msg)
	})
	return changed, err
}

// ResourceEndDate is an end date set by the provider or staff
// (set_end_date_by_provider, set_end_date_by_staff).
type ResourceEndDate struct {
	EndDate     *time.Time // nil: the resource has none
	RequestedBy *models.User
	ByStaff     bool // the message says "by staff" rather than "by provider"
}

// SetResourceEndDate sets a resource's end date and who requested it (or
// clears both), with Waldur's marketplace_resource_update_end_date_succeeded
// event, in one transaction. Codes: not_found.
func (s *Store) SetResourceEndDate(ctx context.Context, id models.UUID, in ResourceEndDate) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		r, err := tx.lockedResource(ctx, db, id)
		if err != nil {
			return err
		}
		updates := map[string]any{"end_date": nil, "end_date_requested_by_id": nil}
		shown := "None" // Waldur's rendering of a cleared date
		if in.EndDate != nil {
			shown = in.EndDate.Format("2006-01-02")
			updates["end_date"] = shown
		}
		who := ""
		if in.RequestedBy != nil {
			who = in.RequestedBy.Username
			if in.EndDate != nil { // a cleared date was requested by nobody
				updates["end_date_requested_by_id"] = in.RequestedBy.ID
			}
		}
		by := "provider"
		if in.ByStaff {
			by = "staff"
		}
		msg := fmt.Sprintf("End date of marketplace resource %s has been updated by %s. End date: %s. User: %s.", r.Name, by, shown, who)
		return tx.updateResourceColumns(ctx, db, r, updates, "marketplace_resource_update_end_date_succeeded", msg)
	})
}

// updateResourceColumns writes columns of a locked resource (bumping
// modified, unless updates sets it) and emits the event of the change: the
// last step of ChangeResource and of the flag, slug and end-date actions.
func (s *Store) updateResourceColumns(ctx context.Context, db *gorm.DB, r *ResourceView, updates map[string]any, evType, msg string) error {
	if _, ok := updates["modified"]; !ok {
		updates["modified"] = s.Now()
	}
	if err := db.Model(&resourceRow{}).Where("id = ?", r.ID).Updates(updates).Error; err != nil {
		return translate(err, "Resource")
	}
	return s.EmitEvent(ctx, &models.Event{
		EventType: evType,
		Message:   msg,
		Context: map[string]any{"resource_uuid": r.UUID.String(), "resource_name": r.Name, "resource_state": string(r.State),
			"offering_uuid": r.OfferingUUID.String(), "offering_name": r.OfferingName},
		Scopes: []models.Scope{{Type: models.ScopeProject, ID: r.ProjectID}, {Type: models.ScopeCustomer, ID: r.CustomerID},
			{Type: models.ScopeOffering, ID: r.OfferingID}},
	})
}
