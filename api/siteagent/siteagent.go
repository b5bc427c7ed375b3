// Package siteagent serves what Waldur's site agent registers about itself:
// its identity per offering (/api/marketplace-site-agent-identities/), the
// services (modes) it runs and their processors
// (/api/marketplace-site-agent-services/, …-processors/), and tracks the
// liveness of an offering's agent from its requests (Liveness).
//
// The agent is strict about these answers: AgentService.identity and
// AgentProcessor.service are UUIDs, not URLs, and register_service and
// register_processor answer 201 when they create and 200 when the object
// existed. Every route needs an authenticated user. Identities, services
// and processors are visible to staff and support, to holders of a role on
// the offering's customer or on the offering; others get 404. Changes need
// OFFERING.CREATE on the offering's customer (the OpenAPI x-permissions:
// "offering.customer"), as in Waldur: an offering manager's agent reports
// usage and drives orders but does not manage its identities.
package siteagent

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the site agent endpoints need.
type Deps struct {
	Store *store.Store
	RBAC  *rbac.Checker
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
}

// Module registers the site agent routes (an api.Module).
type Module struct {
	st   *store.Store
	rbac *rbac.Checker
	now  func() time.Time
}

var _ api.Module = (*Module)(nil)

// New returns the site agent module.
func New(d Deps) *Module {
	m := &Module{st: d.Store, rbac: d.RBAC, now: d.Now}
	if m.now == nil {
		m.now = func() time.Time { return time.Now().UTC() }
	}
	return m
}

// Collections of the module's URLs.
const (
	colIdentities = "marketplace-site-agent-identities"
	colServices   = "marketplace-site-agent-services"
	colProcessors = "marketplace-site-agent-processors"
)

// permManage is the permission the OpenAPI names for every change.
const permManage models.Permission = "OFFERING.CREATE"

// Routes implements api.Module.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}

	i := a.Group("/"+colIdentities, api.RequireUser)
	i.Match(get, "/", api.H(m.listIdentities))
	i.POST("/", api.H(m.createIdentity))
	i.Match(get, "/:uuid/", api.H(m.getIdentity))
	i.PUT("/:uuid/", api.H(m.updateIdentity))
	i.DELETE("/:uuid/", api.H(m.deleteIdentity))
	i.POST("/:uuid/register_service/", api.H(m.registerService))

	s := a.Group("/"+colServices, api.RequireUser)
	s.Match(get, "/", api.H(m.listServices))
	s.Match(get, "/:uuid/", api.H(m.getService))
	s.DELETE("/:uuid/", api.H(m.deleteService))
	s.POST("/:uuid/register_processor/", api.H(m.registerProcessor))
	s.POST("/:uuid/set_statistics/", api.H(m.setStatistics))

	p := a.Group("/"+colProcessors, api.RequireUser)
	p.Match(get, "/", api.H(m.listProcessors))
	p.Match(get, "/:uuid/", api.H(m.getProcessor))
	p.DELETE("/:uuid/", api.H(m.deleteProcessor))
}

// canManage checks the caller may change the agent objects of the offering:
// OFFERING.CREATE on the offering's customer (Waldur's x-permissions of the
// identity, service and processor actions: "offering.customer").
func (m *Module) canManage(c *gin.Context, _, customerID int64) error {
	return m.rbac.Require(c.Request.Context(), api.CurrentUser(c), permManage, models.Scope{Type: models.ScopeCustomer, ID: customerID})
}

// orNull renders an empty optional string as null.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// jsonOr renders a stored JSON value, or def when there is none (the
// OpenAPI's free-form fields are not nullable; Waldur defaults them to an
// empty list or object).
func jsonOr(v store.JSONValue, def string) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage(def)
	}
	return json.RawMessage(v)
}

// NestedService is the OpenAPI NestedAgentService shape.
type NestedService struct {
	UUID       models.UUID     `json:"uuid"`
	URL        string          `json:"url"`
	Name       string          `json:"name"`
	Mode       *string         `json:"mode"`
	State      string          `json:"state"`
	Statistics json.RawMessage `json:"statistics" swaggertype:"object"`
	Created    time.Time       `json:"created"`
	Modified   time.Time       `json:"modified"`
}

// Identity is the OpenAPI AgentIdentity shape.
type Identity struct {
	UUID              models.UUID     `json:"uuid"`
	URL               string          `json:"url"`
	Offering          models.UUID     `json:"offering"`
	Name              string          `json:"name"`
	Version           *string         `json:"version"`
	Dependencies      json.RawMessage `json:"dependencies" swaggertype:"object"`
	ConfigFilePath    *string         `json:"config_file_path"`
	ConfigFileContent *string         `json:"config_file_content"`
	LastRestarted     time.Time       `json:"last_restarted"`
	Created           time.Time       `json:"created"`
	Modified          time.Time       `json:"modified"`
	Services          []NestedService `json:"services"`
	// CreatedBy is the creator's UUID: Waldur 8.1 (the site agent reads
	// it), a superset of 8.0.5's AgentIdentity.
	CreatedBy *models.UUID `json:"created_by"`
}

func (m *Module) renderIdentities(c *gin.Context, vs []store.AgentIdentityView) ([]Identity, error) {
	ids := make([]int64, len(vs))
	for i := range vs {
		ids[i] = vs[i].ID
	}
	svcs, err := m.st.AgentServicesOf(c.Request.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]Identity, len(vs))
	for i, v := range vs {
		r := Identity{UUID: v.UUID, URL: rest.URL(c, colIdentities, v.UUID), Offering: v.OfferingUUID, Name: v.Name,
			Version: orNull(v.Version), Dependencies: jsonOr(v.Dependencies, "[]"), ConfigFilePath: orNull(v.ConfigFilePath),
			ConfigFileContent: orNull(v.ConfigFileContent), Created: v.Created, Modified: v.Modified, Services: []NestedService{},
			CreatedBy: v.CreatedByUUID}
		if v.LastRestarted != nil {
			r.LastRestarted = *v.LastRestarted
		}
		for _, s := range svcs[v.ID] {
			r.Services = append(r.Services, NestedService{UUID: s.UUID, URL: rest.URL(c, colServices, s.UUID), Name: s.Name,
				Mode: orNull(s.Mode), State: s.State.String(), Statistics: jsonOr(s.Statistics, "{}"), Created: s.Created, Modified: s.Modified})
		}
		out[i] = r
	}
	return out, nil
}

var identityListSpec = rest.ListSpec{
	Ordering: map[string]string{"created": "agent_identities.created", "modified": "agent_identities.modified",
		"name": "agent_identities.name", "last_restarted": "agent_identities.last_restarted"},
	DefaultOrdering: []string{"-created"},
	TieBreaker:      "agent_identities.id",
}

// @Summary	List site agent identities
// @Tags		marketplace-site-agent-identities
// @Param		name			query	string	false	"Name"
// @Param		offering_uuid	query	string	false	"Offering"
// @Param		version			query	string	false	"Version"
// @Param		orphaned		query	bool	false	"Has no services"
// @Param		last_restarted	query	string	false	"Last restarted after"
// @Success	200	{array}	Identity
// @Router		/api/marketplace-site-agent-identities/ [get]
func (m *Module) listIdentities(c *gin.Context) error {
	f := store.AgentIdentityFilter{Name: rest.Last(c, "name"), Version: rest.Last(c, "version")}
	ids, err := rest.UUIDs(c, "offering_uuid")
	if err != nil {
		return err
	}
	f.OfferingUUIDs = ids
	if f.Orphaned, err = rest.Bool(c, "orphaned"); err != nil {
		return err
	}
	if s := rest.Last(c, "last_restarted"); s != "" {
		t, ok := form.ParseDatetime(s, true)
		if !ok {
			return models.FieldError("last_restarted", "Enter a valid date/time.")
		}
		f.LastRestarted = &t
	}
	q, err := m.st.AgentIdentitiesQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, identityListSpec, func(vs []store.AgentIdentityView) ([]Identity, error) {
		return m.renderIdentities(c, vs)
	})
}

// visibleIdentity loads the identity of the path if the caller sees it.
func (m *Module) visibleIdentity(c *gin.Context) (*store.AgentIdentityView, error) {
	id, err := api.PathUUID(c, "AgentIdentity")
	if err != nil {
		return nil, err
	}
	v, err := m.st.VisibleAgentIdentity(c.Request.Context(), id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, api.NotFound("AgentIdentity")
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (m *Module) renderIdentity(c *gin.Context, status int, id models.UUID) error {
	v, err := m.st.AgentIdentityByUUID(c.Request.Context(), id)
	if err != nil {
		return err
	}
	out, err := m.renderIdentities(c, []store.AgentIdentityView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// @Summary	Retrieve a site agent identity
// @Tags		marketplace-site-agent-identities
// @Param		uuid	path	string	true	"Identity UUID"
// @Success	200	{object}	Identity
// @Router		/api/marketplace-site-agent-identities/{uuid}/ [get]
func (m *Module) getIdentity(c *gin.Context) error {
	v, err := m.visibleIdentity(c)
	if err != nil {
		return err
	}
	return m.renderIdentity(c, http.StatusOK, v.UUID)
}

// IdentityRequest is the body of create and update (the OpenAPI AgentIdentityRequest).
type IdentityRequest struct {
	Offering          string `json:"offering"`
	Name              string `json:"name"`
	Version           string `json:"version"`
	Dependencies      any    `json:"dependencies"`
	ConfigFilePath    string `json:"config_file_path"`
	ConfigFileContent string `json:"config_file_content"`
	LastRestarted     string `json:"last_restarted"`
}

// readIdentity reads an AgentIdentityRequest into a and returns the offering.
func (m *Module) readIdentity(c *gin.Context, a *store.AgentIdentity) (*store.Offering, error) {
	f, err := form.Read(c)
	if err != nil {
		return nil, err
	}
	f.Require("offering", "name")
	offering, hasOffering := f.UUID("offering")
	a.Name, _ = f.Char("name", form.Char{Max: 150, Required: true})
	a.Version, _, _ = f.NullableStr("version", 100, true)
	a.ConfigFilePath, _, _ = f.NullableStr("config_file_path", 150, true)
	if f.Has("config_file_content") && !f.IsNull("config_file_content") {
		a.ConfigFileContent, _ = f.Char("config_file_content", form.Char{AllowBlank: true, KeepSpace: true})
	} else {
		a.ConfigFileContent = ""
	}
	a.Dependencies = nil
	if raw, ok := f.Raw("dependencies"); ok && !f.IsNull("dependencies") {
		a.Dependencies = store.JSONValue(raw)
	}
	if t, ok := f.Datetime("last_restarted", true, false); ok && t != nil {
		a.LastRestarted = t
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if !hasOffering {
		return nil, models.FieldError("offering", form.MsgRequired)
	}
	o, err := m.st.OfferingByUUID(c.Request.Context(), offering)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, models.FieldError("offering", "Object with uuid="+offering.String()+" does not exist.")
	}
	if err != nil {
		return nil, err
	}
	a.OfferingID = o.ID
	return o, nil
}

// @Summary	Register a site agent identity
// @Description	The agent registers itself once per offering (name "agent-<offering uuid>"); names are unique.
// @Tags		marketplace-site-agent-identities
// @Param		body	body	IdentityRequest	true	"Identity"
// @Success	201	{object}	Identity
// @Router		/api/marketplace-site-agent-identities/ [post]
func (m *Module) createIdentity(c *gin.Context) error {
	var a store.AgentIdentity
	o, err := m.readIdentity(c, &a)
	if err != nil {
		return err
	}
	if err := m.canManage(c, o.ID, o.CustomerID); err != nil {
		return err
	}
	a.CreatedByID = &api.CurrentUser(c).ID
	if err := m.st.SaveAgentIdentity(c.Request.Context(), &a); err != nil {
		return err
	}
	return m.renderIdentity(c, http.StatusCreated, a.UUID)
}

// @Summary	Update a site agent identity
// @Description	The agent sends its whole identity again at every start.
// @Tags		marketplace-site-agent-identities
// @Param		uuid	path	string			true	"Identity UUID"
// @Param		body	body	IdentityRequest	true	"Identity"
// @Success	200	{object}	Identity
// @Router		/api/marketplace-site-agent-identities/{uuid}/ [put]
func (m *Module) updateIdentity(c *gin.Context) error {
	v, err := m.visibleIdentity(c)
	if err != nil {
		return err
	}
	if err := m.canManage(c, v.OfferingID, v.OfferingCustomerID); err != nil {
		return err
	}
	a := v.AgentIdentity
	a.LastRestarted = nil
	o, err := m.readIdentity(c, &a)
	if err != nil {
		return err
	}
	if o.ID != v.OfferingID {
		if err := m.canManage(c, o.ID, o.CustomerID); err != nil {
			return err
		}
	}
	if a.LastRestarted == nil {
		a.LastRestarted = v.LastRestarted
	}
	if err := m.st.SaveAgentIdentity(c.Request.Context(), &a); err != nil {
		return err
	}
	return m.renderIdentity(c, http.StatusOK, a.UUID)
}

// @Summary	Delete a site agent identity
// @Description	With its services and processors.
// @Tags		marketplace-site-agent-identities
// @Param		uuid	path	string	true	"Identity UUID"
// @Success	204
// @Router		/api/marketplace-site-agent-identities/{uuid}/ [delete]
func (m *Module) deleteIdentity(c *gin.Context) error {
	v, err := m.visibleIdentity(c)
	if err != nil {
		return err
	}
	if err := m.canManage(c, v.OfferingID, v.OfferingCustomerID); err != nil {
		return err
	}
	if err := m.st.DeleteAgentIdentity(c.Request.Context(), v.ID); err != nil {
		return err
	}
	return api.NoContent(c)
}

// ServiceRequest is the body of register_service (the OpenAPI AgentServiceCreateRequest).
type ServiceRequest struct {
	Name string `json:"name"`
	Mode string `json:"mode"`
}

// @Summary	Register a service of a site agent
// @Description	Returns the identity's service of that name (200), creating it when there is none (201); it becomes Active and takes the mode.
// @Tags		marketplace-site-agent-identities
// @Param		uuid	path	string			true	"Identity UUID"
// @Param		body	body	ServiceRequest	true	"Service"
// @Success	200	{object}	Service
// @Success	201	{object}	Service
// @Router		/api/marketplace-site-agent-identities/{uuid}/register_service/ [post]
func (m *Module) registerService(c *gin.Context) error {
	v, err := m.visibleIdentity(c)
	if err != nil {
		return err
	}
	if err := m.canManage(c, v.OfferingID, v.OfferingCustomerID); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	name, _ := f.Char("name", form.Char{Max: 150, Required: true})
	mode, _, _ := f.NullableStr("mode", 100, true)
	if err := f.Err(); err != nil {
		return err
	}
	s, created, err := m.st.RegisterAgentService(c.Request.Context(), v.ID, name, mode)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return m.renderService(c, status, s.UUID)
}
