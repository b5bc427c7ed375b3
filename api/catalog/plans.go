package catalog

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// PlanComponent is Waldur's NestedPlanComponent: prices are decimal strings.
type PlanComponent struct {
	Type              string  `json:"type"`
	Name              string  `json:"name"`
	MeasuredUnit      string  `json:"measured_unit"`
	Amount            int64   `json:"amount"`
	Price             string  `json:"price" example:"1.0000000000"`
	FuturePrice       *string `json:"future_price"`
	DiscountThreshold *int64  `json:"discount_threshold"`
	DiscountRate      *int64  `json:"discount_rate"`
}

// Plan is Waldur's ProviderPlanDetails (BaseProviderPlan/BasePublicPlan
// without offering). unit_price is a decimal string; prices, future_prices
// and quotas map component types to numbers.
type Plan struct {
	URL                string             `json:"url"`
	UUID               models.UUID        `json:"uuid" swaggertype:"string"`
	Name               string             `json:"name"`
	Description        string             `json:"description"`
	ArticleCode        string             `json:"article_code"`
	MaxAmount          *int64             `json:"max_amount"`
	Archived           bool               `json:"archived"`
	IsActive           bool               `json:"is_active"`
	UnitPrice          string             `json:"unit_price" example:"10.0000000"`
	Unit               string             `json:"unit"`
	BackendID          string             `json:"backend_id"`
	Offering           string             `json:"offering,omitempty"`
	InitPrice          float64            `json:"init_price"`
	SwitchPrice        float64            `json:"switch_price"`
	MinimalPrice       float64            `json:"minimal_price"`
	OrganizationGroups []any              `json:"organization_groups"`
	Components         []PlanComponent    `json:"components"`
	Prices             map[string]float64 `json:"prices"`
	FuturePrices       map[string]float64 `json:"future_prices"`
	Quotas             map[string]float64 `json:"quotas"`
	ResourcesCount     int64              `json:"resources_count"`
	PlanType           string             `json:"plan_type"`
}

// renderPlans renders plans (comps: the components of their offerings, by
// offering id; loaded when nil). withOffering adds the offering URL.
func (m *Module) renderPlans(c *gin.Context, plans []store.Plan, comps map[int64][]store.OfferingComponent, withOffering bool) ([]Plan, error) {
	ctx := c.Request.Context()
	ids, oids := make([]int64, len(plans)), make([]int64, len(plans))
	for i := range plans {
		ids[i], oids[i] = plans[i].ID, plans[i].OfferingID
	}
	var err error
	if comps == nil {
		if comps, err = m.st.ComponentsOf(ctx, oids); err != nil {
			return nil, err
		}
	}
	pcs, err := m.st.PlanComponentsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	counts, err := m.st.PlanResourceCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	offeringURL := map[int64]string{}
	if withOffering && len(oids) > 0 {
		uuids, err := m.st.OfferingUUIDs(ctx, oids)
		if err != nil {
			return nil, err
		}
		for id, u := range uuids {
			offeringURL[id] = rest.URL(c, colOfferings, u)
		}
	}
	out := make([]Plan, len(plans))
	for i := range plans {
		p := &plans[i]
		byComp := map[int64]store.PlanComponent{}
		for _, pc := range pcs[p.ID] {
			byComp[pc.ComponentID] = pc
		}
		r := Plan{URL: rest.URL(c, colPlans, p.UUID), UUID: p.UUID, Name: p.Name, Description: p.Description,
			ArticleCode: p.ArticleCode, MaxAmount: p.MaxAmount, Archived: p.Archived, IsActive: !p.Archived,
			UnitPrice: p.UnitPrice.StringFixed(7), Unit: p.Unit, BackendID: p.BackendID, Offering: offeringURL[p.OfferingID],
			OrganizationGroups: []any{}, Components: []PlanComponent{}, Prices: map[string]float64{},
			FuturePrices: map[string]float64{}, Quotas: map[string]float64{}, ResourcesCount: counts[p.ID]}
		minimal := p.UnitPrice
		var init, sw decimal.Decimal
		types := map[models.BillingType]bool{}
		for _, cp := range comps[p.OfferingID] {
			pc := byComp[cp.ID]
			types[cp.BillingType] = true
			nc := PlanComponent{Type: cp.Type, Name: cp.Name, MeasuredUnit: cp.MeasuredUnit, Amount: pc.Amount,
				Price: pc.Price.StringFixed(10)}
			price, _ := pc.Price.Float64()
			r.Prices[cp.Type], r.Quotas[cp.Type] = price, float64(pc.Amount)
			if pc.FuturePrice != nil {
				fp, _ := pc.FuturePrice.Float64()
				nc.FuturePrice, r.FuturePrices[cp.Type] = strp(pc.FuturePrice.StringFixed(10)), fp
			}
			r.Components = append(r.Components, nc)
			switch cp.BillingType {
			case models.BillingFixed:
				minimal = minimal.Add(pc.Price.Mul(decimal.NewFromInt(pc.Amount)))
			case models.BillingOne:
				init = init.Add(pc.Price)
			case models.BillingFew:
				sw = sw.Add(pc.Price)
			}
		}
		r.MinimalPrice, _ = minimal.Float64()
		r.InitPrice, _ = init.Float64()
		r.SwitchPrice, _ = sw.Float64()
		switch {
		case len(types) == 0:
			r.PlanType = string(models.BillingFixed)
		case len(types) == 1:
			for t := range types {
				r.PlanType = string(t)
			}
		default:
			r.PlanType = "mixed"
		}
		out[i] = r
	}
	return out, nil
}

var planSpec = rest.ListSpec{
	Ordering:        map[string]string{"name": "plans.name", "created": "plans.created", "unit_price": "plans.unit_price"},
	DefaultOrdering: []string{"name"},
	TieBreaker:      "plans.id",
}

// listPlans godoc
// @Summary List plans (filters offering_uuid)
// @Tags marketplace-plans
// @Success 200 {array} Plan
// @Router /api/marketplace-plans/ [get]
func (m *Module) listPlans(c *gin.Context) error {
	var f store.PlanFilter
	var err error
	if f.OfferingUUIDs, err = rest.UUIDs(c, "offering_uuid"); err != nil {
		return err
	}
	if f.Offerings, err = rest.RefUUIDs(c, "offering"); err != nil {
		return err
	}
	f.OfferingSlug = rest.Last(c, "offering_slug")
	q, err := m.st.PlansQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, planSpec, func(rows []store.Plan) ([]Plan, error) {
		return m.renderPlans(c, rows, nil, true)
	})
}

// visiblePlan loads the plan of the path with its offering (404 when hidden).
func (m *Module) visiblePlan(c *gin.Context) (*store.Plan, *store.Offering, error) {
	id, err := api.PathUUID(c, "Plan")
	if err != nil {
		return nil, nil, err
	}
	return m.st.VisiblePlan(c.Request.Context(), id)
}

func (m *Module) renderPlan(c *gin.Context, status int, p *store.Plan) error {
	out, err := m.renderPlans(c, []store.Plan{*p}, nil, true)
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// getPlan godoc
// @Summary Retrieve a plan
// @Tags marketplace-plans
// @Success 200 {object} Plan
// @Router /api/marketplace-plans/{uuid}/ [get]
func (m *Module) getPlan(c *gin.Context) error {
	p, _, err := m.visiblePlan(c)
	if err != nil {
		return err
	}
	return m.renderPlan(c, http.StatusOK, p)
}

// createPlan godoc
// @Summary Create a plan of an offering (OFFERING.CREATE_PLAN)
// @Tags marketplace-plans
// @Success 201 {object} Plan
// @Router /api/marketplace-plans/ [post]
func (m *Module) createPlan(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	oid, ok := f.Ref("offering", colOfferings, false, true)
	np := readPlan(f, true)
	var o *store.Offering
	if ok {
		found, err := m.st.VisibleProviderOffering(c.Request.Context(), oid)
		switch {
		case models.IsCode(err, models.CodeNotFound):
			f.Fail("offering", msgNoObject)
		case err != nil:
			return err
		default:
			o = found
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.requireOfferingCustomer(c, o, "OFFERING.CREATE_PLAN"); err != nil {
		return err
	}
	if err := m.st.CreatePlan(c.Request.Context(), o, &np); err != nil {
		return err
	}
	return m.renderPlan(c, http.StatusCreated, &np.Plan)
}

// updatePlan godoc
// @Summary Update a plan (OFFERING.UPDATE_PLAN)
// @Tags marketplace-plans
// @Success 200 {object} Plan
// @Router /api/marketplace-plans/{uuid}/ [patch]
func (m *Module) updatePlan(c *gin.Context) error {
	p, o, err := m.visiblePlan(c)
	if err != nil {
		return err
	}
	if err := m.requireOfferingCustomer(c, o, "OFFERING.UPDATE_PLAN"); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	put := c.Request.Method == http.MethodPut
	np := readPlan(f, put)
	if f.Has("prices") || f.Has("quotas") {
		f.Fail("non_field_errors", "Use update_prices and update_quotas to change prices and quotas.")
	}
	if err := f.Err(); err != nil {
		return err
	}
	fields := map[string]any{}
	cols := map[string]any{"name": np.Plan.Name, "description": np.Plan.Description, "article_code": np.Plan.ArticleCode,
		"backend_id": np.Plan.BackendID, "unit": np.Plan.Unit, "unit_price": np.Plan.UnitPrice, "max_amount": np.Plan.MaxAmount}
	for k, v := range cols {
		if f.Has(k) {
			fields[k] = v
		}
	}
	if err := m.st.UpdatePlan(c.Request.Context(), o, p, fields); err != nil {
		return err
	}
	return m.renderPlan(c, http.StatusOK, p)
}

// archivePlan godoc
// @Summary Archive a plan (OFFERING.ARCHIVE_PLAN); an archived plan is a 409
// @Tags marketplace-plans
// @Success 200
// @Router /api/marketplace-plans/{uuid}/archive/ [post]
func (m *Module) archivePlan(c *gin.Context) error {
	p, o, err := m.visiblePlan(c)
	if err != nil {
		return err
	}
	if err := m.requireOfferingCustomer(c, o, "OFFERING.ARCHIVE_PLAN"); err != nil {
		return err
	}
	if p.Archived {
		return models.Errorf(models.CodeConflict, "Plan is already archived.")
	}
	if err := m.st.UpdatePlan(c.Request.Context(), o, p, map[string]any{"archived": true}); err != nil {
		return err
	}
	return detail(c, "Plan has been archived.")
}

// updatePlanComponents serves update_prices ({prices: {type: price}}) and
// update_quotas ({quotas: {type: amount}}) (OFFERING.UPDATE_PLAN).
func (m *Module) updatePlanComponents(field string) api.Handler {
	return func(c *gin.Context) error {
		p, o, err := m.visiblePlan(c)
		if err != nil {
			return err
		}
		if err := m.requireOfferingCustomer(c, o, "OFFERING.UPDATE_PLAN"); err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		if !f.Require(field) {
			return f.Err()
		}
		np := readPlan(f, false)
		if err := f.Err(); err != nil {
			return err
		}
		values := map[string]any{}
		for t, v := range np.Prices {
			values[t] = v
		}
		for t, v := range np.Quotas {
			values[t] = v
		}
		if err := m.st.SetPlanComponents(c.Request.Context(), o, p, field, values); err != nil {
			return err
		}
		return detail(c, "Plan has been updated.")
	}
}
