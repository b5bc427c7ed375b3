package catalog

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// ServiceProvider is Waldur's ServiceProvider.
type ServiceProvider struct {
	URL                  string      `json:"url"`
	UUID                 models.UUID `json:"uuid" swaggertype:"string"`
	Created              time.Time   `json:"created"`
	Description          string      `json:"description"`
	EnableNotifications  bool        `json:"enable_notifications"`
	Customer             string      `json:"customer"`
	CustomerName         string      `json:"customer_name"`
	CustomerUUID         string      `json:"customer_uuid"`
	CustomerAbbreviation string      `json:"customer_abbreviation"`
	CustomerSlug         string      `json:"customer_slug"`
	CustomerNativeName   string      `json:"customer_native_name"`
	CustomerCountry      string      `json:"customer_country"`
	Image                *string     `json:"image"`
	CustomerImage        string      `json:"customer_image"` // "" when unset (not nullable in the file)
	OrganizationGroups   []any       `json:"organization_groups"`
	OfferingCount        int64       `json:"offering_count"`
}

var providerSpec = rest.ListSpec{
	Ordering:        map[string]string{"created": "service_providers.created"},
	DefaultOrdering: []string{"created"},
	TieBreaker:      "service_providers.id",
}

func (m *Module) renderProviders(c *gin.Context, rows []store.ServiceProvider) ([]ServiceProvider, error) {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].CustomerID
	}
	customers, err := m.st.CustomersByID(c.Request.Context(), ids)
	if err != nil {
		return nil, err
	}
	counts, err := m.st.ActiveOfferingCounts(c.Request.Context(), "customer_id", ids)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceProvider, len(rows))
	for i := range rows {
		sp := &rows[i]
		r := ServiceProvider{URL: rest.URL(c, colProviders, sp.UUID), UUID: sp.UUID, Created: sp.Created.UTC(),
			Description: sp.Description, EnableNotifications: sp.EnableNotifications, OrganizationGroups: []any{},
			OfferingCount: counts[sp.CustomerID]}
		if cu := customers[sp.CustomerID]; cu != nil {
			r.Customer, r.CustomerName, r.CustomerUUID = rest.URL(c, "customers", cu.UUID), cu.Name, cu.UUID.String()
			r.CustomerAbbreviation, r.CustomerSlug, r.CustomerNativeName, r.CustomerCountry = cu.Abbreviation, cu.Slug, cu.NativeName, cu.Country
		}
		out[i] = r
	}
	return out, nil
}

// listProviders godoc
// @Summary List service providers (filters customer_uuid)
// @Tags marketplace-service-providers
// @Success 200 {array} ServiceProvider
// @Router /api/marketplace-service-providers/ [get]
func (m *Module) listProviders(c *gin.Context) error {
	var f store.ServiceProviderFilter
	var err error
	if f.CustomerUUIDs, err = rest.UUIDs(c, "customer_uuid"); err != nil {
		return err
	}
	return rest.ListBatch(c, m.st.ServiceProvidersQuery(c.Request.Context(), f), providerSpec, func(rows []store.ServiceProvider) ([]ServiceProvider, error) {
		return m.renderProviders(c, rows)
	})
}

func (m *Module) renderProvider(c *gin.Context, status int, sp *store.ServiceProvider) error {
	out, err := m.renderProviders(c, []store.ServiceProvider{*sp})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// getProvider godoc
// @Summary Retrieve a service provider
// @Tags marketplace-service-providers
// @Success 200 {object} ServiceProvider
// @Router /api/marketplace-service-providers/{uuid}/ [get]
func (m *Module) getProvider(c *gin.Context) error {
	sp, err := pathRow(c, "ServiceProvider", m.st.ServiceProviderByUUID)
	if err != nil {
		return err
	}
	return m.renderProvider(c, http.StatusOK, sp)
}

// createProvider godoc
// @Summary Register a customer as a service provider (staff, or SERVICE_PROVIDER.REGISTER on it)
// @Tags marketplace-service-providers
// @Success 201 {object} ServiceProvider
// @Router /api/marketplace-service-providers/ [post]
func (m *Module) createProvider(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	id, ok := f.Ref("customer", "customers", false, true)
	sp := store.ServiceProvider{EnableNotifications: true}
	sp.Description, _ = f.Str("description", 4096, true)
	if v, ok := f.Bool("enable_notifications"); ok {
		sp.EnableNotifications = v
	}
	var cu models.Customer
	if ok {
		found, err := m.st.VisibleCustomer(c.Request.Context(), id, m.st.Now())
		switch {
		case models.IsCode(err, models.CodeNotFound):
			f.Fail("customer", msgNoObject)
		case err != nil:
			return err
		default:
			cu = *found
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.rbac.Require(c.Request.Context(), api.CurrentUser(c), "SERVICE_PROVIDER.REGISTER", cu.Scope()); err != nil {
		return err
	}
	sp.CustomerID = cu.ID
	if err := m.st.CreateServiceProvider(c.Request.Context(), &sp); err != nil {
		return err
	}
	return m.renderProvider(c, http.StatusCreated, &sp)
}

// permProviderOwner stands for Waldur's is_owner rule of the service
// provider's update and destroy (staff or an owner of its customer): with
// Waldur's default roles, CUSTOMER.UPDATE on the customer is held by
// exactly the customer's owners, and the check names a permission, not a
// role.
const permProviderOwner models.Permission = "CUSTOMER.UPDATE"

// updateProvider godoc
// @Summary Update a service provider's description (staff, or CUSTOMER.UPDATE on its customer: Waldur's is_owner)
// @Tags marketplace-service-providers
// @Success 200 {object} ServiceProvider
// @Router /api/marketplace-service-providers/{uuid}/ [patch]
func (m *Module) updateProvider(c *gin.Context) error {
	sp, err := pathRow(c, "ServiceProvider", m.st.ServiceProviderByUUID)
	if err != nil {
		return err
	}
	if err := m.rbac.Require(c.Request.Context(), api.CurrentUser(c), permProviderOwner,
		models.Scope{Type: models.ScopeCustomer, ID: sp.CustomerID}); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	fields := map[string]any{}
	if v, ok := f.Str("description", 4096, true); ok {
		fields["description"] = v
	}
	if v, ok := f.Bool("enable_notifications"); ok {
		fields["enable_notifications"] = v
	}
	if err := f.Err(); err != nil {
		return err
	}
	fields["modified"] = m.st.Now()
	if err := m.st.UpdateRow(c.Request.Context(), sp, sp.ID, fields, "Service provider"); err != nil {
		return err
	}
	return m.renderProvider(c, http.StatusOK, sp)
}

// deleteProvider godoc
// @Summary Delete a service provider (staff, or CUSTOMER.UPDATE on its customer: Waldur's is_owner); one with offerings that are not archived is a 409
// @Tags marketplace-service-providers
// @Success 204
// @Router /api/marketplace-service-providers/{uuid}/ [delete]
func (m *Module) deleteProvider(c *gin.Context) error {
	sp, err := pathRow(c, "ServiceProvider", m.st.ServiceProviderByUUID)
	if err != nil {
		return err
	}
	if err := m.rbac.Require(c.Request.Context(), api.CurrentUser(c), permProviderOwner,
		models.Scope{Type: models.ScopeCustomer, ID: sp.CustomerID}); err != nil {
		return err
	}
	n, err := m.st.UnarchivedOfferingCount(c.Request.Context(), sp.CustomerID)
	if err != nil {
		return err
	}
	if n > 0 {
		return models.Errorf(models.CodeConflict, "Service provider has offerings that are not archived.")
	}
	if err := m.st.DeleteRow(c.Request.Context(), &store.ServiceProvider{}, sp.ID, "Service provider"); err != nil {
		return err
	}
	return api.NoContent(c)
}
