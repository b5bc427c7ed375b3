package app_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

// The site-agent fleet: fleetAgents offerings of fleetProviders service
// providers, each offering's site agent (OFFERING.MANAGER on it) polling
// its orders and its resources once a minute, as Waldur's site agent does
// (site-agent-protocol.md: the pending orders, then the resources with
// the agent's fields), while consumers place fleetOrdersPerMinute orders.
const (
	fleetProviders         = 100
	fleetAgents            = 1000 // offerings, one agent each
	fleetConsumers         = 100  // customers, 10 projects each, one owner each
	fleetResourcesPerOffer = 10
	fleetOrdersPerMinute   = 100
)

type fleetWorld struct {
	agents    []fleetAgent
	consumers []fleetConsumer
}

type fleetAgent struct{ token, offering, plan string }

type fleetConsumer struct {
	token    string
	projects []string
}

// seedFleet writes the fleet's world in SQL: providers and their Active
// shared Basic offerings with a plan, one agent user per offering, consumer
// customers with projects and an owner each, and fleetResourcesPerOffer
// OK resources per offering with their done Create orders.
func seedFleet(b *testing.B, db *gorm.DB, kind config.DatabaseKind) fleetWorld {
	uuid, series := seedExprs(kind)
	rowUUID := "md5(random()::text)"
	if kind == config.SQLite {
		rowUUID = uuid
	}
	tokenExpr := "substr(md5(random()::text) || md5(random()::text), 1, 40)"
	if kind == config.SQLite {
		tokenExpr = "lower(hex(randomblob(20)))"
	}
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		if err := db.Exec(q, args...).Error; err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
	}
	exec(`INSERT INTO categories (uuid, title, created, modified) VALUES (?, 'HPC', ?, ?)`, models.NewUUID(), now, now)
	exec(fmt.Sprintf(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) SELECT %s, 'provider ' || i, ?, ?, ? FROM %s`, uuid, series(fleetProviders)), now, now, now)
	exec(fmt.Sprintf(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) SELECT %s, 'consumer ' || i, ?, ?, ? FROM %s`, uuid, series(fleetConsumers)), now, now, now)
	exec(fmt.Sprintf(`INSERT INTO offerings (uuid, customer_id, category_id, name, type, state, shared, created, modified)
		SELECT %s, c.id, (SELECT id FROM categories), 'offering ' || c.id || '-' || g.i, 'Marketplace.Basic', 'Active', TRUE, ?, ?
		FROM customers c CROSS JOIN %s WHERE c.name LIKE 'provider %%'`, rowUUID, series(fleetAgents/fleetProviders)), now, now)
	exec(fmt.Sprintf(`INSERT INTO plans (uuid, offering_id, name, unit_price, created, modified) SELECT %s, id, 'Default', 10, ?, ? FROM offerings`, rowUUID), now, now)
	exec(fmt.Sprintf(`INSERT INTO projects (uuid, customer_id, name, created, modified)
		SELECT %s, c.id, 'project ' || c.id || '-' || g.i, ?, ? FROM customers c CROSS JOIN %s WHERE c.name LIKE 'consumer %%'`, rowUUID, series(10)), now, now)
	exec(`INSERT INTO quotas (scope_type, scope_id, name, "limit", usage) SELECT 'project', id, 'nc_resource_count', -1, 0 FROM projects`)
	exec(`INSERT INTO quotas (scope_type, scope_id, name, "limit", usage) SELECT 'customer', id, 'nc_resource_count', -1, 0 FROM customers`)
	exec(`INSERT INTO quotas (scope_type, scope_id, name, "limit", usage) SELECT 'customer', id, 'nc_project_count', -1, 10 FROM customers WHERE name LIKE 'consumer %'`)
	// Users: an agent per offering, an owner per consumer customer.
	exec(fmt.Sprintf(`INSERT INTO users (uuid, username, email, date_joined, modified) SELECT %s, 'agent-' || id, 'agent-' || id || '@example.com', ?, ? FROM offerings`, rowUUID), now, now)
	exec(fmt.Sprintf(`INSERT INTO users (uuid, username, email, date_joined, modified) SELECT %s, 'owner-' || id, 'owner-' || id || '@example.com', ?, ? FROM customers WHERE name LIKE 'consumer %%'`, rowUUID), now, now)
	exec(fmt.Sprintf(`INSERT INTO tokens (key, user_id, created) SELECT %s, id, ? FROM users WHERE username LIKE 'agent-%%' OR username LIKE 'owner-%%'`, tokenExpr), now)
	exec(fmt.Sprintf(`INSERT INTO user_roles (uuid, user_id, role_id, scope_type, scope_id, created, modified)
		SELECT %s, u.id, (SELECT id FROM roles WHERE name = ?), 'offering', o.id, ?, ? FROM offerings o JOIN users u ON u.username = 'agent-' || o.id`, rowUUID),
		models.RoleOfferingManager, now, now)
	exec(fmt.Sprintf(`INSERT INTO user_roles (uuid, user_id, role_id, scope_type, scope_id, created, modified)
		SELECT %s, u.id, (SELECT id FROM roles WHERE name = ?), 'customer', c.id, ?, ? FROM customers c JOIN users u ON u.username = 'owner-' || c.id`, rowUUID),
		models.RoleCustomerOwner, now, now)
	// Resources: fleetResourcesPerOffer per offering, spread over the
	// projects (their ids are consecutive: one statement wrote them), each
	// with its done Create order.
	exec(fmt.Sprintf(`INSERT INTO resources (uuid, project_id, offering_id, plan_id, name, state, backend_id, created, modified)
		SELECT %s, (SELECT MIN(id) FROM projects) + ((o.id * %d + g.i) %% %d), o.id,
			(SELECT pl.id FROM plans pl WHERE pl.offering_id = o.id), 'res ' || o.id || '-' || g.i, 'OK', 'acct-' || o.id || '-' || g.i, ?, ?
		FROM offerings o CROSS JOIN %s`, rowUUID, fleetResourcesPerOffer, fleetConsumers*10, series(fleetResourcesPerOffer)), now, now)
	exec(fmt.Sprintf(`INSERT INTO orders (uuid, type, state, resource_id, offering_id, project_id, plan_id, workflow_started, completed_at, created, modified)
		SELECT %s, 'Create', 'done', r.id, r.offering_id, r.project_id, r.plan_id, TRUE, ?, ?, ? FROM resources r`, rowUUID), now, now, now)
	exec(`UPDATE quotas SET usage = (SELECT COUNT(*) FROM resources r WHERE r.project_id = quotas.scope_id)
		WHERE scope_type = 'project' AND name = 'nc_resource_count'`)

	var w fleetWorld
	var agents []struct{ Key, UUID, Plan string }
	if err := db.Raw(`SELECT t.key, o.uuid, pl.uuid AS plan FROM offerings o JOIN users u ON u.username = 'agent-' || o.id
		JOIN tokens t ON t.user_id = u.id JOIN plans pl ON pl.offering_id = o.id ORDER BY o.id`).
		Scan(&agents).Error; err != nil {
		b.Fatal(err)
	}
	for _, a := range agents {
		w.agents = append(w.agents, fleetAgent{token: a.Key, offering: a.UUID, plan: a.Plan})
	}
	var owners []struct {
		Key string
		ID  int64
	}
	if err := db.Raw(`SELECT t.key, c.id FROM customers c JOIN users u ON u.username = 'owner-' || c.id JOIN tokens t ON t.user_id = u.id ORDER BY c.id`).
		Scan(&owners).Error; err != nil {
		b.Fatal(err)
	}
	for _, o := range owners {
		var projects []string
		if err := db.Table("projects").Where("customer_id = ?", o.ID).Pluck("uuid", &projects).Error; err != nil {
			b.Fatal(err)
		}
		w.consumers = append(w.consumers, fleetConsumer{token: o.Key, projects: projects})
	}
	if len(w.agents) != fleetAgents || len(w.consumers) != fleetConsumers {
		b.Fatalf("seeded %d agents and %d consumers", len(w.agents), len(w.consumers))
	}
	return w
}

// fleetCalls are the calls measured, by name.
const (
	callOrders    = "agent: pending orders"
	callResources = "agent: resources"
	callOrder     = "consumer: order create"
)

// BenchmarkSiteAgentFleet runs the fleet for WALDUR_BENCH_FLEET_SECONDS
// (default 60) against the API over HTTP: every agent polls its orders
// and its resources once a minute (spread evenly over the minute), the
// consumers place fleetOrdersPerMinute orders a minute, each call on its
// own goroutine so a slow answer does not delay the schedule. Reported:
// p50 and p99 of each call under the fleet, next to the same agent calls
// made one at a time on the idle server in the same run (the baseline).
func BenchmarkSiteAgentFleet(b *testing.B) {
	seconds := 60
	if v, err := strconv.Atoi(os.Getenv("WALDUR_BENCH_FLEET_SECONDS")); err == nil && v > 0 {
		seconds = v
	}
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			db := dbtest.Migrated(b, kind)
			w := seedFleet(b, db, kind)
			srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
			if err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
			call := func(method, path, token string, body any, want int) (time.Duration, error) {
				var rd io.Reader
				if body != nil {
					raw, _ := json.Marshal(body)
					rd = strings.NewReader(string(raw))
				}
				req, _ := http.NewRequest(method, ts.URL+path, rd)
				req.Header.Set("Authorization", "Token "+token)
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					return 0, err
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				if resp.StatusCode != want {
					return d, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
				}
				return d, nil
			}
			ordersPath := func(a fleetAgent) string {
				return "/api/marketplace-orders/?offering_uuid=" + a.offering + "&state=pending-provider&state=executing&page_size=100"
			}
			resourcesPath := func(a fleetAgent) string {
				return "/api/marketplace-provider-resources/?field=uuid&field=backend_id&field=name&field=slug&field=state&field=project_uuid" +
					"&field=project_slug&field=customer_slug&field=limits&field=backend_metadata&field=attributes&field=offering_plugin_options" +
					"&field=offering_backend_id&offering_uuid=" + a.offering + "&state=OK&state=Erred&page_size=100"
			}

			// Baseline: the agents' calls one at a time on the idle server.
			idle := map[string][]time.Duration{}
			for i := 0; i < 400; i++ {
				a := w.agents[(i*37)%len(w.agents)]
				for name, path := range map[string]string{callOrders: ordersPath(a), callResources: resourcesPath(a)} {
					d, err := call(http.MethodGet, path, a.token, nil, http.StatusOK)
					if err != nil {
						b.Fatal(err)
					}
					if i >= 50 { // the first ones warm caches and the planner
						idle[name] = append(idle[name], d)
					}
				}
			}

			// The fleet.
			var (
				mu     sync.Mutex
				loaded = map[string][]time.Duration{}
				errs   []error
				wg     sync.WaitGroup
			)
			record := func(name string, d time.Duration, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				loaded[name] = append(loaded[name], d)
			}
			rnd := rand.New(rand.NewPCG(1, 2))
			type event struct {
				at    time.Duration
				agent int // -1: an order
			}
			total := time.Duration(seconds) * time.Second
			var plan []event
			for at := time.Duration(0); at < total; at += time.Minute {
				for i := range w.agents {
					if t := at + time.Duration(i)*time.Minute/time.Duration(len(w.agents)); t < total {
						plan = append(plan, event{at: t, agent: i})
					}
				}
				for j := 0; j < fleetOrdersPerMinute; j++ {
					if t := at + time.Duration(j)*time.Minute/fleetOrdersPerMinute + time.Minute/(2*fleetOrdersPerMinute); t < total {
						plan = append(plan, event{at: t, agent: -1})
					}
				}
			}
			slices.SortStableFunc(plan, func(x, y event) int { return cmp.Compare(x.at, y.at) })
			b.ResetTimer()
			start := time.Now()
			for _, ev := range plan {
				if d := time.Until(start.Add(ev.at)); d > 0 {
					time.Sleep(d) // the schedule: each agent's minute, not a wait for something
				}
				wg.Add(1)
				if ev.agent >= 0 {
					a := w.agents[ev.agent]
					go func() {
						defer wg.Done()
						d, err := call(http.MethodGet, ordersPath(a), a.token, nil, http.StatusOK)
						record(callOrders, d, err)
						d, err = call(http.MethodGet, resourcesPath(a), a.token, nil, http.StatusOK)
						record(callResources, d, err)
					}()
					continue
				}
				c := w.consumers[rnd.IntN(len(w.consumers))]
				o := w.agents[rnd.IntN(len(w.agents))]
				body := map[string]any{"offering": o.offering, "plan": o.plan, "project": c.projects[rnd.IntN(len(c.projects))],
					"attributes": map[string]any{"name": "fleet"}}
				go func() {
					defer wg.Done()
					d, err := call(http.MethodPost, "/api/marketplace-orders/", c.token, body, http.StatusCreated)
					record(callOrder, d, err)
				}()
			}
			wg.Wait()
			b.StopTimer()
			if len(errs) > 0 {
				b.Fatalf("%d calls failed, first: %v", len(errs), errs[0])
			}
			for _, name := range []string{callOrders, callResources, callOrder} {
				p50, p99 := percentiles(loaded[name])
				line := fmt.Sprintf("%s: %d calls under the fleet, p50 %s, p99 %s", name, len(loaded[name]), p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
				if ds := idle[name]; len(ds) > 0 {
					i50, i99 := percentiles(ds)
					line += fmt.Sprintf("; one at a time on the idle server: p50 %s, p99 %s", i50.Round(10*time.Microsecond), i99.Round(10*time.Microsecond))
				}
				b.Log(line)
				key := map[string]string{callOrders: "orders", callResources: "resources", callOrder: "create"}[name]
				b.ReportMetric(float64(p99.Microseconds())/1000, key+"-p99-ms")
			}
			var placed int64
			if err := db.Table("orders").Where("state <> ?", models.OrderDone).Count(&placed).Error; err != nil {
				b.Fatal(err)
			}
			if want := int64(len(loaded[callOrder])); placed != want {
				b.Fatalf("%d orders placed, %d answered 201", placed, want)
			}
		})
	}
}

// BenchmarkOrdersList measures GET /api/marketplace-orders/?page_size=50
// for a consumer organization's owner (10 projects; the fleet's 10k orders
// in all), next to hand-written SQL of the same count and page (the
// caller's roles, then count and a page joined as the answer needs), in
// the same run.
func BenchmarkOrdersList(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			db := dbtest.Migrated(b, kind)
			w := seedFleet(b, db, kind)
			srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
			if err != nil {
				b.Fatal(err)
			}
			h := srv.Handler()
			owner := w.consumers[len(w.consumers)/2]
			var userID int64
			if err := db.Table("tokens").Where("key = ?", owner.token).Pluck("user_id", &userID).Error; err != nil {
				b.Fatal(err)
			}
			var want int64
			if err := db.Table("orders").Joins("JOIN projects p ON p.id = orders.project_id").
				Where("p.customer_id = (SELECT scope_id FROM user_roles WHERE user_id = ? AND scope_type = 'customer')", userID).Count(&want).Error; err != nil {
				b.Fatal(err)
			}
			get := func() {
				req := httptest.NewRequest(http.MethodGet, "/api/marketplace-orders/?page_size=50", nil)
				req.Header.Set("Authorization", "Token "+owner.token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 || rec.Header().Get("X-Result-Count") != fmt.Sprint(want) {
					b.Fatalf("status %d, count %q (want %d): %.300s", rec.Code, rec.Header().Get("X-Result-Count"), want, rec.Body.String())
				}
			}
			compareWithRaw(b, get, rawOrderQueries(db, userID))
		})
	}
}

// rawOrderQueries are the statements the orders list needs for this user,
// by hand: the caller's role scopes, then the count and one page of orders
// with what an answer shows of their offering, provider, project,
// customer, plan and resource.
func rawOrderQueries(db *gorm.DB, userID int64) func() error {
	const roles = `SELECT scope_type, scope_id FROM user_roles WHERE user_id = ? AND is_active = ? AND (expiration_time IS NULL OR expiration_time > ?)`
	sqlDB, _ := db.DB()
	return func() error {
		rr, err := sqlDB.Query(rebind(db, roles), userID, true, time.Now().UTC())
		if err != nil {
			return err
		}
		ids := map[string][]string{"customer": {"0"}, "project": {"0"}, "offering": {"0"}}
		for rr.Next() {
			var t string
			var id int64
			if err := rr.Scan(&t, &id); err != nil {
				return err
			}
			ids[t] = append(ids[t], fmt.Sprint(id))
		}
		rr.Close()
		cs, ps, os := strings.Join(ids["customer"], ","), strings.Join(ids["project"], ","), strings.Join(ids["offering"], ",")
		from := `FROM orders o JOIN offerings f ON f.id = o.offering_id JOIN customers pr ON pr.id = f.customer_id
			JOIN projects p ON p.id = o.project_id JOIN customers c ON c.id = p.customer_id JOIN resources r ON r.id = o.resource_id
			LEFT JOIN plans pl ON pl.id = o.plan_id
			WHERE (p.customer_id IN (` + cs + `) OR o.project_id IN (` + ps + `) OR f.customer_id IN (` + cs + `) OR o.offering_id IN (` + os + `))`
		var n int64
		if err := sqlDB.QueryRow(`SELECT COUNT(*) ` + from).Scan(&n); err != nil {
			return err
		}
		rows, err := sqlDB.Query(`SELECT o.uuid, o.type, o.state, o.created, o.modified, o.error_message, f.uuid, f.name, f.type,
			pr.uuid, pr.name, p.uuid, p.name, c.uuid, c.name, r.uuid, r.name, pl.uuid, pl.name ` + from + ` ORDER BY o.created DESC, o.id DESC LIMIT 50`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ou, ot, ost, oe, fu, fn, ft, pru, prn, pu, pn, cu, cn, ru, rn string
			var plu, pln *string
			var created, modified time.Time
			if err := rows.Scan(&ou, &ot, &ost, &created, &modified, &oe, &fu, &fn, &ft, &pru, &prn, &pu, &pn, &cu, &cn, &ru, &rn, &plu, &pln); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}
