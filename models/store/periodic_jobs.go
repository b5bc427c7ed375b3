package store

import (
	"context"
	"fmt"
	"time"

	"github.com/waldur-go/waldur/models"
)

// liveOrderStates are the states of an order that is not finished.
var liveOrderStates = []models.OrderState{models.OrderPendingConsumer, models.OrderPendingProvider, models.OrderPendingProject,
	models.OrderExecuting}

// transitional are the resource states an order moves a resource through.
var transitional = []models.ResourceState{models.ResourceCreating, models.ResourceUpdating, models.ResourceTerminating}

// StuckResourceIDs lists (up to limit, oldest id first) resources left in
// a transitional state (Creating, Updating, Terminating) unchanged since
// before `before` with no order in flight: no workflow will ever move them
// (Waldur's structure-set-erred-stuck-resources).
func (s *Store) StuckResourceIDs(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.DB.WithContext(ctx).Table("resources r").
		Where("r.state IN ? AND r.modified < ? AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.resource_id = r.id AND o.state IN ?)",
			transitional, before, liveOrderStates).Order("r.id").Limit(limit).Pluck("r.id", &ids).Error
	return ids, translate(err, "Resource")
}

// MarkResourceStuck sets a stuck resource Erred (with a message saying
// where it was stuck) and emits marketplace_resource_erred_on_backend, if
// it is still stuck when locked; it reports whether it changed it.
func (s *Store) MarkResourceStuck(ctx context.Context, id int64, before time.Time) (bool, error) {
	changed := false
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var r struct {
			ID         int64
			UUID       models.UUID
			Name       string
			State      models.ResourceState
			Modified   time.Time
			ProjectID  int64
			OfferingID int64
			CustomerID int64
		}
		var ids []int64
		if err := forUpdate(db.Table("resources").Where("id = ?", id)).Pluck("id", &ids).Error; err != nil {
			return models.Internal(err)
		}
		if err := db.Table("resources r").Select("r.id, r.uuid, r.name, r.state, r.modified, r.project_id, r.offering_id, p.customer_id").
			Joins("JOIN projects p ON p.id = r.project_id").Where("r.id = ?", id).Take(&r).Error; err != nil {
			return translate(err, "Resource")
		}
		var live int64
		if err := db.Table("orders").Where("resource_id = ? AND state IN ?", id, liveOrderStates).Count(&live).Error; err != nil {
			return models.Internal(err)
		}
		stuck := false
		for _, st := range transitional {
			stuck = stuck || r.State == st
		}
		if !stuck || !r.Modified.Before(before) || live > 0 {
			return nil
		}
		msg := fmt.Sprintf("Resource was stuck in state %s since %s with no order in progress.", r.State, r.Modified.UTC().Format(time.RFC3339))
		if err := db.Table("resources").Where("id = ?", id).Updates(map[string]any{"state": models.ResourceErred,
			"error_message": msg, "modified": tx.Now()}).Error; err != nil {
			return models.Internal(err)
		}
		changed = true
		return tx.EmitEvent(ctx, &models.Event{EventType: "marketplace_resource_erred_on_backend",
			Message: fmt.Sprintf("Resource %s has been marked as erred: %s", r.Name, msg),
			Context: map[string]any{"resource_uuid": r.UUID.String(), "resource_name": r.Name, "resource_state": string(r.State)},
			Scopes: []models.Scope{{Type: models.ScopeProject, ID: r.ProjectID}, {Type: models.ScopeCustomer, ID: r.CustomerID},
				{Type: models.ScopeOffering, ID: r.OfferingID}}})
	})
	return changed, err
}

// StartedProjectOrders lists the orders waiting for their project to start
// (pending-project) whose project has started by today.
func (s *Store) StartedProjectOrders(ctx context.Context, today time.Time, limit int) ([]models.Order, error) {
	tomorrow := dateString(dayStartUTC(today).AddDate(0, 0, 1))
	var rows []orderRow
	err := s.DB.WithContext(ctx).Table("orders").Joins("JOIN projects p ON p.id = orders.project_id").
		Where("orders.state = ? AND (p.start_date IS NULL OR p.start_date < ?)", models.OrderPendingProject, tomorrow).
		Order("orders.id").Limit(limit).Select("orders.*").Find(&rows).Error
	out := make([]models.Order, len(rows))
	for i, r := range rows {
		out[i] = models.Order{ID: r.ID, UUID: r.UUID, Type: r.Type, State: r.State, ResourceID: r.ResourceID, ProjectID: r.ProjectID}
	}
	return out, translate(err, "Order")
}

// EndedProjectResourceIDs lists resources in use (OK or Erred) of
// projects whose end date has come by today, with no order in flight:
// those to terminate (Waldur's terminate_resources_if_project_end_date_has_been_reached).
func (s *Store) EndedProjectResourceIDs(ctx context.Context, today time.Time, limit int) ([]int64, error) {
	tomorrow := dateString(dayStartUTC(today).AddDate(0, 0, 1))
	var ids []int64
	err := s.DB.WithContext(ctx).Table("resources r").Joins("JOIN projects p ON p.id = r.project_id").
		Where(`p.end_date IS NOT NULL AND p.end_date < ? AND p.is_removed = ? AND r.state IN ?
			AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.resource_id = r.id AND o.state IN ?)`,
			tomorrow, false, []models.ResourceState{models.ResourceOK, models.ResourceErred}, liveOrderStates).
		Order("r.id").Limit(limit).Pluck("r.id", &ids).Error
	return ids, translate(err, "Resource")
}

// TerminateForProjectEnd places a Terminate order for a resource of an
// ended project, on behalf of the system (no consumer review; the provider
// reviews when its offering asks for it or completes its orders itself:
// completes). A resource that has an
// order in flight by now is skipped (nil, nil). Codes: not_found.
func (s *Store) TerminateForProjectEnd(ctx context.Context, resourceID int64, completes models.ProviderCompletes) (*models.Order, error) {
	var r struct {
		ProjectID     int64
		OfferingID    int64
		PlanID        *int64
		OfferingType  string
		PluginOptions JSONObject
	}
	err := s.DB.WithContext(ctx).Table("resources r").Select("r.project_id, r.offering_id, r.plan_id, f.type AS offering_type, f.plugin_options").
		Joins("JOIN offerings f ON f.id = r.offering_id").Where("r.id = ?", resourceID).Take(&r).Error
	if err != nil {
		return nil, translate(err, "Resource")
	}
	o, err := s.CreateOrder(ctx, NewOrder{Type: models.OrderTerminate, ProjectID: r.ProjectID, OfferingID: r.OfferingID, PlanID: r.PlanID,
		ResourceID: resourceID, Attributes: map[string]any{"termination_reason": "The project's end date has been reached."},
		Review: models.ReviewContext{OrderType: models.OrderTerminate, OfferingType: r.OfferingType, CreatorIsStaff: true,
			ProviderReviewRequested: boolOption(r.PluginOptions, "provider_review_required"), ProviderCompletes: completes.Of(r.OfferingType)}})
	if models.IsCode(err, models.CodeInvalid) || models.IsCode(err, models.CodeConflict) {
		return nil, nil // an order in flight, or terminated meanwhile
	}
	return o, err
}
