// Package stats serves Waldur's statistics and quota history, each figure
// computed by one set-based SQL query on both databases (no loop over rows
// in Go; the paged lists add their count and the page's related rows):
//
//   - /api/marketplace-stats/<action>/ (Waldur's MarketplaceStatsViewSet:
//     staff and support; the provider_* actions also to those holding
//     SERVICE_PROVIDER.GET_STATISTICS on the provider's organization);
//   - /api/customers/{uuid}/stats/ and /api/projects/{uuid}/stats/ (the
//     components' usage and limits of the scope's resources, to whoever sees
//     the scope);
//   - /api/marketplace-service-providers/{uuid}/stat/ and revenue/
//     (x-permissions SERVICE_PROVIDER.GET_STATISTICS and GET_REVENUE),
//     customers/, projects/ and users/ (SERVICE_PROVIDER.LIST_CUSTOMERS,
//     LIST_PROJECTS, LIST_USERS);
//   - /api/daily-quotas/ (a scope's quota usages per day, written by the
//     daily Schedule waldur-daily-quotas as Waldur's sync_daily_quotas),
//     /api/customer-quotas/ and /api/project-quotas/ (staff and support).
package stats

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the module needs.
type Deps struct {
	Store *store.Store
	RBAC  *rbac.Checker
	// Now is the clock the "current month" and date defaults are read
	// from (UTC); nil: the store's clock.
	Now func() time.Time
}

// Module serves the statistics routes.
type Module struct {
	q   *Queries
	st  *store.Store
	chk *rbac.Checker
	now func() time.Time
}

var _ api.Module = (*Module)(nil)

// New returns the module.
func New(d Deps) *Module {
	m := &Module{q: NewQueries(d.Store.DB), st: d.Store, chk: d.RBAC, now: d.Now}
	if m.now == nil {
		m.now = d.Store.Now
	}
	return m
}

// Routes implements api.Module.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}
	ms := a.Group("/marketplace-stats", api.RequireUser)
	support := api.RequireStaffOrSupport
	ms.Match(get, "/order_stats/", support, api.H(m.orderStats))
	ms.Match(get, "/resource_provisioning_stats/", support, api.H(m.resourceProvisioningStats))
	ms.Match(get, "/component_usages/", support, api.H(m.componentUsages))
	ms.Match(get, "/component_usages_per_month/", support, api.H(m.componentUsagesPerMonth))
	ms.Match(get, "/component_usages_per_project/", support, api.H(m.componentUsagesPerProject))
	ms.Match(get, "/count_active_resources_grouped_by_offering/", support, api.H(m.activeResourcesByOffering))
	ms.Match(get, "/customer_member_count/", support, api.H(m.customerMemberCount))
	ms.Match(get, "/offering_costs_summary/", support, api.H(m.offeringCostsSummary))
	ms.Match(get, "/total_cost_of_active_resources_per_offering/", support, api.H(m.costPerOffering))
	ms.Match(get, "/resources_limits/", support, api.H(m.resourcesLimits))
	ms.Match(get, "/resources_missing_usage/", support, api.H(m.resourcesMissingUsage))
	ms.Match(get, "/organization_project_count/", support, api.H(m.organizationProjectCount))
	ms.Match(get, "/organization_resource_count/", support, api.H(m.organizationResourceCount))
	ms.Match(get, "/count_active_resources_grouped_by_offering_country/", support, api.H(m.activeResourcesByCountry))
	ms.Match(get, "/count_projects_of_service_providers/", support, api.H(m.projectsOfProviders))
	ms.Match(get, "/count_users_of_service_providers/", support, api.H(m.usersOfProviders))
	ms.Match(get, "/count_unique_users_connected_with_active_resources_of_service_provider/", support, api.H(m.uniqueUsersOfProviders))
	ms.Match(get, "/offerings_counter_stats/", support, api.H(m.offeringsCounter))
	ms.Match(get, "/customer_member_summary/", support, api.H(m.customerMemberSummary))
	ms.Match(get, "/resources_geography_summary/", support, api.H(m.resourcesGeography))
	ms.Match(get, "/aggregated_usage_trends/", support, api.H(m.usageTrends))
	ms.Match(get, "/user_auth_method_count/", support, api.H(m.userAuthMethodCount))
	ms.Match(get, "/user_job_title_count/", support, api.H(m.userJobTitleCount))
	ms.Match(get, "/user_organization_count/", support, api.H(m.userOrganizationCount))
	ms.Match(get, "/user_identity_source_count/", support, api.H(m.userIdentitySourceCount))
	ms.Match(get, "/user_organization_type_count/", support, api.H(m.userOrganizationTypeCount))
	ms.Match(get, "/user_affiliation_count/", support, api.H(m.userAffiliationCount))
	ms.Match(get, "/project_classification_summary/", support, api.H(m.projectClassification))
	ms.Match(get, "/provider_offerings/", api.H(m.providerOfferings))
	ms.Match(get, "/provider_resources/", api.H(m.providerResources))
	ms.Match(get, "/provider_customers/", api.H(m.providerCustomers))

	a.Match(get, "/customers/:uuid/stats/", api.RequireUser, api.H(m.customerStats))
	a.Match(get, "/projects/:uuid/stats/", api.RequireUser, api.H(m.projectStats))
	a.Match(get, "/marketplace-service-providers/:uuid/stat/", api.RequireUser, api.H(m.providerStat))
	a.Match(get, "/marketplace-service-providers/:uuid/revenue/", api.RequireUser, api.H(m.providerRevenue))
	a.Match(get, "/marketplace-service-providers/:uuid/customers/", api.RequireUser, api.H(m.providerCustomerList))
	a.Match(get, "/marketplace-service-providers/:uuid/users/", api.RequireUser, api.H(m.providerUserList))
	a.Match(get, "/marketplace-service-providers/:uuid/projects/", api.RequireUser, api.H(m.providerProjectList))

	a.Match(get, "/daily-quotas/", api.RequireUser, api.H(m.dailyQuotas))
	a.Match(get, "/customer-quotas/", api.RequireUser, support, api.H(m.customerQuotas))
	a.Match(get, "/project-quotas/", api.RequireUser, support, api.H(m.projectQuotas))
}

// today is the clock's date at midnight UTC.
func (m *Module) today() time.Time {
	n := m.now().UTC()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// monthStart is the first day of t's month, UTC.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// page writes the ?page= page of the whole (small, aggregated) result as
// Waldur's paginated list: X-Result-Count, Link and the JSON array; a HEAD
// gets the headers only.
func page[T any](c *gin.Context, all []T) error {
	number, size, err := rest.Page(c)
	if err != nil {
		return err
	}
	total := len(all)
	pages := max(1, (total+size-1)/size)
	if number > pages {
		return models.Errorf(models.CodeNotFound, "Invalid page.")
	}
	c.Header("X-Result-Count", strconv.Itoa(total))
	c.Header("Link", link(c, number, pages))
	if c.Request.Method == http.MethodHead {
		c.Status(http.StatusOK)
		return nil
	}
	from := min((number-1)*size, total)
	to := min(from+size, total)
	out := all[from:to]
	if out == nil {
		out = []T{}
	}
	return rest.Render(c, http.StatusOK, out)
}

// pageSQL is page for a result as long as a table (one row per
// resource): count gives X-Result-Count, load the page's rows.
func pageSQL[T any](c *gin.Context, count func() (int64, error), load func(limit, offset int) ([]T, error)) error {
	number, size, err := rest.Page(c)
	if err != nil {
		return err
	}
	total, err := count()
	if err != nil {
		return err
	}
	pages := max(1, int((total+int64(size)-1)/int64(size)))
	if number > pages {
		return models.Errorf(models.CodeNotFound, "Invalid page.")
	}
	c.Header("X-Result-Count", strconv.FormatInt(total, 10))
	c.Header("Link", link(c, number, pages))
	if c.Request.Method == http.MethodHead {
		c.Status(http.StatusOK)
		return nil
	}
	rows, err := load(size, (number-1)*size)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []T{}
	}
	return rest.Render(c, http.StatusOK, rows)
}

// link is the Link header of Waldur's LinkHeaderPagination (first, prev,
// next, last), the request's other query parameters kept but for the
// credentials (rest.AuthParams).
func link(c *gin.Context, number, pages int) string {
	url := func(page int) string {
		q := c.Request.URL.Query()
		for k := range q {
			for _, a := range rest.AuthParams {
				if strings.EqualFold(k, a) {
					delete(q, k)
				}
			}
		}
		q.Set("page", strconv.Itoa(page))
		return rest.Origin(c) + c.Request.URL.EscapedPath() + "?" + q.Encode()
	}
	links := []string{fmt.Sprintf("<%s>; rel=%q", url(1), "first")}
	if number > 1 {
		links = append(links, fmt.Sprintf("<%s>; rel=%q", url(number-1), "prev"))
	}
	if number < pages {
		links = append(links, fmt.Sprintf("<%s>; rel=%q", url(number+1), "next"))
	}
	links = append(links, fmt.Sprintf("<%s>; rel=%q", url(pages), "last"))
	return strings.Join(links, ", ")
}

// one writes a single statistics object (a HEAD: the status only).
func one(c *gin.Context, v any) error {
	if c.Request.Method == http.MethodHead {
		c.Status(http.StatusOK)
		return nil
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// decimal renders a sum as Waldur's decimal string with two places.
func decimal(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// parseDate reads a YYYY-MM-DD query parameter; absent: def.
func parseDate(c *gin.Context, key string, def time.Time) (time.Time, error) {
	s := rest.Last(c, key)
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, models.FieldError(key, "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")
	}
	return t, nil
}

// optionalUUID reads a uuid query parameter (absent: nil).
func optionalUUID(c *gin.Context, key string) (*models.UUID, error) {
	s := rest.Last(c, key)
	if s == "" {
		return nil, nil
	}
	id, err := models.ParseUUID(s)
	if err != nil {
		return nil, models.FieldError(key, "Must be a valid UUID.")
	}
	return &id, nil
}
