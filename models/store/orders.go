package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
)

type resourceRow struct {
	ID         int64 `gorm:"primaryKey"`
	UUID       models.UUID
	ProjectID  int64
	OfferingID int64
	PlanID     *int64
	Name       string
	State      models.ResourceState
	Attributes []byte
	Limits     []byte
	Cost       *decimal.Decimal
	Created    time.Time
	Modified   time.Time
}

func (resourceRow) TableName() string { return "resources" }

type orderRow struct {
	ID              int64 `gorm:"primaryKey"`
	UUID            models.UUID
	Type            models.OrderType
	State           models.OrderState
	ResourceID      int64
	OfferingID      int64
	ProjectID       int64
	PlanID          *int64
	Limits          []byte
	Attributes      []byte
	Cost            *decimal.Decimal
	CreatedByID     *int64
	WorkflowStarted bool
	Created         time.Time
	Modified        time.Time
}

func (orderRow) TableName() string { return "orders" }

// NewOrder is a validated request for an order. Review holds what the
// approval rules need (the caller computes the permission parts with rbac).
type NewOrder struct {
	Type       models.OrderType
	ProjectID  int64
	OfferingID int64
	PlanID     *int64
	ResourceID int64 // Update and Terminate
	Attributes map[string]any
	Limits     map[string]int64
	CreatedBy  *models.User
	Review     models.ReviewContext
}

// orderProject is what an order needs to know about its project.
type orderProject struct {
	ProjectName     string
	ProjectRemoved  bool
	CustomerID      int64
	CustomerBlocked bool
	CustomerArchive bool
}

// orderOffering is what an order needs to know about its offering.
type orderOffering struct {
	OfferingState models.OfferingState
	OfferingType  string
	OfferingName  string
}

// CreateOrder records an order in one transaction: for a Create order the
// resource (state Creating) and the project's and customer's
// nc_resource_count (refused atomically past a limit); for Update and
// Terminate the check that the resource has no other pending order, under a
// lock of the resource row. The order starts in the state the approval
// rules give, with workflow_started = false (the outbox: the dispatcher
// starts its workflow). Codes: invalid, conflict, quota_exceeded, not_found.
func (s *Store) CreateOrder(ctx context.Context, in NewOrder) (*models.Order, error) {
	var out *models.Order
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var sc orderProject
		var of orderOffering
		err := db.Raw(`SELECT p.name AS project_name, p.is_removed AS project_removed, c.id AS customer_id, c.blocked AS customer_blocked,
				c.archived AS customer_archive FROM projects p JOIN customers c ON c.id = p.customer_id WHERE p.id = ?`, in.ProjectID).Scan(&sc).Error
		if err != nil {
			return models.Internal(err)
		}
		if sc.CustomerID == 0 || sc.ProjectRemoved {
			return models.FieldError("project", "Invalid hyperlink - Object does not exist.")
		}
		err = db.Raw(`SELECT state AS offering_state, type AS offering_type, name AS offering_name FROM offerings WHERE id = ?`, in.OfferingID).Scan(&of).Error
		if err != nil {
			return models.Internal(err)
		}
		if of.OfferingType == "" {
			return models.FieldError("offering", "Invalid hyperlink - Object does not exist.")
		}
		if sc.CustomerBlocked || sc.CustomerArchive {
			return models.Errorf(models.CodeInvalid, "Blocked/Archived organization is not available.")
		}
		if !of.OfferingState.OrdersAllowed(in.Type) {
			return models.FieldError("offering", fmt.Sprintf("Offering is not available (state %s).", of.OfferingState))
		}
		now := tx.Now()
		attrs, _ := json.Marshal(in.Attributes)
		limits, _ := json.Marshal(in.Limits)
		resourceID := in.ResourceID
		switch in.Type {
		case models.OrderCreate:
			name, _ := in.Attributes["name"].(string)
			res := resourceRow{UUID: models.NewUUID(), ProjectID: in.ProjectID, OfferingID: in.OfferingID, PlanID: in.PlanID,
				Name: strings.TrimSpace(name), State: models.ResourceCreating, Attributes: attrs, Limits: limits, Created: now, Modified: now}
			if err := db.Create(&res).Error; err != nil {
				return translate(err, "Resource")
			}
			resourceID = res.ID
			if err := tx.AddQuotaUsage(ctx, []models.QuotaDelta{
				{Scope: models.Scope{Type: models.ScopeCustomer, ID: sc.CustomerID}, Name: models.QuotaResourceCount, Delta: 1},
				{Scope: models.Scope{Type: models.ScopeProject, ID: in.ProjectID}, Name: models.QuotaResourceCount, Delta: 1},
			}); err != nil {
				return err
			}
		case models.OrderUpdate, models.OrderTerminate:
			q := db.Model(&resourceRow{}).Where("id = ? AND project_id = ?", resourceID, in.ProjectID)
			if db.Dialector.Name() == "postgres" {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"}) // SQLite transactions are already serialized
			}
			var res resourceRow
			if err := q.Take(&res).Error; err != nil {
				return translate(err, "Resource")
			}
			if res.State == models.ResourceTerminated {
				return models.Errorf(models.CodeConflict, "Resource is terminated.")
			}
			var pending int64
			if err := db.Model(&orderRow{}).Where("resource_id = ? AND state IN ?", resourceID,
				[]models.OrderState{models.OrderPendingConsumer, models.OrderPendingProvider, models.OrderPendingProject, models.OrderExecuting}).
				Count(&pending).Error; err != nil {
				return models.Internal(err)
			}
			if pending > 0 {
				return models.Errorf(models.CodeInvalid, "Pending order for resource already exists.")
			}
		default:
			return models.FieldError("type", fmt.Sprintf("%q is not a valid choice.", in.Type))
		}
		row := orderRow{UUID: models.NewUUID(), Type: in.Type, State: in.Review.InitialOrderState(), ResourceID: resourceID,
			OfferingID: in.OfferingID, ProjectID: in.ProjectID, PlanID: in.PlanID, Limits: limits, Attributes: attrs,
			Created: now, Modified: now}
		if in.CreatedBy != nil {
			row.CreatedByID = &in.CreatedBy.ID
		}
		if err := db.Create(&row).Error; err != nil {
			return translate(err, "Order")
		}
		out = &models.Order{ID: row.ID, UUID: row.UUID, Type: row.Type, State: row.State, ResourceID: resourceID, OfferingID: in.OfferingID,
			ProjectID: in.ProjectID, PlanID: in.PlanID, Limits: in.Limits, Attributes: in.Attributes, CreatedByID: row.CreatedByID, Created: now, Modified: now}
		return tx.EmitEvent(ctx, &models.Event{
			EventType: "marketplace_order_created",
			Message:   fmt.Sprintf("Marketplace order for %s in project %s has been created.", of.OfferingName, sc.ProjectName),
			Context:   map[string]any{"order_uuid": row.UUID.String(), "order_type": string(row.Type), "order_state": string(row.State), "offering_name": of.OfferingName},
			Scopes:    []models.Scope{{Type: models.ScopeProject, ID: in.ProjectID}, {Type: models.ScopeCustomer, ID: sc.CustomerID}},
		})
	})
	return out, err
}

// PendingWorkflowOrders returns accepted orders whose workflow has not been
// started yet (the outbox), oldest first.
func (s *Store) PendingWorkflowOrders(ctx context.Context, limit int) ([]models.Order, error) {
	var rows []orderRow
	err := s.DB.WithContext(ctx).Where("workflow_started = ?", false).Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "Order")
	}
	out := make([]models.Order, len(rows))
	for i, r := range rows {
		out[i] = models.Order{ID: r.ID, UUID: r.UUID, Type: r.Type, State: r.State, ResourceID: r.ResourceID,
			OfferingID: r.OfferingID, ProjectID: r.ProjectID, PlanID: r.PlanID, CreatedByID: r.CreatedByID, Created: r.Created, Modified: r.Modified}
	}
	return out, nil
}

// MarkOrderWorkflowStarted records that the order's workflow exists.
func (s *Store) MarkOrderWorkflowStarted(ctx context.Context, orderID int64) error {
	return translate(s.DB.WithContext(ctx).Model(&orderRow{}).Where("id = ?", orderID).
		Updates(map[string]any{"workflow_started": true}).Error, "Order")
}
