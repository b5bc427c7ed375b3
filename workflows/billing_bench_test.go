package workflows_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
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
// a project each, one offering with a monthly plan (unit price 100, an
// estimate never billed) of three components — a fixed "support" at 100 × 1,
// a fixed "base" at 10 × 2 and a limit "cores" at 3 per core — and n
// resources (cores 4) spread evenly, each with a create order done on
// 2026-01-15. Every resource has three items in a whole month and costs
// 100 + 20 + 12 = 132.
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
			SELECT md5('c0'), id, 'support', 'Support', 'fixed', NULL FROM offerings UNION ALL
			SELECT md5('c1'), id, 'base', 'Base', 'fixed', NULL FROM offerings UNION ALL
			SELECT md5('c2'), id, 'cores', 'Cores', 'limit', 'month' FROM offerings`,
		`INSERT INTO plan_components (plan_id, component_id, amount, price)
			SELECT p.id, oc.id, CASE oc.type WHEN 'support' THEN 1 WHEN 'base' THEN 2 ELSE 0 END,
				CASE oc.type WHEN 'support' THEN 100 WHEN 'base' THEN 10 ELSE 3 END
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

// benchItemColumns are the invoice_items columns both the close and the
// baseline write.
const benchItemColumns = `uuid, invoice_id, resource_id, offering_id, project_id, project_name, project_uuid, item_key, fingerprint,
	kind, name, details, start, "end", unit, unit_price, quantity, price, measured_unit, article_code, created, modified`

// benchCompared are the columns whose values must be equal in the close's
// items and the baseline's: all it writes but the random uuid, the
// fingerprint (FNV-1a in Go, md5 in the baseline: SQL has no FNV) and the
// creation times.
const benchCompared = `invoice_id, resource_id, offering_id, project_id, project_name, project_uuid, item_key, kind, name, details,
	start, "end", unit, unit_price, quantity, price, measured_unit, article_code`

// benchBaselineTable makes bench_items: invoice_items' twin (columns,
// defaults, indexes, the unique item key, and the same foreign keys), so
// that the baseline writes into a table that costs what invoice_items costs.
var benchBaselineTable = []string{
	`CREATE TABLE bench_items (LIKE invoice_items INCLUDING ALL)`,
	`ALTER TABLE bench_items ADD FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE CASCADE,
		ADD FOREIGN KEY (resource_id) REFERENCES resources(id) ON DELETE SET NULL,
		ADD FOREIGN KEY (offering_id) REFERENCES offerings(id) ON DELETE SET NULL,
		ADD FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE SET NULL,
		ADD FOREIGN KEY (credit_id) REFERENCES customer_credits(id) ON DELETE SET NULL,
		ADD FOREIGN KEY (compensated_item_id) REFERENCES bench_items(id) ON DELETE SET NULL`,
}

// benchBaseline is the fair baseline of the close: one set-based statement
// that writes, for the same resources, the same March items as the close
// (same columns, same values: keys, names, details, periods, prices),
// computed from the same tables — written for this data set's shape (a
// create order done before the month, fixed and month-limit components, a
// whole month), which is what a hand-written statement can assume and the
// close cannot.
const benchBaseline = `INSERT INTO bench_items (` + benchItemColumns + `)
	SELECT replace(gen_random_uuid()::text, '-', ''), i.id, r.id, f.id, p.id, p.name, p.uuid,
		x.kind || ':' || pl.id || ':' || oc.id || ':' || ((extract(epoch FROM o.completed_at) * 1000000)::bigint)::text,
		left(md5(x.name || x.details::text || x.unit_price::text || x.qty::text || p.name), 16),
		x.kind, x.name, x.details, m.start, m.last, pl.unit, x.unit_price, x.qty, ceil(x.unit_price * x.qty * 100) / 100,
		oc.measured_unit, COALESCE(NULLIF(oc.article_code, ''), pl.article_code), now(), now()
	FROM (SELECT timestamptz '2026-03-01 00:00:00+00' AS start, timestamptz '2026-03-31 23:59:59.999999+00' AS last) m
	CROSS JOIN resources r
	JOIN projects p ON p.id = r.project_id
	JOIN offerings f ON f.id = r.offering_id
	JOIN customers pr ON pr.id = f.customer_id
	LEFT JOIN service_providers sp ON sp.customer_id = f.customer_id
	JOIN orders o ON o.resource_id = r.id AND o.type = 'Create' AND o.state = 'done'
	JOIN plans pl ON pl.id = o.plan_id
	JOIN plan_components pc ON pc.plan_id = pl.id
	JOIN offering_components oc ON oc.id = pc.component_id
	JOIN invoices i ON i.customer_id = p.customer_id AND i.year = 2026 AND i.month = 3
	CROSS JOIN LATERAL (SELECT CASE oc.billing_type WHEN 'fixed' THEN pc.price * pc.amount ELSE pc.price END AS unit_price,
		CASE oc.billing_type WHEN 'fixed' THEN 1 ELSE (r.limits->>oc.type)::numeric END AS qty) v
	CROSS JOIN LATERAL (SELECT oc.billing_type AS kind, v.unit_price, v.qty,
		r.name || ' (' || f.name || ' / ' || pl.name || ') / ' || oc.name AS name,
		jsonb_build_object('resource_name', r.name, 'resource_uuid', r.uuid, 'plan_name', pl.name, 'plan_uuid', pl.uuid,
			'offering_type', f.type, 'offering_name', f.name, 'offering_uuid', f.uuid, 'service_provider_name', pr.name,
			'plan_component_id', oc.id, 'offering_component_type', oc.type, 'offering_component_name', oc.name)
		|| CASE WHEN sp.uuid IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('service_provider_uuid', sp.uuid) END
		|| CASE oc.billing_type WHEN 'limit' THEN jsonb_build_object('resource_limit_periods', jsonb_build_array(jsonb_build_object(
			'start', '2026-03-01T00:00:00Z', 'end', '2026-03-31T23:59:59.999999Z', 'quantity', v.qty, 'billing_periods', 1,
			'total', v.qty::text))) ELSE '{}'::jsonb END AS details) x
	WHERE r.state = 'OK' AND oc.billing_type IN ('fixed', 'limit')`

// BenchmarkCloseMonth (PostgreSQL): closing March 2026 with n active
// resources across 1000 customers, February having been registered by the
// hourly refresh as in production: February's last registration (nothing
// changes) and finalization, then March opened with every resource's three
// items — through the real workflow on a real Temporal server. Next to it,
// in the same run on the same database, the fair baseline: one INSERT …
// SELECT writing the same 3n items (benchBaseline) into a twin of
// invoice_items; the two sets of items must be equal, value for value.
// It prints where the close spent its time (per activity, from the
// workflow's history).
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
		for _, s := range append(benchBaselineTable, `ANALYZE`) {
			if err := db.Exec(s).Error; err != nil {
				b.Fatalf("%v\n%s", err, s)
			}
		}

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
		phases := closePhases(b, c, workflows.CloseMonthWorkflowID(billing.Month{Year: 2026, Month: time.March}))

		t2 := time.Now()
		res := db.Exec(benchBaseline)
		if res.Error != nil {
			b.Fatal(res.Error)
		}
		baseS := time.Since(t2).Seconds()
		if res.RowsAffected != int64(3*n) {
			b.Fatalf("the baseline wrote %d items, want %d", res.RowsAffected, 3*n)
		}
		checkBaseline(b, db, n)

		b.ReportMetric(closeS, "close-s")
		b.ReportMetric(baseS, "baseline-s")
		b.ReportMetric(closeS/baseS, "close/baseline")
		b.ReportMetric(float64(n)/closeS, "resources/s")
		b.Logf("%d resources, %d items: close %.2f s, baseline INSERT … SELECT %.2f s (%.2f×); the close's activities: %s",
			n, 3*n, closeS, baseS, closeS/baseS, phases)
	}
}

// checkBaseline: the baseline's items are the close's March items, value
// for value (benchCompared), and every March invoice's total is the sum of
// the baseline's items, Σ 132 × n.
func checkBaseline(b *testing.B, db *gorm.DB, n int) {
	march := `invoice_id IN (SELECT id FROM invoices WHERE year = 2026 AND month = 3)`
	var onlyClose, onlyBase, mismatched int64
	if err := db.Raw(`SELECT count(*) FROM (SELECT ` + benchCompared + ` FROM invoice_items WHERE ` + march + `
		EXCEPT ALL SELECT ` + benchCompared + ` FROM bench_items) d`).Scan(&onlyClose).Error; err != nil {
		b.Fatal(err)
	}
	if err := db.Raw(`SELECT count(*) FROM (SELECT ` + benchCompared + ` FROM bench_items
		EXCEPT ALL SELECT ` + benchCompared + ` FROM invoice_items WHERE ` + march + `) d`).Scan(&onlyBase).Error; err != nil {
		b.Fatal(err)
	}
	if err := db.Raw(`SELECT count(*) FROM invoices i WHERE i.year = 2026 AND i.month = 3
		AND i.total_price <> COALESCE((SELECT SUM(bi.price) FROM bench_items bi WHERE bi.invoice_id = i.id), 0)`).Scan(&mismatched).Error; err != nil {
		b.Fatal(err)
	}
	var sum decimal.Decimal
	if err := db.Raw(`SELECT SUM(total_price) FROM invoices WHERE year = 2026 AND month = 3`).Scan(&sum).Error; err != nil {
		b.Fatal(err)
	}
	if onlyClose != 0 || onlyBase != 0 || mismatched != 0 || !sum.Equal(decimal.NewFromInt(int64(132*n))) {
		b.Fatalf("the baseline's items differ from the close's: %d only in the close, %d only in the baseline, %d invoice totals differ, Σ %s",
			onlyClose, onlyBase, mismatched, sum)
	}
}

// closePhases says where the close spent its time, from its history: per
// activity type (registration and totals of the months finalized marked
// "past"), the wall time from the first one's scheduling to the last one's
// completion, and the sum of their times when they overlap.
func closePhases(b *testing.B, c client.Client, workflowID string) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type phase struct {
		n           int
		sum         time.Duration
		first, last time.Time
	}
	scheduled := map[int64]string{}
	at := map[int64]time.Time{}
	phases := map[string]*phase{}
	var order []string
	past := true
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			b.Fatal(err)
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			name := a.ActivityType.GetName()
			if name == "FinalizeInvoices" {
				past = false
			}
			if past && (strings.HasPrefix(name, "Register") || name == "PlanRegistration" || name == "RefreshTotals") {
				name += " (past)"
			}
			scheduled[ev.EventId] = name
			at[ev.EventId] = ev.EventTime.AsTime()
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
			name, start := scheduled[a.ScheduledEventId], at[a.ScheduledEventId]
			p := phases[name]
			if p == nil {
				p = &phase{first: start}
				phases[name] = p
				order = append(order, name)
			}
			p.n++
			p.sum += ev.EventTime.AsTime().Sub(start)
			p.last = ev.EventTime.AsTime()
		}
	}
	var parts []string
	for _, k := range order {
		p := phases[k]
		part := fmt.Sprintf("%s %.2f s", k, p.last.Sub(p.first).Seconds())
		if p.n > 1 {
			part = fmt.Sprintf("%s ×%d %.2f s (Σ %.2f s)", k, p.n, p.last.Sub(p.first).Seconds(), p.sum.Seconds())
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}
