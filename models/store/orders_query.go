package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/waldur-go/waldur/models"
)

// The lists and retrieves of marketplace orders, resources and offering
// users, with what the caller may see decided here: staff and support see
// every row; anyone else the rows of the scopes where they hold a role in
// force (RoleScopes, judged at the store's clock).

// OrderOrdering is the ?o= of the order list (columns of OrdersQuery).
var OrderOrdering = map[string]string{
	"created": "orders.created", "modified": "orders.modified", "state": "orders.state", "type": "orders.type",
	"cost": "orders.cost", "consumer_reviewed_at": "orders.consumer_reviewed_at", "project__name": "p.name",
	"resource__name": "r.name", "offering__name": "f.name",
}

// OrderFilter narrows OrdersQuery (the filters of GET /api/marketplace-orders/).
// Empty values do not filter; each list is its own condition (a UUID filter
// and the reference filter of the same object both apply).
type OrderFilter struct {
	States        []string // already valid order states
	Types         []string // already valid order types
	OfferingTypes []string
	// ?project_uuid=, ?customer_uuid=, ?offering_uuid=, ?provider_uuid=,
	// ?resource_uuid=, ?category_uuid=.
	ProjectUUIDs, CustomerUUIDs, OfferingUUIDs, ProviderUUIDs, ResourceUUIDs, CategoryUUIDs []models.UUID
	// The reference filters ?offering=, ?resource=, ?project=, ?customer=.
	Offerings, Resources, Projects, Customers []models.UUID
	// Created and Modified: the moment or later.
	Created, Modified *time.Time
	ResourceName      string // the resource's name contains
	OfferingSlug      string
	// Query is an order's or its resource's UUID, or words of the
	// resource's name.
	Query string
}

// orderKeyJoins are the joins the keys of the order list may need (a
// filter or an ordering names their alias); every inner one matches
// exactly one row (NOT NULL foreign keys).
var orderKeyJoins = []KeyJoin{
	{Alias: "p", SQL: "JOIN projects p ON p.id = orders.project_id"},
	{Alias: "c", After: "p", SQL: "JOIN customers c ON c.id = p.customer_id"},
	{Alias: "f", SQL: "JOIN offerings f ON f.id = orders.offering_id"},
	{Alias: "pr", After: "f", SQL: "JOIN customers pr ON pr.id = f.customer_id"},
	{Alias: "cat", After: "f", SQL: "JOIN categories cat ON cat.id = f.category_id"},
	{Alias: "r", SQL: "JOIN resources r ON r.id = orders.resource_id"},
	{Alias: "pl", SQL: "LEFT JOIN plans pl ON pl.id = orders.plan_id"},
}

// OrdersQuery returns the orders the caller may see, narrowed by f, as a
// query over OrderView rows: a role on the order's project or its
// customer, or on the offering or its customer. It is counted and paged
// over the orders with only the joins its filters and ordering name; the
// OrderView joins and prices are computed for one page's orders.
func (s *Store) OrdersQuery(ctx context.Context, f OrderFilter) (Query, error) {
	k := NewKeyed(s.DB.WithContext(ctx).Table("orders"), "orders.id", s.OrderViews(ctx), orderKeyJoins...)
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return Query{}, err
	}
	if rs != nil {
		k.Where(rs.eitherCond("orders"))
	}
	if len(f.States) > 0 {
		k.Where("orders.state IN ?", f.States)
	}
	if len(f.Types) > 0 {
		k.Where("orders.type IN ?", f.Types)
	}
	if len(f.OfferingTypes) > 0 {
		k.Where("f.type IN ?", f.OfferingTypes)
	}
	for _, in := range []struct {
		col string
		ids []models.UUID
	}{{"p.uuid", f.ProjectUUIDs}, {"c.uuid", f.CustomerUUIDs}, {"f.uuid", f.OfferingUUIDs}, {"pr.uuid", f.ProviderUUIDs},
		{"r.uuid", f.ResourceUUIDs}, {"cat.uuid", f.CategoryUUIDs},
		{"f.uuid", f.Offerings}, {"r.uuid", f.Resources}, {"p.uuid", f.Projects}, {"c.uuid", f.Customers}} {
		if len(in.ids) > 0 {
			k.Where(in.col+" IN ?", in.ids)
		}
	}
	if f.Created != nil {
		k.Where("orders.created >= ?", *f.Created)
	}
	if f.Modified != nil {
		k.Where("orders.modified >= ?", *f.Modified)
	}
	if f.ResourceName != "" {
		k.Where("LOWER(r.name) LIKE ?", likeContains(f.ResourceName))
	}
	if f.OfferingSlug != "" {
		k.Where("f.slug = ?", f.OfferingSlug)
	}
	if text := f.Query; text != "" {
		if id, err := models.ParseUUID(text); err == nil {
			k.Where("orders.uuid = ? OR r.uuid = ?", id, id)
		} else {
			k.Where("LOWER(r.name) LIKE ?", likeContains(text))
		}
	}
	return k.Query(), nil
}

// VisibleOrderView loads the order's view if the caller may see it (see
// OrdersQuery). Codes: not_found ("No Order matches the given query.").
func (s *Store) VisibleOrderView(ctx context.Context, id models.UUID) (*OrderView, error) {
	v, err := s.OrderViewByUUID(ctx, id)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return nil, noMatch("Order")
		}
		return nil, err
	}
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs != nil && !slices.Contains(rs.Customers, v.CustomerID) && !slices.Contains(rs.Projects, v.ProjectID) &&
		!slices.Contains(rs.Customers, v.OfferingCustomerID) && !slices.Contains(rs.Offerings, v.OfferingID) {
		return nil, noMatch("Order")
	}
	return v, nil
}

// ResourceSide is the point of view of a resource list or retrieve.
type ResourceSide int

const (
	// ResourceConsumerSide sees the resources of the projects where the
	// caller holds a role, or of their customers
	// (/api/marketplace-resources/).
	ResourceConsumerSide ResourceSide = iota
	// ResourceProviderSide sees the resources of the offerings the caller
	// provides: a role on the offering's customer or on the offering
	// (/api/marketplace-provider-resources/).
	ResourceProviderSide
)

// ResourceOrdering is the ?o= of the resource lists (columns of ResourcesQuery).
var ResourceOrdering = map[string]string{
	"created": "resources.created", "modified": "resources.modified", "name": "resources.name", "state": "resources.state",
	"project_name": "p.name", "customer_name": "c.name", "offering_name": "f.name",
}

// ResourceFilter narrows ResourcesQuery (the filters of the resource
// lists). Empty values do not filter; each list is its own condition.
type ResourceFilter struct {
	States        []string // already valid resource states
	OfferingTypes []string
	BackendID     string
	// The reference filters ?offering=, ?customer=, ?project=.
	Offerings, Customers, Projects []models.UUID
	// Created and Modified: the moment or later.
	Created, Modified *time.Time
	// Query is the resource's UUID, or words of its name.
	Query string
	Name  string // the name contains
	// Exact matches: the resource's name, its project's name, its offering's slug.
	NameExact, ProjectName, OfferingSlug     string
	Downscaled, Paused, RestrictMemberAccess *bool
	OfferingBillable, OfferingShared         *bool
	HasTerminateDate                         *bool
	// UsageBased and LimitBased: the offering has (true) or has not
	// (false) a component of that billing type.
	UsageBased, LimitBased *bool
	// ?project_uuid=, ?customer_uuid=, ?offering_uuid=, ?provider_uuid=,
	// ?category_uuid=, ?plan_uuid=.
	ProjectUUIDs, CustomerUUIDs, OfferingUUIDs, ProviderUUIDs, CategoryUUIDs, PlanUUIDs []models.UUID
}

// ResourcesQuery returns the resources the caller may see from side,
// narrowed by f, as a query over ResourceView rows.
func (s *Store) ResourcesQuery(ctx context.Context, side ResourceSide, f ResourceFilter) (Query, error) {
	q := s.ResourceViews(ctx)
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return Query{}, err
	}
	if rs != nil {
		if side == ResourceConsumerSide {
			q = rs.ConsumerFilter(q, "resources")
		} else {
			q = rs.ProviderFilter(q, "resources")
		}
	}
	if len(f.States) > 0 {
		q = q.Where("resources.state IN ?", f.States)
	}
	if len(f.OfferingTypes) > 0 {
		q = q.Where("f.type IN ?", f.OfferingTypes)
	}
	if f.BackendID != "" {
		q = q.Where("resources.backend_id = ?", f.BackendID)
	}
	for _, in := range []struct {
		col string
		ids []models.UUID
	}{{"f.uuid", f.Offerings}, {"c.uuid", f.Customers}, {"p.uuid", f.Projects}} {
		if len(in.ids) > 0 {
			q = q.Where(in.col+" IN ?", in.ids)
		}
	}
	if f.Created != nil {
		q = q.Where("resources.created >= ?", *f.Created)
	}
	if f.Modified != nil {
		q = q.Where("resources.modified >= ?", *f.Modified)
	}
	if text := f.Query; text != "" {
		if id, err := models.ParseUUID(text); err == nil {
			q = q.Where("resources.uuid = ?", id)
		} else {
			q = q.Where("LOWER(resources.name) LIKE ?", likeContains(text))
		}
	}
	if f.Name != "" {
		q = q.Where("LOWER(resources.name) LIKE ?", likeContains(f.Name))
	}
	for _, eq := range []struct{ col, v string }{{"resources.name", f.NameExact}, {"p.name", f.ProjectName}, {"f.slug", f.OfferingSlug}} {
		if eq.v != "" {
			q = q.Where(eq.col+" = ?", eq.v)
		}
	}
	for _, flag := range []struct {
		col string
		v   *bool
	}{{"resources.downscaled", f.Downscaled}, {"resources.paused", f.Paused}, {"resources.restrict_member_access", f.RestrictMemberAccess},
		{"f.billable", f.OfferingBillable}, {"f.shared", f.OfferingShared}} {
		if flag.v != nil {
			q = q.Where(flag.col+" = ?", *flag.v)
		}
	}
	if b := f.HasTerminateDate; b != nil && *b {
		q = q.Where("resources.end_date IS NOT NULL")
	} else if b != nil {
		q = q.Where("resources.end_date IS NULL")
	}
	for _, has := range []struct {
		bt models.BillingType
		v  *bool
	}{{models.BillingUsage, f.UsageBased}, {models.BillingLimit, f.LimitBased}} {
		if has.v != nil {
			cond := "EXISTS (SELECT 1 FROM offering_components oc WHERE oc.offering_id = resources.offering_id AND oc.billing_type = ?)"
			if !*has.v {
				cond = "NOT " + cond
			}
			q = q.Where(cond, has.bt)
		}
	}
	for _, in := range []struct {
		col string
		ids []models.UUID
	}{{"p.uuid", f.ProjectUUIDs}, {"c.uuid", f.CustomerUUIDs}, {"f.uuid", f.OfferingUUIDs}, {"pr.uuid", f.ProviderUUIDs},
		{"cat.uuid", f.CategoryUUIDs}, {"pl.uuid", f.PlanUUIDs}} {
		if len(in.ids) > 0 {
			q = q.Where(in.col+" IN ?", in.ids)
		}
	}
	return QueryOf(q), nil
}

// VisibleResourceView loads the resource's view if the caller may see it
// from side (see ResourcesQuery). Codes: not_found ("No Resource matches
// the given query.").
func (s *Store) VisibleResourceView(ctx context.Context, side ResourceSide, id models.UUID) (*ResourceView, error) {
	v, err := s.ResourceViewByUUID(ctx, id)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return nil, noMatch("Resource")
		}
		return nil, err
	}
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs != nil {
		ok := false
		if side == ResourceConsumerSide {
			ok = slices.Contains(rs.Customers, v.CustomerID) || slices.Contains(rs.Projects, v.ProjectID)
		} else {
			ok = slices.Contains(rs.Customers, v.OfferingCustomerID) || slices.Contains(rs.Offerings, v.OfferingID)
		}
		if !ok {
			return nil, noMatch("Resource")
		}
	}
	return v, nil
}

// OfferingUserOrdering is the ?o= of the offering user list (columns of
// OfferingUsersQuery).
var OfferingUserOrdering = map[string]string{
	"created": "offering_users.created", "modified": "offering_users.modified", "username": "offering_users.username",
}

// OfferingUserFilter narrows OfferingUsersQuery (the filters of GET
// /api/marketplace-offering-users/). Empty values do not filter.
type OfferingUserFilter struct {
	OfferingUUIDs []models.UUID // ?offering_uuid= and ?offering=
	ProviderUUIDs []models.UUID // the offering's customer
	UserUUIDs     []models.UUID
	OfferingSlugs []string
	UserUsername  string // the user's username, case-insensitively
	IsRestricted  *bool
	States        []string // already valid offering user states
	// Query: the offering's name, the account's username or the user's
	// username, first or last name contains.
	Query string
	// Created and Modified: the moment or later.
	Created, Modified *time.Time
}

// OfferingUsersQuery returns the offering users the caller may see,
// narrowed by f, as a query over OfferingUserView rows: those of
// offerings whose customer the caller holds a role in, of offerings they
// hold a role on, and their own.
func (s *Store) OfferingUsersQuery(ctx context.Context, f OfferingUserFilter) (Query, error) {
	q := s.OfferingUserViews(ctx)
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return Query{}, err
	}
	if rs != nil {
		q = rs.OfferingUserFilter(q, callerID(ctx))
	}
	if len(f.OfferingUUIDs) > 0 {
		q = q.Where("f.uuid IN ?", f.OfferingUUIDs)
	}
	if len(f.ProviderUUIDs) > 0 {
		q = q.Where("c.uuid IN ?", f.ProviderUUIDs)
	}
	if len(f.UserUUIDs) > 0 {
		q = q.Where("u.uuid IN ?", f.UserUUIDs)
	}
	if len(f.OfferingSlugs) > 0 {
		q = q.Where("f.slug IN ?", f.OfferingSlugs)
	}
	if f.UserUsername != "" {
		q = q.Where("LOWER(u.username) = ?", strings.ToLower(f.UserUsername))
	}
	if f.IsRestricted != nil {
		q = q.Where("offering_users.is_restricted = ?", *f.IsRestricted)
	}
	if len(f.States) > 0 {
		q = q.Where("offering_users.state IN ?", f.States)
	}
	if text := strings.ToLower(f.Query); text != "" {
		like := "%" + text + "%"
		q = q.Where(`(LOWER(f.name) LIKE ? OR LOWER(offering_users.username) LIKE ? OR LOWER(u.username) LIKE ?
			OR LOWER(u.first_name) LIKE ? OR LOWER(u.last_name) LIKE ?)`, like, like, like, like, like)
	}
	if f.Created != nil {
		q = q.Where("offering_users.created >= ?", *f.Created)
	}
	if f.Modified != nil {
		q = q.Where("offering_users.modified >= ?", *f.Modified)
	}
	return QueryOf(q), nil
}

// VisibleOfferingUser loads the offering user's view if the caller may see
// it (see OfferingUsersQuery). Codes: not_found ("No OfferingUser matches
// the given query.").
func (s *Store) VisibleOfferingUser(ctx context.Context, id models.UUID) (*OfferingUserView, error) {
	v, err := s.OfferingUserByUUID(ctx, id)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return nil, noMatch("OfferingUser")
		}
		return nil, err
	}
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs != nil && !slices.Contains(rs.Customers, v.OfferingCustomerID) && !slices.Contains(rs.Offerings, v.OfferingID) &&
		v.UserID != callerID(ctx) {
		return nil, noMatch("OfferingUser")
	}
	return v, nil
}
