package orders_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/api/orders"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/fake"
	"github.com/waldur-go/waldur/workflows"
)

// pulledOut is what these tests read back of a pulled resource.
type pulledOut struct {
	State           string         `json:"state"`
	ErrorMessage    string         `json:"error_message"`
	BackendMetadata map[string]any `json:"backend_metadata"`
	LastSync        *string        `json:"last_sync"`
}

func (e *env) awaitWorkflow(id string) error {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.tc.GetWorkflow(ctx, id, "").Get(ctx, nil)
}

func (e *env) resourceCount(scope models.Scope) int64 {
	e.t.Helper()
	qs, err := e.st.Quotas(context.Background(), scope)
	require.NoError(e.t, err)
	for _, q := range qs {
		if q.Name == models.QuotaResourceCount {
			return q.Usage
		}
	}
	return 0
}

// TestResourcePull: pull runs the provider's Pull through a workflow on
// its queue and records what it read; who sees the resource may ask; it is
// refused for a resource in a transitional state or of a type whose
// provider cannot pull; a failing backend marks the resource Erred, and a
// later good pull brings it back.
func TestResourcePull(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		a := e.mustOrder("owner", e.auto)
		require.NoError(t, e.awaitWorkflow(workflows.OrderWorkflowID(models.MustParseUUID(a.UUID))))
		rid := models.MustParseUUID(a.ResourceUUID)
		read := func() pulledOut {
			w := e.do(http.MethodGet, "/api/marketplace-resources/"+a.ResourceUUID+"/", "owner", nil)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			return decode[pulledOut](t, w)
		}
		require.Nil(t, read().LastSync, "never synced")

		require.Equal(t, http.StatusNotFound, e.do(http.MethodPost, "/api/marketplace-resources/"+a.ResourceUUID+"/pull/", "outsider", nil).Code)
		require.Equal(t, http.StatusNotFound, e.do(http.MethodPost, "/api/marketplace-provider-resources/"+a.ResourceUUID+"/pull/", "owner", nil).Code,
			"the consumer does not see it as a provider")
		for i, who := range []struct{ path, user string }{{"/api/marketplace-resources/", "member"}, {"/api/marketplace-provider-resources/", "provider"}} {
			w := e.do(http.MethodPost, who.path+a.ResourceUUID+"/pull/", who.user, nil)
			require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
			require.JSONEq(t, `{"detail":"`+orders.MsgPullScheduled+`"}`, w.Body.String())
			require.NoError(t, e.awaitWorkflow(workflows.ResourcePullWorkflowID(rid)))
			r := read()
			require.Equal(t, "OK", r.State)
			require.NotNil(t, r.LastSync)
			require.Equal(t, map[string]any{"backend_id": "fake-" + a.UUID[:12], "pulls": float64(i + 1)}, r.BackendMetadata)
		}

		// An Erred resource comes back to OK.
		require.NoError(t, db.Table("resources").Where("uuid = ?", rid).Updates(map[string]any{"state": "Erred", "error_message": "lost"}).Error)
		require.Equal(t, http.StatusAccepted, e.do(http.MethodPost, "/api/marketplace-resources/"+a.ResourceUUID+"/pull/", "owner", nil).Code)
		require.NoError(t, e.awaitWorkflow(workflows.ResourcePullWorkflowID(rid)))
		require.Equal(t, pulledOut{State: "OK"}, pulledOut{State: read().State, ErrorMessage: read().ErrorMessage})

		// Transitional states: 409, nothing started.
		require.NoError(t, db.Table("resources").Where("uuid = ?", rid).Update("state", "Updating").Error)
		w := e.do(http.MethodPost, "/api/marketplace-resources/"+a.ResourceUUID+"/pull/", "owner", nil)
		require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), "Valid states for operation: OK, Erred.")
		require.NoError(t, db.Table("resources").Where("uuid = ?", rid).Update("state", "OK").Error)

		// A Basic offering's provider does not pull.
		b := e.mustOrder("owner", e.basic)
		require.NoError(t, db.Table("resources").Where("uuid = ?", b.ResourceUUID).Update("state", "OK").Error)
		w = e.do(http.MethodPost, "/api/marketplace-resources/"+b.ResourceUUID+"/pull/", "owner", nil)
		require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), orders.MsgPullUnsupported)

		// A backend that refuses: the resource is Erred with the provider's message.
		broken := &fake.Provider{FailPermanently: true}
		queue := "q-" + models.NewUUID().String()[:8] + "-broken"
		e.reg.Register(broken, queue, "Test.Broken")
		wr := workflows.NewRegistry()
		wr.Add(queue, func(w worker.Registry) {
			workflows.RegisterProvision(w, &activities.Provision{Providers: e.reg, HeartbeatEvery: 100 * time.Millisecond})
		})
		ws, err := wr.Start(e.tc, []string{queue}, worker.Options{})
		require.NoError(t, err)
		t.Cleanup(ws.Stop)
		require.NoError(t, db.Exec("UPDATE offerings SET type = 'Test.Broken' WHERE id = (SELECT offering_id FROM resources WHERE uuid = ?)", rid).Error)
		require.Equal(t, http.StatusAccepted, e.do(http.MethodPost, "/api/marketplace-resources/"+a.ResourceUUID+"/pull/", "owner", nil).Code)
		require.NoError(t, e.awaitWorkflow(workflows.ResourcePullWorkflowID(rid)))
		r := read()
		require.Equal(t, "Erred", r.State)
		require.Equal(t, "fake: refused", r.ErrorMessage)
		require.Equal(t, []string{"pull " + a.ResourceUUID}, broken.Calls(), "a permanent refusal is not retried")
	})
}

// TestResourceUnlink: staff remove a resource stuck in a transitional
// state from the database: its order goes with it and its workflow is
// stopped, nc_resource_count is given back, the event is recorded; nobody
// else may.
func TestResourceUnlink(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		o := e.mustOrder("owner", e.basic) // waits for the provider: Creating
		before := e.resourceCount(e.project.Scope())
		require.EqualValues(t, 1, before)
		for _, tc := range []struct {
			path, user string
			code       int
		}{
			{"/api/marketplace-resources/", "outsider", 404}, {"/api/marketplace-resources/", "owner", 403},
			{"/api/marketplace-provider-resources/", "provider", 403}, {"/api/marketplace-resources/", "support", 403},
		} {
			w := e.do(http.MethodPost, tc.path+o.ResourceUUID+"/unlink/", tc.user, nil)
			require.Equal(t, tc.code, w.Code, "%s: %s", tc.user, w.Body.String())
		}
		w := e.do(http.MethodPost, "/api/marketplace-provider-resources/"+o.ResourceUUID+"/unlink/", "staff", nil)
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/api/marketplace-resources/"+o.ResourceUUID+"/", "staff", nil).Code)
		require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/api/marketplace-orders/"+o.UUID+"/", "staff", nil).Code)
		require.Zero(t, e.resourceCount(e.project.Scope()))
		require.Zero(t, e.resourceCount(e.customer.Scope()))
		require.Error(t, e.awaitWorkflow(workflows.OrderWorkflowID(models.MustParseUUID(o.UUID))), "the order's workflow is stopped")
		var n int64
		require.NoError(t, db.Table("events").Where("event_type = ?", "marketplace_resource_unlinked").Count(&n).Error)
		require.EqualValues(t, 1, n)
		require.Equal(t, http.StatusNotFound, e.do(http.MethodPost, "/api/marketplace-resources/"+o.ResourceUUID+"/unlink/", "staff", nil).Code)

		// A terminated resource gives nothing back twice.
		a := e.mustOrder("owner", e.auto)
		require.NoError(t, e.awaitWorkflow(workflows.OrderWorkflowID(models.MustParseUUID(a.UUID))))
		require.EqualValues(t, 1, e.resourceCount(e.project.Scope()))
		require.NoError(t, db.Table("resources").Where("uuid = ?", a.ResourceUUID).Update("state", "Terminated").Error)
		require.NoError(t, e.st.AddQuotaUsage(context.Background(), []models.QuotaDelta{
			{Scope: e.project.Scope(), Name: models.QuotaResourceCount, Delta: -1}, {Scope: e.customer.Scope(), Name: models.QuotaResourceCount, Delta: -1}}))
		require.Equal(t, http.StatusNoContent, e.do(http.MethodPost, "/api/marketplace-resources/"+a.ResourceUUID+"/unlink/", "staff", nil).Code)
		require.Zero(t, e.resourceCount(e.project.Scope()))
	})
}
