package orders_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/orders"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/basic"
	"github.com/waldur-go/waldur/providers/fake"
	"github.com/waldur-go/waldur/rbac"
	"github.com/waldur-go/waldur/workflows"
)

var people = []string{"staff", "support", "owner", "admin", "member", "provider", "outsider"}

type env struct {
	t        *testing.T
	db       *gorm.DB
	st       *store.Store
	rbac     *rbac.Checker
	tc       client.Client
	srv      *api.Server
	users    map[string]*models.User
	toks     map[string]string
	customer *models.Customer
	project  *models.Project
	provider *models.Customer
	basic    models.UUID // Basic offering (shared) with a plan and a limit component "cpu" (1..10)
	auto     models.UUID // automated offering (fake provider)
	plan     models.UUID
	autoFake *fake.Provider
	reg      *providers.Registry
}

func fastPolicies() workflows.OrderPolicies {
	p := workflows.DefaultOrderPolicies()
	p.DB = &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumInterval: 100 * time.Millisecond}
	p.Provider = &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumInterval: 100 * time.Millisecond, MaximumAttempts: 3}
	p.HeartbeatTimeout = 2 * time.Second
	p.ProviderTimeout = 30 * time.Second
	return p
}

func newEnv(t *testing.T, srv *temporaltest.Server, db *gorm.DB) *env {
	workflows.SetOrderPolicies(fastPolicies())
	t.Cleanup(func() { workflows.SetOrderPolicies(workflows.DefaultOrderPolicies()) })
	e := &env{t: t, db: db, st: store.New(db), tc: srv.Client(t), users: map[string]*models.User{}, toks: map[string]string{},
		autoFake: &fake.Provider{}}
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	e.rbac = chk

	// Workers: the order workflow on the core queue, the provider activities on theirs.
	reg := providers.NewRegistry()
	basic.Register(reg)
	reg.Register(e.autoFake, "q-"+models.NewUUID().String()[:8]+"-auto", "Test.Auto")
	e.reg = reg
	wr := workflows.NewRegistry()
	wr.Add(workflows.QueueCore, func(w worker.Registry) {
		workflows.RegisterOrders(w, &activities.Orders{Store: e.st, Providers: reg}, &workflows.OrderDispatcher{Store: e.st})
	})
	for _, q := range reg.Queues() {
		wr.Add(q, func(w worker.Registry) {
			workflows.RegisterProvision(w, &activities.Provision{Providers: reg, HeartbeatEvery: 100 * time.Millisecond})
		})
	}
	ws, err := wr.Start(e.tc, append([]string{workflows.QueueCore}, reg.Queues()...), worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)

	e.srv = e.server(e.tc, 0)
	ctx := context.Background()
	for _, name := range people {
		u := &models.User{Username: name, Email: name + "@example.com", FirstName: strings.ToUpper(name[:1]) + name[1:], LastName: "Person",
			IsActive: true, IsStaff: name == "staff", IsSupport: name == "support"}
		require.NoError(t, e.st.CreateUser(ctx, u, ""))
		tok, err := e.st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		e.users[name], e.toks[name] = u, tok.Key
	}
	actx := models.WithActor(ctx, models.Actor{User: e.users["staff"]})
	e.customer = &models.Customer{Name: "Consumer"}
	require.NoError(t, e.st.CreateCustomer(actx, e.customer))
	e.project = &models.Project{Name: "Science"}
	require.NoError(t, e.st.CreateProject(actx, e.project, e.customer))
	e.provider = &models.Customer{Name: "Provider"}
	require.NoError(t, e.st.CreateCustomer(actx, e.provider))
	e.grant("owner", models.RoleCustomerOwner, e.customer.Scope(), e.customer.ID)
	e.grant("admin", models.RoleProjectAdmin, e.project.Scope(), e.customer.ID)
	e.grant("member", models.RoleProjectMember, e.project.Scope(), e.customer.ID)
	e.grant("provider", models.RoleCustomerOwner, e.provider.Scope(), e.provider.ID)

	now := time.Now().UTC()
	ins := func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	cat, _ := ins("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	var basicID int64
	basicID, e.basic = ins("offerings", map[string]any{"name": "Manual HPC", "customer_id": e.provider.ID, "category_id": cat,
		"type": models.OfferingBasic, "state": models.OfferingActive, "created": now, "modified": now})
	_, e.auto = ins("offerings", map[string]any{"name": "Auto", "customer_id": e.provider.ID, "category_id": cat,
		"type": "Test.Auto", "state": models.OfferingActive, "created": now, "modified": now})
	require.NoError(t, db.Table("offering_components").Create(map[string]any{"uuid": models.NewUUID(), "offering_id": basicID, "type": "cpu",
		"name": "CPU", "billing_type": "limit", "min_value": 1, "max_value": 10}).Error)
	var planID int64
	planID, e.plan = ins("plans", map[string]any{"offering_id": basicID, "name": "Default", "unit": "month", "unit_price": "10", "created": now, "modified": now})
	// What is billed: a fixed component (the unit price is the plan's estimate).
	baseID, _ := ins("offering_components", map[string]any{"offering_id": basicID, "type": "base", "name": "Base", "billing_type": "fixed"})
	require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": planID, "component_id": baseID, "price": "10", "amount": 1}).Error)
	return e
}

// server is an API engine whose orders module uses tc.
func (e *env) server(tc client.Client, timeout time.Duration) *api.Server {
	return api.New(api.Deps{DB: e.db, Users: e.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		orders.New(orders.Deps{Store: e.st, RBAC: e.rbac, Temporal: tc, TemporalTimeout: timeout, Capabilities: e.reg.Capabilities}))
}

func (e *env) grant(user, role string, scope models.Scope, customerID int64) {
	e.t.Helper()
	r, err := e.st.RoleByName(context.Background(), role)
	require.NoError(e.t, err)
	_, err = e.st.GrantRole(models.WithActor(context.Background(), models.Actor{User: e.users["staff"]}), store.Grant{User: e.users[user],
		Role: r, Scope: scope, CustomerID: customerID, CreatedBy: e.users["staff"], EventScopes: []models.Scope{scope}, ScopeName: "x"})
	require.NoError(e.t, err)
}

// do sends a request to srv (nil: the env's server) and validates every 2xx against the OpenAPI file.
func (e *env) doOn(srv *api.Server, method, path, user string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(e.t, err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if tok, ok := e.toks[user]; ok {
		req.Header.Set("Authorization", "Token "+tok)
	}
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	if w.Code >= 200 && w.Code < 300 {
		apitest.ValidateResponse(e.t, req, w)
	}
	return w
}

func (e *env) do(method, path, user string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.doOn(e.srv, method, path, user, body)
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

type orderOut struct {
	UUID         string `json:"uuid"`
	State        string `json:"state"`
	Type         string `json:"type"`
	ResourceUUID string `json:"marketplace_resource_uuid"`
	Cost         *string
}

func (e *env) order(user string, offering models.UUID, extra map[string]any) *httptest.ResponseRecorder {
	body := map[string]any{"offering": "http://x/api/marketplace-public-offerings/" + offering.String() + "/",
		"project": "http://x/api/projects/" + e.project.UUID.String() + "/", "attributes": map[string]any{"name": "vm"}}
	if offering == e.basic {
		body["plan"] = e.plan.String()
		body["limits"] = map[string]any{"cpu": 2}
	}
	for k, v := range extra {
		body[k] = v
	}
	return e.do(http.MethodPost, "/api/marketplace-orders/", user, body)
}

func (e *env) mustOrder(user string, offering models.UUID) orderOut {
	e.t.Helper()
	w := e.order(user, offering, nil)
	require.Equal(e.t, http.StatusCreated, w.Code, w.Body.String())
	return decode[orderOut](e.t, w)
}

func (e *env) getOrder(id string) orderOut {
	e.t.Helper()
	w := e.do(http.MethodGet, "/api/marketplace-orders/"+id+"/", "staff", nil)
	require.Equal(e.t, http.StatusOK, w.Code, w.Body.String())
	return decode[orderOut](e.t, w)
}

func (e *env) resourceState(id string) string {
	e.t.Helper()
	w := e.do(http.MethodGet, "/api/marketplace-resources/"+id+"/", "owner", nil)
	require.Equal(e.t, http.StatusOK, w.Code, w.Body.String())
	return decode[struct{ State string }](e.t, w).State
}

func (e *env) action(id, action, user string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(http.MethodPost, "/api/marketplace-orders/"+id+"/"+action+"/", user, body)
}

// closedPort is an address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestOrderPlanInPublicForm: the plan in Waldur's public form (under its
// public offering, as public offerings render it) is accepted, and the
// order answers with the forms Waldur gives.
func TestOrderPlanInPublicForm(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		pub := "http://x/api/marketplace-public-offerings/" + e.basic.String() + "/"
		w0 := e.order("owner", e.basic, map[string]any{"plan": pub + "plans/" + e.plan.String() + "/"})
		require.Equal(t, http.StatusCreated, w0.Code, w0.Body.String())
		placed := decode[map[string]any](t, w0)
		pubPath := "/api/marketplace-public-offerings/" + e.basic.String() + "/"
		require.True(t, strings.HasSuffix(placed["offering"].(string), pubPath), "the offering in the form it was sent: %v", placed["offering"])
		require.True(t, strings.HasSuffix(placed["plan"].(string), pubPath+"plans/"+e.plan.String()+"/"), "%v", placed["plan"])
		w0 = e.order("owner", e.basic, map[string]any{"plan": "http://x/api/marketplace-public-offerings/" + e.auto.String() + "/plans/" + e.plan.String() + "/x/"})
		require.Equal(t, http.StatusBadRequest, w0.Code, "a malformed plan reference: %s", w0.Body.String())
	})
}

// TestResourceUpdate: PUT and PATCH of a resource (name, description,
// end_date) answer Waldur's ResourceUpdate; RESOURCE.UPDATE, which no
// default role holds, makes it staff's.
func TestResourceUpdate(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		o := e.mustOrder("owner", e.basic)
		path := "/api/marketplace-resources/" + o.ResourceUUID + "/"
		for user, code := range map[string]int{"owner": 403, "admin": 403, "member": 403, "outsider": 404} {
			w := e.do(http.MethodPatch, path, user, map[string]any{"name": "x"})
			require.Equal(t, code, w.Code, "%s: %s", user, w.Body.String())
		}
		w := e.do(http.MethodPatch, path, "staff", map[string]any{"description": "Cluster account", "end_date": "2030-01-31"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.JSONEq(t, `{"name":"vm","description":"Cluster account","end_date":"2030-01-31"}`, w.Body.String())
		require.Equal(t, http.StatusBadRequest, e.do(http.MethodPut, path, "staff", map[string]any{"description": "no name"}).Code, "PUT needs the name")
		require.Equal(t, http.StatusBadRequest, e.do(http.MethodPatch, path, "staff", map[string]any{"end_date": "tomorrow"}).Code)
		w = e.do(http.MethodPut, path, "staff", map[string]any{"name": "renamed", "end_date": nil})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.JSONEq(t, `{"name":"renamed","description":"Cluster account","end_date":null}`, w.Body.String())
		w = e.do(http.MethodGet, path, "owner", nil)
		require.Equal(t, "renamed", decode[map[string]any](t, w)["name"])
	})
}

// TestResourceScope: a resource backed by a plugin resource links to it
// (Waldur's Resource.scope) where its type's plugin serves those objects,
// with resource_type and resource_uuid; without such a path the scope is
// left out (a non-nullable URL).
func TestResourceScope(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		e.reg.RegisterWith(&fake.Provider{}, "q-scope", providers.Capabilities{ScopePath: "/api/test-things/"}, "Test.Thing")
		o := e.mustOrder("owner", e.basic)
		thing := models.NewUUID()
		require.NoError(t, db.Table("resources").Where("uuid = ?", o.ResourceUUID).
			Updates(map[string]any{"scope_type": "Test.Thing", "scope_uuid": thing}).Error)
		for _, path := range []string{"/api/marketplace-resources/", "/api/marketplace-provider-resources/"} {
			user := map[string]string{"/api/marketplace-resources/": "owner", "/api/marketplace-provider-resources/": "provider"}[path]
			w := e.do(http.MethodGet, path+o.ResourceUUID+"/", user, nil)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			r := decode[map[string]any](t, w)
			require.Equal(t, "http://example.com/api/test-things/"+thing.String()+"/", r["scope"], path)
			require.Equal(t, "Test.Thing", r["resource_type"])
			require.Equal(t, thing.String(), r["resource_uuid"])
		}
		require.NoError(t, db.Table("resources").Where("uuid = ?", o.ResourceUUID).Update("scope_type", "Test.Unserved").Error)
		r := decode[map[string]any](t, e.do(http.MethodGet, "/api/marketplace-resources/"+o.ResourceUUID+"/", "owner", nil))
		require.NotContains(t, r, "scope", "no path for the type: no scope")
		require.Equal(t, "Test.Unserved", r["resource_type"])
	})
}

func TestOrdersEndToEnd(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)

		// An owner orders a Basic offering: the provider must review it.
		o := e.mustOrder("owner", e.basic)
		require.Equal(t, "pending-provider", o.State)
		require.Equal(t, "Create", o.Type)

		// Wrong state: 409 with the valid states.
		w := e.action(o.UUID, "set_state_done", "provider", nil)
		require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), "Valid states for operation: executing")
		w = e.action(o.UUID, "approve_by_consumer", "owner", nil)
		require.Equal(t, http.StatusConflict, w.Code, w.Body.String())

		// Who may approve as provider.
		for _, tc := range []struct {
			user string
			code int
		}{{"outsider", 404}, {"member", 403}, {"admin", 403}, {"owner", 403}, {"support", 403}} {
			w := e.action(o.UUID, "approve_by_provider", tc.user, nil)
			require.Equal(t, tc.code, w.Code, "%s: %s", tc.user, w.Body.String())
		}
		w = e.action(o.UUID, "approve_by_provider", "provider", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.JSONEq(t, `{"detail":"Order has been approved."}`, w.Body.String())
		require.Equal(t, "executing", e.getOrder(o.UUID).State)

		// The provider finishes it.
		for _, tc := range []struct {
			user string
			code int
		}{{"owner", 403}, {"admin", 403}} {
			w := e.action(o.UUID, "set_state_done", tc.user, nil)
			require.Equal(t, tc.code, w.Code, "%s: %s", tc.user, w.Body.String())
		}
		w = e.action(o.UUID, "set_state_done", "provider", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "done", e.getOrder(o.UUID).State)
		require.Equal(t, "OK", e.resourceState(o.ResourceUUID))
		// The done order put the resource in the billing outbox; the dispatcher registers it once.
		month := billing.MonthOf(time.Now().UTC())
		n, err := e.st.RegisterDirtyResources(context.Background(), month, 100)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = e.st.RegisterDirtyResources(context.Background(), month, 100)
		require.NoError(t, err)
		require.Zero(t, n, "the outbox is drained")
		var items int64
		require.NoError(t, db.Table("invoice_items").Joins("JOIN resources r ON r.id = invoice_items.resource_id").
			Where("r.uuid = ?", o.ResourceUUID).Count(&items).Error)
		require.Positive(t, items, "the completed order's resource has its invoice items")

		// Not for a Basic offering: set_state_executing (Slurm only).
		w = e.action(o.UUID, "set_state_executing", "provider", nil)
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())

		// Terminate: a Terminate order, approved by the provider, done → Terminated.
		w = e.do(http.MethodPost, "/api/marketplace-resources/"+o.ResourceUUID+"/terminate/", "member", map[string]any{})
		require.Equal(t, http.StatusForbidden, w.Code, w.Body.String())
		w = e.do(http.MethodPost, "/api/marketplace-resources/"+o.ResourceUUID+"/terminate/", "owner", map[string]any{})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		term := decode[struct {
			OrderUUID string `json:"order_uuid"`
		}](t, w).OrderUUID
		require.Equal(t, "pending-provider", e.getOrder(term).State)
		w = e.do(http.MethodPost, "/api/marketplace-resources/"+o.ResourceUUID+"/terminate/", "owner", map[string]any{})
		require.Equal(t, http.StatusBadRequest, w.Code, "one pending order per resource: %s", w.Body.String())
		require.Equal(t, http.StatusOK, e.action(term, "approve_by_provider", "provider", nil).Code)
		w = e.action(term, "set_state_done", "provider", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "done", e.getOrder(term).State)
		require.Equal(t, "Terminated", e.resourceState(o.ResourceUUID))
		w = e.do(http.MethodGet, "/api/marketplace-provider-resources/"+o.ResourceUUID+"/plan_periods/", "provider", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		periods := decode[[]struct {
			PlanUUID string  `json:"plan_uuid"`
			Start    *string `json:"start"`
			End      *string `json:"end"`
		}](t, w)
		require.Len(t, periods, 1, "one plan period, from creation to termination")
		require.Equal(t, e.plan.String(), strings.ReplaceAll(periods[0].PlanUUID, "-", ""))
		require.NotNil(t, periods[0].Start)
		require.NotNil(t, periods[0].End)
		w = e.do(http.MethodPost, "/api/marketplace-provider-resources/"+o.ResourceUUID+"/set_as_ok/", "provider", nil)
		require.Equal(t, http.StatusConflict, w.Code, "a terminated resource stays terminated: %s", w.Body.String())

		// Lists and filters.
		w = e.do(http.MethodGet, "/api/marketplace-orders/?state=done&type=Terminate&offering_uuid="+e.basic.String(), "owner", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "1", w.Header().Get("X-Result-Count"))
		w = e.do(http.MethodGet, "/api/marketplace-orders/?state=bogus", "owner", nil)
		require.Equal(t, http.StatusBadRequest, w.Code)
		for user, n := range map[string]string{"owner": "2", "provider": "2", "member": "2", "outsider": "0", "support": "2"} {
			w := e.do(http.MethodGet, "/api/marketplace-orders/", user, nil)
			require.Equal(t, http.StatusOK, w.Code)
			require.Equal(t, n, w.Header().Get("X-Result-Count"), user)
		}
		w = e.do(http.MethodHead, "/api/marketplace-orders/", "owner", nil)
		require.Equal(t, http.StatusOK, w.Code)
		for _, tc := range []struct {
			path, user, n string
		}{
			{"/api/marketplace-resources/", "owner", "1"}, {"/api/marketplace-resources/", "provider", "0"},
			{"/api/marketplace-provider-resources/", "provider", "1"}, {"/api/marketplace-provider-resources/", "owner", "0"},
			{"/api/marketplace-resources/?state=Terminated&query=v", "member", "1"}, {"/api/marketplace-resources/?state=OK", "member", "0"},
		} {
			w := e.do(http.MethodGet, tc.path, tc.user, nil)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Equal(t, tc.n, w.Header().Get("X-Result-Count"), "%s %s", tc.path, tc.user)
		}
	})
}

func TestOrderCreateRulesAndActions(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)

		// Validation.
		for _, tc := range []struct {
			name  string
			extra map[string]any
			field string
		}{
			{"unknown component", map[string]any{"limits": map[string]any{"ram": 1}}, "limits"},
			{"below min", map[string]any{"limits": map[string]any{"cpu": 0}}, "limits"},
			{"above max", map[string]any{"limits": map[string]any{"cpu": 11}}, "limits"},
			{"not an integer", map[string]any{"limits": map[string]any{"cpu": "x"}}, "limits"},
			{"bad project", map[string]any{"project": "nope"}, "project"},
			{"unknown plan", map[string]any{"plan": models.NewUUID().String()}, "plan"},
			{"update type", map[string]any{"type": "Update"}, "type"},
		} {
			w := e.order("owner", e.basic, tc.extra)
			require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", tc.name, w.Body.String())
			require.Contains(t, w.Body.String(), `"`+tc.field+`"`, tc.name)
		}
		// Who may order into the project.
		for _, tc := range []struct {
			user string
			code int
		}{{"outsider", 400}, {"support", 403}, {"provider", 400}} {
			w := e.order(tc.user, e.basic, nil)
			require.Equal(t, tc.code, w.Code, "%s: %s", tc.user, w.Body.String())
		}

		// A project admin's order waits for the consumer; only ORDER.APPROVE holders approve it.
		o := e.mustOrder("admin", e.basic)
		require.Equal(t, "pending-consumer", o.State)
		for _, tc := range []struct {
			user string
			code int
		}{{"admin", 403}, {"member", 403}, {"provider", 403}, {"outsider", 404}} {
			w := e.action(o.UUID, "approve_by_consumer", tc.user, nil)
			require.Equal(t, tc.code, w.Code, "%s: %s", tc.user, w.Body.String())
		}
		w := e.action(o.UUID, "approve_by_consumer", "owner", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "pending-provider", e.getOrder(o.UUID).State)
		// Rejected by the provider: the resource is terminated.
		require.Equal(t, http.StatusForbidden, e.action(o.UUID, "reject_by_provider", "owner", nil).Code)
		w = e.action(o.UUID, "reject_by_provider", "provider", map[string]any{"provider_rejection_comment": "no"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "rejected", e.getOrder(o.UUID).State)
		require.Equal(t, "Terminated", e.resourceState(o.ResourceUUID))
		w = e.action(o.UUID, "reject_by_provider", "provider", nil)
		require.Equal(t, http.StatusConflict, w.Code, w.Body.String())

		// The creator rejects their own order.
		o = e.mustOrder("admin", e.basic)
		require.Equal(t, http.StatusForbidden, e.action(o.UUID, "reject_by_consumer", "member", nil).Code)
		require.Equal(t, http.StatusOK, e.action(o.UUID, "reject_by_consumer", "admin", nil).Code)
		require.Equal(t, "rejected", e.getOrder(o.UUID).State)

		// Cancel (Basic only): 202.
		o = e.mustOrder("owner", e.basic)
		require.Equal(t, http.StatusForbidden, e.action(o.UUID, "cancel", "member", nil).Code)
		w = e.action(o.UUID, "cancel", "admin", nil)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		require.Equal(t, "canceled", e.getOrder(o.UUID).State)
		require.Equal(t, "Terminated", e.resourceState(o.ResourceUUID))

		// Destroy a pending order: 204; a finished one: 409.
		o = e.mustOrder("admin", e.basic)
		require.Equal(t, http.StatusForbidden, e.do(http.MethodDelete, "/api/marketplace-orders/"+o.UUID+"/", "member", nil).Code)
		w = e.do(http.MethodDelete, "/api/marketplace-orders/"+o.UUID+"/", "admin", nil)
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/api/marketplace-orders/"+o.UUID+"/", "staff", nil).Code)
		require.Equal(t, "Terminated", e.resourceState(o.ResourceUUID))
		w = e.do(http.MethodDelete, "/api/marketplace-orders/"+o.UUID+"/", "admin", nil)
		require.Equal(t, http.StatusNotFound, w.Code)

		// Quota: the project's nc_resource_count refuses the next order with its message.
		ctx := context.Background()
		qs, err := e.st.Quotas(ctx, e.project.Scope())
		require.NoError(t, err)
		var used int64
		for _, q := range qs {
			if q.Name == models.QuotaResourceCount {
				used = int64(q.Usage)
			}
		}
		require.NoError(t, e.st.SetQuotaLimit(ctx, e.project.Scope(), models.QuotaResourceCount, used))
		w = e.order("owner", e.basic, nil)
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), "nc_resource_count")
		require.NoError(t, e.st.SetQuotaLimit(ctx, e.project.Scope(), models.QuotaResourceCount, -1))

		// An automated offering ordered by the owner runs to done on its own.
		a := e.mustOrder("owner", e.auto)
		// Accepted straight into execution; the workflow may even have finished
		// by the time the response is rendered.
		require.Contains(t, []string{"executing", "done"}, a.State)
		var st models.OrderState
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.NoError(t, e.tc.GetWorkflow(wctx, workflows.OrderWorkflowID(models.MustParseUUID(a.UUID)), "").Get(wctx, &st))
		require.Equal(t, models.OrderDone, st)
		require.Equal(t, "OK", e.resourceState(a.ResourceUUID))

		// Provider resource actions.
		pr := "/api/marketplace-provider-resources/" + a.ResourceUUID + "/"
		for _, tc := range []struct {
			path, user string
			body       any
			code       int
			want       string
		}{
			{"set_backend_id/", "owner", map[string]any{"backend_id": "b-1"}, 404, ""},
			{"set_backend_id/", "provider", map[string]any{}, 400, ""},
			{"set_backend_id/", "provider", map[string]any{"backend_id": "b-1"}, 200, `{"status":"Resource backend_id has been changed."}`},
			{"set_backend_metadata/", "provider", map[string]any{"backend_metadata": map[string]any{"state": "up"}}, 200, ""},
			{"set_limits/", "provider", map[string]any{"limits": map[string]any{"cpu": 4}}, 200, ""},
			{"set_as_erred/", "provider", map[string]any{"error_message": "disk"}, 200, ""},
			{"set_as_ok/", "provider", nil, 200, ""},
			{"refresh_last_sync/", "provider", nil, 200, ""},
			{"set_as_ok/", "support", nil, 403, ""},
			{"set_endpoints/", "provider", map[string]any{"endpoints": "ssh"}, 400, ""},
			{"set_endpoints/", "provider", map[string]any{"endpoints": []any{map[string]any{"name": "ssh"}}}, 400, ""},
			{"set_endpoints/", "provider", map[string]any{"endpoints": []any{map[string]any{"name": "old", "url": "https://old"}}}, 200, ""},
			{"set_endpoints/", "provider", map[string]any{"endpoints": []any{map[string]any{"name": "ssh", "url": "ssh://login.example"}}}, 200,
				`{"status":"Resource endpoints have been set."}`},
		} {
			w := e.do(http.MethodPost, pr+tc.path, tc.user, tc.body)
			require.Equal(t, tc.code, w.Code, "%s %s: %s", tc.path, tc.user, w.Body.String())
			if tc.want != "" {
				require.JSONEq(t, tc.want, w.Body.String())
			}
		}
		w = e.do(http.MethodGet, pr+"?field=backend_id&field=state&field=offering_plugin_options", "provider", nil)
		require.Equal(t, http.StatusOK, w.Code)
		require.JSONEq(t, `{"backend_id":"b-1","state":"OK","offering_plugin_options":{}}`, w.Body.String())
		w = e.do(http.MethodGet, pr+"?field=endpoints", "provider", nil)
		eps := decode[struct{ Endpoints []struct{ Name, URL string } }](t, w).Endpoints
		require.Equal(t, []struct{ Name, URL string }{{"ssh", "ssh://login.example"}}, eps, "set_endpoints replaces the endpoints")
		w = e.do(http.MethodGet, "/api/marketplace-resources/"+a.ResourceUUID+"/plan_periods/", "owner", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		periods := decode[[]struct {
			PlanName string  `json:"plan_name"`
			End      *string `json:"end"`
		}](t, w)
		require.Empty(t, periods, "an order without a plan opens no plan period")
		w = e.do(http.MethodGet, "/api/marketplace-resources/?backend_id=b-1", "owner", nil)
		require.Equal(t, "1", w.Header().Get("X-Result-Count"))
		w = e.do(http.MethodGet, "/api/marketplace-resources/"+a.ResourceUUID+"/team/", "owner", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		team := decode[[]struct{ Username, Role string }](t, w)
		require.Len(t, team, 2)
		require.Equal(t, "admin", team[0].Username)
		var n int64
		require.NoError(t, db.Table("events").Where("event_type LIKE ?", "marketplace_resource_%").Count(&n).Error)
		require.GreaterOrEqual(t, n, int64(6))

		// update_limits on the automated offering: an Update order that completes.
		w = e.do(http.MethodPost, "/api/marketplace-resources/"+a.ResourceUUID+"/update_limits/", "owner", map[string]any{"limits": map[string]any{}})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		upd := decode[struct {
			OrderUUID string `json:"order_uuid"`
		}](t, w).OrderUUID
		require.NoError(t, e.tc.GetWorkflow(wctx, workflows.OrderWorkflowID(models.MustParseUUID(upd)), "").Get(wctx, &st))
		require.Equal(t, models.OrderDone, st)
		require.Equal(t, "Update", e.getOrder(upd).Type)

		// The provider terminates the resource from its side: a Terminate order that completes.
		w = e.do(http.MethodPost, pr+"terminate/", "owner", map[string]any{})
		require.Equal(t, http.StatusNotFound, w.Code, "the consumer does not see the provider view: %s", w.Body.String())
		w = e.do(http.MethodPost, pr+"terminate/", "provider", map[string]any{})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		term := decode[struct {
			OrderUUID string `json:"order_uuid"`
		}](t, w).OrderUUID
		require.NoError(t, e.tc.GetWorkflow(wctx, workflows.OrderWorkflowID(models.MustParseUUID(term)), "").Get(wctx, &st))
		require.Equal(t, models.OrderDone, st)
		require.Equal(t, "Terminated", e.resourceState(a.ResourceUUID))
	})
}

// An order accepted while Temporal is unreachable is executed once the dispatcher runs.
func TestOrderAcceptedWithoutTemporal(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		broken, err := client.NewLazyClient(client.Options{HostPort: closedPort(t), Namespace: "default",
			Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
		require.NoError(t, err)
		defer broken.Close()
		down := e.server(broken, 300*time.Millisecond)

		body := map[string]any{"offering": e.auto.String(), "project": e.project.UUID.String(), "attributes": map[string]any{"name": "later"}}
		w := e.doOn(down, http.MethodPost, "/api/marketplace-orders/", "owner", body)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		o := decode[orderOut](t, w)
		require.Equal(t, "executing", o.State)

		// Actions need Temporal: 503 with a clear detail.
		w = e.doOn(down, http.MethodPost, "/api/marketplace-orders/"+o.UUID+"/set_state_erred/", "staff", nil)
		require.Equal(t, http.StatusBadRequest, w.Code, "offering type first: %s", w.Body.String())
		basicOrder := decode[orderOut](t, e.doOn(down, http.MethodPost, "/api/marketplace-orders/", "owner", map[string]any{
			"offering": e.basic.String(), "project": e.project.UUID.String(), "plan": e.plan.String(), "attributes": map[string]any{"name": "b"}}))
		w = e.doOn(down, http.MethodPost, "/api/marketplace-orders/"+basicOrder.UUID+"/approve_by_provider/", "provider", nil)
		require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), "Temporal")

		// The dispatcher, with a working client, starts both; the automated one completes.
		d := &workflows.OrderDispatcher{Store: e.st, Temporal: e.tc}
		n, err := d.DispatchPendingOrders(context.Background(), 100)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var st models.OrderState
		require.NoError(t, e.tc.GetWorkflow(ctx, workflows.OrderWorkflowID(models.MustParseUUID(o.UUID)), "").Get(ctx, &st))
		require.Equal(t, models.OrderDone, st)
		require.Equal(t, 1, e.autoFake.Created(models.MustParseUUID(o.UUID)))
		require.Equal(t, "OK", e.resourceState(o.ResourceUUID))
		// The Basic one is now reachable through the working API.
		w = e.action(basicOrder.UUID, "approve_by_provider", "provider", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	})
}

// TestOrderPreview: the preview says what creating the order would do —
// accepted with its starting state and cost, or refused naming the rule or
// quota — and changes nothing.
func TestOrderPreview(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		ctx := context.Background()
		var planID, cpuID int64
		require.NoError(t, db.Raw("SELECT id FROM plans WHERE uuid = ?", e.plan).Scan(&planID).Error)
		require.NoError(t, db.Raw("SELECT id FROM offering_components WHERE type = 'cpu'").Scan(&cpuID).Error)
		require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": planID, "component_id": cpuID, "price": "2.5"}).Error)

		type preview struct {
			Accepted bool
			State    *string
			Cost     *string
			Refusal  *struct {
				Status int
				Code   string
				Detail string
				Fields map[string][]string
				Quotas []struct {
					Scope     string
					ScopeUUID string `json:"scope_uuid"`
					Name      string
					Limit     int64
					Requires  int64
				}
			}
		}
		body := func(extra map[string]any) map[string]any {
			b := map[string]any{"offering": e.basic.String(), "project": e.project.UUID.String(), "plan": e.plan.String(),
				"attributes": map[string]any{"name": "vm"}, "limits": map[string]any{"cpu": 2}}
			for k, v := range extra {
				b[k] = v
			}
			return b
		}
		countOrders := func() int64 {
			var n int64
			require.NoError(t, db.Table("orders").Count(&n).Error)
			return n
		}
		do := func(user string, b any) preview {
			w := e.do(http.MethodPost, "/api/marketplace-orders/preview/", user, b)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			return decode[preview](t, w)
		}

		// Accepted: the state it would start in and its cost (unit price 10 + 2.5 × 2 cpu).
		p := do("owner", body(nil))
		require.True(t, p.Accepted)
		require.Equal(t, "pending-provider", *p.State)
		require.Equal(t, "15", *p.Cost)
		require.Nil(t, p.Refusal)
		require.Zero(t, countOrders(), "a preview creates nothing")
		p = do("admin", body(nil))
		require.True(t, p.Accepted)
		require.Equal(t, "pending-consumer", *p.State, "a project admin's order waits for an owner")

		// Refusals: the rule and the status creation would answer with.
		p = do("support", body(nil))
		require.False(t, p.Accepted)
		require.Equal(t, 403, p.Refusal.Status)
		p = do("owner", body(map[string]any{"limits": map[string]any{"cpu": 50}}))
		require.False(t, p.Accepted)
		require.Equal(t, 400, p.Refusal.Status)
		require.Contains(t, p.Refusal.Fields, "limits")
		require.Equal(t, "135", *p.Cost, "the cost (10 + 2.5 × 50) is estimated even when a rule refuses")

		// A quota: the project may hold one resource and holds one already.
		require.NoError(t, e.st.SetQuotaLimit(ctx, e.project.Scope(), models.QuotaResourceCount, 1))
		created := e.mustOrder("owner", e.basic)
		require.Equal(t, "15", *created.Cost, "the created order carries the previewed cost")
		p = do("owner", body(nil))
		require.False(t, p.Accepted)
		require.Equal(t, "quota_exceeded", p.Refusal.Code)
		require.Len(t, p.Refusal.Quotas, 1)
		q := p.Refusal.Quotas[0]
		require.Equal(t, "project", q.Scope)
		require.Equal(t, e.project.UUID.String(), q.ScopeUUID)
		require.Equal(t, "nc_resource_count", q.Name)
		require.EqualValues(t, 1, q.Limit)
		require.EqualValues(t, 2, q.Requires)
		require.EqualValues(t, 1, countOrders())
		quotas, err := e.st.Quotas(ctx, e.project.Scope())
		require.NoError(t, err)
		for _, qu := range quotas {
			if qu.Name == models.QuotaResourceCount {
				require.EqualValues(t, 1, qu.Usage, "the refused preview reserved nothing")
			}
		}

		// Not a JSON object: 400 as for creation; anonymous: 401.
		w := e.do(http.MethodPost, "/api/marketplace-orders/preview/", "owner", "x")
		require.Equal(t, http.StatusBadRequest, w.Code)
		w = e.do(http.MethodPost, "/api/marketplace-orders/preview/", "", body(nil))
		require.Equal(t, http.StatusUnauthorized, w.Code)
	})
}

// TestParallelOrdersThroughTheAPI: 300 concurrent POST /api/marketplace-orders/
// against a project nc_resource_count limit of 30 — exactly 30 are 201, the
// rest are 400 naming the quota, and exactly 30 resources and orders exist.
func TestParallelOrdersThroughTheAPI(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		require.NoError(t, e.st.SetQuotaLimit(context.Background(), e.project.Scope(), models.QuotaResourceCount, 30))
		codes := make([]int, 300)
		bodies := make([]string, 300)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := e.order("owner", e.basic, nil)
				codes[i], bodies[i] = w.Code, w.Body.String()
			}()
		}
		wg.Wait()
		count := map[int]int{}
		for i, c := range codes {
			count[c]++
			if c == http.StatusBadRequest {
				require.Contains(t, bodies[i], "nc_resource_count")
			}
		}
		require.Equal(t, map[int]int{http.StatusCreated: 30, http.StatusBadRequest: 270}, count)
		var orders, resources int64
		require.NoError(t, db.Table("orders").Count(&orders).Error)
		require.NoError(t, db.Table("resources").Count(&resources).Error)
		require.EqualValues(t, 30, orders)
		require.EqualValues(t, 30, resources)
	})
}

// TestOrderDetailsWhole: the fields of Waldur's OrderDetails beyond the
// core: the slugs the site agent names accounts by, the plan change, the
// plan's fixed and one-time prices, and the cost estimates.
func TestOrderDetailsWhole(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		o := e.mustOrder("owner", e.basic)
		get := func() map[string]any {
			w := e.do(http.MethodGet, "/api/marketplace-orders/"+o.UUID+"/", "owner", nil)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			return decode[map[string]any](t, w)
		}
		got := get()
		var slugs struct{ Project, Customer, Provider, Resource string }
		require.NoError(t, db.Raw(`SELECT p.slug AS project, c.slug AS customer, pr.slug AS provider, r.slug AS resource FROM resources r
			JOIN projects p ON p.id = r.project_id JOIN customers c ON c.id = p.customer_id
			JOIN offerings f ON f.id = r.offering_id JOIN customers pr ON pr.id = f.customer_id WHERE r.uuid = ?`, o.ResourceUUID).Scan(&slugs).Error)
		require.NotEmpty(t, slugs.Project)
		require.NotEmpty(t, slugs.Customer)
		require.NotEqual(t, slugs.Customer, slugs.Provider)
		require.Equal(t, slugs.Project, got["project_slug"])
		require.Equal(t, slugs.Customer, got["customer_slug"])
		require.Equal(t, slugs.Provider, got["provider_slug"])
		require.Equal(t, slugs.Resource, got["slug"])
		require.Equal(t, 10.0, got["fixed_price"], "the plan's fixed component: 10 × 1")
		require.Equal(t, 0.0, got["activation_price"])
		require.Equal(t, e.plan.String(), got["new_plan_uuid"])
		require.Equal(t, "Default", got["new_plan_name"])
		require.Nil(t, got["old_plan_uuid"])
		require.Nil(t, got["old_plan_name"])
		require.Equal(t, got["cost"], got["new_cost_estimate"])
		_, ok := got["error_traceback"]
		require.False(t, ok, "the detailed error is concealed from a non-staff caller, as Waldur")
		for _, who := range []string{"staff", "support"} {
			w := e.do(http.MethodGet, "/api/marketplace-orders/"+o.UUID+"/", who, nil)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			_, ok = decode[map[string]any](t, w)["error_traceback"]
			require.True(t, ok, who)
		}
		for _, k := range []string{"request_comment", "start_date", "issue", "attachment", "order_subtype", "resource_type"} {
			v, ok := got[k]
			require.True(t, ok, k)
			require.Nil(t, v, k)
		}

		// A plan change names the old plan; a one-time component is the
		// activation price.
		now := time.Now().UTC()
		var offeringID, planID int64
		require.NoError(t, db.Raw("SELECT id FROM offerings WHERE uuid = ?", e.basic).Scan(&offeringID).Error)
		require.NoError(t, db.Raw("SELECT id FROM plans WHERE uuid = ?", e.plan).Scan(&planID).Error)
		old := models.NewUUID()
		require.NoError(t, db.Table("plans").Create(map[string]any{"uuid": old, "offering_id": offeringID, "name": "Small", "unit": "month",
			"created": now, "modified": now}).Error)
		require.NoError(t, db.Exec("UPDATE orders SET old_plan_id = (SELECT id FROM plans WHERE uuid = ?) WHERE uuid = ?", old, o.UUID).Error)
		setup := models.NewUUID()
		require.NoError(t, db.Table("offering_components").Create(map[string]any{"uuid": setup, "offering_id": offeringID, "type": "setup",
			"name": "Setup", "billing_type": "one"}).Error)
		require.NoError(t, db.Exec(`INSERT INTO plan_components (plan_id, component_id, price, amount)
			SELECT ?, id, 25.5, 2 FROM offering_components WHERE uuid = ?`, planID, setup).Error)
		got = get()
		require.Equal(t, old.String(), got["old_plan_uuid"])
		require.Equal(t, "Small", got["old_plan_name"])
		require.Equal(t, 51.0, got["activation_price"])
		require.Equal(t, 10.0, got["fixed_price"])
	})
}
