package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestRequestDeadline: a handler's context ends at the request deadline;
// work cut short by it is answered 503 "Request timed out." (not a 500).
func TestRequestDeadline(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	srv := api.New(api.Deps{DB: db, Users: store.New(db), RequestTimeout: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv.Engine().GET("/test/slow", api.H(func(c *gin.Context) error {
		select {
		case <-c.Request.Context().Done():
			return models.Internal(c.Request.Context().Err())
		case <-time.After(30 * time.Second): // a failure bound, not a wait
			return nil
		}
	}))
	srv.Engine().GET("/test/query", api.H(func(c *gin.Context) error {
		// A database call after the deadline fails with it.
		select {
		case <-c.Request.Context().Done():
		case <-time.After(30 * time.Second): // a failure bound, not a wait
		}
		var n int
		return db.WithContext(c.Request.Context()).Raw("SELECT 1").Scan(&n).Error
	}))
	for _, path := range []string{"/test/slow", "/test/query"} {
		start := time.Now()
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusServiceUnavailable, w.Code, path)
		var body map[string]string
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		require.Equal(t, "Request timed out.", body["detail"])
		require.Less(t, time.Since(start), 10*time.Second)
	}
}
