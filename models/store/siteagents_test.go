package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func TestAgentIdentityServicesProcessors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedAgentWorld(t, db, `{}`, 0)
		ctx := context.Background()
		clock := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		w.st.Now = func() time.Time { return clock }

		a := &store.AgentIdentity{OfferingID: w.offering.ID, Name: "agent-" + w.offering.UUID.String(), Version: "0.7.0",
			Dependencies: store.JSONValue(`[{"package":"waldur-site-agent-slurm","version":"0.7.0"}]`)}
		require.NoError(t, w.st.SaveAgentIdentity(ctx, a))
		require.False(t, a.UUID.IsZero())
		require.Equal(t, clock, *a.LastRestarted, "last_restarted defaults to now")
		err := w.st.SaveAgentIdentity(ctx, &store.AgentIdentity{OfferingID: w.offering.ID, Name: a.Name})
		require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)

		v, err := w.st.AgentIdentityByUUID(ctx, a.UUID)
		require.NoError(t, err)
		require.Equal(t, w.offering.UUID, v.OfferingUUID)
		require.Equal(t, w.offering.CustomerID, v.OfferingCustomerID)
		require.JSONEq(t, `[{"package":"waldur-site-agent-slurm","version":"0.7.0"}]`, string(v.Dependencies))

		// An update keeps the name (unique against others only) and the UUID.
		clock = clock.Add(time.Hour)
		restarted := clock.Add(-time.Minute)
		upd := v.AgentIdentity
		upd.Version, upd.LastRestarted, upd.Dependencies = "0.8.0", &restarted, nil
		require.NoError(t, w.st.SaveAgentIdentity(ctx, &upd))
		v, err = w.st.AgentIdentityByUUID(ctx, a.UUID)
		require.NoError(t, err)
		require.Equal(t, "0.8.0", v.Version)
		require.Equal(t, restarted, v.LastRestarted.UTC())
		require.Equal(t, clock, v.Modified.UTC())
		require.Nil(t, v.Dependencies)

		// Services: created once, then returned (mode refreshed, Active again).
		s1, created, err := w.st.RegisterAgentService(ctx, a.ID, "order_process", "order_process")
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, models.AgentServiceActive, s1.State)
		require.NoError(t, db.Model(&store.AgentService{}).Where("id = ?", s1.ID).Update("state", models.AgentServiceIdle).Error)
		s2, created, err := w.st.RegisterAgentService(ctx, a.ID, "order_process", "order_process_v2")
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, s1.UUID, s2.UUID)
		require.Equal(t, "order_process_v2", s2.Mode)
		require.Equal(t, models.AgentServiceActive, s2.State)

		// Concurrent registrations of one name make one service.
		var wg sync.WaitGroup
		ids := make([]models.UUID, 10)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, _, err := w.st.RegisterAgentService(ctx, a.ID, "report", "report")
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = s.UUID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			require.Equal(t, ids[0], id)
		}
		svcs, err := w.st.AgentServicesOf(ctx, []int64{a.ID})
		require.NoError(t, err)
		require.Len(t, svcs[a.ID], 2)
		require.Equal(t, []string{"order_process", "report"}, []string{svcs[a.ID][0].Name, svcs[a.ID][1].Name})

		sv, err := w.st.AgentServiceByUUID(ctx, s1.UUID)
		require.NoError(t, err)
		require.Equal(t, a.UUID, sv.IdentityUUID)
		require.Equal(t, a.Name, sv.IdentityName)
		require.Equal(t, w.offering.ID, sv.OfferingID)
		require.NoError(t, w.st.SetAgentServiceStatistics(ctx, s1.ID, store.JSONValue(`{"orders":3}`)))
		sv, err = w.st.AgentServiceByUUID(ctx, s1.UUID)
		require.NoError(t, err)
		require.JSONEq(t, `{"orders":3}`, string(sv.Statistics))

		// Processors: created, then refreshed with the new version and run time.
		p1, created, err := w.st.RegisterAgentProcessor(ctx, s1.ID, "OfferingOrderProcessor", "SLURM", "23.02")
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, clock, *p1.LastRun)
		clock = clock.Add(5 * time.Minute)
		p2, created, err := w.st.RegisterAgentProcessor(ctx, s1.ID, "OfferingOrderProcessor", "SLURM", "24.05")
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, p1.UUID, p2.UUID)
		require.Equal(t, "24.05", p2.BackendVersion)
		require.Equal(t, clock, *p2.LastRun)
		pv, err := w.st.AgentProcessorByUUID(ctx, p1.UUID)
		require.NoError(t, err)
		require.Equal(t, s1.UUID, pv.ServiceUUID)
		require.Equal(t, "order_process", pv.ServiceName)
		require.Equal(t, "24.05", pv.BackendVersion)
		require.Equal(t, clock, pv.LastRun.UTC())

		// Deleting the identity takes its services and processors with it.
		require.NoError(t, w.st.DeleteAgentIdentity(ctx, a.ID))
		_, err = w.st.AgentServiceByUUID(ctx, s1.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound))
		_, err = w.st.AgentProcessorByUUID(ctx, p1.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound))
	})
}

func TestIntegrationStatusLiveness(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedAgentWorld(t, db, `{}`, 0)
		ctx := context.Background()
		t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		require.NoError(t, w.st.TouchIntegrationStatus(ctx, w.offering.ID, models.AgentOrderProcessing, "waldur-site-agent-order-process/0.7.0", t0))
		require.NoError(t, w.st.TouchIntegrationStatus(ctx, w.offering.ID, models.AgentUsageReporting, "waldur-site-agent-report/0.7.0", t0))
		// A later request moves the timestamp; the row stays one per type.
		require.NoError(t, w.st.TouchIntegrationStatus(ctx, w.offering.ID, models.AgentOrderProcessing, "waldur-site-agent-order-process/0.7.1", t0.Add(50*time.Minute)))

		get := func() map[models.AgentType]store.IntegrationStatus {
			m, err := w.st.IntegrationStatusesOf(ctx, []int64{w.offering.ID})
			require.NoError(t, err)
			out := map[models.AgentType]store.IntegrationStatus{}
			for _, s := range m[w.offering.ID] {
				out[s.AgentType] = s
			}
			return out
		}
		st := get()
		require.Len(t, st, 2)
		require.Equal(t, models.IntegrationActive, st[models.AgentOrderProcessing].Status)
		require.Equal(t, t0.Add(50*time.Minute), st[models.AgentOrderProcessing].LastRequestTimestamp.UTC())
		require.Equal(t, "waldur-site-agent-order-process/0.7.1", st[models.AgentOrderProcessing].ServiceName)

		// A cut-off after the report request and before the last order request: only usage reporting is stale.
		n, err := w.st.DisconnectStaleIntegrations(ctx, t0.Add(time.Minute))
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		st = get()
		require.Equal(t, models.IntegrationDisconnected, st[models.AgentUsageReporting].Status)
		require.Equal(t, models.IntegrationActive, st[models.AgentOrderProcessing].Status)
		n, err = w.st.DisconnectStaleIntegrations(ctx, t0.Add(time.Minute))
		require.NoError(t, err)
		require.Zero(t, n, "idempotent")

		// The agent coming back makes it Active again.
		require.NoError(t, w.st.TouchIntegrationStatus(ctx, w.offering.ID, models.AgentUsageReporting, "waldur-site-agent-report/0.7.0", t0.Add(2*time.Hour)))
		require.Equal(t, models.IntegrationActive, get()[models.AgentUsageReporting].Status)
	})
}
