package structure

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Customer is Waldur's Customer (an organization), plus its quotas.
// Fields Waldur has but this server does not store yet are rendered empty:
// organization_groups and payment_profiles [], image, credits, service
// provider and checklist null, notification_emails "", the user_* lists [].
type Customer struct {
	URL                          string         `json:"url"`
	UUID                         models.UUID    `json:"uuid" swaggertype:"string"`
	Created                      time.Time      `json:"created"`
	OrganizationGroups           []any          `json:"organization_groups"`
	DisplayName                  string         `json:"display_name"`
	BackendID                    string         `json:"backend_id"`
	Image                        *string        `json:"image"`
	Blocked                      bool           `json:"blocked"`
	Archived                     bool           `json:"archived"`
	DisplayBillingInfoInProjects bool           `json:"display_billing_info_in_projects"`
	DefaultTaxPercent            string         `json:"default_tax_percent" example:"0.00"`
	AccountingStartDate          time.Time      `json:"accounting_start_date"`
	ProjectsCount                int64          `json:"projects_count"`
	UsersCount                   int64          `json:"users_count"`
	SponsorNumber                *int           `json:"sponsor_number"`
	CountryName                  string         `json:"country_name"`
	MaxServiceAccounts           *int           `json:"max_service_accounts"`
	ProjectMetadataChecklist     *string        `json:"project_metadata_checklist"`
	GracePeriodDays              *int           `json:"grace_period_days"`
	UserEmailPatterns            []string       `json:"user_email_patterns"`
	UserAffiliations             []string       `json:"user_affiliations"`
	UserIdentitySources          []string       `json:"user_identity_sources"`
	Name                         string         `json:"name"`
	Slug                         string         `json:"slug"`
	NativeName                   string         `json:"native_name"`
	Abbreviation                 string         `json:"abbreviation"`
	Description                  string         `json:"description"`
	ContactDetails               string         `json:"contact_details"`
	AgreementNumber              string         `json:"agreement_number"`
	Email                        string         `json:"email"`
	PhoneNumber                  string         `json:"phone_number"`
	AccessSubnets                string         `json:"access_subnets"`
	RegistrationCode             string         `json:"registration_code"`
	Homepage                     string         `json:"homepage"`
	Domain                       string         `json:"domain"`
	VATCode                      string         `json:"vat_code"`
	Postal                       string         `json:"postal"`
	Address                      string         `json:"address"`
	BankName                     string         `json:"bank_name"`
	Latitude                     *float64       `json:"latitude"`
	Longitude                    *float64       `json:"longitude"`
	BankAccount                  string         `json:"bank_account"`
	Country                      string         `json:"country"`
	NotificationEmails           string         `json:"notification_emails"`
	PaymentProfiles              []any          `json:"payment_profiles"`
	CustomerCredit               *float64       `json:"customer_credit"`
	CustomerUnallocatedCredit    *float64       `json:"customer_unallocated_credit"`
	IsServiceProvider            bool           `json:"is_service_provider"`
	ServiceProvider              *string        `json:"service_provider"`
	ServiceProviderUUID          *string        `json:"service_provider_uuid"`
	CallManagingOrganizationUUID *string        `json:"call_managing_organization_uuid"`
	BillingPriceEstimate         PriceEstimate  `json:"billing_price_estimate"`
	Quotas                       []models.Quota `json:"quotas"`
}

var customerSpec = rest.ListSpec{
	Ordering: map[string]string{
		"abbreviation":          "customers.abbreviation",
		"accounting_start_date": "customers.accounting_start_date",
		"agreement_number":      "customers.agreement_number",
		"contact_details":       "customers.contact_details",
		"created":               "customers.created",
		"description":           "customers.description",
		"name":                  "customers.name",
		"native_name":           "customers.native_name",
		"registration_code":     "customers.registration_code",
	},
	DefaultOrdering: []string{"name"},
	TieBreaker:      "customers.id",
}

// displayName is Waldur's Customer.get_display_name.
func displayName(cu *models.Customer) string {
	switch {
	case cu.Abbreviation != "":
		return cu.Abbreviation
	case cu.Domain != "":
		return cu.Name + " (" + cu.Domain + ")"
	}
	return cu.Name
}

// renderCustomers renders a page of customers with their project and user
// counts (as far as the caller can see them) and quotas, in four queries.
func (m *Module) renderCustomers(c *gin.Context, rows []models.Customer) ([]Customer, error) {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	quotas, err := m.st.QuotasOf(c.Request.Context(), models.ScopeCustomer, ids)
	if err != nil {
		return nil, err
	}
	projects, err := m.projectCounts(c, ids)
	if err != nil {
		return nil, err
	}
	users, err := m.userCounts(c, ids)
	if err != nil {
		return nil, err
	}
	est, err := m.estimates(c, models.ScopeCustomer, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Customer, len(rows))
	for i := range rows {
		cu := &rows[i]
		q := quotas[cu.ID]
		if q == nil {
			q = []models.Quota{}
		}
		out[i] = Customer{
			URL: rest.URL(c, "customers", cu.UUID), UUID: cu.UUID, Created: cu.Created.UTC(),
			OrganizationGroups: []any{}, DisplayName: displayName(cu), BackendID: cu.BackendID,
			Blocked: cu.Blocked, Archived: cu.Archived, DisplayBillingInfoInProjects: true,
			DefaultTaxPercent: cu.DefaultTaxPercent.StringFixed(2), AccountingStartDate: cu.AccountingStartDate.UTC(),
			ProjectsCount: projects[cu.ID], UsersCount: users[cu.ID], SponsorNumber: cu.SponsorNumber,
			CountryName: countryName(cu.Country), UserEmailPatterns: []string{}, UserAffiliations: []string{},
			UserIdentitySources: []string{}, Name: cu.Name, Slug: cu.Slug, NativeName: cu.NativeName,
			Abbreviation: cu.Abbreviation, Description: cu.Description, ContactDetails: cu.ContactDetails,
			AgreementNumber: cu.AgreementNumber, Email: cu.Email, PhoneNumber: cu.PhoneNumber,
			AccessSubnets: cu.AccessSubnets, RegistrationCode: cu.RegistrationCode, Homepage: cu.Homepage,
			Domain: cu.Domain, VATCode: cu.VATCode, Postal: cu.Postal, Address: cu.Address, BankName: cu.BankName,
			Latitude: cu.Latitude, Longitude: cu.Longitude, BankAccount: cu.BankAccount, Country: cu.Country,
			PaymentProfiles: []any{}, BillingPriceEstimate: est[cu.ID], Quotas: q,
		}
	}
	return out, nil
}

// projectCounts counts the live projects of each customer that the caller
// can see: all of them with a customer role (or as staff/support), only
// their own projects otherwise (Waldur's projects_count).
func (m *Module) projectCounts(c *gin.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		CustomerID int64
		N          int64
	}
	q := m.db(c).Table("projects").Select("projects.customer_id AS customer_id, COUNT(*) AS n").
		Where("projects.customer_id IN ? AND projects.is_removed = ?", ids, false)
	if err := rbac.FilterProjects(q, api.CurrentUser(c), m.now()).Group("projects.customer_id").Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.CustomerID] = r.N
	}
	return out, nil
}

// userCounts counts the distinct users holding a role in force in each
// customer or its live projects, limited like projectCounts to what the
// caller can see (Waldur's users_count).
func (m *Module) userCounts(c *gin.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	u, now := api.CurrentUser(c), m.now()
	full := ids
	if !rbac.SeesEverything(u) {
		full = nil
		if err := m.db(c).Table("user_roles").Distinct("scope_id").
			Where("user_roles.user_id = ? AND user_roles.scope_type = ? AND user_roles.scope_id IN ? AND "+activeRoleSQL, u.ID, models.ScopeCustomer, ids, true, now).
			Pluck("scope_id", &full).Error; err != nil {
			return nil, models.Internal(err)
		}
	}
	type pair struct {
		CustomerID int64
		UserID     int64
	}
	var pairs []pair
	if len(full) > 0 {
		if err := m.db(c).Table("user_roles").Distinct("user_roles.scope_id AS customer_id, user_roles.user_id AS user_id").
			Where("user_roles.scope_type = ? AND user_roles.scope_id IN ? AND "+activeRoleSQL, models.ScopeCustomer, full, true, now).
			Scan(&pairs).Error; err != nil {
			return nil, models.Internal(err)
		}
	}
	visible := rbac.FilterProjects(m.st.DB.Table("projects").Select("projects.id").
		Where("projects.customer_id IN ? AND projects.is_removed = ?", ids, false), u, now)
	var more []pair
	if err := m.db(c).Table("user_roles").Distinct("projects.customer_id AS customer_id, user_roles.user_id AS user_id").
		Joins("JOIN projects ON projects.id = user_roles.scope_id").
		Where("user_roles.scope_type = ? AND user_roles.scope_id IN (?) AND "+activeRoleSQL, models.ScopeProject, visible, true, now).
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

func (m *Module) renderCustomer(c *gin.Context, status int, cu *models.Customer) error {
	out, err := m.renderCustomers(c, []models.Customer{*cu})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// listCustomers godoc
//
//	@Summary		List customers
//	@Description	Organizations the caller can see (a role in the customer or one of its projects; staff and support see all), ordered by name. Filters as Waldur's: name (contains), name_exact, native_name, abbreviation, contact_details (contain), registration_code, agreement_number, backend_id (exact), archived, query, owned_by_current_user, current_user_has_project_create_permission, user_uuid; o= abbreviation, accounting_start_date, agreement_number, contact_details, created, description, name, native_name, registration_code.
//	@Tags			customers
//	@Produce		json
//	@Security		TokenAuth
//	@Param			name			query		string	false	"Name contains"
//	@Param			name_exact		query		string	false	"Name is"
//	@Param			query			query		string	false	"Name, native name, abbreviation, domain, UUID, registration code or agreement number"
//	@Param			archived		query		bool	false	"Archived"
//	@Param			o				query		string	false	"Ordering"
//	@Param			page			query		int		false	"Page"
//	@Param			page_size		query		int		false	"Page size"
//	@Success		200				{array}		Customer
//	@Failure		401				{object}	api.ErrorBody
//	@Router			/api/customers/ [get]
func (m *Module) listCustomers(c *gin.Context) error {
	u, now := api.CurrentUser(c), m.now()
	q := rbac.FilterCustomers(m.db(c).Table("customers"), u, now)
	q, err := m.filterCustomers(c, q)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, store.QueryOf(q), customerSpec, func(rows []models.Customer) ([]Customer, error) {
		return m.renderCustomers(c, rows)
	})
}

func (m *Module) filterCustomers(c *gin.Context, q *gormDB) (*gormDB, error) {
	u, now := api.CurrentUser(c), m.now()
	for _, kv := range [][2]string{
		{"name", "customers.name"},
		{"native_name", "customers.native_name"},
		{"abbreviation", "customers.abbreviation"},
		{"contact_details", "customers.contact_details"},
	} {
		key, col := kv[0], kv[1]
		if v := rest.Last(c, key); v != "" {
			q = icontains(q, col, v)
		}
	}
	for _, kv := range [][2]string{
		{"name_exact", "customers.name"},
		{"registration_code", "customers.registration_code"},
		{"agreement_number", "customers.agreement_number"},
		{"backend_id", "customers.backend_id"},
	} {
		key, col := kv[0], kv[1]
		if v := rest.Last(c, key); v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	archived, err := rest.Bool(c, "archived")
	if err != nil {
		return nil, err
	}
	if archived != nil {
		q = q.Where("customers.archived = ?", *archived)
	}
	if v := rest.Last(c, "query"); v != "" {
		cond := m.st.DB.Where("1 = 0")
		for _, col := range []string{"customers.name", "customers.native_name", "customers.abbreviation", "customers.domain",
			"customers.registration_code", "customers.agreement_number"} {
			cond = cond.Or("LOWER("+col+`) LIKE ? ESCAPE '\'`, likeArg(v))
		}
		if id, err := models.ParseUUID(v); err == nil {
			cond = cond.Or("customers.uuid = ?", id)
		}
		q = q.Where(cond)
	}
	if b, err := rest.Bool(c, "owned_by_current_user"); err != nil {
		return nil, err
	} else if b != nil && *b {
		q = q.Where("customers.id IN (?)", m.st.DB.Table("user_roles").Select("user_roles.scope_id").
			Joins("JOIN roles ON roles.id = user_roles.role_id").
			Where("user_roles.user_id = ? AND user_roles.scope_type = ? AND roles.name = ? AND "+activeRoleSQL,
				u.ID, models.ScopeCustomer, models.RoleCustomerOwner, true, now))
	}
	if b, err := rest.Bool(c, "current_user_has_project_create_permission"); err != nil {
		return nil, err
	} else if b != nil && *b && !u.IsStaff {
		q = q.Where("customers.id IN (?)", m.st.DB.Table("user_roles").Select("user_roles.scope_id").
			Joins("JOIN roles ON roles.id = user_roles.role_id AND roles.is_active = ?", true).
			Joins("JOIN role_permissions ON role_permissions.role_id = roles.id").
			Where("user_roles.user_id = ? AND user_roles.scope_type = ? AND role_permissions.permission = ? AND "+activeRoleSQL,
				u.ID, models.ScopeCustomer, models.PermProjectCreate, true, now))
	}
	if b, err := rest.Bool(c, "is_service_provider"); err != nil {
		return nil, err
	} else if b != nil && *b {
		q = q.Where("1 = 0") // no service providers until the marketplace registers them
	}
	if q, err = m.filterByUser(c, q, rbac.FilterCustomers); err != nil {
		return nil, err
	}
	return q, nil
}

// createCustomer godoc
//
//	@Summary		Create a customer
//	@Description	Only staff may create organizations (403 otherwise). The customer gets its quotas (nc_project_count, nc_user_count, nc_resource_count, unlimited) and a customer_creation_succeeded event.
//	@Tags			customers
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		object	true	"CustomerRequest (name required)"
//	@Success		201		{object}	Customer
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/customers/ [post]
func (m *Module) createCustomer(c *gin.Context) error {
	u := api.CurrentUser(c)
	if !u.IsStaff {
		return api.Forbidden()
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	cu := &models.Customer{}
	applyCustomer(f, cu, true, true)
	if f.Has("quotas") {
		f.Fail("quotas", "Quota limits are set with PATCH once the organization exists.")
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.st.CreateCustomer(c.Request.Context(), cu); err != nil {
		return err
	}
	return m.renderCustomer(c, http.StatusCreated, cu)
}

// getCustomer godoc
//
//	@Summary		Retrieve a customer
//	@Tags			customers
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Customer UUID"
//	@Success		200		{object}	Customer
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/customers/{uuid}/ [get]
func (m *Module) getCustomer(c *gin.Context) error {
	cu, err := m.visibleCustomer(c)
	if err != nil {
		return err
	}
	return m.renderCustomer(c, http.StatusOK, cu)
}

// updateCustomer godoc
//
//	@Summary		Update a customer
//	@Description	PUT (name required) or PATCH. Needs CUSTOMER.UPDATE on the customer. access_subnets, accounting_start_date, default_tax_percent, agreement_number, domain, blocked, archived, sponsor_number and slug are staff-only (ignored for others). A blocked or archived customer refuses changes (400) except a staff request that sets blocked or archived. Ours: staff may set quota limits with "quotas": [{"name": "nc_project_count", "limit": 20}] (-1 = unlimited; 403 for others).
//	@Tags			customers
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Customer UUID"
//	@Param			body	body		object	true	"CustomerRequest"
//	@Success		200		{object}	Customer
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/customers/{uuid}/ [put]
//	@Router			/api/customers/{uuid}/ [patch]
func (m *Module) updateCustomer(c *gin.Context) error {
	cu, err := m.visibleCustomer(c)
	if err != nil {
		return err
	}
	u := api.CurrentUser(c)
	if err := m.rbac.Require(c.Request.Context(), u, models.PermCustomerUpdate, cu.Scope()); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	if !(u.IsStaff && (f.Has("blocked") || f.Has("archived"))) {
		if err := cu.CheckNotBlocked(); err != nil {
			return err
		}
	}
	var limits map[string]int64
	if f.Has("quotas") {
		if !u.IsStaff {
			return models.Errorf(models.CodeForbidden, "Only staff can set quota limits.")
		}
		limits, _ = quotaLimits(f, "quotas", models.QuotaNames[models.ScopeCustomer])
	}
	applyCustomer(f, cu, u.IsStaff, c.Request.Method == http.MethodPut)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.st.UpdateCustomer(c.Request.Context(), cu, limits); err != nil {
		return err
	}
	return m.renderCustomer(c, http.StatusOK, cu)
}

// deleteCustomer godoc
//
//	@Summary		Delete a customer
//	@Description	Needs CUSTOMER.DELETE on the customer (staff always). A blocked or archived customer refuses (400). Projects that are all soft-deleted are deleted with it; with live projects staff cascade (204) and others get 409 "Cannot delete organization with existing projects".
//	@Tags			customers
//	@Security		TokenAuth
//	@Param			uuid	path	string	true	"Customer UUID"
//	@Success		204
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Failure		409	{object}	api.ErrorBody
//	@Router			/api/customers/{uuid}/ [delete]
func (m *Module) deleteCustomer(c *gin.Context) error {
	cu, err := m.visibleCustomer(c)
	if err != nil {
		return err
	}
	u := api.CurrentUser(c)
	if err := m.rbac.Require(c.Request.Context(), u, models.PermCustomerDelete, cu.Scope()); err != nil {
		return err
	}
	if err := cu.CheckNotBlocked(); err != nil {
		return err
	}
	if err := m.st.DeleteCustomer(c.Request.Context(), cu, u.IsStaff); err != nil {
		return err
	}
	return api.NoContent(c)
}

// applyCustomer copies the fields present in f onto cu, validating each as
// Waldur's CustomerSerializer does. Staff-only fields are skipped for
// others; required makes name mandatory (create and PUT).
func applyCustomer(f *form.Form, cu *models.Customer, staff, required bool) {
	if required || f.Has("name") {
		if v, ok := f.RequireStr("name", 150); ok {
			cu.Name = v
		}
	}
	strs := []struct {
		key string
		max int
		dst *string
	}{
		{"native_name", 160, &cu.NativeName}, {"abbreviation", 12, &cu.Abbreviation}, {"description", 4096, &cu.Description},
		{"contact_details", 500, &cu.ContactDetails}, {"phone_number", 255, &cu.PhoneNumber},
		{"registration_code", 160, &cu.RegistrationCode}, {"vat_code", 20, &cu.VATCode}, {"postal", 20, &cu.Postal},
		{"address", 300, &cu.Address}, {"bank_name", 150, &cu.BankName}, {"bank_account", 50, &cu.BankAccount},
		{"backend_id", 255, &cu.BackendID},
	}
	for _, s := range strs {
		if v, ok := f.Str(s.key, s.max, true); ok {
			*s.dst = v
		}
	}
	if v, ok := f.Email("email", 75); ok {
		cu.Email = v
	}
	if v, ok := f.URL("homepage", 255); ok {
		cu.Homepage = v
	}
	if v, ok := f.Choice("country", countryCodes, true); ok {
		cu.Country = v
	}
	if v, ok := f.Float("latitude", true); ok {
		cu.Latitude = v
	}
	if v, ok := f.Float("longitude", true); ok {
		cu.Longitude = v
	}
	if !staff {
		return
	}
	if v, ok := f.Slug("slug", 50); ok {
		cu.Slug = v
	}
	if v, ok := f.Str("access_subnets", 0, true); ok {
		if err := validateSubnets(v); err != "" {
			f.Fail("access_subnets", err)
		} else {
			cu.AccessSubnets = v
		}
	}
	if v, ok := f.Str("agreement_number", 160, true); ok {
		cu.AgreementNumber = v
	}
	if v, ok := f.Str("domain", 255, true); ok {
		cu.Domain = v
	}
	if v, ok := f.Bool("blocked"); ok {
		cu.Blocked = v
	}
	if v, ok := f.Bool("archived"); ok {
		cu.Archived = v
	}
	if v, ok := f.Int("sponsor_number", 0, 2147483647, true); ok {
		if v == nil {
			cu.SponsorNumber = nil
		} else {
			n := int(*v)
			cu.SponsorNumber = &n
		}
	}
	if v, ok := f.Decimal("default_tax_percent", 5, 2, decimal.Zero, decimal.NewFromInt(200)); ok {
		cu.DefaultTaxPercent = v
	}
	if v, ok := f.Datetime("accounting_start_date", false, false); ok {
		cu.AccountingStartDate = *v
	}
}
