package store

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

// The structure lists (customers, projects, project types, the team of a
// customer or project) and the visibility of customers and projects: which
// rows the caller (caller(ctx)) may see is decided here, with rbac's SQL
// filters, at the moment now the API passes (its clock).

// VisibleCustomer returns the customer with uuid id if the caller may see
// it at now (rbac.FilterCustomers). Codes: not_found ("No Customer matches
// the given query.").
func (s *Store) VisibleCustomer(ctx context.Context, id models.UUID, now time.Time) (*models.Customer, error) {
	var r customerRow
	q := rbac.FilterCustomers(s.DB.WithContext(ctx).Table("customers").Where("customers.uuid = ?", id), caller(ctx), now)
	if err := findOne(q, &r, "Customer"); err != nil {
		return nil, err
	}
	return r.model(), nil
}

// VisibleProject returns the project with uuid id (soft-deleted included,
// as Waldur lets a user reach a terminated project they could see) if the
// caller may see it at now (rbac.FilterProjects), with its customer.
// Codes: not_found ("No Project matches the given query.").
func (s *Store) VisibleProject(ctx context.Context, id models.UUID, now time.Time) (*models.Project, *models.Customer, error) {
	var r projectRow
	q := rbac.FilterProjects(s.DB.WithContext(ctx).Table("projects").Where("projects.uuid = ?", id), caller(ctx), now)
	if err := findOne(q, &r, "Project"); err != nil {
		return nil, nil, err
	}
	cu, err := s.CustomerByID(ctx, r.CustomerID)
	if err != nil {
		return nil, nil, err
	}
	return r.model(), cu, nil
}

// RoleScopeVisible reports whether the caller sees the scope at now
// (rbac's SQL visibility: staff and support see all, others where they
// hold a role); scopes other than customers and projects are seen by staff
// and support only.
func (s *Store) RoleScopeVisible(ctx context.Context, sc *RoleScope, now time.Time) (bool, error) {
	u := caller(ctx)
	var n int64
	var err error
	switch sc.Scope.Type {
	case models.ScopeCustomer:
		err = rbac.FilterCustomers(s.DB.WithContext(ctx).Table("customers").Where("customers.id = ?", sc.Scope.ID), u, now).Count(&n).Error
	case models.ScopeProject:
		err = rbac.FilterProjects(s.DB.WithContext(ctx).Table("projects").Where("projects.id = ?", sc.Scope.ID), u, now).Count(&n).Error
	default:
		return rbac.SeesEverything(u), nil
	}
	if err != nil {
		return false, models.Internal(err)
	}
	return n > 0, nil
}

// limitToUser applies Waldur's GenericUserFilter (?user_uuid=): q is
// limited to what the user with uuid id could see (limit is
// rbac.FilterCustomers or rbac.FilterProjects); an unknown user matches
// nothing. A nil id leaves q as it is.
func (s *Store) limitToUser(ctx context.Context, q *gorm.DB, id *models.UUID, limit func(*gorm.DB, *models.User, time.Time) *gorm.DB, now time.Time) (*gorm.DB, error) {
	if id == nil {
		return q, nil
	}
	other, err := s.UserByUUID(ctx, *id)
	if models.IsCode(err, models.CodeNotFound) {
		return q.Where("1 = 0"), nil
	}
	if err != nil {
		return nil, err
	}
	return limit(q, other, now), nil
}

// CustomerFilter narrows CustomersQuery (Waldur's CustomerFilter).
type CustomerFilter struct {
	Name             string // icontains
	NativeName       string // icontains
	Abbreviation     string // icontains
	ContactDetails   string // icontains
	NameExact        string
	RegistrationCode string
	AgreementNumber  string
	BackendID        string
	Archived         *bool
	// Query matches the name, native name, abbreviation, domain,
	// registration code or agreement number (icontains), or the UUID.
	Query string
	// OwnedByCurrentUser keeps the customers the caller owns.
	OwnedByCurrentUser bool
	// CurrentUserHasProjectCreatePermission keeps the customers where the
	// caller may create projects (everything for staff).
	CurrentUserHasProjectCreatePermission bool
	// IsServiceProvider keeps the service providers (none yet).
	IsServiceProvider bool
	// UserUUID is Waldur's GenericUserFilter (?user_uuid=): only what that
	// user could see (nothing for an unknown user).
	UserUUID *models.UUID
	// Nothing matches no row (?user_uuid= that is not a UUID).
	Nothing bool
}

// CustomersQuery returns the customers the caller may see at now
// (rbac.FilterCustomers), narrowed by f, as a query over table "customers"
// (rows scan into models.Customer), for rest.List.
func (s *Store) CustomersQuery(ctx context.Context, f CustomerFilter, now time.Time) (Query, error) {
	u := caller(ctx)
	q := rbac.FilterCustomers(s.DB.WithContext(ctx).Table("customers"), u, now)
	for _, kv := range []struct{ v, col string }{
		{f.Name, "customers.name"},
		{f.NativeName, "customers.native_name"},
		{f.Abbreviation, "customers.abbreviation"},
		{f.ContactDetails, "customers.contact_details"},
	} {
		if kv.v != "" {
			q = q.Where(icontains(kv.col), likeEscape(kv.v))
		}
	}
	for _, kv := range []struct{ v, col string }{
		{f.NameExact, "customers.name"},
		{f.RegistrationCode, "customers.registration_code"},
		{f.AgreementNumber, "customers.agreement_number"},
		{f.BackendID, "customers.backend_id"},
	} {
		if kv.v != "" {
			q = q.Where(kv.col+" = ?", kv.v)
		}
	}
	if f.Archived != nil {
		q = q.Where("customers.archived = ?", *f.Archived)
	}
	if v := f.Query; v != "" {
		cond := s.DB.Where("1 = 0")
		for _, col := range []string{"customers.name", "customers.native_name", "customers.abbreviation", "customers.domain",
			"customers.registration_code", "customers.agreement_number"} {
			cond = cond.Or(icontains(col), likeEscape(v))
		}
		if id, err := models.ParseUUID(v); err == nil {
			cond = cond.Or("customers.uuid = ?", id)
		}
		q = q.Where(cond)
	}
	if f.OwnedByCurrentUser {
		q = q.Where("customers.id IN (?)", s.scopesWithRole(u, models.ScopeCustomer, models.RoleCustomerOwner, now))
	}
	if f.CurrentUserHasProjectCreatePermission && !u.IsStaff {
		q = q.Where("customers.id IN (?)", s.scopesWithPermission(u, models.ScopeCustomer, models.PermProjectCreate, now))
	}
	if f.IsServiceProvider {
		q = q.Where("1 = 0") // no service providers until the marketplace registers them
	}
	if f.Nothing {
		q = q.Where("1 = 0")
	}
	q, err := s.limitToUser(ctx, q, f.UserUUID, rbac.FilterCustomers, now)
	if err != nil {
		return Query{}, err
	}
	return QueryOf(q), nil
}

// CustomerProjectCounts counts the live projects of each customer that the
// caller can see at now: all of them with a customer role (or as
// staff/support), only their own projects otherwise (Waldur's
// projects_count).
func (s *Store) CustomerProjectCounts(ctx context.Context, ids []int64, now time.Time) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		CustomerID int64
		N          int64
	}
	q := s.DB.WithContext(ctx).Table("projects").Select("projects.customer_id AS customer_id, COUNT(*) AS n").
		Where("projects.customer_id IN ? AND projects.is_removed = ?", ids, false)
	if err := rbac.FilterProjects(q, caller(ctx), now).Group("projects.customer_id").Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.CustomerID] = r.N
	}
	return out, nil
}

// CustomerUserCounts counts the distinct users holding a role in force at
// now in each customer or its live projects, limited like
// CustomerProjectCounts to what the caller can see (Waldur's users_count).
func (s *Store) CustomerUserCounts(ctx context.Context, ids []int64, now time.Time) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	u := caller(ctx)
	db := s.DB.WithContext(ctx)
	full := ids
	if !rbac.SeesEverything(u) {
		full = nil
		if u != nil {
			if err := db.Table("user_roles").Distinct("scope_id").
				Where("user_roles.user_id = ? AND user_roles.scope_type = ? AND user_roles.scope_id IN ? AND ?", u.ID, models.ScopeCustomer, ids, rbac.InForce("user_roles", now)).
				Pluck("scope_id", &full).Error; err != nil {
				return nil, models.Internal(err)
			}
		}
	}
	type pair struct {
		CustomerID int64
		UserID     int64
	}
	var pairs []pair
	if len(full) > 0 {
		if err := db.Table("user_roles").Distinct("user_roles.scope_id AS customer_id, user_roles.user_id AS user_id").
			Where("user_roles.scope_type = ? AND user_roles.scope_id IN ? AND ?", models.ScopeCustomer, full, rbac.InForce("user_roles", now)).
			Scan(&pairs).Error; err != nil {
			return nil, models.Internal(err)
		}
	}
	visible := rbac.FilterProjects(s.DB.Table("projects").Select("projects.id").
		Where("projects.customer_id IN ? AND projects.is_removed = ?", ids, false), u, now)
	var more []pair
	if err := db.Table("user_roles").Distinct("projects.customer_id AS customer_id, user_roles.user_id AS user_id").
		Joins("JOIN projects ON projects.id = user_roles.scope_id").
		Where("user_roles.scope_type = ? AND user_roles.scope_id IN (?) AND ?", models.ScopeProject, visible, rbac.InForce("user_roles", now)).
		Scan(&more).Error; err != nil {
		return nil, models.Internal(err)
	}
	seen := map[pair]bool{}
	for _, p := range append(pairs, more...) {
		if !seen[p] {
			seen[p] = true
			out[p.CustomerID]++
		}
	}
	return out, nil
}

// ProjectFilter narrows ProjectsQuery (Waldur's ProjectFilter).
type ProjectFilter struct {
	// IsRemoved keeps the soft-deleted (true) or live (false) projects;
	// when nil, soft-deleted projects are hidden unless IncludeTerminated.
	IsRemoved            *bool
	IncludeTerminated    bool
	Name                 string // icontains
	Description          string // icontains
	NameExact            string
	Slug                 string
	BackendID            string
	CustomerName         string // icontains
	CustomerNativeName   string // icontains
	CustomerAbbreviation string // icontains
	// Customers keeps the projects of these customers (by UUID).
	Customers []models.UUID
	// Query matches the name (icontains) or the UUID.
	Query string
	// Created and Modified keep the projects created or modified then or later.
	Created  *time.Time
	Modified *time.Time
	// CanManage keeps the projects the caller manages (customer owner or
	// project manager); CanAdmin those they administer.
	CanManage bool
	CanAdmin  bool
	// ConcealFinished hides the projects whose end date has passed.
	ConcealFinished bool
	// UserUUID is Waldur's GenericUserFilter (?user_uuid=): only what that
	// user could see (nothing for an unknown user).
	UserUUID *models.UUID
	// Nothing matches no row (?user_uuid= that is not a UUID).
	Nothing bool
}

// scopesWithRole is the subquery of scope ids of type t where u holds the
// named role, in force at now.
func (s *Store) scopesWithRole(u *models.User, t models.ScopeType, role string, now time.Time) *gorm.DB {
	return rbac.ScopeIDs(s.DB, u.ID, t, rbac.Held{Roles: []string{role}}, now)
}

// ProjectsQuery returns the projects the caller may see at now
// (rbac.FilterProjects), narrowed by f, as a query over table "projects"
// (rows scan into ProjectRow: the project with its customer), for rest.List.
func (s *Store) ProjectsQuery(ctx context.Context, f ProjectFilter, now time.Time) (Query, error) {
	u := caller(ctx)
	q := s.DB.WithContext(ctx).Table("projects")
	switch {
	case f.IsRemoved != nil:
		q = q.Where("projects.is_removed = ?", *f.IsRemoved)
	case !f.IncludeTerminated:
		q = q.Where("projects.is_removed = ?", false)
	}
	q = rbac.FilterProjects(q, u, now)
	for _, kv := range []struct{ v, col string }{
		{f.Name, "projects.name"},
		{f.Description, "projects.description"},
	} {
		if kv.v != "" {
			q = q.Where(icontains(kv.col), likeEscape(kv.v))
		}
	}
	for _, kv := range []struct{ v, col string }{
		{f.NameExact, "projects.name"},
		{f.Slug, "projects.slug"},
		{f.BackendID, "projects.backend_id"},
	} {
		if kv.v != "" {
			q = q.Where(kv.col+" = ?", kv.v)
		}
	}
	for _, kv := range []struct{ v, col string }{
		{f.CustomerName, "customers.name"},
		{f.CustomerNativeName, "customers.native_name"},
		{f.CustomerAbbreviation, "customers.abbreviation"},
	} {
		if kv.v != "" {
			q = q.Where("projects.customer_id IN (?)", s.DB.Table("customers").Select("customers.id").Where(icontains(kv.col), likeEscape(kv.v)))
		}
	}
	if len(f.Customers) > 0 {
		q = q.Where("projects.customer_id IN (?)", s.DB.Table("customers").Select("customers.id").Where("customers.uuid IN ?", f.Customers))
	}
	if v := f.Query; v != "" {
		cond := s.DB.Where(icontains("projects.name"), likeEscape(v))
		if id, err := models.ParseUUID(v); err == nil {
			cond = cond.Or("projects.uuid = ?", id)
		}
		q = q.Where(cond)
	}
	for _, kv := range []struct {
		col string
		t   *time.Time
	}{{"created", f.Created}, {"modified", f.Modified}} {
		if kv.t != nil {
			q = q.Where("projects."+kv.col+" >= ?", *kv.t)
		}
	}
	if f.CanManage {
		q = q.Where("projects.customer_id IN (?) OR projects.id IN (?)",
			s.scopesWithRole(u, models.ScopeCustomer, models.RoleCustomerOwner, now), s.scopesWithRole(u, models.ScopeProject, models.RoleProjectManager, now))
	}
	if f.CanAdmin {
		q = q.Where("projects.id IN (?)", s.scopesWithRole(u, models.ScopeProject, models.RoleProjectAdmin, now))
	}
	if f.ConcealFinished {
		today := now.Truncate(24 * time.Hour)
		q = q.Where("projects.end_date IS NULL OR projects.end_date >= ?", today)
	}
	if f.Nothing {
		q = q.Where("1 = 0")
	}
	q, err := s.limitToUser(ctx, q, f.UserUUID, rbac.FilterProjects, now)
	if err != nil {
		return Query{}, err
	}
	return QueryOf(q).WithView(projectRows, scanProjectRows), nil
}

// ProjectRow is a project as the project list loads it: with what its
// answer shows of its customer (one query per page).
type ProjectRow struct {
	models.Project
	CustomerUUID                                                         models.UUID
	CustomerName, CustomerSlug, CustomerNativeName, CustomerAbbreviation string
}

// Customer is the part of the project's customer the row holds.
func (r *ProjectRow) Customer() *models.Customer {
	return &models.Customer{ID: r.CustomerID, UUID: r.CustomerUUID, Name: r.CustomerName, Slug: r.CustomerSlug,
		NativeName: r.CustomerNativeName, Abbreviation: r.CustomerAbbreviation}
}

// projectRows is the view of ProjectsQuery's pages: the projects with
// their customer's columns of ProjectRow, in scanProjectRows' order.
func projectRows(q *gorm.DB) *gorm.DB {
	return q.Select(`projects.id, projects.uuid, projects.customer_id, projects.type_id, projects.name, projects.slug,
		projects.description, projects.backend_id, projects.start_date, projects.end_date, projects.end_date_requested_by_id,
		projects.oecd_fos_2007_code, projects.is_industry, projects.is_removed, projects.created, projects.modified,
		pc.uuid, pc.name, pc.slug, pc.native_name, pc.abbreviation`).
		Joins("JOIN customers pc ON pc.id = projects.customer_id")
}

// scanProjectRows reads the rows of projectRows into dest (*[]ProjectRow).
func scanProjectRows(rows *sql.Rows, dest any) error {
	out := dest.(*[]ProjectRow)
	*out = (*out)[:0]
	for rows.Next() {
		var r ProjectRow
		p := &r.Project
		if err := rows.Scan(&p.ID, &p.UUID, &p.CustomerID, &p.TypeID, &p.Name, &p.Slug, &p.Description, &p.BackendID,
			&p.StartDate, &p.EndDate, &p.EndDateRequestedByID, &p.OECDFOS2007Code, &p.IsIndustry, &p.IsRemoved, &p.Created, &p.Modified,
			&r.CustomerUUID, &r.CustomerName, &r.CustomerSlug, &r.CustomerNativeName, &r.CustomerAbbreviation); err != nil {
			return err
		}
		*out = append(*out, r)
	}
	return rows.Err()
}

// ProjectTypeFilter narrows ProjectTypesQuery.
type ProjectTypeFilter struct {
	Name      string // icontains
	NameExact string
}

// ProjectTypesQuery returns the project types matching f as a query over
// table "project_types" (rows scan into models.ProjectType), for
// rest.List. Any user may list them.
func (s *Store) ProjectTypesQuery(ctx context.Context, f ProjectTypeFilter) Query {
	q := s.DB.WithContext(ctx).Table("project_types")
	if f.Name != "" {
		q = q.Where(icontains("project_types.name"), likeEscape(f.Name))
	}
	if f.NameExact != "" {
		q = q.Where("project_types.name = ?", f.NameExact)
	}
	return QueryOf(q)
}

// TeamFilter narrows TeamQuery (the filters of Waldur's list_users).
type TeamFilter struct {
	// RoleUUIDs and RoleNames keep the grants of these roles (either list).
	RoleUUIDs []models.UUID
	RoleNames []string
	UserUUID  *models.UUID
	Username  string
	FullName  string // icontains on "first last"
	// Search matches the first or last name, email or username (icontains).
	Search string
}

// TeamQuery returns the grants in force at now on scope, narrowed by f, as
// a query over table "user_roles" (rows scan into models.UserRole), for
// rest.List. The caller has checked that the scope is visible.
func (s *Store) TeamQuery(ctx context.Context, scope models.Scope, f TeamFilter, now time.Time) Query {
	q := s.DB.WithContext(ctx).Table("user_roles").Where("user_roles.scope_type = ? AND user_roles.scope_id = ? AND ?",
		scope.Type, scope.ID, rbac.InForce("user_roles", now))
	if len(f.RoleUUIDs)+len(f.RoleNames) > 0 {
		roles := s.DB.Table("roles").Select("roles.id").Where("1 = 0")
		if len(f.RoleUUIDs) > 0 {
			roles = roles.Or("roles.uuid IN ?", f.RoleUUIDs)
		}
		if len(f.RoleNames) > 0 {
			roles = roles.Or("roles.name IN ?", f.RoleNames)
		}
		q = q.Where("user_roles.role_id IN (?)", roles)
	}
	users := s.DB.Table("users").Select("users.id")
	filtered := false
	if f.UserUUID != nil {
		users, filtered = users.Where("users.uuid = ?", *f.UserUUID), true
	}
	if f.Username != "" {
		users, filtered = users.Where("users.username = ?", f.Username), true
	}
	if f.FullName != "" {
		users, filtered = users.Where(icontains("users.first_name || ' ' || users.last_name"), likeEscape(f.FullName)), true
	}
	if v := f.Search; v != "" {
		cond := s.DB.Where("1 = 0")
		for _, col := range []string{"users.first_name", "users.last_name", "users.email", "users.username"} {
			cond = cond.Or(icontains(col), likeEscape(v))
		}
		users, filtered = users.Where(cond), true
	}
	if filtered {
		q = q.Where("user_roles.user_id IN (?)", users)
	}
	return QueryOf(q)
}

// TeamRelations loads what a page of grants renders with: the users and
// creators (by id) and the roles (by id; a missing role is absent).
func (s *Store) TeamRelations(ctx context.Context, rows []models.UserRole) (map[int64]*models.User, map[int64]models.Role, error) {
	var userIDs, roleIDs []int64
	for _, r := range rows {
		userIDs = append(userIDs, r.UserID)
		roleIDs = append(roleIDs, r.RoleID)
		if r.CreatedByID != nil {
			userIDs = append(userIDs, *r.CreatedByID)
		}
	}
	users := map[int64]*models.User{}
	if len(userIDs) > 0 {
		var us []userRow
		if err := s.DB.WithContext(ctx).Where("id IN ?", userIDs).Find(&us).Error; err != nil {
			return nil, nil, models.Internal(err)
		}
		for _, u := range us {
			users[u.ID] = u.model()
		}
	}
	roles := map[int64]models.Role{}
	if len(roleIDs) > 0 {
		var rs []roleRow
		if err := s.DB.WithContext(ctx).Where("id IN ?", roleIDs).Find(&rs).Error; err != nil {
			return nil, nil, models.Internal(err)
		}
		for _, r := range rs {
			roles[r.ID] = *r.model()
		}
	}
	return users, roles, nil
}
