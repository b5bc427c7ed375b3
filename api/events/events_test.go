package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/events"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// fixture: customers Alpha (owner: "owner") and Beta (project beta-1 with
// member "member"), an "outsider", "staff" and "support", and events fed
// to each scope.
type fixture struct {
	srv     *api.Server
	st      *store.Store
	db      *gorm.DB
	now     time.Time
	tokens  map[string]string
	users   map[string]*models.User
	alpha   models.UUID // customer
	beta    models.UUID // customer
	beta1   models.UUID // project of beta
	evAlpha *models.Event
	evBeta1 *models.Event
	evBeta  *models.Event
	evOwner *models.Event
	evNone  *models.Event
}

func insertRow(t testing.TB, db *gorm.DB, table string, cols map[string]any) int64 {
	t.Helper()
	require.NoError(t, db.Table(table).Create(cols).Error)
	var id int64
	require.NoError(t, db.Table(table).Where("uuid = ?", cols["uuid"]).Pluck("id", &id).Error)
	return id
}

func newFixture(t testing.TB, db *gorm.DB) *fixture {
	ctx := context.Background()
	f := &fixture{st: store.New(db), db: db, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		tokens: map[string]string{}, users: map[string]*models.User{}}
	f.st.Now = func() time.Time { return f.now }
	checker, err := rbac.NewChecker(db)
	require.NoError(t, err)
	checker.SetClock(func() time.Time { return f.now })
	mod := events.New(events.Deps{Store: f.st, RBAC: checker, Now: func() time.Time { return f.now }})
	f.srv = api.New(api.Deps{DB: db, Users: f.st, Now: func() time.Time { return f.now }}, mod)

	for _, u := range []models.User{
		{Username: "staff", IsStaff: true, FirstName: "Sta", LastName: "Ff"},
		{Username: "support", IsSupport: true},
		{Username: "owner", FirstName: "Olga", LastName: "Owner", Email: "olga@example.com"},
		{Username: "member"},
		{Username: "outsider"},
	} {
		u := u
		u.IsActive = true
		require.NoError(t, f.st.CreateUser(ctx, &u, ""))
		tok, err := f.st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		f.tokens[u.Username] = tok.Key
		f.users[u.Username] = &u
	}
	customer := func(name string) (models.Scope, models.UUID) {
		u := models.NewUUID()
		id := insertRow(t, db, "customers", map[string]any{"uuid": u, "name": name, "accounting_start_date": f.now, "created": f.now, "modified": f.now})
		return models.Scope{Type: models.ScopeCustomer, ID: id}, u
	}
	alpha, alphaUUID := customer("Alpha")
	beta, betaUUID := customer("Beta")
	f.alpha, f.beta = alphaUUID, betaUUID
	f.beta1 = models.NewUUID()
	beta1 := models.Scope{Type: models.ScopeProject, ID: insertRow(t, db, "projects", map[string]any{"uuid": f.beta1, "customer_id": beta.ID,
		"name": "beta-1", "created": f.now, "modified": f.now})}
	grant := func(user, role string, sc models.Scope) {
		r, err := f.st.RoleByName(ctx, role)
		require.NoError(t, err)
		insertRow(t, db, "user_roles", map[string]any{"uuid": models.NewUUID(), "user_id": f.users[user].ID, "role_id": r.ID,
			"scope_type": sc.Type, "scope_id": sc.ID, "created": f.now, "modified": f.now, "is_active": true})
	}
	grant("owner", models.RoleCustomerOwner, alpha)
	grant("member", models.RoleProjectMember, beta1)

	emit := func(typ, msg string, at time.Time, scopes ...models.Scope) *models.Event {
		ev := &models.Event{EventType: typ, Message: msg, Created: at, Scopes: scopes,
			Context: map[string]any{"customer_name": "x"}}
		require.NoError(t, f.st.Tx(ctx, func(tx *store.Store) error { return tx.EmitEvent(ctx, ev) }))
		return ev
	}
	f.evAlpha = emit("customer_update_succeeded", "Customer Alpha has been updated.", f.now.Add(-4*time.Hour), alpha)
	f.evBeta1 = emit("project_creation_succeeded", "Project beta-1 has been created.", f.now.Add(-3*time.Hour), beta1, beta)
	f.evBeta = emit("customer_update_succeeded", "Customer Beta has been updated.", f.now.Add(-2*time.Hour), beta)
	f.evOwner = emit("user_update_succeeded", "User owner has been updated.", f.now.Add(-time.Hour), models.Scope{Type: models.ScopeUser, ID: f.users["owner"].ID})
	f.evNone = emit("auth_login_failed_with_username", "Login failed for nobody.", f.now)
	return f
}

// do sends a request as user ("" = anonymous) with an optional JSON body.
func (f *fixture) do(t *testing.T, method, path, user string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	switch b := body.(type) {
	case nil:
		req = httptest.NewRequest(method, path, nil)
	case string:
		req = httptest.NewRequest(method, path, strings.NewReader(b))
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		req = httptest.NewRequest(method, path, strings.NewReader(string(raw)))
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.Header.Set("Authorization", "Token "+f.tokens[user])
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	if w.Code == http.StatusOK || w.Code == http.StatusCreated {
		if !strings.Contains(path, "/scope_types/") { // Waldur's spec declares an object for this list
			apitest.ValidateResponse(t, req, w)
		}
	}
	return w
}

func eventUUIDs(t *testing.T, w *httptest.ResponseRecorder) []string {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var evs []events.Event
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &evs))
	out := []string{}
	for _, e := range evs {
		out = append(out, e.UUID.String())
	}
	return out
}

func ids(evs ...*models.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.UUID.String())
	}
	return out
}

func scopeURL(collection string, id models.UUID) string {
	return url.QueryEscape("http://testserver/api/" + collection + "/" + id.String() + "/")
}

func TestEventListVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		f := newFixture(t, db)
		all := ids(f.evNone, f.evOwner, f.evBeta, f.evBeta1, f.evAlpha) // newest first
		cases := []struct {
			name   string
			user   string
			query  string
			status int
			want   []string
		}{
			{"anonymous", "", "", 401, nil},
			{"anonymous with a scope", "", "?scope=" + scopeURL("customers", f.alpha), 401, nil},
			{"plain user without scope sees nothing", "owner", "", 200, ids()},
			{"owner, own customer", "owner", "?scope=" + scopeURL("customers", f.alpha), 200, ids(f.evAlpha)},
			{"owner, another customer", "owner", "?scope=" + scopeURL("customers", f.beta), 200, ids()},
			{"owner, a project elsewhere", "owner", "?scope=" + scopeURL("projects", f.beta1), 200, ids()},
			{"owner, self", "owner", "?scope=" + scopeURL("users", f.users["owner"].UUID), 200, ids(f.evOwner)},
			{"member, own project", "member", "?scope=" + scopeURL("projects", f.beta1), 200, ids(f.evBeta1)},
			{"member, customer of own project", "member", "?scope=" + scopeURL("customers", f.beta), 200, ids(f.evBeta, f.evBeta1)},
			{"member, another user", "member", "?scope=" + scopeURL("users", f.users["owner"].UUID), 200, ids()},
			{"outsider", "outsider", "?scope=" + scopeURL("customers", f.beta), 200, ids()},
			{"a scope that does not exist", "owner", "?scope=" + scopeURL("customers", models.NewUUID()), 200, ids()},
			{"a bare UUID path", "staff", "?scope=/api/customers/" + f.alpha.String() + "/", 200, ids(f.evAlpha)},
			{"staff sees all", "staff", "", 200, all},
			{"support sees all", "support", "", 200, all},
			{"staff with a scope", "staff", "?scope=" + scopeURL("customers", f.beta), 200, ids(f.evBeta, f.evBeta1)},
			{"scope of an unknown collection", "staff", "?scope=" + scopeURL("offerings", f.alpha), 400, nil},
			{"scope that is not a URL of the API", "staff", "?scope=nonsense", 400, nil},
			{"scope with a bad UUID", "staff", "?scope=/api/customers/xyz/", 400, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := f.do(t, http.MethodGet, "/api/events/"+c.query, c.user, nil)
				require.Equal(t, c.status, w.Code, w.Body.String())
				if c.status == 200 {
					require.Equal(t, c.want, eventUUIDs(t, w))
					require.Equal(t, fmt.Sprint(len(c.want)), w.Header().Get("X-Result-Count"))
				}
				if c.status == 400 {
					require.Contains(t, w.Body.String(), `"scope"`)
				}
			})
		}
	})
}

func TestEventListFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		f := newFixture(t, db)
		ts := func(d time.Duration) string { return fmt.Sprint(f.now.Add(d).Unix()) }
		cases := []struct {
			name   string
			query  string
			status int
			want   []string
		}{
			{"event_type", "event_type=customer_update_succeeded", 200, ids(f.evBeta, f.evAlpha)},
			{"event_type repeated", "event_type=customer_update_succeeded&event_type=user_update_succeeded", 200, ids(f.evOwner, f.evBeta, f.evAlpha)},
			{"feature", "feature=projects", 200, ids(f.evBeta1)},
			{"feature repeated", "feature=projects&feature=users", 200, ids(f.evOwner, f.evBeta1)},
			{"unknown feature", "feature=nope", 200, ids()},
			{"created_from (Unix, inclusive)", "created_from=" + ts(-2*time.Hour), 200, ids(f.evNone, f.evOwner, f.evBeta)},
			{"created_to (Unix, exclusive)", "created_to=" + ts(-3*time.Hour), 200, ids(f.evAlpha)},
			{"created_from fractional", "created_from=" + ts(-2*time.Hour) + ".5", 200, ids(f.evNone, f.evOwner)},
			{"created_to RFC 3339", "created_to=" + url.QueryEscape(f.now.Add(-3*time.Hour).Format(time.RFC3339)), 200, ids(f.evAlpha)},
			{"created_from invalid", "created_from=yesterday", 400, nil},
			{"message icontains", "message=BETA", 200, ids(f.evBeta, f.evBeta1)},
			{"ordering created", "o=created&event_type=customer_update_succeeded", 200, ids(f.evAlpha, f.evBeta)},
			{"ordering -created", "o=-created&event_type=customer_update_succeeded", 200, ids(f.evBeta, f.evAlpha)},
			{"unknown ordering falls back", "o=message&event_type=customer_update_succeeded", 200, ids(f.evBeta, f.evAlpha)},
			{"filters combine with scope", "scope=" + scopeURL("customers", f.beta) + "&event_type=project_creation_succeeded", 200, ids(f.evBeta1)},
			{"customer_uuid bad", "customer_uuid=zzz", 400, nil},
			{"page_size", "page_size=2", 200, ids(f.evNone, f.evOwner)},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := f.do(t, http.MethodGet, "/api/events/?"+c.query, "staff", nil)
				require.Equal(t, c.status, w.Code, w.Body.String())
				if c.status != 200 {
					return
				}
				require.Equal(t, c.want, eventUUIDs(t, w))

				q := strings.ReplaceAll(c.query, "page_size=2", "")
				cw := f.do(t, http.MethodGet, "/api/events/count/?"+q, "staff", nil)
				require.Equal(t, 200, cw.Code, cw.Body.String())
				var n events.EventCount
				require.NoError(t, json.Unmarshal(cw.Body.Bytes(), &n))
				if !strings.Contains(c.query, "page_size") {
					require.EqualValues(t, len(c.want), n.Count)
				} else {
					require.EqualValues(t, 5, n.Count)
				}
			})
		}
	})
}

func TestEventEndpoints(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		f := newFixture(t, db)

		t.Run("retrieve", func(t *testing.T) {
			// As Waldur's retrieve: users other than staff and support find an
			// event only through ?scope= naming a scope they see that it is fed to.
			alpha, beta1 := "?scope="+scopeURL("customers", f.alpha), "?scope="+scopeURL("projects", f.beta1)
			self := "?scope=" + scopeURL("users", f.users["owner"].UUID)
			cases := []struct {
				user   string
				ev     *models.Event
				query  string
				status int
			}{
				{"", f.evAlpha, alpha, 401}, {"owner", f.evAlpha, alpha, 200}, {"owner", f.evAlpha, "", 404},
				{"owner", f.evBeta, "?scope=" + scopeURL("customers", f.beta), 404}, {"owner", f.evOwner, self, 200},
				{"owner", f.evOwner, alpha, 404}, {"owner", f.evNone, "", 404}, {"member", f.evBeta1, beta1, 200},
				{"member", f.evBeta1, "", 404}, {"member", f.evAlpha, alpha, 404},
				{"staff", f.evNone, "", 200}, {"support", f.evBeta, "", 200},
			}
			for _, c := range cases {
				w := f.do(t, http.MethodGet, "/api/events/"+c.ev.UUID.String()+"/"+c.query, c.user, nil)
				require.Equal(t, c.status, w.Code, "%s %s: %s", c.user, c.ev.EventType, w.Body.String())
				if c.status != 200 {
					continue
				}
				var got map[string]any
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
				require.Equal(t, c.ev.UUID.String(), got["uuid"])
				require.Equal(t, c.ev.EventType, got["event_type"])
				require.Equal(t, c.ev.Message, got["message"])
				require.Equal(t, c.ev.Created.Format(time.RFC3339), got["created"])
				require.Equal(t, "x", got["context"].(map[string]any)["customer_name"])
			}
			require.Equal(t, 404, f.do(t, http.MethodGet, "/api/events/not-a-uuid/", "staff", nil).Code)
			require.Equal(t, 404, f.do(t, http.MethodGet, "/api/events/"+models.NewUUID().String()+"/", "staff", nil).Code)
		})

		t.Run("count", func(t *testing.T) {
			for user, want := range map[string]int64{"staff": 5, "support": 5, "owner": 0} {
				w := f.do(t, http.MethodGet, "/api/events/count/", user, nil)
				require.Equal(t, 200, w.Code)
				require.JSONEq(t, fmt.Sprintf(`{"count": %d}`, want), w.Body.String())
			}
			w := f.do(t, http.MethodGet, "/api/events/count/?scope="+scopeURL("customers", f.alpha), "owner", nil)
			require.JSONEq(t, `{"count": 1}`, w.Body.String())
			require.Equal(t, 401, f.do(t, http.MethodGet, "/api/events/count/", "", nil).Code)
		})

		t.Run("event_groups", func(t *testing.T) {
			w := f.do(t, http.MethodGet, "/api/events/event_groups/", "owner", nil)
			require.Equal(t, 200, w.Code)
			var groups map[string][]string
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &groups))
			require.Equal(t, len(models.EventGroups), len(groups))
			require.Contains(t, groups["projects"], "project_creation_succeeded")
			require.IsIncreasing(t, groups["users"])
			require.Equal(t, 401, f.do(t, http.MethodGet, "/api/events/event_groups/", "", nil).Code)
		})

		t.Run("scope_types", func(t *testing.T) {
			w := f.do(t, http.MethodGet, "/api/events/scope_types/", "owner", nil)
			require.Equal(t, 200, w.Code)
			require.JSONEq(t, `["core.user", "structure.customer", "structure.project"]`, w.Body.String())
		})

		t.Run("HEAD", func(t *testing.T) {
			for _, p := range []string{"/api/events/", "/api/events/count/", "/api/events/event_groups/", "/api/events/scope_types/"} {
				w := f.do(t, http.MethodHead, p, "staff", nil)
				require.Equal(t, 200, w.Code, p)
				require.Empty(t, w.Body.String(), p)
			}
			w := f.do(t, http.MethodHead, "/api/events/", "staff", nil)
			require.Equal(t, "5", w.Header().Get("X-Result-Count"))
		})
	})
}
