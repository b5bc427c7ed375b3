// Package structure serves Waldur's structure endpoints: organizations
// (/api/customers/), projects (/api/projects/), project types
// (/api/project-types/), the team actions on customers and projects
// (list_users, add_user, update_user, delete_user; on provider offerings
// too) and the quotas shown on
// customers and projects, in Waldur's wire format.
//
// Visibility is decided by the store in SQL (rbac.FilterCustomers,
// rbac.FilterProjects): an object the caller cannot see is a 404. Every
// change is checked with rbac.Checker.Require next to the data it touches,
// and the store writes the change, its quota usage and its event in one
// transaction.
package structure

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the structure endpoints need.
type Deps struct {
	Store *store.Store
	RBAC  *rbac.Checker
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
	// HasActiveResources reports whether a project holds resources that are
	// not terminated; such a project cannot be deleted. Nil means none (the
	// marketplace fills it in).
	HasActiveResources func(ctx context.Context, projectID int64) (bool, error)
}

// Module registers the structure routes (an api.Module).
type Module struct {
	st     *store.Store
	rbac   *rbac.Checker
	now    func() time.Time
	active func(ctx context.Context, projectID int64) (bool, error)
}

var _ api.Module = (*Module)(nil)

// New returns the structure module.
func New(d Deps) *Module {
	m := &Module{st: d.Store, rbac: d.RBAC, now: d.Now, active: d.HasActiveResources}
	if m.active == nil {
		m.active = d.Store.ProjectHasActiveResources
	}
	if m.now == nil {
		m.now = func() time.Time { return time.Now().UTC() }
	}
	return m
}

// Routes implements api.Module. Every route needs an authenticated user,
// as in Waldur (anonymous requests get 401).
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}

	cu := a.Group("/customers", api.RequireUser)
	cu.Match(get, "/", api.H(m.listCustomers))
	cu.POST("/", api.H(m.createCustomer))
	cu.Match(get, "/:uuid/", api.H(m.getCustomer))
	cu.PUT("/:uuid/", api.H(m.updateCustomer))
	cu.PATCH("/:uuid/", api.H(m.updateCustomer))
	cu.DELETE("/:uuid/", api.H(m.deleteCustomer))
	cu.Match(get, "/:uuid/list_users/", api.H(m.listUsers(m.customerScope)))
	cu.POST("/:uuid/add_user/", api.H(m.addUser(m.customerScope)))
	cu.POST("/:uuid/update_user/", api.H(m.updateUser(m.customerScope)))
	cu.POST("/:uuid/delete_user/", api.H(m.deleteUser(m.customerScope)))

	pr := a.Group("/projects", api.RequireUser)
	pr.Match(get, "/", api.H(m.listProjects))
	pr.POST("/", api.H(m.createProject))
	pr.Match(get, "/:uuid/", api.H(m.getProject))
	pr.PUT("/:uuid/", api.H(m.updateProject))
	pr.PATCH("/:uuid/", api.H(m.updateProject))
	pr.DELETE("/:uuid/", api.H(m.deleteProject))
	pr.Match(get, "/:uuid/list_users/", api.H(m.listUsers(m.projectScope)))
	pr.POST("/:uuid/add_user/", api.H(m.addUser(m.projectScope)))
	pr.POST("/:uuid/update_user/", api.H(m.updateUser(m.projectScope)))
	pr.POST("/:uuid/delete_user/", api.H(m.deleteUser(m.projectScope)))

	// An offering's team (OFFERING.MANAGER and the other offering roles):
	// the same team actions, on the provider offering's path.
	of := a.Group("/marketplace-provider-offerings", api.RequireUser)
	of.Match(get, "/:uuid/list_users/", api.H(m.listUsers(m.offeringScope)))
	of.POST("/:uuid/add_user/", api.H(m.addUser(m.offeringScope)))
	of.POST("/:uuid/update_user/", api.H(m.updateUser(m.offeringScope)))
	of.POST("/:uuid/delete_user/", api.H(m.deleteUser(m.offeringScope)))

	pt := a.Group("/project-types", api.RequireUser)
	pt.Match(get, "/", api.H(m.listProjectTypes))
	pt.POST("/", api.RequireStaff, api.H(m.createProjectType))
	pt.Match(get, "/:uuid/", api.H(m.getProjectType))
	pt.PUT("/:uuid/", api.RequireStaff, api.H(m.updateProjectType))
	pt.PATCH("/:uuid/", api.RequireStaff, api.H(m.updateProjectType))
	pt.DELETE("/:uuid/", api.RequireStaff, api.H(m.deleteProjectType))
}

// visibleCustomer loads the customer of the path if the caller may see it.
func (m *Module) visibleCustomer(c *gin.Context) (*models.Customer, error) {
	id, err := api.PathUUID(c, "Customer")
	if err != nil {
		return nil, err
	}
	return m.st.VisibleCustomer(c.Request.Context(), id, m.now())
}

// visibleProject loads the project of the path (soft-deleted included, as
// Waldur lets a user reach a terminated project they could see) if the
// caller may see it, with its customer.
func (m *Module) visibleProject(c *gin.Context) (*models.Project, *models.Customer, error) {
	id, err := api.PathUUID(c, "Project")
	if err != nil {
		return nil, nil, err
	}
	return m.st.VisibleProject(c.Request.Context(), id, m.now())
}

// PriceEstimate is Waldur's NestedPriceEstimate: what the current month's
// invoice items of the scope come to (total: the whole month; current: so
// far), with tax.
type PriceEstimate struct {
	Total      string `json:"total" example:"0"`
	Current    string `json:"current" example:"0"`
	Tax        string `json:"tax" example:"0"`
	TaxCurrent string `json:"tax_current" example:"0"`
}

// estimates renders the billing_price_estimate of customers or projects, by id.
func (m *Module) estimates(c *gin.Context, scope models.ScopeType, ids []int64) (map[int64]PriceEstimate, error) {
	es, err := m.st.PriceEstimates(c.Request.Context(), scope, ids, m.now())
	if err != nil {
		return nil, err
	}
	out := make(map[int64]PriceEstimate, len(es))
	for id, e := range es {
		out[id] = PriceEstimate{Total: e.Total.String(), Current: e.Current.String(), Tax: e.Tax.String(), TaxCurrent: e.TaxCurrent.String()}
	}
	return out, nil
}

// countryCodes are the values of Waldur's CountryEnum (ISO 3166-1 alpha-2 and EU).
var countryCodes = func() map[string]bool {
	out := map[string]bool{}
	for _, c := range strings.Fields(`AW AF AO AI AX AL AD AE AR AM AS AQ TF AG AU AT AZ BI BE BJ BQ BF BD BG BH BS BA BL
		BY BZ BM BO BR BB BN BT BV BW CF CA CC CH CL CN CI CM CD CG CK CO KM CV CR CU CW CX KY CY CZ DE DJ DM DK DO DZ EC
		EG ER EH ES EE ET FI FJ FK FR FO FM GA GB GE GG GH GI GN GP GM GW GQ GR GD GL GT GF GU GY HK HM HN HR HT HU ID IM
		IN IO IE IR IQ IS IL IT JM JE JO JP KZ KE KG KH KI KN KR KW LA LB LR LY LC LI LK LS LT LU LV MO MF MA MC MD MG MV
		MX MH MK ML MT MM ME MN MP MZ MR MS MQ MU MW MY YT NA NC NE NF NG NI NU NL NO NP NR NZ OM PK PA PN PE PH PW PG PL
		PR KP PT PY PS PF QA RE RO RU RW SA SD SN SG GS SH SJ SB SL SV SM SO PM RS SS ST SR SK SI SE SZ SX SC SY TC TD TG
		TH TJ TK TM TL TO TT TN TR TV TW TZ UG UA UM UY US UZ VA VC VE VG VI VN VU WF WS YE ZA ZM ZW EU`) {
		out[c] = true
	}
	return out
}()

var regionNames = display.English.Regions()

// countryName is the English name of an ISO 3166 code ("" when blank or unknown).
func countryName(code string) string {
	if code == "" {
		return ""
	}
	r, err := language.ParseRegion(code)
	if err != nil {
		return ""
	}
	return regionNames.Name(r)
}

// OECDLabel is the label of an OECD FOS 2007 code ("" when unknown).
func OECDLabel(code string) string { return oecdLabels[code] }

// oecdLabels are Waldur's OECD FOS 2007 codes and labels.
var oecdLabels = map[string]string{
	"1.1": "Mathematics", "1.2": "Computer and information sciences", "1.3": "Physical sciences",
	"1.4": "Chemical sciences", "1.5": "Earth and related environmental sciences", "1.6": "Biological sciences",
	"1.7": "Other natural sciences", "2.1": "Civil engineering",
	"2.2": "Electrical engineering, electronic engineering, information engineering",
	"2.3": "Mechanical engineering", "2.4": "Chemical engineering", "2.5": "Materials engineering",
	"2.6": "Medical engineering", "2.7": "Environmental engineering", "2.8": "Systems engineering",
	"2.9": "Environmental biotechnology", "2.10": "Industrial biotechnology", "2.11": "Nano technology",
	"2.12": "Other engineering and technologies", "3.1": "Basic medicine", "3.2": "Clinical medicine",
	"3.3": "Health sciences", "3.4": "Health biotechnology", "3.5": "Other medical sciences",
	"4.1": "Agriculture, forestry, and fisheries", "4.2": "Animal and dairy science", "4.3": "Veterinary science",
	"4.4": "Agricultural biotechnology", "4.5": "Other agricultural sciences", "5.1": "Psychology",
	"5.2": "Economics and business", "5.3": "Educational sciences", "5.4": "Sociology", "5.5": "Law",
	"5.6": "Political science", "5.7": "Social and economic geography", "5.8": "Media and communications",
	"5.9": "Other social sciences", "6.1": "History and archaeology", "6.2": "Languages and literature",
	"6.3": "Philosophy, ethics and religion", "6.4": "Arts (arts, history of arts, performing arts, music)",
	"6.5": "Other humanities",
}

var oecdCodes = func() map[string]bool {
	out := map[string]bool{}
	for k := range oecdLabels {
		out[k] = true
	}
	return out
}()

// userUUID reads Waldur's GenericUserFilter, ?user_uuid= (the list is
// limited to what that user could see): its UUID, or nothing for a value
// that is not a UUID (the list is then empty).
func userUUID(c *gin.Context) (id *models.UUID, nothing bool) {
	v := rest.Last(c, "user_uuid")
	if v == "" {
		return nil, false
	}
	u, err := models.ParseUUID(v)
	if err != nil {
		return nil, true
	}
	return &u, false
}

// validateSubnets checks a comma-separated list of IPv4/IPv6 CIDR networks;
// it returns the error message, "" when valid.
func validateSubnets(v string) string {
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(s); err != nil {
			if ip := net.ParseIP(s); ip == nil {
				return fmt.Sprintf("Enter a valid IPv4 or IPv6 network: %s.", s)
			}
		}
	}
	return ""
}

// Sentinels that sort after every real date or time, on both dialects.
const (
	farDate   = "9999-12-31"
	farFuture = "9999-12-31 23:59:59"
)

// nullsLast orders a nullable column as PostgreSQL does (NULLs after every
// value ascending, before every value descending) on SQLite too, which
// otherwise puts NULLs first.
func nullsLast(column, sentinel string) string {
	return "COALESCE(" + column + ", '" + sentinel + "')"
}

// quotaLimits reads our `quotas` field: [{"name": …, "limit": …}], names
// from allowed, limits -1 (unlimited) or more. Every problem is reported on
// k, an item's prefixed with its field ("limit: …").
func quotaLimits(f *form.Form, k string, allowed []string) (map[string]int64, bool) {
	items, ok := f.ObjList(k, false)
	if !ok {
		return nil, false
	}
	known := map[string]bool{}
	for _, n := range allowed {
		known[n] = true
	}
	out := map[string]int64{}
	for _, it := range items {
		name, okName := it.RequireStr("name", 150)
		it.Require("limit")
		limit, okLimit := it.Int("limit", -1, math.MaxInt64, false)
		if okName && !known[name] {
			f.Fail(k, fmt.Sprintf("Unknown quota %q; valid names are %s.", name, strings.Join(allowed, ", ")))
			continue
		}
		if !okName || !okLimit {
			for fk, msgs := range it.Errors() {
				for _, m := range msgs {
					f.Fail(k, fk+": "+m)
				}
			}
			continue
		}
		out[name] = *limit
	}
	if f.Failed(k) {
		return nil, false
	}
	return out, true
}
