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
	projects, err := m.st.CustomerProjectCounts(c.Request.Context(), ids, m.now())
	if err != nil {
		return nil, err
	}
	users, err := m.st.CustomerUserCounts(c.Request.Context(), ids, m.now())
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
	f, err := customerFilter(c)
	if err != nil {
		return err
	}
	q, err := m.st.CustomersQuery(c.Request.Context(), f, m.now())
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, customerSpec, func(rows []models.Customer) ([]Customer, error) {
		return m.renderCustomers(c, rows)
	})
}

// customerFilter reads the filters of the customer list.
func customerFilter(c *gin.Context) (store.CustomerFilter, error) {
	f := store.CustomerFilter{
		Name: rest.Last(c, "name"), NativeName: rest.Last(c, "native_name"),
		Abbreviation: rest.Last(c, "abbreviation"), ContactDetails: rest.Last(c, "contact_details"),
		NameExact: rest.Last(c, "name_exact"), RegistrationCode: rest.Last(c, "registration_code"),
		AgreementNumber: rest.Last(c, "agreement_number"), BackendID: rest.Last(c, "backend_id"),
		Query: rest.Last(c, "query"),
	}
	var err error
	if f.Archived, err = rest.Bool(c, "archived"); err != nil {
		return f, err
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{
		{"owned_by_current_user", &f.OwnedByCurrentUser},
		{"current_user_has_project_create_permission", &f.CurrentUserHasProjectCreatePermission},
		{"is_service_provider", &f.IsServiceProvider},
	} {
		v, err := rest.Bool(c, b.key)
		if err != nil {
			return f, err
		}
		*b.dst = v != nil && *v
	}
	f.UserUUID, f.Nothing = userUUID(c)
	return f, nil
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
