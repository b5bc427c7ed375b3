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

// TestRevokeExpiredRolesDrainsEveryBatch: more expired grants than the
// store revokes per call (1000) are all revoked by one activity run, and a
// second run finds nothing.
func TestRevokeExpiredRolesDrainsEveryBatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		st := store.New(db)
		st.Now = func() time.Time { return now }
		u := &models.User{Username: "many", IsActive: true}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		role, err := st.RoleByName(ctx, models.RoleOfferingManager)
		require.NoError(t, err)
		const n = 1003
		rows := make([]map[string]any, n)
		past := now.Add(-time.Minute)
		for i := range rows {
			rows[i] = map[string]any{"uuid": models.NewUUID(), "user_id": u.ID, "role_id": role.ID, "scope_type": models.ScopeOffering,
				"scope_id": int64(i + 1), "created": past, "modified": past, "expiration_time": past, "is_active": true}
		}
		require.NoError(t, db.Table("user_roles").CreateInBatches(rows, 200).Error)

		a := &activities.Expiry{Store: st}
		got, err := a.RevokeExpiredRoles(ctx)
		require.NoError(t, err)
		require.Equal(t, n, got)
		var active int64
		require.NoError(t, db.Table("user_roles").Where("is_active = ?", true).Count(&active).Error)
		require.Zero(t, active)
		got, err = a.RevokeExpiredRoles(ctx)
		require.NoError(t, err)
		require.Zero(t, got)
	})
}

func TestExpireInvitationsActivity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		st := store.New(db)
		st.Now = func() time.Time { return now }
		cid := models.NewUUID()
		require.NoError(t, db.Exec(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) VALUES (?, ?, ?, ?, ?)`,
			cid, "Org", now, now, now).Error)
		sc, err := st.ResolveRoleScopeUUID(ctx, models.ScopeCustomer, cid)
		require.NoError(t, err)
		role, err := st.RoleByName(ctx, models.RoleCustomerOwner)
		require.NoError(t, err)
		for _, email := range []string{"a@example.com", "b@example.com"} {
			_, err := st.CreateInvitation(ctx, store.NewInvitation{Scope: sc, Role: role, Email: email})
			require.NoError(t, err)
		}
		a := &activities.Expiry{Store: st}
		res, err := a.ExpireInvitations(ctx)
		require.NoError(t, err)
		require.Equal(t, activities.InvitationExpiryResult{}, res)
		now = now.Add(store.InvitationLifetime)
		res, err = a.ExpireInvitations(ctx)
		require.NoError(t, err)
		require.Equal(t, activities.InvitationExpiryResult{Expired: 2}, res)
	})
}
