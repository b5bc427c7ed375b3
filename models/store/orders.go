package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

type resourceRow struct {
	ID         int64 `gorm:"primaryKey"`
	UUID       models.UUID
	ProjectID  int64
	OfferingID int64
	PlanID     *int64
	Name       string
	Slug       string
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
	OldPlanID       *int64
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
	Cost       *decimal.Decimal // the order's estimated cost (billing.OrderCost)
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
		var oldPlanID *int64
		var resUUID models.UUID
		var resName string
		switch in.Type {
		case models.OrderCreate:
			name, _ := in.Attributes["name"].(string)
			id := models.NewUUID()
			res := resourceRow{UUID: id, ProjectID: in.ProjectID, OfferingID: in.OfferingID, PlanID: in.PlanID,
				Name: strings.TrimSpace(name), Slug: resourceSlug(name, id), State: models.ResourceCreating, Attributes: attrs, Limits: limits, Created: now, Modified: now}
			if err := db.Create(&res).Error; err != nil {
				return translate(err, "Resource")
			}
			resourceID, resUUID, resName = res.ID, res.UUID, res.Name
			if err := tx.AddQuotaUsage(ctx, []models.QuotaDelta{
				{Scope: models.Scope{Type: models.ScopeCustomer, ID: sc.CustomerID}, Name: models.QuotaResourceCount, Delta: 1},
				{Scope: models.Scope{Type: models.ScopeProject, ID: in.ProjectID}, Name: models.QuotaResourceCount, Delta: 1},
			}); err != nil {
				return err
			}
		case models.OrderUpdate, models.OrderTerminate:
			q := db.Model(&resourceRow{}).Where("id = ? AND project_id = ?", resourceID, in.ProjectID)
			q = forUpdate(q)
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
			oldPlanID, resUUID, resName = res.PlanID, res.UUID, res.Name
		default:
			return models.FieldError("type", fmt.Sprintf("%q is not a valid choice.", in.Type))
		}
		row := orderRow{UUID: models.NewUUID(), Type: in.Type, State: in.Review.InitialOrderState(), ResourceID: resourceID,
			OfferingID: in.OfferingID, ProjectID: in.ProjectID, PlanID: in.PlanID, Limits: limits, Attributes: attrs,
			Cost: in.Cost, Created: now, Modified: now}
		if in.Type == models.OrderUpdate && in.PlanID != nil {
			row.OldPlanID = oldPlanID
		}
		if in.CreatedBy != nil {
			row.CreatedByID = &in.CreatedBy.ID
		}
		if err := db.Create(&row).Error; err != nil {
			return translate(err, "Order")
		}
		if row.State == models.OrderExecuting {
			if err := tx.startResourceChange(ctx, row.Type, resourceID, now); err != nil {
				return err
			}
		}
		out = &models.Order{ID: row.ID, UUID: row.UUID, Type: row.Type, State: row.State, ResourceID: resourceID, OfferingID: in.OfferingID,
			ProjectID: in.ProjectID, PlanID: in.PlanID, Limits: in.Limits, Attributes: in.Attributes, CreatedByID: row.CreatedByID, Created: now, Modified: now}
		scopes := []models.Scope{{Type: models.ScopeProject, ID: in.ProjectID}, {Type: models.ScopeCustomer, ID: sc.CustomerID}}
		return tx.emitAll(ctx, []*models.Event{{
			EventType: "marketplace_order_created",
			Message:   fmt.Sprintf("Marketplace order for %s in project %s has been created.", of.OfferingName, sc.ProjectName),
			Context: map[string]any{"order_uuid": row.UUID.String(), "order_type": string(row.Type), "order_state": string(row.State),
				"offering_name": of.OfferingName, "resource_uuid": resUUID.String(), "resource_name": resName},
			Scopes: scopes,
		}, resourceOrderEvent(row.Type, limitsOnly(out), "requested", resUUID, resName, scopes)})
	})
	return out, err
}

// resourceSlug is a resource's slug: its slugified name (at most 20
// characters) and the first 6 hex digits of its UUID. Waldur numbers slugs
// per name prefix, which takes a scan of every resource of that name per
// order; this is unique in practice without reading anything. Site agents
// name backend accounts after it.
func resourceSlug(name string, id models.UUID) string {
	base := Slugify(name)
	if len(base) > 20 {
		base = strings.Trim(base[:20], "-_")
	}
	if base == "" {
		base = "resource"
	}
	return base + "-" + id.String()[:6]
}

// errDryRun rolls back a previewed order.
var errDryRun = errors.New("store: order preview")

// PreviewOrder runs CreateOrder in a transaction it then rolls back: the
// same checks, locks and quota reservations, nothing kept. It returns the
// order as it would have been accepted, or the error that would refuse it.
func (s *Store) PreviewOrder(ctx context.Context, in NewOrder) (*models.Order, error) {
	var out *models.Order
	err := s.Tx(ctx, func(tx *Store) error {
		o, err := tx.CreateOrder(ctx, in)
		if err != nil {
			return err
		}
		out = o
		return errDryRun
	})
	if errors.Is(err, errDryRun) {
		return out, nil
	}
	return nil, err
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

// OrderInfo is what the order workflow needs about an order.
type OrderInfo struct {
	Order        models.Order
	OfferingType string
	// ResourceUUID, ResourceName, ResourceBackendID, ResourceState describe the order's resource.
	ResourceUUID      models.UUID
	ResourceName      string
	ResourceBackendID string
	ResourceState     models.ResourceState
	ProjectUUID       models.UUID
	CustomerUUID      models.UUID
	CustomerID        int64
	PluginOptions     map[string]any
	SecretOptions     map[string]any
	ProjectStartDate  *time.Time
	// Names for providers (script environment, backend account descriptions).
	ProjectName  string
	CustomerName string
	OfferingUUID models.UUID
	OfferingName string
	PlanName     string
	// ResourceLimits are the resource's limits in force (an Update order's old limits until it is done).
	ResourceLimits map[string]int64
}

type orderInfoRow struct {
	ID                int64
	UUID              models.UUID
	Type              models.OrderType
	State             models.OrderState
	ResourceID        int64
	OfferingID        int64
	ProjectID         int64
	PlanID            *int64
	Limits            []byte
	Attributes        []byte
	CreatedByID       *int64
	Created           time.Time
	Modified          time.Time
	OfferingType      string
	ResourceUUID      models.UUID
	ResourceName      string
	ResourceBackendID string
	ResourceState     models.ResourceState
	ProjectUUID       models.UUID
	CustomerUUID      models.UUID
	CustomerID        int64
	PluginOptions     []byte
	SecretOptions     []byte
	ProjectStartDate  *time.Time
	ProjectName       string
	CustomerName      string
	OfferingUUID      models.UUID
	OfferingName      string
	PlanName          *string
	ResourceLimits    []byte
}

// OrderInfo loads an order with what its workflow needs. Codes: not_found.
func (s *Store) OrderInfo(ctx context.Context, id models.UUID) (*OrderInfo, error) {
	return s.orderInfo(ctx, s.DB.WithContext(ctx), id, false)
}

func (s *Store) orderInfo(ctx context.Context, db *gorm.DB, id models.UUID, lock bool) (*OrderInfo, error) {
	if lock { // serialize changes of one order
		var ids []int64
		if err := forUpdate(db.Table("orders").Where("uuid = ?", id)).Pluck("id", &ids).Error; err != nil {
			return nil, models.Internal(err)
		}
	}
	var r orderInfoRow
	err := db.Raw(`SELECT o.id, o.uuid, o.type, o.state, o.resource_id, o.offering_id, o.project_id, o.plan_id, o.limits, o.attributes,
			o.created_by_id, o.created, o.modified, f.type AS offering_type, r.uuid AS resource_uuid, r.name AS resource_name, r.backend_id AS resource_backend_id,
			r.state AS resource_state, p.uuid AS project_uuid, p.start_date AS project_start_date, c.uuid AS customer_uuid, c.id AS customer_id,
			f.plugin_options, f.secret_options, p.name AS project_name, c.name AS customer_name, f.uuid AS offering_uuid,
			f.name AS offering_name, pl.name AS plan_name, r.limits AS resource_limits
		FROM orders o JOIN offerings f ON f.id = o.offering_id JOIN resources r ON r.id = o.resource_id
		JOIN projects p ON p.id = o.project_id JOIN customers c ON c.id = p.customer_id
		LEFT JOIN plans pl ON pl.id = COALESCE(o.plan_id, r.plan_id) WHERE o.uuid = ?`, id).Scan(&r).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	if r.ID == 0 {
		return nil, models.Errorf(models.CodeNotFound, "Order not found.")
	}
	info := &OrderInfo{
		Order: models.Order{ID: r.ID, UUID: r.UUID, Type: r.Type, State: r.State, ResourceID: r.ResourceID, OfferingID: r.OfferingID,
			ProjectID: r.ProjectID, PlanID: r.PlanID, CreatedByID: r.CreatedByID, Created: r.Created, Modified: r.Modified},
		OfferingType: r.OfferingType, ResourceUUID: r.ResourceUUID, ResourceName: r.ResourceName, ResourceBackendID: r.ResourceBackendID,
		ResourceState: r.ResourceState, ProjectUUID: r.ProjectUUID, CustomerUUID: r.CustomerUUID, CustomerID: r.CustomerID,
		ProjectStartDate: r.ProjectStartDate, ProjectName: r.ProjectName, CustomerName: r.CustomerName,
		OfferingUUID: r.OfferingUUID, OfferingName: r.OfferingName, PlanName: deref(r.PlanName),
	}
	_ = json.Unmarshal(r.ResourceLimits, &info.ResourceLimits)
	_ = json.Unmarshal(r.Limits, &info.Order.Limits)
	_ = json.Unmarshal(r.Attributes, &info.Order.Attributes)
	_ = json.Unmarshal(r.PluginOptions, &info.PluginOptions)
	_ = json.Unmarshal(r.SecretOptions, &info.SecretOptions)
	return info, nil
}

// OrderEvent is a review or state event applied to an order.
type OrderEvent struct {
	OrderUUID models.UUID
	Event     string // approve_by_consumer, approve_by_provider, reject_*, cancel, set_state_executing, set_state_done, set_state_erred
	ActorID   *int64
	Message   string // error message (set_state_erred) or comment
	Output    string // what the backend printed (set_state_erred by a provider's run)
	// From is the state the sender last knew the order in (the order
	// workflow's). An event already applied from it (the order now in the
	// state it led to) is answered with that state and changes nothing: a
	// workflow task that ran the event but died before Temporal recorded
	// it runs it again. Empty: no such check.
	From models.OrderState
}

// ApplyOrderEvent moves an order by one review or state event, in one
// transaction with its resource and quota consequences and its event:
// a rejected or canceled Create order terminates its resource and releases
// nc_resource_count; a rejected Update or Terminate order returns the
// resource to OK. Applying an event the order already went through is an
// error with code conflict (the caller decides whether that is benign),
// unless ev.From names the state it went through it from.
// completes says which offering types' providers review every order (the
// consumer's approval then hands the order to them). It returns the new
// state.
func (s *Store) ApplyOrderEvent(ctx context.Context, ev OrderEvent, completes models.ProviderCompletes) (models.OrderState, error) {
	var state models.OrderState
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		info, err := tx.orderInfo(ctx, db, ev.OrderUUID, true)
		if err != nil {
			return err
		}
		now := tx.Now()
		target := func(from models.OrderState) (models.OrderState, error) {
			to, err := models.OrderTransition(ev.Event, from)
			if err != nil || to != "" {
				return to, err
			}
			// approve_by_consumer: the review rules decide.
			rc := models.ReviewContext{OfferingType: info.OfferingType, ProviderReviewRequested: boolOption(info.PluginOptions, "provider_review_required"),
				ProviderCompletes:     completes.Of(info.OfferingType),
				ProjectStartsInFuture: info.ProjectStartDate != nil && info.ProjectStartDate.After(now)}
			return rc.StateAfterConsumerApproval(), nil
		}
		if ev.From != "" && ev.From != info.Order.State {
			if to, err := target(ev.From); err == nil && to == info.Order.State {
				state = to // applied already: a repeated run of the same step
				return nil
			}
		}
		to, err := target(info.Order.State)
		if err != nil {
			return err
		}
		updates := map[string]any{"state": to, "modified": now}
		switch ev.Event {
		case "approve_by_consumer", "reject_by_consumer":
			updates["consumer_reviewed_by_id"], updates["consumer_reviewed_at"] = ev.ActorID, now
		case "approve_by_provider", "reject_by_provider":
			updates["provider_reviewed_by_id"], updates["provider_reviewed_at"] = ev.ActorID, now
		case "set_state_erred":
			updates["error_message"] = ev.Message
			if ev.Output != "" {
				updates["output"] = ev.Output
			}
		}
		if to.Terminal() {
			updates["completed_at"] = now
		}
		if err := db.Model(&orderRow{}).Where("id = ?", info.Order.ID).Updates(updates).Error; err != nil {
			return translate(err, "Order")
		}
		switch {
		case to == models.OrderExecuting:
			if err := tx.startResourceChange(ctx, info.Order.Type, info.Order.ResourceID, now); err != nil {
				return err
			}
		case to == models.OrderRejected || to == models.OrderCanceled:
			if info.Order.Type == models.OrderCreate {
				if err := tx.terminateResource(ctx, info, now); err != nil {
					return err
				}
			} else if err := tx.setResourceState(ctx, info.Order.ResourceID, models.ResourceOK, now); err != nil {
				return err
			}
		case to == models.OrderErred:
			if err := tx.failResource(ctx, info, ev.Message, now); err != nil {
				return err
			}
		}
		state = to
		return tx.emitAll(ctx, orderEvents(info, ev.Event, to))
	})
	return state, err
}

// CompleteOrder records that the backend finished an executing order:
// Create → resource OK (with its backend id and metadata); Update → resource
// OK; Terminate → resource Terminated and its quota released. Completing a
// done order again changes nothing (a retried activity). Codes: conflict
// when the order is in another state.
func (s *Store) CompleteOrder(ctx context.Context, id models.UUID, backendID string, metadata map[string]any, output string) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		info, err := tx.orderInfo(ctx, db, id, true)
		if err != nil {
			return err
		}
		if info.Order.State == models.OrderDone {
			return nil
		}
		if _, err := models.OrderTransition("set_state_done", info.Order.State); err != nil {
			return err
		}
		now := tx.Now()
		if err := db.Model(&orderRow{}).Where("id = ?", info.Order.ID).
			Updates(map[string]any{"state": models.OrderDone, "completed_at": now, "modified": now, "output": output}).Error; err != nil {
			return translate(err, "Order")
		}
		if err := tx.recordPlanPeriod(ctx, info, now); err != nil {
			return err
		}
		if err := tx.markBillingDirty(ctx, info.Order.ResourceID); err != nil { // the billing outbox
			return err
		}
		switch info.Order.Type {
		case models.OrderTerminate:
			if err := tx.terminateResource(ctx, info, now); err != nil {
				return err
			}
		default:
			updates := map[string]any{"state": models.ResourceOK, "modified": now, "error_message": ""}
			if backendID != "" {
				updates["backend_id"] = backendID
			}
			if metadata != nil {
				raw, _ := json.Marshal(metadata)
				updates["backend_metadata"] = raw
			}
			if info.Order.Type == models.OrderUpdate && info.Order.Limits != nil {
				raw, _ := json.Marshal(info.Order.Limits)
				updates["limits"] = raw
			}
			if info.Order.Type == models.OrderUpdate && info.Order.PlanID != nil {
				updates["plan_id"] = *info.Order.PlanID // a plan switch takes effect
			}
			if err := db.Model(&resourceRow{}).Where("id = ?", info.Order.ResourceID).Updates(updates).Error; err != nil {
				return translate(err, "Resource")
			}
		}
		return tx.emitAll(ctx, orderEvents(info, "completed", models.OrderDone))
	})
}

// markBillingDirty puts a resource in the billing outbox: the billing
// dispatcher registers its invoice items soon (call it in the transaction
// of the change).
func (s *Store) markBillingDirty(ctx context.Context, resourceID int64) error {
	return translate(s.DB.WithContext(ctx).Model(&resourceRow{}).Where("id = ?", resourceID).
		Update("billing_dirty", true).Error, "Resource")
}

// RegisterDirtyResources registers, for month m, up to limit resources of
// the billing outbox, oldest id first, and takes them out of it. A resource
// changed again while it is registered is marked again by that change and
// registered in a later round; if registering fails the batch stays marked.
// It returns how many were registered. Codes: internal.
func (s *Store) RegisterDirtyResources(ctx context.Context, m billing.Month, limit int) (int, error) {
	var ids []int64
	if err := s.DB.WithContext(ctx).Model(&resourceRow{}).Where("billing_dirty = ?", true).Order("id").Limit(limit).
		Pluck("id", &ids).Error; err != nil {
		return 0, models.Internal(err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	mark := func(v bool) error {
		return translate(s.DB.WithContext(ctx).Model(&resourceRow{}).Where("id IN ?", ids).Update("billing_dirty", v).Error, "Resource")
	}
	if err := mark(false); err != nil {
		return 0, err
	}
	if _, err := s.RegisterResources(ctx, m, ids, true); err != nil {
		if merr := mark(true); merr != nil {
			return 0, merr
		}
		return 0, err
	}
	return len(ids), nil
}

// planPeriodRow is a span of time a resource spent on one plan (Waldur's
// ResourcePlanPeriod): opened when a Create order is done, closed and a new
// one opened when a plan switch is done, closed when a Terminate order is
// done. Billing prorates by these spans.
type planPeriodRow struct {
	ID         int64 `gorm:"primaryKey"`
	UUID       models.UUID
	ResourceID int64
	PlanID     int64
	Start      *time.Time
	End        *time.Time `gorm:"column:end"`
}

func (planPeriodRow) TableName() string { return "resource_plan_periods" }

// recordPlanPeriod applies a done order to the resource's plan periods.
func (s *Store) recordPlanPeriod(ctx context.Context, info *OrderInfo, now time.Time) error {
	db := s.DB.WithContext(ctx)
	closeOpen := func() error {
		return translate(db.Model(&planPeriodRow{}).Where(`resource_id = ? AND "end" IS NULL`, info.Order.ResourceID).
			Update("end", now).Error, "Plan period")
	}
	open := func(planID int64) error {
		return translate(db.Create(&planPeriodRow{UUID: models.NewUUID(), ResourceID: info.Order.ResourceID, PlanID: planID, Start: &now}).Error, "Plan period")
	}
	switch {
	case info.Order.Type == models.OrderCreate && info.Order.PlanID != nil:
		if err := closeOpen(); err != nil { // none expected; keeps one open period per resource
			return err
		}
		return open(*info.Order.PlanID)
	case info.Order.Type == models.OrderUpdate && info.Order.PlanID != nil:
		if err := closeOpen(); err != nil {
			return err
		}
		return open(*info.Order.PlanID)
	case info.Order.Type == models.OrderTerminate:
		return closeOpen()
	}
	return nil
}

// PlanPeriod is a span of time a resource spent on a plan; End is nil while open.
type PlanPeriod struct {
	UUID     models.UUID
	PlanUUID models.UUID
	PlanName string
	Start    time.Time
	End      *time.Time
}

// PlanPeriods lists a resource's plan periods, oldest first.
func (s *Store) PlanPeriods(ctx context.Context, resourceID int64) ([]PlanPeriod, error) {
	var rows []struct {
		UUID     string
		PlanUUID string
		PlanName string
		Start    time.Time
		End      *time.Time
	}
	err := s.DB.WithContext(ctx).Raw(`SELECT pp.uuid, p.uuid AS plan_uuid, p.name AS plan_name, pp.start, pp."end"
		FROM resource_plan_periods pp JOIN plans p ON p.id = pp.plan_id WHERE pp.resource_id = ? ORDER BY pp.start, pp.id`, resourceID).Scan(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	out := make([]PlanPeriod, len(rows))
	for i, r := range rows {
		out[i] = PlanPeriod{PlanName: r.PlanName, Start: r.Start, End: r.End}
		out[i].UUID, _ = models.ParseUUID(r.UUID)
		out[i].PlanUUID, _ = models.ParseUUID(r.PlanUUID)
	}
	return out, nil
}

// FailOrder records that an order failed for good (retries exhausted or a
// permanent error): order erred with the message; a resource still
// Creating with no backend id is Terminated (nothing exists to clean up)
// and its quota released, otherwise Erred. Failing an erred order again
// changes nothing.
func (s *Store) FailOrder(ctx context.Context, id models.UUID, message, output string) error {
	_, err := s.ApplyOrderEvent(ctx, OrderEvent{OrderUUID: id, Event: "set_state_erred", Message: message, Output: output}, nil)
	if models.IsCode(err, models.CodeConflict) {
		info, ierr := s.OrderInfo(ctx, id)
		if ierr == nil && info.Order.State == models.OrderErred {
			return nil
		}
	}
	return err
}

// startResourceChange marks the resource of an Update or Terminate order
// that starts executing as Updating or Terminating.
func (s *Store) startResourceChange(ctx context.Context, t models.OrderType, resourceID int64, now time.Time) error {
	switch t {
	case models.OrderUpdate:
		return s.setResourceState(ctx, resourceID, models.ResourceUpdating, now)
	case models.OrderTerminate:
		return s.setResourceState(ctx, resourceID, models.ResourceTerminating, now)
	}
	return nil
}

func (s *Store) setResourceState(ctx context.Context, resourceID int64, to models.ResourceState, now time.Time) error {
	return translate(s.DB.WithContext(ctx).Model(&resourceRow{}).Where("id = ?", resourceID).
		Updates(map[string]any{"state": to, "modified": now}).Error, "Resource")
}

// terminateResource ends a resource and gives its nc_resource_count back.
func (s *Store) terminateResource(ctx context.Context, info *OrderInfo, now time.Time) error {
	if info.ResourceState == models.ResourceTerminated {
		return nil
	}
	if err := s.setResourceState(ctx, info.Order.ResourceID, models.ResourceTerminated, now); err != nil {
		return err
	}
	return s.releaseResourceCount(ctx, info.CustomerID, info.Order.ProjectID)
}

// releaseResourceCount gives a resource's nc_resource_count back to its
// customer and project (it was terminated, or unlinked before that).
func (s *Store) releaseResourceCount(ctx context.Context, customerID, projectID int64) error {
	return s.AddQuotaUsage(ctx, []models.QuotaDelta{
		{Scope: models.Scope{Type: models.ScopeCustomer, ID: customerID}, Name: models.QuotaResourceCount, Delta: -1},
		{Scope: models.Scope{Type: models.ScopeProject, ID: projectID}, Name: models.QuotaResourceCount, Delta: -1},
	})
}

// failResource applies Waldur's rule for an erred order's resource.
func (s *Store) failResource(ctx context.Context, info *OrderInfo, message string, now time.Time) error {
	if info.Order.Type == models.OrderCreate && info.ResourceState == models.ResourceCreating && info.ResourceBackendID == "" {
		return s.terminateResource(ctx, info, now)
	}
	return translate(s.DB.WithContext(ctx).Model(&resourceRow{}).Where("id = ?", info.Order.ResourceID).
		Updates(map[string]any{"state": models.ResourceErred, "error_message": message, "modified": now}).Error, "Resource")
}

// orderEvents are the events of an order's step: the order's own
// (marketplace_order_*) and, where the step starts or ends the change of
// the resource, the resource's (marketplace_resource_<type>_<outcome>),
// with Waldur's event type names.
func orderEvents(info *OrderInfo, event string, to models.OrderState) []*models.Event {
	types := map[string]string{
		"approve_by_consumer": "marketplace_order_approved", "approve_by_provider": "marketplace_order_approved",
		"reject_by_consumer": "marketplace_order_rejected", "reject_by_provider": "marketplace_order_rejected",
		"cancel": "marketplace_order_terminated", "set_state_erred": "marketplace_order_failed",
		"set_state_executing": "marketplace_order_approved", "set_state_done": "marketplace_order_completed",
		"completed": "marketplace_order_completed", "release_project": "marketplace_order_approved",
	}
	t, ok := types[event]
	if !ok {
		panic("store: no event type for order event " + event) // every models.OrderTransition event is in the table
	}
	scopes := []models.Scope{{Type: models.ScopeProject, ID: info.Order.ProjectID}, {Type: models.ScopeCustomer, ID: info.CustomerID}}
	out := []*models.Event{{
		EventType: t,
		Message:   fmt.Sprintf("Marketplace order %s of resource %s is %s.", info.Order.UUID, info.ResourceName, to),
		Context: map[string]any{"order_uuid": info.Order.UUID.String(), "order_type": string(info.Order.Type), "order_state": string(to),
			"resource_uuid": info.ResourceUUID.String(), "resource_name": info.ResourceName},
		Scopes: scopes,
	}}
	outcome := map[models.OrderState]string{models.OrderDone: "succeeded", models.OrderErred: "failed",
		models.OrderCanceled: "canceled", models.OrderRejected: "canceled"}[to]
	if outcome != "" {
		out = append(out, resourceOrderEvent(info.Order.Type, limitsOnly(&info.Order), outcome, info.ResourceUUID, info.ResourceName, scopes))
	}
	return out
}

// limitsOnly tells an update of limits from a plan switch.
func limitsOnly(o *models.Order) bool { return o.Type == models.OrderUpdate && o.PlanID == nil }

// resourceOrderEvent is marketplace_resource_{create,update,update_limits,terminate}_{requested,succeeded,failed,canceled}.
func resourceOrderEvent(t models.OrderType, limits bool, outcome string, id models.UUID, name string, scopes []models.Scope) *models.Event {
	kind := strings.ToLower(string(t))
	if limits && outcome != "requested" && outcome != "canceled" {
		kind = "update_limits" // Waldur has update_limits_succeeded|failed, and update_requested|canceled for both
	}
	return &models.Event{
		EventType: "marketplace_resource_" + kind + "_" + outcome,
		Message:   fmt.Sprintf("Resource %s: %s %s.", name, strings.ReplaceAll(kind, "_", " "), outcome),
		Context:   map[string]any{"resource_uuid": id.String(), "resource_name": name},
		Scopes:    scopes,
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func boolOption(opts map[string]any, key string) bool {
	v, _ := opts[key].(bool)
	return v
}
