package stats_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/stats"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
	"github.com/waldur-go/waldur/workflows"
)

// env is the statistics module on the data set, with the clock at now.
type env struct {
	t  *testing.T
	db *gorm.DB
	st *store.Store
	h  http.Handler
}

func newEnv(t *testing.T, db *gorm.DB) *env {
	t.Helper()
	seed(t, db)
	st := store.New(db)
	st.Now = func() time.Time { return now }
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	chk.SetClock(func() time.Time { return now })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := api.New(api.Deps{DB: db, Users: st, Logger: log},
		stats.New(stats.Deps{Store: st, RBAC: chk, Now: func() time.Time { return now }})).Handler()
	return &env{t: t, db: db, st: st, h: h}
}

// get requests path as user ("" anonymous); a 200 is checked against the
// OpenAPI file.
func (e *env) get(user, path string) (int, []byte, http.Header) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if user != "" {
		req.Header.Set("Authorization", "Token "+token(user))
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	if w.Code == http.StatusOK {
		apitest.ValidateResponse(e.t, req, w)
	}
	return w.Code, w.Body.Bytes(), w.Header()
}

// dropEmptyDays removes the days without orders from an order_stats
// answer (the golden file lists the others), checking there is one entry
// per day of the range first.
func dropEmptyDays(t *testing.T, body []byte, days int) []byte {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(body, &v))
	daily := v["daily"].([]any)
	require.Len(t, daily, days)
	kept := []any{}
	for _, d := range daily {
		if d.(map[string]any)["total"].(float64) > 0 {
			kept = append(kept, d)
		}
	}
	v["daily"] = kept
	out, err := json.Marshal(v)
	require.NoError(t, err)
	return out
}

// dropEstimates removes billing_price_estimate from a provider's customers
// or projects (the invoices' own figures, tested with them), checking it
// is there.
func dropEstimates(t *testing.T, body []byte) []byte {
	t.Helper()
	var v []map[string]any
	require.NoError(t, json.Unmarshal(body, &v))
	for _, c := range v {
		e, ok := c["billing_price_estimate"].(map[string]any)
		require.True(t, ok, "%v", c)
		require.Len(t, e, 4)
		delete(c, "billing_price_estimate")
	}
	out, err := json.Marshal(v)
	require.NoError(t, err)
	return out
}

// TestGolden: every statistic on the data set equals the figures computed
// by hand in testdata/golden.json, and validates against the OpenAPI
// file, on both databases.
func TestGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden.json")
	require.NoError(t, err)
	var golden map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &golden))
	paths := make([]string, 0, len(golden))
	for p := range golden {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	days := map[string]int{ // the order_stats ranges, in days
		"/api/marketplace-stats/order_stats/":                                                                                31,
		"/api/marketplace-stats/order_stats/?customer_uuid=a2000000000000000000000000000000":                                 31,
		"/api/marketplace-stats/order_stats/?start=2026-01-01&end=2026-01-31&provider_uuid=c1000000000000000000000000000000": 31,
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		for _, p := range paths {
			code, body, _ := e.get("staff", p)
			require.Equal(t, http.StatusOK, code, "%s: %s", p, body)
			if n, ok := days[p]; ok {
				body = dropEmptyDays(t, body, n)
			}
			if (strings.Contains(p, "/customers/") || strings.Contains(p, "/projects/")) && strings.HasPrefix(p, "/api/marketplace-service-providers/") {
				body = dropEstimates(t, body)
			}
			require.JSONEq(t, string(golden[p]), string(body), p)
		}
	})
}

// TestAccess: the marketplace-stats actions and the quota lists are staff's
// and support's; the provider's figures also its organization's owner; a
// customer's or project's stats whoever sees it; daily quotas whoever sees
// the scope.
func TestAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		cases := []struct {
			path  string
			codes map[string]int
		}{
			{"/api/marketplace-stats/organization_project_count/", map[string]int{"": 401, "staff": 200, "support": 200, "alpha-owner": 403, "provider-owner": 403, "plain": 403}},
			{"/api/marketplace-stats/order_stats/", map[string]int{"support": 200, "alpha-owner": 403}},
			{"/api/marketplace-stats/provider_resources/?provider_uuid=" + sp1, map[string]int{"": 401, "staff": 200, "support": 200, "provider-owner": 200, "alpha-owner": 403, "plain": 403}},
			{"/api/marketplace-service-providers/" + sp1 + "/stat/", map[string]int{"staff": 200, "provider-owner": 200, "alpha-owner": 403}},
			{"/api/marketplace-service-providers/" + sp1 + "/revenue/", map[string]int{"support": 403, "provider-owner": 200, "plain": 403}},
			{"/api/marketplace-service-providers/c9000000000000000000000000000000/stat/", map[string]int{"staff": 404}},
			{"/api/marketplace-service-providers/" + sp1 + "/customers/", map[string]int{"staff": 200, "provider-owner": 200, "support": 403, "alpha-owner": 403}},
			{"/api/marketplace-service-providers/" + sp1 + "/users/", map[string]int{"provider-owner": 200, "plain": 403}},
			{"/api/marketplace-service-providers/" + sp1 + "/projects/", map[string]int{"provider-owner": 200, "beta-manager": 403, "support": 403}},
			{"/api/customers/" + alpha + "/stats/", map[string]int{"": 401, "staff": 200, "alpha-owner": 200, "beta-manager": 200, "provider-owner": 404, "plain": 404}},
			{"/api/projects/" + p3 + "/stats/", map[string]int{"beta-manager": 200, "alpha-owner": 404, "support": 200}},
			{"/api/daily-quotas/?scope=" + alpha, map[string]int{"alpha-owner": 200, "plain": 404, "support": 200}},
			{"/api/daily-quotas/?scope=" + p3, map[string]int{"beta-manager": 200, "alpha-owner": 404}},
			{"/api/customer-quotas/?quota_name=nc_project_count", map[string]int{"staff": 200, "support": 200, "alpha-owner": 403}},
			{"/api/project-quotas/?quota_name=nc_resource_count", map[string]int{"support": 200, "plain": 403}},
		}
		for _, c := range cases {
			for user, want := range c.codes {
				code, body, _ := e.get(user, c.path)
				require.Equal(t, want, code, "%s as %q: %s", c.path, user, body)
			}
		}
	})
}

// TestBadInput: malformed parameters are 400 field errors.
func TestBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		for path, field := range map[string]string{
			"/api/marketplace-stats/order_stats/?start=2026-13-01":                    "start",
			"/api/marketplace-stats/order_stats/?start=2026-03-10&end=2026-03-01":     "start",
			"/api/marketplace-stats/order_stats/?customer_uuid=nope":                  "customer_uuid",
			"/api/marketplace-stats/resource_provisioning_stats/?last_minutes=0":      "last_minutes",
			"/api/marketplace-stats/resources_missing_usage/?billing_period=2026-3-1": "billing_period",
			"/api/marketplace-stats/provider_offerings/":                              "provider_uuid",
			"/api/marketplace-stats/provider_customers/?provider_uuid=x":              "provider_uuid",
			"/api/customers/" + alpha + "/stats/?for_current_month=maybe":             "for_current_month",
			"/api/daily-quotas/": "scope",
			"/api/daily-quotas/?scope=" + alpha + "&end=yesterday": "end",
			"/api/customer-quotas/":                                "quota_name",
		} {
			code, body, _ := e.get("staff", path)
			require.Equal(t, http.StatusBadRequest, code, "%s: %s", path, body)
			var v map[string]any
			require.NoError(t, json.Unmarshal(body, &v), path)
			require.Contains(t, v, field, "%s: %s", path, body)
		}
	})
}

// TestPagination: the list actions page as Waldur's lists do.
func TestPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		code, body, h := e.get("staff", "/api/marketplace-stats/customer_member_count/?page=2&page_size=3")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "4", h.Get("X-Result-Count"))
		require.Contains(t, h.Get("Link"), `page=1&page_size=3>; rel="prev"`)
		require.NotContains(t, h.Get("Link"), `rel="next"`)
		require.True(t, strings.Contains(string(body), `"Provider"`) && !strings.Contains(string(body), `"Alpha"`), string(body))
		code, _, _ = e.get("staff", "/api/marketplace-stats/customer_member_count/?page=3&page_size=3")
		require.Equal(t, http.StatusNotFound, code)
	})
}

// TestDailySnapshot: the daily activity records every quota's usage for
// the day once (a second run overwrites it), and /api/daily-quotas/ shows it.
func TestDailySnapshot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		a := &stats.Activities{Store: e.st}
		n, err := a.SyncDailyQuotas(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 6, n)
		require.NoError(t, db.Exec(`UPDATE quotas SET usage = 6 WHERE scope_type = 'customer' AND scope_id = 1 AND name = 'nc_project_count'`).Error)
		_, err = a.SyncDailyQuotas(context.Background())
		require.NoError(t, err)
		var rows int64
		require.NoError(t, db.Table("daily_quotas").Count(&rows).Error)
		require.EqualValues(t, 4+6, rows, "one row per quota and day")
		code, body, _ := e.get("alpha-owner", "/api/daily-quotas/?scope="+alpha+"&quota_names=nc_project_count&start=2026-03-14&end=2026-03-15")
		require.Equal(t, http.StatusOK, code, string(body))
		require.JSONEq(t, `{"nc_project_count": [2, 6]}`, string(body))
		// The default names are the scope's quotas, the default range the last 30 days.
		code, body, _ = e.get("alpha-owner", "/api/daily-quotas/?scope="+alpha)
		require.Equal(t, http.StatusOK, code, string(body))
		var v map[string][]int64
		require.NoError(t, json.Unmarshal(body, &v))
		require.Len(t, v, 3)
		require.Len(t, v["nc_project_count"], 31)
		require.Equal(t, []int64{0, 1, 2, 6}, []int64{v["nc_project_count"][0], v["nc_project_count"][16], v["nc_project_count"][25], v["nc_project_count"][30]})
	})
}

// TestDailyQuotasWorkflow: the Schedule's workflow, run on a real Temporal
// server, records the day's snapshot through its activity.
func TestDailyQuotasWorkflow(t *testing.T) {
	ts := temporaltest.Start(t)
	tc := ts.Client(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db)
		queue := "stats-test-" + string(kind)
		r := workflows.NewRegistry()
		r.Add(queue, func(w worker.Registry) { stats.Register(w, &stats.Activities{Store: e.st}) })
		ws, err := r.Start(tc, []string{queue}, worker.Options{})
		require.NoError(t, err)
		defer ws.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, stats.DailyQuotas)
		require.NoError(t, err)
		require.NoError(t, run.Get(ctx, nil))
		var n int64
		require.NoError(t, db.Table("daily_quotas").Where("date = ?", dateValue(db, "2026-03-15")).Count(&n).Error)
		require.EqualValues(t, 6, n, "one row per quota for the day")
	})
}

// dateValue is a DATE column's value as the dialect compares it.
func dateValue(db *gorm.DB, s string) any {
	if db.Dialector.Name() == "postgres" {
		d, _ := time.Parse(time.DateOnly, s)
		return d
	}
	return s
}
