package policies_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/policies"
	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// world is the whole API (app.NewAPI) behind a real HTTP server, the core
// worker of app.Registry on a real Temporal server, a consumer customer
// (owner) with a project, and a provider customer (provider) with a SLURM
// offering whose cpu component costs 0.5 per hour of usage. The policy
// evaluations of a test run on a queue of their own, with a clock the test
// moves (clock), as the schedule would run them.
type world struct {
	t                 *testing.T
	db                *gorm.DB
	tc                client.Client
	base              string
	tokens            map[string]string
	project, offering models.UUID
	plan, customer    models.UUID
	queue             string
	mu                sync.Mutex
	now               time.Time
}

func (w *world) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }

func (w *world) setClock(t time.Time) { w.mu.Lock(); w.now = t; w.mu.Unlock() }

func newWorld(t *testing.T, srv *temporaltest.Server, db *gorm.DB, queue string) *world {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc := srv.Client(t)
	reg := app.Registry(&app.Deps{DB: db, Logger: quiet})
	ws, err := reg.Start(tc, reg.Queues(), worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)
	st := store.New(db)
	w := &world{t: t, db: db, tc: tc, tokens: map[string]string{}, queue: queue, now: time.Now().UTC()}
	own := workflows.NewRegistry()
	own.Add(queue, func(r worker.Registry) { policies.Register(r, &policies.Activities{Store: st, Now: w.clock}) })
	ows, err := own.Start(tc, []string{queue}, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ows.Stop)
	h, err := app.NewAPI(db, tc, quiet, "default")
	require.NoError(t, err)
	hs := httptest.NewServer(h.Handler())
	t.Cleanup(hs.Close)
	w.base = hs.URL

	users := map[string]*models.User{}
	for _, name := range []string{"owner", "provider", "member", "staff"} {
		u := &models.User{Username: name, Email: name + "@example.com", FirstName: strings.ToUpper(name[:1]) + name[1:], LastName: "Person", IsActive: true,
			IsStaff: name == "staff"}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		tok, err := st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		w.tokens[name], users[name] = tok.Key, u
	}
	actx := models.WithActor(ctx, models.Actor{User: users["owner"]})
	consumer := &models.Customer{Name: "University", Slug: "uni"}
	require.NoError(t, st.CreateCustomer(actx, consumer))
	proj := &models.Project{Name: "Genomics", Slug: "genomics"}
	require.NoError(t, st.CreateProject(actx, proj, consumer))
	w.project, w.customer = proj.UUID, consumer.UUID
	prov := &models.Customer{Name: "HPC Centre", Slug: "hpc"}
	require.NoError(t, st.CreateCustomer(actx, prov))
	grant := func(user, role string, scope models.Scope, customer int64) {
		r, err := st.RoleByName(ctx, role)
		require.NoError(t, err)
		_, err = st.GrantRole(ctx, store.Grant{User: users[user], Role: r, Scope: scope, CustomerID: customer})
		require.NoError(t, err)
	}
	grant("owner", models.RoleCustomerOwner, consumer.Scope(), consumer.ID)
	grant("member", models.RoleProjectMember, proj.Scope(), consumer.ID)
	grant("provider", models.RoleCustomerOwner, prov.Scope(), prov.ID)

	now := time.Now().UTC()
	ins := func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	ins("service_providers", map[string]any{"customer_id": prov.ID, "created": now, "modified": now})
	cat, _ := ins("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	off, offu := ins("offerings", map[string]any{"name": "Cluster", "customer_id": prov.ID, "category_id": cat,
		"type": models.OfferingSlurm, "state": models.OfferingActive, "shared": true, "billable": true,
		"plugin_options": `{}`, "created": now, "modified": now})
	w.offering = offu
	planID, planUUID := ins("plans", map[string]any{"name": "Default", "offering_id": off, "unit": "month", "created": now, "modified": now})
	w.plan = planUUID
	cid, _ := ins("offering_components", map[string]any{"offering_id": off, "type": "cpu", "name": "CPU", "billing_type": "usage", "measured_unit": "hours"})
	require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": planID, "component_id": cid, "price": "0.5"}).Error)
	// A free limit-based component, for Update orders (update_limits).
	sid, _ := ins("offering_components", map[string]any{"offering_id": off, "type": "storage", "name": "Storage", "billing_type": "limit", "measured_unit": "GB"})
	require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": planID, "component_id": sid, "price": "0"}).Error)
	return w
}

// call sends a request as user and checks the status and, for the routes
// of Waldur's file, the answer against it.
func (w *world) call(user, method, path string, body any, want int) map[string]any {
	w.t.Helper()
	raw := w.raw(user, method, path, body, want, true)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(w.t, json.Unmarshal(raw, &out), string(raw))
	}
	return out
}

func (w *world) raw(user, method, path string, body any, want int, check bool) []byte {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(w.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.base+path, rd)
	require.NoError(w.t, err)
	req.Header.Set("Authorization", "Token "+w.tokens[user])
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(w.t, err)
	require.Equal(w.t, want, resp.StatusCode, "%s %s: %s", method, path, data)
	if check && resp.StatusCode < 300 && !apitest.Ours(method, req.URL.Path) { // the file documents no error answers
		if err := apitest.Check(req, resp.StatusCode, resp.Header, data); err != nil {
			w.t.Errorf("%s %s does not match the OpenAPI contract: %v\n%s", method, path, err, data)
		}
	}
	return data
}

func (w *world) list(user, path string) []map[string]any {
	w.t.Helper()
	var out []map[string]any
	require.NoError(w.t, json.Unmarshal(w.raw(user, http.MethodGet, path, nil, 200, true), &out))
	return out
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// order places a Create order as owner; when want is 201 the provider
// approves it and sets it done, and the resource's uuid is returned.
func (w *world) order(name string, want int) (string, map[string]any) {
	w.t.Helper()
	o := w.call("owner", http.MethodPost, "/api/marketplace-orders/", w.orderBody(name), want)
	if want != http.StatusCreated {
		return "", o
	}
	id := str(o, "uuid")
	w.call("provider", http.MethodPost, "/api/marketplace-orders/"+id+"/approve_by_provider/", map[string]any{}, 200)
	w.raw("provider", http.MethodPost, "/api/marketplace-orders/"+id+"/set_state_done/", map[string]any{}, 200, true)
	require.Eventually(w.t, func() bool {
		var s string
		_ = w.db.Raw("SELECT state FROM orders WHERE uuid = ?", strings.ReplaceAll(id, "-", "")).Scan(&s).Error
		return s == "done"
	}, 30*time.Second, 20*time.Millisecond, "order %s never done", id)
	return str(o, "marketplace_resource_uuid"), o
}

func (w *world) orderBody(name string) map[string]any {
	return map[string]any{"offering": w.offering.String(), "project": w.project.String(), "plan": w.plan.String(),
		"attributes": map[string]any{"name": name}}
}

// preview asks for the preview of a new order.
func (w *world) preview() map[string]any {
	return w.call("owner", http.MethodPost, "/api/marketplace-orders/preview/", w.orderBody("next"), 200)
}

// evaluate runs one evaluation, as the schedule does, and waits for it.
func (w *world) evaluate() policies.Summary {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := policies.StartEvaluation(ctx, w.tc, w.queue)
	require.NoError(w.t, err)
	var s policies.Summary
	require.NoError(w.t, run.Get(ctx, &s))
	return s
}

func (w *world) events(typ string) int64 {
	var n int64
	require.NoError(w.t, w.db.Table("events").Where("event_type = ?", typ).Count(&n).Error)
	return n
}

func (w *world) setUsage(resource string, amount any, date string) {
	w.t.Helper()
	body := map[string]any{"resource": resource, "usages": []any{map[string]any{"type": "cpu", "amount": amount}}}
	if date != "" {
		body["date"] = date
	}
	w.raw("provider", http.MethodPost, "/api/marketplace-component-usages/set_usage/", body, 201, true)
}

// TestProjectCostPolicyBlocksOrders: a project cost policy at 100 with
// notify + block_creation; usage pushes the project's estimate to 125 ->
// one notification (however often it is evaluated again), new orders
// refused (the preview names the policy), the existing resource untouched;
// the limit raised -> orders accepted again.
func TestProjectCostPolicyBlocksOrders(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, srv, db, "policies-cost-"+models.NewUUID().String())
		rid, _ := w.order("alloc1", http.StatusCreated)

		// Bad input: 400, nothing written.
		bad := w.call("owner", http.MethodPost, "/api/marketplace-project-estimated-cost-policies/",
			map[string]any{"scope": w.project.String(), "actions": "notify_organization_owners,fly_to_the_moon", "limit_cost": 100}, 400)
		require.Contains(t, bad, "actions")
		bad = w.call("owner", http.MethodPost, "/api/marketplace-project-estimated-cost-policies/",
			map[string]any{"actions": "notify_organization_owners"}, 400)
		require.Contains(t, bad, "scope")
		require.Contains(t, bad, "limit_cost")
		// A project member may not set the project's budget.
		w.call("member", http.MethodPost, "/api/marketplace-project-estimated-cost-policies/",
			map[string]any{"scope": w.project.String(), "actions": "notify_organization_owners", "limit_cost": 100}, 403)
		var n int64
		require.NoError(t, db.Table("marketplace_policies").Count(&n).Error)
		require.Zero(t, n)

		p := w.call("owner", http.MethodPost, "/api/marketplace-project-estimated-cost-policies/", map[string]any{
			"scope":   w.base + "/api/projects/" + w.project.String() + "/",
			"actions": "notify_organization_owners,block_creation_of_new_resources", "limit_cost": 100}, 201)
		require.Equal(t, false, p["has_fired"])
		require.Equal(t, "Genomics", p["scope_name"])
		require.Equal(t, "1 month", p["period_name"])
		pid := str(p, "uuid")
		path := "/api/marketplace-project-estimated-cost-policies/" + pid + "/"

		// 250 cpu hours at 0.5: the estimate is 125, over 100.
		w.setUsage(rid, 250, "")
		require.Equal(t, 1, w.evaluate().Fired)
		p = w.call("owner", http.MethodGet, path, nil, 200)
		require.Equal(t, true, p["has_fired"])
		require.Equal(t, "125", p["billing_price_estimate"].(map[string]any)["total"])
		require.Equal(t, int64(1), w.events(policies.EventPolicyNotify))
		require.Zero(t, w.evaluate().Fired, "a crossing fires once")
		require.Equal(t, int64(1), w.events(policies.EventPolicyNotify))

		pv := w.preview()
		require.Equal(t, false, pv["accepted"])
		ref := pv["refusal"].(map[string]any)
		require.Contains(t, str(ref, "detail"), pid)
		require.EqualValues(t, 400, ref["status"])
		w.order("alloc2", http.StatusBadRequest)
		res := w.call("owner", http.MethodGet, "/api/marketplace-resources/"+rid+"/", nil, 200)
		require.Equal(t, "OK", str(res, "state"))
		require.Equal(t, false, res["downscaled"])
		require.Equal(t, false, res["paused"])

		// block_modification_of_existing_resources added: an Update order
		// of the resource is refused, naming the policy, and none is made.
		w.call("owner", http.MethodPatch, path, map[string]any{
			"actions": "notify_organization_owners,block_creation_of_new_resources,block_modification_of_existing_resources"}, 200)
		var updates int64
		require.NoError(t, db.Table("orders").Where("type = ?", models.OrderUpdate).Count(&updates).Error)
		require.Zero(t, updates)
		refused := w.raw("owner", http.MethodPost, "/api/marketplace-resources/"+rid+"/update_limits/", map[string]any{"limits": map[string]any{"storage": 5}}, 400, false)
		require.Contains(t, string(refused), pid)
		require.NoError(t, db.Table("orders").Where("type = ?", models.OrderUpdate).Count(&updates).Error)
		require.Zero(t, updates)

		// The list, its filters and the actions.
		var list []map[string]any
		require.NoError(t, json.Unmarshal(w.raw("member", http.MethodGet, "/api/marketplace-project-estimated-cost-policies/?project_uuid="+w.project.String(), nil, 200, true), &list))
		require.Len(t, list, 1)
		require.NoError(t, json.Unmarshal(w.raw("member", http.MethodGet, "/api/marketplace-project-estimated-cost-policies/?scope_uuid="+models.NewUUID().String(), nil, 200, true), &list))
		require.Empty(t, list)
		var acts []string
		require.NoError(t, json.Unmarshal(w.raw("member", http.MethodGet, "/api/marketplace-project-estimated-cost-policies/actions/", nil, 200, false), &acts))
		require.Contains(t, acts, policies.ActBlockCreation)
		w.call("provider", http.MethodGet, path, nil, 404) // not on the project's side
		w.call("member", http.MethodPatch, path, map[string]any{"limit_cost": 1000}, 403)

		// The limit raised: the block is lifted at once.
		p = w.call("owner", http.MethodPatch, path, map[string]any{"limit_cost": 1000}, 200)
		require.Equal(t, false, p["has_fired"])
		require.EqualValues(t, 1000, p["limit_cost"])
		require.Equal(t, true, w.preview()["accepted"])
		w.order("alloc2", http.StatusCreated)
		w.call("owner", http.MethodPost, "/api/marketplace-resources/"+rid+"/update_limits/", map[string]any{"limits": map[string]any{"storage": 5}}, 200)
		require.Equal(t, int64(1), w.events(policies.EventPolicyNotify))

		w.raw("owner", http.MethodDelete, path, nil, 204, true)
		w.call("owner", http.MethodGet, path, nil, 404)
	})
}

// slurmCase is testdata/slurm_quarter.json: a quarterly SLURM policy, the
// previous quarter's usage, and the usage steps of this quarter with the
// flags each must leave (figures computed by hand in the file).
type slurmCase struct {
	Limit           int64   `json:"limit"`
	CarryoverFactor int64   `json:"carryover_factor"`
	GraceRatio      float64 `json:"grace_ratio"`
	PreviousUsage   int64   `json:"previous_usage"`
	Carryover       string  `json:"carryover"`
	Effective       string  `json:"effective"`
	Hard            string  `json:"hard"`
	Steps           []struct {
		Usage      int64 `json:"usage"`
		Downscaled bool  `json:"downscaled"`
		Paused     bool  `json:"paused"`
	} `json:"steps"`
}

// TestSlurmPeriodicPolicy: a SLURM periodic policy over a quarter with
// carry-over; usage past the effective allocation downscales the resource,
// past the hard limit (grace ratio) pauses it; the next quarter lifts both.
func TestSlurmPeriodicPolicy(t *testing.T) {
	raw, err := os.ReadFile("testdata/slurm_quarter.json")
	require.NoError(t, err)
	var tc slurmCase
	require.NoError(t, json.Unmarshal(raw, &tc))
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, srv, db, "policies-slurm-"+models.NewUUID().String())
		rid, _ := w.order("alloc1", http.StatusCreated)
		now := time.Now().UTC()
		quarter := policies.PeriodOf(policies.PeriodQuarter, now)
		prevStart := time.Date(quarter.From/100, time.Month(quarter.From%100), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0)
		w.setUsage(rid, tc.PreviousUsage, prevStart.AddDate(0, 0, 14).Format(time.RFC3339))

		p := w.call("provider", http.MethodPost, "/api/marketplace-slurm-periodic-usage-policies/", map[string]any{
			"scope":                w.offering.String(),
			"actions":              "notify_organization_owners,request_slurm_resource_downscaling,request_slurm_resource_pausing",
			"component_limits_set": []any{map[string]any{"type": "cpu", "limit": tc.Limit}},
			"period":               policies.PeriodQuarter, "carryover_enabled": true, "carryover_factor": tc.CarryoverFactor,
			"grace_ratio": tc.GraceRatio, "qos_strategy": "threshold", "limit_type": "GrpTRESMins"}, 201)
		require.Equal(t, "3 month", p["period_name"])
		require.EqualValues(t, tc.GraceRatio, p["grace_ratio"])
		w.call("provider", http.MethodPost, "/api/marketplace-slurm-periodic-usage-policies/", map[string]any{
			"scope": w.offering.String(), "actions": "request_slurm_resource_pausing",
			"component_limits_set": []any{map[string]any{"type": "gpu", "limit": 1}}}, 400)
		w.call("owner", http.MethodPost, "/api/marketplace-slurm-periodic-usage-policies/", map[string]any{
			"scope": w.offering.String(), "actions": "request_slurm_resource_pausing",
			"component_limits_set": []any{map[string]any{"type": "cpu", "limit": 1}}}, 400) // the offering is not the owner's to see

		f := policies.SlurmThresholds(policies.SlurmSettings{CarryoverEnabled: true, CarryoverFactor: tc.CarryoverFactor, GraceRatio: tc.GraceRatio},
			tc.Limit, decimalOf(tc.Steps[0].Usage), decimalOf(tc.PreviousUsage))
		require.Equal(t, tc.Carryover, f.Carryover.String())
		require.Equal(t, tc.Effective, f.Effective.String())
		require.Equal(t, tc.Hard, f.Hard.String())

		w.setClock(now)
		for _, s := range tc.Steps {
			w.setUsage(rid, s.Usage, "")
			w.evaluate()
			res := w.call("provider", http.MethodGet, "/api/marketplace-provider-resources/"+rid+"/", nil, 200)
			require.Equal(t, s.Downscaled, res["downscaled"], "usage %d", s.Usage)
			require.Equal(t, s.Paused, res["paused"], "usage %d", s.Usage)
		}
		require.Equal(t, int64(2), w.events(policies.EventPolicyNotify), "one notification per threshold crossed")
		pid := str(p, "uuid")
		base := "/api/marketplace-slurm-periodic-usage-policies/" + pid + "/"
		logs := w.list("provider", base+"evaluation-logs/")
		require.Len(t, logs, 2)
		require.Equal(t, []any{"notify", "pause"}, logs[0]["actions_taken"])
		require.Equal(t, []any{"notify", "downscale"}, logs[1]["actions_taken"])
		require.Equal(t, map[string]any{"paused": true, "downscaled": true}, logs[0]["new_state"])
		require.EqualValues(t, 120, logs[0]["grace_limit_percentage"])
		require.Nil(t, logs[0]["site_agent_confirmed"])

		w.call("provider", http.MethodPost, base+"dry-run/", map[string]any{}, 403)
		dry := w.call("staff", http.MethodPost, base+"dry-run/", map[string]any{"resource_uuid": rid}, 200)
		res := dry["resources"].([]any)[0].(map[string]any)
		require.Equal(t, []any{"notify", "downscale", "pause"}, res["would_trigger"])
		require.Equal(t, true, res["paused"])
		require.EqualValues(t, 120, res["usage_percentage"]) // 1560 / 1300
		ev := w.call("staff", http.MethodPost, base+"evaluate/", nil, 200)
		res = ev["resources"].([]any)[0].(map[string]any)
		require.Empty(t, res["actions_taken"], "nothing new to do")
		require.Equal(t, res["previous_state"], res["new_state"])

		w.raw("owner", http.MethodPost, base+"report-command-result/", map[string]any{"resource_uuid": rid, "success": true}, 404, true)
		w.call("provider", http.MethodPost, base+"report-command-result/", map[string]any{"success": true}, 400)
		w.raw("provider", http.MethodPost, base+"report-command-result/", map[string]any{"resource_uuid": rid, "success": true,
			"commands_executed": []any{"sacctmgr -i modify account alloc1 set qos=blocked"}}, 200, true)
		hist := w.list("provider", base+"command-history/")
		require.Len(t, hist, 1)
		require.Equal(t, "sacctmgr -i modify account alloc1 set qos=blocked", hist[0]["shell_command"])
		require.Equal(t, true, w.list("provider", base+"evaluation-logs/")[0]["site_agent_confirmed"])

		pv := w.call("member", http.MethodPost, "/api/marketplace-slurm-periodic-usage-policies/preview_impact/", map[string]any{
			"allocation": tc.Limit, "previous_usage": tc.PreviousUsage, "carryover_factor": tc.CarryoverFactor, "grace_ratio": tc.GraceRatio,
			"current_usage": 1300, "daily_usage_rate": 10}, 200)
		require.EqualValues(t, 1300, pv["effective_allocation"])
		require.EqualValues(t, 1560, pv["thresholds"].(map[string]any)["blocked_threshold"])
		require.Equal(t, "slowdown", pv["current_qos_status"])
		require.EqualValues(t, 26, pv["date_projections"].(map[string]any)["blocked"].(map[string]any)["days"]) // (1560 - 1300) / 10
		w.call("member", http.MethodPost, "/api/marketplace-slurm-periodic-usage-policies/preview_impact/", map[string]any{"grace_ratio": 2}, 400)

		// The next quarter: no usage yet, both flags lifted.
		w.setClock(time.Date(quarter.Upto/100, time.Month(quarter.Upto%100), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0).Add(time.Hour))
		sum := w.evaluate()
		require.Equal(t, 2, sum.Ended)
		require.Equal(t, []any{"lift"}, w.list("provider", base+"evaluation-logs/")[0]["actions_taken"])
		res = w.call("provider", http.MethodGet, "/api/marketplace-provider-resources/"+rid+"/", nil, 200)
		require.Equal(t, false, res["downscaled"])
		require.Equal(t, false, res["paused"])
		require.Zero(t, w.evaluate().Ended)
	})
}

func decimalOf(n int64) decimal.Decimal { return decimal.NewFromInt(n) }

// TestPolicyFamiliesCRUD writes and reads a policy of every family through
// the HTTP API, each answer validated against Waldur's OpenAPI file.
func TestPolicyFamiliesCRUD(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, srv, db, "policies-crud-"+models.NewUUID().String())
		limits := []any{map[string]any{"type": "cpu", "limit": 100}}
		for _, c := range []struct {
			path, user string
			body       map[string]any
			patch      map[string]any
			check      func(p map[string]any)
		}{
			{"marketplace-project-estimated-cost-policies", "owner",
				map[string]any{"scope": w.project.String(), "actions": "notify_organization_owners", "limit_cost": 10, "period": 4, "options": map[string]any{"k": "v"}},
				map[string]any{"period": 1}, func(p map[string]any) { require.Equal(t, "Total", p["period_name"]) }},
			{"marketplace-customer-estimated-cost-policies", "staff",
				map[string]any{"scope": w.customer.String(), "actions": "notify_organization_owners,block_creation_of_new_resources", "limit_cost": 10},
				map[string]any{"limit_cost": 20}, func(p map[string]any) {
					require.EqualValues(t, 20, p["limit_cost"])
					require.EqualValues(t, 0, p["customer_credit"])
				}},
			{"marketplace-offering-estimated-cost-policies", "provider",
				map[string]any{"scope": w.offering.String(), "actions": "block_creation_of_new_resources", "limit_cost": 10, "apply_to_all": true},
				map[string]any{"apply_to_all": false}, func(p map[string]any) {
					require.Equal(t, false, p["apply_to_all"])
					require.Equal(t, []any{}, p["organization_groups"])
				}},
			{"marketplace-offering-usage-policies", "provider",
				map[string]any{"scope": w.offering.String(), "actions": "notify_organization_owners", "component_limits_set": limits},
				map[string]any{"component_limits_set": []any{map[string]any{"type": "cpu", "limit": 5}}},
				func(p map[string]any) {
					require.Equal(t, []any{map[string]any{"type": "cpu", "limit": float64(5)}}, p["component_limits_set"])
				}},
			{"marketplace-slurm-periodic-usage-policies", "provider",
				map[string]any{"scope": w.offering.String(), "actions": "request_slurm_resource_pausing", "component_limits_set": limits},
				map[string]any{"grace_ratio": 0.5, "tres_billing_weights": map[string]any{"CPU": 0.015625}},
				func(p map[string]any) {
					require.EqualValues(t, 0.5, p["grace_ratio"])
					require.Equal(t, "3 month", p["period_name"])
				}},
		} {
			base := "/api/" + c.path + "/"
			p := w.call(c.user, http.MethodPost, base, c.body, 201)
			one := base + str(p, "uuid") + "/"
			require.Equal(t, w.base+one, p["url"])
			require.Equal(t, c.user, p["created_by_username"])
			require.Len(t, w.list(c.user, base), 1)
			w.call(c.user, http.MethodGet, one, nil, 200)
			w.call(c.user, http.MethodPut, one, c.body, 200)
			c.check(w.call(c.user, http.MethodPatch, one, c.patch, 200))
			w.call(c.user, http.MethodPatch, one, map[string]any{"period": 7}, 400)
			w.call(c.user, http.MethodPut, one, map[string]any{"actions": "notify_organization_owners"}, 400)
			w.call("member", http.MethodDelete, one, nil, map[bool]int{true: 403, false: 404}[c.path == "marketplace-project-estimated-cost-policies"])
			w.raw(c.user, http.MethodDelete, one, nil, 204, true)
			require.Empty(t, w.list(c.user, base))
		}
		// A customer's owner may not set the customer's budget; the provider cannot name a customer it does not see.
		w.call("owner", http.MethodPost, "/api/marketplace-customer-estimated-cost-policies/",
			map[string]any{"scope": w.customer.String(), "actions": "notify_organization_owners", "limit_cost": 10}, 403)
		bad := w.call("provider", http.MethodPost, "/api/marketplace-customer-estimated-cost-policies/",
			map[string]any{"scope": w.customer.String(), "actions": "notify_organization_owners", "limit_cost": 10}, 400)
		require.Equal(t, []any{"Invalid hyperlink - Object does not exist."}, bad["scope"])
		bad = w.call("provider", http.MethodPost, "/api/marketplace-offering-estimated-cost-policies/", map[string]any{"scope": w.offering.String(),
			"actions": "notify_organization_owners", "limit_cost": 10, "organization_groups": []any{models.NewUUID().String()}}, 400)
		require.Equal(t, []any{"Invalid hyperlink - Object does not exist."}, bad["organization_groups"])
	})
}
