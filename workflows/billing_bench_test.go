package workflows_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// benchResources is how many resources BenchmarkCloseMonth bills
// (WALDUR_BENCH_RESOURCES; default 100000), spread over a thousand customers.
func benchResources() int {
	if n, err := strconv.Atoi(os.Getenv("WALDUR_BENCH_RESOURCES")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// seedBillingBench fills a PostgreSQL database in SQL: 1000 customers with
// a project each, one offering with a monthly plan (unit price 100, a fixed
// component 10 × 2, a limit component "cores" at 3 per core), and n
// resources (cores 4) spread evenly, each with a create order done on
// 2026-01-15. Every resource costs 100 + 20 + 12 = 132 in a whole month.
func seedBillingBench(b *testing.B, db *gorm.DB, n int) {
	stmts := []string{
		`INSERT INTO customers (uuid, name, accounting_start_date, created, modified)
			SELECT md5('c' || g), 'customer ' || g, now(), now(), now() FROM generate_series(1, 1000) g`,
		`INSERT INTO projects (uuid, customer_id, name, created, modified) SELECT md5('p' || id), id, 'project', now(), now() FROM customers`,
		`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) VALUES (md5('provider'), 'provider', now(), now(), now())`,
		`INSERT INTO categories (uuid, title, created, modified) VALUES (md5('cat'), 'VMs', now(), now())`,
		`INSERT INTO offerings (uuid, customer_id, category_id, name, type, state, billable, created, modified)
			SELECT md5('offering'), c.id, cat.id, 'Cloud', 'Marketplace.Basic', 'Active', TRUE, now(), now()
			FROM customers c, categories cat WHERE c.name = 'provider'`,
		`INSERT INTO plans (uuid, offering_id, name, unit, unit_price, created, modified)
			SELECT md5('plan'), id, 'Monthly', 'month', 100, now(), now() FROM offerings`,
		`INSERT INTO offering_components (uuid, offering_id, type, name, billing_type, limit_period)
			SELECT md5('c1'), id, 'base', 'Base', 'fixed', NULL FROM offerings UNION ALL
			SELECT md5('c2'), id, 'cores', 'Cores', 'limit', 'month' FROM offerings`,
		`INSERT INTO plan_components (plan_id, component_id, amount, price)
			SELECT p.id, oc.id, CASE oc.type WHEN 'base' THEN 2 ELSE 0 END, CASE oc.type WHEN 'base' THEN 10 ELSE 3 END
			FROM plans p, offering_components oc`,
		`INSERT INTO resources (uuid, project_id, offering_id, plan_id, name, state, limits, created, modified)
			SELECT md5('r' || g), p.id, (SELECT id FROM offerings), (SELECT id FROM plans), 'vm ' || g, 'OK', '{"cores": 4}',
				'2026-01-10', '2026-01-15'
			FROM generate_series(1, ` + strconv.Itoa(n) + `) g
			JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM projects) p ON p.k = (g - 1) % 1000
			ORDER BY g`,
		`INSERT INTO orders (uuid, type, state, resource_id, offering_id, project_id, plan_id, limits, attributes, workflow_started,
				completed_at, created, modified)
			SELECT md5('o' || id), 'Create', 'done', id, offering_id, project_id, plan_id, limits, '{}', TRUE, '2026-01-15', '2026-01-15', '2026-01-15'
			FROM resources`,
		`ANALYZE`,
	}
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			b.Fatalf("%v\n%s", err, s)
		}
	}
}

// BenchmarkCloseMonth (PostgreSQL): closing March 2026 with n active
// resources across 1000 customers, February having been registered by the
// hourly refresh as in production: February's last registration (nothing
// changes) and finalization, then March opened with every resource's items
// — through the real workflow on a real Temporal server. Next to it, in the
// same run, one raw INSERT … SELECT computing the same per-customer totals;
// the two must agree.
func BenchmarkCloseMonth(b *testing.B) {
	if os.Getenv(dbtest.EnvPostgres) == "" {
		b.Skip("set WALDUR_TEST_DATABASE_URL: the close is measured on PostgreSQL")
	}
	n := benchResources()
	srv := temporaltest.Start(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := dbtest.Migrated(b, config.Postgres)
		st := store.New(db)
		seedBillingBench(b, db, n)
		ctx := context.Background()
		a := &activities.Billing{Store: st}
		feb := billing.Month{Year: 2026, Month: time.February}
		t0 := time.Now()
		for after := int64(0); ; {
			r, err := a.RegisterBatch(ctx, activities.RegisterBatchInput{Month: feb, AfterID: after})
			if err != nil {
				b.Fatal(err)
			}
			if r.Done {
				break
			}
			after = r.LastID
		}
		if err := st.RefreshInvoiceTotals(ctx, feb, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "first-registration-s")

		c := srv.Client(b)
		wr := workflows.NewRegistry()
		wr.Add(workflows.QueueCore, func(w worker.Registry) { workflows.RegisterBilling(w, a) })
		ws, err := wr.Start(c, []string{workflows.QueueCore}, worker.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t1 := time.Now()
		out, err := workflows.StartCloseMonth(ctx, c, "2026-03")
		if err != nil {
			b.Fatal(err)
		}
		closeS := time.Since(t1).Seconds()
		b.StopTimer()
		ws.Stop()
		if out.Finalized != 1000 || out.Current.Inserted != 3*n || out.Past.Inserted+out.Past.Updated+out.Past.Deleted != 0 {
			b.Fatalf("unexpected close: %+v", out)
		}

		t2 := time.Now()
		err = db.Exec(`CREATE TABLE bench_totals AS
			SELECT p.customer_id, SUM(pl.unit_price + base.price * base.amount + cores.price * (r.limits->>'cores')::numeric) AS total
			FROM resources r JOIN projects p ON p.id = r.project_id JOIN plans pl ON pl.id = r.plan_id
			JOIN plan_components base ON base.plan_id = pl.id AND base.component_id = (SELECT id FROM offering_components WHERE type = 'base')
			JOIN plan_components cores ON cores.plan_id = pl.id AND cores.component_id = (SELECT id FROM offering_components WHERE type = 'cores')
			WHERE r.state = 'OK' GROUP BY p.customer_id`).Error
		if err != nil {
			b.Fatal(err)
		}
		rawS := time.Since(t2).Seconds()
		var mismatched int64
		if err := db.Raw(`SELECT count(*) FROM bench_totals t JOIN invoices i ON i.customer_id = t.customer_id AND i.year = 2026 AND i.month = 3
			WHERE i.total_price <> t.total`).Scan(&mismatched).Error; err != nil {
			b.Fatal(err)
		}
		var sum decimal.Decimal
		if err := db.Raw(`SELECT SUM(total_price) FROM invoices WHERE year = 2026 AND month = 3`).Scan(&sum).Error; err != nil {
			b.Fatal(err)
		}
		if mismatched != 0 || !sum.Equal(decimal.NewFromInt(int64(132*n))) {
			b.Fatalf("totals differ from INSERT … SELECT: %d customers, Σ %s", mismatched, sum)
		}
		b.ReportMetric(closeS, "close-s")
		b.ReportMetric(rawS, "insert-select-s")
		b.ReportMetric(float64(n)/closeS, "resources/s")
	}
}
