package stats

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The /api/marketplace-stats/ actions. Organization groups are not served
// by this build: organization_group_name and organization_group_uuid are
// always "".

// CustomerCount is Waldur's MarketplaceCustomerStats: an organization and a count.
type CustomerCount struct {
	UUID         string `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Name         string `json:"name" example:"Alpha"`
	Abbreviation string `json:"abbreviation" example:"ALP"`
	Count        int64  `json:"count" example:"2"`
}

// OrganizationProjectCount is the number of (not removed) projects of each
// organization that has one.
func (q *Queries) OrganizationProjectCount(ctx context.Context) ([]CustomerCount, error) {
	var out []CustomerCount
	err := q.raw(ctx, &out, `SELECT c.uuid, c.name, c.abbreviation, COUNT(p.id) AS count
		FROM customers c JOIN projects p ON p.customer_id = c.id AND p.is_removed = ?
		GROUP BY c.id, c.uuid, c.name, c.abbreviation ORDER BY c.name, c.id`, false)
	return out, err
}

// OrganizationResourceCount is the number of active resources of each
// organization that has one.
func (q *Queries) OrganizationResourceCount(ctx context.Context) ([]CustomerCount, error) {
	var out []CustomerCount
	err := q.raw(ctx, &out, `SELECT c.uuid, c.name, c.abbreviation, COUNT(r.id) AS count
		FROM customers c JOIN projects p ON p.customer_id = c.id JOIN resources r ON r.project_id = p.id
		WHERE r.state IN `+activeStates+`
		GROUP BY c.id, c.uuid, c.name, c.abbreviation ORDER BY c.name, c.id`)
	return out, err
}

// MemberCount is Waldur's CustomerMemberCount.
type MemberCount struct {
	UUID         string `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Name         string `json:"name" example:"Alpha"`
	Abbreviation string `json:"abbreviation" example:"ALP"`
	// Count is the number of users holding a role in force on the organization.
	Count int64 `json:"count" example:"3"`
	// HasResources tells whether a project of the organization has a resource not terminated.
	HasResources bool `json:"has_resources" example:"true"`
}

// CustomerMemberCount is, for every organization, its members (users with
// a role in force on it at now) and whether it has resources.
func (q *Queries) CustomerMemberCount(ctx context.Context, now time.Time) ([]MemberCount, error) {
	var out []MemberCount
	err := q.raw(ctx, &out, `SELECT c.uuid, c.name, c.abbreviation,
			(SELECT COUNT(DISTINCT ur.user_id) FROM user_roles ur
				WHERE ur.scope_type = 'customer' AND ur.scope_id = c.id AND ur.is_active = ?
				AND (ur.expiration_time IS NULL OR ur.expiration_time > ?)) AS count,
			EXISTS (SELECT 1 FROM resources r JOIN projects p ON p.id = r.project_id
				WHERE p.customer_id = c.id AND r.state <> 'Terminated') AS has_resources
		FROM customers c ORDER BY c.name, c.id`, true, now)
	return out, err
}

// ResourceLimit is Waldur's ResourcesLimits: the sum of a limit over the
// active resources of an offering.
type ResourceLimit struct {
	OfferingUUID          string `json:"offering_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Name                  string `json:"name" example:"cpu"`
	Value                 int64  `json:"value" example:"30"`
	OfferingCountry       string `json:"offering_country" example:"EE"`
	OrganizationGroupName string `json:"organization_group_name" example:""`
	OrganizationGroupUUID string `json:"organization_group_uuid" example:""`
}

// ResourcesLimits sums each limit of the active resources per offering.
func (q *Queries) ResourcesLimits(ctx context.Context) ([]ResourceLimit, error) {
	var out []ResourceLimit
	err := q.raw(ctx, &out, `SELECT o.uuid AS offering_uuid, o.country AS offering_country, l.key AS name,
			SUM(CAST(l.value AS BIGINT)) AS value
		FROM resources r JOIN offerings o ON o.id = r.offering_id, `+q.limitPairs("r.limits")+`
		WHERE r.state IN `+activeStates+` AND l.key IS NOT NULL
		GROUP BY o.uuid, o.country, l.key ORDER BY o.uuid, l.key`)
	return out, err
}

// ComponentUsage is Waldur's ComponentUsagesStats (Month and Year set for
// ComponentUsagesPerMonthStats).
type ComponentUsage struct {
	Usage                 string `json:"usage" example:"15.00"`
	OfferingUUID          string `json:"offering_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	ComponentType         string `json:"component_type" example:"cpu"`
	OfferingCountry       string `json:"offering_country" example:"EE"`
	OrganizationGroupName string `json:"organization_group_name" example:""`
	OrganizationGroupUUID string `json:"organization_group_uuid" example:""`
}

// ComponentUsageMonth is Waldur's ComponentUsagesPerMonthStats.
type ComponentUsageMonth struct {
	ComponentUsage
	Month int `json:"month" example:"3"`
	Year  int `json:"year" example:"2026"`
}

type usageRow struct {
	OfferingUUID    string
	OfferingCountry string
	ComponentType   string
	Year, Month     int
	Usage           float64
}

func (r usageRow) render() ComponentUsage {
	return ComponentUsage{Usage: decimal(r.Usage), OfferingUUID: r.OfferingUUID, ComponentType: r.ComponentType, OfferingCountry: r.OfferingCountry}
}

// ComponentUsages sums the usages reported for the billing period of month
// (its first day) per offering and component type.
func (q *Queries) ComponentUsages(ctx context.Context, month time.Time) ([]ComponentUsage, error) {
	var rows []usageRow
	if err := q.raw(ctx, &rows, `SELECT o.uuid AS offering_uuid, o.country AS offering_country, oc.type AS component_type,
			SUM(cu.usage) AS usage
		FROM component_usages cu JOIN offering_components oc ON oc.id = cu.component_id
			JOIN offerings o ON o.id = oc.offering_id
		WHERE cu.billing_period >= ? AND cu.billing_period < ?
		GROUP BY o.uuid, o.country, oc.type ORDER BY o.uuid, oc.type`,
		dateString(monthStart(month)), dateString(addMonths(month, 1))); err != nil {
		return nil, err
	}
	out := make([]ComponentUsage, len(rows))
	for i, r := range rows {
		out[i] = r.render()
	}
	return out, nil
}

// ComponentUsagesPerMonth sums the usages per offering, component type and
// billing month, from since's month on.
func (q *Queries) ComponentUsagesPerMonth(ctx context.Context, since time.Time) ([]ComponentUsageMonth, error) {
	var rows []usageRow
	y, m := q.part("YEAR", "cu.billing_period", false), q.part("MONTH", "cu.billing_period", false)
	if err := q.raw(ctx, &rows, `SELECT o.uuid AS offering_uuid, o.country AS offering_country, oc.type AS component_type,
			`+y+` AS year, `+m+` AS month, SUM(cu.usage) AS usage
		FROM component_usages cu JOIN offering_components oc ON oc.id = cu.component_id
			JOIN offerings o ON o.id = oc.offering_id
		WHERE cu.billing_period >= ?
		GROUP BY o.uuid, o.country, oc.type, `+y+`, `+m+`
		ORDER BY 4, 5, o.uuid, oc.type`, dateString(monthStart(since))); err != nil {
		return nil, err
	}
	out := make([]ComponentUsageMonth, len(rows))
	for i, r := range rows {
		out[i] = ComponentUsageMonth{ComponentUsage: r.render(), Year: r.Year, Month: r.Month}
	}
	return out, nil
}

// ProjectUsage is Waldur's ComponentUsagesPerProject.
type ProjectUsage struct {
	ProjectUUID   string `json:"project_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	ComponentType string `json:"component_type" example:"cpu"`
	Usage         int64  `json:"usage" example:"15"`
}

// ComponentUsagesPerProject sums the usages of the billing period of month
// per project and component type.
func (q *Queries) ComponentUsagesPerProject(ctx context.Context, month time.Time) ([]ProjectUsage, error) {
	var rows []struct {
		ProjectUUID   string
		ComponentType string
		Usage         float64
	}
	if err := q.raw(ctx, &rows, `SELECT p.uuid AS project_uuid, oc.type AS component_type, SUM(cu.usage) AS usage
		FROM component_usages cu JOIN offering_components oc ON oc.id = cu.component_id
			JOIN resources r ON r.id = cu.resource_id JOIN projects p ON p.id = r.project_id
		WHERE cu.billing_period >= ? AND cu.billing_period < ?
		GROUP BY p.uuid, oc.type ORDER BY p.uuid, oc.type`,
		dateString(monthStart(month)), dateString(addMonths(month, 1))); err != nil {
		return nil, err
	}
	out := make([]ProjectUsage, len(rows))
	for i, r := range rows {
		out[i] = ProjectUsage{ProjectUUID: r.ProjectUUID, ComponentType: r.ComponentType, Usage: int64(math.Round(r.Usage))}
	}
	return out, nil
}

// OfferingCount is Waldur's OfferingStats.
type OfferingCount struct {
	Count   int64  `json:"count" example:"2"`
	Name    string `json:"name" example:"VMs"`
	UUID    string `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Country string `json:"country" example:"EE"`
}

// ActiveResourcesByOffering counts the active resources per offering.
func (q *Queries) ActiveResourcesByOffering(ctx context.Context) ([]OfferingCount, error) {
	var out []OfferingCount
	err := q.raw(ctx, &out, `SELECT o.uuid, o.name, o.country, COUNT(r.id) AS count
		FROM offerings o JOIN resources r ON r.offering_id = o.id
		WHERE r.state IN `+activeStates+`
		GROUP BY o.id, o.uuid, o.name, o.country ORDER BY o.name, o.id`)
	return out, err
}

// OfferingCost is Waldur's OfferingCost.
type OfferingCost struct {
	OfferingUUID string  `json:"offering_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	OfferingName string  `json:"offering_name" example:"VMs"`
	Cost         float64 `json:"cost" example:"140.5"`
}

// CostPerOffering sums the items of month's invoices of the active
// resources per offering.
func (q *Queries) CostPerOffering(ctx context.Context, month time.Time) ([]OfferingCost, error) {
	var out []OfferingCost
	err := q.raw(ctx, &out, `SELECT o.uuid AS offering_uuid, o.name AS offering_name, SUM(ii.price) AS cost
		FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id
			JOIN resources r ON r.id = ii.resource_id JOIN offerings o ON o.id = r.offering_id
		WHERE i.year = ? AND i.month = ? AND r.state IN `+activeStates+` AND `+notDeleted+`
		GROUP BY o.id, o.uuid, o.name ORDER BY o.name, o.id`, month.Year(), int(month.Month()))
	for i := range out {
		out[i].Cost = math.Round(out[i].Cost*100) / 100
	}
	return out, err
}

// CostsSummary is Waldur's OfferingCostsSummary.
type CostsSummary struct {
	TotalCost     string `json:"total_cost" example:"150.50"`
	OfferingCount int64  `json:"offering_count" example:"2"`
	AverageCost   string `json:"average_cost" example:"75.25"`
}

// OfferingCostsSummary is CostPerOffering summed up in SQL: the total, the
// number of offerings and the average.
func (q *Queries) OfferingCostsSummary(ctx context.Context, month time.Time) (CostsSummary, error) {
	var r struct {
		Total float64
		N     int64
	}
	err := q.raw(ctx, &r, `SELECT COALESCE(SUM(cost), 0) AS total, COUNT(*) AS n FROM (
			SELECT r.offering_id, SUM(ii.price) AS cost
			FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id JOIN resources r ON r.id = ii.resource_id
			WHERE i.year = ? AND i.month = ? AND r.state IN `+activeStates+` AND `+notDeleted+`
			GROUP BY r.offering_id) t`, month.Year(), int(month.Month()))
	avg := 0.0
	if r.N > 0 {
		avg = r.Total / float64(r.N)
	}
	return CostsSummary{TotalCost: decimal(r.Total), OfferingCount: r.N, AverageCost: decimal(avg)}, err
}

// OrderStats is Waldur's OrderStatsResponse.
type OrderStats struct {
	Summary OrderSummary     `json:"summary"`
	ByState map[string]int64 `json:"by_state"`
	ByType  map[string]int64 `json:"by_type"`
	Daily   []DailyOrders    `json:"daily"`
}

// OrderSummary is Waldur's OrderStatsSummary; pending counts the orders
// waiting for a consumer, provider or project approval.
type OrderSummary struct {
	Total        int64  `json:"total" example:"5"`
	TotalCost    string `json:"total_cost" example:"30.00"`
	TotalRevenue string `json:"total_revenue" example:"25.00"`
	Pending      int64  `json:"pending" example:"1"`
	Executing    int64  `json:"executing" example:"1"`
	Done         int64  `json:"done" example:"2"`
	Erred        int64  `json:"erred" example:"1"`
	Canceled     int64  `json:"canceled" example:"0"`
	Rejected     int64  `json:"rejected" example:"0"`
}

// DailyOrders is Waldur's DailyOrderStats.
type DailyOrders struct {
	Date      string           `json:"date" example:"2026-03-14"`
	Total     int64            `json:"total" example:"2"`
	TotalCost string           `json:"total_cost" example:"10.00"`
	Revenue   string           `json:"revenue" example:"10.00"`
	ByState   map[string]int64 `json:"by_state"`
	ByType    map[string]int64 `json:"by_type"`
}

// OrderFilter narrows order_stats: created on days [Start, End] (dates),
// of the projects of a customer, of the offerings of a service provider.
type OrderFilter struct {
	Start, End   time.Time
	CustomerUUID *models.UUID
	ProviderUUID *models.UUID
}

// OrderStats counts and sums the orders per day, state and type in one
// query; the summary and the day list are folded from those groups, and
// every day of the range is listed (zeros included).
func (q *Queries) OrderStats(ctx context.Context, f OrderFilter) (OrderStats, error) {
	var rows []struct {
		Day   Time // SQLite's driver reads a date string as a time
		State string
		Type  string
		N     int64
		Cost  float64
	}
	d := q.day("o.created")
	where := "o.created >= ? AND o.created < ?"
	args := []any{f.Start, f.End.AddDate(0, 0, 1)}
	if f.CustomerUUID != nil {
		where += " AND p.customer_id IN (SELECT id FROM customers WHERE uuid = ?)"
		args = append(args, *f.CustomerUUID)
	}
	if f.ProviderUUID != nil {
		where += " AND f.customer_id IN (SELECT customer_id FROM service_providers WHERE uuid = ?)"
		args = append(args, *f.ProviderUUID)
	}
	out := OrderStats{ByState: map[string]int64{}, ByType: map[string]int64{}, Daily: []DailyOrders{}}
	if err := q.raw(ctx, &rows, `SELECT `+d+` AS day, o.state, o.type, COUNT(*) AS n, COALESCE(SUM(o.cost), 0) AS cost
		FROM orders o JOIN projects p ON p.id = o.project_id JOIN offerings f ON f.id = o.offering_id
		WHERE `+where+` GROUP BY `+d+`, o.state, o.type`, args...); err != nil {
		return out, err
	}
	type acc struct {
		d         DailyOrders
		cost, rev float64
	}
	days := map[string]*acc{}
	var cost, rev float64
	for _, r := range rows {
		day := dateString(r.Day.T)
		a := days[day]
		if a == nil {
			a = &acc{d: DailyOrders{Date: day, ByState: map[string]int64{}, ByType: map[string]int64{}}}
			days[day] = a
		}
		a.d.Total += r.N
		a.d.ByState[r.State] += r.N
		a.d.ByType[r.Type] += r.N
		a.cost += r.Cost
		out.Summary.Total += r.N
		out.ByState[r.State] += r.N
		out.ByType[r.Type] += r.N
		cost += r.Cost
		if r.Type == string(models.OrderCreate) || r.Type == string(models.OrderUpdate) {
			a.rev += r.Cost
			rev += r.Cost
		}
		switch models.OrderState(r.State) {
		case models.OrderPendingConsumer, models.OrderPendingProvider, models.OrderPendingProject:
			out.Summary.Pending += r.N
		case models.OrderExecuting:
			out.Summary.Executing += r.N
		case models.OrderDone:
			out.Summary.Done += r.N
		case models.OrderErred:
			out.Summary.Erred += r.N
		case models.OrderCanceled:
			out.Summary.Canceled += r.N
		case models.OrderRejected:
			out.Summary.Rejected += r.N
		}
	}
	out.Summary.TotalCost, out.Summary.TotalRevenue = decimal(cost), decimal(rev)
	for t := f.Start; !t.After(f.End); t = t.AddDate(0, 0, 1) {
		k := dateString(t)
		if a := days[k]; a != nil {
			a.d.TotalCost, a.d.Revenue = decimal(a.cost), decimal(a.rev)
			out.Daily = append(out.Daily, a.d)
			continue
		}
		out.Daily = append(out.Daily, DailyOrders{Date: k, TotalCost: "0.00", Revenue: "0.00", ByState: map[string]int64{}, ByType: map[string]int64{}})
	}
	return out, nil
}

// Provisioning is Waldur's ResourceProvisioningStats.
type Provisioning struct {
	OfferingUUID                string  `json:"offering_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	OfferingName                string  `json:"offering_name" example:"VMs"`
	ServiceProviderUUID         string  `json:"service_provider_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	ServiceProviderName         string  `json:"service_provider_name" example:"Provider"`
	ProvisioningCount           int64   `json:"provisioning_count" example:"2"`
	ProvisioningSuccessCount    int64   `json:"provisioning_success_count" example:"1"`
	ProvisioningErrorCount      int64   `json:"provisioning_error_count" example:"1"`
	ProvisioningInProgressCount int64   `json:"provisioning_in_progress_count" example:"1"`
	ProvisioningSuccessRate     float64 `json:"provisioning_success_rate" example:"0.5"`
	AvgProvisioningDuration     float64 `json:"avg_provisioning_duration" example:"600"`
	AvgPendingDuration          float64 `json:"avg_pending_duration" example:"60"`
}

// ResourceProvisioning counts the Create orders created since, per
// offering: finished (done or erred), done, erred, in progress; the
// average seconds from the provider's approval (the creation when none) to
// completion, and from creation to the provider's approval.
func (q *Queries) ResourceProvisioning(ctx context.Context, since time.Time) ([]Provisioning, error) {
	var out []Provisioning
	err := q.raw(ctx, &out, `SELECT f.uuid AS offering_uuid, f.name AS offering_name,
			sp.uuid AS service_provider_uuid, c.name AS service_provider_name,
			SUM(CASE WHEN o.state IN ('done', 'erred') THEN 1 ELSE 0 END) AS provisioning_count,
			SUM(CASE WHEN o.state = 'done' THEN 1 ELSE 0 END) AS provisioning_success_count,
			SUM(CASE WHEN o.state = 'erred' THEN 1 ELSE 0 END) AS provisioning_error_count,
			SUM(CASE WHEN o.state IN ('executing', 'pending-consumer', 'pending-provider', 'pending-project') THEN 1 ELSE 0 END)
				AS provisioning_in_progress_count,
			COALESCE(AVG(CASE WHEN o.state IN ('done', 'erred') AND o.completed_at IS NOT NULL
				THEN `+q.seconds("COALESCE(o.provider_reviewed_at, o.created)", "o.completed_at")+` END), 0) AS avg_provisioning_duration,
			COALESCE(AVG(CASE WHEN o.provider_reviewed_at IS NOT NULL
				THEN `+q.seconds("o.created", "o.provider_reviewed_at")+` END), 0) AS avg_pending_duration
		FROM orders o JOIN offerings f ON f.id = o.offering_id JOIN customers c ON c.id = f.customer_id
			JOIN service_providers sp ON sp.customer_id = c.id
		WHERE o.type = 'Create' AND o.created >= ?
		GROUP BY f.id, f.uuid, f.name, sp.uuid, c.name ORDER BY f.name, f.id`, since)
	for i := range out {
		p := &out[i]
		if p.ProvisioningCount > 0 {
			p.ProvisioningSuccessRate = float64(p.ProvisioningSuccessCount) / float64(p.ProvisioningCount)
		}
		p.AvgProvisioningDuration = math.Round(p.AvgProvisioningDuration*1000) / 1000
		p.AvgPendingDuration = math.Round(p.AvgPendingDuration*1000) / 1000
	}
	return out, err
}

// MissingUsage is Waldur's ResourceMissingUsage.
type MissingUsage struct {
	UUID                string     `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Name                string     `json:"name" example:"hpc-1"`
	State               string     `json:"state" example:"OK"`
	Created             time.Time  `json:"created" example:"2026-01-10T10:00:00Z"`
	OfferingName        string     `json:"offering_name" example:"HPC"`
	OfferingUUID        string     `json:"offering_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	ProviderName        string     `json:"provider_name" example:"Provider"`
	ProviderUUID        string     `json:"provider_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	CustomerName        string     `json:"customer_name" example:"Alpha"`
	CustomerUUID        string     `json:"customer_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	ProjectName         string     `json:"project_name" example:"Alpha one"`
	ProjectUUID         string     `json:"project_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	LastUsageDate       *time.Time `json:"last_usage_date" example:"2026-02-10T10:00:00Z"`
	DaysSinceLastReport *int64     `json:"days_since_last_report" example:"33"`
}

// MissingFilter selects resources_missing_usage: month's billing period,
// optionally one provider's offerings.
type MissingFilter struct {
	Month    time.Time
	Provider *models.UUID
}

// from is the FROM and WHERE of resources_missing_usage: the
// active resources of offerings with a usage-billed component that have no
// usage reported for the billing period.
func (f MissingFilter) from() (string, []any) {
	where := ""
	args := []any{dateString(monthStart(f.Month)), dateString(addMonths(f.Month, 1))}
	if f.Provider != nil {
		where = " AND sp.uuid = ?"
		args = append(args, *f.Provider)
	}
	return `FROM resources r JOIN offerings f ON f.id = r.offering_id JOIN customers pc ON pc.id = f.customer_id
			JOIN service_providers sp ON sp.customer_id = pc.id
			JOIN projects p ON p.id = r.project_id JOIN customers c ON c.id = p.customer_id
		WHERE r.state IN ` + activeStates + `
			AND EXISTS (SELECT 1 FROM offering_components oc WHERE oc.offering_id = f.id AND oc.billing_type = 'usage')
			AND NOT EXISTS (SELECT 1 FROM component_usages cu WHERE cu.resource_id = r.id
				AND cu.billing_period >= ? AND cu.billing_period < ?)` + where, args
}

// CountMissingUsage counts the resources ResourcesMissingUsage lists.
func (q *Queries) CountMissingUsage(ctx context.Context, f MissingFilter) (int64, error) {
	var n int64
	from, args := f.from()
	err := q.raw(ctx, &n, `SELECT COUNT(*) `+from, args...)
	return n, err
}

// ResourcesMissingUsage lists a page (limit rows from offset, by creation)
// of the resources missing usage, with their last report (any period).
func (q *Queries) ResourcesMissingUsage(ctx context.Context, f MissingFilter, now time.Time, limit, offset int) ([]MissingUsage, error) {
	var rows []struct {
		MissingUsage
		CreatedAt Time `gorm:"column:created_at"`
		LastUsage Time `gorm:"column:last_usage"`
	}
	from, args := f.from()
	if err := q.raw(ctx, &rows, `SELECT r.uuid, r.name, r.state, r.created AS created_at,
			f.name AS offering_name, f.uuid AS offering_uuid, pc.name AS provider_name, sp.uuid AS provider_uuid,
			c.name AS customer_name, c.uuid AS customer_uuid, p.name AS project_name, p.uuid AS project_uuid,
			(SELECT MAX(cu.date) FROM component_usages cu WHERE cu.resource_id = r.id) AS last_usage
		`+from+`
		ORDER BY r.created, r.id LIMIT ? OFFSET ?`, append(args, limit, offset)...); err != nil {
		return nil, err
	}
	out := make([]MissingUsage, len(rows))
	for i, r := range rows {
		m := r.MissingUsage
		m.Created = r.CreatedAt.T
		if r.LastUsage.Valid {
			t := r.LastUsage.T
			days := int64(now.Sub(t) / (24 * time.Hour))
			m.LastUsageDate, m.DaysSinceLastReport = &t, &days
		}
		out[i] = m
	}
	return out, nil
}

// The handlers.

// organizationProjectCount godoc
//
//	@Summary		Project count per organization
//	@Description	Staff and support. The number of projects (not removed) of each organization that has one.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	CustomerCount
//	@Router			/api/marketplace-stats/organization_project_count/ [get]
func (m *Module) organizationProjectCount(c *gin.Context) error {
	rows, err := m.q.OrganizationProjectCount(c.Request.Context())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// organizationResourceCount godoc
//
//	@Summary		Resource count per organization
//	@Description	Staff and support. The number of active resources (OK, Updating, Terminating) of each organization that has one.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	CustomerCount
//	@Router			/api/marketplace-stats/organization_resource_count/ [get]
func (m *Module) organizationResourceCount(c *gin.Context) error {
	rows, err := m.q.OrganizationResourceCount(c.Request.Context())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// customerMemberCount godoc
//
//	@Summary		Member count per organization
//	@Description	Staff and support. Every organization: the users holding a role in force on it, and whether it has resources not terminated.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	MemberCount
//	@Router			/api/marketplace-stats/customer_member_count/ [get]
func (m *Module) customerMemberCount(c *gin.Context) error {
	rows, err := m.q.CustomerMemberCount(c.Request.Context(), m.now())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// resourcesLimits godoc
//
//	@Summary		Resource limits per offering
//	@Description	Staff and support. Each limit summed over the active resources of an offering.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	ResourceLimit
//	@Router			/api/marketplace-stats/resources_limits/ [get]
func (m *Module) resourcesLimits(c *gin.Context) error {
	rows, err := m.q.ResourcesLimits(c.Request.Context())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// componentUsages godoc
//
//	@Summary		Component usages of the current month
//	@Description	Staff and support. The usages reported for the current billing period, summed per offering and component type.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	ComponentUsage
//	@Router			/api/marketplace-stats/component_usages/ [get]
func (m *Module) componentUsages(c *gin.Context) error {
	rows, err := m.q.ComponentUsages(c.Request.Context(), m.now())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// componentUsagesPerMonth godoc
//
//	@Summary		Component usages per month
//	@Description	Staff and support. The usages of the last twelve billing periods (this month included), summed per offering, component type and month.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	ComponentUsageMonth
//	@Router			/api/marketplace-stats/component_usages_per_month/ [get]
func (m *Module) componentUsagesPerMonth(c *gin.Context) error {
	rows, err := m.q.ComponentUsagesPerMonth(c.Request.Context(), addMonths(m.now(), -11))
	if err != nil {
		return err
	}
	return page(c, rows)
}

// componentUsagesPerProject godoc
//
//	@Summary		Component usages per project
//	@Description	Staff and support. The usages of the current billing period, summed per project and component type.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	ProjectUsage
//	@Router			/api/marketplace-stats/component_usages_per_project/ [get]
func (m *Module) componentUsagesPerProject(c *gin.Context) error {
	rows, err := m.q.ComponentUsagesPerProject(c.Request.Context(), m.now())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// activeResourcesByOffering godoc
//
//	@Summary		Active resources per offering
//	@Description	Staff and support. The number of active resources (OK, Updating, Terminating) of each offering that has one.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	OfferingCount
//	@Router			/api/marketplace-stats/count_active_resources_grouped_by_offering/ [get]
func (m *Module) activeResourcesByOffering(c *gin.Context) error {
	rows, err := m.q.ActiveResourcesByOffering(c.Request.Context())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// costPerOffering godoc
//
//	@Summary		Cost of the active resources per offering
//	@Description	Staff and support. The current month's invoice items of the active resources, summed per offering.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			page		query	int	false	"Page"
//	@Param			page_size	query	int	false	"Page size"
//	@Success		200	{array}	OfferingCost
//	@Router			/api/marketplace-stats/total_cost_of_active_resources_per_offering/ [get]
func (m *Module) costPerOffering(c *gin.Context) error {
	rows, err := m.q.CostPerOffering(c.Request.Context(), m.now())
	if err != nil {
		return err
	}
	return page(c, rows)
}

// offeringCostsSummary godoc
//
//	@Summary		Summary of the offerings' costs
//	@Description	Staff and support. total_cost_of_active_resources_per_offering summed: the total, the number of offerings and the average per offering.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Success		200	{object}	CostsSummary
//	@Router			/api/marketplace-stats/offering_costs_summary/ [get]
func (m *Module) offeringCostsSummary(c *gin.Context) error {
	s, err := m.q.OfferingCostsSummary(c.Request.Context(), m.now())
	if err != nil {
		return err
	}
	return one(c, s)
}

// orderStats godoc
//
//	@Summary		Order statistics
//	@Description	Staff and support. The orders created from start to end (dates, default the last 30 days): counts per state and type, cost and revenue (the cost of Create and Update orders), per day and in total.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			start			query	string	false	"Start date (YYYY-MM-DD), default 30 days ago"
//	@Param			end				query	string	false	"End date (YYYY-MM-DD), default today"
//	@Param			customer_uuid	query	string	false	"Orders of the projects of this organization"
//	@Param			provider_uuid	query	string	false	"Orders of the offerings of this service provider"
//	@Success		200	{object}	OrderStats
//	@Failure		400	{object}	map[string][]string
//	@Router			/api/marketplace-stats/order_stats/ [get]
func (m *Module) orderStats(c *gin.Context) error {
	var f OrderFilter
	var err error
	today := m.today()
	if f.End, err = parseDate(c, "end", today); err != nil {
		return err
	}
	if f.Start, err = parseDate(c, "start", f.End.AddDate(0, 0, -30)); err != nil {
		return err
	}
	if f.Start.After(f.End) {
		return models.FieldError("start", "Start date must be before end date.")
	}
	if f.End.Sub(f.Start) > 3660*24*time.Hour {
		return models.FieldError("start", "The range must not exceed ten years.")
	}
	if f.CustomerUUID, err = optionalUUID(c, "customer_uuid"); err != nil {
		return err
	}
	if f.ProviderUUID, err = optionalUUID(c, "provider_uuid"); err != nil {
		return err
	}
	s, err := m.q.OrderStats(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return one(c, s)
}

// resourceProvisioningStats godoc
//
//	@Summary		Resource provisioning statistics
//	@Description	Staff and support. The Create orders of the last last_minutes (default 60), per offering: finished, done, erred, in progress, the success rate and the average durations in seconds (pending: creation to the provider's approval; provisioning: that approval, or the creation, to completion).
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			last_minutes	query	int	false	"Minutes back (default 60)"
//	@Param			page			query	int	false	"Page"
//	@Param			page_size		query	int	false	"Page size"
//	@Success		200	{array}	Provisioning
//	@Failure		400	{object}	map[string][]string
//	@Router			/api/marketplace-stats/resource_provisioning_stats/ [get]
func (m *Module) resourceProvisioningStats(c *gin.Context) error {
	minutes := 60
	if s := rest.Last(c, "last_minutes"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return models.FieldError("last_minutes", "A valid integer greater than or equal to 1 is required.")
		}
		minutes = n
	}
	rows, err := m.q.ResourceProvisioning(c.Request.Context(), m.now().Add(-time.Duration(minutes)*time.Minute))
	if err != nil {
		return err
	}
	return page(c, rows)
}

// resourcesMissingUsage godoc
//
//	@Summary		Resources missing usage
//	@Description	Staff and support. The active resources of offerings with a usage-billed component that have no usage reported for the billing period (YYYY-MM, default the current month), with their last report.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			billing_period	query	string	false	"Billing period (YYYY-MM)"
//	@Param			provider_uuid	query	string	false	"Service provider UUID"
//	@Param			page			query	int		false	"Page"
//	@Param			page_size		query	int		false	"Page size"
//	@Success		200	{array}	MissingUsage
//	@Failure		400	{object}	map[string][]string
//	@Router			/api/marketplace-stats/resources_missing_usage/ [get]
func (m *Module) resourcesMissingUsage(c *gin.Context) error {
	f := MissingFilter{Month: monthStart(m.now())}
	if s := rest.Last(c, "billing_period"); s != "" {
		t, err := time.Parse("2006-01", s)
		if err != nil {
			return models.FieldError("billing_period", "Invalid billing period format. Use YYYY-MM.")
		}
		f.Month = t
	}
	var err error
	if f.Provider, err = optionalUUID(c, "provider_uuid"); err != nil {
		return err
	}
	ctx := c.Request.Context()
	// One row per resource: paged in SQL.
	return pageSQL(c, func() (int64, error) { return m.q.CountMissingUsage(ctx, f) },
		func(limit, offset int) ([]MissingUsage, error) {
			return m.q.ResourcesMissingUsage(ctx, f, m.now(), limit, offset)
		})
}
