package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models/store"
)

// TestCORS: a listed origin's preflight is answered before authentication,
// and its requests (errors too) carry the headers a browser needs to read
// them; another origin gets none, and without a list no answer has any.
func TestCORS(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	const portal = "https://portal.example.org"
	srv := api.New(api.Deps{DB: db, Users: store.New(db), Logger: quiet, CORSOrigins: []string{portal}})
	do := func(s *api.Server, method, path, origin string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		return w
	}
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}

	w := do(srv, http.MethodOptions, "/api/marketplace-orders/", portal, preflight)
	require.Equal(t, http.StatusNoContent, w.Code)
	require.Equal(t, portal, w.Header().Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", w.Header().Get("Access-Control-Allow-Credentials"))
	require.Contains(t, w.Header().Get("Access-Control-Allow-Methods"), "POST")
	require.Contains(t, w.Header().Get("Access-Control-Allow-Headers"), "Authorization")

	// A request with a wrong token is refused, readably.
	w = do(srv, http.MethodGet, "/api/users/me/", portal, map[string]string{"Authorization": "Token nope"})
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.Equal(t, portal, w.Header().Get("Access-Control-Allow-Origin"))
	require.Contains(t, w.Header().Get("Access-Control-Expose-Headers"), "X-Result-Count")

	w = do(srv, http.MethodGet, "/health-check/", portal, nil) // 503 here: no Temporal
	require.Equal(t, portal, w.Header().Get("Access-Control-Allow-Origin"))

	// Another origin: refused preflight, no headers on requests.
	w = do(srv, http.MethodOptions, "/api/marketplace-orders/", "https://evil.example", preflight)
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
	w = do(srv, http.MethodGet, "/health-check/", "https://evil.example", nil)
	require.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))

	// The API's own origin (a browser sends Origin on same-origin POSTs) is
	// not refused.
	w = do(srv, http.MethodGet, "/api/users/me/", "http://example.com", map[string]string{"Authorization": "Token nope"})
	require.Equal(t, http.StatusUnauthorized, w.Code)

	// No list: no cross-origin headers at all.
	plain := api.New(api.Deps{DB: db, Users: store.New(db), Logger: quiet})
	w = do(plain, http.MethodGet, "/api/users/me/", portal, map[string]string{"Authorization": "Token nope"})
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))

	// "*": any origin, without credentials.
	anyOrigin := api.New(api.Deps{DB: db, Users: store.New(db), Logger: quiet, CORSOrigins: []string{"*"}})
	w = do(anyOrigin, http.MethodOptions, "/api/marketplace-orders/", "https://elsewhere.example", preflight)
	require.Equal(t, http.StatusNoContent, w.Code)
	require.Equal(t, "*", w.Header().Get("Access-Control-Allow-Origin"))
	require.Empty(t, w.Header().Get("Access-Control-Allow-Credentials"))
}
