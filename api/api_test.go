package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

type fixture struct {
	srv    *api.Server
	st     *store.Store
	now    time.Time
	tokens map[string]string // username -> token
}

func newFixture(t *testing.T, db *gorm.DB, tc client.Client) *fixture {
	f := &fixture{st: store.New(db), now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), tokens: map[string]string{}}
	f.st.Now = func() time.Time { return f.now }
	f.srv = api.New(api.Deps{DB: db, Users: f.st, Temporal: tc, Namespace: "default", Now: func() time.Time { return f.now }})
	lifetime := 3600
	for _, u := range []models.User{
		{Username: "staff", IsStaff: true},
		{Username: "support", IsSupport: true},
		{Username: "user"},
		{Username: "inactive"},
	} {
		u := u
		u.IsActive = u.Username != "inactive"
		u.TokenLifetime = &lifetime
		require.NoError(t, f.st.CreateUser(context.Background(), &u, "secret-pass"))
		tok, err := f.st.EnsureToken(context.Background(), u.ID)
		require.NoError(t, err)
		f.tokens[u.Username] = tok.Key
	}
	return f
}

func (f *fixture) do(t *testing.T, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	return w
}

func (f *fixture) as(user string) map[string]string {
	return map[string]string{"Authorization": "Token " + f.tokens[user]}
}

func detail(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var b struct{ Detail string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b), w.Body.String())
	return b.Detail
}

func TestAuthAndVersion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFixture(t, db, nil)
		cases := []struct {
			name   string
			hdr    map[string]string
			path   string
			status int
		}{
			{"anonymous", nil, "/api/version/", 401},
			{"plain user (the site agent asks as one)", f.as("user"), "/api/version/", 200},
			{"staff", f.as("staff"), "/api/version/", 200},
			{"support", f.as("support"), "/api/version/", 200},
			{"inactive", f.as("inactive"), "/api/version/", 401},
			{"bad token", map[string]string{"Authorization": "Token nope"}, "/api/version/", 401},
			{"bad token on a public endpoint", map[string]string{"Authorization": "Token nope"}, "/api/configuration/", 401},
			{"lower-case keyword", map[string]string{"Authorization": "token " + f.tokens["staff"]}, "/api/version/", 200},
			{"bearer keyword", map[string]string{"Authorization": "Bearer " + f.tokens["staff"]}, "/api/version/", 200},
			{"unknown keyword", map[string]string{"Authorization": "Basic " + f.tokens["staff"]}, "/api/version/", 401},
			{"query parameter", nil, "/api/version/?x-auth-token=" + f.tokens["staff"], 200},
			{"anonymous configuration", nil, "/api/configuration/", 200},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := f.do(t, http.MethodGet, c.path, c.hdr)
				require.Equal(t, c.status, w.Code, w.Body.String())
				if c.status == 200 && strings.HasPrefix(c.path, "/api/version/") {
					var v api.Version
					require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
					require.NotEmpty(t, v.Version)
				}
				if c.status >= 400 {
					require.NotEmpty(t, detail(t, w))
				}
			})
		}
	})
}

func TestSlidingTokenLifetime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFixture(t, db, nil)
		// 50 minutes later: still valid, and the request restarts the clock.
		f.now = f.now.Add(50 * time.Minute)
		require.Equal(t, 200, f.do(t, "GET", "/api/version/", f.as("staff")).Code)
		// Another 50 minutes (100 since issue, 50 since last use): valid.
		f.now = f.now.Add(50 * time.Minute)
		require.Equal(t, 200, f.do(t, "GET", "/api/version/", f.as("staff")).Code)
		// 61 idle minutes: expired.
		f.now = f.now.Add(61 * time.Minute)
		w := f.do(t, "GET", "/api/version/", f.as("staff"))
		require.Equal(t, 401, w.Code)
		require.Equal(t, "Token has expired.", detail(t, w))
	})
}

func TestErrorTableAndRecovery(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	f := newFixture(t, db, nil)
	e := f.srv.Engine()
	e.GET("/test/panic", func(*gin.Context) { panic("secret internals") })
	codes := map[models.Code]int{
		models.CodeInvalid: 400, models.CodeQuotaExceeded: 400, models.CodeUnauthorized: 401,
		models.CodeForbidden: 403, models.CodeNotFound: 404, models.CodeConflict: 409,
		models.CodeUnavailable: 503, models.CodeInternal: 500, models.CodeTooLarge: 413, models.CodeThrottled: 429,
	}
	for code, status := range codes {
		code := code
		e.GET("/test/err/"+string(code), api.H(func(*gin.Context) error { return models.Errorf(code, "msg %s", code) }))
		w := f.do(t, "GET", "/test/err/"+string(code), nil)
		require.Equal(t, status, w.Code, code)
		require.Equal(t, status, api.StatusOf(code))
	}
	e.GET("/test/field", api.H(func(*gin.Context) error { return models.FieldError("name", "This field is required.") }))
	w := f.do(t, "GET", "/test/field", nil)
	require.Equal(t, 400, w.Code)
	require.JSONEq(t, `{"name":["This field is required."]}`, w.Body.String())

	e.GET("/test/plain", api.H(func(*gin.Context) error { return errors.New("pq: password authentication failed for db secret") }))
	w = f.do(t, "GET", "/test/plain", nil)
	require.Equal(t, 500, w.Code)
	require.JSONEq(t, `{"detail":"Internal error"}`, w.Body.String(), "an unexpected error shows no internals")

	w = f.do(t, "GET", "/test/panic", nil)
	require.Equal(t, 500, w.Code)
	require.JSONEq(t, `{"detail":"Internal error"}`, w.Body.String())
	require.NotContains(t, w.Body.String(), "secret")

	w = f.do(t, "GET", "/api/no-such-thing/", nil)
	require.Equal(t, 404, w.Code)
	require.Equal(t, "Not found.", detail(t, w))
	w = f.do(t, "DELETE", "/api/configuration/", nil)
	require.Equal(t, 405, w.Code)
}

func TestRequestID(t *testing.T) {
	f := newFixture(t, dbtest.Migrated(t, config.SQLite), nil)
	w := f.do(t, "GET", "/api/configuration/", map[string]string{api.HeaderRequestID: "abc-123"})
	require.Equal(t, "abc-123", w.Header().Get(api.HeaderRequestID), "a well-formed incoming id carries through")
	w = f.do(t, "GET", "/api/configuration/", map[string]string{api.HeaderRequestID: "bad id\n"})
	got := w.Header().Get(api.HeaderRequestID)
	require.Len(t, got, 24)
	w2 := f.do(t, "GET", "/api/configuration/", nil)
	require.NotEqual(t, got, w2.Header().Get(api.HeaderRequestID))
}

func TestHealthCheck(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	ts := temporaltest.Start(t)
	f := newFixture(t, db, ts.Client(t))
	w := f.do(t, "GET", "/health-check/", nil)
	require.Equal(t, 200, w.Code, w.Body.String())
	require.JSONEq(t, `{"database":"working","temporal":"working"}`, w.Body.String())

	// Temporal unreachable: a lazy client to a closed port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	lazy, err := temporalclient.Lazy(temporalclient.Options{HostPort: addr, Namespace: "default"})
	require.NoError(t, err)
	defer lazy.Close()
	f = newFixture(t, dbtest.Migrated(t, config.SQLite), lazy)
	w = f.do(t, "GET", "/health-check/", nil)
	require.Equal(t, 503, w.Code)
	var st api.HealthStatus
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &st))
	require.Equal(t, "working", st.Database)
	require.Contains(t, st.Temporal, "unavailable")

	// Database closed.
	sqlDB, _ := db.DB()
	require.NoError(t, sqlDB.Close())
	f2 := &fixture{srv: api.New(api.Deps{DB: db, Users: store.New(db), Temporal: ts.Client(t)})}
	w = f2.do(t, "GET", "/health-check/", nil)
	require.Equal(t, 503, w.Code)
	require.Contains(t, w.Body.String(), `"temporal":"working"`)
}

func TestMetricsAndDocs(t *testing.T) {
	f := newFixture(t, dbtest.Migrated(t, config.SQLite), nil)
	f.do(t, "GET", "/api/configuration/", nil)
	w := f.do(t, "GET", "/metrics", nil)
	require.Equal(t, 200, w.Code)
	require.Contains(t, w.Body.String(), `waldur_http_requests_total{method="GET",route="/api/configuration/",status="200"} 1`)

	w = f.do(t, "GET", "/api/schema/", nil)
	require.Equal(t, 200, w.Code)
	var spec struct {
		Paths map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &spec))
	for _, p := range []string{"/health-check/", "/api/version/", "/api/configuration/"} {
		require.Contains(t, spec.Paths, p)
	}
	w = f.do(t, "GET", "/api/docs/", nil)
	require.Equal(t, http.StatusFound, w.Code)
	w = f.do(t, "GET", "/api/docs/index.html", nil)
	require.Equal(t, 200, w.Code)
	require.Contains(t, w.Body.String(), "swagger")
}

func TestClientAddressIgnoresForwardedHeaderUnlessTrusted(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	for _, c := range []struct {
		trusted []string
		want    string
	}{{nil, "192.0.2.1"}, {[]string{"192.0.2.1"}, "203.0.113.7"}} {
		srv := api.New(api.Deps{DB: db, Users: store.New(db), TrustedProxies: c.trusted})
		srv.Engine().GET("/test/ip", func(c *gin.Context) { c.String(200, c.ClientIP()) })
		req := httptest.NewRequest("GET", "/test/ip", nil) // RemoteAddr 192.0.2.1
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		require.Equal(t, c.want, w.Body.String(), "trusted proxies %v", c.trusted)
	}
}
