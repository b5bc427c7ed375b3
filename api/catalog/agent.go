package catalog

// The provider-side helpers Waldur's site agent calls on an offering and on
// a service provider: check_unique_backend_id, list_project_service_accounts,
// list_course_accounts, user-attribute-config, and the SSH keys of the
// provider's users (/api/marketplace-service-providers/{uuid}/keys/).

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// CheckUniqueBackendIDResponse is the OpenAPI CheckUniqueBackendIDResponse shape.
type CheckUniqueBackendIDResponse struct {
	IsUnique      bool     `json:"is_unique"`
	IsValidFormat bool     `json:"is_valid_format"`
	Errors        []string `json:"errors"`
}

// @Summary	Check that a backend id is not used by another resource
// @Description	Unique among the resources of this offering, or of all the provider's offerings with check_all_offerings.
// @Tags		marketplace-provider-offerings
// @Param		uuid	path	string	true	"Offering UUID"
// @Success	200	{object}	CheckUniqueBackendIDResponse
// @Router		/api/marketplace-provider-offerings/{uuid}/check_unique_backend_id/ [post]
func (m *Module) checkUniqueBackendID(c *gin.Context) error {
	o, err := m.visibleOffering(c, m.st.VisibleProviderOffering)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	id, _ := f.RequireStr("backend_id", 255)
	all, _ := f.Bool("check_all_offerings")
	_, _ = f.Bool("use_offering_rules")
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.requireOffering(c, o, "OFFERING.UPDATE"); err != nil {
		return err
	}
	n, err := m.st.ResourceBackendIDCount(c.Request.Context(), id, o, all)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, CheckUniqueBackendIDResponse{IsUnique: n == 0, IsValidFormat: strings.TrimSpace(id) == id, Errors: []string{}})
	return nil
}

// @Summary	Service accounts of the offering's projects
// @Description	Always empty: project service accounts are not kept here.
// @Tags		marketplace-provider-offerings
// @Param		uuid	path	string	true	"Offering UUID"
// @Success	200	{array}	object
// @Router		/api/marketplace-provider-offerings/{uuid}/list_project_service_accounts/ [get]
// @Router		/api/marketplace-provider-offerings/{uuid}/list_course_accounts/ [get]
func (m *Module) emptyAccounts(c *gin.Context) error {
	if _, err := m.visibleOffering(c, m.st.VisibleProviderOffering); err != nil {
		return err
	}
	if _, _, err := rest.Page(c); err != nil {
		return err
	}
	c.Header("X-Result-Count", "0")
	c.JSON(http.StatusOK, []any{})
	return nil
}

// UserAttributeConfig is the OpenAPI OfferingUserAttributeConfig shape:
// which user attributes the offering's provider sees.
type UserAttributeConfig struct {
	UUID                           models.UUID `json:"uuid"`
	Created                        time.Time   `json:"created"`
	Modified                       time.Time   `json:"modified"`
	OfferingUUID                   models.UUID `json:"offering_uuid"`
	OfferingName                   string      `json:"offering_name"`
	ExposeUsername                 bool        `json:"expose_username"`
	ExposeFullName                 bool        `json:"expose_full_name"`
	ExposeEmail                    bool        `json:"expose_email"`
	ExposePhoneNumber              bool        `json:"expose_phone_number"`
	ExposeOrganization             bool        `json:"expose_organization"`
	ExposeJobTitle                 bool        `json:"expose_job_title"`
	ExposeAffiliations             bool        `json:"expose_affiliations"`
	ExposeGender                   bool        `json:"expose_gender"`
	ExposePersonalTitle            bool        `json:"expose_personal_title"`
	ExposePlaceOfBirth             bool        `json:"expose_place_of_birth"`
	ExposeCountryOfResidence       bool        `json:"expose_country_of_residence"`
	ExposeNationality              bool        `json:"expose_nationality"`
	ExposeNationalities            bool        `json:"expose_nationalities"`
	ExposeOrganizationCountry      bool        `json:"expose_organization_country"`
	ExposeOrganizationType         bool        `json:"expose_organization_type"`
	ExposeOrganizationRegistryCode bool        `json:"expose_organization_registry_code"`
	ExposeEdupersonAssurance       bool        `json:"expose_eduperson_assurance"`
	ExposeCivilNumber              bool        `json:"expose_civil_number"`
	ExposeBirthDate                bool        `json:"expose_birth_date"`
	ExposeIdentitySource           bool        `json:"expose_identity_source"`
	ExposeActiveIsds               bool        `json:"expose_active_isds"`
	ExposedFields                  []string    `json:"exposed_fields"`
	IsDefault                      bool        `json:"is_default"`
}

// @Summary	The user attributes exposed to the offering's provider
// @Description	Waldur's default (no per-offering configuration is kept): username, full name and email.
// @Tags		marketplace-provider-offerings
// @Param		uuid	path	string	true	"Offering UUID"
// @Success	200	{object}	UserAttributeConfig
// @Router		/api/marketplace-provider-offerings/{uuid}/user-attribute-config/ [get]
func (m *Module) userAttributeConfig(c *gin.Context) error {
	o, err := m.visibleOffering(c, m.st.VisibleProviderOffering)
	if err != nil {
		return err
	}
	// The same exposure the offering's users are rendered with.
	ex := models.OfferingUserAttributeExposure()
	c.JSON(http.StatusOK, UserAttributeConfig{UUID: o.UUID, Created: o.Created, Modified: o.Modified, OfferingUUID: o.UUID,
		OfferingName: o.Name, ExposeUsername: ex.Exposes("username"), ExposeFullName: ex.Exposes("full_name"),
		ExposeEmail: ex.Exposes("email"), ExposePhoneNumber: ex.Exposes("phone_number"),
		ExposeOrganization: ex.Exposes("organization"), ExposeJobTitle: ex.Exposes("job_title"),
		ExposeAffiliations: ex.Exposes("affiliations"), ExposeGender: ex.Exposes("gender"),
		ExposePersonalTitle: ex.Exposes("personal_title"), ExposePlaceOfBirth: ex.Exposes("place_of_birth"),
		ExposeCountryOfResidence: ex.Exposes("country_of_residence"), ExposeNationality: ex.Exposes("nationality"),
		ExposeNationalities: ex.Exposes("nationalities"), ExposeOrganizationCountry: ex.Exposes("organization_country"),
		ExposeOrganizationType: ex.Exposes("organization_type"), ExposeOrganizationRegistryCode: ex.Exposes("organization_registry_code"),
		ExposeEdupersonAssurance: ex.Exposes("eduperson_assurance"), ExposeCivilNumber: ex.Exposes("civil_number"),
		ExposeBirthDate: ex.Exposes("birth_date"), ExposeIdentitySource: ex.Exposes("identity_source"),
		ExposeActiveIsds: ex.Exposes("active_isds"), ExposedFields: ex.Fields(), IsDefault: true})
	return nil
}

// ProviderKeys lists the SSH keys of the users of a service provider's
// resources: those holding a role in force in a project (or its customer)
// with a resource of one of the provider's offerings that is not
// Terminated. Staff pass; others need SERVICE_PROVIDER.LIST_KEYS on the
// provider's customer (Waldur's keys action), else 403: the provider itself
// is visible to every user.
//
// @Summary	SSH keys of the service provider's users
// @Tags		marketplace-service-providers
// @Param		uuid	path	string	true	"Service provider UUID"
// @Success	200	{array}	identity.SshKey
// @Router		/api/marketplace-service-providers/{uuid}/keys/ [get]
func (m *Module) providerKeys(c *gin.Context) error {
	{
		sp, err := pathRow(c, "ServiceProvider", m.st.ServiceProviderByUUID)
		if err != nil {
			return err
		}
		if err := m.rbac.Require(c.Request.Context(), api.CurrentUser(c), "SERVICE_PROVIDER.LIST_KEYS",
			models.Scope{Type: models.ScopeCustomer, ID: sp.CustomerID}); err != nil {
			return err
		}
		q := m.st.ProviderUserKeysQuery(c.Request.Context(), sp.CustomerID, m.now())
		spec := rest.ListSpec{Ordering: store.SSHKeyOrdering, DefaultOrdering: []string{"name"}, TieBreaker: "ssh_keys.id"}
		return rest.ListBatch(c, q, spec, func(rows []store.SSHKey) ([]identity.SshKey, error) {
			return identity.RenderKeys(c, m.st, rows)
		})
	}
}
