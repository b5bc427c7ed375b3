package migrations_test

import (
	"context"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/rbac"
)

func rolePerms(t *testing.T, db *gorm.DB, role string) []string {
	t.Helper()
	var ps []string
	require.NoError(t, db.Raw(`SELECT rp.permission FROM role_permissions rp JOIN roles r ON r.id = rp.role_id
		WHERE r.name = ? ORDER BY rp.permission`, role).Scan(&ps).Error)
	return ps
}

// TestDefaultRolesMigration: a database whose system roles carry the
// defaults from before version 15 (rolled back to them) gets Waldur's after
// it, and an operator's own addition to a system role stays.
func TestDefaultRolesMigration(t *testing.T) {
	ctx := context.Background()
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db := dbtest.Empty(t, kind)
			sqlDB, err := db.DB()
			require.NoError(t, err)
			m, err := migrations.New(sqlDB, kind, nil)
			require.NoError(t, err)
			_, err = m.Up(ctx)
			require.NoError(t, err)
			require.NoError(t, rbac.EnsureDefaultRoles(ctx, db))
			// An operator's addition that neither table has.
			require.NoError(t, db.Exec(`INSERT INTO role_permissions (role_id, permission)
				SELECT id, 'PROJECT.UPDATE_METADATA' FROM roles WHERE name = 'OFFERING.MANAGER'`).Error)

			for {
				v, err := m.Down(ctx)
				require.NoError(t, err)
				if v <= 15 {
					require.Equal(t, int64(15), v)
					break
				}
			}
			// The earlier defaults: owners managed the team and registered providers,
			// offering managers held plan and offering-user permissions.
			require.Contains(t, rolePerms(t, db, "CUSTOMER.OWNER"), "CUSTOMER.CREATE_PERMISSION")
			require.Contains(t, rolePerms(t, db, "CUSTOMER.OWNER"), "SERVICE_PROVIDER.REGISTER")
			require.Contains(t, rolePerms(t, db, "OFFERING.MANAGER"), "OFFERING.CREATE_PLAN")
			require.NotContains(t, rolePerms(t, db, "OFFERING.MANAGER"), "RESOURCE.SET_STATE")
			require.Contains(t, rolePerms(t, db, "CUSTOMER.MANAGER"), "RESOURCE.SET_USAGE")

			_, err = m.Up(ctx)
			require.NoError(t, err)
			for _, r := range rbac.DefaultRoles {
				want := make([]string, 0, len(r.Permissions)+1)
				for _, p := range r.Permissions {
					want = append(want, string(p))
				}
				if r.Name == "OFFERING.MANAGER" {
					want = append(want, "PROJECT.UPDATE_METADATA")
				}
				sort.Strings(want)
				require.Equal(t, want, rolePerms(t, db, r.Name), "permissions of %s", r.Name)
			}
		})
	}
}
