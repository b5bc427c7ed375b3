package stats

import (
	"context"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
)

// More marketplace-stats actions: counts over offerings, providers'
// consumers and users, one query each.

// CountryCount is Waldur's OfferingCountryStats.
type CountryCount struct {
	Country string `json:"country" example:"EE"`
	Count   int64  `json:"count" example:"3"`
}

// ActiveResourcesByCountry counts the active resources per offering country.
func (q *Queries) ActiveResourcesByCountry(ctx context.Context) ([]CountryCount, error) {
	var out []CountryCount
	err := q.raw(ctx, &out, `SELECT o.country, COUNT(*) AS count FROM resources r JOIN offerings o ON o.id = r.offering_id
		WHERE r.state IN `+activeStates+` GROUP BY o.country ORDER BY o.country`)
	return out, err
}

// ProviderConsumerCount is Waldur's CountProjectsOfServiceProviders and
// CountUsersOfServiceProviders: a provider, a consuming organization and a count.
type ProviderConsumerCount struct {
	ServiceProviderUUID           string `json:"service_provider_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	CustomerUUID                  string `json:"customer_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	CustomerName                  string `json:"customer_name" example:"Alpha"`
	CustomerOrganizationGroupUUID string `json:"customer_organization_group_uuid" example:""`
	CustomerOrganizationGroupName string `json:"customer_organization_group_name" example:""`
	Count                         int64  `json:"count" example:"2"`
}

// activeUse joins the resources (r) of the providers' (sp) offerings with
// their project (p) and consuming organization (c).
const activeUse = `FROM resources r JOIN offerings f ON f.id = r.offering_id JOIN service_providers sp ON sp.customer_id = f.customer_id
	JOIN projects p ON p.id = r.project_id JOIN customers c ON c.id = p.customer_id`

// ProjectsOfProviders counts, per provider and consuming organization, the
// projects with an active resource of the provider's offerings.
func (q *Queries) ProjectsOfProviders(ctx context.Context) ([]ProviderConsumerCount, error) {
	var out []ProviderConsumerCount
	err := q.raw(ctx, &out, `SELECT sp.uuid AS service_provider_uuid, c.uuid AS customer_uuid, c.name AS customer_name,
			COUNT(DISTINCT p.id) AS count `+activeUse+`
		WHERE r.state IN `+activeStates+`
		GROUP BY sp.uuid, c.id, c.uuid, c.name ORDER BY sp.uuid, c.name, c.id`)
	return out, err
}

// UsersOfProviders counts, per provider and consuming organization, the
// users holding a role in force at now on a project with an active
// resource of the provider's offerings.
func (q *Queries) UsersOfProviders(ctx context.Context, now time.Time) ([]ProviderConsumerCount, error) {
	var out []ProviderConsumerCount
	err := q.raw(ctx, &out, `SELECT sp.uuid AS service_provider_uuid, c.uuid AS customer_uuid, c.name AS customer_name,
			COUNT(DISTINCT ur.user_id) AS count `+activeUse+`
			JOIN user_roles ur ON ur.scope_type = 'project' AND ur.scope_id = p.id AND ur.is_active = ?
				AND (ur.expiration_time IS NULL OR ur.expiration_time > ?)
		WHERE r.state IN `+activeStates+`
		GROUP BY sp.uuid, c.id, c.uuid, c.name ORDER BY sp.uuid, c.name, c.id`, true, now)
	return out, err
}

// UniqueUsers is Waldur's CountUniqueUsersConnectedWithActiveResourcesOfServiceProvider.
type UniqueUsers struct {
	CustomerUUID string `json:"customer_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	CustomerName string `json:"customer_name" example:"Provider"`
	CountUsers   int64  `json:"count_users" example:"4"`
}

// UniqueUsersOfProviders counts, per provider (its organization), the
// distinct users holding a role in force on a project with an active
// resource of its offerings.
func (q *Queries) UniqueUsersOfProviders(ctx context.Context, now time.Time) ([]UniqueUsers, error) {
	var out []UniqueUsers
	err := q.raw(ctx, &out, `SELECT pc.uuid AS customer_uuid, pc.name AS customer_name, COUNT(DISTINCT ur.user_id) AS count_users
		FROM resources r JOIN offerings f ON f.id = r.offering_id JOIN customers pc ON pc.id = f.customer_id
			JOIN service_providers sp ON sp.customer_id = pc.id
			JOIN user_roles ur ON ur.scope_type = 'project' AND ur.scope_id = r.project_id AND ur.is_active = ?
				AND (ur.expiration_time IS NULL OR ur.expiration_time > ?)
		WHERE r.state IN `+activeStates+`
		GROUP BY pc.id, pc.uuid, pc.name ORDER BY pc.name, pc.id`, true, now)
	return out, err
}

// OfferingCounter is Waldur's OfferingStatsCounter.
type OfferingCounter struct {
	CategoryUUID        string `json:"category_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	CategoryTitle       string `json:"category_title" example:"HPC"`
	ServiceProviderName string `json:"service_provider_name" example:"Provider"`
	ServiceProviderUUID string `json:"service_provider_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Count               int64  `json:"count" example:"2"`
}

// OfferingsCounter counts the Active offerings per category and provider.
func (q *Queries) OfferingsCounter(ctx context.Context) ([]OfferingCounter, error) {
	var out []OfferingCounter
	err := q.raw(ctx, &out, `SELECT cat.uuid AS category_uuid, cat.title AS category_title, pc.name AS service_provider_name,
			sp.uuid AS service_provider_uuid, COUNT(*) AS count
		FROM offerings f JOIN categories cat ON cat.id = f.category_id JOIN customers pc ON pc.id = f.customer_id
			JOIN service_providers sp ON sp.customer_id = pc.id
		WHERE f.state = 'Active'
		GROUP BY cat.id, cat.uuid, cat.title, pc.name, sp.uuid ORDER BY cat.title, pc.name`)
	return out, err
}

// MemberSummary is Waldur's CustomerMemberSummary.
type MemberSummary struct {
	TotalOrganizations         int64 `json:"total_organizations" example:"4"`
	TotalMembers               int64 `json:"total_members" example:"3"`
	OrganizationsWithResources int64 `json:"organizations_with_resources" example:"3"`
	AverageMembersPerOrg       int64 `json:"average_members_per_org" example:"1"`
}

// CustomerMemberSummary sums customer_member_count: organizations, their
// memberships (a user counted once per organization), organizations with
// active resources, the average (rounded down).
func (q *Queries) CustomerMemberSummary(ctx context.Context, now time.Time) (MemberSummary, error) {
	var out MemberSummary
	err := q.raw(ctx, &out, `SELECT
			(SELECT COUNT(*) FROM customers) AS total_organizations,
			(SELECT COUNT(*) FROM (SELECT DISTINCT ur.scope_id, ur.user_id FROM user_roles ur
				WHERE ur.scope_type = 'customer' AND ur.is_active = ? AND (ur.expiration_time IS NULL OR ur.expiration_time > ?)) m) AS total_members,
			(SELECT COUNT(DISTINCT p.customer_id) FROM resources r JOIN projects p ON p.id = r.project_id
				WHERE r.state IN `+activeStates+`) AS organizations_with_resources`, true, now)
	if out.TotalOrganizations > 0 {
		out.AverageMembersPerOrg = out.TotalMembers / out.TotalOrganizations
	}
	return out, err
}

// Geography is Waldur's ResourcesGeographySummary (no organization groups: 0).
type Geography struct {
	TotalResources int64 `json:"total_resources" example:"4"`
	CountriesCount int64 `json:"countries_count" example:"2"`
	OrgGroupsCount int64 `json:"org_groups_count" example:"0"`
	OfferingsCount int64 `json:"offerings_count" example:"3"`
}

// ResourcesGeography counts the active resources, their offerings'
// countries (set ones) and their offerings.
func (q *Queries) ResourcesGeography(ctx context.Context) (Geography, error) {
	var out Geography
	err := q.raw(ctx, &out, `SELECT COUNT(*) AS total_resources,
			COUNT(DISTINCT CASE WHEN o.country <> '' THEN o.country END) AS countries_count,
			COUNT(DISTINCT o.id) AS offerings_count
		FROM resources r JOIN offerings o ON o.id = r.offering_id WHERE r.state IN `+activeStates)
	return out, err
}

// UsageTrend is Waldur's AggregatedUsageTrend.
type UsageTrend struct {
	Period         string `json:"period" example:"2026-03"`
	Year           int    `json:"year" example:"2026"`
	Month          int    `json:"month" example:"3"`
	TotalUsage     string `json:"total_usage" example:"16.75"`
	ResourceCount  int64  `json:"resource_count" example:"2"`
	ComponentCount int64  `json:"component_count" example:"3"`
}

// UsageTrends sums the usages per billing month from since's month on:
// the total, the resources reported for and the usage records.
func (q *Queries) UsageTrends(ctx context.Context, since time.Time) ([]UsageTrend, error) {
	y, m := q.part("YEAR", "cu.billing_period", false), q.part("MONTH", "cu.billing_period", false)
	var rows []struct {
		Year, Month    int
		Total          float64
		Resources, Cnt int64
	}
	if err := q.raw(ctx, &rows, `SELECT `+y+` AS year, `+m+` AS month, SUM(cu.usage) AS total,
			COUNT(DISTINCT cu.resource_id) AS resources, COUNT(*) AS cnt
		FROM component_usages cu WHERE cu.billing_period >= ?
		GROUP BY `+y+`, `+m+` ORDER BY 1, 2`, dateString(monthStart(since))); err != nil {
		return nil, err
	}
	out := make([]UsageTrend, len(rows))
	for i, r := range rows {
		out[i] = UsageTrend{Period: fmt.Sprintf("%04d-%02d", r.Year, r.Month), Year: r.Year, Month: r.Month,
			TotalUsage: decimal(r.Total), ResourceCount: r.Resources, ComponentCount: r.Cnt}
	}
	return out, nil
}

// UserCount is a count of users by a profile field (Waldur's
// UserAuthMethodCount, UserJobTitleCount, UserOrganizationCount).
type UserCount struct {
	Value string `json:"-"`
	Count int64  `json:"count" example:"3"`
}

// UsersBy counts the active users per value of column (a trusted users
// column name), largest first.
func (q *Queries) UsersBy(ctx context.Context, column string) ([]UserCount, error) {
	var out []UserCount
	err := q.raw(ctx, &out, `SELECT u.`+column+` AS value, COUNT(*) AS count FROM users u WHERE u.is_active = ?
		GROUP BY u.`+column+` ORDER BY count DESC, value`, true)
	return out, err
}

// UsersByAffiliation counts the active users per affiliation (a user with
// several is counted under each), largest first.
func (q *Queries) UsersByAffiliation(ctx context.Context) ([]UserCount, error) {
	each := "json_each(CASE WHEN json_type(u.affiliations) = 'array' THEN u.affiliations ELSE '[]' END) a"
	if q.pg {
		each = "jsonb_array_elements_text(CASE WHEN jsonb_typeof(u.affiliations) = 'array' THEN u.affiliations ELSE '[]'::jsonb END) a"
	}
	var out []UserCount
	err := q.raw(ctx, &out, `SELECT a.value AS value, COUNT(*) AS count FROM users u, `+each+` WHERE u.is_active = ?
		GROUP BY a.value ORDER BY count DESC, value`, true)
	return out, err
}

// Classification is Waldur's ProjectClassificationSummary.
type Classification struct {
	TotalProjects    int64 `json:"total_projects" example:"4"`
	AcademicProjects int64 `json:"academic_projects" example:"3"`
	IndustryProjects int64 `json:"industry_projects" example:"1"`
}

// ProjectClassification counts the projects (not removed) by industry flag.
func (q *Queries) ProjectClassification(ctx context.Context) (Classification, error) {
	var out Classification
	err := q.raw(ctx, &out, `SELECT COUNT(*) AS total_projects,
			COALESCE(SUM(CASE WHEN is_industry = ? THEN 0 ELSE 1 END), 0) AS academic_projects,
			COALESCE(SUM(CASE WHEN is_industry = ? THEN 1 ELSE 0 END), 0) AS industry_projects
		FROM projects WHERE is_removed = ?`, true, true, false)
	return out, err
}

// The handlers.

// activeResourcesByCountry godoc
//
//	@Summary		Active resources per offering country
//	@Description	Staff and support. The active resources counted per their offering's country ("" when unset).
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	CountryCount
//	@Router			/api/marketplace-stats/count_active_resources_grouped_by_offering_country/ [get]
func (m *Module) activeResourcesByCountry(c *gin.Context) error {
	rows, err := m.q.ActiveResourcesByCountry(c.Request.Context())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// projectsOfProviders godoc
//
//	@Summary		Projects of service providers
//	@Description	Staff and support. Per service provider and consuming organization, the projects with an active resource of the provider's offerings.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	ProviderConsumerCount
//	@Router			/api/marketplace-stats/count_projects_of_service_providers/ [get]
func (m *Module) projectsOfProviders(c *gin.Context) error {
	rows, err := m.q.ProjectsOfProviders(c.Request.Context())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// usersOfProviders godoc
//
//	@Summary		Users of service providers
//	@Description	Staff and support. Per service provider and consuming organization, the users holding a role in force on a project with an active resource of the provider's offerings.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	ProviderConsumerCount
//	@Router			/api/marketplace-stats/count_users_of_service_providers/ [get]
func (m *Module) usersOfProviders(c *gin.Context) error {
	rows, err := m.q.UsersOfProviders(c.Request.Context(), m.now())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// uniqueUsersOfProviders godoc
//
//	@Summary		Unique users of each service provider's active resources
//	@Description	Staff and support. Per service provider (its organization), the distinct users holding a role in force on a project with an active resource of its offerings.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	UniqueUsers
//	@Router			/api/marketplace-stats/count_unique_users_connected_with_active_resources_of_service_provider/ [get]
func (m *Module) uniqueUsersOfProviders(c *gin.Context) error {
	rows, err := m.q.UniqueUsersOfProviders(c.Request.Context(), m.now())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// offeringsCounter godoc
//
//	@Summary		Offerings per category and service provider
//	@Description	Staff and support. The Active offerings counted per category and service provider.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	OfferingCounter
//	@Router			/api/marketplace-stats/offerings_counter_stats/ [get]
func (m *Module) offeringsCounter(c *gin.Context) error {
	rows, err := m.q.OfferingsCounter(c.Request.Context())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// customerMemberSummary godoc
//
//	@Summary		Summary of organization members
//	@Description	Staff and support. Organizations, memberships (users with a role in force on an organization, once per organization), organizations with active resources, and the memberships per organization (rounded down).
//	@Tags			marketplace-stats
//	@Produce		json
//	@Success		200	{object}	MemberSummary
//	@Router			/api/marketplace-stats/customer_member_summary/ [get]
func (m *Module) customerMemberSummary(c *gin.Context) error {
	s, err := m.q.CustomerMemberSummary(c.Request.Context(), m.now())
	if err != nil {
		return err
	}
	return one(c, s)
}

// resourcesGeography godoc
//
//	@Summary		Geography of the active resources
//	@Description	Staff and support. The active resources, the countries of their offerings (set ones), their offerings; organization groups are not served (0).
//	@Tags			marketplace-stats
//	@Produce		json
//	@Success		200	{object}	Geography
//	@Router			/api/marketplace-stats/resources_geography_summary/ [get]
func (m *Module) resourcesGeography(c *gin.Context) error {
	s, err := m.q.ResourcesGeography(c.Request.Context())
	if err != nil {
		return err
	}
	return one(c, s)
}

// usageTrends godoc
//
//	@Summary		Usage per month
//	@Description	Staff and support. Per billing month of the last twelve: the usage reported (all components summed), the resources reported for and the usage records.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	UsageTrend
//	@Router			/api/marketplace-stats/aggregated_usage_trends/ [get]
func (m *Module) usageTrends(c *gin.Context) error {
	rows, err := m.q.UsageTrends(c.Request.Context(), addMonths(m.now(), -11))
	if err != nil {
		return err
	}
	return page(c, rows)
}

// usersBy serves a count of the active users by a profile field, rendered
// under key.
func (m *Module) usersBy(column, key string) func(c *gin.Context) error {
	return func(c *gin.Context) error {
		rows, err := m.q.UsersBy(c.Request.Context(), column)
		if err != nil {
			return err
		}
		out := make([]map[string]any, len(rows))
		for i, r := range rows {
			out[i] = map[string]any{key: r.Value, "count": r.Count}
		}
		return page(c, out)
	}
}

// userAuthMethodCount godoc
//
//	@Summary		Users per registration method
//	@Description	Staff and support. The active users counted per registration method, largest first.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	map[string]any
//	@Router			/api/marketplace-stats/user_auth_method_count/ [get]
func (m *Module) userAuthMethodCount(c *gin.Context) error {
	return m.usersBy("registration_method", "method")(c)
}

// userJobTitleCount godoc
//
//	@Summary		Users per job title
//	@Description	Staff and support. The active users counted per job title ("" when unset), largest first.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	map[string]any
//	@Router			/api/marketplace-stats/user_job_title_count/ [get]
func (m *Module) userJobTitleCount(c *gin.Context) error {
	return m.usersBy("job_title", "job_title")(c)
}

// userOrganizationCount godoc
//
//	@Summary		Users per organization
//	@Description	Staff and support. The active users counted per their profile's organization ("" when unset), largest first.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	map[string]any
//	@Router			/api/marketplace-stats/user_organization_count/ [get]
func (m *Module) userOrganizationCount(c *gin.Context) error {
	return m.usersBy("organization", "organization")(c)
}

// userIdentitySourceCount godoc
//
//	@Summary		Users per identity source
//	@Description	Staff and support. The active users counted per identity source ("" when unset), largest first.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	map[string]any
//	@Router			/api/marketplace-stats/user_identity_source_count/ [get]
func (m *Module) userIdentitySourceCount(c *gin.Context) error {
	return m.usersBy("identity_source", "identity_source")(c)
}

// userOrganizationTypeCount godoc
//
//	@Summary		Users per organization type
//	@Description	Staff and support. The active users counted per organization type (SCHAC URN, "" when unset), largest first.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	map[string]any
//	@Router			/api/marketplace-stats/user_organization_type_count/ [get]
func (m *Module) userOrganizationTypeCount(c *gin.Context) error {
	return m.usersBy("organization_type", "organization_type")(c)
}

// userAffiliationCount godoc
//
//	@Summary		Users per affiliation
//	@Description	Staff and support. The active users counted per affiliation (a user with several under each), largest first.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	map[string]any
//	@Router			/api/marketplace-stats/user_affiliation_count/ [get]
func (m *Module) userAffiliationCount(c *gin.Context) error {
	rows, err := m.q.UsersByAffiliation(c.Request.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = map[string]any{"affiliation": r.Value, "count": r.Count}
	}
	return page(c, out)
}

// projectClassification godoc
//
//	@Summary		Projects by industry flag
//	@Description	Staff and support. The projects (not removed), academic (is_industry false) and industry ones.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Success		200	{object}	Classification
//	@Router			/api/marketplace-stats/project_classification_summary/ [get]
func (m *Module) projectClassification(c *gin.Context) error {
	s, err := m.q.ProjectClassification(c.Request.Context())
	if err != nil {
		return err
	}
	return one(c, s)
}
