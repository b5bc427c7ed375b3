package store

// The catalog's reads: which offerings and plans the caller may see (as a
// provider or in the public catalog), the filters of the catalog lists and
// the related rows the catalog API renders.

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

// catalogContains is a case-insensitive substring condition on col (the
// LIKE wildcards of v are not escaped).
func catalogContains(q *gorm.DB, col, v string) *gorm.DB {
	return q.Where("LOWER("+col+") LIKE ?", likeContains(v))
}

// catalogRolesInForce returns the ids of the scopes of type t where u holds
// a role in force at now.
func (s *Store) catalogRolesInForce(ctx context.Context, u *models.User, t models.ScopeType, now time.Time) ([]int64, error) {
	var ids []int64
	err := rbac.ScopeIDs(s.DB.WithContext(ctx), u.ID, t, rbac.Held{}, now).Distinct("ur.scope_id").
		Pluck("ur.scope_id", &ids).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return ids, nil
}

// filterProviderOfferings limits q (over "offerings") to the offerings the
// caller manages or may see as a provider: staff and support all; others
// those of customers where they hold a role and those they hold a role on.
func (s *Store) filterProviderOfferings(ctx context.Context, q *gorm.DB) (*gorm.DB, error) {
	u := caller(ctx)
	if rbac.SeesEverything(u) {
		return q, nil
	}
	if u == nil {
		return q.Where("1 = 0"), nil
	}
	now := s.Now()
	customers, err := s.catalogRolesInForce(ctx, u, models.ScopeCustomer, now)
	if err != nil {
		return nil, err
	}
	offerings, err := s.catalogRolesInForce(ctx, u, models.ScopeOffering, now)
	if err != nil {
		return nil, err
	}
	return q.Where("offerings.customer_id IN ? OR offerings.id IN ?", orNone(customers), orNone(offerings)), nil
}

// filterPublicOfferings limits q (over "offerings") to the public catalog:
// Active and Paused offerings that are shared, or (for staff and support,
// and for callers connected to the offering's customer) not shared.
func (s *Store) filterPublicOfferings(ctx context.Context, q *gorm.DB) (*gorm.DB, error) {
	q = q.Where("offerings.state IN ?", []models.OfferingState{models.OfferingActive, models.OfferingPaused})
	u := caller(ctx)
	if rbac.SeesEverything(u) {
		return q, nil
	}
	if u == nil {
		return q.Where("offerings.shared = ?", true), nil
	}
	var customers []int64
	cq := rbac.FilterCustomers(s.DB.WithContext(ctx).Table("customers"), u, s.Now())
	if err := cq.Pluck("customers.id", &customers).Error; err != nil {
		return nil, models.Internal(err)
	}
	return q.Where("offerings.shared = ? OR offerings.customer_id IN ?", true, orNone(customers)), nil
}

// OfferingFilter narrows the offering lists (provider and public): the
// filters customer_uuid, category_uuid, state, type, name, name_exact,
// description, customer (URL), uuid_list, query, created, modified,
// keyword, shared and billable.
type OfferingFilter struct {
	CustomerUUIDs []models.UUID // customer_uuid
	CategoryUUIDs []models.UUID // category_uuid
	States        []string      // state (any of)
	Types         []string      // type (any of)
	Name          string        // icontains
	NameExact     string
	Description   string        // icontains
	Customers     []models.UUID // customer (the UUIDs of its URLs)
	UUIDs         []models.UUID // uuid_list
	// Query is the offering's UUID, or text found in its name or
	// description.
	Query string
	// Created and Modified keep the offerings created (modified) then or later.
	Created, Modified *time.Time
	// Keyword is text found in the name, the description or the customer's
	// name or abbreviation.
	Keyword          string
	Shared, Billable *bool
}

// apply narrows q (over "offerings") by f.
func (f OfferingFilter) apply(s *Store, q *gorm.DB) *gorm.DB {
	if len(f.CustomerUUIDs) > 0 {
		q = q.Where("offerings.customer_id IN (?)", s.DB.Table("customers").Select("id").Where("uuid IN ?", f.CustomerUUIDs))
	}
	if len(f.CategoryUUIDs) > 0 {
		q = q.Where("offerings.category_id IN (?)", s.DB.Table("categories").Select("id").Where("uuid IN ?", f.CategoryUUIDs))
	}
	if len(f.States) > 0 {
		q = q.Where("offerings.state IN ?", f.States)
	}
	if len(f.Types) > 0 {
		q = q.Where("offerings.type IN ?", f.Types)
	}
	if f.Name != "" {
		q = catalogContains(q, "offerings.name", f.Name)
	}
	if f.NameExact != "" {
		q = q.Where("offerings.name = ?", f.NameExact)
	}
	if f.Description != "" {
		q = catalogContains(q, "offerings.description", f.Description)
	}
	if len(f.Customers) > 0 {
		q = q.Where("offerings.customer_id IN (?)", s.DB.Table("customers").Select("id").Where("uuid IN ?", f.Customers))
	}
	if len(f.UUIDs) > 0 {
		q = q.Where("offerings.uuid IN ?", f.UUIDs)
	}
	if text := f.Query; text != "" { // the UUID, or words of the name or description
		if id, err := models.ParseUUID(text); err == nil {
			q = q.Where("offerings.uuid = ?", id)
		} else {
			like := "%" + strings.ToLower(text) + "%"
			q = q.Where("LOWER(offerings.name) LIKE ? OR LOWER(offerings.description) LIKE ?", like, like)
		}
	}
	if f.Created != nil {
		q = q.Where("offerings.created >= ?", *f.Created)
	}
	if f.Modified != nil {
		q = q.Where("offerings.modified >= ?", *f.Modified)
	}
	if f.Keyword != "" {
		like := "%" + strings.ToLower(f.Keyword) + "%"
		q = q.Where("LOWER(offerings.name) LIKE ? OR LOWER(offerings.description) LIKE ? OR offerings.customer_id IN (?)",
			like, like, s.DB.Table("customers").Select("id").Where("LOWER(name) LIKE ? OR LOWER(abbreviation) LIKE ?", like, like))
	}
	if f.Shared != nil {
		q = q.Where("offerings.shared = ?", *f.Shared)
	}
	if f.Billable != nil {
		q = q.Where("offerings.billable = ?", *f.Billable)
	}
	return q
}

// ProviderOfferingsQuery returns the offerings the caller sees as a provider
// (staff and support all; others those of customers where they hold a role
// in force and those they hold a role on), narrowed by f, as a query over
// table "offerings" (rows scan into Offering) for rest.List.
func (s *Store) ProviderOfferingsQuery(ctx context.Context, f OfferingFilter) (Query, error) {
	q, err := s.filterProviderOfferings(ctx, s.DB.WithContext(ctx).Model(&Offering{}))
	if err != nil {
		return Query{}, err
	}
	return QueryOf(f.apply(s, q)), nil
}

// PublicOfferingsQuery returns the public catalog the caller sees (Active
// and Paused offerings that are shared or of a customer the caller is
// connected to; staff and support see every one), narrowed by f, as a query
// over table "offerings" (rows scan into Offering) for rest.List.
func (s *Store) PublicOfferingsQuery(ctx context.Context, f OfferingFilter) (Query, error) {
	q, err := s.filterPublicOfferings(ctx, s.DB.WithContext(ctx).Model(&Offering{}))
	if err != nil {
		return Query{}, err
	}
	return QueryOf(f.apply(s, q)), nil
}

// visibleOffering loads the offering with the UUID through filter; a hidden
// or missing one is not_found ("No Offering matches the given query.").
func (s *Store) visibleOffering(ctx context.Context, id models.UUID,
	filter func(context.Context, *gorm.DB) (*gorm.DB, error)) (*Offering, error) {
	q, err := filter(ctx, s.DB.WithContext(ctx).Model(&Offering{}).Where("offerings.uuid = ?", id))
	if err != nil {
		return nil, err
	}
	var rows []Offering
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(rows) == 0 {
		return nil, noMatch("Offering")
	}
	return &rows[0], nil
}

// VisibleProviderOffering loads the offering with the UUID if the caller
// sees it as a provider (see ProviderOfferingsQuery). Codes: not_found
// ("No Offering matches the given query.").
func (s *Store) VisibleProviderOffering(ctx context.Context, id models.UUID) (*Offering, error) {
	return s.visibleOffering(ctx, id, s.filterProviderOfferings)
}

// VisiblePublicOffering loads the offering with the UUID if the caller sees
// it in the public catalog (see PublicOfferingsQuery). Codes: not_found
// ("No Offering matches the given query.").
func (s *Store) VisiblePublicOffering(ctx context.Context, id models.UUID) (*Offering, error) {
	return s.visibleOffering(ctx, id, s.filterPublicOfferings)
}

// visiblePlans limits q (over "plans") to the plans of offerings the caller
// sees as a provider or in the public catalog.
func (s *Store) visiblePlans(ctx context.Context, q *gorm.DB) (*gorm.DB, error) {
	prov, err := s.filterProviderOfferings(ctx, s.DB.Model(&Offering{}).Select("offerings.id"))
	if err != nil {
		return nil, err
	}
	pub, err := s.filterPublicOfferings(ctx, s.DB.Model(&Offering{}).Select("offerings.id"))
	if err != nil {
		return nil, err
	}
	return q.Where("plans.offering_id IN (?) OR plans.offering_id IN (?)", prov, pub), nil
}

// PlanFilter narrows PlansQuery: the filters offering_uuid, offering (URL)
// and offering_slug.
type PlanFilter struct {
	OfferingUUIDs []models.UUID // offering_uuid
	Offerings     []models.UUID // offering (the UUIDs of its URLs)
	OfferingSlug  string
}

// PlansQuery returns the plans of the offerings the caller sees as a
// provider or in the public catalog, narrowed by f, as a query over table
// "plans" (rows scan into Plan) for rest.List.
func (s *Store) PlansQuery(ctx context.Context, f PlanFilter) (Query, error) {
	q, err := s.visiblePlans(ctx, s.DB.WithContext(ctx).Model(&Plan{}))
	if err != nil {
		return Query{}, err
	}
	if len(f.OfferingUUIDs) > 0 {
		q = q.Where("plans.offering_id IN (?)", s.DB.Table("offerings").Select("id").Where("uuid IN ?", f.OfferingUUIDs))
	}
	if len(f.Offerings) > 0 {
		q = q.Where("plans.offering_id IN (?)", s.DB.Table("offerings").Select("id").Where("uuid IN ?", f.Offerings))
	}
	if f.OfferingSlug != "" {
		q = q.Where("plans.offering_id IN (?)", s.DB.Table("offerings").Select("id").Where("slug = ?", f.OfferingSlug))
	}
	return QueryOf(q), nil
}

// VisiblePlan loads the plan with the UUID, with its offering, if the
// caller sees it (see PlansQuery). Codes: not_found ("No Plan matches the
// given query.").
func (s *Store) VisiblePlan(ctx context.Context, id models.UUID) (*Plan, *Offering, error) {
	q, err := s.visiblePlans(ctx, s.DB.WithContext(ctx).Model(&Plan{}).Where("plans.uuid = ?", id))
	if err != nil {
		return nil, nil, err
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return nil, nil, models.Internal(err)
	}
	if n == 0 {
		return nil, nil, noMatch("Plan")
	}
	return s.PlanByUUID(ctx, id)
}

// PublicPlan loads the plan with the UUID of the offering if it is not
// archived. Codes: not_found ("No Plan matches the given query.").
func (s *Store) PublicPlan(ctx context.Context, offeringID int64, id models.UUID) (*Plan, error) {
	var rows []Plan
	if err := s.DB.WithContext(ctx).Where("uuid = ? AND offering_id = ? AND archived = ?", id, offeringID, false).
		Limit(1).Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(rows) == 0 {
		return nil, noMatch("Plan")
	}
	return &rows[0], nil
}

// CategoriesByID loads categories by id (missing ids are absent).
func (s *Store) CategoriesByID(ctx context.Context, ids []int64) (map[int64]*Category, error) {
	out := map[int64]*Category{}
	if len(ids) == 0 {
		return out, nil
	}
	var cs []Category
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&cs).Error; err != nil {
		return nil, models.Internal(err)
	}
	for i := range cs {
		out[cs[i].ID] = &cs[i]
	}
	return out, nil
}

// CategoryGroupUUIDs returns the UUIDs of the category groups with the
// given ids, keyed by id (missing ids are absent).
func (s *Store) CategoryGroupUUIDs(ctx context.Context, ids []int64) (map[int64]models.UUID, error) {
	out := map[int64]models.UUID{}
	if len(ids) == 0 {
		return out, nil
	}
	var gs []CategoryGroup
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&gs).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, g := range gs {
		out[g.ID] = g.UUID
	}
	return out, nil
}

// OfferingUUIDs returns the UUIDs of the offerings with the given ids,
// keyed by id (missing ids are absent).
func (s *Store) OfferingUUIDs(ctx context.Context, ids []int64) (map[int64]models.UUID, error) {
	out := map[int64]models.UUID{}
	if len(ids) == 0 {
		return out, nil
	}
	var os []Offering
	if err := s.DB.WithContext(ctx).Select("id, uuid").Where("id IN ?", ids).Find(&os).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, o := range os {
		out[o.ID] = o.UUID
	}
	return out, nil
}

// OfferingOrderCounts counts the orders of each offering (all states).
func (s *Store) OfferingOrderCounts(ctx context.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	var oc []struct {
		OfferingID int64
		N          int64
	}
	if err := s.DB.WithContext(ctx).Table("orders").Select("offering_id, COUNT(*) AS n").Where("offering_id IN ?", ids).
		Group("offering_id").Scan(&oc).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range oc {
		out[r.OfferingID] = r.N
	}
	return out, nil
}

// catalogRowByUUID loads the row of row's table with the UUID; none is
// not_found ("No <what> matches the given query.").
func (s *Store) catalogRowByUUID(ctx context.Context, row any, id models.UUID, what string) error {
	return findOne(s.DB.WithContext(ctx).Where("uuid = ?", id), row, what)
}

// ServiceProviderByUUID loads a service provider. Codes: not_found ("No
// ServiceProvider matches the given query.").
func (s *Store) ServiceProviderByUUID(ctx context.Context, id models.UUID) (*ServiceProvider, error) {
	var sp ServiceProvider
	if err := s.catalogRowByUUID(ctx, &sp, id, "ServiceProvider"); err != nil {
		return nil, err
	}
	return &sp, nil
}

// CategoryGroupByUUID loads a category group. Codes: not_found ("No
// CategoryGroup matches the given query.").
func (s *Store) CategoryGroupByUUID(ctx context.Context, id models.UUID) (*CategoryGroup, error) {
	var g CategoryGroup
	if err := s.catalogRowByUUID(ctx, &g, id, "CategoryGroup"); err != nil {
		return nil, err
	}
	return &g, nil
}

// CategoryByUUID loads a category. Codes: not_found ("No Category matches
// the given query.").
func (s *Store) CategoryByUUID(ctx context.Context, id models.UUID) (*Category, error) {
	var ca Category
	if err := s.catalogRowByUUID(ctx, &ca, id, "Category"); err != nil {
		return nil, err
	}
	return &ca, nil
}

// catalogIDOf is the id of the row of table with the UUID (0 when none).
func (s *Store) catalogIDOf(ctx context.Context, table string, id models.UUID) (int64, error) {
	var ids []int64
	if err := s.DB.WithContext(ctx).Table(table).Where("uuid = ?", id).Limit(1).Pluck("id", &ids).Error; err != nil {
		return 0, models.Internal(err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// CategoryIDByUUID is the id of the category with the UUID (0 when none).
func (s *Store) CategoryIDByUUID(ctx context.Context, id models.UUID) (int64, error) {
	return s.catalogIDOf(ctx, "categories", id)
}

// CategoryGroupIDByUUID is the id of the category group with the UUID (0
// when none).
func (s *Store) CategoryGroupIDByUUID(ctx context.Context, id models.UUID) (int64, error) {
	return s.catalogIDOf(ctx, "category_groups", id)
}

// IsServiceProvider reports whether the customer is registered as a
// service provider.
func (s *Store) IsServiceProvider(ctx context.Context, customerID int64) (bool, error) {
	var ids []int64
	if err := s.DB.WithContext(ctx).Table("service_providers").Where("customer_id = ?", customerID).Limit(1).
		Pluck("id", &ids).Error; err != nil {
		return false, models.Internal(err)
	}
	return len(ids) > 0 && ids[0] != 0, nil
}

// UnarchivedOfferingCount counts the customer's offerings that are not
// Archived.
func (s *Store) UnarchivedOfferingCount(ctx context.Context, customerID int64) (int64, error) {
	var n int64
	if err := s.DB.WithContext(ctx).Model(&Offering{}).Where("customer_id = ? AND state <> ?", customerID, models.OfferingArchived).
		Count(&n).Error; err != nil {
		return 0, models.Internal(err)
	}
	return n, nil
}

// CategoryOfferingCount counts the offerings of the category (any state).
func (s *Store) CategoryOfferingCount(ctx context.Context, categoryID int64) (int64, error) {
	var n int64
	if err := s.DB.WithContext(ctx).Model(&Offering{}).Where("category_id = ?", categoryID).Count(&n).Error; err != nil {
		return 0, models.Internal(err)
	}
	return n, nil
}

// ResourceBackendIDCount counts the resources with the backend id among
// those of offering o, or with allOfferings of every offering of o's
// customer.
func (s *Store) ResourceBackendIDCount(ctx context.Context, backendID string, o *Offering, allOfferings bool) (int64, error) {
	q := s.DB.WithContext(ctx).Table("resources").Joins("JOIN offerings f ON f.id = resources.offering_id").
		Where("resources.backend_id = ?", backendID)
	if allOfferings {
		q = q.Where("f.customer_id = ?", o.CustomerID)
	} else {
		q = q.Where("resources.offering_id = ?", o.ID)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, models.Internal(err)
	}
	return n, nil
}

// ServiceProviderFilter narrows ServiceProvidersQuery.
type ServiceProviderFilter struct {
	CustomerUUIDs []models.UUID // customer_uuid
}

// ServiceProvidersQuery returns the service providers matching f (every
// user sees every one) as a query over table "service_providers" (rows scan
// into ServiceProvider) for rest.List.
func (s *Store) ServiceProvidersQuery(ctx context.Context, f ServiceProviderFilter) Query {
	q := s.DB.WithContext(ctx).Model(&ServiceProvider{})
	if len(f.CustomerUUIDs) > 0 {
		q = q.Where("service_providers.customer_id IN (?)", s.DB.Table("customers").Select("id").Where("uuid IN ?", f.CustomerUUIDs))
	}
	return QueryOf(q)
}

// CategoryGroupFilter narrows CategoryGroupsQuery.
type CategoryGroupFilter struct {
	Title string // icontains
}

// CategoryGroupsQuery returns the category groups matching f (every user
// sees every one) as a query over table "category_groups" (rows scan into
// CategoryGroup) for rest.List.
func (s *Store) CategoryGroupsQuery(ctx context.Context, f CategoryGroupFilter) Query {
	q := s.DB.WithContext(ctx).Model(&CategoryGroup{})
	if f.Title != "" {
		q = catalogContains(q, "title", f.Title)
	}
	return QueryOf(q)
}

// CategoryFilter narrows CategoriesQuery.
type CategoryFilter struct {
	Title      string        // icontains
	GroupUUIDs []models.UUID // group_uuid
}

// CategoriesQuery returns the categories matching f (every user sees every
// one) as a query over table "categories" (rows scan into Category) for
// rest.List.
func (s *Store) CategoriesQuery(ctx context.Context, f CategoryFilter) Query {
	q := s.DB.WithContext(ctx).Model(&Category{})
	if f.Title != "" {
		q = catalogContains(q, "categories.title", f.Title)
	}
	if len(f.GroupUUIDs) > 0 {
		q = q.Where("categories.group_id IN (?)", s.DB.Table("category_groups").Select("id").Where("uuid IN ?", f.GroupUUIDs))
	}
	return QueryOf(q)
}

// ProviderUserKeysQuery is ProviderUserKeys as a query for rest.List (rows
// scan into SSHKey).
func (s *Store) ProviderUserKeysQuery(ctx context.Context, providerCustomerID int64, now time.Time) Query {
	return QueryOf(s.ProviderUserKeys(ctx, providerCustomerID, now))
}
