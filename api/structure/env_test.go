package structure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/structure"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// The people of every test: global flags, or a role in the world's customer
// or project; "target" is the user team actions are done to.
var people = []string{"staff", "support", "plain", "member", "admin", "manager", "owner", "target"}

// env is a migrated database with the people, their tokens and the API.
type env struct {
	t     testing.TB
	db    *gorm.DB
	kind  config.DatabaseKind
	st    *store.Store
	rbac  *rbac.Checker
	srv   *api.Server
	now   time.Time
	users map[string]*models.User
	toks  map[string]string
	n     int
}

func newEnv(t testing.TB, db *gorm.DB, kind config.DatabaseKind, tweak ...func(*structure.Deps)) *env {
	t.Helper()
	e := &env{t: t, db: db, kind: kind, now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC),
		users: map[string]*models.User{}, toks: map[string]string{}}
	e.st = store.New(db)
	e.st.Now = func() time.Time { return e.now }
	checker, err := rbac.NewChecker(db)
	require.NoError(t, err)
	checker.SetClock(func() time.Time { return e.now })
	e.rbac = checker
	deps := structure.Deps{Store: e.st, RBAC: checker, Now: func() time.Time { return e.now }}
	for _, f := range tweak {
		f(&deps)
	}
	e.srv = api.New(api.Deps{DB: db, Users: e.st, Now: func() time.Time { return e.now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, structure.New(deps))
	ctx := context.Background()
	for _, name := range people {
		u := &models.User{Username: name, Email: name + "@example.com", FirstName: strings.ToUpper(name[:1]) + name[1:],
			LastName: "Person", IsActive: true, IsStaff: name == "staff", IsSupport: name == "support"}
		require.NoError(t, e.st.CreateUser(ctx, u, ""))
		tok, err := e.st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		e.users[name], e.toks[name] = u, tok.Key
	}
	return e
}

// world is a fresh customer with one project, where owner holds
// CUSTOMER.OWNER and admin, manager and member the project roles.
type world struct {
	customer *models.Customer
	project  *models.Project
}

func (e *env) ctx() context.Context {
	return models.WithActor(context.Background(), models.Actor{User: e.users["staff"]})
}

func (e *env) role(name string) *models.Role {
	r, err := e.st.RoleByName(context.Background(), name)
	require.NoError(e.t, err)
	return r
}

func (e *env) grant(user string, role string, scope models.Scope, customerID int64) {
	e.t.Helper()
	_, err := e.st.GrantRole(e.ctx(), store.Grant{User: e.users[user], Role: e.role(role), Scope: scope, CustomerID: customerID,
		CreatedBy: e.users["staff"], EventScopes: []models.Scope{scope}, ScopeName: "x"})
	require.NoError(e.t, err)
}

func (e *env) newCustomer(name string, mutate ...func(*models.Customer)) *models.Customer {
	e.t.Helper()
	cu := &models.Customer{Name: name}
	for _, f := range mutate {
		f(cu)
	}
	require.NoError(e.t, e.st.CreateCustomer(e.ctx(), cu))
	return cu
}

func (e *env) newProject(cu *models.Customer, name string) *models.Project {
	e.t.Helper()
	p := &models.Project{Name: name}
	require.NoError(e.t, e.st.CreateProject(e.ctx(), p, cu))
	return p
}

func (e *env) world() *world {
	e.t.Helper()
	e.n++
	cu := e.newCustomer(fmt.Sprintf("Org %d", e.n))
	p := e.newProject(cu, "Project of "+cu.Name)
	e.grant("owner", models.RoleCustomerOwner, cu.Scope(), cu.ID)
	e.grant("admin", models.RoleProjectAdmin, p.Scope(), cu.ID)
	e.grant("manager", models.RoleProjectManager, p.Scope(), cu.ID)
	e.grant("member", models.RoleProjectMember, p.Scope(), cu.ID)
	return &world{customer: cu, project: p}
}

// do sends a request as user ("" or "anonymous": no token) with a JSON body
// (a string is sent as is).
func (e *env) do(method, path, user string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
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

// ok sends a request that must answer want, checks a 2xx answer against
// Waldur's OpenAPI contract and decodes the body into out (if not nil).
func (e *env) ok(want int, method, path, user string, body any, out any) *httptest.ResponseRecorder {
	e.t.Helper()
	w := e.do(method, path, user, body)
	require.Equal(e.t, want, w.Code, "%s %s as %s: %s", method, path, user, w.Body.String())
	e.validate(method, path, w)
	if out != nil {
		require.NoError(e.t, json.Unmarshal(w.Body.Bytes(), out), w.Body.String())
	}
	return w
}

// validate checks a successful response against the OpenAPI file (our own
// endpoints, the project-type writes, are not in it).
func (e *env) validate(method, path string, w *httptest.ResponseRecorder) {
	e.t.Helper()
	if w.Code >= 300 || method == http.MethodHead || (strings.HasPrefix(path, "/api/project-types/") && method != http.MethodGet) {
		return
	}
	req := httptest.NewRequest(method, path, nil)
	apitest.ValidateResponse(e.t, req, w)
}

// fieldErrors decodes a 400 body of field → messages.
func fieldErrors(t *testing.T, w *httptest.ResponseRecorder) map[string][]string {
	t.Helper()
	var out map[string][]string
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	return out
}

func detail(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var out struct{ Detail string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	return out.Detail
}

// events returns the types of the events fed to a scope, oldest first.
func (e *env) events(scope models.Scope) []string {
	e.t.Helper()
	var types []string
	require.NoError(e.t, e.db.Table("events").Select("events.event_type").
		Joins("JOIN event_feeds ON event_feeds.event_id = events.id").
		Where("event_feeds.scope_type = ? AND event_feeds.scope_id = ?", scope.Type, scope.ID).
		Order("events.id").Pluck("events.event_type", &types).Error)
	return types
}

func (e *env) quota(scope models.Scope, name string) models.Quota {
	e.t.Helper()
	qs, err := e.st.Quotas(context.Background(), scope)
	require.NoError(e.t, err)
	for _, q := range qs {
		if q.Name == name {
			return q
		}
	}
	e.t.Fatalf("no quota %s on %v", name, scope)
	return models.Quota{}
}

func customerPath(cu *models.Customer) string { return "/api/customers/" + cu.UUID.String() + "/" }
func projectPath(p *models.Project) string    { return "/api/projects/" + p.UUID.String() + "/" }

// uuids extracts the uuid of each item of a list answer.
func uuids(t *testing.T, w *httptest.ResponseRecorder) []string {
	t.Helper()
	var items []struct{ UUID string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &items), w.Body.String())
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.UUID
	}
	return out
}
