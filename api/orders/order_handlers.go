package orders

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/models/store"
)

// Order is the OpenAPI OrderDetails shape.
type Order struct {
	URL                         string            `json:"url"`
	UUID                        models.UUID       `json:"uuid"`
	Type                        models.OrderType  `json:"type"`
	State                       models.OrderState `json:"state"`
	Offering                    string            `json:"offering"`
	OfferingUUID                models.UUID       `json:"offering_uuid"`
	OfferingName                string            `json:"offering_name"`
	OfferingDescription         string            `json:"offering_description"`
	OfferingType                string            `json:"offering_type"`
	OfferingShared              bool              `json:"offering_shared"`
	OfferingBillable            bool              `json:"offering_billable"`
	OfferingPluginOptions       map[string]any    `json:"offering_plugin_options"`
	ProviderUUID                models.UUID       `json:"provider_uuid"`
	ProviderName                string            `json:"provider_name"`
	CategoryUUID                models.UUID       `json:"category_uuid"`
	CategoryTitle               string            `json:"category_title"`
	Plan                        *string           `json:"plan,omitempty"`
	PlanUUID                    *models.UUID      `json:"plan_uuid"`
	PlanName                    *string           `json:"plan_name"`
	PlanUnit                    *string           `json:"plan_unit"`
	PlanDescription             *string           `json:"plan_description"`
	Attributes                  map[string]any    `json:"attributes"`
	Limits                      map[string]int64  `json:"limits"`
	Cost                        *string           `json:"cost"`
	ResourceUUID                models.UUID       `json:"resource_uuid"`
	MarketplaceResourceUUID     models.UUID       `json:"marketplace_resource_uuid"`
	ResourceName                string            `json:"resource_name"`
	Project                     string            `json:"project"`
	ProjectUUID                 models.UUID       `json:"project_uuid"`
	ProjectName                 string            `json:"project_name"`
	ProjectDescription          string            `json:"project_description"`
	CustomerUUID                models.UUID       `json:"customer_uuid"`
	CustomerName                string            `json:"customer_name"`
	CreatedByUsername           string            `json:"created_by_username"`
	CreatedByFullName           string            `json:"created_by_full_name"`
	CreatedByEmail              *string           `json:"created_by_email"`
	CreatedByCivilNumber        *string           `json:"created_by_civil_number"`
	CreatedByOrganization       *string           `json:"created_by_organization"`
	ConsumerReviewedBy          *string           `json:"consumer_reviewed_by"`
	ConsumerReviewedByUsername  *string           `json:"consumer_reviewed_by_username"`
	ConsumerReviewedByFullName  *string           `json:"consumer_reviewed_by_full_name"`
	ConsumerReviewedAt          *time.Time        `json:"consumer_reviewed_at"`
	ProviderReviewedBy          *string           `json:"provider_reviewed_by"`
	ProviderReviewedByUsername  *string           `json:"provider_reviewed_by_username"`
	ProviderReviewedByFullName  *string           `json:"provider_reviewed_by_full_name"`
	ProviderReviewedAt          *time.Time        `json:"provider_reviewed_at"`
	Output                      string            `json:"output"`
	ErrorMessage                string            `json:"error_message"`
	ErrorTraceback              *string           `json:"error_traceback,omitempty"` // staff and support only, as Waldur
	CallbackURL                 *string           `json:"callback_url"`
	TerminationComment          *string           `json:"termination_comment"`
	BackendID                   string            `json:"backend_id"`
	CanTerminate                bool              `json:"can_terminate"`
	CompletedAt                 *time.Time        `json:"completed_at"`
	Created                     time.Time         `json:"created"`
	Modified                    time.Time         `json:"modified"`
	ConsumerRejectionCommentOut string            `json:"consumer_rejection_comment"`
	ProviderRejectionCommentOut string            `json:"provider_rejection_comment"`
	// The rest of OrderDetails (8.0.5): slugs, the plan change, prices, and
	// what this platform does not keep (null or empty, as Waldur answers
	// them when unset).
	Slug                              string       `json:"slug"` // the resource's
	CustomerSlug                      string       `json:"customer_slug"`
	ProjectSlug                       string       `json:"project_slug"`
	ProviderSlug                      string       `json:"provider_slug"`
	ResourceType                      *string      `json:"resource_type"`
	OldPlanUUID                       *models.UUID `json:"old_plan_uuid"`
	OldPlanName                       *string      `json:"old_plan_name"`
	NewPlanUUID                       *models.UUID `json:"new_plan_uuid"`
	NewPlanName                       *string      `json:"new_plan_name"`
	OldCostEstimate                   float64      `json:"old_cost_estimate"` // the resource's cost; 0 when unknown (not nullable in the file)
	NewCostEstimate                   *string      `json:"new_cost_estimate"`
	FixedPrice                        float64      `json:"fixed_price"`
	ActivationPrice                   float64      `json:"activation_price"`
	CategoryIcon                      string       `json:"category_icon"` // images: "" when unset (Waldur answers null, which its file does not allow)
	OfferingImage                     string       `json:"offering_image"`
	OfferingThumbnail                 string       `json:"offering_thumbnail"`
	CreatedByOrganizationRegistryCode *string      `json:"created_by_organization_registry_code"`
	RequestComment                    *string      `json:"request_comment"`
	StartDate                         *string      `json:"start_date"`
	OrderSubtype                      *string      `json:"order_subtype"`
	Issue                             any          `json:"issue"`
	Attachment                        *string      `json:"attachment"`
	ConsumerMessage                   string       `json:"consumer_message"`
	ConsumerMessageAttachment         *string      `json:"consumer_message_attachment"`
	ProviderMessage                   string       `json:"provider_message"`
	ProviderMessageAttachment         *string      `json:"provider_message_attachment"`
	ProviderMessageURL                string       `json:"provider_message_url"`
}

func jsonObject(raw []byte) map[string]any {
	out := map[string]any{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out)
		if out == nil {
			out = map[string]any{}
		}
	}
	return out
}

func jsonLimits(raw []byte) map[string]int64 {
	out := map[string]int64{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out)
		if out == nil {
			out = map[string]int64{}
		}
	}
	return out
}

func fullName(first, last *string) *string {
	if first == nil && last == nil {
		return nil
	}
	var f, l string
	if first != nil {
		f = *first
	}
	if last != nil {
		l = *last
	}
	s := strings.TrimSpace(f + " " + l)
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (m *Module) renderOrder(c *gin.Context, v *store.OrderView) Order {
	o := Order{
		URL: rest.URL(c, "marketplace-orders", v.UUID), UUID: v.UUID, Type: v.Type, State: v.State,
		Offering: rest.URL(c, "marketplace-public-offerings", v.OfferingUUID), OfferingUUID: v.OfferingUUID, OfferingName: v.OfferingName,
		OfferingDescription: v.OfferingDescription, OfferingType: v.OfferingType, OfferingShared: v.OfferingShared,
		OfferingBillable: v.OfferingBillable, OfferingPluginOptions: jsonObject(v.OfferingPluginOpts),
		ProviderUUID: v.ProviderUUID, ProviderName: v.ProviderName, CategoryUUID: v.CategoryUUID, CategoryTitle: v.CategoryTitle,
		PlanUUID: v.PlanUUID, PlanName: v.PlanName, PlanUnit: v.PlanUnit, PlanDescription: v.PlanDescription,
		Attributes: jsonObject(v.Attributes), Limits: jsonLimits(v.Limits),
		ResourceUUID: v.ResourceUUID, MarketplaceResourceUUID: v.ResourceUUID, ResourceName: v.ResourceName,
		Project: rest.URL(c, "projects", v.ProjectUUID), ProjectUUID: v.ProjectUUID, ProjectName: v.ProjectName,
		ProjectDescription: v.ProjectDescription, CustomerUUID: v.CustomerUUID, CustomerName: v.CustomerName,
		CreatedByUsername: deref(v.CreatedByUsername), CreatedByFullName: deref(fullName(v.CreatedByFirstName, v.CreatedByLastName)),
		CreatedByEmail: v.CreatedByEmail, CreatedByCivilNumber: v.CreatedByCivilNumber, CreatedByOrganization: v.CreatedByOrg,
		ConsumerReviewedBy: v.ConsumerReviewerName, ConsumerReviewedByUsername: v.ConsumerReviewerName,
		ConsumerReviewedByFullName: fullName(v.ConsumerReviewerFN, v.ConsumerReviewerLN), ConsumerReviewedAt: v.ConsumerReviewedAt,
		ProviderReviewedBy: v.ProviderReviewerName, ProviderReviewedByUsername: v.ProviderReviewerName,
		ProviderReviewedByFullName: fullName(v.ProviderReviewerFN, v.ProviderReviewerLN), ProviderReviewedAt: v.ProviderReviewedAt,
		Output: v.Output, ErrorMessage: v.ErrorMessage, BackendID: v.BackendID,
		CanTerminate: v.State.Pending() || v.State == models.OrderExecuting, CompletedAt: v.CompletedAt,
		Created: v.Created, Modified: v.Modified,
	}
	if u := api.CurrentUser(c); u != nil && (u.IsStaff || u.IsSupport) {
		// Waldur conceals the detailed error from other callers.
		o.ErrorTraceback = &v.ErrorTraceback
	}
	if v.ResourceScopeUUID != nil { // Waldur's resource.backend_uuid: the plugin resource (a cloud tenant, ...)
		o.ResourceUUID = *v.ResourceScopeUUID
	}
	if v.CallbackURL != "" {
		o.CallbackURL = &v.CallbackURL
	}
	if v.TerminationComment != "" {
		o.TerminationComment = &v.TerminationComment
	}
	if v.PlanUUID != nil {
		// Waldur's form: the plan under its public offering.
		u := rest.NestedURL(c, "marketplace-public-offerings", v.OfferingUUID, "plans", *v.PlanUUID)
		o.Plan = &u
	}
	if v.Cost != nil {
		s := v.Cost.String()
		o.Cost, o.NewCostEstimate = &s, &s
	}
	o.Slug, o.CustomerSlug, o.ProjectSlug, o.ProviderSlug = v.ResourceSlug, v.CustomerSlug, v.ProjectSlug, v.ProviderSlug
	o.ResourceType, o.OldPlanUUID, o.OldPlanName, o.NewPlanUUID, o.NewPlanName = v.ResourceScopeType, v.OldPlanUUID, v.OldPlanName, v.PlanUUID, v.PlanName
	if v.ResourceCost != nil {
		o.OldCostEstimate = v.ResourceCost.InexactFloat64()
	}
	o.FixedPrice, o.ActivationPrice = v.FixedPrice.InexactFloat64(), v.ActivationPrice.InexactFloat64()
	o.CategoryIcon = v.CategoryIcon
	return o
}

var orderStates = map[string]bool{}
var orderTypes = map[string]bool{string(models.OrderCreate): true, string(models.OrderUpdate): true, string(models.OrderTerminate): true}

func init() {
	for _, s := range []models.OrderState{models.OrderPendingConsumer, models.OrderPendingProvider, models.OrderPendingProject,
		models.OrderExecuting, models.OrderDone, models.OrderErred, models.OrderCanceled, models.OrderRejected} {
		orderStates[string(s)] = true
	}
}

// choices reads a repeatable choice filter (DRF's MultipleChoiceFilter message on a bad value).
func choices(c *gin.Context, key string, allowed map[string]bool) ([]string, error) {
	vs := rest.Values(c, key)
	for _, v := range vs {
		if !allowed[v] {
			return nil, models.FieldError(key, fmt.Sprintf("Select a valid choice. %s is not one of the available choices.", v))
		}
	}
	return vs, nil
}

var orderListSpec = rest.ListSpec{
	Ordering:        store.OrderOrdering,
	DefaultOrdering: []string{"-created"},
	TieBreaker:      "orders.id",
}

// @Summary	List orders
// @Tags		marketplace-orders
// @Param		state			query	[]string	false	"Order state (repeatable)"
// @Param		type			query	[]string	false	"Create, Update or Terminate (repeatable)"
// @Param		project_uuid	query	string		false	"Project"
// @Param		customer_uuid	query	string		false	"Customer of the project"
// @Param		offering_uuid	query	string		false	"Offering"
// @Param		offering_type	query	[]string	false	"Offering type (repeatable)"
// @Param		provider_uuid	query	string		false	"Customer of the offering"
// @Param		resource_uuid	query	string		false	"Resource"
// @Success	200	{array}	Order
// @Router		/api/marketplace-orders/ [get]
func (m *Module) listOrders(c *gin.Context) error {
	f, err := orderFilter(c)
	if err != nil {
		return err
	}
	q, err := m.st.OrdersQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, orderListSpec, func(v *store.OrderView) Order { return m.renderOrder(c, v) })
}

// orderFilter reads the filters of the order list.
func orderFilter(c *gin.Context) (store.OrderFilter, error) {
	var f store.OrderFilter
	var err error
	if f.States, err = choices(c, "state", orderStates); err != nil {
		return f, err
	}
	if f.Types, err = choices(c, "type", orderTypes); err != nil {
		return f, err
	}
	f.OfferingTypes = rest.Values(c, "offering_type")
	for key, dst := range map[string]*[]models.UUID{"project_uuid": &f.ProjectUUIDs, "customer_uuid": &f.CustomerUUIDs,
		"offering_uuid": &f.OfferingUUIDs, "provider_uuid": &f.ProviderUUIDs, "resource_uuid": &f.ResourceUUIDs, "category_uuid": &f.CategoryUUIDs} {
		if *dst, err = rest.UUIDs(c, key); err != nil {
			return f, err
		}
	}
	// Reference filters (a URL or a UUID) and the moment filters.
	for key, dst := range map[string]*[]models.UUID{"offering": &f.Offerings, "resource": &f.Resources, "project": &f.Projects, "customer": &f.Customers} {
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
	f.ResourceName = rest.Last(c, "resource_name")
	f.OfferingSlug = rest.Last(c, "offering_slug")
	f.Query = rest.Last(c, "query") // an order's or its resource's UUID, or words of the resource's name
	return f, nil
}

// visibleOrder loads the order of the path if the caller may see it (404 otherwise).
func (m *Module) visibleOrder(c *gin.Context) (*store.OrderView, error) {
	id, err := api.PathUUID(c, "Order")
	if err != nil {
		return nil, err
	}
	return m.st.VisibleOrderView(c.Request.Context(), id)
}

// @Summary	Retrieve an order
// @Tags		marketplace-orders
// @Param		uuid	path	string	true	"Order UUID"
// @Success	200	{object}	Order
// @Router		/api/marketplace-orders/{uuid}/ [get]
func (m *Module) getOrder(c *gin.Context) error {
	v, err := m.visibleOrder(c)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, m.renderOrder(c, v))
}

// refAny reads a reference that may be the URL of any of collections (or a bare UUID).
func refAny(f *form.Form, key string, required bool, collections ...string) (models.UUID, bool) {
	if !f.Has(key) {
		if required {
			f.Fail(key, form.MsgRequired)
		}
		return models.NilUUID, false
	}
	if f.IsNull(key) {
		f.Fail(key, form.MsgNull)
		return models.NilUUID, false
	}
	v, ok := f.Text(key)
	if !ok {
		return models.NilUUID, false
	}
	var first error
	for _, col := range collections {
		id, err := rest.ParseRef(key, v, col)
		if err == nil {
			return id, true
		}
		if first == nil || !strings.Contains(err.Error(), rest.MsgIncorrectURL) {
			first = err
		}
	}
	if e, ok := first.(*models.Error); ok && len(e.Fields[key]) > 0 {
		f.Fail(key, e.Fields[key][0])
	} else {
		f.Fail(key, rest.MsgNoMatch)
	}
	return models.NilUUID, false
}

// objectField reads a JSON object field (nil when absent or null).
func objectField(f *form.Form, key string) (map[string]any, bool) {
	raw, ok := f.Raw(key)
	if !ok || f.IsNull(key) {
		return nil, true
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		f.Fail(key, fmt.Sprintf(form.MsgNotAnObj, pyType(raw)))
		return nil, false
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		f.Fail(key, "Invalid data.")
		return nil, false
	}
	return out, true
}

func pyType(raw []byte) string {
	if len(raw) == 0 {
		return "NoneType"
	}
	switch raw[0] {
	case '[':
		return "list"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "float"
	}
	return "int"
}

// limitsField reads {component_type: integer ≥ 0}.
func limitsField(f *form.Form, key string) (map[string]int64, bool) {
	raw, ok := f.Raw(key)
	if !ok || f.IsNull(key) {
		return nil, true
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		f.Fail(key, fmt.Sprintf(form.MsgNotAnObj, pyType(raw)))
		return nil, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		f.Fail(key, "Invalid data.")
		return nil, false
	}
	out := map[string]int64{}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var n int64
		if err := json.Unmarshal(obj[k], &n); err != nil {
			f.Fail(key, fmt.Sprintf("Limit of %s: %s", k, form.MsgInteger))
			return nil, false
		}
		if n < 0 {
			f.Fail(key, fmt.Sprintf("Limit of %s: %s", k, fmt.Sprintf(form.MsgMinValue, "0")))
			return nil, false
		}
		out[k] = n
	}
	return out, true
}

// prepareCreateOrder reads and checks the body of a Create order (as
// createOrder and preview take it), with its cost and approval context.
// When the plan is known, in.PlanID is set even if a later check fails
// (the preview still estimates the cost).
func (m *Module) prepareCreateOrder(c *gin.Context, f *form.Form, in *store.NewOrder) error {
	u := api.CurrentUser(c)
	offeringID, okO := refAny(f, "offering", true, "marketplace-public-offerings", "marketplace-provider-offerings")
	projectID, okP := refAny(f, "project", true, "projects")
	var planID models.UUID
	hasPlan := f.Has("plan") && !f.IsNull("plan")
	if hasPlan {
		planID, hasPlan = refAny(f, "plan", false, "marketplace-public-offerings/*/plans", "marketplace-plans", "marketplace-public-plans")
	}
	attrs, _ := objectField(f, "attributes")
	limits, _ := limitsField(f, "limits")
	typ := models.OrderCreate
	if t, ok := f.Choice("type", orderTypes, false); ok {
		typ = models.OrderType(t)
		if typ != models.OrderCreate {
			f.Fail("type", "Only Create orders are placed here; use the resource's terminate, update_limits or switch_plan actions.")
		}
	}
	accepting, _ := f.Bool("accepting_terms_of_service")
	if name, ok := attrs["name"]; ok {
		if s, isStr := name.(string); !isStr || len(s) > 150 {
			f.Fail("attributes", "Resource name must be a string of at most 150 characters.")
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	_, _ = okO, okP
	ci := marketplace.CreateInput{Offering: offeringID, Project: projectID, Attributes: attrs, Limits: limits, AcceptingTerms: accepting}
	if hasPlan {
		ci.Plan = &planID
	}
	return m.svc.PrepareCreate(c.Request.Context(), u, ci, in)
}

// @Summary	Create an order
// @Description	Places an order (resource and quota reserved atomically) and starts its workflow; when Temporal is unreachable the order is accepted and started later by the dispatcher.
// @Tags		marketplace-orders
// @Success	201	{object}	Order
// @Router		/api/marketplace-orders/ [post]
func (m *Module) createOrder(c *gin.Context) error {
	ctx := c.Request.Context()
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	var in store.NewOrder
	if err := m.prepareCreateOrder(c, f, &in); err != nil {
		return err
	}
	o, err := m.svc.Place(ctx, in)
	if err != nil {
		return err
	}
	v, err := m.st.OrderViewByUUID(ctx, o.UUID)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusCreated, m.renderOrder(c, v))
}

// Detail is the {"detail": …} answer of the approval actions.
type Detail struct {
	Detail string `json:"detail"`
}

// orderAction serves POST /api/marketplace-orders/{uuid}/<event>/.
//
// @Summary	Review or move an order
// @Description	approve_by_consumer, approve_by_provider (200 {detail}); reject_by_consumer, reject_by_provider, set_state_executing, set_state_done, set_state_erred (200); cancel (202). A wrong state is a 409 "Valid states for operation: …"; Temporal unreachable is a 503.
// @Tags		marketplace-orders
// @Param		uuid	path	string	true	"Order UUID"
// @Success	200	{object}	Detail
// @Router		/api/marketplace-orders/{uuid}/approve_by_consumer/ [post]
// @Router		/api/marketplace-orders/{uuid}/approve_by_provider/ [post]
// @Router		/api/marketplace-orders/{uuid}/reject_by_consumer/ [post]
// @Router		/api/marketplace-orders/{uuid}/reject_by_provider/ [post]
// @Router		/api/marketplace-orders/{uuid}/cancel/ [post]
// @Router		/api/marketplace-orders/{uuid}/set_state_executing/ [post]
// @Router		/api/marketplace-orders/{uuid}/set_state_done/ [post]
// @Router		/api/marketplace-orders/{uuid}/set_state_erred/ [post]
func (m *Module) orderAction(event string) api.Handler {
	return func(c *gin.Context) error {
		u := api.CurrentUser(c)
		v, err := m.visibleOrder(c)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		var message string
		switch event {
		case "set_state_erred":
			message, _ = f.Str("error_message", 0, true)
		case "reject_by_consumer":
			message, _ = f.Str("consumer_rejection_comment", 0, true)
		case "reject_by_provider":
			message, _ = f.Str("provider_rejection_comment", 0, true)
		}
		if err := f.Err(); err != nil {
			return err
		}
		if _, err := m.svc.Act(c.Request.Context(), u, v, event, message); err != nil {
			return err
		}
		switch event {
		case "approve_by_consumer", "approve_by_provider":
			c.JSON(http.StatusOK, Detail{Detail: "Order has been approved."})
		case "cancel":
			c.Status(http.StatusAccepted)
		default:
			c.Status(http.StatusOK)
		}
		return nil
	}
}

// @Summary	Delete a pending order
// @Description	Cancels the order through its workflow (the resource of a Create order is terminated and its quota released), then deletes it.
// @Tags		marketplace-orders
// @Param		uuid	path	string	true	"Order UUID"
// @Success	204
// @Router		/api/marketplace-orders/{uuid}/ [delete]
func (m *Module) destroyOrder(c *gin.Context) error {
	u := api.CurrentUser(c)
	v, err := m.visibleOrder(c)
	if err != nil {
		return err
	}
	if err := m.svc.MayAct(c.Request.Context(), u, v, "destroy"); err != nil {
		return err
	}
	if !v.State.Pending() {
		return models.Errorf(models.CodeConflict, "Valid states for operation: %s, %s, %s.",
			models.OrderPendingConsumer, models.OrderPendingProvider, models.OrderPendingProject)
	}
	uid := u.ID
	if _, err := m.svc.Send(c.Request.Context(), v, marketplace.Action{Event: "cancel", ActorID: &uid}, false); err != nil {
		return err
	}
	if err := m.st.DeleteOrder(c.Request.Context(), v.UUID); err != nil {
		return err
	}
	return api.NoContent(c)
}
