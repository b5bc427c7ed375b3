package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// UsageItem is one component's usage in a set_usage report.
type UsageItem struct {
	Type        string
	Amount      decimal.Decimal
	Description string
	Recurring   bool
}

// SetUsageInput is a set_usage report: the resource (or the plan period it
// is reported for), the date it is reported for (its month is the billing
// period) and one amount per component type.
type SetUsageInput struct {
	ResourceUUID   models.UUID
	PlanPeriodUUID *models.UUID
	Date           time.Time
	Items          []UsageItem
	ModifiedBy     *int64
}

// usageReportable are the resource states usage may be reported in (Waldur's).
var usageReportable = map[models.ResourceState]bool{
	models.ResourceOK: true, models.ResourceUpdating: true, models.ResourceTerminating: true,
}

type componentUsageRow struct {
	ID            int64 `gorm:"primaryKey"`
	UUID          models.UUID
	ResourceID    int64
	ComponentID   int64
	PlanPeriodID  *int64
	Usage         decimal.Decimal
	Date          time.Time
	BillingPeriod string // YYYY-MM-DD, the first day of the month
	Description   string
	Recurring     bool
	BackendID     string
	ModifiedByID  *int64
	Created       time.Time
	Modified      time.Time
}

func (componentUsageRow) TableName() string { return "component_usages" }

type usageComponent struct {
	ID          int64
	Type        string
	BillingType models.BillingType
	LimitPeriod *string
	LimitAmount *int64
}

type usageResource struct {
	ID         int64
	State      models.ResourceState
	OfferingID int64
	Name       string
	ProjectID  int64
	CustomerID int64
	Limits     []byte
}

func (r *usageResource) limits() map[string]int64 {
	out := map[string]int64{}
	_ = json.Unmarshal(r.Limits, &out)
	return out
}

// SetUsage records a usage report in one transaction: per component, the
// usage of the resource in the date's billing period is replaced (a second
// report for the same period replaces, never adds); the component's
// limit_amount is enforced over its limit period (month, annual, total);
// the resource's component quotas and current_usages follow. Refused
// (code invalid): a resource not OK, Updating or Terminating; an unknown
// component; a billing period in the future or already closed by billing;
// a usage over the limit. Codes: invalid, not_found.
func (s *Store) SetUsage(ctx context.Context, in SetUsageInput) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var r usageResource
		q := db.Table("resources").Select("resources.id, resources.state, resources.offering_id, resources.name, resources.project_id, p.customer_id, resources.limits").
			Joins("JOIN projects p ON p.id = resources.project_id")
		var planPeriodID *int64
		if in.PlanPeriodUUID != nil {
			var pp planPeriodRow
			if err := db.Where("uuid = ?", *in.PlanPeriodUUID).Take(&pp).Error; err != nil {
				return fieldNotFound(err, "plan_period")
			}
			planPeriodID = &pp.ID
			q = q.Where("resources.id = ?", pp.ResourceID)
		} else {
			q = q.Where("resources.uuid = ?", in.ResourceUUID)
		}
		if err := forUpdate(q).Take(&r).Error; err != nil {
			return fieldNotFound(err, "resource")
		}
		if !usageReportable[r.State] {
			return models.Errorf(models.CodeInvalid, "Usage can be reported only for a resource in state OK, Updating or Terminating (resource %s is %s).", r.Name, r.State)
		}
		now := tx.Now()
		date := in.Date
		if date.IsZero() {
			date = now
		}
		period := billing.MonthOf(date)
		if billing.MonthOf(now).Before(period) {
			return models.FieldError("date", "Usage cannot be reported for a future billing period.")
		}
		closed, err := tx.MonthClosed(ctx, period.Next())
		if err != nil {
			return err
		}
		if closed {
			return models.FieldError("date", fmt.Sprintf("Billing period %s is closed: its invoices are final.", period))
		}
		if planPeriodID == nil {
			var pp planPeriodRow
			err := db.Where(`resource_id = ? AND "end" IS NULL`, r.ID).Order("id DESC").Limit(1).Find(&pp).Error
			if err != nil {
				return models.Internal(err)
			}
			if pp.ID != 0 {
				planPeriodID = &pp.ID
			}
		}
		var comps []usageComponent
		if err := db.Table("offering_components").Select("id, type, billing_type, limit_period, limit_amount").
			Where("offering_id = ?", r.OfferingID).Scan(&comps).Error; err != nil {
			return models.Internal(err)
		}
		byType := map[string]usageComponent{}
		for _, c := range comps {
			byType[c.Type] = c
		}
		current := map[string]any{}
		for _, it := range in.Items {
			c, ok := byType[it.Type]
			if !ok {
				return models.FieldError("usages", fmt.Sprintf("Component %q is not found in offering.", it.Type))
			}
			if it.Amount.IsNegative() {
				return models.FieldError("usages", fmt.Sprintf("Usage of component %q cannot be negative.", it.Type))
			}
			if err := tx.checkUsageLimit(ctx, r.ID, c, period, it.Amount); err != nil {
				return err
			}
			row := componentUsageRow{UUID: models.NewUUID(), ResourceID: r.ID, ComponentID: c.ID, PlanPeriodID: planPeriodID, Usage: it.Amount,
				Date: date, BillingPeriod: dateString(period.Start()), Description: it.Description, Recurring: it.Recurring,
				ModifiedByID: in.ModifiedBy, Created: now, Modified: now}
			err := db.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "resource_id"}, {Name: "component_id"}, {Name: "billing_period"}},
				DoUpdates: clause.AssignmentColumns([]string{"usage", "date", "description", "recurring", "modified_by_id", "plan_period_id", "modified"}),
			}).Create(&row).Error
			if err != nil {
				return translate(err, "Component usage")
			}
			limit := int64(-1)
			if l, ok := r.limits()[c.Type]; ok {
				limit = l
			}
			if err := db.Exec(`INSERT INTO component_quotas (resource_id, component_id, "limit", usage) VALUES (?, ?, ?, ?)
				ON CONFLICT (resource_id, component_id) DO UPDATE SET usage = excluded.usage, "limit" = excluded."limit"`, r.ID, c.ID, limit, it.Amount).Error; err != nil {
				return translate(err, "Component quota")
			}
			f, _ := it.Amount.Float64()
			current[it.Type] = f
		}
		if err := tx.markBillingDirty(ctx, r.ID); err != nil { // the billing outbox
			return err
		}
		if period == billing.MonthOf(now) && len(current) > 0 {
			if err := tx.mergeCurrentUsages(ctx, r.ID, current, now); err != nil {
				return err
			}
		}
		return tx.EmitEvent(ctx, &models.Event{
			EventType: "marketplace_resource_update_succeeded", // Waldur has no usage event type; the message says what changed
			Message:   fmt.Sprintf("Usage of resource %s for %s has been reported.", r.Name, period),
			Context:   map[string]any{"resource_name": r.Name, "billing_period": period.String()},
			Scopes: []models.Scope{{Type: models.ScopeProject, ID: r.ProjectID}, {Type: models.ScopeCustomer, ID: r.CustomerID},
				{Type: models.ScopeOffering, ID: r.OfferingID}},
		})
	})
}

// checkUsageLimit refuses a usage that takes the component past its
// limit_amount over its limit period: this billing period alone (month),
// the calendar year (annual) or the resource's whole life (total); the
// usage replaces what was reported for this billing period.
func (s *Store) checkUsageLimit(ctx context.Context, resourceID int64, c usageComponent, period billing.Month, amount decimal.Decimal) error {
	if c.LimitAmount == nil || c.LimitPeriod == nil {
		return nil
	}
	limit := decimal.NewFromInt(*c.LimitAmount)
	others := decimal.Zero
	q := s.DB.WithContext(ctx).Table("component_usages").Where("resource_id = ? AND component_id = ? AND billing_period <> ?",
		resourceID, c.ID, dateString(period.Start()))
	switch models.LimitPeriod(*c.LimitPeriod) {
	case models.LimitMonth:
		q = nil
	case models.LimitAnnual:
		q = q.Where("billing_period >= ? AND billing_period < ?", fmt.Sprintf("%04d-01-01", period.Year), fmt.Sprintf("%04d-01-01", period.Year+1))
	case models.LimitTotal:
	default:
		return nil
	}
	if q != nil {
		var usages []string
		if err := q.Pluck("usage", &usages).Error; err != nil {
			return models.Internal(err)
		}
		for _, u := range usages {
			d, err := decimal.NewFromString(u)
			if err != nil {
				return models.Internal(err)
			}
			others = others.Add(d)
		}
	}
	if others.Add(amount).GreaterThan(limit) {
		return models.FieldError("usages", fmt.Sprintf("Usage of component %q exceeds its limit: %s of %s per %s already used, %s reported.",
			c.Type, others, limit, *c.LimitPeriod, amount))
	}
	return nil
}

// mergeCurrentUsages sets the reported components in the resource's current_usages.
func (s *Store) mergeCurrentUsages(ctx context.Context, resourceID int64, usages map[string]any, now time.Time) error {
	db := s.DB.WithContext(ctx)
	var raw []byte
	if err := db.Table("resources").Select("current_usages").Where("id = ?", resourceID).Row().Scan(&raw); err != nil {
		return models.Internal(err)
	}
	cur := map[string]any{}
	_ = json.Unmarshal(raw, &cur)
	for k, v := range usages {
		cur[k] = v
	}
	out, _ := json.Marshal(cur)
	return translate(db.Table("resources").Where("id = ?", resourceID).Updates(map[string]any{"current_usages": out, "modified": now}).Error, "Resource")
}

// UserUsageInput is one user's usage of a component usage (set_user_usage).
type UserUsageInput struct {
	Username string
	UserID   *int64 // a platform user, when given by URL
	Usage    decimal.Decimal
}

// SetUserUsages records per-user usages of a component usage, each an
// upsert by username (a second report replaces). The user's offering
// account is linked when the username is one of the offering's users.
// Codes: not_found (the component usage), invalid.
func (s *Store) SetUserUsages(ctx context.Context, componentUsage models.UUID, items []UserUsageInput) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var cu struct {
			ID         int64
			OfferingID int64
		}
		if err := db.Table("component_usages cu").Select("cu.id, r.offering_id").Joins("JOIN resources r ON r.id = cu.resource_id").
			Where("cu.uuid = ?", componentUsage).Take(&cu).Error; err != nil {
			return translate(err, "Component usage")
		}
		now := tx.Now()
		for _, it := range items {
			name := strings.TrimSpace(it.Username)
			if name == "" {
				return models.FieldError("username", "This field may not be blank.")
			}
			if it.Usage.IsNegative() {
				return models.FieldError("usage", "Usage cannot be negative.")
			}
			var ouIDs []int64
			if err := db.Table("offering_users").Where("offering_id = ? AND username = ?", cu.OfferingID, name).Pluck("id", &ouIDs).Error; err != nil {
				return models.Internal(err)
			}
			var ou *int64
			if len(ouIDs) > 0 {
				ou = &ouIDs[0]
			}
			err := db.Exec(`INSERT INTO component_user_usages (uuid, component_usage_id, offering_user_id, username, usage, created, modified)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (component_usage_id, username)
				DO UPDATE SET usage = excluded.usage, offering_user_id = excluded.offering_user_id, modified = excluded.modified`,
				models.NewUUID(), cu.ID, ou, name, it.Usage, now, now).Error
			if err != nil {
				return translate(err, "Component user usage")
			}
		}
		return nil
	})
}

// ComponentUsageView is a component usage with what its list shows.
type ComponentUsageView struct {
	ID            int64
	UUID          models.UUID
	Created       time.Time
	Description   string
	Type          string
	Name          string
	MeasuredUnit  string
	Usage         decimal.Decimal
	Date          time.Time
	Recurring     bool
	BillingPeriod time.Time
	ModifiedByID  *int64
	ResourceID    int64
	ResourceName  string
	ResourceUUID  models.UUID
	OfferingName  string
	OfferingUUID  models.UUID
	ProjectName   string
	ProjectUUID   models.UUID
	CustomerName  string
	CustomerUUID  models.UUID
	// For scope filters.
	ProjectID          int64
	CustomerID         int64
	OfferingID         int64
	OfferingCustomerID int64
}

// ComponentUsageViews is the query of component usage views (table alias
// cu; r resource, oc component, and the resource's context f, p, c).
func (s *Store) ComponentUsageViews(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("component_usages cu").
		Select(`cu.id, cu.uuid, cu.created, cu.description, oc.type, oc.name, oc.measured_unit, cu.usage, cu.date, cu.recurring,
			cu.billing_period, cu.modified_by_id, r.id AS resource_id, r.name AS resource_name, r.uuid AS resource_uuid,
			f.name AS offering_name, f.uuid AS offering_uuid, p.name AS project_name, p.uuid AS project_uuid,
			c.name AS customer_name, c.uuid AS customer_uuid, p.id AS project_id, c.id AS customer_id, f.id AS offering_id,
			f.customer_id AS offering_customer_id`).
		Joins("JOIN resources r ON r.id = cu.resource_id").
		Joins("JOIN offering_components oc ON oc.id = cu.component_id").
		Joins("JOIN offerings f ON f.id = r.offering_id").
		Joins("JOIN projects p ON p.id = r.project_id").
		Joins("JOIN customers c ON c.id = p.customer_id")
}

// ComponentUserUsageView is a per-user usage with what its list shows.
type ComponentUserUsageView struct {
	ID                 int64
	UUID               models.UUID
	ComponentUsageUUID models.UUID
	Username           string
	Usage              decimal.Decimal
	MeasuredUnit       string
	Description        string
	BackendID          string
	Created            time.Time
	Modified           time.Time
	ComponentType      string
	Date               time.Time
	BillingPeriod      time.Time
	ResourceName       string
	ResourceUUID       models.UUID
	OfferingName       string
	OfferingUUID       models.UUID
	ProjectName        string
	ProjectUUID        models.UUID
	CustomerName       string
	CustomerUUID       models.UUID
	UserUUID           *models.UUID
}

// ComponentUserUsageViews is the query of per-user usage views (alias uu;
// cu its component usage, r, oc, f, p, c as in ComponentUsageViews).
func (s *Store) ComponentUserUsageViews(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("component_user_usages uu").
		Select(`uu.id, uu.uuid, cu.uuid AS component_usage_uuid, uu.username, uu.usage, oc.measured_unit, uu.description, uu.backend_id,
			uu.created, uu.modified, oc.type AS component_type, cu.date, cu.billing_period, r.name AS resource_name, r.uuid AS resource_uuid,
			f.name AS offering_name, f.uuid AS offering_uuid, p.name AS project_name, p.uuid AS project_uuid,
			c.name AS customer_name, c.uuid AS customer_uuid, u.uuid AS user_uuid`).
		Joins("JOIN component_usages cu ON cu.id = uu.component_usage_id").
		Joins("JOIN resources r ON r.id = cu.resource_id").
		Joins("JOIN offering_components oc ON oc.id = cu.component_id").
		Joins("JOIN offerings f ON f.id = r.offering_id").
		Joins("JOIN projects p ON p.id = r.project_id").
		Joins("JOIN customers c ON c.id = p.customer_id").
		Joins("LEFT JOIN offering_users ou ON ou.id = uu.offering_user_id").
		Joins("LEFT JOIN users u ON u.id = ou.user_id")
}

// UsageScopeFilter limits a usage query (aliases r, p, f) to the resources
// a user sees from either side: their projects' and customers' (consumer)
// or their offerings' (provider).
func (rs *RoleScopes) UsageScopeFilter(q *gorm.DB) *gorm.DB {
	return q.Where("(p.customer_id IN ? OR r.project_id IN ? OR f.customer_id IN ? OR r.offering_id IN ?)",
		nonEmpty(rs.Customers), nonEmpty(rs.Projects), nonEmpty(rs.Customers), nonEmpty(rs.Offerings))
}

// ComponentUsageByUUID loads one component usage view. Codes: not_found.
func (s *Store) ComponentUsageByUUID(ctx context.Context, id models.UUID) (*ComponentUsageView, error) {
	var v ComponentUsageView
	if err := s.ComponentUsageViews(ctx).Where("cu.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Component usage")
	}
	return &v, nil
}

func fieldNotFound(err error, field string) error {
	if err == gorm.ErrRecordNotFound {
		return models.FieldError(field, "Object does not exist.")
	}
	return models.Internal(err)
}

// PlanPeriodResource returns the UUID of a plan period's resource. Codes: invalid (no such plan period).
func (s *Store) PlanPeriodResource(ctx context.Context, planPeriod models.UUID) (models.UUID, error) {
	var id string
	err := s.DB.WithContext(ctx).Table("resource_plan_periods pp").Select("r.uuid").Joins("JOIN resources r ON r.id = pp.resource_id").
		Where("pp.uuid = ?", planPeriod).Scan(&id).Error
	if err != nil {
		return models.UUID{}, models.Internal(err)
	}
	if id == "" {
		return models.UUID{}, models.FieldError("plan_period", "Object does not exist.")
	}
	return models.ParseUUID(id)
}
