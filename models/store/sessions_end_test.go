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
	"github.com/waldur-go/waldur/models/store"
)

// TestSessionsEndWithDeactivation: a user deactivated by the identity
// bridge (the policy) or by a profile update loses their browser
// sessions; a password change ends them too; other users keep theirs.
func TestSessionsEndWithDeactivation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, _ := idtStore(db)
		sessions := func(userID int64) int64 {
			var n int64
			require.NoError(t, db.Table("sessions").Where("user_id = ?", userID).Count(&n).Error)
			return n
		}
		var ids []int64
		for _, u := range []string{"u1", "u2", "u3"} {
			p, err := st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: u, Source: "isd:fenix", Attributes: map[string]any{"first_name": "F"}}, nil)
			require.NoError(t, err)
			_, err = st.CreateSession(ctx, p.User.ID, "password", time.Hour)
			require.NoError(t, err)
			ids = append(ids, p.User.ID)
		}
		_, deactivated, err := st.RemoveBridgeUser(ctx, store.BridgeRemove{Username: "u1", Source: "isd:fenix", Policy: models.DeactivateOnAnyISDRemoved, ByStaff: true}, nil)
		require.NoError(t, err)
		require.True(t, deactivated)
		require.Zero(t, sessions(ids[0]))
		require.EqualValues(t, 1, sessions(ids[1]))

		require.NoError(t, st.SetPassword(ctx, ids[1], "Other-pass-2", "", &models.Event{EventType: "user_password_updated", Message: "x",
			Scopes: []models.Scope{{Type: models.ScopeUser, ID: ids[1]}}}))
		require.Zero(t, sessions(ids[1]))
		require.EqualValues(t, 1, sessions(ids[2]))

		require.NoError(t, st.UpdateUserProfile(ctx, ids[2], map[string]any{"first_name": "G"}, nil))
		require.EqualValues(t, 1, sessions(ids[2]), "another change keeps them")
		require.NoError(t, st.UpdateUserProfile(ctx, ids[2], map[string]any{"is_active": false}, nil))
		require.Zero(t, sessions(ids[2]))
	})
}
