package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// Component is Waldur's OfferingComponent.
type Component struct {
	UUID               models.UUID `json:"uuid" swaggertype:"string"`
	BillingType        string      `json:"billing_type"`
	Type               string      `json:"type"`
	Name               string      `json:"name"`
	Description        string      `json:"description"`
	MeasuredUnit       string      `json:"measured_unit"`
	UnitFactor         int64       `json:"unit_factor"`
	LimitPeriod        *string     `json:"limit_period"`
	LimitAmount        *int64      `json:"limit_amount"`
	ArticleCode        string      `json:"article_code"`
	MaxValue           *int64      `json:"max_value"`
	MinValue           *int64      `json:"min_value"`
	MaxAvailableLimit  *int64      `json:"max_available_limit"`
	IsBoolean          bool        `json:"is_boolean"`
	DefaultLimit       *int64      `json:"default_limit"`
	Factor             *int64      `json:"factor"`
	IsBuiltin          bool        `json:"is_builtin"`
	IsPrepaid          bool        `json:"is_prepaid"`
	OverageComponent   *string     `json:"overage_component"`
	MinPrepaidDuration *int64      `json:"min_prepaid_duration"`
	MaxPrepaidDuration *int64      `json:"max_prepaid_duration"`
}

// Offering is Waldur's ProviderOfferingDetails (and, without secret_options
// and with public plans, PublicOfferingDetails).
type Offering struct {
	URL                string         `json:"url"`
	UUID               models.UUID    `json:"uuid" swaggertype:"string"`
	Created            time.Time      `json:"created"`
	Name               string         `json:"name"`
	Slug               string         `json:"slug,omitempty"`
	Description        string         `json:"description"`
	FullDescription    string         `json:"full_description"`
	Endpoints          []any          `json:"endpoints"`
	SoftwareCatalogs   []any          `json:"software_catalogs"`
	Partitions         []Partition    `json:"partitions"`
	Roles              []any          `json:"roles"`
	Customer           *string        `json:"customer"`
	CustomerUUID       *string        `json:"customer_uuid"`
	CustomerName       *string        `json:"customer_name"`
	Project            *string        `json:"project"`
	ProjectUUID        *string        `json:"project_uuid"`
	ProjectName        *string        `json:"project_name"`
	Category           string         `json:"category"`
	CategoryUUID       string         `json:"category_uuid"`
	CategoryTitle      string         `json:"category_title"`
	Attributes         map[string]any `json:"attributes"`
	Options            map[string]any `json:"options"`
	ResourceOptions    map[string]any `json:"resource_options"`
	Components         []Component    `json:"components"`
	PluginOptions      map[string]any `json:"plugin_options"`
	SecretOptions      map[string]any `json:"secret_options,omitempty"`
	ServiceAttributes  map[string]any `json:"service_attributes"`
	State              string         `json:"state"`
	VendorDetails      string         `json:"vendor_details"`
	GettingStarted     string         `json:"getting_started"`
	IntegrationGuide   string         `json:"integration_guide"`
	Thumbnail          *string        `json:"thumbnail"`
	OrderCount         int64          `json:"order_count"`
	Plans              []Plan         `json:"plans"`
	Screenshots        []any          `json:"screenshots"`
	Type               string         `json:"type"`
	Shared             bool           `json:"shared"`
	Billable           bool           `json:"billable"`
	ScopeUUID          *string        `json:"scope_uuid"`
	ScopeName          *string        `json:"scope_name"`
	ScopeState         *string        `json:"scope_state"`
	ScopeErrorMessage  *string        `json:"scope_error_message"`
	Files              []any          `json:"files"`
	Quotas             []any          `json:"quotas"`
	PausedReason       string         `json:"paused_reason"`
	DataciteDOI        string         `json:"datacite_doi"`
	CitationCount      int64          `json:"citation_count"`
	Latitude           *float64       `json:"latitude"`
	Longitude          *float64       `json:"longitude"`
	Country            string         `json:"country"`
	BackendID          string         `json:"backend_id"`
	OrganizationGroups []any          `json:"organization_groups"`
	Tags               []any          `json:"tags"`
	Image              *string        `json:"image"`
	TotalCustomers     *int64         `json:"total_customers"`
	TotalCost          *int64         `json:"total_cost"`
	TotalCostEstimated *int64         `json:"total_cost_estimated"`
	ParentDescription  *string        `json:"parent_description"`
	ParentUUID         *string        `json:"parent_uuid"`
	ParentName         *string        `json:"parent_name"`
	BackendMetadata    map[string]any `json:"backend_metadata"`
	// Not kept here; rendered empty so the answer is whole (the file
	// declares them not nullable).
	AccessURL         string `json:"access_url"`
	PrivacyPolicyLink string `json:"privacy_policy_link"`
	Scope             string `json:"scope"`
	// BillingTypeClassification is limit_only, usage_only or mixed, from
	// the components' billing types.
	BillingTypeClassification string `json:"billing_type_classification"`
	// BackendIDRules (provider view) are the rules of resources' backend_id:
	// none here.
	BackendIDRules            any                 `json:"backend_id_rules,omitempty"`
	HasComplianceRequirements bool                `json:"has_compliance_requirements"`
	ComplianceChecklist       *string             `json:"compliance_checklist"`
	IntegrationStatus         []IntegrationStatus `json:"integration_status"`
	GoogleCalendarIsPublic    *bool               `json:"google_calendar_is_public"`
	GoogleCalendarLink        *string             `json:"google_calendar_link"`
	// Public catalog only.
	UserHasConsent     *bool  `json:"user_has_consent,omitempty"`
	IsAccessible       *bool  `json:"is_accessible,omitempty"`
	PromotionCampaigns *[]any `json:"promotion_campaigns,omitempty"`
}

func strp(s string) *string { return &s }

// RenderComponent renders an offering component (also on resources, as offering_components).
func RenderComponent(cp *store.OfferingComponent) Component { return renderComponent(cp) }

func renderComponent(cp *store.OfferingComponent) Component {
	return Component{UUID: cp.UUID, BillingType: string(cp.BillingType), Type: cp.Type, Name: cp.Name,
		Description: cp.Description, MeasuredUnit: cp.MeasuredUnit, UnitFactor: cp.UnitFactor.IntPart(),
		LimitPeriod: cp.LimitPeriod, LimitAmount: cp.LimitAmount, ArticleCode: cp.ArticleCode, MaxValue: cp.MaxValue,
		MinValue: cp.MinValue, MaxAvailableLimit: cp.MaxAvailableLimit, IsBoolean: cp.IsBoolean, DefaultLimit: cp.DefaultLimit}
}

func optionsOrEmpty(j store.JSONObject) map[string]any {
	if j == nil {
		return map[string]any{"order": []any{}, "options": map[string]any{}}
	}
	return j
}

// renderOfferings renders a page of offerings with their customers,
// categories, components, plans and partitions in a few queries. public
// leaves out secret options and archived plans; otherwise secret options
// are shown to those who may update the offering.
func (m *Module) renderOfferings(c *gin.Context, rows []store.Offering, public bool) ([]Offering, error) {
	ctx := c.Request.Context()
	ids, cids, catIDs := make([]int64, len(rows)), make([]int64, len(rows)), make([]int64, len(rows))
	for i := range rows {
		ids[i], cids[i], catIDs[i] = rows[i].ID, rows[i].CustomerID, rows[i].CategoryID
	}
	customers, err := m.st.CustomersByID(ctx, cids)
	if err != nil {
		return nil, err
	}
	cats, err := m.st.CategoriesByID(ctx, catIDs)
	if err != nil {
		return nil, err
	}
	comps, err := m.st.ComponentsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	plans, err := m.st.PlansOf(ctx, ids, !public)
	if err != nil {
		return nil, err
	}
	var all []store.Plan
	for _, ps := range plans {
		all = append(all, ps...)
	}
	rendered, err := m.renderPlans(c, all, comps, false)
	if err != nil {
		return nil, err
	}
	byOffering := map[int64][]Plan{}
	offeringUUIDs := map[int64]models.UUID{}
	for i := range rows {
		offeringUUIDs[rows[i].ID] = rows[i].UUID
	}
	for i := range all {
		if public { // Waldur's public offering serializer: the plan under its public offering
			rendered[i].URL = rest.NestedURL(c, colPublic, offeringUUIDs[all[i].OfferingID], "plans", all[i].UUID)
		}
		byOffering[all[i].OfferingID] = append(byOffering[all[i].OfferingID], rendered[i])
	}
	partitions, err := m.st.PartitionsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	statuses, err := m.st.IntegrationStatusesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	orders, err := m.st.OfferingOrderCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Offering, len(rows))
	for i := range rows {
		o := &rows[i]
		col := colOfferings // each serializer its own view: a public offering's url is its public one
		if public {
			col = colPublic
		}
		r := Offering{URL: rest.URL(c, col, o.UUID), UUID: o.UUID, Created: o.Created.UTC(), Name: o.Name,
			Slug: o.Slug, Description: o.Description, FullDescription: o.FullDescription, Endpoints: []any{},
			SoftwareCatalogs: []any{}, Partitions: renderPartitions(partitions[o.ID]), Roles: []any{}, Attributes: o.Attributes.OrEmpty(),
			Options: optionsOrEmpty(o.Options), ResourceOptions: optionsOrEmpty(o.ResourceOptions),
			Components: []Component{}, PluginOptions: o.PluginOptions.OrEmpty(), ServiceAttributes: map[string]any{},
			State: string(o.State), OrderCount: orders[o.ID], Plans: byOffering[o.ID], Screenshots: []any{}, Type: o.Type,
			Shared: o.Shared, Billable: o.Billable, Files: []any{}, Quotas: []any{}, PausedReason: o.PausedReason,
			Country: o.Country, BackendID: o.BackendID, OrganizationGroups: []any{}, Tags: []any{},
			BackendMetadata: o.BackendMetadata.OrEmpty(), IntegrationStatus: renderStatuses(statuses[o.ID])}
		if r.Plans == nil {
			r.Plans = []Plan{}
		}
		if public {
			yes, no := true, false
			r.UserHasConsent, r.IsAccessible, r.PromotionCampaigns = &no, &yes, &[]any{}
			r.IntegrationStatus = nil
		}
		if cu := customers[o.CustomerID]; cu != nil {
			r.Customer, r.CustomerUUID, r.CustomerName = strp(rest.URL(c, "customers", cu.UUID)), strp(cu.UUID.String()), strp(cu.Name)
		}
		if ca := cats[o.CategoryID]; ca != nil {
			r.Category, r.CategoryUUID, r.CategoryTitle = rest.URL(c, colCats, ca.UUID), ca.UUID.String(), ca.Title
		}
		for j := range comps[o.ID] {
			r.Components = append(r.Components, renderComponent(&comps[o.ID][j]))
		}
		r.BillingTypeClassification = billingTypeClassification(comps[o.ID])
		if !public {
			r.BackendIDRules = map[string]any{}
			ok, err := m.canUpdate(c, o)
			if err != nil {
				return nil, err
			}
			if ok {
				r.SecretOptions = o.SecretOptions.OrEmpty()
			}
		}
		out[i] = r
	}
	return out, nil
}

// billingTypeClassification classifies an offering by its components'
// billing types: limit_only or usage_only when every component is billed
// so, mixed otherwise (no components too).
func billingTypeClassification(comps []store.OfferingComponent) string {
	limits, usages := 0, 0
	for i := range comps {
		switch comps[i].BillingType {
		case models.BillingLimit:
			limits++
		case models.BillingUsage:
			usages++
		}
	}
	switch {
	case len(comps) > 0 && limits == len(comps):
		return "limit_only"
	case len(comps) > 0 && usages == len(comps):
		return "usage_only"
	}
	return "mixed"
}

// IntegrationStatus is the OpenAPI IntegrationStatus shape: whether the
// offering's site agent is heard from, per agent type.
type IntegrationStatus struct {
	AgentType            string     `json:"agent_type"`
	Status               string     `json:"status"`
	LastRequestTimestamp *time.Time `json:"last_request_timestamp"`
	ServiceName          string     `json:"service_name"`
}

func renderStatuses(ss []store.IntegrationStatus) []IntegrationStatus {
	out := make([]IntegrationStatus, len(ss))
	for i, s := range ss {
		out[i] = IntegrationStatus{AgentType: string(s.AgentType), Status: string(s.Status), LastRequestTimestamp: s.LastRequestTimestamp,
			ServiceName: s.ServiceName}
	}
	return out
}

var offeringSpec = rest.ListSpec{
	Ordering: map[string]string{
		"name": "offerings.name", "created": "offerings.created", "type": "offerings.type",
		"state": "offerings.state", "customer_name": "offerings.customer_id",
	},
	DefaultOrdering: []string{"name"},
	TieBreaker:      "offerings.id",
}

// listOfferings godoc
// @Summary List provider offerings
// @Tags marketplace-provider-offerings
// @Success 200 {array} Offering
// @Router /api/marketplace-provider-offerings/ [get]
func (m *Module) listOfferings(c *gin.Context) error {
	f, err := offeringFilter(c)
	if err != nil {
		return err
	}
	q, err := m.st.ProviderOfferingsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, offeringSpec, func(rows []store.Offering) ([]Offering, error) {
		return m.renderOfferings(c, rows, false)
	})
}

// getOffering godoc
// @Summary Retrieve a provider offering
// @Tags marketplace-provider-offerings
// @Param uuid path string true "UUID"
// @Success 200 {object} Offering
// @Router /api/marketplace-provider-offerings/{uuid}/ [get]
func (m *Module) getOffering(c *gin.Context) error {
	o, err := m.visibleOffering(c, m.st.VisibleProviderOffering)
	if err != nil {
		return err
	}
	return m.renderOne(c, http.StatusOK, o, false)
}

func (m *Module) renderOne(c *gin.Context, status int, o *store.Offering, public bool) error {
	out, err := m.renderOfferings(c, []store.Offering{*o}, public)
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

var (
	componentTypeRe = regexp.MustCompile(`^[a-zA-Z0-9_\-/:]+$`)
	billingTypes    = map[string]bool{"fixed": true, "usage": true, "limit": true, "one": true, "few": true}
	limitPeriods    = map[string]bool{"month": true, "quarterly": true, "annual": true, "total": true}
	planUnits       = map[string]bool{"month": true, "quarter": true, "half_month": true, "day": true, "hour": true, "quantity": true}
	maxPrice        = decimal.New(1, 12).Sub(decimal.New(1, -10))
)

// readComponent reads an OfferingComponentRequest; messages go to report.
func readComponent(f *form.Form) (store.OfferingComponent, bool) {
	var cp store.OfferingComponent
	t, _ := f.RequireStr("type", 50)
	if t != "" && !componentTypeRe.MatchString(t) {
		f.Fail("type", "Enter a valid value.")
	}
	cp.Type = t
	cp.Name, _ = f.RequireStr("name", 150)
	if !f.Has("billing_type") {
		f.Fail("billing_type", form.MsgRequired)
	} else if bt, ok := f.Choice("billing_type", billingTypes, false); ok {
		cp.BillingType = models.BillingType(bt)
	}
	cp.Description, _ = f.Str("description", 4096, true)
	cp.MeasuredUnit, _ = f.Str("measured_unit", 30, true)
	cp.ArticleCode, _ = f.Str("article_code", 30, true)
	if f.Has("limit_period") && !f.IsNull("limit_period") {
		if lp, ok := f.Choice("limit_period", limitPeriods, true); ok && lp != "" {
			cp.LimitPeriod = &lp
		}
	}
	cp.LimitAmount, _ = intField(f, "limit_amount", math.MinInt32, math.MaxInt32, true)
	cp.MinValue, _ = intField(f, "min_value", 0, math.MaxInt32, true)
	cp.MaxValue, _ = intField(f, "max_value", 0, math.MaxInt32, true)
	cp.MaxAvailableLimit, _ = intField(f, "max_available_limit", 0, math.MaxInt32, true)
	cp.DefaultLimit, _ = intField(f, "default_limit", 0, math.MaxInt32, true)
	cp.IsBoolean, _ = f.Bool("is_boolean")
	if uf, ok := intField(f, "unit_factor", 1, math.MaxInt32, false); ok && uf != nil {
		cp.UnitFactor = decimal.NewFromInt(*uf)
	}
	if cp.MinValue != nil && cp.MaxValue != nil && *cp.MinValue > *cp.MaxValue {
		f.Fail("min_value", "Minimal value must not exceed maximal value.")
	}
	return cp, f.Err() == nil
}

// readPlan reads a plan of a create body (BaseProviderPlanRequest plus
// prices and quotas by component type).
func readPlan(f *form.Form, requireName bool) store.NewPlan {
	var np store.NewPlan
	if requireName {
		np.Plan.Name, _ = f.RequireStr("name", 150)
	} else {
		np.Plan.Name, _ = f.Str("name", 150, false)
	}
	np.Plan.Description, _ = f.Text("description")
	np.Plan.ArticleCode, _ = f.Str("article_code", 30, true)
	np.Plan.BackendID, _ = f.Str("backend_id", 255, true)
	if u, ok := f.Choice("unit", planUnits, false); ok {
		np.Plan.Unit = u
	}
	if raw, ok := f.Raw("unit_price"); ok && bytes.ContainsAny(raw, "eE") {
		// An exponent makes the decimal arithmetic of form.Decimal huge
		// (1e-999999999); Waldur's prices never need one.
		f.Fail("unit_price", form.MsgNumber)
	} else if ok {
		np.Plan.UnitPrice, _ = f.Decimal("unit_price", 22, 7, decimal.Zero, maxPrice)
	}
	np.Plan.MaxAmount, _ = intField(f, "max_amount", 1, math.MaxInt32, true)
	np.Plan.Archived, _ = f.Bool("archived")
	if prices, ok := object(f, "prices", false); ok {
		np.Prices = map[string]decimal.Decimal{}
		for t, v := range prices {
			d, ok := decimalOf(v)
			if !ok || d.IsNegative() || d.GreaterThan(maxPrice) {
				f.Fail("prices", fmt.Sprintf("%s: A valid non-negative number is required.", t))
				continue
			}
			np.Prices[t] = d
		}
	}
	if quotas, ok := object(f, "quotas", false); ok {
		np.Quotas = map[string]int64{}
		for t, v := range quotas {
			n, ok := v.(int64)
			if !ok || n < 0 {
				f.Fail("quotas", fmt.Sprintf("%s: A valid non-negative integer is required.", t))
				continue
			}
			np.Quotas[t] = n
		}
	}
	return np
}

// decimalOf reads a price: a JSON number or a decimal string.
func decimalOf(v any) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case int64:
		return decimal.NewFromInt(x), true
	case float64:
		if math.Abs(x) > 1e13 || (x != 0 && math.Abs(x) < 1e-10) {
			return decimal.Zero, false
		}
		return decimal.NewFromFloat(x).Round(10), true
	case string:
		if len(x) > 40 || strings.ContainsAny(x, "eE") {
			return decimal.Zero, false
		}
		d, err := decimal.NewFromString(strings.TrimSpace(x))
		return d, err == nil
	}
	return decimal.Zero, false
}

// nested reads each item of a list field with read, recording an item's
// errors on the list field as "<index>.<field>: <message>".
func nested(f *form.Form, k string, read func(*form.Form)) {
	items, ok := f.ObjList(k, false)
	if !ok {
		return
	}
	for i, it := range items {
		read(it)
		for fk, msgs := range it.Errors() {
			for _, msg := range msgs {
				f.Fail(k, fmt.Sprintf("%d.%s: %s", i, fk, msg))
			}
		}
	}
}

var slugRe = regexp.MustCompile(`[^a-z0-9]+`)

func slugify(name string) string {
	s := strings.Trim(slugRe.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 50 {
		s = strings.Trim(s[:50], "-")
	}
	if s == "" {
		s = "offering"
	}
	return s
}

// createOffering godoc
// @Summary Create an offering (OFFERING.CREATE on a service provider's customer)
// @Tags marketplace-provider-offerings
// @Success 201 {object} Offering
// @Router /api/marketplace-provider-offerings/ [post]
func (m *Module) createOffering(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	in := store.NewOffering{}
	o := &in.Offering
	o.Name, _ = f.RequireStr("name", 150)
	o.Type, _ = f.RequireStr("type", 100)
	o.Description, _ = f.Text("description")
	o.FullDescription, _ = f.Text("full_description")
	o.BackendID, _ = f.Str("backend_id", 255, true)
	o.Shared, o.Billable = true, true
	if v, ok := f.Bool("shared"); ok {
		o.Shared = v
	}
	if v, ok := f.Bool("billable"); ok {
		o.Billable = v
	}
	catID, catOK := f.Ref("category", colCats, false, true)
	cuID, cuOK := f.Ref("customer", "customers", false, true)
	for k, dst := range map[string]*store.JSONObject{"plugin_options": &o.PluginOptions, "secret_options": &o.SecretOptions,
		"attributes": &o.Attributes, "backend_metadata": &o.BackendMetadata} {
		if v, ok := object(f, k, true); ok {
			*dst = v
		}
	}
	for k, dst := range map[string]*store.JSONObject{"options": &o.Options, "resource_options": &o.ResourceOptions} {
		if v, ok := optionsObject(f, k); ok {
			*dst = v
		}
	}
	nested(f, "components", func(it *form.Form) {
		cp, _ := readComponent(it)
		in.Components = append(in.Components, cp)
	})
	seen := map[string]bool{}
	for _, cp := range in.Components {
		if cp.Type != "" && seen[cp.Type] {
			f.Fail("components", fmt.Sprintf("Component type %q is not unique.", cp.Type))
		}
		seen[cp.Type] = true
	}
	nested(f, "plans", func(it *form.Form) { in.Plans = append(in.Plans, readPlan(it, true)) })
	for _, p := range in.Plans {
		for t := range p.Prices {
			if !seen[t] {
				f.Fail("plans", fmt.Sprintf("Component %q does not exist.", t))
			}
		}
		for t := range p.Quotas {
			if !seen[t] {
				f.Fail("plans", fmt.Sprintf("Component %q does not exist.", t))
			}
		}
	}
	if catOK {
		if o.CategoryID, err = m.st.CategoryIDByUUID(c.Request.Context(), catID); err != nil {
			return err
		} else if o.CategoryID == 0 {
			f.Fail("category", msgNoObject)
		}
	}
	var cu models.Customer
	if cuOK {
		found, err := m.st.CustomerByUUID(c.Request.Context(), cuID)
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
	ctx := c.Request.Context()
	if err := m.rbac.Require(ctx, api.CurrentUser(c), "OFFERING.CREATE", cu.Scope()); err != nil {
		return err
	}
	if ok, err := m.st.IsServiceProvider(ctx, cu.ID); err != nil {
		return err
	} else if !ok {
		return models.FieldError("customer", "Service provider is not registered for this organization.")
	}
	o.CustomerID, o.Slug = cu.ID, slugify(o.Name)
	if err := m.st.CreateOffering(ctx, &in); err != nil {
		return err
	}
	return m.renderOne(c, http.StatusCreated, o, false)
}

// deleteOffering godoc
// @Summary Delete an offering (staff; others only a Draft one without resources, with OFFERING.DELETE)
// @Tags marketplace-provider-offerings
// @Success 204
// @Router /api/marketplace-provider-offerings/{uuid}/ [delete]
func (m *Module) deleteOffering(c *gin.Context) error {
	o, err := m.visibleOffering(c, m.st.VisibleProviderOffering)
	if err != nil {
		return err
	}
	u := api.CurrentUser(c)
	if !u.IsStaff {
		if err := m.requireOfferingCustomer(c, o, "OFFERING.DELETE"); err != nil {
			return err
		}
	}
	if err := m.st.DeleteOffering(c.Request.Context(), o, u.IsStaff); err != nil {
		return err
	}
	return api.NoContent(c)
}

var actionPerms = map[string]models.Permission{
	"activate": "OFFERING.CREATE", "draft": "OFFERING.CREATE", "pause": "OFFERING.PAUSE",
	"unpause": "OFFERING.UNPAUSE", "archive": "OFFERING.ARCHIVE",
}

var actionDone = map[string]string{
	"activate": "Offering has been activated.", "draft": "Offering has been moved to draft.",
	"pause": "Offering has been paused.", "unpause": "Offering has been unpaused.", "archive": "Offering has been archived.",
}

// stateAction serves activate, pause, unpause, archive and draft: 200
// {"detail", "state"}, 409 "Valid states for operation: …" in a wrong state.
func (m *Module) stateAction(action string) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.visibleOffering(c, m.st.VisibleProviderOffering)
		if err != nil {
			return err
		}
		if err := m.requireOffering(c, o, actionPerms[action]); err != nil {
			return err
		}
		reason := ""
		if action == "pause" {
			f, err := form.Read(c)
			if err != nil {
				return err
			}
			reason, _ = f.Text("paused_reason")
			if err := f.Err(); err != nil {
				return err
			}
		}
		o, err = m.st.OfferingAction(c.Request.Context(), o.UUID, action, reason)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"detail": actionDone[action], "state": string(o.State)})
		return nil
	}
}

// updateWith checks perm, reads the body with read (which returns the
// columns to change) and updates the offering: 200 with no body.
func (m *Module) updateWith(c *gin.Context, perm models.Permission, read func(*form.Form, *store.Offering) map[string]any) error {
	return m.updateChecked(c, func(o *store.Offering) error { return m.requireOffering(c, o, perm) }, read)
}

// updateChecked is updateWith with its own permission check.
func (m *Module) updateChecked(c *gin.Context, check func(*store.Offering) error, read func(*form.Form, *store.Offering) map[string]any) error {
	o, err := m.visibleOffering(c, m.st.VisibleProviderOffering)
	if err != nil {
		return err
	}
	if err := check(o); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	fields := read(f, o)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.st.UpdateOffering(c.Request.Context(), o, fields); err != nil {
		return err
	}
	c.Status(http.StatusOK)
	return nil
}

// updateDescription godoc
// @Summary Move the offering to another category (OFFERING.UPDATE_DESCRIPTION)
// @Tags marketplace-provider-offerings
// @Success 200
// @Router /api/marketplace-provider-offerings/{uuid}/update_description/ [post]
func (m *Module) updateDescription(c *gin.Context) error {
	return m.updateWith(c, "OFFERING.UPDATE_DESCRIPTION", func(f *form.Form, _ *store.Offering) map[string]any {
		fields := map[string]any{}
		if id, ok := f.Ref("category", colCats, false, true); ok {
			catID, err := m.st.CategoryIDByUUID(c.Request.Context(), id)
			if err != nil || catID == 0 {
				f.Fail("category", msgNoObject)
			} else {
				fields["category_id"] = catID
			}
		}
		return fields
	})
}

// canUpdateOffering is Waldur's can_update_offering (update_overview): staff
// always; others only a Draft offering, with OFFERING.UPDATE on it or its
// customer. Anything else is a 403.
func (m *Module) canUpdateOffering(c *gin.Context, o *store.Offering) error {
	if u := api.CurrentUser(c); u != nil && u.IsStaff {
		return nil
	}
	if o.State != models.OfferingDraft {
		return api.Forbidden()
	}
	return m.requireOffering(c, o, "OFFERING.UPDATE")
}

// updateOverview godoc
// @Summary Update the offering's name and texts (staff; OFFERING.UPDATE on a Draft offering)
// @Tags marketplace-provider-offerings
// @Success 200
// @Router /api/marketplace-provider-offerings/{uuid}/update_overview/ [post]
func (m *Module) updateOverview(c *gin.Context) error {
	check := func(o *store.Offering) error { return m.canUpdateOffering(c, o) }
	return m.updateChecked(c, check, func(f *form.Form, _ *store.Offering) map[string]any {
		fields := map[string]any{}
		if v, ok := f.RequireStr("name", 150); ok {
			fields["name"] = v
		}
		if v, ok := f.Text("description"); ok {
			fields["description"] = v
		}
		if v, ok := f.Text("full_description"); ok {
			fields["full_description"] = v
		}
		if f.Has("slug") {
			if v, ok := f.Slug("slug", 50); ok {
				fields["slug"] = v
			}
		}
		return fields
	})
}

// updateOptions serves update_options and update_resource_options
// (OFFERING.UPDATE_OPTIONS): {key: {order, options}}.
func (m *Module) updateOptions(key string) api.Handler {
	return func(c *gin.Context) error {
		return m.updateWith(c, "OFFERING.UPDATE_OPTIONS", func(f *form.Form, _ *store.Offering) map[string]any {
			if !f.Require(key) {
				return nil
			}
			v, ok := optionsObject(f, key)
			if !ok {
				return nil
			}
			return map[string]any{key: store.JSONObject(v)}
		})
	}
}

// updateIntegration godoc
// @Summary Update plugin and secret options, backend id (OFFERING.UPDATE_INTEGRATION)
// @Tags marketplace-provider-offerings
// @Success 200
// @Router /api/marketplace-provider-offerings/{uuid}/update_integration/ [post]
func (m *Module) updateIntegration(c *gin.Context) error {
	return m.updateWith(c, "OFFERING.UPDATE_INTEGRATION", func(f *form.Form, _ *store.Offering) map[string]any {
		fields := map[string]any{}
		for _, k := range []string{"plugin_options", "secret_options"} {
			if v, ok := object(f, k, true); ok {
				fields[k] = store.JSONObject(v)
			}
		}
		if v, ok := f.Str("backend_id", 255, true); ok {
			fields["backend_id"] = v
		}
		return fields
	})
}

// updateAttributes godoc
// @Summary Replace the offering's attributes (OFFERING.UPDATE_ATTRIBUTES); the body is the attributes object
// @Tags marketplace-provider-offerings
// @Success 200
// @Router /api/marketplace-provider-offerings/{uuid}/update_attributes/ [post]
func (m *Module) updateAttributes(c *gin.Context) error {
	o, err := m.visibleOffering(c, m.st.VisibleProviderOffering)
	if err != nil {
		return err
	}
	if err := m.requireOffering(c, o, "OFFERING.UPDATE_ATTRIBUTES"); err != nil {
		return err
	}
	var attrs map[string]any
	d := json.NewDecoder(io.LimitReader(c.Request.Body, form.MaxBody))
	d.UseNumber()
	if err := d.Decode(&attrs); err != nil || attrs == nil {
		return models.Errorf(models.CodeInvalid, "Invalid data. Expected a dictionary.")
	}
	if err := m.st.UpdateOffering(c.Request.Context(), o, map[string]any{"attributes": store.JSONObject(normalize(attrs).(map[string]any))}); err != nil {
		return err
	}
	c.Status(http.StatusOK)
	return nil
}

func (m *Module) componentAction(c *gin.Context, status int, do func(*store.Offering, *form.Form) (any, error)) error {
	o, err := m.visibleOffering(c, m.st.VisibleProviderOffering)
	if err != nil {
		return err
	}
	if err := m.requireOffering(c, o, "OFFERING.UPDATE_COMPONENTS"); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	out, err := do(o, f)
	if err != nil {
		return err
	}
	if out == nil {
		c.Status(status)
		return nil
	}
	c.JSON(status, out)
	return nil
}

// createComponent godoc
// @Summary Add a component (OFFERING.UPDATE_COMPONENTS)
// @Tags marketplace-provider-offerings
// @Success 201 {object} Component
// @Router /api/marketplace-provider-offerings/{uuid}/create_offering_component/ [post]
func (m *Module) createComponent(c *gin.Context) error {
	return m.componentAction(c, http.StatusCreated, func(o *store.Offering, f *form.Form) (any, error) {
		cp, _ := readComponent(f)
		if err := f.Err(); err != nil {
			return nil, err
		}
		if err := m.st.CreateComponent(c.Request.Context(), o, &cp); err != nil {
			return nil, err
		}
		return renderComponent(&cp), nil
	})
}

// updateComponent godoc
// @Summary Change a component, named by uuid (OFFERING.UPDATE_COMPONENTS)
// @Tags marketplace-provider-offerings
// @Success 200
// @Router /api/marketplace-provider-offerings/{uuid}/update_offering_component/ [post]
func (m *Module) updateComponent(c *gin.Context) error {
	return m.componentAction(c, http.StatusOK, func(o *store.Offering, f *form.Form) (any, error) {
		id, _ := f.UUID("uuid")
		if !f.Has("uuid") {
			f.Fail("uuid", form.MsgRequired)
		}
		cp, _ := readComponent(f)
		if err := f.Err(); err != nil {
			return nil, err
		}
		cp.UUID = id
		if err := m.st.UpdateComponent(c.Request.Context(), o, &cp); err != nil {
			if models.IsCode(err, models.CodeNotFound) {
				return nil, models.FieldError("uuid", "Offering component does not exist.")
			}
			return nil, err
		}
		return nil, nil
	})
}

// removeComponent godoc
// @Summary Remove a component, named by uuid (OFFERING.UPDATE_COMPONENTS)
// @Tags marketplace-provider-offerings
// @Success 200
// @Router /api/marketplace-provider-offerings/{uuid}/remove_offering_component/ [post]
func (m *Module) removeComponent(c *gin.Context) error {
	return m.componentAction(c, http.StatusOK, func(o *store.Offering, f *form.Form) (any, error) {
		if !f.Require("uuid") {
			return nil, f.Err()
		}
		id, _ := f.UUID("uuid")
		if err := f.Err(); err != nil {
			return nil, err
		}
		if err := m.st.RemoveComponent(c.Request.Context(), o, id); err != nil {
			if models.IsCode(err, models.CodeNotFound) {
				return nil, models.FieldError("uuid", "Offering component does not exist.")
			}
			return nil, err
		}
		return nil, nil
	})
}

// intField is form.Int refusing numbers written with an exponent: the
// shared form reader's integer check expands 1e999999999 into a huge
// big.Int and never returns.
func intField(f *form.Form, k string, lo, hi int64, nullable bool) (*int64, bool) {
	if raw, ok := f.Raw(k); ok && bytes.ContainsAny(raw, "eE") && !f.IsNull(k) {
		if s := string(bytes.TrimSpace(raw)); !strings.HasPrefix(s, "\"") || strings.ContainsAny(s, "0123456789") {
			f.Fail(k, form.MsgInteger)
			return nil, false
		}
	}
	return f.Int(k, lo, hi, nullable)
}
