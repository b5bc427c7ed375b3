// Package metrics is the business side of /metrics: orders, resources,
// customer quotas, the open month's invoices, site agents and periodic
// jobs, read with a few set-based queries when Prometheus scrapes and
// cached for a few seconds, so scrapes (from several Prometheus servers,
// or a scrape storm) cannot load the database. Every label set is bounded
// by configuration, not by activity: states, offering types, offerings,
// customers, schedules; never users.
package metrics

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/database"
)

// DefaultTTL is how long one reading of the database serves scrapes.
const DefaultTTL = 15 * time.Second

// queryTimeout bounds one refresh: a slow database makes a scrape miss
// these series, never hang.
const queryTimeout = 5 * time.Second

// ScheduleLister lists Temporal Schedules (client.ScheduleClient is one).
type ScheduleLister interface {
	List(ctx context.Context, options client.ScheduleListOptions) (client.ScheduleListIterator, error)
}

// Options configure a Collector; DB is required.
type Options struct {
	DB *gorm.DB
	// Schedules lists the periodic jobs (nil: no schedule series).
	Schedules ScheduleLister
	// TTL is the cache lifetime (DefaultTTL).
	TTL time.Duration
	// Now is the clock (tests move it).
	Now    func() time.Time
	Logger *slog.Logger
}

// Collector is a prometheus.Collector of the business metrics.
type Collector struct {
	opt Options

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
}

var (
	descOrders = prometheus.NewDesc("waldur_marketplace_orders",
		"Marketplace orders by state and offering type.", []string{"state", "offering_type"}, nil)
	descResources = prometheus.NewDesc("waldur_marketplace_resources",
		"Marketplace resources by state and offering type.", []string{"state", "offering_type"}, nil)
	descQuotaUsage = prometheus.NewDesc("waldur_customer_quota_usage",
		"Usage of a customer's quota (customer UUID, quota name).", []string{"customer", "quota"}, nil)
	descQuotaLimit = prometheus.NewDesc("waldur_customer_quota_limit",
		"Limit of a customer's quota; absent when unlimited.", []string{"customer", "quota"}, nil)
	descCustomer = prometheus.NewDesc("waldur_customer_info",
		"1 per customer with quotas, naming it (join on customer).", []string{"customer", "name", "abbreviation"}, nil)
	descInvoiceTotal = prometheus.NewDesc("waldur_invoices_open_month_total",
		"Σ total price (without tax) of the invoices of the current month, by invoice state.", []string{"state"}, nil)
	descInvoiceCount = prometheus.NewDesc("waldur_invoices_open_month",
		"Invoices of the current month, by invoice state.", []string{"state"}, nil)
	descAgentAge = prometheus.NewDesc("waldur_site_agent_last_seen_age_seconds",
		"Seconds since the site agent of an offering last called the API, by offering UUID and agent type.",
		[]string{"offering", "offering_name", "agent_type"}, nil)
	descScheduleAge = prometheus.NewDesc("waldur_schedule_last_run_age_seconds",
		"Seconds since a periodic job's Temporal Schedule last started its workflow.", []string{"schedule"}, nil)
	descSchedulePaused = prometheus.NewDesc("waldur_schedule_paused",
		"1 when a periodic job's Temporal Schedule is paused.", []string{"schedule"}, nil)
	descUp = prometheus.NewDesc("waldur_business_metrics_up",
		"1 when the last reading of each source succeeded (source: database, temporal).", []string{"source"}, nil)
	descAge = prometheus.NewDesc("waldur_business_metrics_age_seconds",
		"Age of the cached reading these metrics come from.", nil, nil)
)

// New returns the collector; register it on the /metrics registry.
func New(opt Options) *Collector {
	if opt.TTL <= 0 {
		opt.TTL = DefaultTTL
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Collector{opt: opt}
}

// ForAPI returns the collectors an API process adds to /metrics: the
// business metrics of db (and of tc's schedules, when there is a client)
// and, when db has read replicas, their routing metrics.
func ForAPI(db *gorm.DB, tc client.Client, log *slog.Logger) []prometheus.Collector {
	opt := Options{DB: db, Logger: log}
	if tc != nil {
		opt.Schedules = tc.ScheduleClient()
	}
	out := []prometheus.Collector{New(opt)}
	if r := database.ReplicasOf(db); r != nil {
		out = append(out, r.Collectors()...)
	}
	return out
}

// Describe sends every descriptor.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOrders, descResources, descQuotaUsage, descQuotaLimit, descCustomer,
		descInvoiceTotal, descInvoiceCount, descAgentAge, descScheduleAge, descSchedulePaused, descUp, descAge} {
		ch <- d
	}
}

// Collect sends the cached reading, refreshing it first when older than
// the TTL; concurrent scrapes wait for one refresh.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	now := c.opt.Now()
	if c.metrics == nil || now.Sub(c.at) >= c.opt.TTL {
		c.metrics, c.at = c.read(now), now
	}
	ms, at := c.metrics, c.at
	c.mu.Unlock()
	for _, m := range ms {
		ch <- m
	}
	ch <- prometheus.MustNewConstMetric(descAge, prometheus.GaugeValue, now.Sub(at).Seconds())
}

// read runs the queries. Reads may be served by a read replica: these are
// statistics, and a replica is at most the lag window behind.
func (c *Collector) read(now time.Time) []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	ctx, _ = database.ReplicaReads(ctx, time.Time{})
	var out []prometheus.Metric
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	dbUp := 1.0
	fail := func(what string, err error) {
		c.opt.Logger.Warn("business metrics: "+what, "err", err)
		dbUp = 0
	}
	db := c.opt.DB.WithContext(ctx)

	type count struct {
		State, Type string
		N           int64
	}
	for _, q := range []struct {
		desc  *prometheus.Desc
		table string
	}{{descOrders, "orders"}, {descResources, "resources"}} {
		var rows []count
		err := db.Table(q.table + " AS x").Select("x.state AS state, o.type AS type, COUNT(*) AS n").
			Joins("JOIN offerings o ON o.id = x.offering_id").Group("x.state, o.type").Scan(&rows).Error
		if err != nil {
			fail(q.table, err)
			continue
		}
		for _, r := range rows {
			gauge(q.desc, float64(r.N), r.State, r.Type)
		}
	}

	var quotas []struct {
		UUID, Name, Abbreviation, Quota string
		Usage, Limit                    int64
	}
	if err := db.Table("quotas AS q").
		Select(`c.uuid AS uuid, c.name AS name, c.abbreviation AS abbreviation, q.name AS quota, q.usage AS usage, q."limit" AS "limit"`).
		Joins("JOIN customers c ON c.id = q.scope_id").Where("q.scope_type = ?", "customer").
		Order("c.uuid, q.name").Scan(&quotas).Error; err != nil {
		fail("quotas", err)
	}
	seen := map[string]bool{}
	for _, q := range quotas {
		uuid := strings.TrimSpace(q.UUID)
		if !seen[uuid] {
			seen[uuid] = true
			gauge(descCustomer, 1, uuid, q.Name, q.Abbreviation)
		}
		gauge(descQuotaUsage, float64(q.Usage), uuid, q.Quota)
		if q.Limit >= 0 {
			gauge(descQuotaLimit, float64(q.Limit), uuid, q.Quota)
		}
	}

	utc := now.UTC()
	var invoices []struct {
		State string
		N     int64
		Total float64
	}
	if err := db.Table("invoices").
		Select("state, COUNT(*) AS n, COALESCE(SUM(CAST(total_price AS DOUBLE PRECISION)), 0) AS total").
		Where("year = ? AND month = ?", utc.Year(), int(utc.Month())).Group("state").Scan(&invoices).Error; err != nil {
		fail("invoices", err)
	}
	for _, i := range invoices {
		gauge(descInvoiceCount, float64(i.N), i.State)
		gauge(descInvoiceTotal, i.Total, i.State)
	}

	var agents []struct {
		UUID, Name, AgentType string
		Seen                  *time.Time
	}
	if err := db.Table("integration_statuses AS s").
		Select("o.uuid AS uuid, o.name AS name, s.agent_type AS agent_type, s.last_request_timestamp AS seen").
		Joins("JOIN offerings o ON o.id = s.offering_id").Where("s.last_request_timestamp IS NOT NULL").
		Scan(&agents).Error; err != nil {
		fail("site agents", err)
	}
	for _, a := range agents {
		gauge(descAgentAge, max(now.Sub(*a.Seen).Seconds(), 0), strings.TrimSpace(a.UUID), a.Name, a.AgentType)
	}
	gauge(descUp, dbUp, "database")

	if c.opt.Schedules != nil {
		out = append(out, c.schedules(ctx, now)...)
	}
	return out
}

// schedules reads the last run of every Temporal Schedule of the namespace.
func (c *Collector) schedules(ctx context.Context, now time.Time) []prometheus.Metric {
	var out []prometheus.Metric
	up := 1.0
	it, err := c.opt.Schedules.List(ctx, client.ScheduleListOptions{PageSize: 1000})
	for err == nil && it.HasNext() {
		var s *client.ScheduleListEntry
		if s, err = it.Next(); err != nil {
			break
		}
		paused := 0.0
		if s.Paused {
			paused = 1
		}
		out = append(out, prometheus.MustNewConstMetric(descSchedulePaused, prometheus.GaugeValue, paused, s.ID))
		var last time.Time
		for _, a := range s.RecentActions {
			if a.ActualTime.After(last) {
				last = a.ActualTime
			}
		}
		if !last.IsZero() {
			out = append(out, prometheus.MustNewConstMetric(descScheduleAge, prometheus.GaugeValue, max(now.Sub(last).Seconds(), 0), s.ID))
		}
	}
	if err != nil {
		c.opt.Logger.Warn("business metrics: schedules", "err", err)
		up = 0
	}
	return append(out, prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, "temporal"))
}
