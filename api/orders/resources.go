package orders

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/catalog"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// side is the point of view of a resource endpoint.
type side = store.ResourceSide

const (
	consumerSide = store.ResourceConsumerSide // /api/marketplace-resources/: the project's and customer's roles
	providerSide = store.ResourceProviderSide // /api/marketplace-provider-resources/: roles on the offering's customer or on the offering
)

// Resource is the OpenAPI Resource shape (also served by the provider view).
type Resource struct {
	URL                   string               `json:"url"`
	UUID                  models.UUID          `json:"uuid"`
	Name                  string               `json:"name"`
	Slug                  string               `json:"slug,omitempty"`
	Description           string               `json:"description"`
	State                 models.ResourceState `json:"state"`
	ResourceUUID          *models.UUID         `json:"resource_uuid"`
	ResourceType          *string              `json:"resource_type"`
	Scope                 *string              `json:"scope,omitempty" format:"uri"`
	BackendID             string               `json:"backend_id"`
	EffectiveID           string               `json:"effective_id"`
	Offering              string               `json:"offering"`
	OfferingUUID          models.UUID          `json:"offering_uuid"`
	OfferingName          string               `json:"offering_name"`
	OfferingDescription   string               `json:"offering_description"`
	OfferingType          string               `json:"offering_type"`
	OfferingShared        bool                 `json:"offering_shared"`
	OfferingBillable      bool                 `json:"offering_billable"`
	OfferingPluginOptions map[string]any       `json:"offering_plugin_options"`
	OfferingState         models.OfferingState `json:"offering_state"`
	OfferingBackendID     string               `json:"offering_backend_id"`
	ProviderUUID          models.UUID          `json:"provider_uuid"`
	ProviderName          string               `json:"provider_name"`
	CategoryUUID          models.UUID          `json:"category_uuid"`
	CategoryTitle         string               `json:"category_title"`
	Plan                  *string              `json:"plan,omitempty"`
	PlanUUID              *models.UUID         `json:"plan_uuid"`
	PlanName              *string              `json:"plan_name"`
	PlanUnit              *string              `json:"plan_unit"`
	PlanDescription       *string              `json:"plan_description"`
	Attributes            map[string]any       `json:"attributes"`
	Limits                map[string]int64     `json:"limits"`
	CurrentUsages         map[string]any       `json:"current_usages"`
	BackendMetadata       map[string]any       `json:"backend_metadata"`
	Options               map[string]any       `json:"options"`
	Project               string               `json:"project"`
	ProjectUUID           models.UUID          `json:"project_uuid"`
	ProjectName           string               `json:"project_name"`
	ProjectDescription    string               `json:"project_description"`
	ProjectEndDate        *string              `json:"project_end_date"`
	CustomerUUID          models.UUID          `json:"customer_uuid"`
	CustomerName          string               `json:"customer_name"`
	EndDate               *string              `json:"end_date"`
	Downscaled            bool                 `json:"downscaled"`
	RestrictMemberAccess  bool                 `json:"restrict_member_access"`
	Paused                bool                 `json:"paused"`
	ErrorMessage          string               `json:"error_message"`
	ErrorTraceback        string               `json:"error_traceback"`
	CanTerminate          bool                 `json:"can_terminate"`
	Report                []any                `json:"report"`
	Endpoints             []Endpoint           `json:"endpoints"`
	AvailableActions      []string             `json:"available_actions"`
	LastSync              *time.Time           `json:"last_sync,omitempty"`
	ProjectSlug           string               `json:"project_slug"`
	CustomerSlug          string               `json:"customer_slug"`
	OfferingSlug          string               `json:"offering_slug"`
	ProviderSlug          string               `json:"provider_slug"`
	CategoryIcon          string               `json:"category_icon"` // images: "" when unset (Waldur answers null, which its file does not allow)
	OfferingImage         string               `json:"offering_image"`
	OfferingThumbnail     string               `json:"offering_thumbnail"`
	IsUsageBased          bool                 `json:"is_usage_based"`
	IsLimitBased          bool                 `json:"is_limit_based"`
	LimitUsage            map[string]float64   `json:"limit_usage"`
	OfferingComponents    []catalog.Component  `json:"offering_components"`
	OrderInProgress       *struct{}            `json:"order_in_progress"`
	CreationOrder         *struct{}            `json:"creation_order"`
	Username              *string              `json:"username"`
	RenewalDate           map[string]string    `json:"renewal_date"`
	EndDateRequestedBy    *string              `json:"end_date_requested_by"`
	UserRequiresReconsent bool                 `json:"user_requires_reconsent"`
	Created               time.Time            `json:"created"`
	Modified              time.Time            `json:"modified"`
}

func date(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format("2006-01-02")
	return &s
}

// Endpoint is the OpenAPI NestedEndpoint shape: an access endpoint of a resource.
type Endpoint struct {
	UUID models.UUID `json:"uuid"`
	Name string      `json:"name"`
	URL  string      `json:"url"`
}

func renderEndpoints(es []store.ResourceEndpoint) []Endpoint {
	out := make([]Endpoint, len(es))
	for i, e := range es {
		out[i] = Endpoint{UUID: e.UUID, Name: e.Name, URL: e.URL}
	}
	return out
}

// resourceExtras are what a resource rendering loads besides its view.
type resourceExtras struct {
	endpoints  map[int64][]store.ResourceEndpoint  // by resource
	components map[int64][]store.OfferingComponent // by offering
}

// extrasOf loads the extras of a page of resources in two queries.
func (m *Module) extrasOf(c *gin.Context, vs []store.ResourceView) (*resourceExtras, error) {
	ids := make([]int64, len(vs))
	offerings := make([]int64, 0, len(vs))
	seen := map[int64]bool{}
	for i := range vs {
		ids[i] = vs[i].ID
		if !seen[vs[i].OfferingID] {
			seen[vs[i].OfferingID] = true
			offerings = append(offerings, vs[i].OfferingID)
		}
	}
	eps, err := m.st.EndpointsOf(c.Request.Context(), ids)
	if err != nil {
		return nil, err
	}
	comps, err := m.st.ComponentsOf(c.Request.Context(), offerings)
	if err != nil {
		return nil, err
	}
	return &resourceExtras{endpoints: eps, components: comps}, nil
}

func (m *Module) renderResource(c *gin.Context, v *store.ResourceView, x *resourceExtras) Resource {
	r := Resource{
		URL: rest.URL(c, "marketplace-resources", v.UUID), UUID: v.UUID, Name: v.Name, Slug: v.Slug, Description: v.Description,
		State: v.State, BackendID: v.BackendID, EffectiveID: v.EffectiveID,
		Offering: rest.URL(c, "marketplace-public-offerings", v.OfferingUUID), OfferingUUID: v.OfferingUUID, OfferingName: v.OfferingName,
		OfferingDescription: v.OfferingDescription, OfferingType: v.OfferingType, OfferingShared: v.OfferingShared,
		OfferingBillable: v.OfferingBillable, OfferingPluginOptions: jsonObject(v.OfferingPluginOpts), OfferingState: v.OfferingState,
		OfferingBackendID: v.OfferingBackendID, ProviderUUID: v.ProviderUUID, ProviderName: v.ProviderName,
		CategoryUUID: v.CategoryUUID, CategoryTitle: v.CategoryTitle,
		PlanUUID: v.PlanUUID, PlanName: v.PlanName, PlanUnit: v.PlanUnit, PlanDescription: v.PlanDescription,
		Attributes: jsonObject(v.Attributes), Limits: jsonLimits(v.Limits), CurrentUsages: jsonObject(v.CurrentUsages),
		BackendMetadata: jsonObject(v.BackendMetadata), Options: jsonObject(v.Options),
		Project: rest.URL(c, "projects", v.ProjectUUID), ProjectUUID: v.ProjectUUID, ProjectName: v.ProjectName,
		ProjectDescription: v.ProjectDescription, ProjectEndDate: date(v.ProjectEndDate),
		CustomerUUID: v.CustomerUUID, CustomerName: v.CustomerName, EndDate: date(v.EndDate),
		Downscaled: v.Downscaled, RestrictMemberAccess: v.RestrictMemberAcc, Paused: v.Paused,
		ErrorMessage: v.ErrorMessage, ErrorTraceback: v.ErrorTraceback,
		CanTerminate: v.State == models.ResourceOK || v.State == models.ResourceErred,
		Report:       []any{}, Endpoints: renderEndpoints(x.endpoints[v.ID]), AvailableActions: []string{}, LastSync: v.LastSync,
		Created: v.Created, Modified: v.Modified,
	}
	if v.PlanUUID != nil {
		u := rest.URL(c, "marketplace-plans", *v.PlanUUID)
		r.Plan = &u
	}
	if v.EndDateRequestedBy != nil {
		u := rest.URL(c, "users", *v.EndDateRequestedBy)
		r.EndDateRequestedBy = &u
	}
	if v.ScopeUUID != nil { // the plugin resource (a cloud tenant, ...)
		r.ResourceUUID, r.ResourceType = v.ScopeUUID, &v.ScopeType
		if caps, ok := m.svc.Caps(v.ScopeType); ok && caps.ScopePath != "" {
			u := rest.Origin(c) + caps.ScopePath + v.ScopeUUID.String() + "/"
			r.Scope = &u
		}
	}
	r.ProjectSlug, r.CustomerSlug, r.OfferingSlug, r.ProviderSlug, r.CategoryIcon = v.ProjectSlug, v.CustomerSlug, v.OfferingSlug, v.ProviderSlug, v.CategoryIcon
	r.LimitUsage, r.OfferingComponents = map[string]float64{}, []catalog.Component{}
	cur := jsonObject(v.CurrentUsages)
	for i := range x.components[v.OfferingID] {
		cp := &x.components[v.OfferingID][i]
		r.OfferingComponents = append(r.OfferingComponents, catalog.RenderComponent(cp))
		switch cp.BillingType {
		case models.BillingUsage:
			r.IsUsageBased = true
		case models.BillingLimit:
			r.IsLimitBased = true
			if f, ok := cur[cp.Type].(float64); ok {
				r.LimitUsage[cp.Type] = f
			}
		}
	}
	if r.CanTerminate {
		r.AvailableActions = []string{"terminate", "update_limits", "switch_plan"}
	}
	return r
}

var resourceStates = map[string]bool{}

func init() {
	for _, s := range []models.ResourceState{models.ResourceCreating, models.ResourceOK, models.ResourceErred,
		models.ResourceUpdating, models.ResourceTerminating, models.ResourceTerminated} {
		resourceStates[string(s)] = true
	}
}

var resourceListSpec = rest.ListSpec{
	Ordering:        store.ResourceOrdering,
	DefaultOrdering: []string{"-created"},
	TieBreaker:      "resources.id",
}

// @Summary	List marketplace resources
// @Description	/api/marketplace-resources/ shows the resources of the caller's projects and customers; /api/marketplace-provider-resources/ those of the offerings the caller provides.
// @Tags		marketplace-resources
// @Param		state			query	[]string	false	"Resource state (repeatable)"
// @Param		offering_type	query	string		false	"Offering type"
// @Param		project_uuid	query	string		false	"Project"
// @Param		customer_uuid	query	string		false	"Customer of the project"
// @Param		offering_uuid	query	[]string	false	"Offering (repeatable)"
// @Param		provider_uuid	query	string		false	"Customer of the offering"
// @Param		backend_id		query	string		false	"Backend id"
// @Param		query			query	string		false	"Name contains, or UUID"
// @Success	200	{array}	Resource
// @Router		/api/marketplace-resources/ [get]
// @Router		/api/marketplace-provider-resources/ [get]
func (m *Module) listResources(s side) api.Handler {
	return func(c *gin.Context) error {
		f, err := resourceFilter(c)
		if err != nil {
			return err
		}
		q, err := m.st.ResourcesQuery(c.Request.Context(), s, f)
		if err != nil {
			return err
		}
		return rest.ListBatch(c, q, resourceListSpec, func(vs []store.ResourceView) ([]Resource, error) {
			x, err := m.extrasOf(c, vs)
			if err != nil {
				return nil, err
			}
			out := make([]Resource, len(vs))
			for i := range vs {
				out[i] = m.renderResource(c, &vs[i], x)
			}
			return out, nil
		})
	}
}

// resourceFilter reads the filters of the resource lists.
func resourceFilter(c *gin.Context) (store.ResourceFilter, error) {
	var f store.ResourceFilter
	var err error
	if f.States, err = choices(c, "state", resourceStates); err != nil {
		return f, err
	}
	f.OfferingTypes = rest.Values(c, "offering_type")
	f.BackendID = rest.Last(c, "backend_id")
	// Reference filters (a URL or a UUID) and the moment filters.
	for key, dst := range map[string]*[]models.UUID{"offering": &f.Offerings, "customer": &f.Customers, "project": &f.Projects} {
		if *dst, err = rest.RefUUIDs(c, key); err != nil {
			return f, err
		}
	}
	if f.Created, err = rest.Since(c, "created"); err != nil {
		return f, err
	}
	if f.Modified, err = rest.Since(c, "modified"); err != nil {
		return f, err
	}
	f.Query = rest.Last(c, "query")
	f.Name = rest.Last(c, "name")
	f.NameExact, f.ProjectName, f.OfferingSlug = rest.Last(c, "name_exact"), rest.Last(c, "project_name"), rest.Last(c, "offering_slug")
	for key, dst := range map[string]**bool{"downscaled": &f.Downscaled, "paused": &f.Paused,
		"restrict_member_access": &f.RestrictMemberAccess, "offering_billable": &f.OfferingBillable, "offering_shared": &f.OfferingShared} {
		if *dst, err = rest.Bool(c, key); err != nil {
			return f, err
		}
	}
	if f.HasTerminateDate, err = rest.Bool(c, "has_terminate_date"); err != nil {
		return f, err
	}
	for key, dst := range map[string]**bool{"usage_based": &f.UsageBased, "limit_based": &f.LimitBased} {
		if *dst, err = rest.Bool(c, key); err != nil {
			return f, err
		}
	}
	for key, dst := range map[string]*[]models.UUID{"project_uuid": &f.ProjectUUIDs, "customer_uuid": &f.CustomerUUIDs,
		"offering_uuid": &f.OfferingUUIDs, "provider_uuid": &f.ProviderUUIDs, "category_uuid": &f.CategoryUUIDs, "plan_uuid": &f.PlanUUIDs} {
		if *dst, err = rest.UUIDs(c, key); err != nil {
			return f, err
		}
	}
	return f, nil
}

// visibleResource loads the resource of the path if the caller sees it from side s.
func (m *Module) visibleResource(c *gin.Context, s side) (*store.ResourceView, error) {
	id, err := api.PathUUID(c, "Resource")
	if err != nil {
		return nil, err
	}
	return m.st.VisibleResourceView(c.Request.Context(), s, id)
}

// @Summary	Retrieve a marketplace resource
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{object}	Resource
// @Router		/api/marketplace-resources/{uuid}/ [get]
// @Router		/api/marketplace-provider-resources/{uuid}/ [get]
func (m *Module) getResource(s side) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleResource(c, s)
		if err != nil {
			return err
		}
		x, err := m.extrasOf(c, []store.ResourceView{*v})
		if err != nil {
			return err
		}
		return rest.Render(c, http.StatusOK, m.renderResource(c, v, x))
	}
}

// TeamMember is the OpenAPI ProjectUser shape.
type TeamMember struct {
	URL                  string      `json:"url"`
	UUID                 models.UUID `json:"uuid"`
	Username             string      `json:"username"`
	FullName             string      `json:"full_name"`
	Email                string      `json:"email"`
	Role                 string      `json:"role"`
	ExpirationTime       *time.Time  `json:"expiration_time"`
	OfferingUserUsername *string     `json:"offering_user_username"`
	OfferingUserState    *string     `json:"offering_user_state"`
}

// @Summary	Users of the resource's project
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{array}	TeamMember
// @Router		/api/marketplace-resources/{uuid}/team/ [get]
// @Router		/api/marketplace-provider-resources/{uuid}/team/ [get]
func (m *Module) resourceTeam(s side) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleResource(c, s)
		if err != nil {
			return err
		}
		team, err := m.st.ResourceTeam(c.Request.Context(), v.ProjectID, m.now())
		if err != nil {
			return err
		}
		ids := make([]int64, len(team))
		for i, t := range team {
			ids[i] = t.UserID
		}
		accounts, err := m.st.OfferingUsernames(c.Request.Context(), v.OfferingID, ids)
		if err != nil {
			return err
		}
		out := make([]TeamMember, len(team))
		for i, t := range team {
			out[i] = TeamMember{URL: rest.URL(c, "users", t.UUID), UUID: t.UUID, Username: t.Username,
				FullName: strings.TrimSpace(t.FirstName + " " + t.LastName), Email: t.Email, Role: t.RoleName, ExpirationTime: t.ExpirationTime}
			if a, ok := accounts[t.UserID]; ok {
				name, state := a.Username, a.State
				out[i].OfferingUserUsername, out[i].OfferingUserState = &name, &state
			}
		}
		c.JSON(http.StatusOK, out)
		return nil
	}
}

// OrderUUID is the answer of the resource actions that create an order.
type OrderUUID struct {
	OrderUUID models.UUID `json:"order_uuid"`
}

// resourceOrder places an Update or Terminate order for the resource and starts it.
func (m *Module) resourceOrder(c *gin.Context, v *store.ResourceView, t models.OrderType, planID *int64, limits map[string]int64, attrs map[string]any) error {
	o, err := m.svc.PlaceForResource(c.Request.Context(), api.CurrentUser(c), v, t, planID, limits, attrs)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, OrderUUID{OrderUUID: o.UUID})
	return nil
}

func (m *Module) requireConsumer(c *gin.Context, v *store.ResourceView, perm models.Permission) error {
	return m.rbac.Require(c.Request.Context(), api.CurrentUser(c), perm,
		scopeOf(models.ScopeProject, v.ProjectID), scopeOf(models.ScopeCustomer, v.CustomerID))
}

func requireStates(v *store.ResourceView, states ...models.ResourceState) error {
	for _, s := range states {
		if v.State == s {
			return nil
		}
	}
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	return models.Errorf(models.CodeConflict, "Valid states for operation: %s.", strings.Join(names, ", "))
}

// @Summary	Terminate a resource
// @Description	Places a Terminate order and starts it.
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{object}	OrderUUID
// @Router		/api/marketplace-resources/{uuid}/terminate/ [post]
// @Router		/api/marketplace-provider-resources/{uuid}/terminate/ [post]
func (m *Module) terminateResource(s side) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleResource(c, s)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		attrs, _ := objectField(f, "attributes")
		if err := f.Err(); err != nil {
			return err
		}
		// Both paths: RESOURCE.TERMINATE on "project, project.customer, offering.customer".
		if err := m.rbac.Require(c.Request.Context(), api.CurrentUser(c), permResourceTerminate,
			scopeOf(models.ScopeProject, v.ProjectID), scopeOf(models.ScopeCustomer, v.CustomerID),
			scopeOf(models.ScopeCustomer, v.OfferingCustomerID)); err != nil {
			return err
		}
		if err := requireStates(v, models.ResourceOK, models.ResourceErred); err != nil {
			return err
		}
		return m.resourceOrder(c, v, models.OrderTerminate, nil, nil, attrs)
	}
}

// @Summary	Change a resource's limits
// @Description	Places an Update order with the new limits and starts it.
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{object}	OrderUUID
// @Router		/api/marketplace-resources/{uuid}/update_limits/ [post]
func (m *Module) updateLimits(c *gin.Context) error {
	v, err := m.visibleResource(c, consumerSide)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("limits")
	limits, _ := limitsField(f, "limits")
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.requireConsumer(c, v, permResourceSetLimits); err != nil {
		return err
	}
	if err := requireStates(v, models.ResourceOK); err != nil {
		return err
	}
	if err := m.svc.ValidateLimits(c.Request.Context(), v.OfferingID, v.OfferingType, limits); err != nil {
		return err
	}
	if limits == nil {
		limits = map[string]int64{}
	}
	attrs := map[string]any{"old_limits": jsonLimits(v.Limits)}
	return m.resourceOrder(c, v, models.OrderUpdate, nil, limits, attrs)
}

// @Summary	Switch a resource's plan
// @Description	Places an Update order with the new plan and starts it.
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{object}	OrderUUID
// @Router		/api/marketplace-resources/{uuid}/switch_plan/ [post]
func (m *Module) switchPlan(c *gin.Context) error {
	v, err := m.visibleResource(c, consumerSide)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	planID, _ := refAny(f, "plan", true, "marketplace-plans", "marketplace-public-plans")
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.requireConsumer(c, v, permResourceSetPlan); err != nil {
		return err
	}
	if err := requireStates(v, models.ResourceOK); err != nil {
		return err
	}
	pl, err := m.st.PlanForOrder(c.Request.Context(), planID)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return models.FieldError("plan", rest.MsgDoesNotExist)
		}
		return err
	}
	if pl.OfferingID != v.OfferingID || pl.Archived {
		return models.FieldError("plan", "This plan is not available for selected offering.")
	}
	if v.PlanID != nil && *v.PlanID == pl.ID {
		return models.FieldError("plan", "The resource already uses this plan.")
	}
	return m.resourceOrder(c, v, models.OrderUpdate, &pl.ID, nil, nil)
}

// Status is the {"status": …} answer of the provider actions.
type Status struct {
	Status string `json:"status"`
}

// requireProvider checks a provider-side permission as the operation's
// x-permissions name it: perm on the offering's customer, and also on the
// offering itself when onOffering is true (set_backend_id's
// "offering, offering.customer").
func (m *Module) requireProvider(c *gin.Context, v *store.ResourceView, perm models.Permission, onOffering bool) error {
	scopes := []models.Scope{scopeOf(models.ScopeCustomer, v.OfferingCustomerID)}
	if onOffering {
		scopes = append(scopes, scopeOf(models.ScopeOffering, v.OfferingID))
	}
	return m.rbac.Require(c.Request.Context(), api.CurrentUser(c), perm, scopes...)
}

// providerChange is the common path of the provider actions.
func (m *Module) providerChange(c *gin.Context, perm models.Permission, onOffering bool, read func(f *form.Form) store.ResourceChange,
	answer func(c *gin.Context)) error {
	v, err := m.visibleResource(c, providerSide)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	ch := read(f)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.requireProvider(c, v, perm, onOffering); err != nil {
		return err
	}
	if err := m.st.ChangeResource(c.Request.Context(), v.UUID, ch); err != nil {
		return err
	}
	answer(c)
	return nil
}

func status(msg string) func(c *gin.Context) {
	return func(c *gin.Context) { c.JSON(http.StatusOK, Status{Status: msg}) }
}

func ok(c *gin.Context) { c.Status(http.StatusOK) }

// @Summary	Set a resource's backend id
// @Tags		marketplace-provider-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{object}	Status
// @Router		/api/marketplace-provider-resources/{uuid}/set_backend_id/ [post]
func (m *Module) setBackendID(c *gin.Context) error {
	return m.providerChange(c, permResourceBackendID, true, func(f *form.Form) store.ResourceChange {
		f.Require("backend_id")
		id, _ := f.Str("backend_id", 255, true)
		return store.ResourceChange{BackendID: &id}
	}, status("Resource backend_id has been changed."))
}

// @Summary	Set a resource's backend metadata
// @Tags		marketplace-provider-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{object}	Status
// @Router		/api/marketplace-provider-resources/{uuid}/set_backend_metadata/ [post]
func (m *Module) setBackendMetadata(c *gin.Context) error {
	return m.providerChange(c, permResourceBackendMeta, false, func(f *form.Form) store.ResourceChange {
		f.Require("backend_metadata")
		md, _ := objectField(f, "backend_metadata")
		if md == nil && f.Has("backend_metadata") && !f.Failed("backend_metadata") {
			md = map[string]any{}
		}
		return store.ResourceChange{BackendMetadata: md}
	}, status("Resource backend_metadata has been changed."))
}

// @Summary	Set a resource's limits (provider)
// @Tags		marketplace-provider-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{object}	Status
// @Router		/api/marketplace-provider-resources/{uuid}/set_limits/ [post]
func (m *Module) setLimits(c *gin.Context) error {
	return m.providerChange(c, permResourceSetState, false, func(f *form.Form) store.ResourceChange {
		f.Require("limits")
		l, _ := limitsField(f, "limits")
		if l == nil {
			l = map[string]int64{}
		}
		return store.ResourceChange{Limits: l}
	}, status("Resource limits have been set."))
}

// setState serves set_as_ok and set_as_erred.
//
// @Summary	Mark a resource OK or erred (provider)
// @Tags		marketplace-provider-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200
// @Router		/api/marketplace-provider-resources/{uuid}/set_as_ok/ [post]
// @Router		/api/marketplace-provider-resources/{uuid}/set_as_erred/ [post]
func (m *Module) setState(to models.ResourceState) api.Handler {
	return func(c *gin.Context) error {
		return m.providerChange(c, permResourceSetState, false, func(f *form.Form) store.ResourceChange {
			ch := store.ResourceChange{State: to}
			if to == models.ResourceErred {
				ch.ErrorMessage, _ = f.Str("error_message", 0, true)
				ch.ErrorTraceback, _ = f.Str("error_traceback", 0, true)
			}
			return ch
		}, ok)
	}
}

// @Summary	Record a synchronization with the backend
// @Tags		marketplace-provider-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200
// @Router		/api/marketplace-provider-resources/{uuid}/refresh_last_sync/ [post]
func (m *Module) refreshLastSync(c *gin.Context) error {
	return m.providerChange(c, permResourceSetState, false, func(*form.Form) store.ResourceChange {
		return store.ResourceChange{RefreshLastSync: true}
	}, ok)
}

// @Summary	Replace a resource's access endpoints (provider)
// @Description	Ours (Waldur's site agent calls it): the body's endpoints replace the resource's.
// @Tags		marketplace-provider-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Param		body	body	SetEndpointsRequest	true	"Endpoints"
// @Success	200	{object}	Status
// @Router		/api/marketplace-provider-resources/{uuid}/set_endpoints/ [post]
func (m *Module) setEndpoints(c *gin.Context) error {
	return m.providerChange(c, permResourceBackendMeta, false, func(f *form.Form) store.ResourceChange {
		items, _ := f.ObjList("endpoints", true)
		eps := make([]store.ResourceEndpoint, 0, len(items))
		for i, item := range items {
			name, _ := item.RequireStr("name", 150)
			url, _ := item.RequireStr("url", 2000)
			if err := item.Errors(); len(err) > 0 {
				for k, msgs := range err {
					f.Fail("endpoints", fmt.Sprintf("Item %d, %s: %s", i, k, strings.Join(msgs, " ")))
				}
				continue
			}
			eps = append(eps, store.ResourceEndpoint{Name: name, URL: url})
		}
		return store.ResourceChange{Endpoints: &eps}
	}, status("Resource endpoints have been set."))
}

// SetEndpointsRequest is the body of set_endpoints.
type SetEndpointsRequest struct {
	Endpoints []struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"endpoints"`
}

// PlanPeriod is the OpenAPI ResourcePlanPeriod shape.
type PlanPeriod struct {
	UUID       models.UUID `json:"uuid"`
	PlanName   string      `json:"plan_name"`
	PlanUUID   models.UUID `json:"plan_uuid"`
	Start      *time.Time  `json:"start"`
	End        *time.Time  `json:"end"`
	Components []any       `json:"components"`
}

// @Summary	List a resource's plan periods
// @Description	The spans of time the resource spent on each plan, oldest first (the open one has no end).
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{array}	PlanPeriod
// @Router		/api/marketplace-resources/{uuid}/plan_periods/ [get]
// @Router		/api/marketplace-provider-resources/{uuid}/plan_periods/ [get]
func (m *Module) planPeriods(s side) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleResource(c, s)
		if err != nil {
			return err
		}
		ps, err := m.st.PlanPeriods(c.Request.Context(), v.ID)
		if err != nil {
			return err
		}
		out := make([]PlanPeriod, len(ps))
		for i, p := range ps {
			start := p.Start
			out[i] = PlanPeriod{UUID: p.UUID, PlanName: p.PlanName, PlanUUID: p.PlanUUID, Start: &start, End: p.End, Components: []any{}}
		}
		c.Header("X-Result-Count", strconv.Itoa(len(out)))
		c.JSON(http.StatusOK, out)
		return nil
	}
}

// ResourceUpdate is Waldur's ResourceUpdate: the answer of a resource update.
type ResourceUpdate struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	EndDate     *string `json:"end_date"`
}

// @Summary	Update a resource
// @Description	Its name, description and end date (the date is inclusive; once reached, the resource is scheduled for termination). PUT needs the name. RESOURCE.UPDATE on the project, its customer, the offering or its customer (no default role holds it: staff).
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	200	{object}	ResourceUpdate
// @Router		/api/marketplace-resources/{uuid}/ [put]
// @Router		/api/marketplace-resources/{uuid}/ [patch]
func (m *Module) updateResource(partial bool) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleResource(c, consumerSide)
		if err != nil {
			return err
		}
		ctx := c.Request.Context()
		if err := m.rbac.Require(ctx, api.CurrentUser(c), permResourceUpdate,
			scopeOf(models.ScopeProject, v.ProjectID), scopeOf(models.ScopeCustomer, v.CustomerID),
			scopeOf(models.ScopeOffering, v.OfferingID), scopeOf(models.ScopeCustomer, v.OfferingCustomerID)); err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		var d store.ResourceDetails
		if !partial || f.Has("name") {
			if name, ok := f.RequireStr("name", 150); ok {
				d.Name = &name
			}
		}
		if f.Has("description") {
			if desc, ok := f.Str("description", 4096, true); ok {
				d.Description = &desc
			}
		}
		if f.Has("end_date") {
			if t, ok := f.Date("end_date", true); ok {
				d.SetEndDate, d.EndDate = true, t
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if d.Name != nil || d.Description != nil || d.SetEndDate {
			if err := m.st.ChangeResource(ctx, v.UUID, store.ResourceChange{Details: &d}); err != nil {
				return err
			}
		}
		nv, err := m.st.ResourceViewByUUID(ctx, v.UUID)
		if err != nil {
			return err
		}
		out := ResourceUpdate{Name: nv.Name, Description: nv.Description}
		if nv.EndDate != nil {
			s := nv.EndDate.Format("2006-01-02")
			out.EndDate = &s
		}
		c.JSON(http.StatusOK, out)
		return nil
	}
}
