package identity_test

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
	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

const password = "secret-pass1"

// fx is a real API engine over a migrated database with a movable clock,
// users with tokens, and one customer (c1, project p1) where "owner" is
// the owner and "user" a project member; "other" is a member of another
// customer, so "user" and "other" cannot see each other.
type fx struct {
	t      testing.TB
	db     *gorm.DB
	st     *store.Store
	now    time.Time
	h      http.Handler
	users  map[string]*store.UserProfile
	tokens map[string]string
	c1, p1 int64
	c1UUID models.UUID
	p1UUID models.UUID
	// validate checks every response against the OpenAPI contract.
	validate bool
}

func newFx(t testing.TB, db *gorm.DB) *fx {
	t.Helper()
	f := &fx{t: t, db: db, st: store.New(db), now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		users: map[string]*store.UserProfile{}, tokens: map[string]string{}, validate: true}
	clock := func() time.Time { return f.now }
	f.st.Now = clock
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	chk.SetClock(clock)
	srv := api.New(api.Deps{DB: db, Users: f.st, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, identity.New(identity.Deps{Store: f.st, RBAC: chk, Now: clock}))
	f.h = srv.Handler()

	for _, u := range []struct {
		name           string
		staff, support bool
	}{
		{name: "staff", staff: true}, {name: "support", support: true}, {name: "user"}, {name: "other"}, {name: "owner"},
	} {
		f.addUser(u.name, func(p *store.UserProfile) { p.IsStaff, p.IsSupport = u.staff, u.support })
	}
	f.c1, f.c1UUID = f.customer("Org One")
	c2, _ := f.customer("Org Two")
	f.p1, f.p1UUID = f.project(f.c1, "Project One")
	p2, _ := f.project(c2, "Project Two")
	f.grant("owner", models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: f.c1}, f.c1)
	f.grant("user", models.RoleProjectMember, models.Scope{Type: models.ScopeProject, ID: f.p1}, f.c1)
	f.grant("other", models.RoleProjectAdmin, models.Scope{Type: models.ScopeProject, ID: p2}, c2)
	return f
}

// addUser creates a user with a password and a token.
func (f *fx) addUser(name string, mod func(p *store.UserProfile)) *store.UserProfile {
	f.t.Helper()
	lt := models.DefaultTokenLifetime
	p := &store.UserProfile{}
	p.Username, p.Email, p.IsActive, p.NotificationsEnabled, p.TokenLifetime = name, name+"@example.com", true, true, &lt
	p.FirstName, p.LastName = "First"+name, "Last"
	if mod != nil {
		mod(p)
	}
	require.NoError(f.t, f.st.CreateUserProfile(context.Background(), p, password, nil))
	tok, err := f.st.EnsureToken(context.Background(), p.ID)
	require.NoError(f.t, err)
	f.users[name], f.tokens[name] = p, tok.Key
	return p
}

func (f *fx) customer(name string) (int64, models.UUID) {
	f.t.Helper()
	id := models.NewUUID()
	require.NoError(f.t, f.db.Exec(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) VALUES (?, ?, ?, ?, ?)`,
		id, name, f.now, f.now, f.now).Error)
	var n int64
	require.NoError(f.t, f.db.Raw(`SELECT id FROM customers WHERE uuid = ?`, id).Scan(&n).Error)
	return n, id
}

func (f *fx) project(customer int64, name string) (int64, models.UUID) {
	f.t.Helper()
	id := models.NewUUID()
	require.NoError(f.t, f.db.Exec(`INSERT INTO projects (uuid, customer_id, name, created, modified) VALUES (?, ?, ?, ?, ?)`,
		id, customer, name, f.now, f.now).Error)
	var n int64
	require.NoError(f.t, f.db.Raw(`SELECT id FROM projects WHERE uuid = ?`, id).Scan(&n).Error)
	return n, id
}

func (f *fx) grant(user, role string, scope models.Scope, customer int64) {
	f.t.Helper()
	r, err := f.st.RoleByName(context.Background(), role)
	require.NoError(f.t, err)
	_, err = f.st.GrantRole(context.Background(), store.Grant{User: &f.users[user].User, Role: r, Scope: scope, CustomerID: customer, ScopeName: "x"})
	require.NoError(f.t, err)
}

// as is the Authorization header of a user ("" or unknown: anonymous).
func (f *fx) as(user string) map[string]string {
	if tok, ok := f.tokens[user]; ok {
		return map[string]string{"Authorization": "Token " + tok}
	}
	return nil
}

// do sends a request; body is marshalled unless it is a string (sent as is).
func (f *fx) do(method, path string, body any, hdr map[string]string) *httptest.ResponseRecorder {
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
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if k == "RemoteAddr" {
			req.RemoteAddr = v
			continue
		}
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	// Waldur's OpenAPI documents the success statuses only.
	if f.validate && w.Code < 300 && method != http.MethodHead {
		apitest.ValidateResponse(f.t, req, w)
	}
	return w
}

func (f *fx) json(w *httptest.ResponseRecorder, v any) {
	f.t.Helper()
	require.NoError(f.t, json.Unmarshal(w.Body.Bytes(), v), w.Body.String())
}

func (f *fx) obj(w *httptest.ResponseRecorder) map[string]any {
	f.t.Helper()
	var m map[string]any
	f.json(w, &m)
	return m
}

// event is a stored event with its feeds.
type event struct {
	Type    string
	Message string
	Context map[string]any
	Feeds   []models.Scope
}

// events returns the stored events of the given types, oldest first.
func (f *fx) events(types ...string) []event {
	f.t.Helper()
	var rows []struct {
		ID        int64
		EventType string
		Message   string
		Context   string
	}
	require.NoError(f.t, f.db.Raw(`SELECT id, event_type, message, CAST(context AS TEXT) AS context FROM events WHERE event_type IN ? ORDER BY id`, types).Scan(&rows).Error)
	out := make([]event, 0, len(rows))
	for _, r := range rows {
		e := event{Type: r.EventType, Message: r.Message}
		require.NoError(f.t, json.Unmarshal([]byte(r.Context), &e.Context))
		var feeds []struct {
			ScopeType models.ScopeType
			ScopeID   int64
		}
		require.NoError(f.t, f.db.Raw(`SELECT scope_type, scope_id FROM event_feeds WHERE event_id = ?`, r.ID).Scan(&feeds).Error)
		for _, s := range feeds {
			e.Feeds = append(e.Feeds, models.Scope{Type: s.ScopeType, ID: s.ScopeID})
		}
		out = append(out, e)
	}
	return out
}

func userPath(u *store.UserProfile, suffix string) string {
	return "/api/users/" + u.UUID.String() + "/" + suffix
}
