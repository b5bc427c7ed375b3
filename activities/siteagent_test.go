package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestDisconnectStaleIntegrations: statuses silent for longer than the
// timeout become Disconnected, the others stay Active, and a second run
// changes nothing.
func TestDisconnectStaleIntegrations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		st := store.New(db)
		created := now.Add(-24 * time.Hour)
		var cust, cat int64
		require.NoError(t, db.Raw(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) VALUES (?, 'P', ?, ?, ?) RETURNING id`,
			models.NewUUID(), created, created, created).Scan(&cust).Error)
		require.NoError(t, db.Raw(`INSERT INTO categories (uuid, title, created, modified) VALUES (?, 'HPC', ?, ?) RETURNING id`,
			models.NewUUID(), created, created).Scan(&cat).Error)
		offering := func() int64 {
			var id int64
			require.NoError(t, db.Raw(`INSERT INTO offerings (uuid, name, customer_id, category_id, type, state, created, modified)
				VALUES (?, 'O', ?, ?, 'Marketplace.Slurm', 'Active', ?, ?) RETURNING id`, models.NewUUID(), cust, cat, created, created).Scan(&id).Error)
			return id
		}
		quiet, busy, edge := offering(), offering(), offering()
		require.NoError(t, st.TouchIntegrationStatus(ctx, quiet, models.AgentOrderProcessing, "a", now.Add(-61*time.Minute)))
		require.NoError(t, st.TouchIntegrationStatus(ctx, quiet, models.AgentUsageReporting, "a", now.Add(-3*time.Hour)))
		require.NoError(t, st.TouchIntegrationStatus(ctx, busy, models.AgentOrderProcessing, "a", now.Add(-5*time.Minute)))
		require.NoError(t, st.TouchIntegrationStatus(ctx, edge, models.AgentOrderProcessing, "a", now.Add(-time.Hour)))

		a := &activities.SiteAgent{Store: st, Now: func() time.Time { return now }}
		n, err := a.DisconnectStaleIntegrations(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		statuses, err := st.IntegrationStatusesOf(ctx, []int64{quiet, busy, edge})
		require.NoError(t, err)
		for _, s := range statuses[quiet] {
			require.Equal(t, models.IntegrationDisconnected, s.Status, s.AgentType)
		}
		require.Equal(t, models.IntegrationActive, statuses[busy][0].Status)
		require.Equal(t, models.IntegrationActive, statuses[edge][0].Status, "exactly the timeout is not yet stale")
		n, err = a.DisconnectStaleIntegrations(ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		// A shorter timeout catches the busy one too.
		a.Timeout = time.Minute
		n, err = a.DisconnectStaleIntegrations(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
	})
}
