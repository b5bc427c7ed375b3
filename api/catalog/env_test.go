package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/catalog"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// people: "owner" owns the provider's customer, "member" is a member of a
// project of it, "manager" holds OFFERING.MANAGER on the offering, "other"
// owns an unrelated customer, "plain" has no role.
var people = []string{"staff", "support", "plain", "member", "owner", "manager", "other"}

type env struct {
	t        testing.TB
	st       *store.Store
	srv      *api.Server
	now      time.Time
	users    map[string]*models.User
	toks     map[string]string
	provider *models.Customer
	project  *models.Project
	foreign  *models.Customer
	category string // URL
}

func newEnv(t testing.TB, db *gorm.DB, _ config.DatabaseKind) *env {
	t.Helper()
	e := &env{t: t, now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), users: map[string]*models.User{}, toks: map[string]string{}}
	e.st = store.New(db)
	e.st.Now = func() time.Time { return e.now }
	checker, err := rbac.NewChecker(db)
	require.NoError(t, err)
	checker.SetClock(func() time.Time { return e.now })
	e.srv = api.New(api.Deps{DB: db, Users: e.st, Now: func() time.Time { return e.now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		catalog.New(catalog.Deps{Store: e.st, RBAC: checker, Now: func() time.Time { return e.now }}))
	ctx := context.Background()
	for _, name := range people {
		u := &models.User{Username: name, Email: name + "@example.com", FirstName: name, LastName: "Person", IsActive: true,
			IsStaff: name == "staff", IsSupport: name == "support"}
		require.NoError(t, e.st.CreateUser(ctx, u, ""))
		tok, err := e.st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		e.users[name], e.toks[name] = u, tok.Key
	}
	e.provider = &models.Customer{Name: "Provider Org", Abbreviation: "PO"}
	require.NoError(t, e.st.CreateCustomer(e.ctx(), e.provider))
	e.project = &models.Project{Name: "Provider project"}
	require.NoError(t, e.st.CreateProject(e.ctx(), e.project, e.provider))
	e.foreign = &models.Customer{Name: "Other Org"}
	require.NoError(t, e.st.CreateCustomer(e.ctx(), e.foreign))
	e.grant("owner", models.RoleCustomerOwner, e.provider.Scope(), e.provider.ID)
	e.grant("member", models.RoleProjectMember, e.project.Scope(), e.provider.ID)
	e.grant("other", models.RoleCustomerOwner, e.foreign.Scope(), e.foreign.ID)

	var cat map[string]any
	e.ok(http.StatusCreated, "POST", "/api/marketplace-categories/", "staff", map[string]any{"title": "HPC"}, &cat)
	e.category = cat["url"].(string)
	return e
}

func (e *env) ctx() context.Context {
	return models.WithActor(context.Background(), models.Actor{User: e.users["staff"]})
}

func (e *env) grant(user, role string, scope models.Scope, customerID int64) {
	e.t.Helper()
	r, err := e.st.RoleByName(context.Background(), role)
	require.NoError(e.t, err)
	_, err = e.st.GrantRole(e.ctx(), store.Grant{User: e.users[user], Role: r, Scope: scope, CustomerID: customerID,
		CreatedBy: e.users["staff"], EventScopes: []models.Scope{scope}, ScopeName: "x"})
	require.NoError(e.t, err)
}

func (e *env) do(method, path, user string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader = bytes.NewReader(nil)
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if tok, ok := e.toks[user]; ok {
		req.Header.Set("Authorization", "Token "+tok)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	return w
}

// ok sends a request that must answer want, validates a 2xx answer against
// the OpenAPI contract and decodes the body into out.
func (e *env) ok(want int, method, path, user string, body any, out any) *httptest.ResponseRecorder {
	e.t.Helper()
	w := e.do(method, path, user, body)
	require.Equal(e.t, want, w.Code, "%s %s as %s: %s", method, path, user, w.Body.String())
	if w.Code < 300 && method != http.MethodHead {
		apitest.ValidateResponse(e.t, httptest.NewRequest(method, path, nil), w)
	}
	if out != nil {
		require.NoError(e.t, json.Unmarshal(w.Body.Bytes(), out), w.Body.String())
	}
	return w
}

// registerProvider registers the provider customer (staff: SERVICE_PROVIDER.REGISTER is no default role's).
func (e *env) registerProvider() map[string]any {
	var sp map[string]any
	e.ok(http.StatusCreated, "POST", "/api/marketplace-service-providers/", "staff",
		map[string]any{"customer": "http://example.com/api/customers/" + e.provider.UUID.String() + "/", "description": "HPC centre"}, &sp)
	return sp
}

// offeringBody is a create body with two components and a plan.
func (e *env) offeringBody(name string) map[string]any {
	return map[string]any{
		"name": name, "category": e.category, "customer": e.provider.UUID.String(), "type": "Marketplace.Slurm",
		"description": "Compute", "shared": true, "billable": true,
		"plugin_options": map[string]any{"auto_approve_in_service_provider_projects": true},
		"secret_options": map[string]any{"api_url": "https://hpc.example.com", "token": "s3cret"},
		"attributes":     map[string]any{"partition": "batch"},
		"options":        map[string]any{"order": []string{"size"}, "options": map[string]any{"size": map[string]any{"type": "integer", "label": "Size"}}},
		"components": []map[string]any{
			{"type": "cpu", "name": "CPU", "measured_unit": "k-Hours", "billing_type": "limit", "limit_period": "month", "min_value": 0, "max_value": 1000},
			{"type": "ram", "name": "RAM", "measured_unit": "GB-Hours", "billing_type": "usage"},
		},
		"plans": []map[string]any{{"name": "Standard", "unit": "month", "unit_price": "10.50", "description": "std",
			"prices": map[string]any{"cpu": "0.125", "ram": 2}, "quotas": map[string]any{"cpu": 100}}},
	}
}

// createOffering creates an offering as owner and grants "manager"
// OFFERING.MANAGER on it.
func (e *env) createOffering(name string) map[string]any {
	e.t.Helper()
	var o map[string]any
	e.ok(http.StatusCreated, "POST", "/api/marketplace-provider-offerings/", "owner", e.offeringBody(name), &o)
	off, err := e.st.OfferingByUUID(context.Background(), mustUUID(e.t, o["uuid"].(string)))
	require.NoError(e.t, err)
	e.grant("manager", models.RoleOfferingManager, off.Scope(), e.provider.ID)
	return o
}

func mustUUID(t testing.TB, s string) models.UUID {
	id, err := models.ParseUUID(s)
	require.NoError(t, err)
	return id
}
