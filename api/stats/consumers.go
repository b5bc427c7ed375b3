package stats

import (
	"context"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/api/structure"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// A service provider's consumers: the organizations and users of the
// projects that have a resource (not terminated) of the provider's
// offerings (Waldur's get_service_provider_customer_ids and _user_ids).

// consumerProjects are the ids of the projects with a resource of the
// provider's (@sp) offerings that is not terminated.
const consumerProjects = `SELECT r.project_id FROM resources r JOIN offerings f ON f.id = r.offering_id
	WHERE f.customer_id = @sp AND r.state <> 'Terminated'`

// ConsumerFilter narrows the provider's customers or users: name or
// username contains Name; Query in the name, abbreviation (customers) or
// username, names and email (users).
type ConsumerFilter struct {
	// Now decides which roles are in force.
	Now                                  time.Time
	Name, NameExact, Abbreviation, Query string
	Email, Username                      string
	CustomerUUID, ProjectUUID            *models.UUID
}

func like(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + strings.ToLower(r.Replace(s)) + "%"
}

// customersWhere is the WHERE of the provider's customers.
func (f ConsumerFilter) customersWhere(args map[string]any) string {
	w := `c.id IN (SELECT p.customer_id FROM projects p WHERE p.id IN (` + consumerProjects + `))`
	args["now"], args["true"] = f.Now, true
	if f.Name != "" {
		w += ` AND LOWER(c.name) LIKE @name ESCAPE '\'`
		args["name"] = like(f.Name)
	}
	if f.NameExact != "" {
		w += ` AND c.name = @name_exact`
		args["name_exact"] = f.NameExact
	}
	if f.Abbreviation != "" {
		w += ` AND LOWER(c.abbreviation) LIKE @abbreviation ESCAPE '\'`
		args["abbreviation"] = like(f.Abbreviation)
	}
	if f.Query != "" {
		w += ` AND (LOWER(c.name) LIKE @query ESCAPE '\' OR LOWER(c.abbreviation) LIKE @query ESCAPE '\')`
		args["query"] = like(f.Query)
	}
	return w
}

// ProviderCustomer is Waldur's MarketplaceProviderCustomer. Payment
// profiles are not served ([]).
type ProviderCustomer struct {
	UUID                 string            `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Name                 string            `json:"name" example:"Alpha"`
	Slug                 string            `json:"slug" example:"alpha"`
	Abbreviation         string            `json:"abbreviation" example:"ALP"`
	PhoneNumber          string            `json:"phone_number" example:""`
	Email                string            `json:"email" example:"alpha@example.com"`
	PaymentProfiles      []any             `json:"payment_profiles"`
	BillingPriceEstimate PriceEstimate     `json:"billing_price_estimate"`
	ProjectsCount        int64             `json:"projects_count" example:"1"`
	UsersCount           int64             `json:"users_count" example:"2"`
	Projects             []ProviderProject `json:"projects"`
	Users                []ProviderUser    `json:"users"`
}

// PriceEstimate is Waldur's NestedPriceEstimate: what the current month's
// invoice items of the organization come to.
type PriceEstimate struct {
	Total      string `json:"total" example:"0"`
	Current    string `json:"current" example:"0"`
	Tax        string `json:"tax" example:"0"`
	TaxCurrent string `json:"tax_current" example:"0"`
}

// estimates renders the billing_price_estimate of customers or projects,
// by id; every id has one (zeros without items this month).
func (m *Module) estimates(ctx context.Context, scope models.ScopeType, ids []int64) (map[int64]PriceEstimate, error) {
	es, err := m.st.PriceEstimates(ctx, scope, ids, m.now())
	if err != nil {
		return nil, err
	}
	out := make(map[int64]PriceEstimate, len(ids))
	for _, id := range ids {
		e := es[id]
		out[id] = PriceEstimate{Total: e.Total.String(), Current: e.Current.String(), Tax: e.Tax.String(), TaxCurrent: e.TaxCurrent.String()}
	}
	return out, nil
}

// ProviderProject is Waldur's ProviderProject.
type ProviderProject struct {
	UUID  string  `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Name  string  `json:"name" example:"Alpha one"`
	Image *string `json:"image" example:""`
}

// ProviderUser is Waldur's ProviderUser.
type ProviderUser struct {
	UUID     string  `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	FullName string  `json:"full_name" example:"Alice Smith"`
	Email    string  `json:"email" example:"alice@example.com"`
	Image    *string `json:"image" example:""`
}

type consumerRow struct {
	ID                                                 int64
	UUID, Name, Slug, Abbreviation, PhoneNumber, Email string
	ProjectsCount, UsersCount                          int64
}

// CountProviderCustomers counts the provider's customers that f selects.
func (q *Queries) CountProviderCustomers(ctx context.Context, providerCustomerID int64, f ConsumerFilter) (int64, error) {
	args := map[string]any{"sp": providerCustomerID}
	w := f.customersWhere(args)
	var n int64
	err := q.raw(ctx, &n, `SELECT COUNT(*) FROM customers c WHERE `+w, args)
	return n, err
}

// ProviderCustomerPage lists a page of the provider's customers (by name)
// with the number of their projects using the provider and of their
// members (roles in force on the organization or those projects), then
// those projects and members of the page's customers in two more queries.
func (q *Queries) ProviderCustomerPage(ctx context.Context, providerCustomerID int64, f ConsumerFilter, limit, offset int) ([]ProviderCustomer, []int64, error) {
	args := map[string]any{"sp": providerCustomerID, "limit": limit, "offset": offset, "true": true}
	w := f.customersWhere(args)
	var rows []consumerRow
	if err := q.raw(ctx, &rows, `SELECT c.id, c.uuid, c.name, c.slug, c.abbreviation, c.phone_number, c.email,
			(SELECT COUNT(*) FROM projects p WHERE p.customer_id = c.id AND p.id IN (`+consumerProjects+`)) AS projects_count,
			(SELECT COUNT(DISTINCT ur.user_id) FROM user_roles ur WHERE ur.is_active = @true AND (ur.expiration_time IS NULL OR ur.expiration_time > @now) AND (
				(ur.scope_type = 'customer' AND ur.scope_id = c.id) OR
				(ur.scope_type = 'project' AND ur.scope_id IN (SELECT p.id FROM projects p WHERE p.customer_id = c.id
					AND p.id IN (`+consumerProjects+`))))) AS users_count
		FROM customers c WHERE `+w+` ORDER BY c.name, c.id LIMIT @limit OFFSET @offset`, args); err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	out := make([]ProviderCustomer, len(rows))
	if len(rows) == 0 {
		return out, ids, nil
	}
	var projects []struct {
		CustomerID int64
		UUID, Name string
	}
	if err := q.raw(ctx, &projects, `SELECT p.customer_id, p.uuid, p.name FROM projects p
		WHERE p.customer_id IN @ids AND p.id IN (`+consumerProjects+`) ORDER BY p.name, p.id`,
		map[string]any{"ids": ids, "sp": providerCustomerID}); err != nil {
		return nil, nil, err
	}
	var users []struct {
		CustomerID                       int64
		UUID, FirstName, LastName, Email string
	}
	if err := q.raw(ctx, &users, `SELECT DISTINCT c.id AS customer_id, u.uuid, u.first_name, u.last_name, u.email, u.username
		FROM customers c JOIN user_roles ur ON ur.is_active = @true AND (ur.expiration_time IS NULL OR ur.expiration_time > @now) AND (
				(ur.scope_type = 'customer' AND ur.scope_id = c.id) OR
				(ur.scope_type = 'project' AND ur.scope_id IN (SELECT p.id FROM projects p WHERE p.customer_id = c.id
					AND p.id IN (`+consumerProjects+`))))
			JOIN users u ON u.id = ur.user_id
		WHERE c.id IN @ids ORDER BY u.username`, map[string]any{"ids": ids, "sp": providerCustomerID, "true": true, "now": f.Now}); err != nil {
		return nil, nil, err
	}
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		at[r.ID] = i
		out[i] = ProviderCustomer{UUID: r.UUID, Name: r.Name, Slug: r.Slug, Abbreviation: r.Abbreviation, PhoneNumber: r.PhoneNumber,
			Email: r.Email, PaymentProfiles: []any{}, ProjectsCount: r.ProjectsCount, UsersCount: r.UsersCount,
			Projects: []ProviderProject{}, Users: []ProviderUser{}}
	}
	for _, p := range projects {
		c := &out[at[p.CustomerID]]
		c.Projects = append(c.Projects, ProviderProject{UUID: p.UUID, Name: p.Name})
	}
	for _, u := range users {
		c := &out[at[u.CustomerID]]
		c.Users = append(c.Users, ProviderUser{UUID: u.UUID, FullName: strings.TrimSpace(u.FirstName + " " + u.LastName), Email: u.Email})
	}
	return out, ids, nil
}

// usersWhere is the WHERE of the provider's users: a role in force on a
// consumer project or on its organization.
func (f ConsumerFilter) usersWhere(args map[string]any) string {
	w := `u.id IN (SELECT ur.user_id FROM user_roles ur WHERE ur.is_active = @true AND (ur.expiration_time IS NULL OR ur.expiration_time > @now) AND (
			(ur.scope_type = 'project' AND ur.scope_id IN (` + consumerProjects + `)) OR
			(ur.scope_type = 'customer' AND ur.scope_id IN (SELECT p.customer_id FROM projects p WHERE p.id IN (` + consumerProjects + `)))))`
	args["true"], args["now"] = true, f.Now
	if f.Username != "" {
		w += ` AND LOWER(u.username) LIKE @username ESCAPE '\'`
		args["username"] = like(f.Username)
	}
	if f.Email != "" {
		w += ` AND LOWER(u.email) LIKE @email ESCAPE '\'`
		args["email"] = like(f.Email)
	}
	if f.Name != "" {
		w += ` AND LOWER(u.first_name || ' ' || u.last_name) LIKE @full_name ESCAPE '\'`
		args["full_name"] = like(f.Name)
	}
	if f.Query != "" {
		w += ` AND (LOWER(u.username) LIKE @query ESCAPE '\' OR LOWER(u.email) LIKE @query ESCAPE '\'
			OR LOWER(u.first_name || ' ' || u.last_name) LIKE @query ESCAPE '\')`
		args["query"] = like(f.Query)
	}
	if f.CustomerUUID != nil {
		w += ` AND u.id IN (SELECT ur.user_id FROM user_roles ur WHERE ur.is_active = @true AND (ur.expiration_time IS NULL OR ur.expiration_time > @now) AND (
			(ur.scope_type = 'customer' AND ur.scope_id IN (SELECT id FROM customers WHERE uuid = @customer)) OR
			(ur.scope_type = 'project' AND ur.scope_id IN (SELECT p.id FROM projects p JOIN customers c ON c.id = p.customer_id
				WHERE c.uuid = @customer))))`
		args["customer"] = *f.CustomerUUID
	}
	if f.ProjectUUID != nil {
		w += ` AND u.id IN (SELECT ur.user_id FROM user_roles ur JOIN projects p ON p.id = ur.scope_id
			WHERE ur.is_active = @true AND (ur.expiration_time IS NULL OR ur.expiration_time > @now) AND ur.scope_type = 'project' AND p.uuid = @project)`
		args["project"] = *f.ProjectUUID
	}
	return w
}

// ProviderUserRow is Waldur's MarketplaceServiceProviderUser (the profile
// fields this build keeps; the personal ones are not shown to a provider).
type ProviderUserRow struct {
	UUID               string `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Username           string `json:"username" example:"alice"`
	FullName           string `json:"full_name" example:"Alice Smith"`
	FirstName          string `json:"first_name" example:"Alice"`
	LastName           string `json:"last_name" example:"Smith"`
	Organization       string `json:"organization" example:""`
	Email              string `json:"email" example:"alice@example.com"`
	PhoneNumber        string `json:"phone_number" example:""`
	ProjectsCount      int64  `json:"projects_count" example:"1"`
	RegistrationMethod string `json:"registration_method" example:"default"`
	IsActive           bool   `json:"is_active" example:"true"`
	JobTitle           string `json:"job_title" example:""`

	// The personal and federation attributes of Waldur's schema are not
	// shown to a provider here (they are the user's and staff's: a
	// provider sees what its offering users expose): null or empty.
	CivilNumber              *string  `json:"civil_number" gorm:"-"`
	BirthDate                *string  `json:"birth_date" gorm:"-"`
	Gender                   *int     `json:"gender" gorm:"-"`
	PersonalTitle            string   `json:"personal_title" gorm:"-"`
	PlaceOfBirth             string   `json:"place_of_birth" gorm:"-"`
	CountryOfResidence       string   `json:"country_of_residence" gorm:"-"`
	Nationality              string   `json:"nationality" gorm:"-"`
	Nationalities            []string `json:"nationalities" gorm:"-"`
	OrganizationCountry      string   `json:"organization_country" gorm:"-"`
	OrganizationType         string   `json:"organization_type" gorm:"-"`
	OrganizationRegistryCode string   `json:"organization_registry_code" gorm:"-"`
	Affiliations             []string `json:"affiliations" gorm:"-"`
	EdupersonAssurance       []string `json:"eduperson_assurance" gorm:"-"`
	IdentitySource           string   `json:"identity_source" gorm:"-"`
	ActiveISDs               []string `json:"active_isds" gorm:"-"`
}

// CountProviderUsers counts the provider's users that f selects.
func (q *Queries) CountProviderUsers(ctx context.Context, providerCustomerID int64, f ConsumerFilter) (int64, error) {
	args := map[string]any{"sp": providerCustomerID}
	w := f.usersWhere(args)
	var n int64
	err := q.raw(ctx, &n, `SELECT COUNT(*) FROM users u WHERE `+w, args)
	return n, err
}

// ProviderUserPage lists a page of the provider's users (by username),
// each with the number of consumer projects it holds a role on.
func (q *Queries) ProviderUserPage(ctx context.Context, providerCustomerID int64, f ConsumerFilter, limit, offset int) ([]ProviderUserRow, error) {
	args := map[string]any{"sp": providerCustomerID, "limit": limit, "offset": offset}
	w := f.usersWhere(args)
	out := []ProviderUserRow{}
	err := q.raw(ctx, &out, `SELECT u.uuid, u.username, u.first_name, u.last_name, u.organization, u.email, u.phone_number,
			u.registration_method, u.is_active, u.job_title,
			(SELECT COUNT(DISTINCT ur.scope_id) FROM user_roles ur WHERE ur.user_id = u.id AND ur.is_active = @true AND (ur.expiration_time IS NULL OR ur.expiration_time > @now)
				AND ur.scope_type = 'project' AND ur.scope_id IN (`+consumerProjects+`)) AS projects_count
		FROM users u WHERE `+w+` ORDER BY u.username, u.id LIMIT @limit OFFSET @offset`, args)
	for i := range out {
		out[i].FullName = strings.TrimSpace(out[i].FirstName + " " + out[i].LastName)
		out[i].Nationalities, out[i].Affiliations, out[i].EdupersonAssurance, out[i].ActiveISDs = []string{}, []string{}, []string{}, []string{}
	}
	return out, err
}

// consumerFilter reads the filters of the provider's customers and users.
func (m *Module) consumerFilter(c *gin.Context) (ConsumerFilter, error) {
	f := ConsumerFilter{Now: m.now(), Name: rest.Last(c, "name"), NameExact: rest.Last(c, "name_exact"), Abbreviation: rest.Last(c, "abbreviation"),
		Query: rest.Last(c, "query"), Email: rest.Last(c, "email"), Username: rest.Last(c, "username")}
	var err error
	if f.CustomerUUID, err = optionalUUID(c, "customer_uuid"); err != nil {
		return f, err
	}
	if f.ProjectUUID, err = optionalUUID(c, "project_uuid"); err != nil {
		return f, err
	}
	return f, nil
}

// consumersOf checks perm on the path's service provider and reads the
// consumer filters: the start of its customers/, users/ and projects/.
func (m *Module) consumersOf(c *gin.Context, perm models.Permission) (*store.ServiceProvider, ConsumerFilter, error) {
	id, err := api.PathUUID(c, "ServiceProvider")
	if err != nil {
		return nil, ConsumerFilter{}, err
	}
	sp, err := m.provider(c, perm, id, false)
	if err != nil {
		return nil, ConsumerFilter{}, err
	}
	f, err := m.consumerFilter(c)
	return sp, f, err
}

// providerCustomerList godoc
//
//	@Summary		List the service provider's customers
//	@Description	SERVICE_PROVIDER.LIST_CUSTOMERS on the provider's organization. The organizations with a project that has a resource (not terminated) of the provider's offerings, by name: those projects, the organization's members (roles in force on it or on those projects) and this month's price estimate. Payment profiles are not served ([]).
//	@Tags			marketplace-service-providers
//	@Produce		json
//	@Param			uuid			path	string	true	"Service provider UUID"
//	@Param			name			query	string	false	"Name contains"
//	@Param			name_exact		query	string	false	"Name"
//	@Param			abbreviation	query	string	false	"Abbreviation contains"
//	@Param			query			query	string	false	"Name or abbreviation contains"
//	@Param			page			query	int		false	"Page"
//	@Param			page_size		query	int		false	"Page size"
//	@Success		200	{array}	ProviderCustomer
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/marketplace-service-providers/{uuid}/customers/ [get]
func (m *Module) providerCustomerList(c *gin.Context) error {
	sp, f, err := m.consumersOf(c, "SERVICE_PROVIDER.LIST_CUSTOMERS")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	return pageSQL(c, func() (int64, error) { return m.q.CountProviderCustomers(ctx, sp.CustomerID, f) },
		func(limit, offset int) ([]ProviderCustomer, error) {
			rows, ids, err := m.q.ProviderCustomerPage(ctx, sp.CustomerID, f, limit, offset)
			if err != nil {
				return nil, err
			}
			es, err := m.estimates(ctx, models.ScopeCustomer, ids)
			if err != nil {
				return nil, err
			}
			for i, id := range ids {
				rows[i].BillingPriceEstimate = es[id]
			}
			return rows, nil
		})
}

// providerUserList godoc
//
//	@Summary		List the service provider's users
//	@Description	SERVICE_PROVIDER.LIST_USERS on the provider's organization. The users holding a role in force on a project that has a resource (not terminated) of the provider's offerings, or on its organization, by username, with the number of those projects they hold a role on.
//	@Tags			marketplace-service-providers
//	@Produce		json
//	@Param			uuid			path	string	true	"Service provider UUID"
//	@Param			username		query	string	false	"Username contains"
//	@Param			email			query	string	false	"Email contains"
//	@Param			full_name		query	string	false	"Full name contains"
//	@Param			query			query	string	false	"Username, full name or email contains"
//	@Param			customer_uuid	query	string	false	"Users with a role on this organization or its projects"
//	@Param			project_uuid	query	string	false	"Users with a role on this project"
//	@Param			page			query	int		false	"Page"
//	@Param			page_size		query	int		false	"Page size"
//	@Success		200	{array}	ProviderUserRow
//	@Failure		400	{object}	map[string][]string
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/marketplace-service-providers/{uuid}/users/ [get]
func (m *Module) providerUserList(c *gin.Context) error {
	sp, f, err := m.consumersOf(c, "SERVICE_PROVIDER.LIST_USERS")
	if err != nil {
		return err
	}
	f.Name = rest.Last(c, "full_name") // a user's name is its full name
	ctx := c.Request.Context()
	return pageSQL(c, func() (int64, error) { return m.q.CountProviderUsers(ctx, sp.CustomerID, f) },
		func(limit, offset int) ([]ProviderUserRow, error) {
			return m.q.ProviderUserPage(ctx, sp.CustomerID, f, limit, offset)
		})
}

// projectsWhere is the WHERE of the provider's projects: those with a
// resource (not terminated) of its offerings.
func (f ConsumerFilter) projectsWhere(args map[string]any) string {
	w := `p.id IN (` + consumerProjects + `)`
	if f.Name != "" {
		w += ` AND LOWER(p.name) LIKE @name ESCAPE '\'`
		args["name"] = like(f.Name)
	}
	if f.NameExact != "" {
		w += ` AND p.name = @name_exact`
		args["name_exact"] = f.NameExact
	}
	if f.Query != "" {
		w += ` AND (LOWER(p.name) LIKE @query ESCAPE '\' OR LOWER(c.name) LIKE @query ESCAPE '\')`
		args["query"] = like(f.Query)
	}
	if f.CustomerUUID != nil {
		w += ` AND c.uuid = @customer`
		args["customer"] = *f.CustomerUUID
	}
	return w
}

// ProviderProjectRow is Waldur's Project as a provider lists its consumers'
// projects: the project and its organization; resources_count counts the
// provider's resources (not terminated) in it. The fields a project's own
// retrieve adds are rendered as it renders them, but for quotas (left out).
type ProviderProjectRow struct {
	URL                  string        `json:"url" example:"https://waldur.example.com/api/projects/e42473f39c844333a80107e139a4dd06/"`
	UUID                 string        `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Name                 string        `json:"name" example:"Alpha one"`
	Slug                 string        `json:"slug" example:"alpha-one"`
	Customer             string        `json:"customer" example:"https://waldur.example.com/api/customers/e42473f39c844333a80107e139a4dd06/"`
	CustomerUUID         string        `json:"customer_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	CustomerName         string        `json:"customer_name" example:"Alpha"`
	CustomerSlug         string        `json:"customer_slug" example:"alpha"`
	CustomerNativeName   string        `json:"customer_native_name" example:""`
	CustomerAbbreviation string        `json:"customer_abbreviation" example:"ALP"`
	Description          string        `json:"description" example:""`
	Created              time.Time     `json:"created" example:"2026-01-10T10:00:00Z"`
	BackendID            string        `json:"backend_id" example:""`
	StartDate            *string       `json:"start_date" example:"2026-01-31"`
	EndDate              *string       `json:"end_date" example:"2026-12-31"`
	OECDFOS2007Code      *string       `json:"oecd_fos_2007_code" example:"1.1"`
	IsIndustry           bool          `json:"is_industry" example:"false"`
	IsRemoved            bool          `json:"is_removed" example:"false"`
	ResourcesCount       int64         `json:"resources_count" example:"2"`
	BillingPriceEstimate PriceEstimate `json:"billing_price_estimate" gorm:"-"`

	// As a project's own retrieve renders them (api/structure.Project):
	// the type and the end-date requester as links, the OECD label, and
	// the fields not stored here empty or null.
	Type                                 *string        `json:"type" gorm:"-"`
	TypeName                             *string        `json:"type_name" gorm:"-"`
	TypeUUID                             *string        `json:"type_uuid" gorm:"-"`
	EndDateRequestedBy                   *string        `json:"end_date_requested_by" gorm:"-"`
	OECDFOS2007Label                     string         `json:"oecd_fos_2007_label" gorm:"-"`
	CustomerDisplayBillingInfoInProjects bool           `json:"customer_display_billing_info_in_projects" gorm:"-"`
	Kind                                 string         `json:"kind" example:"default" gorm:"-"`
	Image                                *string        `json:"image" gorm:"-"`
	MaxServiceAccounts                   *int           `json:"max_service_accounts" gorm:"-"`
	TerminationMetadata                  any            `json:"termination_metadata" gorm:"-"`
	StaffNotes                           string         `json:"staff_notes" gorm:"-"`
	GracePeriodDays                      *int           `json:"grace_period_days" gorm:"-"`
	UserEmailPatterns                    []string       `json:"user_email_patterns" gorm:"-"`
	UserAffiliations                     []string       `json:"user_affiliations" gorm:"-"`
	UserIdentitySources                  []string       `json:"user_identity_sources" gorm:"-"`
	ProjectCredit                        *float64       `json:"project_credit" gorm:"-"`
	MarketplaceResourceCount             map[string]int `json:"marketplace_resource_count" gorm:"-"`
}

// CountProviderProjects counts the provider's projects that f selects.
func (q *Queries) CountProviderProjects(ctx context.Context, providerCustomerID int64, f ConsumerFilter) (int64, error) {
	args := map[string]any{"sp": providerCustomerID}
	w := f.projectsWhere(args)
	var n int64
	err := q.raw(ctx, &n, `SELECT COUNT(*) FROM projects p JOIN customers c ON c.id = p.customer_id WHERE `+w, args)
	return n, err
}

// ProviderProjectPage lists a page of the provider's projects (by name)
// and their ids.
func (q *Queries) ProviderProjectPage(ctx context.Context, providerCustomerID int64, f ConsumerFilter, limit, offset int) ([]ProviderProjectRow, []int64, error) {
	args := map[string]any{"sp": providerCustomerID, "limit": limit, "offset": offset}
	w := f.projectsWhere(args)
	var rows []struct {
		ProviderProjectRow
		ID         int64
		CreatedAt  Time `gorm:"column:created_at"`
		Start, End Time
		OECD       string  `gorm:"column:oecd"`
		TypeRef    *string `gorm:"column:type_ref"`
		TypeLabel  *string `gorm:"column:type_label"`
		Requester  *string `gorm:"column:requester"`
	}
	if err := q.raw(ctx, &rows, `SELECT p.id, p.uuid, p.name, p.slug, c.uuid AS customer_uuid, c.name AS customer_name,
			c.slug AS customer_slug, c.native_name AS customer_native_name, c.abbreviation AS customer_abbreviation,
			p.description, p.created AS created_at, p.backend_id, p.start_date AS start, p.end_date AS "end",
			p.oecd_fos_2007_code AS oecd, p.is_industry, p.is_removed,
			(SELECT COUNT(*) FROM resources r JOIN offerings f ON f.id = r.offering_id
				WHERE r.project_id = p.id AND f.customer_id = @sp AND r.state <> 'Terminated') AS resources_count,
			pt.uuid AS type_ref, pt.name AS type_label, eu.uuid AS requester
		FROM projects p JOIN customers c ON c.id = p.customer_id
			LEFT JOIN project_types pt ON pt.id = p.type_id LEFT JOIN users eu ON eu.id = p.end_date_requested_by_id WHERE `+w+`
		ORDER BY p.name, p.id LIMIT @limit OFFSET @offset`, args); err != nil {
		return nil, nil, err
	}
	out := make([]ProviderProjectRow, len(rows))
	ids := make([]int64, len(rows))
	date := func(t Time) *string {
		if !t.Valid {
			return nil
		}
		s := dateString(t.T)
		return &s
	}
	for i, r := range rows {
		p := r.ProviderProjectRow
		p.Created, p.StartDate, p.EndDate = r.CreatedAt.T, date(r.Start), date(r.End)
		if r.OECD != "" {
			o := r.OECD
			p.OECDFOS2007Code, p.OECDFOS2007Label = &o, structure.OECDLabel(o)
		}
		if r.TypeRef != nil {
			id := strings.ReplaceAll(*r.TypeRef, "-", "")
			p.TypeUUID, p.TypeName = &id, r.TypeLabel
		}
		if r.Requester != nil {
			id := strings.ReplaceAll(*r.Requester, "-", "")
			p.EndDateRequestedBy = &id // made a link by the handler
		}
		p.CustomerDisplayBillingInfoInProjects, p.Kind = true, "default"
		p.UserEmailPatterns, p.UserAffiliations, p.UserIdentitySources = []string{}, []string{}, []string{}
		p.MarketplaceResourceCount = map[string]int{}
		out[i], ids[i] = p, r.ID
	}
	return out, ids, nil
}

// providerProjectList godoc
//
//	@Summary		List the service provider's projects
//	@Description	SERVICE_PROVIDER.LIST_PROJECTS on the provider's organization. The projects that have a resource (not terminated) of the provider's offerings, by name, with their organization, the provider's resources in them (resources_count) and this month's price estimate. Each project is rendered as its own retrieve renders it (type, end-date requester, OECD label), without its quotas.
//	@Tags			marketplace-service-providers
//	@Produce		json
//	@Param			uuid			path	string	true	"Service provider UUID"
//	@Param			name			query	string	false	"Name contains"
//	@Param			name_exact		query	string	false	"Name"
//	@Param			customer		query	string	false	"Organization UUID"
//	@Param			query			query	string	false	"Name or organization name contains"
//	@Param			page			query	int		false	"Page"
//	@Param			page_size		query	int		false	"Page size"
//	@Success		200	{array}	ProviderProjectRow
//	@Failure		400	{object}	map[string][]string
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/marketplace-service-providers/{uuid}/projects/ [get]
func (m *Module) providerProjectList(c *gin.Context) error {
	sp, f, err := m.consumersOf(c, "SERVICE_PROVIDER.LIST_PROJECTS")
	if err != nil {
		return err
	}
	if s := rest.Last(c, "customer"); s != "" {
		cu, err := rest.ParseRef("customer", s, "customers")
		if err != nil {
			return err
		}
		f.CustomerUUID = &cu
	}
	ctx := c.Request.Context()
	return pageSQL(c, func() (int64, error) { return m.q.CountProviderProjects(ctx, sp.CustomerID, f) },
		func(limit, offset int) ([]ProviderProjectRow, error) {
			rows, ids, err := m.q.ProviderProjectPage(ctx, sp.CustomerID, f, limit, offset)
			if err != nil {
				return nil, err
			}
			es, err := m.estimates(ctx, models.ScopeProject, ids)
			if err != nil {
				return nil, err
			}
			for i, id := range ids {
				rows[i].BillingPriceEstimate = es[id]
				pu, _ := models.ParseUUID(rows[i].UUID)
				cu, _ := models.ParseUUID(rows[i].CustomerUUID)
				rows[i].URL, rows[i].Customer = rest.URL(c, "projects", pu), rest.URL(c, "customers", cu)
				if t := rows[i].TypeUUID; t != nil {
					tu, _ := models.ParseUUID(*t)
					url := rest.URL(c, "project-types", tu)
					rows[i].Type = &url
				}
				if r := rows[i].EndDateRequestedBy; r != nil {
					ru, _ := models.ParseUUID(*r)
					url := rest.URL(c, "users", ru)
					rows[i].EndDateRequestedBy = &url
				}
			}
			return rows, nil
		})
}
