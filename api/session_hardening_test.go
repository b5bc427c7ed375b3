package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// sessionAPI is an API keeping browser sessions, with the allowed origins.
func sessionAPI(t *testing.T, db *gorm.DB, origins ...string) (*httptest.Server, *store.Store) {
	t.Helper()
	st := store.New(db)
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	srv := httptest.NewServer(api.New(api.Deps{DB: db, Users: st, Sessions: st, CORSOrigins: origins,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, identity.New(identity.Deps{Store: st, RBAC: chk})).Handler())
	t.Cleanup(srv.Close)
	return srv, st
}

// call sends a request with the session's cookies (sess nil: none) and
// the headers given; it answers the status and the JSON body.
func sessCall(t *testing.T, srv *httptest.Server, sess *models.Session, method, path, body string, header map[string]string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if sess != nil {
		req.AddCookie(&http.Cookie{Name: api.CookieSession, Value: sess.Key})
		req.AddCookie(&http.Cookie{Name: api.CookieCSRF, Value: sess.CSRF})
		req.Header.Set(api.HeaderCSRF, sess.CSRF)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestSessionOriginCheck: an unsafe request authenticated by the session
// cookie (with a correct CSRF token) is refused (403, nothing changed)
// when its Origin, or else its Referer, is neither the API's own origin
// nor an allowed one; an HTTPS one without either is refused; the same
// request authenticated by a token is not checked.
func TestSessionOriginCheck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		const portal = "https://portal.example.org"
		// srv allows the portal; plain allows no other origin (without
		// allowed origins no CORS middleware answers before the check).
		srv, st := sessionAPI(t, db, portal)
		plain, _ := sessionAPI(t, db)
		ctx := context.Background()
		u := &models.User{Username: "alice", IsActive: true}
		require.NoError(t, st.CreateUser(ctx, u, "Secret-pass-1"))
		sess, err := st.CreateSession(ctx, u.ID, "password", time.Hour)
		require.NoError(t, err)
		tok, err := st.LoginToken(ctx, u)
		require.NoError(t, err)
		path := "/api/users/" + u.UUID.String() + "/"
		patch := func(name string, s *models.Session, header map[string]string) (int, map[string]any) {
			return sessCall(t, srv, s, http.MethodPatch, path, `{"first_name":"`+name+`","agree_with_policy":true}`, header)
		}
		firstName := func() string {
			var n string
			require.NoError(t, db.Table("users").Where("id = ?", u.ID).Pluck("first_name", &n).Error)
			return n
		}

		for _, h := range []map[string]string{
			{"Origin": "https://evil.example"},
			{"Origin": "null"},
			{"Referer": "https://evil.example/page"},
			{"Origin": "https://evil.example", "Referer": portal + "/x"}, // Origin wins
			{"Referer": "not a url"},
			{"X-Forwarded-Proto": "https"}, // HTTPS without Origin nor Referer
		} {
			code, out := sessCall(t, plain, sess, http.MethodPatch, path, `{"first_name":"Mallory","agree_with_policy":true}`, h)
			require.Equal(t, http.StatusForbidden, code, "%v: %v", h, out)
			require.Contains(t, out["detail"], "CSRF Failed", h)
			require.Equal(t, "", firstName(), "%v changed something", h)
			code, out = patch("Mallory", sess, h)
			require.Equal(t, http.StatusForbidden, code, "%v: %v", h, out)
			require.Equal(t, "", firstName(), "%v changed something", h)
		}
		// Trusted: an allowed origin, its Referer, the API's own origin, or
		// neither header over plain HTTP (Django checks the Referer on HTTPS only).
		for i, h := range []map[string]string{
			{"Origin": portal},
			{"Referer": portal + "/#/profile/"},
			{"Origin": srv.URL},
			nil,
		} {
			name := []string{"A", "B", "C", "D"}[i]
			code, out := patch(name, sess, h)
			require.Equal(t, http.StatusOK, code, "%v: %v", h, out)
			require.Equal(t, name, firstName())
		}
		// A token-authenticated request is not concerned.
		code, out := sessCall(t, plain, nil, http.MethodPatch, path, `{"first_name":"Token"}`,
			map[string]string{"Authorization": "Token " + tok.Key, "Origin": "https://evil.example", "X-Forwarded-Proto": "https"})
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, "Token", firstName())
	})
}

// TestSessionsEndWithPasswordAndDeactivation: a password change ends the
// user's browser sessions, and so does a deactivation; another user's
// sessions are kept.
func TestSessionsEndWithPasswordAndDeactivation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		srv, st := sessionAPI(t, db)
		ctx := context.Background()
		alice := &models.User{Username: "alice", IsActive: true}
		require.NoError(t, st.CreateUser(ctx, alice, "Secret-pass-1"))
		bob := &models.User{Username: "bob", IsActive: true}
		require.NoError(t, st.CreateUser(ctx, bob, "Secret-pass-1"))
		a1, err := st.CreateSession(ctx, alice.ID, "password", time.Hour)
		require.NoError(t, err)
		a2, err := st.CreateSession(ctx, alice.ID, "keycloak", time.Hour)
		require.NoError(t, err)
		b1, err := st.CreateSession(ctx, bob.ID, "password", time.Hour)
		require.NoError(t, err)
		me := func(s *models.Session) int {
			code, _ := sessCall(t, srv, s, http.MethodGet, "/api/users/me/", "", nil)
			return code
		}
		require.Equal(t, http.StatusOK, me(a2))

		// Alice changes her password in the browser session a1.
		code, out := sessCall(t, srv, a1, http.MethodPost, "/api/users/"+alice.UUID.String()+"/change_password/", `{"new_password":"Other-pass-2"}`, nil)
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, http.StatusUnauthorized, me(a1))
		require.Equal(t, http.StatusUnauthorized, me(a2))
		require.Equal(t, http.StatusOK, me(b1))

		// Bob is deactivated: his sessions are deleted, not only refused.
		require.NoError(t, st.UpdateUserProfile(ctx, bob.ID, map[string]any{"is_active": false}, nil))
		var n int64
		require.NoError(t, db.Table("sessions").Where("user_id = ?", bob.ID).Count(&n).Error)
		require.Zero(t, n)
		require.NoError(t, st.UpdateUserProfile(ctx, bob.ID, map[string]any{"is_active": true}, nil))
		require.Equal(t, http.StatusUnauthorized, me(b1), "reactivation does not revive the session")
	})
}

// sloModule is a module with a single logout for user "alice" only, and a
// route that answers api.LogoutURL.
type sloModule struct{}

func (sloModule) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	a.GET("/slo-test/", api.RequireUser, api.H(func(c *gin.Context) error {
		u, err := api.LogoutURL(c, api.CurrentUser(c))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"logout_url": u})
		return nil
	}))
}

func (sloModule) LogoutURL(_ context.Context, u *models.User) (string, error) {
	if u.Username == "alice" {
		return "https://idp.example.org/logout?client_id=waldur", nil
	}
	return "", nil
}

// TestLogoutURL: api.LogoutURL asks the modules that implement
// api.SingleLogout for the user's logout URL at their identity provider.
func TestLogoutURL(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	st := store.New(db)
	srv := httptest.NewServer(api.New(api.Deps{DB: db, Users: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, sloModule{}).Handler())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	for name, want := range map[string]string{"alice": "https://idp.example.org/logout?client_id=waldur", "bob": ""} {
		u := &models.User{Username: name, IsActive: true}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		tok, err := st.LoginToken(ctx, u)
		require.NoError(t, err)
		code, out := sessCall(t, srv, nil, http.MethodGet, "/api/slo-test/", "", map[string]string{"Authorization": "Token " + tok.Key})
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, want, out["logout_url"], name)
	}
}
