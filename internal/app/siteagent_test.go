package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// agentClient speaks to the server as Waldur's site agent does: a token,
// its User-Agent, JSON bodies; every answer must have the status the agent
// expects and validate against Waldur's OpenAPI file.
type agentClient struct {
	t     *testing.T
	base  string
	token string
	mode  string
}

func (a *agentClient) call(method, path string, body any, want int) map[string]any {
	a.t.Helper()
	raw := a.raw(method, path, body, want)
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var out map[string]any
	require.NoError(a.t, json.Unmarshal(raw, &out), "%s %s: %s", method, path, raw)
	return out
}

func (a *agentClient) list(path string) []map[string]any {
	a.t.Helper()
	var out []map[string]any
	require.NoError(a.t, json.Unmarshal(a.raw(http.MethodGet, path, nil, 200), &out))
	return out
}

func (a *agentClient) raw(method, path string, body any, want int) []byte {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(a.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Token "+a.token)
	req.Header.Set("User-Agent", "waldur-site-agent-"+a.mode+"/0.7.0")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	if want == 0 { // 200 or 201 (register_service, register_processor: existing or created)
		require.Contains(a.t, []int{200, 201}, resp.StatusCode, "%s %s: %s", method, path, data)
	} else {
		require.Equal(a.t, want, resp.StatusCode, "%s %s: %s", method, path, data)
	}
	if err := apitest.Check(req, resp.StatusCode, resp.Header, data); err != nil {
		a.t.Errorf("%s %s does not match the OpenAPI contract: %v\n%s", method, path, err, data)
	}
	return data
}

// syncAll follows Link rel="next" as the agent's sync_all does: page_size=100
// and, from each next link, only its page= parameter.
func (a *agentClient) syncAll(path string) []map[string]any {
	a.t.Helper()
	var all []map[string]any
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := path + sep + "page_size=100"
	for pages := 0; next != ""; pages++ {
		require.Less(a.t, pages, 100)
		req, err := http.NewRequest(http.MethodGet, a.base+next, nil)
		require.NoError(a.t, err)
		req.Header.Set("Authorization", "Token "+a.token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(a.t, err)
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(a.t, 200, resp.StatusCode, string(data))
		var items []map[string]any
		require.NoError(a.t, json.Unmarshal(data, &items))
		all = append(all, items...)
		next = ""
		if m := regexp.MustCompile(`<([^>]+)>; rel="next"`).FindStringSubmatch(resp.Header.Get("Link")); m != nil {
			u, err := url.Parse(m[1])
			require.NoError(a.t, err)
			next = path + sep + "page_size=100&page=" + u.Query().Get("page")
		}
	}
	return all
}

type agentWorld struct {
	db                         *gorm.DB
	base                       string
	tokens                     map[string]string
	offering, plan, project    models.UUID
	customerSlug, providerHex  string
	providerCustomer, consumer *models.Customer
	members                    map[string]*models.User
	proj                       *models.Project
}

func newAgentWorld(t *testing.T, srv *temporaltest.Server, db *gorm.DB) *agentWorld {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc := srv.Client(t)
	reg := app.Registry(&app.Deps{DB: db, Logger: quiet})
	ws, err := reg.Start(tc, reg.Queues(), worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)
	api, err := app.NewAPI(db, tc, quiet, "default")
	require.NoError(t, err)
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(hs.Close)

	st := store.New(db)
	w := &agentWorld{db: db, base: hs.URL, tokens: map[string]string{}, members: map[string]*models.User{}}
	for _, name := range []string{"agent", "owner", "scientist"} {
		u := &models.User{Username: name, Email: name + "@example.com", FirstName: strings.ToUpper(name[:1]) + name[1:], LastName: "Person", IsActive: true}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		tok, err := st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		w.tokens[name], w.members[name] = tok.Key, u
	}
	actx := models.WithActor(ctx, models.Actor{User: w.members["owner"]})
	w.consumer = &models.Customer{Name: "University", Slug: "uni"}
	require.NoError(t, st.CreateCustomer(actx, w.consumer))
	w.proj = &models.Project{Name: "Genomics", Slug: "genomics"}
	require.NoError(t, st.CreateProject(actx, w.proj, w.consumer))
	w.project = w.proj.UUID
	w.providerCustomer = &models.Customer{Name: "HPC Centre", Slug: "hpc"}
	require.NoError(t, st.CreateCustomer(actx, w.providerCustomer))
	grant := func(user, role string, scope models.Scope, customer int64) {
		r, err := st.RoleByName(ctx, role)
		require.NoError(t, err)
		_, err = st.GrantRole(ctx, store.Grant{User: w.members[user], Role: r, Scope: scope, CustomerID: customer})
		require.NoError(t, err)
	}
	grant("owner", models.RoleCustomerOwner, w.consumer.Scope(), w.consumer.ID)
	grant("scientist", models.RoleProjectMember, w.proj.Scope(), w.consumer.ID)
	grant("agent", models.RoleCustomerOwner, w.providerCustomer.Scope(), w.providerCustomer.ID)
	w.customerSlug, w.providerHex = "uni", w.providerCustomer.UUID.String()

	now := time.Now().UTC()
	ins := func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	ins("service_providers", map[string]any{"customer_id": w.providerCustomer.ID, "created": now, "modified": now})
	cat, _ := ins("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	off, offu := ins("offerings", map[string]any{"name": "Cluster", "customer_id": w.providerCustomer.ID, "category_id": cat,
		"type": models.OfferingSlurm, "state": models.OfferingActive, "shared": true, "billable": true,
		"plugin_options": `{"service_provider_can_create_offering_user": true}`, "created": now, "modified": now})
	w.offering = offu
	planID, planUUID := ins("plans", map[string]any{"name": "Default", "offering_id": off, "unit": "month", "created": now, "modified": now})
	w.plan = planUUID
	for _, c := range []map[string]any{
		{"type": "cpu", "name": "CPU", "billing_type": "usage", "measured_unit": "hours", "price": "0.5"},
		{"type": "ram", "name": "RAM", "billing_type": "usage", "measured_unit": "GB-hours", "price": "0.1"},
		{"type": "storage", "name": "Storage", "billing_type": "limit", "measured_unit": "GB", "min_value": 1, "max_value": 1000, "price": "0.01"},
	} {
		c["offering_id"] = off
		price := c["price"]
		delete(c, "price")
		cid, _ := ins("offering_components", c)
		require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": planID, "component_id": cid, "price": price}).Error)
	}
	return w
}

func (w *agentWorld) client(t *testing.T, user, mode string) *agentClient {
	return &agentClient{t: t, base: w.base, token: w.tokens[user], mode: mode}
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// hex is the agent's way of sending UUIDs.
func hex(s string) string { return strings.ReplaceAll(s, "-", "") }

// dashed renders a UUID with dashes (the agent's plan lookup sends it so).
func dashed(u models.UUID) string {
	s := u.String()
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// fakeSlurm is the site side: the accounts the agent's backend creates.
type fakeSlurm map[string]map[string]any

// processOrders is one order_process cycle of the agent (site-agent-protocol.md), returning the orders it finished.
func (w *agentWorld) processOrders(t *testing.T, a *agentClient, slurm fakeSlurm) []string {
	o := hex(w.offering.String())
	a.call(http.MethodGet, "/api/version/", nil, 200)
	ids := a.list("/api/marketplace-site-agent-identities/?name=agent-" + o)
	body := map[string]any{"offering": o, "name": "agent-" + o, "version": "0.7.0", "dependencies": []any{map[string]any{"package": "waldur-api-client", "version": "1.0"}},
		"last_restarted": time.Now().UTC().Format(time.RFC3339), "config_file_path": "/etc/waldur/agent.yaml", "config_file_content": "offerings: []"}
	var identity map[string]any
	if len(ids) == 0 {
		identity = a.call(http.MethodPost, "/api/marketplace-site-agent-identities/", body, 201)
	} else {
		identity = a.call(http.MethodPut, "/api/marketplace-site-agent-identities/"+str(ids[0], "uuid")+"/", body, 200)
	}
	svc := a.call(http.MethodPost, "/api/marketplace-site-agent-identities/"+str(identity, "uuid")+"/register_service/",
		map[string]any{"name": "order_process", "mode": "order_process"}, 0)
	require.Equal(t, hex(str(identity, "uuid")), hex(str(svc, "identity")), "AgentService.identity is a UUID, not a URL")
	me := a.call(http.MethodGet, "/api/users/me/", nil, 200)
	require.Equal(t, "agent", str(me, "username"))
	off := a.call(http.MethodGet, "/api/marketplace-provider-offerings/"+o+"/?field=components&field=customer_uuid&field=partitions&field=plugin_options", nil, 200)
	require.IsType(t, map[string]any{}, off["plugin_options"])
	require.Len(t, off["components"], 3)
	sps := a.list("/api/marketplace-service-providers/?customer_uuid=" + hex(str(off, "customer_uuid")) + "&field=uuid")
	require.Len(t, sps, 1)
	sp := str(sps[0], "uuid")
	proc := a.call(http.MethodPost, "/api/marketplace-site-agent-services/"+str(svc, "uuid")+"/register_processor/",
		map[string]any{"name": "OfferingOrderProcessor", "backend_type": "slurm", "backend_version": "22.05"}, 0)
	require.Equal(t, hex(str(svc, "uuid")), hex(str(proc, "service")), "AgentProcessor.service is a UUID, not a URL")

	var done []string
	for _, order := range a.syncAll("/api/marketplace-orders/?offering_uuid=" + o + "&state=pending-provider&state=executing") {
		id := str(order, "uuid")
		if str(order, "state") == "pending-provider" {
			r := a.call(http.MethodPost, "/api/marketplace-orders/"+id+"/approve_by_provider/", map[string]any{}, 200)
			require.NotEmpty(t, str(r, "detail"))
		}
		require.Equal(t, "executing", str(a.call(http.MethodGet, "/api/marketplace-orders/"+id+"/", nil, 200), "state"))
		rid := str(order, "marketplace_resource_uuid")
		res := a.call(http.MethodGet, "/api/marketplace-provider-resources/"+rid+"/", nil, 200)
		require.IsType(t, map[string]any{}, res["offering_plugin_options"], "offering_plugin_options must be an object")
		team := a.list("/api/marketplace-provider-resources/" + rid + "/team/")
		require.NotEmpty(t, team)
		a.call(http.MethodGet, "/api/marketplace-plans/"+dashed(w.plan)+"/", nil, 200)
		a.list("/api/marketplace-service-providers/" + sp + "/keys/")
		account := "e2e_alloc_" + str(res, "slug")
		switch str(order, "type") {
		case "Create":
			u := a.call(http.MethodPost, "/api/marketplace-provider-offerings/"+o+"/check_unique_backend_id/",
				map[string]any{"backend_id": account, "check_all_offerings": false, "use_offering_rules": false}, 200)
			require.Equal(t, true, u["is_unique"])
			slurm["e2e_cust_"+str(res, "customer_slug")] = map[string]any{}
			slurm["e2e_proj_"+str(res, "project_slug")] = map[string]any{}
			slurm[account] = map[string]any{"limits": res["limits"]}
			r := a.call(http.MethodPost, "/api/marketplace-provider-resources/"+rid+"/set_backend_id/", map[string]any{"backend_id": account}, 200)
			require.NotEmpty(t, str(r, "status"))
			a.call(http.MethodPost, "/api/marketplace-provider-resources/"+rid+"/set_endpoints/",
				map[string]any{"endpoints": []any{map[string]any{"name": "login", "url": "ssh://login.hpc.example"}}}, 200)
		case "Update":
			limits := order["limits"]
			slurm[str(res, "backend_id")]["limits"] = limits
			a.call(http.MethodPost, "/api/marketplace-provider-resources/"+rid+"/set_limits/", map[string]any{"limits": limits}, 200)
		case "Terminate":
			delete(slurm, str(res, "backend_id"))
		}
		st := a.call(http.MethodGet, "/api/marketplace-orders/"+id+"/?field=uuid&field=state", nil, 200)
		require.Equal(t, map[string]any{"uuid": st["uuid"], "state": "executing"}, st)
		a.raw(http.MethodPost, "/api/marketplace-orders/"+id+"/set_state_done/", map[string]any{}, 200)
		a.call(http.MethodGet, "/api/marketplace-provider-resources/"+rid+"/", nil, 200)
		a.list("/api/marketplace-provider-resources/" + rid + "/team/")
		done = append(done, id)
	}
	require.Empty(t, a.syncAll("/api/marketplace-provider-offerings/"+o+"/list_project_service_accounts/"))
	require.Empty(t, a.syncAll("/api/marketplace-provider-offerings/"+o+"/list_course_accounts/"))
	return done
}

// waitOrder waits until the order's workflow has recorded the state.
func (w *agentWorld) waitOrder(t *testing.T, order, state string) {
	require.Eventually(t, func() bool {
		var s string
		_ = w.db.Raw("SELECT state FROM orders WHERE uuid = ?", hex(order)).Scan(&s).Error
		return s == state
	}, 30*time.Second, 20*time.Millisecond, "order %s never reached %s", order, state)
}

// TestSiteAgentProtocol replays, against the real server over HTTP, each
// call sequence of site-agent-protocol.md: order_process for a create, an
// update of limits and a terminate order; report; membership_sync — with a
// fake SLURM side, checking every status code and the fields the agent reads.
func TestSiteAgentProtocol(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newAgentWorld(t, srv, db)
		slurm := fakeSlurm{}
		owner := w.client(t, "owner", "consumer")
		agent := w.client(t, "agent", "order_process")

		// Create: the owner orders an allocation; Marketplace.Slurm always waits for the provider.
		order := owner.call(http.MethodPost, "/api/marketplace-orders/", map[string]any{"offering": hex(w.offering.String()),
			"project": hex(w.project.String()), "plan": hex(w.plan.String()), "attributes": map[string]any{"name": "alloc1"},
			"limits": map[string]any{"storage": 10}}, 201)
		require.Equal(t, "pending-provider", str(order, "state"))
		rid := str(order, "marketplace_resource_uuid")
		require.Len(t, w.processOrders(t, agent, slurm), 1)
		w.waitOrder(t, str(order, "uuid"), "done")
		res := owner.call(http.MethodGet, "/api/marketplace-resources/"+rid+"/", nil, 200)
		require.Equal(t, "OK", str(res, "state"))
		require.Equal(t, "e2e_alloc_"+str(res, "slug"), str(res, "backend_id"))
		require.Contains(t, slurm, "e2e_cust_uni")
		require.Contains(t, slurm, "e2e_proj_genomics")
		require.Len(t, res["endpoints"], 1)

		// Update of limits: the consumer asks, the agent applies and reports back.
		upd := owner.call(http.MethodPost, "/api/marketplace-resources/"+rid+"/update_limits/", map[string]any{"limits": map[string]any{"storage": 20}}, 200)
		require.Len(t, w.processOrders(t, agent, slurm), 1)
		w.waitOrder(t, str(upd, "order_uuid"), "done")
		res = owner.call(http.MethodGet, "/api/marketplace-resources/"+rid+"/", nil, 200)
		require.Equal(t, map[string]any{"storage": float64(20)}, res["limits"])
		require.Equal(t, map[string]any{"storage": float64(20)}, slurm[str(res, "backend_id")]["limits"])

		// Report: the agent reads the resources and reports usage; a second report replaces.
		rep := w.client(t, "agent", "report")
		o := hex(w.offering.String())
		period := time.Now().UTC().Format("2006-01") + "-01"
		rep.call(http.MethodGet, "/api/marketplace-provider-offerings/"+o+"/?field=components", nil, 200)
		fields := "field=uuid&field=backend_id&field=name&field=slug&field=state&field=project_uuid&field=project_slug&field=customer_slug&field=limits&field=backend_metadata&field=attributes&field=offering_plugin_options&field=offering_backend_id"
		resources := rep.syncAll("/api/marketplace-provider-resources/?" + fields + "&offering_uuid=" + o + "&state=OK&state=Erred")
		require.Len(t, resources, 1)
		require.Equal(t, "genomics", resources[0]["project_slug"])
		require.Equal(t, "uni", resources[0]["customer_slug"])
		require.Len(t, resources[0], 13, "exactly the selected fields")
		rep.call(http.MethodGet, "/api/marketplace-provider-resources/"+rid+"/?field=uuid&field=name&field=backend_id", nil, 200)
		for _, amounts := range [][2]string{{"7.00", "3.00"}, {"12.00", "4.00"}} {
			rep.list("/api/marketplace-component-usages/?billing_period=" + period + "&field=uuid&field=type&field=usage&resource_uuid=" + hex(rid))
			rep.list("/api/marketplace-component-user-usages/?component_usage__billing_period=" + period + "&field=component_usage&resource_uuid=" + hex(rid))
			rep.raw(http.MethodPost, "/api/marketplace-component-usages/set_usage/", map[string]any{
				"usages":   []any{map[string]any{"type": "cpu", "amount": amounts[0]}, map[string]any{"type": "ram", "amount": amounts[1]}},
				"resource": hex(rid), "date": period + "T00:00:00+00:00"}, 201)
		}
		usages := rep.list("/api/marketplace-component-usages/?billing_period=" + period + "&field=uuid&field=type&field=usage&resource_uuid=" + hex(rid))
		require.Len(t, usages, 2, "one usage per component and period: the second report replaced the first")
		got := map[string]float64{}
		for _, u := range usages {
			got[str(u, "type")] = u["usage"].(float64)
		}
		require.Equal(t, map[string]float64{"cpu": 12, "ram": 4}, got)
		for _, u := range usages {
			if str(u, "type") == "cpu" {
				rep.raw(http.MethodPost, "/api/marketplace-component-usages/"+str(u, "uuid")+"/set_user_usages/",
					map[string]any{"usages": []any{map[string]any{"username": "scientist", "usage": "12.00"}}}, 201)
			}
		}
		uu := rep.list("/api/marketplace-component-user-usages/?component_usage__billing_period=" + period + "&resource_uuid=" + hex(rid))
		require.Len(t, uu, 1)
		require.Equal(t, "scientist", str(uu[0], "username"))
		res = owner.call(http.MethodGet, "/api/marketplace-resources/"+rid+"/", nil, 200)
		require.Equal(t, map[string]any{"cpu": float64(12), "ram": float64(4)}, res["current_usages"], "the usage shows on the resource")
		var billed []struct {
			Name     string
			Quantity string
		}
		require.NoError(t, db.Raw(`SELECT i.name, i.quantity FROM invoice_items i JOIN resources r ON r.id = i.resource_id
			WHERE r.uuid = ? AND i.kind = 'usage' ORDER BY i.name`, hex(rid)).Scan(&billed).Error)
		require.Len(t, billed, 2, "the reported usage is on the invoice: %v", billed)
		proj := owner.call(http.MethodGet, "/api/projects/"+hex(w.project.String())+"/", nil, 200)
		est := proj["billing_price_estimate"].(map[string]any)
		total, _ := strconv.ParseFloat(str(est, "total"), 64)
		require.GreaterOrEqual(t, total, 12*0.5+4*0.1, "the project's estimate includes the billed usage: %v", est)
		for _, b := range billed {
			q, _ := strconv.ParseFloat(b.Quantity, 64)
			require.Equal(t, map[bool]float64{true: 12, false: 4}[strings.Contains(b.Name, "CPU")], q, "%v", billed)
		}

		// membership_sync: the team with offering accounts, metadata, limits, last sync.
		ms := w.client(t, "agent", "membership_sync")
		resources = ms.syncAll("/api/marketplace-provider-resources/?field=uuid&field=backend_id&field=restrict_member_access&field=paused&field=downscaled&field=end_date&field=project_end_date&offering_uuid=" + o + "&state=OK&state=Erred")
		require.Len(t, resources, 1)
		ms.call(http.MethodGet, "/api/marketplace-provider-offerings/"+o+"/?field=plugin_options", nil, 200)
		cfg := ms.call(http.MethodGet, "/api/marketplace-provider-offerings/"+o+"/user-attribute-config/", nil, 200)
		require.Equal(t, true, cfg["expose_username"])
		require.Empty(t, ms.syncAll("/api/marketplace-offering-users/?field=user_uuid&field=username&field=url&field=state&field=uuid&field=user_username&is_restricted=false&offering_uuid="+o))
		team := ms.list("/api/marketplace-provider-resources/" + rid + "/team/")
		require.Len(t, team, 1, "the team is the project's users")
		require.Equal(t, "scientist", str(team[0], "username"))
		require.Nil(t, team[0]["offering_user_username"], "no account on the site yet")
		// The site creates the member's account and records it.
		ou := ms.call(http.MethodPost, "/api/marketplace-offering-users/", map[string]any{"offering_uuid": o,
			"user_uuid": hex(str(team[0], "uuid")), "username": "sci01"}, 201)
		ous := ms.syncAll("/api/marketplace-offering-users/?field=user_uuid&field=username&field=url&field=state&field=uuid&field=user_username&is_restricted=false&offering_uuid=" + o)
		require.Len(t, ous, 1)
		require.Equal(t, "sci01", str(ous[0], "username"))
		require.Equal(t, "scientist", str(ous[0], "user_username"))
		team = ms.list("/api/marketplace-provider-resources/" + rid + "/team/")
		require.Equal(t, "sci01", str(team[0], "offering_user_username"))
		require.Equal(t, str(ou, "state"), str(team[0], "offering_user_state"))
		ms.call(http.MethodPost, "/api/marketplace-provider-resources/"+rid+"/set_backend_metadata/", map[string]any{"backend_metadata": map[string]any{"qos": "normal"}}, 200)
		require.Empty(t, ms.syncAll("/api/component-user-usage-limits/?resource_uuid="+hex(rid)))
		ms.raw(http.MethodPost, "/api/marketplace-provider-resources/"+rid+"/refresh_last_sync/", map[string]any{}, 200)
		res = ms.call(http.MethodGet, "/api/marketplace-provider-resources/"+rid+"/?field=backend_metadata&field=last_sync", nil, 200)
		require.Equal(t, map[string]any{"qos": "normal"}, res["backend_metadata"])
		require.NotEmpty(t, res["last_sync"])

		// Terminate: the agent removes the account and finishes the order.
		term := owner.call(http.MethodPost, "/api/marketplace-resources/"+rid+"/terminate/", map[string]any{}, 200)
		require.Len(t, w.processOrders(t, agent, slurm), 1)
		w.waitOrder(t, str(term, "order_uuid"), "done")
		require.Equal(t, "Terminated", str(owner.call(http.MethodGet, "/api/marketplace-resources/"+rid+"/", nil, 200), "state"))
		require.NotContains(t, slurm, "e2e_alloc_"+str(res, "slug"))
		require.Empty(t, w.processOrders(t, agent, slurm), "nothing left to process")

		// The agent's requests marked its offering's integration as alive, per mode.
		var statuses []struct{ AgentType, Status string }
		require.NoError(t, db.Raw(`SELECT s.agent_type, s.status FROM integration_statuses s JOIN offerings f ON f.id = s.offering_id
			WHERE f.uuid = ? ORDER BY s.agent_type`, w.offering).Scan(&statuses).Error)
		seen := map[string]string{}
		for _, s := range statuses {
			seen[s.AgentType] = s.Status
		}
		require.Equal(t, string(models.IntegrationActive), seen[string(models.AgentOrderProcessing)], fmt.Sprint(statuses))
		require.Equal(t, string(models.IntegrationActive), seen[string(models.AgentUsageReporting)], fmt.Sprint(statuses))
		off := agent.call(http.MethodGet, "/api/marketplace-provider-offerings/"+hex(w.offering.String())+"/?field=integration_status", nil, 200)
		shown := map[string]string{}
		for _, st := range off["integration_status"].([]any) {
			m := st.(map[string]any)
			shown[str(m, "agent_type")] = str(m, "status")
		}
		require.Equal(t, seen, shown, "the provider's offering shows its agent's integration status")
	})
}
