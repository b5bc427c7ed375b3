package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/api/oidc"
	"github.com/waldur-go/waldur/api/oidc/oidctest"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// world is the API (identity and OIDC modules, sessions on) behind a real
// HTTP server, with a staff user.
type world struct {
	t     *testing.T
	db    *gorm.DB
	st    *store.Store
	srv   *httptest.Server
	staff string // the staff user's token
	m     *oidc.Module
}

func newWorld(t *testing.T, db *gorm.DB, loginCompleted string) *world {
	t.Helper()
	// The emulators listen on loopback: the egress guard must allow it.
	return newWorldWith(t, db, loginCompleted, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
}

// newWorldWith is newWorld with the networks the providers may be on.
func newWorldWith(t *testing.T, db *gorm.DB, loginCompleted string, allowed []netip.Prefix) *world {
	t.Helper()
	st := store.New(db)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	m := oidc.New(oidc.Deps{Store: st, BaseURL: srv.URL, LoginCompletedURL: loginCompleted, Logger: log, AllowedNetworks: allowed,
		LogoutCompletedURL: "https://portal.example.org/logout_completed/"})
	h = api.New(api.Deps{DB: db, Users: st, Logger: log, Sessions: st},
		identity.New(identity.Deps{Store: st, RBAC: chk}), m).Handler()
	ctx := context.Background()
	admin := &models.User{Username: "staff", IsStaff: true, IsActive: true}
	require.NoError(t, st.CreateUser(ctx, admin, "Secret-pass-1"))
	tok, err := st.EnsureToken(ctx, admin.ID)
	require.NoError(t, err)
	return &world{t: t, db: db, st: st, srv: srv, staff: tok.Key, m: m}
}

// do sends a request with the staff token (or another Authorization value).
func (w *world) do(method, path, auth, body string) (int, map[string]any) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	require.NoError(w.t, err)
	if auth != "" {
		req.Header.Set("Authorization", "Token "+auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// addProvider registers an emulator as provider slug through the API.
func (w *world) addProvider(slug string, idp *oidctest.Provider) {
	w.t.Helper()
	secret := "secret-of-" + slug + "-0123456789"
	idp.AddClient(oidctest.Client{ID: "waldur-" + slug, Secret: secret,
		RedirectURIs: []string{w.srv.URL + "/api-auth/" + slug + "/complete/"}})
	body, _ := json.Marshal(map[string]any{"provider": slug, "label": strings.ToUpper(slug[:1]) + slug[1:], "client_id": "waldur-" + slug,
		"client_secret": secret, "discovery_url": idp.DiscoveryURL(), "extra_scope": "profile email",
		"attribute_mapping": map[string]string{"first_name": "given_name", "last_name": "family_name", "email": "email",
			"organization": "schac_home_organization", "affiliations": "voperson_external_affiliation"}})
	code, out := w.do(http.MethodPost, "/api/identity-providers/", w.staff, string(body))
	require.Equal(w.t, http.StatusCreated, code, out)
	require.Equal(w.t, "********6789", out["client_secret"], "the secret is never rendered in full")
}

func (w *world) counts() map[string]int64 {
	w.t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"users", "tokens", "sessions", "events"} {
		var n int64
		require.NoError(w.t, w.db.Table(tbl).Count(&n).Error)
		out[tbl] = n
	}
	return out
}

// browser is a cookie-keeping client; follow: whether it follows redirects.
func browser(follow bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// completeURL runs init and the provider's authorization for slug and
// returns the redirect back to Waldur (not yet followed).
func (w *world) completeURL(c *http.Client, slug, query string) *url.URL {
	w.t.Helper()
	resp, _ := get(w.t, c, w.srv.URL+"/api-auth/"+slug+"/init/"+query)
	require.Equal(w.t, http.StatusFound, resp.StatusCode)
	authz, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(w.t, err)
	q := authz.Query()
	require.Equal(w.t, "code", q.Get("response_type"))
	require.Equal(w.t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(w.t, q.Get("code_challenge"))
	require.NotEmpty(w.t, q.Get("nonce"))
	require.NotEmpty(w.t, q.Get("state"))
	require.Contains(w.t, strings.Fields(q.Get("scope")), "openid")
	resp, _ = get(w.t, c, authz.String())
	require.Equal(w.t, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(w.t, err)
	require.True(w.t, strings.HasPrefix(back.String(), w.srv.URL+"/api-auth/"+slug+"/complete/"), back.String())
	require.NotEmpty(w.t, back.Query().Get("code"), back.String())
	return back
}

func me(t *testing.T, w *world, token string) map[string]any {
	t.Helper()
	code, out := w.do(http.MethodGet, "/api/users/me/", token, "")
	require.Equal(t, http.StatusOK, code, out)
	return out
}

// TestOIDCLogin: the whole login as a browser makes it (init, the
// provider's authorization, complete), the user created with the mapped
// attributes and updated by the next login, the token working on
// /api/users/me/; each forged or replayed answer refused with a 4xx,
// creating nothing; a disabled user refused; two providers at once.
func TestOIDCLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, db, "")
		kc := oidctest.New(t)
		kc.AddUser("alice", map[string]any{"given_name": "Alice", "family_name": "Liddell", "email": "alice@example.org",
			"schac_home_organization": "example.org", "voperson_external_affiliation": []string{"member@example.org", "staff@example.org"}})
		w.addProvider("keycloak", kc)
		kc.SignIn("alice")

		// An unknown provider, and the list as others see it.
		resp, _ := get(t, browser(false), w.srv.URL+"/api-auth/nowhere/init/")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		resp, list := get(t, http.DefaultClient, w.srv.URL+"/api/identity-providers/keycloak/")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "", list["client_secret"])

		// The full login, following every redirect.
		before := w.counts()
		resp, out := get(t, browser(true), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		token, _ := out["token"].(string)
		require.Len(t, token, 40)
		u := me(t, w, token)
		require.Equal(t, "alice", u["username"])
		require.Equal(t, "Alice", u["first_name"])
		require.Equal(t, "Liddell", u["last_name"])
		require.Equal(t, "alice@example.org", u["email"])
		require.Equal(t, "example.org", u["organization"])
		require.Equal(t, []any{"member@example.org", "staff@example.org"}, u["affiliations"])
		require.Equal(t, "keycloak", u["registration_method"])
		after := w.counts()
		require.Equal(t, before["users"]+1, after["users"])
		require.Zero(t, after["sessions"], "no session was asked for")
		require.Equal(t, 1, kc.Requests["/userinfo"])
		code, prov := w.do(http.MethodGet, "/api/identity-providers/keycloak/", w.staff, "")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, kc.Issuer+"/authorize", prov["auth_url"], "the discovered endpoints are recorded")

		// A later login updates the mapped attributes, same token.
		kc.AddUser("alice", map[string]any{"given_name": "Alice", "family_name": "Hargreaves", "email": "alice@example.com"})
		resp, out = get(t, browser(true), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		require.Equal(t, token, out["token"])
		u = me(t, w, token)
		require.Equal(t, "Hargreaves", u["last_name"])
		require.Equal(t, "alice@example.com", u["email"])
		require.Equal(t, []any{}, u["affiliations"])

		// Refusals: each a 4xx that changes no user and issues no token.
		refuse := func(name, detail string, tamper func(map[string]any), signWith *rsa.PrivateKey, forge func(*url.URL) *url.URL) {
			t.Helper()
			kc.Tamper, kc.SignWith = tamper, signWith
			defer func() { kc.Tamper, kc.SignWith = nil, nil }()
			kc.AddUser("mallory", map[string]any{"given_name": "Mallory"})
			kc.SignIn("mallory")
			defer kc.SignIn("alice")
			before := w.counts()
			c := browser(false)
			back := w.completeURL(c, "keycloak", "")
			if forge != nil {
				back = forge(back)
			}
			resp, out := get(t, c, back.String())
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
			require.Equal(t, detail, out["detail"], name)
			require.NotContains(t, out, "token", name)
			require.Equal(t, before, w.counts(), name)
		}
		const bad = "Keycloak error: ID token is not valid."
		refuse("wrong state", "Authentication request is unknown, expired or already used. Please log in again.", nil, nil, func(u *url.URL) *url.URL {
			q := u.Query()
			q.Set("state", "forged-state")
			u.RawQuery = q.Encode()
			return u
		})
		refuse("wrong nonce", bad, func(c map[string]any) { c["nonce"] = "another-nonce" }, nil, nil)
		refuse("expired ID token", bad, func(c map[string]any) {
			c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		}, nil, nil)
		refuse("wrong audience", bad, func(c map[string]any) { c["aud"] = "another-client" }, nil, nil)
		refuse("wrong issuer", bad, func(c map[string]any) { c["iss"] = "https://evil.example.org" }, nil, nil)
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		refuse("bad signature", bad, nil, other, nil)

		// A state is answered once: the same redirect replayed is refused.
		c := browser(false)
		back := w.completeURL(c, "keycloak", "")
		resp, out = get(t, c, back.String())
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		before = w.counts()
		resp, out = get(t, c, back.String())
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
		require.Equal(t, before, w.counts())

		// A disabled user is refused.
		require.NoError(t, db.Table("users").Where("username = ?", "alice").Update("is_active", false).Error)
		resp, out = get(t, browser(true), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
		require.Equal(t, "User account is disabled.", out["detail"])
		require.NoError(t, db.Table("users").Where("username = ?", "alice").Update("is_active", true).Error)

		// A second provider at once: its users are its own.
		edu := oidctest.New(t)
		edu.AddUser("bob@eduteams.org", map[string]any{"given_name": "Bob", "family_name": "Builder"})
		edu.AddUser("alice", map[string]any{"given_name": "Not Alice"})
		w.addProvider("eduteams", edu)
		edu.SignIn("bob@eduteams.org")
		resp, out = get(t, browser(true), w.srv.URL+"/api-auth/eduteams/init/")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		bob := me(t, w, out["token"].(string))
		require.Equal(t, "bob@eduteams.org", bob["username"])
		require.Equal(t, "eduteams", bob["registration_method"])
		resp, out = get(t, browser(true), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		require.Equal(t, "alice", me(t, w, out["token"].(string))["username"])
		// The other provider's "alice" is not keycloak's.
		edu.SignIn("alice")
		before = w.counts()
		resp, out = get(t, browser(true), w.srv.URL+"/api-auth/eduteams/init/")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
		require.Equal(t, "A user with this username exists and was not registered with Eduteams.", out["detail"])
		require.Equal(t, before, w.counts())
		code, all := w.do(http.MethodGet, "/api/identity-providers/", w.staff, "")
		require.Equal(t, http.StatusOK, code, all)
	})
}

// TestOIDCLoginCompletedRedirect: with the front end's URL configured the
// login ends with a redirect to it carrying the token and the method; a
// login asking for a session gets its cookies.
func TestOIDCLoginCompletedRedirect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, db, "https://portal.example.org/login_completed/{token}/{method}/")
		idp := oidctest.New(t)
		idp.AddUser("carol", map[string]any{"given_name": "Carol"})
		w.addProvider("tara", idp)
		idp.SignIn("carol")
		c := browser(false)
		back := w.completeURL(c, "tara", "?session=true")
		resp, _ := get(t, c, back.String())
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc := resp.Header.Get("Location")
		require.True(t, strings.HasPrefix(loc, "https://portal.example.org/login_completed/"), loc)
		require.True(t, strings.HasSuffix(loc, "/tara/"), loc)
		token := strings.TrimSuffix(strings.TrimPrefix(loc, "https://portal.example.org/login_completed/"), "/tara/")
		require.Equal(t, "carol", me(t, w, token)["username"])
		// The session's cookies work without the token.
		srvURL, _ := url.Parse(w.srv.URL)
		names := map[string]bool{}
		for _, ck := range c.Jar.Cookies(srvURL) {
			names[ck.Name] = true
		}
		require.True(t, names["sessionid"] && names["csrftoken"], names)
		resp, out := get(t, c, w.srv.URL+"/api/users/me/")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		require.Equal(t, "carol", out["username"])
	})
}

// TestIdentityProvidersAPI: staff configures providers (the secret kept
// when sent back masked, never rendered in full), discovers a provider's
// metadata and a suggested mapping; others may not write and see the
// active providers without credentials.
func TestIdentityProvidersAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, db, "")
		idp := oidctest.New(t)
		w.addProvider("keycloak", idp)

		code, out := w.do(http.MethodPost, "/api/identity-providers/", w.staff, `{"provider":"Bad Slug","label":"x"}`)
		require.Equal(t, http.StatusBadRequest, code, out)
		require.Contains(t, out, "provider")
		require.Contains(t, out, "client_id")
		require.Contains(t, out, "discovery_url")
		code, out = w.do(http.MethodPost, "/api/identity-providers/", w.staff,
			`{"provider":"keycloak","label":"x","client_id":"a","client_secret":"b","discovery_url":"https://x.example.org"}`)
		require.Equal(t, http.StatusBadRequest, code, out)
		code, out = w.do(http.MethodPost, "/api/identity-providers/", w.staff,
			`{"provider":"x","label":"x","client_id":"a","client_secret":"b","discovery_url":"https://x.example.org","attribute_mapping":{"shoe_size":"s"}}`)
		require.Equal(t, http.StatusBadRequest, code, out)

		code, out = w.do(http.MethodPatch, "/api/identity-providers/keycloak/", w.staff, `{"label":"University","client_secret":"********6789","is_active":false}`)
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, "University", out["label"])
		require.Equal(t, "********6789", out["client_secret"])
		var secret string
		require.NoError(t, db.Table("oidc_identity_providers").Where("provider = ?", "keycloak").Pluck("client_secret", &secret).Error)
		require.Equal(t, "secret-of-keycloak-0123456789", secret, "the masked value keeps the secret")

		// Inactive: hidden from others, its login 404.
		code, _ = w.do(http.MethodGet, "/api/identity-providers/keycloak/", "", "")
		require.Equal(t, http.StatusNotFound, code)
		resp, _ := get(t, browser(false), w.srv.URL+"/api-auth/keycloak/init/")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		code, _ = w.do(http.MethodPatch, "/api/identity-providers/keycloak/", w.staff, `{"is_active":true}`)
		require.Equal(t, http.StatusOK, code)

		// Not staff: no writes.
		ctx := context.Background()
		u := &models.User{Username: "user", IsActive: true}
		require.NoError(t, w.st.CreateUser(ctx, u, ""))
		tok, err := w.st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		code, _ = w.do(http.MethodPatch, "/api/identity-providers/keycloak/", tok.Key, `{"label":"x"}`)
		require.Equal(t, http.StatusForbidden, code)
		code, _ = w.do(http.MethodPost, "/api/identity-providers/discover_metadata/", tok.Key, `{"discovery_url":"`+idp.DiscoveryURL()+`"}`)
		require.Equal(t, http.StatusForbidden, code)
		code, out = w.do(http.MethodGet, "/api/identity-providers/keycloak/", tok.Key, "")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "", out["client_secret"])
		require.Equal(t, "", out["client_id"])

		code, out = w.do(http.MethodPost, "/api/identity-providers/discover_metadata/", w.staff, `{"discovery_url":"`+idp.DiscoveryURL()+`"}`)
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, idp.Issuer+"/token", out["endpoints"].(map[string]any)["token_endpoint"])
		require.Contains(t, out["claims_supported"], "given_name")
		require.Equal(t, []any{"email", "openid", "profile"}, out["suggested_scopes"])
		code, out = w.do(http.MethodPost, "/api/identity-providers/generate-mapping/", w.staff, `{"discovery_url":"`+idp.DiscoveryURL()+`"}`)
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, map[string]any{"first_name": "given_name", "last_name": "family_name", "email": "email",
			"organization": "schac_home_organization", "affiliations": "voperson_external_affiliation"}, out["attribute_mapping"])
		require.Equal(t, "email openid profile", out["extra_scope"])
		code, out = w.do(http.MethodPost, "/api/identity-providers/discover_metadata/", w.staff, `{"discovery_url":"http://127.0.0.1:1/.well-known/openid-configuration"}`)
		require.Equal(t, http.StatusBadRequest, code, out)

		code, _ = w.do(http.MethodDelete, "/api/identity-providers/keycloak/", w.staff, "")
		require.Equal(t, http.StatusNoContent, code)
		code, _ = w.do(http.MethodGet, "/api/identity-providers/keycloak/", w.staff, "")
		require.Equal(t, http.StatusNotFound, code)
	})
}
