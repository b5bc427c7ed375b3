package oidc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/oidc/oidctest"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

// TestOIDCEgressGuard: without an allow-list a provider on loopback is
// never fetched: the login answers 503, discover_metadata refuses, and
// the emulator sees no request.
func TestOIDCEgressGuard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorldWith(t, db, "", nil)
		kc := oidctest.New(t)
		kc.AddUser("alice", map[string]any{"given_name": "Alice"})
		w.addProvider("keycloak", kc)
		kc.SignIn("alice")
		before := w.counts()
		resp, out := get(t, browser(false), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, out)
		code, out := w.do(http.MethodPost, "/api/identity-providers/discover_metadata/", w.staff, `{"discovery_url":"`+kc.DiscoveryURL()+`"}`)
		require.GreaterOrEqual(t, code, 400, out)
		require.Zero(t, kc.Requests["/.well-known/openid-configuration"], "the guard refused the connection")
		require.Equal(t, before, w.counts())
	})
}

// TestOIDCUserFieldAndProtectedFields: a provider whose user_field is
// email finds the known user by the email claim (whatever the subject);
// its protected_fields are not overwritten by the login, the other mapped
// fields are; a user_field or protected field Waldur does not know is a
// 400.
func TestOIDCUserFieldAndProtectedFields(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, db, "")
		kc := oidctest.New(t)
		kc.AddUser("f81d4fae", map[string]any{"given_name": "Alice", "family_name": "Liddell", "email": "Alice@Example.org"})
		w.addProvider("keycloak", kc)
		for _, body := range []string{`{"user_field":"civil_number"}`, `{"protected_fields":["password"]}`} {
			code, out := w.do(http.MethodPatch, "/api/identity-providers/keycloak/", w.staff, body)
			require.Equal(t, http.StatusBadRequest, code, "%s: %v", body, out)
		}
		code, out := w.checked(http.MethodPatch, "/api/identity-providers/keycloak/",
			`{"user_field":"email","user_claim":"email","protected_fields":["first_name"]}`)
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, "email", out["user_field"])
		require.Equal(t, []any{"first_name"}, out["protected_fields"])

		// A known user of this provider, by email.
		ctx := context.Background()
		legacy := &models.User{Username: "legacy", IsActive: true, FirstName: "Al", Email: "alice@example.org"}
		require.NoError(t, w.st.CreateUser(ctx, legacy, ""))
		require.NoError(t, db.Table("users").Where("id = ?", legacy.ID).Updates(map[string]any{"registration_method": "keycloak", "first_name": "Al"}).Error)
		kc.SignIn("f81d4fae")
		before := w.counts()
		resp, out := get(t, browser(true), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		u := me(t, w, out["token"].(string))
		require.Equal(t, "legacy", u["username"], "found by email, not by the subject")
		require.Equal(t, "Al", u["first_name"], "protected")
		require.Equal(t, "Liddell", u["last_name"], "updated")
		require.Equal(t, before["users"], w.counts()["users"])

		// An unknown email: a new user, named by the subject.
		kc.AddUser("b0b", map[string]any{"given_name": "Bob", "email": "bob@example.org"})
		kc.SignIn("b0b")
		resp, out = get(t, browser(true), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		u = me(t, w, out["token"].(string))
		require.Equal(t, "b0b", u["username"])
		require.Equal(t, "bob@example.org", u["email"])
		require.Equal(t, "Bob", u["first_name"], "the first login sets protected fields too")
	})
}

// TestOIDCAllowedRedirects: a login may return to a front end origin only
// when it is one of the provider's allowed_redirects (400 otherwise,
// nothing stored); the completed login goes to that origin.
func TestOIDCAllowedRedirects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, db, "https://portal.example.org/login_completed/{token}/{method}/")
		kc := oidctest.New(t)
		kc.AddUser("carol", map[string]any{"given_name": "Carol"})
		w.addProvider("keycloak", kc)
		code, out := w.checked(http.MethodPatch, "/api/identity-providers/keycloak/", `{"allowed_redirects":["https://portal2.example.org"]}`)
		require.Equal(t, http.StatusOK, code, out)
		kc.SignIn("carol")
		for _, bad := range []string{"https://evil.example.org", "https://portal2.example.org.evil.example", "https://portal.example.org", "https://portal2.example.org/path"} {
			resp, out := get(t, browser(false), w.srv.URL+"/api-auth/keycloak/init/?redirect_url="+bad)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %v", bad, out)
			require.Contains(t, out, "redirect_url")
		}
		var pending int64
		require.NoError(t, db.Table("oidc_auth_requests").Count(&pending).Error)
		require.Zero(t, pending)

		c := browser(false)
		back := w.completeURL(c, "keycloak", "?redirect_url=https://portal2.example.org/")
		resp, _ := get(t, c, back.String())
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc := resp.Header.Get("Location")
		require.True(t, strings.HasPrefix(loc, "https://portal2.example.org/login_completed/"), loc)
		require.True(t, strings.HasSuffix(loc, "/keycloak/"), loc)
	})
}

// TestOIDCLogoutURL: a user registered by a provider with an
// end_session_endpoint logs out there (client_id, and the
// post_logout_redirect_uri when the provider enables it); a user of
// another method, or of an inactive provider, has no such URL.
func TestOIDCLogoutURL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, db, "")
		kc := oidctest.New(t)
		kc.AddUser("alice", map[string]any{"given_name": "Alice"})
		w.addProvider("keycloak", kc)
		kc.SignIn("alice")
		resp, out := get(t, browser(true), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		ctx := context.Background()
		alice, _, err := w.st.UserByToken(ctx, out["token"].(string))
		require.NoError(t, err)

		u, err := w.m.LogoutURL(ctx, alice)
		require.NoError(t, err)
		require.Equal(t, kc.Issuer+"/logout?client_id=waldur-keycloak", u)
		code, out := w.do(http.MethodPatch, "/api/identity-providers/keycloak/", w.staff, `{"enable_post_logout_redirect":true}`)
		require.Equal(t, http.StatusOK, code, out)
		u, err = w.m.LogoutURL(ctx, alice)
		require.NoError(t, err)
		require.Equal(t, kc.Issuer+"/logout?client_id=waldur-keycloak&post_logout_redirect_uri="+url.QueryEscape("https://portal.example.org/logout_completed/"), u)

		staff, _, err := w.st.UserByToken(ctx, w.staff)
		require.NoError(t, err)
		u, err = w.m.LogoutURL(ctx, staff)
		require.NoError(t, err)
		require.Empty(t, u, "a password user")
		code, out = w.do(http.MethodPatch, "/api/identity-providers/keycloak/", w.staff, `{"is_active":false}`)
		require.Equal(t, http.StatusOK, code, out)
		u, err = w.m.LogoutURL(ctx, alice)
		require.NoError(t, err)
		require.Empty(t, u, "an inactive provider")

		// Through /api-auth/logout/: the URL is answered (200, Waldur's
		// Logout) while the provider is active, then the token is gone.
		code, out = w.do(http.MethodPatch, "/api/identity-providers/keycloak/", w.staff, `{"is_active":true}`)
		require.Equal(t, http.StatusOK, code, out)
		resp, out = get(t, browser(true), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		aliceToken := out["token"].(string)
		req, err := http.NewRequest(http.MethodPost, w.srv.URL+"/api-auth/logout/", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Token "+aliceToken)
		lr, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(lr.Body)
		lr.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, lr.StatusCode, string(body))
		require.NoError(t, apitest.Check(req, lr.StatusCode, lr.Header, body))
		var logout map[string]string
		require.NoError(t, json.Unmarshal(body, &logout))
		require.Equal(t, kc.Issuer+"/logout?client_id=waldur-keycloak&post_logout_redirect_uri="+url.QueryEscape("https://portal.example.org/logout_completed/"), logout["logout_url"])
		_, _, err = w.st.UserByToken(ctx, aliceToken)
		require.Error(t, err, "the token is deleted")
		// A password user's logout answers 204 as before.
		req, err = http.NewRequest(http.MethodPost, w.srv.URL+"/api-auth/logout/", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Token "+w.staff)
		lr, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		lr.Body.Close()
		require.Equal(t, http.StatusNoContent, lr.StatusCode)
	})
}

// checked is do with the staff token, the answer validated against
// Waldur's OpenAPI file.
func (w *world) checked(method, path, body string) (int, map[string]any) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	require.NoError(w.t, err)
	req.Header.Set("Authorization", "Token "+w.staff)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(w.t, err)
	require.NoError(w.t, apitest.Check(req, resp.StatusCode, resp.Header, data))
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out
}
