// Package policies serves Waldur's marketplace policies (waldur_mastermind
// policy): estimated cost limits of a project, a customer or an offering
// (per customer), usage limits of an offering's components (per customer),
// and SLURM periodic usage policies of an offering (per resource, with
// carry-over of unused allocation and a grace ratio), under Waldur's paths
// /api/marketplace-{project,customer,offering}-estimated-cost-policies/,
// /api/marketplace-offering-usage-policies/ and
// /api/marketplace-slurm-periodic-usage-policies/.
//
// A policy is evaluated by the EvaluatePolicies workflow (Schedule
// waldur-policy-evaluation, every minute, and when a policy is written):
// each figure over a threshold is a crossing, fired once (a row under a
// unique key, written with its notification and flags in one transaction)
// and ended when the figure falls back or its period ends (flags lifted).
// Create orders are refused while a crossing of a policy with
// block_creation_of_new_resources is in force (OrderCheck).
package policies

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the module needs.
type Deps struct {
	Store  *store.Store
	RBAC   *rbac.Checker
	Logger *slog.Logger
	// Now is the clock of the evaluations a write runs (nil: wall clock).
	Now func() time.Time
}

// Module serves the policy families.
type Module struct {
	st   *store.Store
	ps   *Store
	rbac *rbac.Checker
	log  *slog.Logger
	eval *Evaluator
}

var _ api.Module = (*Module)(nil)

// New returns the module.
func New(d Deps) *Module {
	m := &Module{st: d.Store, ps: NewStore(d.Store), rbac: d.RBAC, log: d.Logger,
		eval: &Evaluator{St: d.Store, Now: d.Now}}
	if m.log == nil {
		m.log = slog.Default()
	}
	return m
}

// family is one policy family's path and scope.
type family struct {
	kind Kind
	path string
	// scope is the collection of the scope's URL.
	scope string
}

var families = []family{
	{KindProjectCost, "marketplace-project-estimated-cost-policies", "projects"},
	{KindCustomerCost, "marketplace-customer-estimated-cost-policies", "customers"},
	{KindOfferingCost, "marketplace-offering-estimated-cost-policies", "marketplace-provider-offerings"},
	{KindOfferingUsage, "marketplace-offering-usage-policies", "marketplace-provider-offerings"},
	{KindSlurm, "marketplace-slurm-periodic-usage-policies", "marketplace-provider-offerings"},
}

// Routes implements api.Module. Every route needs an authenticated user.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}
	for i, f := range families {
		h := m.handlers()[i]
		g := a.Group("/"+f.path, api.RequireUser)
		g.Match(get, "/", api.H(h.list))
		g.POST("/", api.H(h.create))
		g.Match(get, "/actions/", api.H(h.actions))
		g.Match(get, "/:uuid/", api.H(h.retrieve))
		g.PUT("/:uuid/", api.H(h.update))
		g.PATCH("/:uuid/", api.H(h.update))
		g.DELETE("/:uuid/", api.H(h.destroy))
	}
	m.slurmRoutes(a)
}

// routeSet are one family's handlers (routes.go).
type routeSet struct {
	list, create, actions, retrieve, update, destroy api.Handler
}

// PriceEstimate is Waldur's NestedPriceEstimate.
type PriceEstimate struct {
	Total      string `json:"total" example:"120.0000000000"`
	Current    string `json:"current" example:"40.0000000000"`
	Tax        string `json:"tax" example:"0"`
	TaxCurrent string `json:"tax_current" example:"0"`
}

// PolicyBase are the fields every family renders.
type PolicyBase struct {
	UUID              string         `json:"uuid"`
	URL               string         `json:"url"`
	Scope             string         `json:"scope"`
	ScopeName         string         `json:"scope_name"`
	ScopeUUID         string         `json:"scope_uuid"`
	Actions           string         `json:"actions" example:"notify_organization_owners,block_creation_of_new_resources"`
	Created           time.Time      `json:"created"`
	CreatedByFullName string         `json:"created_by_full_name"`
	CreatedByUsername string         `json:"created_by_username"`
	HasFired          bool           `json:"has_fired"`
	FiredDatetime     time.Time      `json:"fired_datetime"`
	Options           map[string]any `json:"options"`
}

// ProjectEstimatedCostPolicy is Waldur's ProjectEstimatedCostPolicy.
type ProjectEstimatedCostPolicy struct {
	PolicyBase
	LimitCost            int64         `json:"limit_cost"`
	Period               int           `json:"period" enums:"1,2,3,4"`
	PeriodName           string        `json:"period_name"`
	ProjectCredit        *float64      `json:"project_credit"`
	CustomerCredit       *float64      `json:"customer_credit"`
	BillingPriceEstimate PriceEstimate `json:"billing_price_estimate"`
}

// CustomerEstimatedCostPolicy is Waldur's CustomerEstimatedCostPolicy.
type CustomerEstimatedCostPolicy struct {
	PolicyBase
	LimitCost            int64         `json:"limit_cost"`
	Period               int           `json:"period" enums:"1,2,3,4"`
	PeriodName           string        `json:"period_name"`
	CustomerCredit       int64         `json:"customer_credit"`
	BillingPriceEstimate PriceEstimate `json:"billing_price_estimate"`
}

// OfferingEstimatedCostPolicy is Waldur's OfferingEstimatedCostPolicy.
type OfferingEstimatedCostPolicy struct {
	PolicyBase
	LimitCost          int64    `json:"limit_cost"`
	Period             int      `json:"period" enums:"1,2,3,4"`
	PeriodName         string   `json:"period_name"`
	OrganizationGroups []string `json:"organization_groups"`
	ApplyToAll         bool     `json:"apply_to_all"`
}

// OfferingUsagePolicy is Waldur's OfferingUsagePolicy.
type OfferingUsagePolicy struct {
	PolicyBase
	OrganizationGroups []string         `json:"organization_groups"`
	ApplyToAll         bool             `json:"apply_to_all"`
	ComponentLimitsSet []ComponentLimit `json:"component_limits_set"`
	Period             int              `json:"period" enums:"1,2,3,4"`
	PeriodName         string           `json:"period_name"`
}

// SlurmPeriodicUsagePolicy is Waldur's SlurmPeriodicUsagePolicy.
type SlurmPeriodicUsagePolicy struct {
	OfferingUsagePolicy
	LimitType          string          `json:"limit_type" enums:"GrpTRESMins,MaxTRESMins,GrpTRES"`
	TRESBillingEnabled bool            `json:"tres_billing_enabled"`
	TRESBillingWeights json.RawMessage `json:"tres_billing_weights" swaggertype:"object"`
	CarryoverFactor    int64           `json:"carryover_factor"`
	GraceRatio         float64         `json:"grace_ratio"`
	CarryoverEnabled   bool            `json:"carryover_enabled"`
	RawUsageReset      bool            `json:"raw_usage_reset"`
	QoSStrategy        string          `json:"qos_strategy" enums:"threshold,progressive"`
	Warnings           []string        `json:"warnings"`
}

// render renders policies of family f, loading their scopes, creators and
// estimates for the whole page at once.
func (m *Module) render(c *gin.Context, f family, ps []Policy) ([]any, error) {
	ctx := c.Request.Context()
	var scopeIDs, userIDs []int64
	for _, p := range ps {
		scopeIDs = append(scopeIDs, p.ScopeID)
		if p.CreatedByID != nil {
			userIDs = append(userIDs, *p.CreatedByID)
		}
	}
	scopes, err := m.ps.scopes(ctx, f.kind, scopeIDs)
	if err != nil {
		return nil, err
	}
	users, err := m.ps.users(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	var est map[int64]store.PriceEstimate
	switch f.kind {
	case KindProjectCost:
		est, err = m.st.PriceEstimates(ctx, models.ScopeProject, scopeIDs, m.eval.now())
	case KindCustomerCost:
		est, err = m.st.PriceEstimates(ctx, models.ScopeCustomer, scopeIDs, m.eval.now())
	}
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(ps))
	for i := range ps {
		p := &ps[i]
		sc := scopes[p.ScopeID]
		b := PolicyBase{UUID: p.UUID.String(), URL: rest.URL(c, f.path, p.UUID), Scope: rest.URL(c, f.scope, sc.UUID),
			ScopeName: sc.Name, ScopeUUID: sc.UUID.String(), Actions: p.Actions, Created: p.Created, HasFired: p.HasFired,
			FiredDatetime: p.Created, Options: map[string]any{}}
		if p.FiredDatetime != nil {
			b.FiredDatetime = *p.FiredDatetime
		}
		_ = json.Unmarshal(p.Options, &b.Options)
		if b.Options == nil {
			b.Options = map[string]any{}
		}
		if p.CreatedByID != nil {
			u := users[*p.CreatedByID]
			b.CreatedByFullName, b.CreatedByUsername = api.FullName(&u), u.Username
		}
		e := est[p.ScopeID]
		pe := PriceEstimate{Total: e.Total.String(), Current: e.Current.String(), Tax: e.Tax.String(), TaxCurrent: e.TaxCurrent.String()}
		groups := []string{}
		var gs []models.UUID
		_ = json.Unmarshal(p.OrganizationGroups, &gs)
		for _, g := range gs {
			groups = append(groups, rest.URL(c, "organization-groups", g))
		}
		usage := OfferingUsagePolicy{PolicyBase: b, OrganizationGroups: groups, ApplyToAll: p.ApplyToAll,
			ComponentLimitsSet: p.Limits(), Period: p.Period, PeriodName: periodNames[p.Period]}
		switch f.kind {
		case KindProjectCost:
			out = append(out, ProjectEstimatedCostPolicy{PolicyBase: b, LimitCost: p.LimitCost, Period: p.Period,
				PeriodName: periodNames[p.Period], BillingPriceEstimate: pe})
		case KindCustomerCost:
			credit, err := m.customerCredit(c, p.ScopeID)
			if err != nil {
				return nil, err
			}
			out = append(out, CustomerEstimatedCostPolicy{PolicyBase: b, LimitCost: p.LimitCost, Period: p.Period,
				PeriodName: periodNames[p.Period], CustomerCredit: credit, BillingPriceEstimate: pe})
		case KindOfferingCost:
			out = append(out, OfferingEstimatedCostPolicy{PolicyBase: b, LimitCost: p.LimitCost, Period: p.Period,
				PeriodName: periodNames[p.Period], OrganizationGroups: groups, ApplyToAll: p.ApplyToAll})
		case KindOfferingUsage:
			out = append(out, usage)
		case KindSlurm:
			s := p.Slurm()
			out = append(out, SlurmPeriodicUsagePolicy{OfferingUsagePolicy: usage, LimitType: s.LimitType,
				TRESBillingEnabled: s.TRESBillingEnabled, TRESBillingWeights: s.TRESBillingWeights, CarryoverFactor: s.CarryoverFactor,
				GraceRatio: s.GraceRatio, CarryoverEnabled: s.CarryoverEnabled, RawUsageReset: s.RawUsageReset,
				QoSStrategy: s.QoSStrategy, Warnings: []string{}})
		}
	}
	return out, nil
}

// customerCredit is the customer's credit value, whole units (0 without one).
func (m *Module) customerCredit(c *gin.Context, customerID int64) (int64, error) {
	var v []decimal.Decimal
	if err := m.st.DB.WithContext(c.Request.Context()).Table("customer_credits").Where("customer_id = ?", customerID).
		Pluck("value", &v).Error; err != nil {
		return 0, models.Internal(err)
	}
	if len(v) == 0 {
		return 0, nil
	}
	return v[0].IntPart(), nil
}

var listSpec = rest.ListSpec{
	Ordering:        map[string]string{"created": "marketplace_policies.created"},
	DefaultOrdering: []string{"-created"},
	TieBreaker:      "marketplace_policies.id",
}

// list serves a family's list (routes.go has each family's annotations).
func (m *Module) list(f family) api.Handler {
	return func(c *gin.Context) error {
		var flt Filter
		var err error
		for key, dst := range map[string]*[]models.UUID{"scope_uuid": &flt.Scope, "project_uuid": &flt.Project, "customer_uuid": &flt.Customer} {
			if *dst, err = rest.UUIDs(c, key); err != nil {
				return err
			}
		}
		for key, dst := range map[string]*[]models.UUID{"scope": &flt.Scope, "project": &flt.Project, "customer": &flt.Customer} {
			ids, err := rest.RefUUIDs(c, key)
			if err != nil {
				return err
			}
			*dst = append(*dst, ids...)
		}
		q, err := m.ps.ListQuery(c.Request.Context(), f.kind, flt)
		if err != nil {
			return err
		}
		return rest.ListBatch(c, store.QueryOf(q), listSpec, func(ps []Policy) ([]any, error) { return m.render(c, f, ps) })
	}
}

func (m *Module) one(c *gin.Context, f family, p *Policy, status int) error {
	out, err := m.render(c, f, []Policy{*p})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

func (m *Module) visible(c *gin.Context, f family) (*Policy, error) {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return nil, err
	}
	return m.ps.Visible(c.Request.Context(), f.kind, id)
}

func (m *Module) retrieve(f family) api.Handler {
	return func(c *gin.Context) error {
		p, err := m.visible(c, f)
		if err != nil {
			return err
		}
		return m.one(c, f, p, http.StatusOK)
	}
}

// actions lists the actions the family accepts (Waldur's get_all_actions:
// a list of names, though the OpenAPI file types the answer as a policy).
func (m *Module) actions(f family) api.Handler {
	return func(c *gin.Context) error {
		c.JSON(http.StatusOK, actionsOf(f.kind))
		return nil
	}
}

// mayWrite tells whether the caller may write policies of f on the scope:
// staff always; a project's by the owners of its customer (CUSTOMER.UPDATE,
// Waldur's is_owner); a customer's by staff only (its owners may not lift
// their own budget); an offering's by who may update the offering
// (OFFERING.UPDATE on the offering or its customer).
func (m *Module) mayWrite(c *gin.Context, f family, sc *scopeInfo) error {
	u := api.CurrentUser(c)
	if u != nil && u.IsStaff {
		return nil
	}
	var ok bool
	var err error
	switch f.kind {
	case KindProjectCost:
		ok, err = m.rbac.Has(c.Request.Context(), u, "CUSTOMER.UPDATE", models.Scope{Type: models.ScopeCustomer, ID: sc.CustomerID})
	case KindCustomerCost:
	default:
		ok, err = m.rbac.Has(c.Request.Context(), u, "OFFERING.UPDATE", models.Scope{Type: models.ScopeOffering, ID: sc.ID},
			models.Scope{Type: models.ScopeCustomer, ID: sc.CustomerID})
	}
	if err != nil {
		return err
	}
	if !ok {
		return api.Forbidden()
	}
	return nil
}

func (m *Module) create(f family) api.Handler {
	return func(c *gin.Context) error {
		p := &Policy{Kind: f.kind, Period: PeriodMonth}
		if f.kind == KindSlurm {
			p.Period = PeriodQuarter
		}
		sc, err := m.read(c, f, p, false)
		if err != nil {
			return err
		}
		if err := m.mayWrite(c, f, sc); err != nil {
			return err
		}
		if u := api.CurrentUser(c); u != nil {
			p.CreatedByID = &u.ID
		}
		if err := m.ps.Create(c.Request.Context(), p); err != nil {
			return err
		}
		m.evaluate(c, p)
		return m.reload(c, f, p, http.StatusCreated)
	}
}

func (m *Module) update(f family, partial bool) api.Handler {
	return func(c *gin.Context) error {
		p, err := m.visible(c, f)
		if err != nil {
			return err
		}
		old, err := m.ps.scopes(c.Request.Context(), f.kind, []int64{p.ScopeID})
		if err != nil {
			return err
		}
		o := old[p.ScopeID]
		if err := m.mayWrite(c, f, &o); err != nil {
			return err
		}
		sc, err := m.read(c, f, p, partial)
		if err != nil {
			return err
		}
		if sc.ID != o.ID {
			if err := m.mayWrite(c, f, sc); err != nil {
				return err
			}
		}
		if err := m.ps.Save(c.Request.Context(), p); err != nil {
			return err
		}
		m.evaluate(c, p)
		return m.reload(c, f, p, http.StatusOK)
	}
}

func (m *Module) destroy(f family) api.Handler {
	return func(c *gin.Context) error {
		p, err := m.visible(c, f)
		if err != nil {
			return err
		}
		sc, err := m.ps.scopes(c.Request.Context(), f.kind, []int64{p.ScopeID})
		if err != nil {
			return err
		}
		s := sc[p.ScopeID]
		if err := m.mayWrite(c, f, &s); err != nil {
			return err
		}
		if err := m.ps.Delete(c.Request.Context(), p); err != nil {
			return err
		}
		return api.NoContent(c)
	}
}

// evaluate evaluates a written policy at once, so a raised limit lifts its
// block before the answer; a failure is left to the schedule.
func (m *Module) evaluate(c *gin.Context, p *Policy) {
	if _, _, err := m.eval.Evaluate(c.Request.Context(), p); err != nil {
		m.log.Warn("policy not evaluated", "policy", p.UUID.String(), "err", err)
	}
}

func (m *Module) reload(c *gin.Context, f family, p *Policy, status int) error {
	var fresh Policy
	if err := m.st.DB.WithContext(c.Request.Context()).Where("id = ?", p.ID).Take(&fresh).Error; err != nil {
		if err == gorm.ErrRecordNotFound {
			return api.NotFound("")
		}
		return models.Internal(err)
	}
	return m.one(c, f, &fresh, status)
}

// read reads a request body into p (every required field when !partial)
// and returns the scope. Codes: invalid.
func (m *Module) read(c *gin.Context, f family, p *Policy, partial bool) (*scopeInfo, error) {
	ctx := c.Request.Context()
	fm, err := form.Read(c)
	if err != nil {
		return nil, err
	}
	need := func(k string) bool { return !partial && !fm.Has(k) }
	var sc *scopeInfo
	if id, ok := fm.Ref("scope", f.scope, false, !partial); ok {
		s, err := m.ps.scopeByUUID(ctx, f.kind, id)
		if err == nil {
			if seen, verr := m.seesScope(c, f, s); verr != nil {
				return nil, verr
			} else if !seen {
				err = models.Errorf(models.CodeNotFound, "")
			}
		}
		if models.IsCode(err, models.CodeNotFound) {
			fm.Fail("scope", rest.MsgDoesNotExist)
		} else if err != nil {
			return nil, err
		} else {
			sc, p.ScopeID = s, s.ID
		}
	}
	if fm.Has("actions") || need("actions") {
		if a, ok := fm.RequireStr("actions", 255); ok {
			allowed := map[string]bool{}
			for _, x := range actionsOf(f.kind) {
				allowed[x] = true
			}
			acts := splitActions(a)
			if len(acts) == 0 {
				fm.Fail("actions", form.MsgBlank)
			}
			for _, x := range acts {
				if !allowed[x] {
					fm.Fail("actions", fmt.Sprintf("%s is not a valid action.", x))
					break
				}
			}
			p.Actions = strings.Join(acts, ",")
		}
	}
	if raw, ok := fm.Raw("options"); ok {
		var o map[string]any
		if fm.IsNull("options") {
			o = map[string]any{}
		} else if err := json.Unmarshal(raw, &o); err != nil || o == nil {
			fm.Fail("options", "Expected a dictionary of items but got type \""+form.TypeName(raw)+"\".")
		}
		p.Options, _ = json.Marshal(o)
	}
	cost := f.kind == KindProjectCost || f.kind == KindCustomerCost || f.kind == KindOfferingCost
	if cost {
		if need("limit_cost") {
			fm.Fail("limit_cost", form.MsgRequired)
		} else if v, ok := fm.Int("limit_cost", -2147483648, 2147483647, false); ok && v != nil {
			p.LimitCost = *v
		}
	}
	if v, ok := fm.IntChoice("period", false, PeriodTotal, PeriodMonth, PeriodQuarter, PeriodYear); ok && v != nil {
		p.Period = *v
	}
	if f.kind != KindProjectCost && f.kind != KindCustomerCost {
		if fm.Has("organization_groups") {
			// No organization group is served here: a hyperlink to one
			// names nothing; an empty list is what every policy has.
			if gs, ok := fm.StrList("organization_groups", false, form.Char{}); ok && len(gs) > 0 {
				if _, err := rest.ParseRef("organization_groups", gs[0], "organization-groups"); err != nil {
					fm.Fail("organization_groups", rest.MsgNoMatch)
				} else {
					fm.Fail("organization_groups", rest.MsgDoesNotExist)
				}
			}
		}
		if v, ok := fm.Bool("apply_to_all"); ok {
			p.ApplyToAll = v
		}
	}
	if f.kind == KindOfferingUsage || f.kind == KindSlurm {
		m.readLimits(c, fm, p, sc, need("component_limits_set"))
	}
	if f.kind == KindSlurm {
		readSlurm(fm, p)
	}
	if err := fm.Err(); err != nil {
		return nil, err
	}
	if sc == nil { // partial without scope: the policy's own
		s, err := m.ps.scopes(ctx, f.kind, []int64{p.ScopeID})
		if err != nil {
			return nil, err
		}
		v := s[p.ScopeID]
		sc = &v
	}
	return sc, nil
}

// seesScope tells whether the caller sees the scope (a hyperlink to a scope
// the caller does not see is one that does not exist).
func (m *Module) seesScope(c *gin.Context, f family, s *scopeInfo) (bool, error) {
	rs, err := m.st.CallerRoleScopes(c.Request.Context())
	if err != nil || rs == nil {
		return rs == nil, err
	}
	in := func(ids []int64, id int64) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
	switch f.kind {
	case KindProjectCost:
		return in(rs.Projects, s.ID) || in(rs.Customers, s.CustomerID), nil
	case KindCustomerCost:
		return in(rs.Customers, s.ID), nil
	}
	return in(rs.Offerings, s.ID) || in(rs.Customers, s.CustomerID), nil
}

// readLimits reads component_limits_set: each type must be a component of
// the scope's offering.
func (m *Module) readLimits(c *gin.Context, fm *form.Form, p *Policy, sc *scopeInfo, required bool) {
	items, ok := fm.ObjList("component_limits_set", required)
	if !ok {
		return
	}
	offeringID := p.ScopeID
	if sc != nil {
		offeringID = sc.ID
	}
	var types []string
	if err := m.st.DB.WithContext(c.Request.Context()).Table("offering_components").Where("offering_id = ?", offeringID).
		Pluck("type", &types).Error; err != nil {
		fm.Fail("component_limits_set", "Offering components cannot be read.")
		return
	}
	known := map[string]bool{}
	for _, t := range types {
		known[t] = true
	}
	out := []ComponentLimit{}
	for _, it := range items {
		t, _ := it.RequireStr("type", 255)
		it.Require("limit")
		l, _ := it.Int("limit", -2147483648, 2147483647, false)
		if err := it.Err(); err != nil {
			for k, msgs := range it.Errors() {
				for _, msg := range msgs {
					fm.Fail("component_limits_set", k+": "+msg)
				}
			}
			return
		}
		if !known[t] {
			fm.Fail("component_limits_set", fmt.Sprintf("Component %s is not found in offering.", t))
			return
		}
		out = append(out, ComponentLimit{Type: t, Limit: *l})
	}
	p.ComponentLimits, _ = json.Marshal(out)
}

// readSlurm reads the SLURM settings given, keeping the others.
func readSlurm(fm *form.Form, p *Policy) {
	s := p.Slurm()
	if v, ok := fm.Choice("limit_type", map[string]bool{"GrpTRESMins": true, "MaxTRESMins": true, "GrpTRES": true}, false); ok && fm.Has("limit_type") {
		s.LimitType = v
	}
	if v, ok := fm.Bool("tres_billing_enabled"); ok {
		s.TRESBillingEnabled = v
	}
	if raw, ok := fm.Raw("tres_billing_weights"); ok {
		var w map[string]float64
		if err := json.Unmarshal(raw, &w); err != nil {
			fm.Fail("tres_billing_weights", "Expected a dictionary of numbers.")
		} else {
			s.TRESBillingWeights, _ = json.Marshal(w)
		}
	}
	if v, ok := fm.Int("carryover_factor", 0, 100, false); ok && v != nil {
		s.CarryoverFactor = *v
	}
	if v, ok := fm.Float("grace_ratio", false); ok && v != nil {
		if *v < 0 || *v > 10 {
			fm.Fail("grace_ratio", "Ensure this value is between 0 and 10.")
		}
		s.GraceRatio = *v
	}
	if v, ok := fm.Bool("carryover_enabled"); ok {
		s.CarryoverEnabled = v
	}
	if v, ok := fm.Bool("raw_usage_reset"); ok {
		s.RawUsageReset = v
	}
	if v, ok := fm.Choice("qos_strategy", map[string]bool{"threshold": true, "progressive": true}, false); ok && fm.Has("qos_strategy") {
		s.QoSStrategy = v
	}
	p.Settings, _ = json.Marshal(s)
}
