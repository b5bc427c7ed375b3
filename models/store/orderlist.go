package store

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

// OrderView is an order joined with what its API rendering shows: the
// offering (and its provider and category), the plan, the resource, the
// project and customer, and the people who created and reviewed it. Lists
// load it with OrderViews (one query per page).
type OrderView struct {
	ID                   int64
	UUID                 models.UUID
	Type                 models.OrderType
	State                models.OrderState
	ResourceID           int64
	OfferingID           int64
	ProjectID            int64
	PlanID               *int64
	Limits               []byte
	Attributes           []byte
	Cost                 *decimal.Decimal
	CreatedByID          *int64
	ConsumerReviewedAt   *time.Time
	ProviderReviewedAt   *time.Time
	ErrorMessage         string
	ErrorTraceback       string
	Output               string
	CallbackURL          string
	TerminationComment   string
	BackendID            string
	CompletedAt          *time.Time
	Created              time.Time
	Modified             time.Time
	OfferingUUID         models.UUID
	OfferingName         string
	OfferingDescription  string
	OfferingType         string
	OfferingShared       bool
	OfferingBillable     bool
	OfferingPluginOpts   []byte
	OfferingCustomerID   int64
	ProviderUUID         models.UUID
	ProviderName         string
	CategoryUUID         models.UUID
	CategoryTitle        string
	CategoryIcon         string
	PlanUUID             *models.UUID
	PlanName             *string
	PlanUnit             *string
	PlanDescription      *string
	ResourceUUID         models.UUID
	ResourceName         string
	ResourceScopeUUID    *models.UUID // the plugin resource (a cloud tenant, ...), if any
	ProjectUUID          models.UUID
	ProjectName          string
	ProjectDescription   string
	CustomerID           int64
	CustomerUUID         models.UUID
	CustomerName         string
	CreatedByUsername    *string
	CreatedByFirstName   *string
	CreatedByLastName    *string
	CreatedByEmail       *string
	CreatedByOrg         *string
	CreatedByCivilNumber *string
	ConsumerReviewerName *string
	ConsumerReviewerFN   *string
	ConsumerReviewerLN   *string
	ProviderReviewerName *string
	ProviderReviewerFN   *string
	ProviderReviewerLN   *string
	// Slugs of the resource (Waldur's order slug), the project, its customer
	// and the offering's customer.
	ResourceSlug, ProjectSlug, CustomerSlug, ProviderSlug string
	ResourceScopeType                                     *string // the plugin resource's type, if any
	ResourceCost                                          *decimal.Decimal
	OldPlanUUID                                           *models.UUID
	OldPlanName                                           *string
	// FixedPrice and ActivationPrice are the plan's monthly (fixed) and
	// one-time (on activation) component prices, 0 without a plan.
	FixedPrice, ActivationPrice decimal.Decimal
}

// OrderViews is the query over orders joined for OrderView (no filter, no
// ordering); the caller adds filters (columns are qualified: orders, f
// (offerings), pr (provider customer), p (projects), c (customers), r
// (resources), pl (plans)).
func (s *Store) OrderViews(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("orders").Select(`orders.id, orders.uuid, orders.type, orders.state, orders.resource_id, orders.offering_id,
		orders.project_id, orders.plan_id, orders.limits, orders.attributes, orders.cost, orders.created_by_id, orders.consumer_reviewed_at,
		orders.provider_reviewed_at, orders.error_message, orders.error_traceback, orders.output, orders.callback_url, orders.termination_comment,
		orders.backend_id, orders.completed_at, orders.created, orders.modified,
		f.uuid AS offering_uuid, f.name AS offering_name, f.description AS offering_description, f.type AS offering_type,
		f.shared AS offering_shared, f.billable AS offering_billable, f.plugin_options AS offering_plugin_opts, f.customer_id AS offering_customer_id,
		pr.uuid AS provider_uuid, pr.name AS provider_name, cat.uuid AS category_uuid, cat.title AS category_title, cat.icon AS category_icon,
		pl.uuid AS plan_uuid, pl.name AS plan_name, pl.unit AS plan_unit, pl.description AS plan_description,
		r.uuid AS resource_uuid, r.name AS resource_name, r.scope_uuid AS resource_scope_uuid, p.uuid AS project_uuid, p.name AS project_name, p.description AS project_description,
		c.id AS customer_id, c.uuid AS customer_uuid, c.name AS customer_name,
		cb.username AS created_by_username, cb.first_name AS created_by_first_name, cb.last_name AS created_by_last_name, cb.email AS created_by_email,
		cb.organization AS created_by_org, cb.civil_number AS created_by_civil_number,
		crv.username AS consumer_reviewer_name, crv.first_name AS consumer_reviewer_fn, crv.last_name AS consumer_reviewer_ln,
		prv.username AS provider_reviewer_name, prv.first_name AS provider_reviewer_fn, prv.last_name AS provider_reviewer_ln,
		r.slug AS resource_slug, p.slug AS project_slug, c.slug AS customer_slug, pr.slug AS provider_slug,
		NULLIF(r.scope_type, '') AS resource_scope_type, r.cost AS resource_cost, opl.uuid AS old_plan_uuid, opl.name AS old_plan_name,
		` + planPrice(models.BillingFixed) + ` AS fixed_price, ` + planPrice(models.BillingOne) + ` AS activation_price`).
		Scopes(marketplaceContext("orders")).
		Joins("JOIN resources r ON r.id = orders.resource_id").
		Joins("LEFT JOIN users cb ON cb.id = orders.created_by_id").
		Joins("LEFT JOIN users crv ON crv.id = orders.consumer_reviewed_by_id").
		Joins("LEFT JOIN users prv ON prv.id = orders.provider_reviewed_by_id").
		Joins("LEFT JOIN plans opl ON opl.id = orders.old_plan_id")
}

// planPrice is the SQL of the sum of an order's plan's component prices of
// one billing type (price × amount; 0 without a plan).
func planPrice(billingType models.BillingType) string {
	return `(SELECT COALESCE(SUM(pc.price * pc.amount), 0) FROM plan_components pc
		JOIN offering_components oc ON oc.id = pc.component_id
		WHERE pc.plan_id = orders.plan_id AND oc.billing_type = '` + string(billingType) + `')`
}

// OrderViewByUUID loads one order's view. Codes: not_found.
func (s *Store) OrderViewByUUID(ctx context.Context, id models.UUID) (*OrderView, error) {
	var v OrderView
	if err := s.OrderViews(ctx).Where("orders.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Order")
	}
	return &v, nil
}

// RoleScopes are the ids of the scopes where a user holds a role in force,
// whatever the role: they decide what a user sees, never what a user may
// do (that is rbac.Checker's, by permission).
type RoleScopes struct {
	Customers, Projects, Offerings []int64
}

// UserRoleScopes reads the scopes where the user holds a role in force at now.
func (s *Store) UserRoleScopes(ctx context.Context, userID int64, now time.Time) (*RoleScopes, error) {
	var rows []struct {
		ScopeType models.ScopeType
		ScopeID   int64
	}
	err := s.DB.WithContext(ctx).Table("user_roles").Select("user_roles.scope_type, user_roles.scope_id").
		Where("user_roles.user_id = ?", userID).Where(rbac.InForce("user_roles", now)).Find(&rows).Error // Find: Scan explains its SQL every time
	if err != nil {
		return nil, models.Internal(err)
	}
	out := &RoleScopes{}
	for _, r := range rows {
		switch r.ScopeType {
		case models.ScopeCustomer:
			out.Customers = append(out.Customers, r.ScopeID)
		case models.ScopeProject:
			out.Projects = append(out.Projects, r.ScopeID)
		case models.ScopeOffering:
			out.Offerings = append(out.Offerings, r.ScopeID)
		}
	}
	return out, nil
}

func nonEmpty(ids []int64) []int64 {
	if len(ids) == 0 {
		return []int64{0}
	}
	return ids
}

// ConsumerFilter limits a query over an orders/resources table (alias t,
// joined with projects p) to the rows of projects the scopes see: a role on
// the project or on its customer.
func (rs *RoleScopes) ConsumerFilter(q *gorm.DB, t string) *gorm.DB {
	return q.Where("(p.customer_id IN ? OR "+t+".project_id IN ?)", nonEmpty(rs.Customers), nonEmpty(rs.Projects))
}

// ProviderFilter limits a query over orders/resources (alias t, joined with
// offerings f) to the rows of offerings the scopes provide: a role on the
// offering's customer or on the offering.
func (rs *RoleScopes) ProviderFilter(q *gorm.DB, t string) *gorm.DB {
	return q.Where("(f.customer_id IN ? OR "+t+".offering_id IN ?)", nonEmpty(rs.Customers), nonEmpty(rs.Offerings))
}

// EitherFilter is ConsumerFilter OR ProviderFilter.
func (rs *RoleScopes) EitherFilter(q *gorm.DB, t string) *gorm.DB {
	return q.Where(rs.eitherCond(t))
}

// eitherCond is the condition of EitherFilter and its arguments.
func (rs *RoleScopes) eitherCond(t string) (string, any, any, any, any) {
	return "(p.customer_id IN ? OR " + t + ".project_id IN ? OR f.customer_id IN ? OR " + t + ".offering_id IN ?)",
		nonEmpty(rs.Customers), nonEmpty(rs.Projects), nonEmpty(rs.Customers), nonEmpty(rs.Offerings)
}

// DeleteOrder removes a (canceled or rejected) order. Codes: not_found.
func (s *Store) DeleteOrder(ctx context.Context, id models.UUID) error {
	res := s.DB.WithContext(ctx).Where("uuid = ?", id).Delete(&orderRow{})
	if res.Error != nil {
		return translate(res.Error, "Order")
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "Order not found.")
	}
	return nil
}

// OrderingOffering is what placing an order needs to know about an offering.
type OrderingOffering struct {
	ID             int64
	UUID           models.UUID
	Name           string
	Type           string
	State          models.OfferingState
	Shared         bool
	Billable       bool
	CustomerID     int64
	ProjectID      *int64
	TermsOfService string
	PluginOptions  map[string]any
}

// OfferingForOrder loads an offering by UUID. Codes: not_found.
func (s *Store) OfferingForOrder(ctx context.Context, id models.UUID) (*OrderingOffering, error) {
	var r struct {
		ID             int64
		UUID           models.UUID
		Name           string
		Type           string
		State          models.OfferingState
		Shared         bool
		Billable       bool
		CustomerID     int64
		ProjectID      *int64
		TermsOfService string
		PluginOptions  []byte
	}
	if err := s.DB.WithContext(ctx).Table("offerings").Select("id, uuid, name, type, state, shared, billable, customer_id, project_id, terms_of_service, plugin_options").
		Where("uuid = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "Offering")
	}
	o := &OrderingOffering{ID: r.ID, UUID: r.UUID, Name: r.Name, Type: r.Type, State: r.State, Shared: r.Shared, Billable: r.Billable,
		CustomerID: r.CustomerID, ProjectID: r.ProjectID, TermsOfService: r.TermsOfService}
	_ = jsonUnmarshal(r.PluginOptions, &o.PluginOptions)
	return o, nil
}

// OrderingPlan is a plan as ordering sees it.
type OrderingPlan struct {
	ID         int64
	UUID       models.UUID
	OfferingID int64
	Name       string
	Archived   bool
}

// PlanForOrder loads a plan by UUID. Codes: not_found.
func (s *Store) PlanForOrder(ctx context.Context, id models.UUID) (*OrderingPlan, error) {
	var p OrderingPlan
	if err := s.DB.WithContext(ctx).Table("plans").Select("id, uuid, offering_id, name, archived").Where("uuid = ?", id).Take(&p).Error; err != nil {
		return nil, translate(err, "Plan")
	}
	return &p, nil
}

// ActivePlanCount counts the offering's plans that are not archived.
func (s *Store) ActivePlanCount(ctx context.Context, offeringID int64) (int64, error) {
	var n int64
	err := s.DB.WithContext(ctx).Table("plans").Where("offering_id = ? AND archived = ?", offeringID, false).Count(&n).Error
	return n, translate(err, "Plan")
}

// OrderingComponent is an offering component as limits validation sees it.
type OrderingComponent struct {
	Type        string
	BillingType models.BillingType
	MinValue    *int64
	MaxValue    *int64
}

// OfferingComponentsForOrder lists an offering's components.
func (s *Store) OfferingComponentsForOrder(ctx context.Context, offeringID int64) ([]OrderingComponent, error) {
	var out []OrderingComponent
	err := s.DB.WithContext(ctx).Table("offering_components").Select("type, billing_type, min_value, max_value").
		Where("offering_id = ?", offeringID).Order("id").Scan(&out).Error
	return out, translate(err, "Offering component")
}
