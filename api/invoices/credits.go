package invoices

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

// NestedOffering is an offering a credit is limited to.
type NestedOffering struct {
	UUID models.UUID `json:"uuid"`
	URL  string      `json:"url"`
	Type string      `json:"type"`
	Name string      `json:"name"`
}

// CustomerCredit is Waldur's CustomerCredit. minimal_consumption is what
// the credit consumes at least this month; allocated_to_projects Σ of the
// project credits; consumption_last_month what it compensated last month.
type CustomerCredit struct {
	UUID                      models.UUID      `json:"uuid"`
	URL                       string           `json:"url"`
	Value                     string           `json:"value" example:"1000.00"`
	Customer                  string           `json:"customer"`
	CustomerName              string           `json:"customer_name"`
	CustomerUUID              models.UUID      `json:"customer_uuid"`
	CustomerSlug              string           `json:"customer_slug"`
	Offerings                 []NestedOffering `json:"offerings"`
	EndDate                   *string          `json:"end_date" example:"2026-07-01"`
	ExpectedConsumption       string           `json:"expected_consumption" example:"100.00"`
	MinimalConsumption        float64          `json:"minimal_consumption"`
	MinimalConsumptionLogic   string           `json:"minimal_consumption_logic" enums:"fixed,linear"`
	GraceCoefficient          string           `json:"grace_coefficient" example:"10"`
	ApplyAsMinimalConsumption bool             `json:"apply_as_minimal_consumption"`
	AllocatedToProjects       float64          `json:"allocated_to_projects"`
	ConsumptionLastMonth      float64          `json:"consumption_last_month"`
}

// CreatedCustomerCredit is Waldur's CreateCustomerCredit (the answer of
// create and update): offerings as URLs.
type CreatedCustomerCredit struct {
	CustomerCredit
	Offerings []string `json:"offerings"`
}

// CustomerCreditRequest is the body of create and update.
type CustomerCreditRequest struct {
	Value                     string   `json:"value" example:"1000.00"`
	Customer                  string   `json:"customer"`
	Offerings                 []string `json:"offerings"`
	EndDate                   *string  `json:"end_date" example:"2026-07-01"`
	ExpectedConsumption       string   `json:"expected_consumption"`
	MinimalConsumptionLogic   string   `json:"minimal_consumption_logic" enums:"fixed,linear"`
	GraceCoefficient          string   `json:"grace_coefficient"`
	ApplyAsMinimalConsumption bool     `json:"apply_as_minimal_consumption"`
}

func dateOf(d *store.Date) *string {
	if d == nil {
		return nil
	}
	s := d.Format("2006-01-02")
	return &s
}

func (m *Module) renderCustomerCredits(c *gin.Context, rows []store.CustomerCreditView) ([]CustomerCredit, error) {
	var credits, customers []int64
	for _, r := range rows {
		credits, customers = append(credits, r.ID), append(customers, r.CustomerID)
	}
	ctx := c.Request.Context()
	offs, err := m.st.CreditOfferings(ctx, credits)
	if err != nil {
		return nil, err
	}
	sums, err := m.st.CreditSumsFor(ctx, customers, credits, m.now())
	if err != nil {
		return nil, err
	}
	out := make([]CustomerCredit, len(rows))
	for i := range rows {
		r := &rows[i]
		cc := CustomerCredit{UUID: r.UUID, URL: rest.URL(c, colCustomerCredits, r.UUID), Value: money(r.Value),
			Customer: rest.URL(c, "customers", r.CustomerUUID), CustomerName: r.CustomerName, CustomerUUID: r.CustomerUUID,
			CustomerSlug: r.CustomerSlug, Offerings: []NestedOffering{}, EndDate: dateOf(r.EndDate),
			ExpectedConsumption: money(r.ExpectedConsumption), MinimalConsumptionLogic: string(r.MinimalConsumptionLogic),
			GraceCoefficient: r.GraceCoefficient.StringFixed(0), ApplyAsMinimalConsumption: r.ApplyAsMinimalConsumption,
			MinimalConsumption:   float(r.Domain(nil).MinimalConsumption(m.now())),
			AllocatedToProjects:  float(sums.AllocatedToProjects[r.CustomerID]),
			ConsumptionLastMonth: float(sums.ConsumedLastMonth[r.ID])}
		for _, o := range offs[r.ID] {
			cc.Offerings = append(cc.Offerings, NestedOffering{UUID: o.UUID, URL: rest.URL(c, "marketplace-provider-offerings", o.UUID),
				Type: o.Type, Name: o.Name})
		}
		out[i] = cc
	}
	return out, nil
}

var creditListSpec = rest.ListSpec{
	Ordering: map[string]string{"customer_name": "c.name", "end_date": "customer_credits.end_date",
		"expected_consumption": "customer_credits.expected_consumption", "value": "customer_credits.value"},
	DefaultOrdering: []string{"customer_name"},
	TieBreaker:      "customer_credits.id",
}

// @Summary	List customer credits
// @Tags		customer-credits
// @Param		customer_uuid	query	string	false	"Customer"
// @Param		customer_name	query	string	false	"Customer name contains"
// @Param		customer_slug	query	string	false	"Customer slug"
// @Success	200	{array}	CustomerCredit
// @Router		/api/customer-credits/ [get]
func (m *Module) listCustomerCredits(c *gin.Context) error {
	ids, err := rest.UUIDs(c, "customer_uuid")
	if err != nil {
		return err
	}
	f := store.CustomerCreditFilter{CustomerUUIDs: ids, CustomerName: rest.Last(c, "customer_name"),
		CustomerSlug: rest.Last(c, "customer_slug")}
	q, err := m.st.CustomerCreditsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, creditListSpec, func(rows []store.CustomerCreditView) ([]CustomerCredit, error) {
		return m.renderCustomerCredits(c, rows)
	})
}

func (m *Module) visibleCustomerCredit(c *gin.Context) (*store.CustomerCreditView, error) {
	id, err := api.PathUUID(c, "CustomerCredit")
	if err != nil {
		return nil, err
	}
	v, err := m.st.VisibleCustomerCredit(c.Request.Context(), id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, api.NotFound("CustomerCredit")
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// @Summary	Retrieve a customer credit
// @Tags		customer-credits
// @Param		uuid	path	string	true	"Credit UUID"
// @Success	200	{object}	CustomerCredit
// @Router		/api/customer-credits/{uuid}/ [get]
func (m *Module) getCustomerCredit(c *gin.Context) error {
	v, err := m.visibleCustomerCredit(c)
	if err != nil {
		return err
	}
	out, err := m.renderCustomerCredits(c, []store.CustomerCreditView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, out[0])
}

// creditFields reads the fields credits share into the credit's columns.
func creditFields(f *form.Form, value, expected, grace *decimal.Decimal, end **store.Date, logic *billing.MinimalConsumptionLogic,
	apply *bool, partial bool) {
	money := decimal.New(1, 11)
	if f.Has("value") || !partial {
		if f.Has("value") {
			if d, ok := f.Decimal("value", 16, 5, decimal.Zero, money); ok {
				*value = d
			}
		}
	}
	if f.Has("expected_consumption") {
		if d, ok := f.Decimal("expected_consumption", 16, 5, decimal.Zero, money); ok {
			*expected = d
		}
	}
	if f.Has("grace_coefficient") {
		if d, ok := f.Decimal("grace_coefficient", 3, 0, decimal.Zero, decimal.NewFromInt(100)); ok {
			*grace = d
		}
	}
	if f.Has("end_date") {
		if t, ok := f.Date("end_date", true); ok {
			if t == nil {
				*end = nil
			} else if t.Day() != 1 {
				f.Fail("end_date", "End date must be the first day of the month.")
			} else {
				*end = &store.Date{Time: *t}
			}
		}
	}
	if f.Has("minimal_consumption_logic") {
		if s, ok := f.Choice("minimal_consumption_logic", map[string]bool{"fixed": true, "linear": true}, false); ok {
			*logic = billing.MinimalConsumptionLogic(s)
		}
	}
	if f.Has("apply_as_minimal_consumption") {
		if b, ok := f.Bool("apply_as_minimal_consumption"); ok {
			*apply = b
		}
	}
}

func (m *Module) saveCustomerCredit(c *gin.Context, cc *store.CustomerCredit, partial bool) error {
	ctx := c.Request.Context()
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	if cc.ID == 0 || !partial {
		f.Require("customer")
	}
	if f.Has("customer") {
		if id, ok := f.Ref("customer", "customers", false, true); ok {
			cust, err := m.st.CustomerByUUID(ctx, id)
			if err != nil {
				f.Fail("customer", rest.MsgDoesNotExist)
			} else if cc.ID != 0 && cust.ID != cc.CustomerID {
				f.Fail("customer", "The organization of a credit cannot change.")
			} else {
				cc.CustomerID = cust.ID
			}
		}
	}
	creditFields(f, &cc.Value, &cc.ExpectedConsumption, &cc.GraceCoefficient, &cc.EndDate, &cc.MinimalConsumptionLogic,
		&cc.ApplyAsMinimalConsumption, partial)
	var offerings []int64
	if f.Has("offerings") {
		refs, ok := f.StrList("offerings", false, form.Char{})
		if ok {
			uuids := make([]models.UUID, 0, len(refs))
			for _, r := range refs {
				id, err := rest.ParseRef("offerings", r, "marketplace-provider-offerings")
				if err != nil {
					if id2, err2 := rest.ParseRef("offerings", r, "marketplace-public-offerings"); err2 == nil {
						id, err = id2, nil
					}
				}
				if err != nil {
					f.Fail("offerings", rest.MsgDoesNotExist)
					break
				}
				uuids = append(uuids, id)
			}
			if !f.Failed("offerings") {
				if offerings, err = m.st.OfferingIDsByUUID(ctx, "offerings", uuids); err != nil {
					f.Fail("offerings", rest.MsgDoesNotExist)
				}
			}
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if f.Has("offerings") && offerings == nil {
		offerings = []int64{}
	}
	return m.st.SaveCustomerCredit(ctx, cc, offerings)
}

func (m *Module) renderCreated(c *gin.Context, status int, id models.UUID) error {
	v, err := m.st.CustomerCreditByUUID(c.Request.Context(), id)
	if err != nil {
		return err
	}
	out, err := m.renderCustomerCredits(c, []store.CustomerCreditView{*v})
	if err != nil {
		return err
	}
	cr := CreatedCustomerCredit{CustomerCredit: out[0], Offerings: []string{}}
	for _, o := range out[0].Offerings {
		cr.Offerings = append(cr.Offerings, o.URL)
	}
	return rest.Render(c, status, cr)
}

// @Summary	Give a customer a credit
// @Tags		customer-credits
// @Param		body	body	CustomerCreditRequest	true	"The credit"
// @Success	201	{object}	CreatedCustomerCredit
// @Router		/api/customer-credits/ [post]
func (m *Module) createCustomerCredit(c *gin.Context) error {
	// apply_as_minimal_consumption is true unless sent (Waldur's default).
	cc := &store.CustomerCredit{ApplyAsMinimalConsumption: true}
	if err := m.saveCustomerCredit(c, cc, false); err != nil {
		return err
	}
	return m.renderCreated(c, http.StatusCreated, cc.UUID)
}

// @Summary	Change a customer credit
// @Tags		customer-credits
// @Param		uuid	path	string					true	"Credit UUID"
// @Param		body	body	CustomerCreditRequest	true	"Fields to change"
// @Success	200	{object}	CreatedCustomerCredit
// @Router		/api/customer-credits/{uuid}/ [put]
// @Router		/api/customer-credits/{uuid}/ [patch]
func (m *Module) updateCustomerCredit(partial bool) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleCustomerCredit(c)
		if err != nil {
			return err
		}
		cc := v.CustomerCredit
		if err := m.saveCustomerCredit(c, &cc, partial); err != nil {
			return err
		}
		return m.renderCreated(c, http.StatusOK, cc.UUID)
	}
}

// @Summary	Remove a customer credit
// @Tags		customer-credits
// @Param		uuid	path	string	true	"Credit UUID"
// @Success	204
// @Router		/api/customer-credits/{uuid}/ [delete]
func (m *Module) deleteCustomerCredit(c *gin.Context) error {
	v, err := m.visibleCustomerCredit(c)
	if err != nil {
		return err
	}
	if err := m.st.DeleteCustomerCredit(c.Request.Context(), v.ID); err != nil {
		return err
	}
	return api.NoContent(c)
}

// Consumption is Waldur's CustomerCreditConsumption: what the credit
// compensated in the month starting on date.
type Consumption struct {
	Date  string `json:"date" example:"2026-01-01"`
	Price string `json:"price" example:"120.00"`
}

// @Summary	What a credit compensated, per month
// @Tags		customer-credits
// @Param		uuid	path	string	true	"Credit UUID"
// @Success	200	{array}	Consumption
// @Router		/api/customer-credits/{uuid}/consumptions/ [get]
func (m *Module) creditConsumptions(c *gin.Context) error {
	v, err := m.visibleCustomerCredit(c)
	if err != nil {
		return err
	}
	rows, err := m.st.CreditConsumptions(c.Request.Context(), v.ID)
	if err != nil {
		return err
	}
	out := make([]Consumption, len(rows))
	for i, r := range rows {
		out[i] = Consumption{Date: billing.Month{Year: r.Year, Month: monthOf(r.Month)}.Start().Format("2006-01-02"), Price: money(r.Price)}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// ProjectCredit is Waldur's ProjectCredit.
type ProjectCredit struct {
	UUID                                        models.UUID      `json:"uuid"`
	URL                                         string           `json:"url"`
	Value                                       string           `json:"value" example:"100.00"`
	Project                                     string           `json:"project"`
	ProjectName                                 string           `json:"project_name"`
	ProjectUUID                                 models.UUID      `json:"project_uuid"`
	ProjectSlug                                 string           `json:"project_slug"`
	CustomerName                                string           `json:"customer_name"`
	CustomerSlug                                string           `json:"customer_slug"`
	CustomerUUID                                models.UUID      `json:"customer_uuid"`
	CustomerCredit                              string           `json:"customer_credit" example:"1000.00"`
	AllocatedCustomerCredit                     float64          `json:"allocated_customer_credit"`
	ConsumptionLastMonth                        float64          `json:"consumption_last_month"`
	Offerings                                   []NestedOffering `json:"offerings"`
	EndDate                                     *string          `json:"end_date"`
	ExpectedConsumption                         string           `json:"expected_consumption"`
	MinimalConsumption                          float64          `json:"minimal_consumption"`
	MinimalConsumptionLogic                     string           `json:"minimal_consumption_logic" enums:"fixed,linear"`
	GraceCoefficient                            string           `json:"grace_coefficient"`
	ApplyAsMinimalConsumption                   bool             `json:"apply_as_minimal_consumption"`
	MarkUnusedCreditAsSpentOnProjectTermination bool             `json:"mark_unused_credit_as_spent_on_project_termination"`
}

// ProjectCreditRequest is the body of create and update.
type ProjectCreditRequest struct {
	Value                                       string  `json:"value"`
	Project                                     string  `json:"project"`
	EndDate                                     *string `json:"end_date"`
	ExpectedConsumption                         string  `json:"expected_consumption"`
	MinimalConsumptionLogic                     string  `json:"minimal_consumption_logic" enums:"fixed,linear"`
	GraceCoefficient                            string  `json:"grace_coefficient"`
	ApplyAsMinimalConsumption                   bool    `json:"apply_as_minimal_consumption"`
	MarkUnusedCreditAsSpentOnProjectTermination bool    `json:"mark_unused_credit_as_spent_on_project_termination"`
}

func (m *Module) renderProjectCredits(c *gin.Context, rows []store.ProjectCreditView) ([]ProjectCredit, error) {
	var customers []int64
	for _, r := range rows {
		customers = append(customers, r.CustomerID)
	}
	sums, err := m.st.CreditSumsFor(c.Request.Context(), customers, nil, m.now())
	if err != nil {
		return nil, err
	}
	out := make([]ProjectCredit, len(rows))
	for i := range rows {
		r := &rows[i]
		cc := decimal.Zero
		if r.CustomerCredit != nil {
			cc = *r.CustomerCredit
		}
		dom := billing.Credit{ExpectedConsumption: r.ExpectedConsumption, GraceCoefficient: r.GraceCoefficient,
			ApplyAsMinimal: r.ApplyAsMinimalConsumption}
		if r.EndDate != nil {
			t := r.EndDate.Time
			dom.EndDate = &t
		}
		out[i] = ProjectCredit{UUID: r.UUID, URL: rest.URL(c, colProjectCredits, r.UUID), Value: money(r.Value),
			Project: rest.URL(c, "projects", r.ProjectUUID), ProjectName: r.ProjectName, ProjectUUID: r.ProjectUUID, ProjectSlug: r.ProjectSlug,
			CustomerName: r.CustomerName, CustomerSlug: r.CustomerSlug, CustomerUUID: r.CustomerUUID, CustomerCredit: money(cc),
			AllocatedCustomerCredit: float(sums.AllocatedToProjects[r.CustomerID]), Offerings: []NestedOffering{},
			EndDate: dateOf(r.EndDate), ExpectedConsumption: money(r.ExpectedConsumption), MinimalConsumption: float(dom.MinimalConsumption(m.now())),
			MinimalConsumptionLogic: string(r.MinimalConsumptionLogic), GraceCoefficient: r.GraceCoefficient.StringFixed(0),
			ApplyAsMinimalConsumption: r.ApplyAsMinimalConsumption, MarkUnusedCreditAsSpentOnProjectTermination: r.MarkUnusedCreditAsSpentOnProjectTermination}
	}
	return out, nil
}

var projectCreditListSpec = rest.ListSpec{
	Ordering: map[string]string{"project_name": "p.name", "end_date": "project_credits.end_date",
		"expected_consumption": "project_credits.expected_consumption", "value": "project_credits.value"},
	DefaultOrdering: []string{"project_name"},
	TieBreaker:      "project_credits.id",
}

// @Summary	List project credits
// @Tags		project-credits
// @Param		project_uuid	query	string	false	"Project"
// @Param		customer_uuid	query	string	false	"Customer of the project"
// @Param		project_name	query	string	false	"Project name contains"
// @Success	200	{array}	ProjectCredit
// @Router		/api/project-credits/ [get]
func (m *Module) listProjectCredits(c *gin.Context) error {
	var f store.ProjectCreditFilter
	for key, dst := range map[string]*[]models.UUID{"project_uuid": &f.ProjectUUIDs, "customer_uuid": &f.CustomerUUIDs} {
		ids, err := rest.UUIDs(c, key)
		if err != nil {
			return err
		}
		*dst = ids
	}
	f.ProjectName = rest.Last(c, "project_name")
	q, err := m.st.ProjectCreditsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, projectCreditListSpec, func(rows []store.ProjectCreditView) ([]ProjectCredit, error) {
		return m.renderProjectCredits(c, rows)
	})
}

func (m *Module) visibleProjectCredit(c *gin.Context) (*store.ProjectCreditView, error) {
	id, err := api.PathUUID(c, "ProjectCredit")
	if err != nil {
		return nil, err
	}
	v, err := m.st.VisibleProjectCredit(c.Request.Context(), id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, api.NotFound("ProjectCredit")
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// @Summary	Retrieve a project credit
// @Tags		project-credits
// @Param		uuid	path	string	true	"Credit UUID"
// @Success	200	{object}	ProjectCredit
// @Router		/api/project-credits/{uuid}/ [get]
func (m *Module) getProjectCredit(c *gin.Context) error {
	v, err := m.visibleProjectCredit(c)
	if err != nil {
		return err
	}
	out, err := m.renderProjectCredits(c, []store.ProjectCreditView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, out[0])
}

func (m *Module) saveProjectCredit(c *gin.Context, pc *store.ProjectCredit, partial bool) error {
	ctx := c.Request.Context()
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	if pc.ID == 0 || !partial {
		f.Require("project")
	}
	if f.Has("project") {
		if id, ok := f.Ref("project", "projects", false, true); ok {
			p, err := m.st.ProjectByUUID(ctx, id)
			if err != nil {
				f.Fail("project", rest.MsgDoesNotExist)
			} else if pc.ID != 0 && p.ID != pc.ProjectID {
				f.Fail("project", "The project of a credit cannot change.")
			} else {
				pc.ProjectID = p.ID
			}
		}
	}
	creditFields(f, &pc.Value, &pc.ExpectedConsumption, &pc.GraceCoefficient, &pc.EndDate, &pc.MinimalConsumptionLogic,
		&pc.ApplyAsMinimalConsumption, partial)
	if f.Has("mark_unused_credit_as_spent_on_project_termination") {
		if b, ok := f.Bool("mark_unused_credit_as_spent_on_project_termination"); ok {
			pc.MarkUnusedCreditAsSpentOnProjectTermination = b
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	return m.st.SaveProjectCredit(ctx, pc)
}

func (m *Module) renderProjectCredit(c *gin.Context, status int, id models.UUID) error {
	v, err := m.st.ProjectCreditByUUID(c.Request.Context(), id)
	if err != nil {
		return err
	}
	out, err := m.renderProjectCredits(c, []store.ProjectCreditView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// @Summary	Give a project a share of its customer's credit
// @Tags		project-credits
// @Param		body	body	ProjectCreditRequest	true	"The credit"
// @Success	201	{object}	ProjectCredit
// @Router		/api/project-credits/ [post]
func (m *Module) createProjectCredit(c *gin.Context) error {
	pc := &store.ProjectCredit{ApplyAsMinimalConsumption: true}
	if err := m.saveProjectCredit(c, pc, false); err != nil {
		return err
	}
	return m.renderProjectCredit(c, http.StatusCreated, pc.UUID)
}

// @Summary	Change a project credit
// @Tags		project-credits
// @Param		uuid	path	string					true	"Credit UUID"
// @Param		body	body	ProjectCreditRequest	true	"Fields to change"
// @Success	200	{object}	ProjectCredit
// @Router		/api/project-credits/{uuid}/ [put]
// @Router		/api/project-credits/{uuid}/ [patch]
func (m *Module) updateProjectCredit(partial bool) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleProjectCredit(c)
		if err != nil {
			return err
		}
		pc := v.ProjectCredit
		if err := m.saveProjectCredit(c, &pc, partial); err != nil {
			return err
		}
		return m.renderProjectCredit(c, http.StatusOK, pc.UUID)
	}
}

// @Summary	Remove a project credit
// @Tags		project-credits
// @Param		uuid	path	string	true	"Credit UUID"
// @Success	204
// @Router		/api/project-credits/{uuid}/ [delete]
func (m *Module) deleteProjectCredit(c *gin.Context) error {
	v, err := m.visibleProjectCredit(c)
	if err != nil {
		return err
	}
	if err := m.st.DeleteProjectCredit(c.Request.Context(), v.ID); err != nil {
		return err
	}
	return api.NoContent(c)
}

func monthOf(n int) time.Month { return time.Month(n) }
