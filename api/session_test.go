package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

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

// TestBrowserSession: a password login with ?session=true sets the
// sessionid and csrftoken cookies; the cookie alone authenticates a GET;
// an unsafe request without X-CSRFToken, or with another value, is 403
// and changes nothing; with it, it succeeds; logout ends the session.
func TestBrowserSession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		st := store.New(db)
		chk, err := rbac.NewChecker(db)
		require.NoError(t, err)
		srv := httptest.NewServer(api.New(api.Deps{DB: db, Users: st, Sessions: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
			identity.New(identity.Deps{Store: st, RBAC: chk})).Handler())
		t.Cleanup(srv.Close)
		u := &models.User{Username: "alice", IsActive: true}
		require.NoError(t, st.CreateUser(context.Background(), u, "Secret-pass-1"))

		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		do := func(method, path, body string, header map[string]string) (int, map[string]any) {
			t.Helper()
			req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			require.NoError(t, err)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range header {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}

		// Without ?session=true, no cookie.
		code, _ := do(http.MethodPost, "/api-auth/password/", `{"username":"alice","password":"Secret-pass-1"}`, nil)
		require.Equal(t, http.StatusOK, code)
		code, _ = do(http.MethodGet, "/api/users/me/", "", nil)
		require.Equal(t, http.StatusUnauthorized, code)

		code, out := do(http.MethodPost, "/api-auth/password/?session=true", `{"username":"alice","password":"Secret-pass-1"}`, nil)
		require.Equal(t, http.StatusOK, code, out)
		base, _ := url.Parse(srv.URL)
		csrf := ""
		for _, ck := range jar.Cookies(base) {
			if ck.Name == "csrftoken" {
				csrf = ck.Value
			}
		}
		require.NotEmpty(t, csrf)
		var row struct {
			KeyHash, CSRFHash string
		}
		require.NoError(t, db.Table("sessions").Select("key_hash, csrf_hash AS csrf_hash").Take(&row).Error)
		require.Equal(t, store.Digest(csrf), row.CSRFHash, "the database keeps digests only")

		code, out = do(http.MethodGet, "/api/users/me/", "", nil)
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, "alice", out["username"])
		path := "/api/users/" + out["uuid"].(string) + "/"

		code, out = do(http.MethodPatch, path, `{"first_name":"Mallory"}`, nil)
		require.Equal(t, http.StatusForbidden, code, out)
		require.Equal(t, "CSRF Failed: CSRF token missing.", out["detail"])
		code, out = do(http.MethodPatch, path, `{"first_name":"Mallory"}`, map[string]string{"X-CSRFToken": "forged"})
		require.Equal(t, http.StatusForbidden, code, out)
		require.Equal(t, "CSRF Failed: CSRF token incorrect.", out["detail"])
		_, out = do(http.MethodGet, "/api/users/me/", "", nil)
		require.Equal(t, "", out["first_name"])

		code, out = do(http.MethodPatch, path, `{"first_name":"Alice","agree_with_policy":true}`, map[string]string{"X-CSRFToken": csrf})
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, "Alice", out["first_name"])

		code, out = do(http.MethodPost, "/api-auth/logout/", "", nil)
		require.Equal(t, http.StatusForbidden, code, out)
		code, _ = do(http.MethodPost, "/api-auth/logout/", "", map[string]string{"X-CSRFToken": csrf})
		require.Equal(t, http.StatusNoContent, code)
		var n int64
		require.NoError(t, db.Table("sessions").Count(&n).Error)
		require.Zero(t, n)
		code, _ = do(http.MethodGet, "/api/users/me/", "", nil)
		require.Equal(t, http.StatusUnauthorized, code)
	})
}

// TestSessionStore: a session is found by its key until it expires, never
// by its digest; it ends alone or with all of its user's; expired ones
// are pruned.
func TestSessionStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		st := store.New(db)
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		st.Now = func() time.Time { return now }
		ctx := context.Background()
		u := &models.User{Username: "bob", IsActive: true}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		s1, err := st.CreateSession(ctx, u.ID, "password", time.Hour)
		require.NoError(t, err)
		s2, err := st.CreateSession(ctx, u.ID, "keycloak", 2*time.Hour)
		require.NoError(t, err)
		require.NotEqual(t, s1.Key, s2.Key)

		got, sess, err := st.UserBySession(ctx, s1.Key)
		require.NoError(t, err)
		require.Equal(t, "bob", got.Username)
		require.Equal(t, store.Digest(s1.CSRF), sess.CSRFHash)
		require.Equal(t, "password", sess.Method)
		_, _, err = st.UserBySession(ctx, store.Digest(s1.Key))
		require.True(t, models.IsCode(err, models.CodeNotFound))

		now = now.Add(90 * time.Minute)
		_, _, err = st.UserBySession(ctx, s1.Key)
		require.True(t, models.IsCode(err, models.CodeNotFound), "expired")
		n, err := st.PruneSessions(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		_, _, err = st.UserBySession(ctx, s2.Key)
		require.NoError(t, err)

		require.NoError(t, st.DeleteSession(ctx, s2.Key))
		_, _, err = st.UserBySession(ctx, s2.Key)
		require.True(t, models.IsCode(err, models.CodeNotFound))
		s3, err := st.CreateSession(ctx, u.ID, "password", time.Hour)
		require.NoError(t, err)
		require.NoError(t, st.DeleteUserSessions(ctx, u.ID))
		_, _, err = st.UserBySession(ctx, s3.Key)
		require.True(t, models.IsCode(err, models.CodeNotFound))
	})
}
