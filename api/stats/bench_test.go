package stats_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/stats"
	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// benchStatsResources is the size of the statistics benchmark: resources
// (WALDUR_BENCH_STATS_RESOURCES, default 100,000); each has two usage
// components reported for five months, so ten usage rows a resource (1M
// by default).
func benchStatsResources() int {
	if n, err := strconv.Atoi(os.Getenv("WALDUR_BENCH_STATS_RESOURCES")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// seedStatsBench fills a PostgreSQL database in SQL: 1000 organizations
// with a project and an owner each, a provider with ten offerings of two
// usage components (cpu, ram), n resources spread over the projects and
// offerings (one in twenty Terminated, one in fifty Erred, the others OK;
// created over the 300 days up to the day before now), each with a done
// Create order, usages of both components for now's month and the four
// before it and an invoice item of now's month (price 10); a resource quota
// for every organization and project. The dates follow now because the API
// reads the wall clock (app.NewAPI has no clock to set).
func seedStatsBench(b *testing.B, db *gorm.DB, n int, now time.Time) {
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	date := func(t time.Time) string { return "DATE '" + t.Format("2006-01-02") + "'" }
	first := month.AddDate(0, -4, 0)
	stmts := []string{
		`INSERT INTO users (uuid, username, date_joined, modified)
			SELECT md5('u' || g), 'user' || g, now(), now() FROM generate_series(1, 1000) g`,
		`INSERT INTO customers (uuid, name, accounting_start_date, created, modified)
			SELECT md5('c' || g), 'customer ' || g, now(), now(), now() FROM generate_series(1, 1000) g`,
		`INSERT INTO projects (uuid, customer_id, name, created, modified) SELECT md5('p' || id), id, 'project', now(), now() FROM customers`,
		`INSERT INTO user_roles (uuid, user_id, role_id, scope_type, scope_id, created, modified, is_active)
			SELECT md5('ur' || u.id), u.id, (SELECT id FROM roles WHERE name = 'CUSTOMER.OWNER'), 'customer', c.id, now(), now(), TRUE
			FROM users u JOIN customers c ON c.name = 'customer ' || substr(u.username, 5)`,
		`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) VALUES (md5('provider'), 'provider', now(), now(), now())`,
		`INSERT INTO service_providers (uuid, customer_id, created, modified) SELECT md5('sp'), id, now(), now() FROM customers WHERE name = 'provider'`,
		`INSERT INTO categories (uuid, title, created, modified) VALUES (md5('cat'), 'HPC', now(), now())`,
		`INSERT INTO offerings (uuid, customer_id, category_id, name, type, state, country, created, modified)
			SELECT md5('o' || g), c.id, cat.id, 'HPC ' || g, 'Marketplace.Slurm', 'Active', 'EE', now(), now()
			FROM generate_series(1, 10) g, customers c, categories cat WHERE c.name = 'provider'`,
		`INSERT INTO offering_components (uuid, offering_id, type, name, billing_type)
			SELECT md5('cpu' || id), id, 'cpu', 'CPU', 'usage' FROM offerings UNION ALL
			SELECT md5('ram' || id), id, 'ram', 'RAM', 'usage' FROM offerings`,
		`INSERT INTO resources (uuid, project_id, offering_id, name, state, limits, created, modified)
			SELECT md5('r' || g), p.id, o.id, 'job ' || g,
				CASE WHEN g % 20 = 0 THEN 'Terminated' WHEN g % 50 = 1 THEN 'Erred' ELSE 'OK' END,
				'{"cpu": 10, "ram": 20}', TIMESTAMPTZ '` + now.AddDate(0, 0, -1).Format(time.RFC3339) + `' - (g % 300) * INTERVAL '1 day', now()
			FROM generate_series(1, ` + strconv.Itoa(n) + `) g
			JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM projects) p ON p.k = (g - 1) % 1000
			JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM offerings) o ON o.k = (g - 1) % 10
			ORDER BY g`,
		`INSERT INTO component_usages (uuid, resource_id, component_id, usage, date, billing_period, created, modified)
			SELECT md5(r.id || '-' || oc.id || '-' || m), r.id, oc.id, (r.id % 7) + 0.5,
				` + date(first.AddDate(0, 0, 9)) + ` + (m * INTERVAL '1 month'), ` + date(first) + ` + (m * INTERVAL '1 month'), now(), now()
			FROM resources r JOIN offering_components oc ON oc.offering_id = r.offering_id, generate_series(0, 4) m`,
		`INSERT INTO orders (uuid, type, state, resource_id, offering_id, project_id, cost, workflow_started, completed_at, created, modified)
			SELECT md5('or' || id), 'Create', 'done', id, offering_id, project_id, 10, TRUE, created + INTERVAL '10 minutes', created, created
			FROM resources`,
		`INSERT INTO invoices (uuid, customer_id, year, month, created, modified)
			SELECT md5('i' || id), id, ` + strconv.Itoa(now.Year()) + `, ` + strconv.Itoa(int(now.Month())) + `, now(), now()
			FROM customers WHERE name <> 'provider'`,
		`INSERT INTO invoice_items (uuid, invoice_id, resource_id, offering_id, project_id, item_key, kind, start, "end", unit, price, created, modified)
			SELECT md5('ii' || r.id), i.id, r.id, r.offering_id, r.project_id, 'r', 'plan', ` + date(month) + `, ` +
			date(month.AddDate(0, 1, -1)) + `, 'month', 10, now(), now()
			FROM resources r JOIN projects p ON p.id = r.project_id JOIN invoices i ON i.customer_id = p.customer_id`,
		`INSERT INTO quotas (scope_type, scope_id, name, "limit", usage)
			SELECT 'customer', id, 'nc_resource_count', -1, id % 100 FROM customers UNION ALL
			SELECT 'project', id, 'nc_resource_count', -1, id % 100 FROM projects`,
		`ANALYZE`,
	}
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			b.Fatalf("%v\n%s", err, s)
		}
	}
}

// quantiles returns the p50 and p99 of ds (sorted in place), in
// milliseconds: the nearest rank, so with fewer than 100 samples p99 is
// the slowest.
func quantiles(ds []time.Duration) (p50, p99 float64) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.999999) - 1
		return float64(ds[max(0, min(i, len(ds)-1))]) / float64(time.Millisecond)
	}
	return rank(0.50), rank(0.99)
}

// BenchmarkStats times statistics endpoints on PostgreSQL at the size of
// benchStatsResources, each case two ways on the same data in the same
// run: api, the GET through the whole REST API (app.NewAPI's handler:
// middleware, token authentication, permission checks, the query,
// pagination and JSON) as a staff user; sql, the Queries method the route
// runs with the parameters the handler derives (the SQL alone, scanned into
// Go rows). Each iteration does one of each, alternating which goes first,
// so both see the same cache and load. A case reports api-p50-ms,
// api-p99-ms, sql-p50-ms, sql-p99-ms and api/sql-p50 (ns/op is the sum of
// the two); the parent logs them as a table. SnapshotQuotas is the daily
// job's statement, not a route: sql only.
//
//	set -a && source /tmp/testenv.sh && set +a
//	go test -run '^$' -bench Stats -benchtime 20x ./api/stats/
func BenchmarkStats(b *testing.B) {
	if os.Getenv(dbtest.EnvPostgres) == "" {
		b.Skip("set WALDUR_TEST_DATABASE_URL: the statistics are measured on PostgreSQL")
	}
	n := benchStatsResources()
	db := dbtest.Migrated(b, config.Postgres)
	ctx := context.Background()
	clock := func() time.Time { return time.Now().UTC() }
	t0 := time.Now()
	seedStatsBench(b, db, n, clock())
	b.Logf("seeded %d resources, %d usages in %s", n, 10*n, time.Since(t0).Round(time.Millisecond))

	st := store.New(db)
	staff := &models.User{Username: "bench-staff", Email: "staff@example.com", IsActive: true, IsStaff: true}
	if err := st.CreateUser(ctx, staff, ""); err != nil {
		b.Fatal(err)
	}
	tok, err := st.EnsureToken(ctx, staff.ID)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	get := func(path string) error {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Token "+tok.Key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			return fmt.Errorf("GET %s: %d %s", path, w.Code, w.Body.String())
		}
		return nil
	}

	q := stats.NewQueries(db)
	var sp struct {
		CustomerID int64
		UUID       string
	}
	if err := db.Raw(`SELECT customer_id, uuid FROM service_providers`).Scan(&sp).Error; err != nil {
		b.Fatal(err)
	}
	var customer struct {
		ID   int64
		UUID string
	}
	if err := db.Raw(`SELECT id, uuid FROM customers WHERE name = 'customer 1'`).Scan(&customer).Error; err != nil {
		b.Fatal(err)
	}
	var project struct {
		ID   int64
		UUID string
	}
	if err := db.Raw(`SELECT id, uuid FROM projects WHERE customer_id = ?`, customer.ID).Scan(&project).Error; err != nil {
		b.Fatal(err)
	}
	hex := func(u string) string { return strings.ReplaceAll(u, "-", "") }
	// The handlers' derived parameters (see each handler in api/stats).
	yearAgo := func() time.Time { return clock().AddDate(0, -11, 0) }
	today := func() time.Time {
		t := clock()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	nextMonth := time.Date(clock().Year(), clock().Month()+1, 1, 0, 0, 0, 0, time.UTC)
	const ms = "/api/marketplace-stats/"
	spPath := "/api/marketplace-service-providers/" + hex(sp.UUID) + "/"
	consumers := func() stats.ConsumerFilter { return stats.ConsumerFilter{Now: clock()} }
	cases := []struct {
		name string
		path string // "" when no route runs it
		sql  func() error
	}{
		{"ComponentUsagesPerMonth", ms + "component_usages_per_month/", func() error {
			rows, err := q.ComponentUsagesPerMonth(ctx, yearAgo())
			if err == nil && len(rows) != 10*2*5 {
				b.Fatalf("%d rows", len(rows))
			}
			return err
		}},
		{"ComponentUsages", ms + "component_usages/", func() error { _, err := q.ComponentUsages(ctx, clock()); return err }},
		{"OrderStats30Days", ms + "order_stats/", func() error {
			end := today()
			_, err := q.OrderStats(ctx, stats.OrderFilter{Start: end.AddDate(0, 0, -30), End: end})
			return err
		}},
		{"CustomerMemberCount", ms + "customer_member_count/", func() error { _, err := q.CustomerMemberCount(ctx, clock()); return err }},
		{"OrganizationResourceCount", ms + "organization_resource_count/", func() error {
			_, err := q.OrganizationResourceCount(ctx)
			return err
		}},
		{"ResourcesLimits", ms + "resources_limits/", func() error { _, err := q.ResourcesLimits(ctx); return err }},
		{"CostPerOffering", ms + "total_cost_of_active_resources_per_offering/", func() error {
			_, err := q.CostPerOffering(ctx, clock())
			return err
		}},
		{"ProviderCustomers", ms + "provider_customers/?provider_uuid=" + hex(sp.UUID), func() error {
			_, err := q.ProviderCustomers(ctx, sp.CustomerID, clock(), yearAgo())
			return err
		}},
		{"ProviderStat", "/api/marketplace-service-providers/" + hex(sp.UUID) + "/stat/", func() error {
			_, err := q.ProviderStat(ctx, sp.CustomerID, clock())
			return err
		}},
		{"CustomerComponents", "/api/customers/" + hex(customer.UUID) + "/stats/", func() error {
			_, err := q.ScopeComponents(ctx, false, customer.ID, nil)
			return err
		}},
		{"ResourcesMissingUsage", ms + "resources_missing_usage/?billing_period=" + nextMonth.Format("2006-01"), func() error {
			f := stats.MissingFilter{Month: nextMonth}
			if _, err := q.CountMissingUsage(ctx, f); err != nil {
				return err
			}
			_, err := q.ResourcesMissingUsage(ctx, f, clock(), 10, 0)
			return err
		}},
		{"OrganizationProjectCount", ms + "organization_project_count/", func() error {
			_, err := q.OrganizationProjectCount(ctx)
			return err
		}},
		{"ComponentUsagesPerProject", ms + "component_usages_per_project/", func() error {
			_, err := q.ComponentUsagesPerProject(ctx, clock())
			return err
		}},
		{"ActiveResourcesByOffering", ms + "count_active_resources_grouped_by_offering/", func() error {
			_, err := q.ActiveResourcesByOffering(ctx)
			return err
		}},
		{"OfferingCostsSummary", ms + "offering_costs_summary/", func() error {
			_, err := q.OfferingCostsSummary(ctx, clock())
			return err
		}},
		{"ResourceProvisioning", ms + "resource_provisioning_stats/", func() error {
			_, err := q.ResourceProvisioning(ctx, clock().Add(-60*time.Minute))
			return err
		}},
		{"ActiveResourcesByCountry", ms + "count_active_resources_grouped_by_offering_country/", func() error {
			_, err := q.ActiveResourcesByCountry(ctx)
			return err
		}},
		{"ProjectsOfProviders", ms + "count_projects_of_service_providers/", func() error {
			_, err := q.ProjectsOfProviders(ctx)
			return err
		}},
		{"UsersOfProviders", ms + "count_users_of_service_providers/", func() error {
			_, err := q.UsersOfProviders(ctx, clock())
			return err
		}},
		{"UniqueUsersOfProviders", ms + "count_unique_users_connected_with_active_resources_of_service_provider/", func() error {
			_, err := q.UniqueUsersOfProviders(ctx, clock())
			return err
		}},
		{"OfferingsCounter", ms + "offerings_counter_stats/", func() error { _, err := q.OfferingsCounter(ctx); return err }},
		{"CustomerMemberSummary", ms + "customer_member_summary/", func() error {
			_, err := q.CustomerMemberSummary(ctx, clock())
			return err
		}},
		{"ResourcesGeography", ms + "resources_geography_summary/", func() error {
			_, err := q.ResourcesGeography(ctx)
			return err
		}},
		{"UsageTrends", ms + "aggregated_usage_trends/", func() error { _, err := q.UsageTrends(ctx, yearAgo()); return err }},
		{"UserAuthMethodCount", ms + "user_auth_method_count/", func() error {
			_, err := q.UsersBy(ctx, "registration_method")
			return err
		}},
		{"UserJobTitleCount", ms + "user_job_title_count/", func() error { _, err := q.UsersBy(ctx, "job_title"); return err }},
		{"UserOrganizationCount", ms + "user_organization_count/", func() error {
			_, err := q.UsersBy(ctx, "organization")
			return err
		}},
		{"UserIdentitySourceCount", ms + "user_identity_source_count/", func() error {
			_, err := q.UsersBy(ctx, "identity_source")
			return err
		}},
		{"UserOrganizationTypeCount", ms + "user_organization_type_count/", func() error {
			_, err := q.UsersBy(ctx, "organization_type")
			return err
		}},
		{"UserAffiliationCount", ms + "user_affiliation_count/", func() error {
			_, err := q.UsersByAffiliation(ctx)
			return err
		}},
		{"ProjectClassification", ms + "project_classification_summary/", func() error {
			_, err := q.ProjectClassification(ctx)
			return err
		}},
		{"ProviderOfferings", ms + "provider_offerings/?provider_uuid=" + hex(sp.UUID), func() error {
			_, err := q.ProviderOfferings(ctx, sp.CustomerID, clock())
			return err
		}},
		{"ProviderResources", ms + "provider_resources/?provider_uuid=" + hex(sp.UUID), func() error {
			_, err := q.ProviderResources(ctx, sp.CustomerID, yearAgo())
			return err
		}},
		{"ProviderRevenue", spPath + "revenue/", func() error {
			_, err := q.Revenue(ctx, sp.CustomerID, yearAgo())
			return err
		}},
		{"ProviderCustomerList", spPath + "customers/", func() error {
			f := consumers()
			if _, err := q.CountProviderCustomers(ctx, sp.CustomerID, f); err != nil {
				return err
			}
			_, _, err := q.ProviderCustomerPage(ctx, sp.CustomerID, f, 10, 0)
			return err
		}},
		{"ProviderUserList", spPath + "users/", func() error {
			f := consumers()
			if _, err := q.CountProviderUsers(ctx, sp.CustomerID, f); err != nil {
				return err
			}
			_, err := q.ProviderUserPage(ctx, sp.CustomerID, f, 10, 0)
			return err
		}},
		{"ProviderProjectList", spPath + "projects/", func() error {
			f := consumers()
			if _, err := q.CountProviderProjects(ctx, sp.CustomerID, f); err != nil {
				return err
			}
			_, _, err := q.ProviderProjectPage(ctx, sp.CustomerID, f, 10, 0)
			return err
		}},
		{"ProjectComponents", "/api/projects/" + hex(project.UUID) + "/stats/", func() error {
			_, err := q.ScopeComponents(ctx, true, project.ID, nil)
			return err
		}},
		{"DailyQuotas", "/api/daily-quotas/?scope=" + hex(customer.UUID), func() error {
			end := today()
			_, err := q.DailyUsages(ctx, models.Scope{Type: models.ScopeCustomer, ID: customer.ID},
				models.QuotaNames[models.ScopeCustomer], end.AddDate(0, 0, -30), end)
			return err
		}},
		{"CustomerQuotas", "/api/customer-quotas/?quota_name=nc_resource_count", func() error {
			_, err := q.ScopeQuotas(ctx, models.ScopeCustomer, "nc_resource_count")
			return err
		}},
		{"ProjectQuotas", "/api/project-quotas/?quota_name=nc_resource_count", func() error {
			_, err := q.ScopeQuotas(ctx, models.ScopeProject, "nc_resource_count")
			return err
		}},
		{"SnapshotQuotas", "", func() error { _, err := q.SnapshotQuotas(ctx, clock()); return err }},
	}
	type result struct{ api50, api99, sql50, sql99 float64 }
	results := make([]*result, len(cases))
	for i, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			timed := func(f func() error) time.Duration {
				s := time.Now()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				return time.Since(s)
			}
			api := func() error { return get(c.path) }
			apiD, sqlD := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
			for j := 0; j < b.N; j++ {
				if j%2 == 1 || c.path == "" {
					sqlD = append(sqlD, timed(c.sql))
				}
				if c.path != "" {
					apiD = append(apiD, timed(api))
				}
				if j%2 == 0 && c.path != "" {
					sqlD = append(sqlD, timed(c.sql))
				}
			}
			r := &result{}
			r.sql50, r.sql99 = quantiles(sqlD)
			b.ReportMetric(r.sql50, "sql-p50-ms")
			b.ReportMetric(r.sql99, "sql-p99-ms")
			if len(apiD) > 0 {
				r.api50, r.api99 = quantiles(apiD)
				b.ReportMetric(r.api50, "api-p50-ms")
				b.ReportMetric(r.api99, "api-p99-ms")
				b.ReportMetric(r.api50/r.sql50, "api/sql-p50")
			}
			results[i] = r
		})
	}
	var t strings.Builder
	fmt.Fprintf(&t, "%d resources, %d usages; milliseconds\n%-26s %9s %9s %9s %9s %8s\n", n, 10*n,
		"case", "api p50", "api p99", "sql p50", "sql p99", "api/sql")
	for i, c := range cases {
		r := results[i]
		if r == nil {
			continue
		}
		if c.path == "" {
			fmt.Fprintf(&t, "%-26s %9s %9s %9.2f %9.2f %8s\n", c.name, "-", "-", r.sql50, r.sql99, "-")
			continue
		}
		fmt.Fprintf(&t, "%-26s %9.2f %9.2f %9.2f %9.2f %8.2f\n", c.name, r.api50, r.api99, r.sql50, r.sql99, r.api50/r.sql50)
	}
	b.Log("\n" + t.String())
}
