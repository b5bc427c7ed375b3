package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

func TestMarkErredOnBackend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		m := seedMarket(t, db, models.OfferingActive)
		mk := func(state models.ResourceState) models.UUID {
			o, err := m.create(ctx)
			require.NoError(t, err)
			require.NoError(t, db.Exec("UPDATE resources SET state = ?, backend_id = 'i-x' WHERE id = ?", state, o.ResourceID).Error)
			var id string
			require.NoError(t, db.Raw("SELECT uuid FROM resources WHERE id = ?", o.ResourceID).Scan(&id).Error)
			u, err := models.ParseUUID(id)
			require.NoError(t, err)
			return u
		}
		later := time.Now().UTC().Add(time.Hour)
		cases := []struct {
			name   string
			state  models.ResourceState
			before time.Time
			code   models.Code // "" = marked
		}{
			{"OK and unchanged", models.ResourceOK, later, ""},
			{"being terminated", models.ResourceTerminating, later, models.CodeConflict},
			{"changed after the listing", models.ResourceOK, time.Now().UTC().Add(-time.Hour), models.CodeConflict},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				id := mk(tc.state)
				count := func() (n int64) {
					require.NoError(t, db.Table("events").Where("event_type = ?", "marketplace_resource_erred_on_backend").Count(&n).Error)
					return n
				}
				before := count()
				err := m.st.MarkErredOnBackend(ctx, id, tc.before, "Instance i-x no longer exists on the backend.")
				events := count() - before
				var got struct {
					State        models.ResourceState
					ErrorMessage string
				}
				require.NoError(t, db.Raw("SELECT state, error_message FROM resources WHERE uuid = ?", id.String()).Scan(&got).Error)
				if tc.code != "" {
					require.Equal(t, tc.code, models.ErrorCode(err))
					require.Equal(t, tc.state, got.State)
					require.Zero(t, events)
					return
				}
				require.NoError(t, err)
				require.Equal(t, models.ResourceErred, got.State)
				require.Equal(t, "Instance i-x no longer exists on the backend.", got.ErrorMessage)
				require.EqualValues(t, 1, events)
			})
		}
		require.Equal(t, models.CodeNotFound, models.ErrorCode(m.st.MarkErredOnBackend(ctx, models.NewUUID(), later, "x")))
	})
}
