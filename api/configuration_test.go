package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// configurationServer is the API with the identity module (where logins
// are served), built from deps on a migrated SQLite database.
func configurationServer(t *testing.T, deps api.Deps) (*api.Server, *store.Store) {
	t.Helper()
	db := dbtest.Migrated(t, config.SQLite)
	st := store.New(db)
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	deps.DB, deps.Users = db, st
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return api.New(deps, identity.New(identity.Deps{Store: st, RBAC: chk})), st
}

func serveConfig(srv *api.Server, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, r)
	return w
}

// getConfiguration asks /api/configuration/ (anonymously unless hdr says
// otherwise), checks the answer against Waldur's OpenAPI operation and
// decodes it.
func getConfiguration(t *testing.T, srv *api.Server, hdr map[string]string) map[string]any {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/configuration/", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	apitest.ValidateResponse(t, req, w)
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	return body
}

// loginRoutes are the login of each of Waldur's authentication methods:
// a method is in AUTHENTICATION_METHODS exactly when its login is served.
var loginRoutes = map[string][2]string{
	"LOCAL_SIGNIN":  {http.MethodPost, "/api-auth/password/"},
	"SAML2":         {http.MethodPost, "/api-auth/saml2/login/"},
	"SOCIAL_SIGNUP": {http.MethodPost, "/api-auth/keycloak/"},
	"VALIMO":        {http.MethodPost, "/api-auth/valimo/"},
}

// TestConfiguration: anyone gets the whole public configuration (every
// section, the feature flags, the languages, the public Constance settings
// at their defaults), valid against Waldur's OpenAPI operation, and true of
// this server: its sign-in methods, token lifetime and languages.
func TestConfiguration(t *testing.T) {
	srv, st := configurationServer(t, api.Deps{Namespace: "ns-test"})

	body := getConfiguration(t, srv, nil)

	t.Run("sections", func(t *testing.T) {
		for _, key := range []string{
			"WALDUR_CORE", "WALDUR_AUTH_SOCIAL", "WALDUR_AUTH_SAML2", "WALDUR_MARKETPLACE", "WALDUR_HPC",
			"WALDUR_FREEIPA", "WALDUR_SLURM", "WALDUR_PID", "WALDUR_OPENSTACK", "WALDUR_OPENSTACK_TENANT",
			"WALDUR_OPENPORTAL", "WALDUR_INVOICES", "WALDUR_SUPPORT", "LANGUAGES", "LANGUAGE_CODE", "FEATURES",
			"version", "temporal_namespace",
		} {
			require.Contains(t, body, key)
			if strings.HasPrefix(key, "WALDUR_") {
				require.IsType(t, map[string]any{}, body[key], key)
			}
		}
		require.Equal(t, "ns-test", body["temporal_namespace"])
		require.NotEmpty(t, body["version"])
		support := body["WALDUR_SUPPORT"].(map[string]any)
		require.Equal(t, false, support["ENABLED"], "no support desk is served")
		require.Equal(t, "atlassian", support["ACTIVE_BACKEND_TYPE"])
	})

	core := body["WALDUR_CORE"].(map[string]any)

	t.Run("authentication methods are what the server serves", func(t *testing.T) {
		var methods []string
		for _, m := range core["AUTHENTICATION_METHODS"].([]any) {
			methods = append(methods, m.(string))
		}
		require.Equal(t, api.AuthenticationMethods, methods)
		require.Equal(t, []string{"LOCAL_SIGNIN"}, methods)
		for method, route := range loginRoutes {
			w := serveConfig(srv, route[0], route[1], map[string]string{"Content-Type": "application/json"})
			served := w.Code != http.StatusNotFound
			require.Equal(t, served, slices.Contains(methods, method), "%s: %s %s answers %d", method, route[0], route[1], w.Code)
		}
		require.Equal(t, "x-auth-token", core["TOKEN_KEY"])
		require.EqualValues(t, models.DefaultTokenLifetime, core["TOKEN_LIFETIME"])
	})

	t.Run("languages", func(t *testing.T) {
		langs := body["LANGUAGES"].([]any)
		require.Len(t, langs, len(models.DescriptionLanguages))
		for i, l := range langs {
			pair := l.([]any)
			require.Len(t, pair, 2)
			require.Equal(t, models.DescriptionLanguages[i], pair[0])
			require.NotEmpty(t, pair[1])
			require.NotEqual(t, pair[0], pair[1], "a language has a name")
		}
		require.Equal(t, "en", body["LANGUAGE_CODE"])
		require.Equal(t, strings.Join(models.DescriptionLanguages, ","), core["LANGUAGE_CHOICES"])
	})

	t.Run("feature flags", func(t *testing.T) {
		features := body["FEATURES"].(map[string]any)
		seen := map[string]bool{}
		n := 0
		for _, sec := range api.FeatureSections {
			flags, ok := features[sec.Key].(map[string]any)
			require.True(t, ok, sec.Key)
			require.Len(t, flags, len(sec.Features), "%s: a flag twice?", sec.Key)
			for _, f := range sec.Features {
				name := sec.Key + "." + f.Key
				require.False(t, seen[name], name)
				seen[name] = true
				require.Equal(t, false, flags[f.Key], "%s is off by default", name)
				require.True(t, api.KnownFeature(name))
				n++
			}
		}
		require.Len(t, features, len(api.FeatureSections))
		require.Greater(t, n, 50)
		require.True(t, api.KnownFeature("marketplace.show_experimental_ui_components"))
		require.False(t, api.KnownFeature("marketplace.nope"))
		require.False(t, api.KnownFeature("show_experimental_ui_components"))
	})

	t.Run("constance settings match ConstanceSettings", func(t *testing.T) {
		// The public Constance settings are properties of ConstanceSettings
		// (GET /api/override-settings/); checked against it, with their types,
		// enums and patterns. WALDUR_SUPPORT holds WALDUR_SUPPORT_<key>.
		rs, found, err := apitest.Response(http.MethodGet, "/api/override-settings/", http.StatusOK)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, "ConstanceSettings", rs.Name)
		subset := map[string]any{}
		for _, p := range rs.Properties {
			if v, ok := core[p]; ok {
				subset[p] = v
			}
		}
		for k, v := range body["WALDUR_SUPPORT"].(map[string]any) {
			require.Contains(t, rs.Properties, "WALDUR_SUPPORT_"+k)
			subset["WALDUR_SUPPORT_"+k] = v
		}
		require.Greater(t, len(subset), 55, "the public Constance settings are in WALDUR_CORE")
		for _, k := range []string{"SITE_NAME", "SITE_DESCRIPTION", "HOMEPORT_URL", "BRAND_COLOR", "LOGIN_PAGE_LAYOUT"} {
			require.Contains(t, subset, k)
		}
		raw, err := json.Marshal(subset)
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodGet, "/api/override-settings/", nil)
		hdr := http.Header{"Content-Type": []string{"application/json"}}
		require.NoError(t, apitest.Check(req, http.StatusOK, hdr, raw))
		require.Equal(t, "Waldur", core["SITE_NAME"])
		require.Equal(t, "EUR", core["CURRENCY_NAME"])
	})

	t.Run("anonymous and signed-in callers get the same answer", func(t *testing.T) {
		u := models.User{Username: "conf-user", IsActive: true}
		require.NoError(t, st.CreateUser(t.Context(), &u, "secret-pass"))
		tok, err := st.EnsureToken(t.Context(), u.ID)
		require.NoError(t, err)
		require.Equal(t, body, getConfiguration(t, srv, map[string]string{"Authorization": "Token " + tok.Key}))
		w := serveConfig(srv, http.MethodGet, "/api/configuration/", map[string]string{"Authorization": "Token nope"})
		require.Equal(t, http.StatusUnauthorized, w.Code, "a bad token is refused, as everywhere")
	})
}

// TestConfigurationEnvironment: WALDUR_SITE_NAME and WALDUR_FEATURES, read
// as the process reads them, show up in the answer; a malformed flag is a
// configuration error, an unknown one is warned about and ignored.
func TestConfigurationEnvironment(t *testing.T) {
	t.Setenv(config.EnvSiteName, "Example Research Cloud")
	t.Setenv(config.EnvFeatures, "user.ssh_keys, marketplace.conceal_prices,customer.no_such_flag")
	cfg := config.FromEnv()
	require.NoError(t, cfg.Validate())
	var logs bytes.Buffer
	srv, _ := configurationServer(t, api.Deps{SiteName: cfg.SiteName, Features: cfg.Features,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.Contains(t, logs.String(), "customer.no_such_flag")

	body := getConfiguration(t, srv, nil)
	require.Equal(t, "Example Research Cloud", body["WALDUR_CORE"].(map[string]any)["SITE_NAME"])
	features := body["FEATURES"].(map[string]any)
	var on []string
	for section, flags := range features {
		for key, v := range flags.(map[string]any) {
			if v == true {
				on = append(on, section+"."+key)
			}
		}
	}
	sort.Strings(on)
	require.Equal(t, []string{"marketplace.conceal_prices", "user.ssh_keys"}, on)
	require.NotContains(t, features["customer"], "no_such_flag")

	t.Setenv(config.EnvFeatures, "ssh_keys")
	require.ErrorContains(t, config.FromEnv().Validate(), config.EnvFeatures)
}

// secretKey names what may hold a secret: a password, secret, private key,
// API key, token or credential (TOKEN_KEY, the header's name, and
// TOKEN_LIFETIME, a duration, are not).
var (
	secretKey    = regexp.MustCompile(`(?i)PASSWORD|SECRET|PRIVATE_KEY|API_KEY|ACCESS_KEY|TOKEN|CREDENTIAL|SALT|_DSN$|^DSN$`)
	notSecretKey = map[string]bool{"TOKEN_KEY": true, "TOKEN_LIFETIME": true}
)

// secrets lists the keys, at any depth, that look like a secret and carry
// a value (a switch, true or false, carries none).
func secrets(path string, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			p := path + "." + k
			if secretKey.MatchString(k) && !notSecretKey[k] && !empty(sub) {
				out = append(out, fmt.Sprintf("%s = %v", p, sub))
			}
			out = append(out, secrets(p, sub)...)
		}
	case []any:
		for i, sub := range v {
			out = append(out, secrets(fmt.Sprintf("%s[%d]", path, i), sub)...)
		}
	}
	return out
}

func empty(v any) bool {
	switch v := v.(type) {
	case nil, bool:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// TestConfigurationHasNoSecrets: no key of the answer that looks like a
// secret carries a value, however the server is configured.
func TestConfigurationHasNoSecrets(t *testing.T) {
	// The check itself finds a secret at any depth.
	require.Len(t, secrets("", map[string]any{"A": map[string]any{"B": []any{map[string]any{"SMTP_PASSWORD": "hunter2"}}},
		"CLIENT_SECRET": "x", "TOKEN_LIFETIME": 3600, "OIDC_ACCESS_TOKEN_ENABLED": true, "ATLASSIAN_TOKEN": ""}), 2)

	t.Setenv(config.EnvSMTPPassword, "smtp-hunter2")
	t.Setenv(config.EnvAdminPassword, "admin-hunter2")
	cfg := config.FromEnv()
	srv, _ := configurationServer(t, api.Deps{SiteName: cfg.SiteName, Features: cfg.Features})
	req := httptest.NewRequest(http.MethodGet, "/api/configuration/", nil)
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code)
	require.NotContains(t, w.Body.String(), "hunter2")
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	require.Empty(t, secrets("", body))
}
