package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// limitsAPI is the whole API over db with a staff user's token.
func limitsAPI(t *testing.T, db *gorm.DB) (http.Handler, string) {
	t.Helper()
	srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
	require.NoError(t, err)
	tok, err := app.CreateUser(context.Background(), store.New(db), &models.User{Username: "root", IsStaff: true}, "root-pass1")
	require.NoError(t, err)
	return srv.Handler(), tok.Key
}

// TestBodyLimitEverywhere: a body over the limit is 413 on every endpoint
// (login, customers, web hooks, …), whether its length is declared or it
// comes chunked; a body at the limit is not refused for its size.
func TestBodyLimitEverywhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		h, token := limitsAPI(t, db)
		big := `{"name": "` + strings.Repeat("x", form.MaxBody) + `"}`
		send := func(path, body string, chunked bool) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			if chunked {
				req.Body = io.NopCloser(strings.NewReader(body)) // no length: read until the end
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Token "+token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			return w
		}
		for _, path := range []string{"/api-auth/password/", "/api/customers/", "/api/hooks-web/", "/api/projects/", "/api/keys/"} {
			for _, chunked := range []bool{false, true} {
				w := send(path, big, chunked)
				require.Equal(t, http.StatusRequestEntityTooLarge, w.Code, "%s chunked=%v: %s", path, chunked, w.Body.String()[:min(200, w.Body.Len())])
				var body map[string]any
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
				require.Equal(t, "Request body is too large.", body["detail"])
			}
		}
		head, tail := `{"username": "a", "password": "`, `"}`
		atLimit := head + strings.Repeat("x", form.MaxBody-len(head)-len(tail)) + tail
		require.Equal(t, form.MaxBody, len(atLimit))
		for _, chunked := range []bool{false, true} {
			w := send("/api-auth/password/", atLimit, chunked)
			require.Equal(t, http.StatusBadRequest, w.Code, "a password too long, not a body too large")
		}
	})
}

// TestLinkHeaderDropsAuthToken: a list authenticated with ?x-auth-token=
// keeps its other parameters in the Link URLs, never the token.
func TestLinkHeaderDropsAuthToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		h, token := limitsAPI(t, db)
		for _, name := range []string{"One", "Two", "Three"} {
			raw, _ := json.Marshal(map[string]any{"name": name})
			req := httptest.NewRequest(http.MethodPost, "/api/customers/", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Token "+token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		}
		for _, key := range []string{"x-auth-token", "X-Auth-Token"} {
			req := httptest.NewRequest(http.MethodGet, "/api/customers/?page_size=1&page=2&o=name&"+key+"="+token+"&x-auth-token="+token, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			link := w.Header().Get("Link")
			require.Contains(t, link, `rel="next"`)
			require.Contains(t, link, "o=name")
			require.Contains(t, link, "page_size=1")
			require.NotContains(t, link, token)
			require.NotContains(t, strings.ToLower(link), "x-auth-token")
		}
	})
}
