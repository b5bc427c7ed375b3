// Package offeringusers serves Waldur's offering users
// (/api/marketplace-offering-users/): the accounts users hold on an
// offering's backend, named by the provider (or by the offering's username
// policy) and moved through their states by the provider's site agent.
//
// Every route needs an authenticated user. An offering user is visible to
// staff and support, to holders of a role in force on the offering's
// customer or on the offering itself, and to the user it belongs to; others
// get 404. Changes need the OFFERING.* permission the OpenAPI x-permissions
// name (CREATE_USER, UPDATE_USER, DELETE_USER) on the offering's customer
// ("offering.customer"; a role on the offering alone does not grant them).
package offeringusers

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the offering user endpoints need.
type Deps struct {
	Store *store.Store
	RBAC  *rbac.Checker
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
}

// Module registers the offering user routes (an api.Module).
type Module struct {
	st   *store.Store
	rbac *rbac.Checker
	now  func() time.Time
}

var _ api.Module = (*Module)(nil)

// New returns the offering users module.
func New(d Deps) *Module {
	m := &Module{st: d.Store, rbac: d.RBAC, now: d.Now}
	if m.now == nil {
		m.now = func() time.Time { return time.Now().UTC() }
	}
	return m
}

// Permissions used here.
const (
	permCreateUser        models.Permission = "OFFERING.CREATE_USER"
	permUpdateUser        models.Permission = "OFFERING.UPDATE_USER"
	permDeleteUser        models.Permission = "OFFERING.DELETE_USER"
	permUpdateRestriction models.Permission = "OFFERINGUSER.UPDATE_RESTRICTION"
)

const collection = "marketplace-offering-users"

// Routes implements api.Module.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}
	g := a.Group("/"+collection, api.RequireUser)
	g.Match(get, "/", api.H(m.list))
	g.POST("/", api.H(m.create))
	g.Match(get, "/:uuid/", api.H(m.retrieve))
	g.PUT("/:uuid/", api.H(m.update))
	g.PATCH("/:uuid/", api.H(m.update))
	g.DELETE("/:uuid/", api.H(m.destroy))
	for _, action := range models.OfferingUserActions {
		g.POST("/:uuid/"+action+"/", api.H(m.action(action)))
	}
	g.POST("/:uuid/update_restricted/", api.H(m.updateRestricted))
	g.PATCH("/:uuid/update_comments/", api.H(m.updateComments))
}

// OfferingUser is the OpenAPI OfferingUser shape.
type OfferingUser struct {
	URL              string      `json:"url"`
	UUID             models.UUID `json:"uuid"`
	User             string      `json:"user"`
	Offering         string      `json:"offering"`
	Username         string      `json:"username"`
	OfferingUUID     models.UUID `json:"offering_uuid"`
	OfferingName     string      `json:"offering_name"`
	UserUUID         models.UUID `json:"user_uuid"`
	UserUsername     string      `json:"user_username"`
	UserFullName     string      `json:"user_full_name"`
	UserFirstName    string      `json:"user_first_name"`
	UserLastName     string      `json:"user_last_name"`
	UserEmail        string      `json:"user_email"`
	UserPhoneNumber  string      `json:"user_phone_number"`
	UserOrganization string      `json:"user_organization"`
	UserJobTitle     string      `json:"user_job_title"`
	// The user's profile attributes, each shown only when the offering's
	// user attribute configuration exposes it (else empty, or null where
	// the schema allows).
	UserAffiliations             []string                 `json:"user_affiliations"`
	UserGender                   *int                     `json:"user_gender"`
	UserPersonalTitle            string                   `json:"user_personal_title"`
	UserPlaceOfBirth             string                   `json:"user_place_of_birth"`
	UserCountryOfResidence       string                   `json:"user_country_of_residence"`
	UserNationality              string                   `json:"user_nationality"`
	UserNationalities            []string                 `json:"user_nationalities"`
	UserOrganizationCountry      string                   `json:"user_organization_country"`
	UserOrganizationType         string                   `json:"user_organization_type"`
	UserOrganizationRegistryCode string                   `json:"user_organization_registry_code"`
	UserEdupersonAssurance       []string                 `json:"user_eduperson_assurance"`
	UserCivilNumber              *string                  `json:"user_civil_number"`
	UserBirthDate                *string                  `json:"user_birth_date"`
	UserIdentitySource           string                   `json:"user_identity_source"`
	UserActiveISDs               []string                 `json:"user_active_isds"`
	Created                      time.Time                `json:"created"`
	Modified                     time.Time                `json:"modified"`
	CustomerUUID                 models.UUID              `json:"customer_uuid"`
	CustomerName                 string                   `json:"customer_name"`
	IsRestricted                 bool                     `json:"is_restricted"`
	State                        models.OfferingUserState `json:"state"`
	ServiceProviderComment       string                   `json:"service_provider_comment"`
	ServiceProviderCommentURL    string                   `json:"service_provider_comment_url"`
	// No terms of service or compliance checklists exist in this build:
	// every user counts as consenting, and profiles as complete.
	HasConsent             bool `json:"has_consent"`
	RequiresReconsent      bool `json:"requires_reconsent"`
	HasComplianceChecklist bool `json:"has_compliance_checklist"`
	// ConsentData is null: no terms of service exist here, so there is no
	// consent record (uuid, version, agreement_date) to show.
	ConsentData              map[string]string `json:"consent_data"`
	IsProfileComplete        bool              `json:"is_profile_complete"`
	MissingProfileAttributes []string          `json:"missing_profile_attributes"`
}

// render shows the offering user with the user attributes the offering
// exposes to its provider.
func render(c *gin.Context, v *store.OfferingUserView) OfferingUser {
	return renderExposed(c, v, models.OfferingUserAttributeExposure())
}

// renderExposed shows the user's attributes that ex exposes and blanks the
// others: "" for a string, [] for a list, null where the schema allows it
// (gender, civil number, birth date). As Waldur's OfferingUserSerializer,
// the exposure holds for every caller, staff and the user included.
func renderExposed(c *gin.Context, v *store.OfferingUserView, ex models.UserAttributeExposure) OfferingUser {
	text := func(attr, value string) string {
		if ex.Exposes(attr) {
			return value
		}
		return ""
	}
	list := func(attr string, value []string) []string {
		if ex.Exposes(attr) && value != nil {
			return value
		}
		return []string{}
	}
	out := OfferingUser{
		URL: rest.URL(c, collection, v.UUID), UUID: v.UUID, User: rest.URL(c, "users", v.UserUUID),
		Offering: rest.URL(c, "marketplace-provider-offerings", v.OfferingUUID), Username: v.Username,
		OfferingUUID: v.OfferingUUID, OfferingName: v.OfferingName, UserUUID: v.UserUUID,
		UserUsername:                 text("username", v.UserUsername),
		UserFullName:                 text("full_name", strings.TrimSpace(v.UserFirstName+" "+v.UserLastName)),
		UserFirstName:                text("full_name", v.UserFirstName),
		UserLastName:                 text("full_name", v.UserLastName),
		UserEmail:                    text("email", v.UserEmail),
		UserPhoneNumber:              text("phone_number", v.UserPhoneNumber),
		UserOrganization:             text("organization", v.UserOrganization),
		UserJobTitle:                 text("job_title", v.UserJobTitle),
		UserAffiliations:             list("affiliations", v.UserAffiliations),
		UserPersonalTitle:            text("personal_title", v.UserPersonalTitle),
		UserPlaceOfBirth:             text("place_of_birth", v.UserPlaceOfBirth),
		UserCountryOfResidence:       text("country_of_residence", v.UserCountryOfResidence),
		UserNationality:              text("nationality", v.UserNationality),
		UserNationalities:            list("nationalities", v.UserNationalities),
		UserOrganizationCountry:      text("organization_country", v.UserOrganizationCountry),
		UserOrganizationType:         text("organization_type", v.UserOrganizationType),
		UserOrganizationRegistryCode: text("organization_registry_code", v.UserOrganizationRegistryCode),
		UserEdupersonAssurance:       list("eduperson_assurance", v.UserEdupersonAssurance),
		UserIdentitySource:           text("identity_source", v.UserIdentitySource),
		UserActiveISDs:               list("active_isds", v.UserActiveISDs),
		Created:                      v.Created, Modified: v.Modified,
		CustomerUUID: v.CustomerUUID, CustomerName: v.CustomerName, IsRestricted: v.IsRestricted, State: v.State,
		ServiceProviderComment: v.ServiceProviderComment, ServiceProviderCommentURL: v.ServiceProviderCommentURL,
		HasConsent: true, IsProfileComplete: true, MissingProfileAttributes: []string{},
	}
	if ex.Exposes("gender") {
		out.UserGender = v.UserGender
	}
	if ex.Exposes("civil_number") {
		out.UserCivilNumber = v.UserCivilNumber
	}
	if ex.Exposes("birth_date") && v.UserBirthDate != nil {
		d := v.UserBirthDate.Format(time.DateOnly)
		out.UserBirthDate = &d
	}
	return out
}

var listSpec = rest.ListSpec{
	Ordering:        store.OfferingUserOrdering,
	DefaultOrdering: []string{"username"},
	TieBreaker:      "offering_users.id",
}

// commaUUIDs reads a UUID filter given as repeated keys or comma-separated
// values (the OpenAPI's explode: false); a malformed one is a 400.
func commaUUIDs(c *gin.Context, key string) ([]models.UUID, error) {
	var out []models.UUID
	for _, v := range rest.Values(c, key) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			id, err := models.ParseUUID(p)
			if err != nil {
				return nil, models.FieldError(key, "Enter a valid UUID.")
			}
			out = append(out, id)
		}
	}
	return out, nil
}

// @Summary	List offering users
// @Description	The accounts of users on offerings: staff and support see all; providers those of their offerings; users their own.
// @Tags		marketplace-offering-users
// @Param		offering_uuid	query	[]string	false	"Offering (repeatable or comma-separated)"
// @Param		offering		query	string		false	"Offering URL"
// @Param		provider_uuid	query	string		false	"Customer of the offering"
// @Param		user_uuid		query	string		false	"User"
// @Param		user_username	query	string		false	"User's username (case-insensitive)"
// @Param		is_restricted	query	bool		false	"Restricted or not"
// @Param		state			query	[]string	false	"State (repeatable)"
// @Param		query			query	string		false	"Offering name, username or user's name contains"
// @Param		created			query	string		false	"Created after"
// @Param		modified		query	string		false	"Modified after"
// @Param		o				query	[]string	false	"Ordering: created, modified, username (- for descending)"
// @Success	200	{array}	OfferingUser
// @Router		/api/marketplace-offering-users/ [get]
func (m *Module) list(c *gin.Context) error {
	f, err := listFilter(c)
	if err != nil {
		return err
	}
	q, err := m.st.OfferingUsersQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, listSpec, func(v *store.OfferingUserView) OfferingUser { return render(c, v) })
}

// listFilter reads the filters of the list.
func listFilter(c *gin.Context) (store.OfferingUserFilter, error) {
	var f store.OfferingUserFilter
	offerings, err := commaUUIDs(c, "offering_uuid")
	if err != nil {
		return f, err
	}
	if ref := rest.Last(c, "offering"); ref != "" {
		id, err := rest.ParseRef("offering", ref, "marketplace-provider-offerings")
		if err != nil {
			if id, err = rest.ParseRef("offering", ref, "marketplace-public-offerings"); err != nil {
				return f, err
			}
		}
		offerings = append(offerings, id)
	}
	f.OfferingUUIDs = offerings
	for key, dst := range map[string]*[]models.UUID{"provider_uuid": &f.ProviderUUIDs, "user_uuid": &f.UserUUIDs} {
		if *dst, err = rest.UUIDs(c, key); err != nil {
			return f, err
		}
	}
	for _, s := range rest.Values(c, "offering_slug") {
		f.OfferingSlugs = append(f.OfferingSlugs, strings.Split(s, ",")...)
	}
	f.UserUsername = rest.Last(c, "user_username")
	if f.IsRestricted, err = rest.Bool(c, "is_restricted"); err != nil {
		return f, err
	}
	if states := rest.Values(c, "state"); len(states) > 0 {
		for _, s := range states {
			if !models.OfferingUserState(s).Valid() {
				return f, models.FieldError("state", "Select a valid choice. "+s+" is not one of the available choices.")
			}
		}
		f.States = states
	}
	f.Query = rest.Last(c, "query")
	for key, dst := range map[string]**time.Time{"created": &f.Created, "modified": &f.Modified} {
		if s := rest.Last(c, key); s != "" {
			t, ok := form.ParseDatetime(s, true)
			if !ok {
				return f, models.FieldError(key, "Enter a valid date/time.")
			}
			*dst = &t
		}
	}
	return f, nil
}

// visible loads the offering user of the path if the caller sees it (404 otherwise).
func (m *Module) visible(c *gin.Context) (*store.OfferingUserView, error) {
	id, err := api.PathUUID(c, "OfferingUser")
	if err != nil {
		return nil, err
	}
	return m.st.VisibleOfferingUser(c.Request.Context(), id)
}

// require checks one of perms on the offering's customer (Waldur's
// x-permissions of the offering-user actions: "offering.customer"; the
// offering itself is not a scope of them).
func (m *Module) require(c *gin.Context, customerID, _ int64, perms ...models.Permission) error {
	u := api.CurrentUser(c)
	for _, p := range perms {
		ok, err := m.rbac.Has(c.Request.Context(), u, p, models.Scope{Type: models.ScopeCustomer, ID: customerID})
		if err != nil {
			return models.Internal(err)
		}
		if ok {
			return nil
		}
	}
	return api.Forbidden()
}

func (m *Module) reload(c *gin.Context, status int, id models.UUID) error {
	v, err := m.st.OfferingUserByUUID(c.Request.Context(), id)
	if err != nil {
		return err
	}
	return rest.Render(c, status, render(c, v))
}

// @Summary	Retrieve an offering user
// @Tags		marketplace-offering-users
// @Param		uuid	path	string	true	"Offering user UUID"
// @Success	200	{object}	OfferingUser
// @Router		/api/marketplace-offering-users/{uuid}/ [get]
func (m *Module) retrieve(c *gin.Context) error {
	v, err := m.visible(c)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, render(c, v))
}

// OfferingUserRequest is the body of create (and of update, which reads
// username only): the offering and the user as URLs, or as offering_uuid
// and user_uuid (not both forms).
type OfferingUserRequest struct {
	Offering     string  `json:"offering,omitempty"`
	User         string  `json:"user,omitempty"`
	OfferingUUID string  `json:"offering_uuid,omitempty"`
	UserUUID     string  `json:"user_uuid,omitempty"`
	Username     *string `json:"username,omitempty"`
}

// reference reads an object given as a URL field or as a *_uuid field.
func reference(f *form.Form, urlKey, uuidKey string, collections ...string) (models.UUID, bool) {
	switch {
	case f.Has(urlKey) && f.Has(uuidKey):
		f.Fail("non_field_errors", "Provide either "+urlKey+" or "+uuidKey+", not both.")
		return models.NilUUID, false
	case f.Has(uuidKey):
		return f.UUID(uuidKey)
	case !f.Has(urlKey):
		f.Fail(urlKey, form.MsgRequired)
		return models.NilUUID, false
	}
	v, ok := f.Text(urlKey)
	if !ok {
		return models.NilUUID, false
	}
	var first error
	for _, col := range collections {
		id, err := rest.ParseRef(urlKey, v, col)
		if err == nil {
			return id, true
		}
		if first == nil {
			first = err
		}
	}
	if e, ok := first.(*models.Error); ok && len(e.Fields[urlKey]) > 0 {
		f.Fail(urlKey, e.Fields[urlKey][0])
	} else {
		f.Fail(urlKey, rest.MsgNoMatch)
	}
	return models.NilUUID, false
}

// username reads the optional username (null is "").
func username(f *form.Form) (*string, bool) {
	if !f.Has("username") {
		return nil, true
	}
	v, _, ok := f.NullableStr("username", 100, true)
	return &v, ok
}

// @Summary	Create an offering user
// @Description	Records the account of a user on an offering (the offering must allow it: plugin_options.service_provider_can_create_offering_user). Without a username, the offering's username_generation_policy names it; with a username the account is OK at once.
// @Tags		marketplace-offering-users
// @Param		body	body	OfferingUserRequest	true	"Offering user"
// @Success	201	{object}	OfferingUser
// @Router		/api/marketplace-offering-users/ [post]
func (m *Module) create(c *gin.Context) error {
	ctx := c.Request.Context()
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	offeringID, _ := reference(f, "offering", "offering_uuid", "marketplace-provider-offerings", "marketplace-public-offerings")
	userID, _ := reference(f, "user", "user_uuid", "users")
	name, _ := username(f)
	if err := f.Err(); err != nil {
		return err
	}
	o, err := m.st.OfferingByUUID(ctx, offeringID)
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("offering", rest.MsgDoesNotExist)
	}
	if err != nil {
		return err
	}
	u, err := m.st.UserByUUID(ctx, userID)
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("user", rest.MsgDoesNotExist)
	}
	if err != nil {
		return err
	}
	if err := m.require(c, o.CustomerID, o.ID, permCreateUser); err != nil {
		return err
	}
	if allowed, _ := o.PluginOptions["service_provider_can_create_offering_user"].(bool); !allowed {
		return models.Errorf(models.CodeInvalid, "It is not allowed to create users for current offering.")
	}
	ou, err := m.st.CreateOfferingUser(ctx, store.NewOfferingUser{Offering: o, User: u, Username: name})
	if err != nil {
		return err
	}
	return m.reload(c, http.StatusCreated, ou.UUID)
}

// @Summary	Update an offering user's username
// @Description	Sets the account's username; a new username completes an account still being created (state OK).
// @Tags		marketplace-offering-users
// @Param		uuid	path	string				true	"Offering user UUID"
// @Param		body	body	OfferingUserRequest	true	"username"
// @Success	200	{object}	OfferingUser
// @Router		/api/marketplace-offering-users/{uuid}/ [put]
// @Router		/api/marketplace-offering-users/{uuid}/ [patch]
func (m *Module) update(c *gin.Context) error {
	v, err := m.visible(c)
	if err != nil {
		return err
	}
	if err := m.require(c, v.OfferingCustomerID, v.OfferingID, permUpdateUser); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	name, _ := username(f)
	if err := f.Err(); err != nil {
		return err
	}
	if _, err := m.st.ChangeOfferingUser(c.Request.Context(), v.UUID, store.OfferingUserChange{Username: name}); err != nil {
		return err
	}
	return m.reload(c, http.StatusOK, v.UUID)
}

// @Summary	Delete an offering user
// @Tags		marketplace-offering-users
// @Param		uuid	path	string	true	"Offering user UUID"
// @Success	204
// @Router		/api/marketplace-offering-users/{uuid}/ [delete]
func (m *Module) destroy(c *gin.Context) error {
	v, err := m.visible(c)
	if err != nil {
		return err
	}
	if err := m.require(c, v.OfferingCustomerID, v.OfferingID, permDeleteUser); err != nil {
		return err
	}
	if err := m.st.DeleteOfferingUser(c.Request.Context(), v.UUID); err != nil {
		return err
	}
	return api.NoContent(c)
}

// StateTransitionRequest is the optional body of set_pending_account_linking
// and set_pending_additional_validation.
type StateTransitionRequest struct {
	Comment    string `json:"comment"`
	CommentURL string `json:"comment_url"`
}

// action serves the state actions.
//
// @Summary	Move an offering user to another state
// @Description	Waldur's OfferingUser transitions; a state the action does not start from is 409. The two pending actions take an optional comment and comment_url; set_validation_complete clears them.
// @Tags		marketplace-offering-users
// @Param		uuid	path	string					true	"Offering user UUID"
// @Param		body	body	StateTransitionRequest	false	"Comment (pending actions)"
// @Success	200
// @Router		/api/marketplace-offering-users/{uuid}/begin_creating/ [post]
// @Router		/api/marketplace-offering-users/{uuid}/set_ok/ [post]
// @Router		/api/marketplace-offering-users/{uuid}/set_pending_additional_validation/ [post]
// @Router		/api/marketplace-offering-users/{uuid}/set_pending_account_linking/ [post]
// @Router		/api/marketplace-offering-users/{uuid}/set_validation_complete/ [post]
// @Router		/api/marketplace-offering-users/{uuid}/request_deletion/ [post]
// @Router		/api/marketplace-offering-users/{uuid}/set_deleting/ [post]
// @Router		/api/marketplace-offering-users/{uuid}/set_deleted/ [post]
// @Router		/api/marketplace-offering-users/{uuid}/set_error_creating/ [post]
// @Router		/api/marketplace-offering-users/{uuid}/set_error_deleting/ [post]
func (m *Module) action(name string) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visible(c)
		if err != nil {
			return err
		}
		if err := m.require(c, v.OfferingCustomerID, v.OfferingID, permUpdateUser); err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		ch := store.OfferingUserChange{Action: name}
		if models.OfferingUserActionTakesComment(name) {
			if f.Has("comment") {
				s, _ := f.Char("comment", form.Char{AllowBlank: true})
				ch.Comment = &s
			}
			if f.Has("comment_url") {
				s, _ := f.URL("comment_url", 200)
				ch.CommentURL = &s
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if _, err := m.st.ChangeOfferingUser(c.Request.Context(), v.UUID, ch); err != nil {
			return err
		}
		c.Status(http.StatusOK)
		return nil
	}
}

// UpdateRestrictionRequest is the body of update_restricted.
type UpdateRestrictionRequest struct {
	IsRestricted bool `json:"is_restricted"`
}

// @Summary	Restrict or unrestrict an offering user
// @Tags		marketplace-offering-users
// @Param		uuid	path	string						true	"Offering user UUID"
// @Param		body	body	UpdateRestrictionRequest	true	"Restriction"
// @Success	200
// @Router		/api/marketplace-offering-users/{uuid}/update_restricted/ [post]
func (m *Module) updateRestricted(c *gin.Context) error {
	v, err := m.visible(c)
	if err != nil {
		return err
	}
	if err := m.require(c, v.OfferingCustomerID, v.OfferingID, permUpdateRestriction, permUpdateUser); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("is_restricted")
	restricted, _ := f.Bool("is_restricted")
	if err := f.Err(); err != nil {
		return err
	}
	if _, err := m.st.ChangeOfferingUser(c.Request.Context(), v.UUID, store.OfferingUserChange{IsRestricted: &restricted}); err != nil {
		return err
	}
	c.Status(http.StatusOK)
	return nil
}

// ServiceProviderComment is the OpenAPI OfferingUserServiceProviderComment shape.
type ServiceProviderComment struct {
	ServiceProviderComment    string `json:"service_provider_comment"`
	ServiceProviderCommentURL string `json:"service_provider_comment_url"`
}

// @Summary	Update the service provider's comment on an offering user
// @Tags		marketplace-offering-users
// @Param		uuid	path	string					true	"Offering user UUID"
// @Param		body	body	ServiceProviderComment	true	"Comment"
// @Success	200	{object}	ServiceProviderComment
// @Router		/api/marketplace-offering-users/{uuid}/update_comments/ [patch]
func (m *Module) updateComments(c *gin.Context) error {
	v, err := m.visible(c)
	if err != nil {
		return err
	}
	if err := m.require(c, v.OfferingCustomerID, v.OfferingID, permUpdateUser); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	ch := store.OfferingUserChange{SetComments: true}
	if f.Has("service_provider_comment") {
		s, _ := f.Char("service_provider_comment", form.Char{AllowBlank: true})
		ch.Comment = &s
	}
	if f.Has("service_provider_comment_url") {
		s, _ := f.URL("service_provider_comment_url", 200)
		ch.CommentURL = &s
	}
	if err := f.Err(); err != nil {
		return err
	}
	ou, err := m.st.ChangeOfferingUser(c.Request.Context(), v.UUID, ch)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, ServiceProviderComment{ServiceProviderComment: ou.ServiceProviderComment,
		ServiceProviderCommentURL: ou.ServiceProviderCommentURL})
}
