package openstack_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

// getUnchecked is env.get without the contract check: Waldur's OpenAPI
// file types usage_stats as one OpenStackFlavor (OpenStackImage) object,
// a drf-spectacular default, while Waldur answers a list of
// {name, running_instances_count, created_instances_count} (its
// OpenStackUsageStatsResponse in the generated clients), as we do.
func (e *env) getUnchecked(path, user string, want int, out any) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if tok, ok := e.toks[user]; ok {
		req.Header.Set("Authorization", "Token "+tok)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	require.Equal(e.t, want, w.Code, "GET %s as %s: %s", path, user, w.Body.String())
	if out != nil {
		require.NoError(e.t, json.Unmarshal(w.Body.Bytes(), out))
	}
}

// TestUsageStats: the instances per flavor and image name the caller sees,
// and the distinct volume type names.
func TestUsageStats(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		var stats []map[string]any
		e.getUnchecked("/api/openstack-flavors/usage_stats/", "member", 200, &stats)
		require.Equal(t, []map[string]any{{"name": "m1.small", "running_instances_count": 1.0, "created_instances_count": 1.0}}, stats)
		e.getUnchecked("/api/openstack-flavors/usage_stats/", "plain", 200, &stats)
		require.Empty(t, stats)
		e.getUnchecked("/api/openstack-flavors/usage_stats/", "anonymous", 401, nil)
		e.getUnchecked("/api/openstack-flavors/usage_stats/?settings_uuid="+models.NewUUID().String(), "staff", 200, &stats)
		require.Empty(t, stats)

		e.getUnchecked("/api/openstack-images/usage_stats/", "owner", 200, &stats)
		require.Len(t, stats, 1)
		require.Equal(t, "cirros", stats[0]["name"])

		var names []string
		e.get("/api/openstack-volume-types/names/", "member", 200, &names)
		require.Equal(t, []string{"ssd"}, names)
		e.get("/api/openstack-volume-types/names/", "plain", 200, &names)
		require.Equal(t, []string{}, names)
		// the /:uuid/ routes still answer
		e.get("/api/openstack-volume-types/"+e.ids["vt"].String()+"/", "member", 200, nil)
	})
}
