package stats

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// A service provider's statistics: the marketplace-stats provider_*
// actions and the provider's stat/ and revenue/ actions. A provider's
// resources are those of its organization's offerings.

// ProviderStat is Waldur's ServiceProviderStatistics. This build has no
// campaigns nor support tickets: active_campaigns and unresolved_tickets
// are 0.
type ProviderStat struct {
	ActiveCampaigns          int64 `json:"active_campaigns" example:"0"`
	CurrentCustomers         int64 `json:"current_customers" example:"2"`
	CustomersNumberChange    int64 `json:"customers_number_change" example:"1"`
	ActiveResources          int64 `json:"active_resources" example:"4"`
	ResourcesNumberChange    int64 `json:"resources_number_change" example:"-1"`
	ActiveAndPausedOfferings int64 `json:"active_and_paused_offerings" example:"2"`
	UnresolvedTickets        int64 `json:"unresolved_tickets" example:"0"`
	PendingOrders            int64 `json:"pending_orders" example:"1"`
	ErredResources           int64 `json:"erred_resources" example:"1"`
}

// ProviderStat computes the provider's figures in one query of scalar
// subqueries: organizations with active resources, the change of the
// organizations and of the resources created this month against the
// previous month, active resources, active and paused offerings, orders
// waiting for the provider, erred resources.
func (q *Queries) ProviderStat(ctx context.Context, providerCustomerID int64, now time.Time) (ProviderStat, error) {
	var out ProviderStat
	this, prev := monthStart(now), addMonths(now, -1)
	res := `FROM resources r JOIN offerings f ON f.id = r.offering_id JOIN projects p ON p.id = r.project_id WHERE f.customer_id = @sp`
	err := q.db.WithContext(ctx).Raw(`SELECT
			(SELECT COUNT(DISTINCT p.customer_id) `+res+` AND r.state IN `+activeStates+`) AS current_customers,
			(SELECT COUNT(DISTINCT p.customer_id) `+res+` AND r.created >= @this)
				- (SELECT COUNT(DISTINCT p.customer_id) `+res+` AND r.created >= @prev AND r.created < @this) AS customers_number_change,
			(SELECT COUNT(*) `+res+` AND r.state IN `+activeStates+`) AS active_resources,
			(SELECT COUNT(*) `+res+` AND r.created >= @this)
				- (SELECT COUNT(*) `+res+` AND r.created >= @prev AND r.created < @this) AS resources_number_change,
			(SELECT COUNT(*) FROM offerings WHERE customer_id = @sp AND state IN ('Active', 'Paused')) AS active_and_paused_offerings,
			(SELECT COUNT(*) FROM orders o JOIN offerings f ON f.id = o.offering_id
				WHERE f.customer_id = @sp AND o.state = 'pending-provider') AS pending_orders,
			(SELECT COUNT(*) `+res+` AND r.state = 'Erred') AS erred_resources`,
		map[string]any{"sp": providerCustomerID, "this": this, "prev": prev}).Scan(&out).Error
	if err != nil {
		return out, models.Internal(err)
	}
	return out, nil
}

// Revenue is Waldur's ServiceProviderRevenues: the provider's invoice
// items of a month, summed (rounded to a whole amount).
type Revenue struct {
	Total int64 `json:"total" example:"1200"`
	Year  int   `json:"year" example:"2026"`
	Month int   `json:"month" example:"3"`
}

// Revenue sums the invoice items of the provider's offerings per invoice
// month, from since's month on.
func (q *Queries) Revenue(ctx context.Context, providerCustomerID int64, since time.Time) ([]Revenue, error) {
	var rows []struct {
		Year, Month int
		Total       float64
	}
	s := monthStart(since)
	if err := q.raw(ctx, &rows, `SELECT i.year, i.month, SUM(ii.price) AS total
		FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id JOIN offerings f ON f.id = ii.offering_id
		WHERE f.customer_id = ? AND i.year * 100 + i.month >= ? AND `+notDeleted+`
		GROUP BY i.year, i.month ORDER BY i.year, i.month`, providerCustomerID, s.Year()*100+int(s.Month())); err != nil {
		return nil, err
	}
	out := make([]Revenue, len(rows))
	for i, r := range rows {
		out[i] = Revenue{Total: int64(math.Round(r.Total)), Year: r.Year, Month: r.Month}
	}
	return out, nil
}

// ProviderOfferings is Waldur's ProviderOfferingStats.
type ProviderOfferings struct {
	Offerings []OfferingFigures `json:"offerings"`
}

// OfferingFigures are one offering's figures: its resources (active and
// not terminated) and the current month's revenue.
type OfferingFigures struct {
	UUID            string  `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Name            string  `json:"name" example:"VMs"`
	Type            string  `json:"type" example:"Marketplace.Basic"`
	State           string  `json:"state" example:"Active"`
	ActiveResources int64   `json:"active_resources" example:"3"`
	TotalResources  int64   `json:"total_resources" example:"4"`
	Revenue         float64 `json:"revenue" example:"120.5"`
}

// ProviderOfferings lists the provider's offerings with their figures.
func (q *Queries) ProviderOfferings(ctx context.Context, providerCustomerID int64, month time.Time) ([]OfferingFigures, error) {
	out := []OfferingFigures{}
	err := q.raw(ctx, &out, `SELECT f.uuid, f.name, f.type, f.state,
			(SELECT COUNT(*) FROM resources r WHERE r.offering_id = f.id AND r.state IN `+activeStates+`) AS active_resources,
			(SELECT COUNT(*) FROM resources r WHERE r.offering_id = f.id AND r.state <> 'Terminated') AS total_resources,
			(SELECT COALESCE(SUM(ii.price), 0) FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id
				WHERE ii.offering_id = f.id AND i.year = ? AND i.month = ? AND `+notDeleted+`) AS revenue
		FROM offerings f WHERE f.customer_id = ? ORDER BY f.name, f.id`, month.Year(), int(month.Month()), providerCustomerID)
	for i := range out {
		out[i].Revenue = math.Round(out[i].Revenue*100) / 100
	}
	return out, err
}

// ProviderResources is Waldur's ProviderResourceStats.
type ProviderResources struct {
	Total      int64               `json:"total" example:"5"`
	ByState    map[string]int64    `json:"by_state"`
	ByOffering []OfferingResources `json:"by_offering"`
	Monthly    []MonthCount        `json:"monthly"`
}

// OfferingResources counts an offering's resources not terminated.
type OfferingResources struct {
	OfferingUUID string `json:"offering_uuid" example:"e42473f39c844333a80107e139a4dd06"`
	OfferingName string `json:"offering_name" example:"VMs"`
	Count        int64  `json:"count" example:"3"`
}

// MonthCount is a count for a month.
type MonthCount struct {
	Year  int   `json:"year" example:"2026"`
	Month int   `json:"month" example:"3"`
	Count int64 `json:"count" example:"2"`
}

// ProviderResources counts the provider's resources in one UNION ALL
// query: per state (all resources), per offering (not terminated) and per
// month of creation from since's month on.
func (q *Queries) ProviderResources(ctx context.Context, providerCustomerID int64, since time.Time) (ProviderResources, error) {
	out := ProviderResources{ByState: map[string]int64{}, ByOffering: []OfferingResources{}, Monthly: []MonthCount{}}
	y, mo := q.part("YEAR", "r.created", true), q.part("MONTH", "r.created", true)
	var rows []struct {
		Kind      string
		K1, K2    string
		Year, Mon int
		N         int64
	}
	res := `FROM resources r JOIN offerings f ON f.id = r.offering_id WHERE f.customer_id = @sp`
	if err := q.db.WithContext(ctx).Raw(`SELECT * FROM (
			SELECT 'state' AS kind, r.state AS k1, '' AS k2, 0 AS year, 0 AS mon, COUNT(*) AS n `+res+` GROUP BY r.state
			UNION ALL
			SELECT 'offering', f.uuid, f.name, 0, 0, COUNT(*) `+res+` AND r.state <> 'Terminated' GROUP BY f.id, f.uuid, f.name
			UNION ALL
			SELECT 'month', '', '', `+y+`, `+mo+`, COUNT(*) `+res+` AND r.created >= @since GROUP BY `+y+`, `+mo+`
		) t ORDER BY kind, year, mon, k2, k1`,
		map[string]any{"sp": providerCustomerID, "since": monthStart(since)}).Scan(&rows).Error; err != nil {
		return out, models.Internal(err)
	}
	for _, r := range rows {
		switch r.Kind {
		case "state":
			out.ByState[r.K1] = r.N
			out.Total += r.N
		case "offering":
			out.ByOffering = append(out.ByOffering, OfferingResources{OfferingUUID: r.K1, OfferingName: r.K2, Count: r.N})
		case "month":
			out.Monthly = append(out.Monthly, MonthCount{Year: r.Year, Month: r.Mon, Count: r.N})
		}
	}
	return out, nil
}

// ProviderCustomers is Waldur's ProviderCustomerStats.
type ProviderCustomers struct {
	Total          int64            `json:"total" example:"3"`
	NewThisMonth   int64            `json:"new_this_month" example:"1"`
	TopByRevenue   []CustomerAmount `json:"top_by_revenue"`
	TopByResources []CustomerAmount `json:"top_by_resources"`
	Monthly        []MonthCount     `json:"monthly"`
}

// CustomerAmount is an organization's revenue (top_by_revenue) or count of
// resources (top_by_resources).
type CustomerAmount struct {
	UUID    string   `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
	Name    string   `json:"name" example:"Alpha"`
	Revenue *float64 `json:"revenue,omitempty" example:"120.5"`
	Count   *int64   `json:"count,omitempty" example:"2"`
}

// topN is how many organizations the top lists name.
const topN = 5

// ProviderCustomers counts the provider's consumers (organizations with a
// resource not terminated), those whose first resource was created this
// month, the top five by invoiced revenue (all months) and by resources,
// and per month of creation from since's month on the organizations that
// created a resource, in one UNION ALL query.
func (q *Queries) ProviderCustomers(ctx context.Context, providerCustomerID int64, now, since time.Time) (ProviderCustomers, error) {
	out := ProviderCustomers{TopByRevenue: []CustomerAmount{}, TopByResources: []CustomerAmount{}, Monthly: []MonthCount{}}
	y, mo := q.part("YEAR", "r.created", true), q.part("MONTH", "r.created", true)
	var rows []struct {
		Kind      string
		UUID      string
		Name      string
		Year, Mon int
		N         float64
	}
	res := `FROM resources r JOIN offerings f ON f.id = r.offering_id JOIN projects p ON p.id = r.project_id WHERE f.customer_id = @sp`
	if err := q.db.WithContext(ctx).Raw(`SELECT * FROM (
			SELECT 'total' AS kind, '' AS uuid, '' AS name, 0 AS year, 0 AS mon, COUNT(DISTINCT p.customer_id) AS n `+res+` AND r.state <> 'Terminated'
			UNION ALL
			SELECT 'new', '', '', 0, 0, COUNT(*) FROM (SELECT p.customer_id `+res+` GROUP BY p.customer_id HAVING MIN(r.created) >= @this) nc
			UNION ALL
			SELECT * FROM (SELECT 'revenue' AS kind, c.uuid, c.name, 0 AS year, 0 AS mon, SUM(ii.price) AS n
				FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id JOIN offerings f ON f.id = ii.offering_id
				JOIN customers c ON c.id = i.customer_id
				WHERE f.customer_id = @sp AND `+notDeleted+`
				GROUP BY c.id, c.uuid, c.name ORDER BY n DESC, c.name LIMIT @top) tr
			UNION ALL
			SELECT * FROM (SELECT 'resources' AS kind, c.uuid, c.name, 0 AS year, 0 AS mon, COUNT(*) AS n
				FROM resources r JOIN offerings f ON f.id = r.offering_id JOIN projects p ON p.id = r.project_id
				JOIN customers c ON c.id = p.customer_id
				WHERE f.customer_id = @sp AND r.state <> 'Terminated'
				GROUP BY c.id, c.uuid, c.name ORDER BY n DESC, c.name LIMIT @top) tc
			UNION ALL
			SELECT 'month', '', '', `+y+`, `+mo+`, COUNT(DISTINCT p.customer_id) `+res+` AND r.created >= @since GROUP BY `+y+`, `+mo+`
		) t`,
		map[string]any{"sp": providerCustomerID, "this": monthStart(now), "since": monthStart(since), "top": topN}).Scan(&rows).Error; err != nil {
		return out, models.Internal(err)
	}
	for _, r := range rows {
		switch r.Kind {
		case "total":
			out.Total = int64(r.N)
		case "new":
			out.NewThisMonth = int64(r.N)
		case "revenue":
			v := math.Round(r.N*100) / 100
			out.TopByRevenue = append(out.TopByRevenue, CustomerAmount{UUID: r.UUID, Name: r.Name, Revenue: &v})
		case "resources":
			n := int64(r.N)
			out.TopByResources = append(out.TopByResources, CustomerAmount{UUID: r.UUID, Name: r.Name, Count: &n})
		case "month":
			out.Monthly = append(out.Monthly, MonthCount{Year: r.Year, Month: r.Mon, Count: int64(r.N)})
		}
	}
	sortTop(out.TopByRevenue, func(a CustomerAmount) float64 { return *a.Revenue })
	sortTop(out.TopByResources, func(a CustomerAmount) float64 { return float64(*a.Count) })
	sortMonths(out.Monthly)
	return out, nil
}

// provider loads the service provider id, on whose organization the
// caller must hold perm (staff always pass; global support too when
// support is true: the marketplace-stats actions are Waldur's IsSupport
// view, the provider's own actions x-permissions, which support lacks).
func (m *Module) provider(c *gin.Context, perm models.Permission, id models.UUID, support bool) (*store.ServiceProvider, error) {
	sp, err := m.st.ServiceProviderByUUID(c.Request.Context(), id)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return nil, api.NotFound("ServiceProvider")
		}
		return nil, err
	}
	u := api.CurrentUser(c)
	if u.IsStaff || (support && u.IsSupport) {
		return sp, nil
	}
	// Service providers are listed to every user: a caller without the
	// permission is refused, not told the provider does not exist.
	if err := m.chk.Require(c.Request.Context(), u, perm, models.Scope{Type: models.ScopeCustomer, ID: sp.CustomerID}); err != nil {
		return nil, err
	}
	return sp, nil
}

// queryProvider reads the required ?provider_uuid= of the provider_* actions.
func (m *Module) queryProvider(c *gin.Context) (*store.ServiceProvider, error) {
	s := rest.Last(c, "provider_uuid")
	if s == "" {
		return nil, models.FieldError("provider_uuid", "This field is required.")
	}
	id, err := models.ParseUUID(s)
	if err != nil {
		return nil, models.FieldError("provider_uuid", "Must be a valid UUID.")
	}
	return m.provider(c, "SERVICE_PROVIDER.GET_STATISTICS", id, true)
}

// providerOfferings godoc
//
//	@Summary		A service provider's offerings
//	@Description	Staff, support and those holding SERVICE_PROVIDER.GET_STATISTICS on the provider's organization. Each offering of the provider: its active resources, resources not terminated and the current month's invoiced revenue.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			provider_uuid	query	string	true	"Service provider UUID"
//	@Success		200	{object}	ProviderOfferings
//	@Failure		400	{object}	map[string][]string
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/marketplace-stats/provider_offerings/ [get]
func (m *Module) providerOfferings(c *gin.Context) error {
	sp, err := m.queryProvider(c)
	if err != nil {
		return err
	}
	rows, err := m.q.ProviderOfferings(c.Request.Context(), sp.CustomerID, m.now())
	if err != nil {
		return err
	}
	return one(c, ProviderOfferings{Offerings: rows})
}

// providerResources godoc
//
//	@Summary		A service provider's resources
//	@Description	Staff, support and those holding SERVICE_PROVIDER.GET_STATISTICS on the provider's organization. The provider's resources: total and per state (all), per offering (not terminated), per month of creation (the last twelve months).
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			provider_uuid	query	string	true	"Service provider UUID"
//	@Success		200	{object}	ProviderResources
//	@Failure		400	{object}	map[string][]string
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/marketplace-stats/provider_resources/ [get]
func (m *Module) providerResources(c *gin.Context) error {
	sp, err := m.queryProvider(c)
	if err != nil {
		return err
	}
	s, err := m.q.ProviderResources(c.Request.Context(), sp.CustomerID, addMonths(m.now(), -11))
	if err != nil {
		return err
	}
	return one(c, s)
}

// providerCustomers godoc
//
//	@Summary		A service provider's customers
//	@Description	Staff, support and those holding SERVICE_PROVIDER.GET_STATISTICS on the provider's organization. The organizations using the provider's offerings: how many (with a resource not terminated), new this month (first resource created this month), the top five by invoiced revenue and by resources, and per month (the last twelve) the organizations that created a resource.
//	@Tags			marketplace-stats
//	@Produce		json
//	@Param			provider_uuid	query	string	true	"Service provider UUID"
//	@Success		200	{object}	ProviderCustomers
//	@Failure		400	{object}	map[string][]string
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/marketplace-stats/provider_customers/ [get]
func (m *Module) providerCustomers(c *gin.Context) error {
	sp, err := m.queryProvider(c)
	if err != nil {
		return err
	}
	s, err := m.q.ProviderCustomers(c.Request.Context(), sp.CustomerID, m.now(), addMonths(m.now(), -11))
	if err != nil {
		return err
	}
	return one(c, s)
}

// providerStat godoc
//
//	@Summary		Get service provider statistics
//	@Description	SERVICE_PROVIDER.GET_STATISTICS on the provider's organization. Organizations with active resources, active resources, the change of organizations and resources created this month against the previous month, active and paused offerings, orders waiting for the provider, erred resources. Campaigns and tickets are not served (0).
//	@Tags			marketplace-service-providers
//	@Produce		json
//	@Param			uuid	path	string	true	"Service provider UUID"
//	@Success		200	{object}	ProviderStat
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/marketplace-service-providers/{uuid}/stat/ [get]
func (m *Module) providerStat(c *gin.Context) error {
	id, err := api.PathUUID(c, "ServiceProvider")
	if err != nil {
		return err
	}
	sp, err := m.provider(c, "SERVICE_PROVIDER.GET_STATISTICS", id, false)
	if err != nil {
		return err
	}
	s, err := m.q.ProviderStat(c.Request.Context(), sp.CustomerID, m.now())
	if err != nil {
		return err
	}
	return one(c, s)
}

// providerRevenue godoc
//
//	@Summary		Get service provider revenue
//	@Description	SERVICE_PROVIDER.GET_REVENUE on the provider's organization. The invoice items of the provider's offerings summed per month, for the last twelve months (months without items are left out).
//	@Tags			marketplace-service-providers
//	@Produce		json
//	@Param			uuid		path	string	true	"Service provider UUID"
//	@Param			page		query	int		false	"Page"
//	@Param			page_size	query	int		false	"Page size"
//	@Success		200	{array}	Revenue
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/marketplace-service-providers/{uuid}/revenue/ [get]
func (m *Module) providerRevenue(c *gin.Context) error {
	id, err := api.PathUUID(c, "ServiceProvider")
	if err != nil {
		return err
	}
	sp, err := m.provider(c, "SERVICE_PROVIDER.GET_REVENUE", id, false)
	if err != nil {
		return err
	}
	rows, err := m.q.Revenue(c.Request.Context(), sp.CustomerID, addMonths(m.now(), -11))
	if err != nil {
		return err
	}
	return page(c, rows)
}

// sortTop orders a top list by its amount, largest first, then by name
// (the UNION ALL gives its parts in no set order).
func sortTop(s []CustomerAmount, amount func(CustomerAmount) float64) {
	sort.SliceStable(s, func(i, j int) bool {
		if a, b := amount(s[i]), amount(s[j]); a != b {
			return a > b
		}
		return s[i].Name < s[j].Name
	})
}

// sortMonths orders month counts by month.
func sortMonths(s []MonthCount) {
	sort.Slice(s, func(i, j int) bool { return s[i].Year*100+s[i].Month < s[j].Year*100+s[j].Month })
}
