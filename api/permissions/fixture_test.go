package permissions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/permissions"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// scopeRef is a customer or project made for a test.
type scopeRef struct {
	models.Scope
	UUID models.UUID
}

func (s scopeRef) url() string {
	return "http://example.com/api/" + string(s.Type) + "s/" + s.UUID.String() + "/"
}

type fx struct {
	t      *testing.T
	db     *gorm.DB
	st     *store.Store
	rbac   *rbac.Checker
	srv    *api.Server
	logs   *syncBuffer
	mu     sync.Mutex
	now    time.Time
	users  map[string]*models.User
	tokens map[string]string
	// c1 has projects p1 (and future, starting in 10 days); c2 has p2.
	c1, c2, p1, p2, future scopeRef
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (f *fx) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fx) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// The team of the fixture: who holds which role where.
var team = []struct {
	user, role, scope string
}{
	{"owner", models.RoleCustomerOwner, "c1"},
	{"pmanager", models.RoleProjectManager, "p1"},
	{"member", models.RoleProjectMember, "p1"},
	{"padmin", models.RoleProjectAdmin, "p1"},
	{"owner2", models.RoleCustomerOwner, "c2"},
}

// Everyone who calls the API in the tests ("anonymous" sends no token).
var callers = []string{"anonymous", "plain", "member", "padmin", "pmanager", "owner", "owner2", "support", "staff"}

func newFx(t *testing.T, db *gorm.DB, onlyStaffInvites bool) *fx {
	t.Helper()
	ctx := context.Background()
	f := &fx{t: t, db: db, now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), users: map[string]*models.User{},
		tokens: map[string]string{}, logs: &syncBuffer{}}
	f.st = store.New(db)
	f.st.Now = f.clock
	var err error
	f.rbac, err = rbac.NewChecker(db)
	require.NoError(t, err)
	f.rbac.SetClock(f.clock)
	logger := slog.New(slog.NewTextHandler(f.logs, nil))
	f.srv = api.New(api.Deps{DB: db, Users: f.st, Now: f.clock, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))},
		permissions.New(permissions.Deps{Store: f.st, RBAC: f.rbac, Now: f.clock, Logger: logger, OnlyStaffCanInvite: onlyStaffInvites}))

	f.c1 = f.customer("Org One")
	f.c2 = f.customer("Org Two")
	f.p1 = f.project(f.c1, "Project One", nil)
	f.p2 = f.project(f.c2, "Project Two", nil)
	start := f.now.Add(10 * 24 * time.Hour)
	f.future = f.project(f.c1, "Future Project", &start)

	for _, name := range callers[1:] {
		u := &models.User{Username: name, Email: name + "@example.com", FirstName: strings.ToUpper(name[:1]) + name[1:],
			LastName: "Tester", IsActive: true, IsStaff: name == "staff", IsSupport: name == "support"}
		require.NoError(t, f.st.CreateUser(ctx, u, ""))
		tok, err := f.st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		f.users[name], f.tokens[name] = u, tok.Key
	}
	f.addUser("invitee")
	for _, m := range team {
		f.grant(m.user, m.role, f.scope(m.scope))
	}
	return f
}

func (f *fx) addUser(name string) *models.User {
	f.t.Helper()
	ctx := context.Background()
	u := &models.User{Username: name, Email: name + "@example.com", IsActive: true}
	require.NoError(f.t, f.st.CreateUser(ctx, u, ""))
	tok, err := f.st.EnsureToken(ctx, u.ID)
	require.NoError(f.t, err)
	f.users[name], f.tokens[name] = u, tok.Key
	return u
}

func (f *fx) scope(name string) scopeRef {
	return map[string]scopeRef{"c1": f.c1, "c2": f.c2, "p1": f.p1, "p2": f.p2, "future": f.future}[name]
}

func (f *fx) customer(name string) scopeRef {
	f.t.Helper()
	id := models.NewUUID()
	require.NoError(f.t, f.db.Exec(`INSERT INTO customers (uuid, name, description, accounting_start_date, created, modified) VALUES (?, ?, ?, ?, ?, ?)`,
		id, name, "About "+name, f.now, f.now, f.now).Error)
	var pk int64
	require.NoError(f.t, f.db.Table("customers").Where("uuid = ?", id).Pluck("id", &pk).Error)
	sc := models.Scope{Type: models.ScopeCustomer, ID: pk}
	require.NoError(f.t, f.st.InitQuotas(context.Background(), sc))
	return scopeRef{Scope: sc, UUID: id}
}

func (f *fx) project(c scopeRef, name string, start *time.Time) scopeRef {
	f.t.Helper()
	id := models.NewUUID()
	require.NoError(f.t, f.db.Exec(`INSERT INTO projects (uuid, customer_id, name, description, start_date, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, c.ID, name, "About "+name, start, f.now, f.now).Error)
	var pk int64
	require.NoError(f.t, f.db.Table("projects").Where("uuid = ?", id).Pluck("id", &pk).Error)
	sc := models.Scope{Type: models.ScopeProject, ID: pk}
	require.NoError(f.t, f.st.InitQuotas(context.Background(), sc))
	return scopeRef{Scope: sc, UUID: id}
}

func (f *fx) role(name string) *models.Role {
	f.t.Helper()
	r, err := f.st.RoleByName(context.Background(), name)
	require.NoError(f.t, err)
	return r
}

func (f *fx) grant(user, role string, sc scopeRef) {
	f.t.Helper()
	ctx := context.Background()
	rs, err := f.st.ResolveRoleScope(ctx, sc.Scope)
	require.NoError(f.t, err)
	_, err = f.st.GrantRole(ctx, store.Grant{User: f.users[user], Role: f.role(role), Scope: sc.Scope, CustomerID: rs.CustomerID,
		EventScopes: rs.EventScopes(), ScopeName: rs.Name})
	require.NoError(f.t, err)
}

func (f *fx) has(user string, perm models.Permission, sc ...models.Scope) bool {
	f.t.Helper()
	ok, err := f.rbac.Has(context.Background(), f.users[user], perm, sc...)
	require.NoError(f.t, err)
	return ok
}

// call sends a request as user ("anonymous": no token) with body (nil:
// none; a string: raw JSON; anything else: marshalled) and, for 2xx
// answers with a body, checks the answer against Waldur's OpenAPI file.
func (f *fx) call(user, method, path string, body any) *httptest.ResponseRecorder {
	f.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		require.NoError(f.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Host = "example.com"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "anonymous" {
		require.Contains(f.t, f.tokens, user)
		req.Header.Set("Authorization", "Token "+f.tokens[user])
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	if w.Code < 300 && w.Code != http.StatusNoContent && method != http.MethodHead {
		apitest.ValidateResponse(f.t, req, w)
	}
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

// events returns the messages of the events of a type fed to a scope.
func (f *fx) events(eventType string, sc models.Scope) []string {
	f.t.Helper()
	var msgs []string
	require.NoError(f.t, f.db.Table("events e").Joins("JOIN event_feeds ef ON ef.event_id = e.id").
		Where("e.event_type = ? AND ef.scope_type = ? AND ef.scope_id = ?", eventType, sc.Type, sc.ID).
		Order("e.id").Pluck("e.message", &msgs).Error)
	return msgs
}
