package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/metrics"
)

// seed inserts a small marketplace: two offering types, orders and
// resources in several states, a customer with quotas, invoices of this
// and of last month, and a site agent's last call.
func seed(t *testing.T, db *gorm.DB, now time.Time) {
	t.Helper()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	last := month.AddDate(0, -1, 0)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO customers (id, uuid, name, abbreviation, accounting_start_date, created, modified) VALUES (9001, 'c0000000000000000000000000000001', 'Acme', 'AC', ?, ?, ?)`, []any{now, now, now}},
		{`INSERT INTO customers (id, uuid, name, accounting_start_date, created, modified) VALUES (9002, 'c0000000000000000000000000000002', 'Beta', ?, ?, ?)`, []any{now, now, now}},
		{`INSERT INTO categories (id, uuid, title, created, modified) VALUES (9001, 'ca000000000000000000000000000001', 'VMs', ?, ?)`, []any{now, now}},
		{`INSERT INTO projects (id, uuid, customer_id, name, created, modified) VALUES (9001, 'b0000000000000000000000000000001', 9001, 'P', ?, ?)`, []any{now, now}},
		{`INSERT INTO offerings (id, uuid, customer_id, category_id, name, type, created, modified) VALUES (9001, 'f0000000000000000000000000000001', 9001, 9001, 'Cloud', 'OpenStack.Tenant', ?, ?)`, []any{now, now}},
		{`INSERT INTO offerings (id, uuid, customer_id, category_id, name, type, created, modified) VALUES (9002, 'f0000000000000000000000000000002', 9001, 9001, 'HPC', 'Marketplace.Slurm', ?, ?)`, []any{now, now}},
	} {
		if err := db.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	res := []struct {
		id       int
		offering int
		state    string
	}{{9001, 9001, "OK"}, {9002, 9001, "OK"}, {9003, 9001, "Erred"}, {9004, 9002, "Creating"}}
	for i, r := range res {
		uuid := strings.Repeat("0", 30) + string(rune('1'+i))
		if err := db.Exec(`INSERT INTO resources (id, uuid, project_id, offering_id, state, created, modified) VALUES (?, ?, 9001, ?, ?, ?, ?)`,
			r.id, "e"+uuid, r.offering, r.state, now, now).Error; err != nil {
			t.Fatal(err)
		}
		state := "done"
		if r.state == "Creating" {
			state = "executing"
		}
		if err := db.Exec(`INSERT INTO orders (uuid, type, state, resource_id, offering_id, project_id, created, modified) VALUES (?, 'Create', ?, ?, ?, 9001, ?, ?)`,
			"d"+uuid, state, r.id, r.offering, now, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO quotas (scope_type, scope_id, name, "limit", usage) VALUES ('customer', 9001, 'vcpu', 100, 42), ('customer', 9001, 'ram', -1, 7), ('project', 9001, 'vcpu', 10, 1)`, nil},
		{`INSERT INTO invoices (uuid, customer_id, year, month, state, total_price, created, modified) VALUES ('a0000000000000000000000000000001', 9001, ?, ?, 'pending', 12.5, ?, ?)`, []any{month.Year(), int(month.Month()), now, now}},
		{`INSERT INTO invoices (uuid, customer_id, year, month, state, total_price, created, modified) VALUES ('a0000000000000000000000000000002', 9002, ?, ?, 'pending', 30.25, ?, ?)`, []any{month.Year(), int(month.Month()), now, now}},
		{`INSERT INTO invoices (uuid, customer_id, year, month, state, total_price, created, modified) VALUES ('a0000000000000000000000000000003', 9001, ?, ?, 'created', 99, ?, ?)`, []any{last.Year(), int(last.Month()), now, now}},
		{`INSERT INTO integration_statuses (offering_id, agent_type, status, last_request_timestamp) VALUES (9002, 'Order processing', 'Active', ?)`, []any{now.Add(-90 * time.Second)}},
		{`INSERT INTO integration_statuses (offering_id, agent_type, status) VALUES (9001, 'Usage reporting', 'Unknown')`, nil},
	} {
		if err := db.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
}

func TestBusinessMetrics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		now := time.Now().UTC().Truncate(time.Second)
		seed(t, db, now)
		clock := now
		ran := now.Add(-10 * time.Minute)
		c := metrics.New(metrics.Options{DB: db, Now: func() time.Time { return clock }, TTL: 10 * time.Second,
			Schedules: fakeSchedules{entries: []*client.ScheduleListEntry{
				{ID: "waldur-role-expiry", RecentActions: []client.ScheduleActionResult{{ActualTime: ran.Add(-time.Hour)}, {ActualTime: ran}}},
				{ID: "waldur-never-ran", Paused: true},
			}}})
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		want := `
waldur_marketplace_orders{offering_type="Marketplace.Slurm",state="executing"} 1
waldur_marketplace_orders{offering_type="OpenStack.Tenant",state="done"} 3
waldur_marketplace_resources{offering_type="Marketplace.Slurm",state="Creating"} 1
waldur_marketplace_resources{offering_type="OpenStack.Tenant",state="Erred"} 1
waldur_marketplace_resources{offering_type="OpenStack.Tenant",state="OK"} 2
waldur_customer_quota_usage{customer="c0000000000000000000000000000001",quota="ram"} 7
waldur_customer_quota_usage{customer="c0000000000000000000000000000001",quota="vcpu"} 42
waldur_customer_quota_limit{customer="c0000000000000000000000000000001",quota="vcpu"} 100
waldur_customer_info{abbreviation="AC",customer="c0000000000000000000000000000001",name="Acme"} 1
waldur_invoices_open_month_total{state="pending"} 42.75
waldur_invoices_open_month{state="pending"} 2
waldur_site_agent_last_seen_age_seconds{agent_type="Order processing",offering="f0000000000000000000000000000002",offering_name="HPC"} 90
waldur_schedule_last_run_age_seconds{schedule="waldur-role-expiry"} 600
waldur_schedule_paused{schedule="waldur-never-ran"} 1
waldur_schedule_paused{schedule="waldur-role-expiry"} 0
waldur_business_metrics_up{source="database"} 1
waldur_business_metrics_up{source="temporal"} 1
`
		names := []string{"waldur_marketplace_orders", "waldur_marketplace_resources", "waldur_customer_quota_usage",
			"waldur_customer_quota_limit", "waldur_customer_info", "waldur_invoices_open_month_total", "waldur_invoices_open_month",
			"waldur_site_agent_last_seen_age_seconds", "waldur_schedule_last_run_age_seconds", "waldur_schedule_paused", "waldur_business_metrics_up"}
		if got := gather(t, reg, names...); got != strings.TrimSpace(want) {
			t.Fatalf("metrics:\n%s\nwant:\n%s", got, strings.TrimSpace(want))
		}

		// Within the TTL a scrape is served from the cache: a new order is not seen, and nothing is queried.
		if err := db.Exec(`INSERT INTO orders (uuid, type, state, resource_id, offering_id, project_id, created, modified) VALUES ('d9', 'Create', 'erred', 9004, 9002, 9001, ?, ?)`, now, now).Error; err != nil {
			t.Fatal(err)
		}
		clock = now.Add(5 * time.Second)
		var queries int
		countQueries(t, db, &queries)
		if n := strings.Count(gather(t, reg, "waldur_marketplace_orders"), "\n") + 1; n != 2 {
			t.Errorf("within the TTL: %d order series, want the cached 2", n)
		}
		if queries != 0 {
			t.Errorf("within the TTL a scrape ran %d queries", queries)
		}
		clock = now.Add(11 * time.Second)
		if n := strings.Count(gather(t, reg, "waldur_marketplace_orders"), "\n") + 1; n != 3 {
			t.Errorf("after the TTL: %d order series, want 3", n)
		}
		if queries == 0 || queries > 6 {
			t.Errorf("a refresh ran %d queries, want a handful of set-based ones", queries)
		}
	})
}

// TestBusinessMetricsFailures: a failing source is reported, not fatal.
func TestBusinessMetricsFailures(t *testing.T) {
	db := dbtest.Empty(t, config.SQLite) // no tables
	c := metrics.New(metrics.Options{DB: db, Schedules: fakeSchedules{err: errors.New("unavailable")}})
	want := `
waldur_business_metrics_up{source="database"} 0
waldur_business_metrics_up{source="temporal"} 0
`
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if got := gather(t, reg, "waldur_business_metrics_up"); got != strings.TrimSpace(want) {
		t.Fatalf("metrics:\n%s\nwant:\n%s", got, strings.TrimSpace(want))
	}
}

// gather renders the named families as sorted name{label="v",...} value
// lines (labels in name order, as the exposition format has them).
func gather(t *testing.T, reg prometheus.Gatherer, names ...string) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, name := range names {
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				var ls []string
				for _, l := range m.GetLabel() {
					ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				lines = append(lines, fmt.Sprintf("%s{%s} %s", name, strings.Join(ls, ","),
					strconv.FormatFloat(m.GetGauge().GetValue(), 'g', -1, 64)))
			}
		}
	}
	return strings.Join(lines, "\n")
}

func countQueries(t *testing.T, db *gorm.DB, n *int) {
	t.Helper()
	name := "test:count_" + strings.ReplaceAll(t.Name(), "/", "_")
	inc := func(*gorm.DB) { *n++ }
	if err := db.Callback().Query().Before("*").Register(name, inc); err != nil {
		t.Fatal(err)
	}
	if err := db.Callback().Row().Before("*").Register(name, inc); err != nil {
		t.Fatal(err)
	}
}

type fakeSchedules struct {
	entries []*client.ScheduleListEntry
	err     error
}

func (f fakeSchedules) List(context.Context, client.ScheduleListOptions) (client.ScheduleListIterator, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &iter{entries: f.entries}, nil
}

type iter struct{ entries []*client.ScheduleListEntry }

func (i *iter) HasNext() bool { return len(i.entries) > 0 }
func (i *iter) Next() (*client.ScheduleListEntry, error) {
	e := i.entries[0]
	i.entries = i.entries[1:]
	return e, nil
}
