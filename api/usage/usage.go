// Package usage serves what service providers report about consumption:
// component usages (/api/marketplace-component-usages/, with set_usage,
// set_user_usage and set_user_usages), per-user usages
// (/api/marketplace-component-user-usages/) and per-user usage limits
// (/api/component-user-usage-limits/, always empty here: no limits are
// kept per user yet).
//
// Reads show the usages of resources the caller sees from either side
// (their projects and customers, or the offerings they provide); reports
// need RESOURCE.SET_USAGE on the resource's offering or its customer
// (service provider owners and managers, offering managers, staff).
package usage

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the usage endpoints need.
type Deps struct {
	Store *store.Store
	RBAC  *rbac.Checker
	Now   func() time.Time
}

// Module registers the usage routes (an api.Module).
type Module struct {
	st   *store.Store
	rbac *rbac.Checker
	now  func() time.Time
}

var _ api.Module = (*Module)(nil)

// New returns the usage module.
func New(d Deps) *Module {
	m := &Module{st: d.Store, rbac: d.RBAC, now: d.Now}
	if m.now == nil {
		m.now = func() time.Time { return time.Now().UTC() }
	}
	return m
}

const permSetUsage models.Permission = "RESOURCE.SET_USAGE"

// Routes implements api.Module.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}
	u := a.Group("/marketplace-component-usages", api.RequireUser)
	u.Match(get, "/", api.H(m.listUsages))
	u.POST("/set_usage/", api.H(m.setUsage))
	u.Match(get, "/:uuid/", api.H(m.getUsage))
	u.POST("/:uuid/set_user_usage/", api.H(m.setUserUsage(false)))
	u.POST("/:uuid/set_user_usages/", api.H(m.setUserUsage(true)))

	uu := a.Group("/marketplace-component-user-usages", api.RequireUser)
	uu.Match(get, "/", api.H(m.listUserUsages))
	uu.Match(get, "/:uuid/", api.H(m.getUserUsage))

	l := a.Group("/component-user-usage-limits", api.RequireUser)
	l.Match(get, "/", api.H(m.listUserUsageLimits))
}

// ComponentUsage is the OpenAPI ComponentUsage shape. Usage is rendered as
// an exact decimal number: the schema types it integer, but reported
// usages have two decimal places (0.50 CPU hours).
type ComponentUsage struct {
	UUID          models.UUID `json:"uuid"`
	Created       time.Time   `json:"created"`
	Description   string      `json:"description"`
	Type          string      `json:"type"`
	Name          string      `json:"name"`
	MeasuredUnit  string      `json:"measured_unit"`
	Usage         json.Number `json:"usage" swaggertype:"number"`
	Date          time.Time   `json:"date"`
	Recurring     bool        `json:"recurring"`
	ResourceName  string      `json:"resource_name"`
	ResourceUUID  models.UUID `json:"resource_uuid"`
	OfferingName  string      `json:"offering_name"`
	OfferingUUID  models.UUID `json:"offering_uuid"`
	ProjectName   string      `json:"project_name"`
	ProjectUUID   models.UUID `json:"project_uuid"`
	CustomerName  string      `json:"customer_name"`
	CustomerUUID  models.UUID `json:"customer_uuid"`
	BillingPeriod string      `json:"billing_period" example:"2026-11-01"`
	ModifiedBy    *int64      `json:"modified_by"`
}

func renderUsage(v *store.ComponentUsageView) ComponentUsage {
	return ComponentUsage{UUID: v.UUID, Created: v.Created, Description: v.Description, Type: v.Type, Name: v.Name,
		MeasuredUnit: v.MeasuredUnit, Usage: json.Number(v.Usage.String()), Date: v.Date, Recurring: v.Recurring, ResourceName: v.ResourceName,
		ResourceUUID: v.ResourceUUID, OfferingName: v.OfferingName, OfferingUUID: v.OfferingUUID, ProjectName: v.ProjectName,
		ProjectUUID: v.ProjectUUID, CustomerName: v.CustomerName, CustomerUUID: v.CustomerUUID,
		BillingPeriod: v.BillingPeriod.Format("2006-01-02"), ModifiedBy: v.ModifiedByID}
}

var usageListSpec = rest.ListSpec{
	Ordering:        map[string]string{"date": "cu.date", "billing_period": "cu.billing_period", "created": "cu.created", "type": "oc.type"},
	DefaultOrdering: []string{"-date"},
	TieBreaker:      "cu.id",
}

// usageFilter reads the filters both usage lists share; periodKey names
// the billing period filter.
func usageFilter(c *gin.Context, periodKey string) (store.UsageFilter, error) {
	var f store.UsageFilter
	for key, dst := range map[string]*[]models.UUID{"resource_uuid": &f.ResourceUUIDs, "offering_uuid": &f.OfferingUUIDs,
		"project_uuid": &f.ProjectUUIDs, "customer_uuid": &f.CustomerUUIDs} {
		ids, err := rest.UUIDs(c, key)
		if err != nil {
			return f, err
		}
		*dst = ids
	}
	if v := rest.Last(c, "resource"); v != "" {
		id, err := rest.ParseRef("resource", v, "marketplace-resources")
		if err != nil {
			return f, err
		}
		f.Resource = &id
	}
	f.Types = rest.Values(c, "type")
	if v := rest.Last(c, periodKey); v != "" {
		t, err := parseDay(periodKey, v)
		if err != nil {
			return f, err
		}
		f.BillingPeriod = &t
	}
	year, month := rest.Last(c, "billing_period_year"), rest.Last(c, "billing_period_month")
	if year != "" || month != "" {
		var y, mo int
		if _, err := fmt.Sscanf(year+" "+month, "%d %d", &y, &mo); err != nil || mo < 1 || mo > 12 {
			return f, models.FieldError("billing_period_month", "Enter billing_period_year and billing_period_month as numbers.")
		}
		f.PeriodYear, f.PeriodMonth = &y, &mo
	}
	for key, dst := range map[string]**time.Time{"date_after": &f.DateAfter, "date_before": &f.DateBefore} {
		if v := rest.Last(c, key); v != "" {
			t, err := parseDay(key, v)
			if err != nil {
				return f, err
			}
			*dst = &t
		}
	}
	return f, nil
}

func parseDay(key, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, models.FieldError(key, "Enter a valid date.")
}

// @Summary	List component usages
// @Tags		marketplace-component-usages
// @Param		resource_uuid	query	string	false	"Resource"
// @Param		offering_uuid	query	string	false	"Offering"
// @Param		billing_period	query	string	false	"Billing period (first day of the month, YYYY-MM-DD)"
// @Param		date_after		query	string	false	"Reported on or after (YYYY-MM-DD)"
// @Param		date_before		query	string	false	"Reported on or before (YYYY-MM-DD)"
// @Param		type			query	string	false	"Component type"
// @Success	200	{array}	ComponentUsage
// @Router		/api/marketplace-component-usages/ [get]
func (m *Module) listUsages(c *gin.Context) error {
	f, err := usageFilter(c, "billing_period")
	if err != nil {
		return err
	}
	q, err := m.st.ComponentUsagesQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, usageListSpec, func(v *store.ComponentUsageView) ComponentUsage { return renderUsage(v) })
}

// visibleUsage loads the component usage of the path if the caller sees it.
func (m *Module) visibleUsage(c *gin.Context) (*store.ComponentUsageView, error) {
	id, err := api.PathUUID(c, "ComponentUsage")
	if err != nil {
		return nil, err
	}
	f, err := usageFilter(c, "billing_period")
	if err != nil {
		return nil, err
	}
	v, err := m.st.VisibleComponentUsage(c.Request.Context(), id, f)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, api.NotFound("ComponentUsage")
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// @Summary	Retrieve a component usage
// @Tags		marketplace-component-usages
// @Param		uuid	path	string	true	"Component usage UUID"
// @Success	200	{object}	ComponentUsage
// @Router		/api/marketplace-component-usages/{uuid}/ [get]
func (m *Module) getUsage(c *gin.Context) error {
	v, err := m.visibleUsage(c)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderUsage(v))
}

// requireSetUsage checks RESOURCE.SET_USAGE on the resource's offering or its customer.
func (m *Module) requireSetUsage(c *gin.Context, offeringID, offeringCustomerID int64) error {
	return m.rbac.Require(c.Request.Context(), api.CurrentUser(c), permSetUsage,
		models.Scope{Type: models.ScopeOffering, ID: offeringID}, models.Scope{Type: models.ScopeCustomer, ID: offeringCustomerID})
}

// @Summary	Report usage of a resource
// @Description	One upsert per component for the billing period of date (default: now): a second report for the same
// @Description	period replaces the first. Answers 201 with no body.
// @Tags		marketplace-component-usages
// @Accept		json
// @Success	201
// @Router		/api/marketplace-component-usages/set_usage/ [post]
func (m *Module) setUsage(c *gin.Context) error {
	ctx := c.Request.Context()
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	var in store.SetUsageInput
	if f.Has("plan_period") && !f.IsNull("plan_period") {
		id, ok := f.UUID("plan_period")
		if ok {
			in.PlanPeriodUUID = &id
		}
	} else {
		in.ResourceUUID, _ = f.UUID("resource")
		if !f.Has("resource") {
			f.Fail("resource", form.MsgRequired)
		}
	}
	if d, ok := f.Datetime("date", true, false); ok && d != nil {
		in.Date = d.UTC()
	}
	items, _ := f.ObjList("usages", true)
	for i, it := range items {
		typ, _ := it.RequireStr("type", 100)
		if !it.Has("amount") {
			it.Fail("amount", form.MsgRequired)
		}
		amount, _ := it.Decimal("amount", 20, 2, decimal.Zero, decimal.New(1, 18))
		desc, _ := it.Str("description", 1000, true)
		rec, _ := it.Bool("recurring")
		if errs := it.Errors(); len(errs) > 0 {
			for k, msgs := range errs {
				f.Fail("usages", fmt.Sprintf("Item %d, %s: %s", i, k, strings.Join(msgs, " ")))
			}
			continue
		}
		in.Items = append(in.Items, store.UsageItem{Type: typ, Amount: amount, Description: desc, Recurring: rec})
	}
	if err := f.Err(); err != nil {
		return err
	}
	// Permission: on the resource's offering (the resource must be visible to the caller first).
	var rid models.UUID = in.ResourceUUID
	if in.PlanPeriodUUID != nil {
		if rid, err = m.st.PlanPeriodResource(ctx, *in.PlanPeriodUUID); err != nil {
			return err
		}
	}
	v, err := m.st.ResourceViewByUUID(ctx, rid)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return models.FieldError("resource", rest.MsgDoesNotExist)
		}
		return err
	}
	if err := m.requireSetUsage(c, v.OfferingID, v.OfferingCustomerID); err != nil {
		if models.IsCode(err, models.CodeForbidden) && !m.sees(c, v) {
			return models.FieldError("resource", rest.MsgDoesNotExist)
		}
		return err
	}
	u := api.CurrentUser(c)
	in.ModifiedBy = &u.ID
	if err := m.st.SetUsage(ctx, in); err != nil {
		return err
	}
	// The usage is billed at once; a failure here is logged (the hourly invoice refresh registers it too).
	period := in.Date
	if period.IsZero() {
		period = m.now()
	}
	if _, err := m.st.RegisterResource(ctx, rid, billing.MonthOf(period)); err != nil {
		slog.WarnContext(ctx, "billing registration after set_usage failed", "resource", rid.String(), "err", err)
	}
	c.Status(http.StatusCreated)
	return nil
}

// sees tells whether the caller sees a resource from either side (not on an error).
func (m *Module) sees(c *gin.Context, v *store.ResourceView) bool {
	ok, err := m.st.ResourceSeenFromEitherSide(c.Request.Context(), v)
	return err == nil && ok
}

// setUserUsage serves set_user_usage (one object) and set_user_usages ({usages: [...]}).
//
// @Summary	Report per-user usage of a component usage
// @Tags		marketplace-component-usages
// @Param		uuid	path	string	true	"Component usage UUID"
// @Accept		json
// @Success	201
// @Router		/api/marketplace-component-usages/{uuid}/set_user_usage/ [post]
// @Router		/api/marketplace-component-usages/{uuid}/set_user_usages/ [post]
func (m *Module) setUserUsage(bulk bool) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleUsage(c)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		forms := []*form.Form{f}
		if bulk {
			forms, _ = f.ObjList("usages", true)
		}
		var items []store.UserUsageInput
		for i, it := range forms {
			name, _ := it.RequireStr("username", 150)
			usage := decimal.Zero
			if it.Has("usage") {
				usage, _ = it.Decimal("usage", 20, 2, decimal.Zero, decimal.New(1, 18))
			}
			if errs := it.Errors(); len(errs) > 0 && it != f {
				for k, msgs := range errs {
					f.Fail("usages", fmt.Sprintf("Item %d, %s: %s", i, k, strings.Join(msgs, " ")))
				}
				continue
			}
			items = append(items, store.UserUsageInput{Username: name, Usage: usage})
		}
		if err := f.Err(); err != nil {
			return err
		}
		if err := m.requireSetUsage(c, v.OfferingID, v.OfferingCustomerID); err != nil {
			return err
		}
		if err := m.st.SetUserUsages(c.Request.Context(), v.UUID, items); err != nil {
			return err
		}
		c.Status(http.StatusCreated)
		return nil
	}
}

// ComponentUserUsage is the OpenAPI ComponentUserUsage shape (usage as in ComponentUsage).
type ComponentUserUsage struct {
	UUID           models.UUID `json:"uuid"`
	User           *string     `json:"user,omitempty"`
	Username       string      `json:"username"`
	ComponentUsage string      `json:"component_usage"`
	Usage          json.Number `json:"usage" swaggertype:"number"`
	MeasuredUnit   string      `json:"measured_unit"`
	Description    string      `json:"description"`
	Created        time.Time   `json:"created"`
	Modified       time.Time   `json:"modified"`
	BackendID      string      `json:"backend_id"`
	ResourceName   string      `json:"resource_name"`
	ResourceUUID   models.UUID `json:"resource_uuid"`
	OfferingName   string      `json:"offering_name"`
	OfferingUUID   models.UUID `json:"offering_uuid"`
	ProjectName    string      `json:"project_name"`
	ProjectUUID    models.UUID `json:"project_uuid"`
	CustomerName   string      `json:"customer_name"`
	CustomerUUID   models.UUID `json:"customer_uuid"`
	ComponentType  string      `json:"component_type"`
	Date           time.Time   `json:"date"`
	BillingPeriod  string      `json:"billing_period" example:"2026-11-01"`
}

func renderUserUsage(c *gin.Context, v *store.ComponentUserUsageView) ComponentUserUsage {
	out := ComponentUserUsage{UUID: v.UUID, Username: v.Username, ComponentUsage: rest.URL(c, "marketplace-component-usages", v.ComponentUsageUUID),
		Usage: json.Number(v.Usage.String()), MeasuredUnit: v.MeasuredUnit, Description: v.Description, Created: v.Created, Modified: v.Modified,
		BackendID: v.BackendID, ResourceName: v.ResourceName, ResourceUUID: v.ResourceUUID, OfferingName: v.OfferingName,
		OfferingUUID: v.OfferingUUID, ProjectName: v.ProjectName, ProjectUUID: v.ProjectUUID, CustomerName: v.CustomerName,
		CustomerUUID: v.CustomerUUID, ComponentType: v.ComponentType, Date: v.Date, BillingPeriod: v.BillingPeriod.Format("2006-01-02")}
	if v.UserUUID != nil {
		u := rest.URL(c, "users", *v.UserUUID)
		out.User = &u
	}
	return out
}

var userUsageListSpec = rest.ListSpec{
	Ordering:        map[string]string{"username": "uu.username", "created": "uu.created", "usage": "uu.usage"},
	DefaultOrdering: []string{"username"},
	TieBreaker:      "uu.id",
}

// @Summary	List per-user component usages
// @Tags		marketplace-component-user-usages
// @Param		resource_uuid						query	string	false	"Resource"
// @Param		component_usage__billing_period	query	string	false	"Billing period (YYYY-MM-DD)"
// @Param		username							query	string	false	"Username"
// @Success	200	{array}	ComponentUserUsage
// @Router		/api/marketplace-component-user-usages/ [get]
func (m *Module) listUserUsages(c *gin.Context) error {
	f, err := usageFilter(c, "component_usage__billing_period")
	if err != nil {
		return err
	}
	f.Username = rest.Last(c, "username")
	q, err := m.st.ComponentUserUsagesQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, userUsageListSpec, func(v *store.ComponentUserUsageView) ComponentUserUsage { return renderUserUsage(c, v) })
}

// @Summary	Retrieve a per-user component usage
// @Tags		marketplace-component-user-usages
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{object}	ComponentUserUsage
// @Router		/api/marketplace-component-user-usages/{uuid}/ [get]
func (m *Module) getUserUsage(c *gin.Context) error {
	id, err := api.PathUUID(c, "ComponentUserUsage")
	if err != nil {
		return err
	}
	f, err := usageFilter(c, "component_usage__billing_period")
	if err != nil {
		return err
	}
	v, err := m.st.VisibleComponentUserUsage(c.Request.Context(), id, f)
	if models.IsCode(err, models.CodeNotFound) {
		return api.NotFound("ComponentUserUsage")
	}
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderUserUsage(c, v))
}

// @Summary	List per-user usage limits
// @Description	Always empty: no usage limits are kept per user yet (Waldur's site agent reads this list and accepts it empty).
// @Tags		component-user-usage-limits
// @Success	200	{array}	object
// @Router		/api/component-user-usage-limits/ [get]
func (m *Module) listUserUsageLimits(c *gin.Context) error {
	if _, err := rest.UUIDs(c, "resource_uuid"); err != nil {
		return err
	}
	if _, err := rest.UUIDs(c, "offering_uuid"); err != nil {
		return err
	}
	c.Header("X-Result-Count", "0")
	c.JSON(http.StatusOK, []any{})
	return nil
}
