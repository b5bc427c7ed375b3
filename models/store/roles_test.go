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
	"github.com/waldur-go/waldur/rbac"
)

// rtWorld is a small organization for role and invitation store tests.
type rtWorld struct {
	st       *store.Store
	checker  *rbac.Checker
	now      time.Time
	customer models.Scope
	project  models.Scope
	users    map[string]*models.User
}

func rtInsertCustomer(t *testing.T, db *gorm.DB, name string, now time.Time) models.Scope {
	t.Helper()
	id := models.NewUUID()
	require.NoError(t, db.Exec(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) VALUES (?, ?, ?, ?, ?)`,
		id, name, now, now, now).Error)
	var pk int64
	require.NoError(t, db.Table("customers").Where("uuid = ?", id).Pluck("id", &pk).Error)
	return models.Scope{Type: models.ScopeCustomer, ID: pk}
}

func rtInsertProject(t *testing.T, db *gorm.DB, customer models.Scope, name string, start *time.Time, now time.Time) models.Scope {
	t.Helper()
	id := models.NewUUID()
	require.NoError(t, db.Exec(`INSERT INTO projects (uuid, customer_id, name, start_date, created, modified) VALUES (?, ?, ?, ?, ?, ?)`,
		id, customer.ID, name, start, now, now).Error)
	var pk int64
	require.NoError(t, db.Table("projects").Where("uuid = ?", id).Pluck("id", &pk).Error)
	return models.Scope{Type: models.ScopeProject, ID: pk}
}

func rtNewWorld(t *testing.T, db *gorm.DB) *rtWorld {
	t.Helper()
	ctx := context.Background()
	w := &rtWorld{now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC), users: map[string]*models.User{}}
	w.st = store.New(db)
	w.st.Now = func() time.Time { return w.now }
	var err error
	w.checker, err = rbac.NewChecker(db)
	require.NoError(t, err)
	w.checker.SetClock(func() time.Time { return w.now })
	w.customer = rtInsertCustomer(t, db, "Org", w.now)
	require.NoError(t, w.st.InitQuotas(ctx, w.customer))
	w.project = rtInsertProject(t, db, w.customer, "Proj", nil, w.now)
	for _, name := range []string{"alice", "bob", "carol"} {
		u := &models.User{Username: name, Email: name + "@example.com", IsActive: true}
		require.NoError(t, w.st.CreateUser(ctx, u, ""))
		w.users[name] = u
	}
	return w
}

func (w *rtWorld) grant(t *testing.T, user, role string, sc models.Scope, exp *time.Time) {
	t.Helper()
	ctx := context.Background()
	r, err := w.st.RoleByName(ctx, role)
	require.NoError(t, err)
	rs, err := w.st.ResolveRoleScope(ctx, sc)
	require.NoError(t, err)
	_, err = w.st.GrantRole(ctx, store.Grant{User: w.users[user], Role: r, Scope: sc, CustomerID: rs.CustomerID,
		ExpirationTime: exp, EventScopes: rs.EventScopes(), ScopeName: rs.Name})
	require.NoError(t, err)
}

func TestKnownPermissionsCoverDefaultRoles(t *testing.T) {
	for _, r := range rbac.DefaultRoles {
		for _, p := range r.Permissions {
			require.True(t, store.KnownPermission(p), "%s of %s", p, r.Name)
		}
	}
	for _, p := range []models.Permission{models.PermProjectCreatePermission, models.PermCustomerCreatePermission, models.PermOfferingCreatePermission} {
		require.True(t, store.KnownPermission(p))
	}
	require.False(t, store.KnownPermission("PROJECT.FLY"))
	ps := store.KnownPermissions()
	require.Greater(t, len(ps), 100)
	for i := 1; i < len(ps); i++ {
		require.Less(t, ps[i-1], ps[i])
	}
}

// TestRoleChangeReloadsCheckerAtOnce: removing a permission, disabling a
// role and deleting a role change what the Checker allows at its next
// decision, even when this process's clock is behind the time the roles
// were last changed (another replica, or the seeding at start-up).
func TestRoleChangeReloadsCheckerAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := rtNewWorld(t, db)
		w.grant(t, "alice", models.RoleProjectManager, w.project, nil)
		has := func(p models.Permission) bool {
			ok, err := w.checker.Has(ctx, w.users["alice"], p, w.project)
			require.NoError(t, err)
			return ok
		}
		require.True(t, has(models.PermProjectUpdate))

		// The test clock (2026) may be behind the seeding time; go further back still.
		w.now = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		role, err := w.st.RoleByName(ctx, models.RoleProjectManager)
		require.NoError(t, err)
		full, err := w.st.RoleWithPermissions(ctx, role.UUID)
		require.NoError(t, err)
		var without []models.Permission
		for _, p := range full.Permissions {
			if p != models.PermProjectUpdate {
				without = append(without, p)
			}
		}
		_, err = w.st.UpdateRole(ctx, role.UUID, store.RolePatch{Permissions: &without})
		require.NoError(t, err)
		require.False(t, has(models.PermProjectUpdate), "a removed permission stops granting at once")
		require.True(t, has(models.PermProjectCreatePermission))

		_, err = w.st.SetRoleActive(ctx, role.UUID, false)
		require.NoError(t, err)
		require.False(t, has(models.PermProjectCreatePermission), "a disabled role grants nothing")
		_, err = w.st.SetRoleActive(ctx, role.UUID, true)
		require.NoError(t, err)
		require.True(t, has(models.PermProjectCreatePermission))

		// Two changes in the same instant are both seen.
		_, err = w.st.UpdateRole(ctx, role.UUID, store.RolePatch{Permissions: &[]models.Permission{models.PermProjectUpdate}})
		require.NoError(t, err)
		require.True(t, has(models.PermProjectUpdate))
		require.False(t, has(models.PermProjectCreatePermission))
		_, err = w.st.UpdateRole(ctx, role.UUID, store.RolePatch{Permissions: &full.Permissions})
		require.NoError(t, err)
		require.True(t, has(models.PermProjectCreatePermission))
	})
}

func TestCreateUpdateDeleteRole(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := rtNewWorld(t, db)
		r, err := w.st.CreateRole(ctx, store.RoleInput{Name: "PROJECT.REVIEWER", Description: "Reviews", ContentType: models.ScopeProject,
			Permissions: []models.Permission{"PROJECT.LIST", "PROJECT.UPDATE_METADATA", "PROJECT.LIST"}})
		require.NoError(t, err)
		require.Equal(t, []models.Permission{"PROJECT.LIST", "PROJECT.UPDATE_METADATA"}, r.Permissions)
		require.True(t, r.IsActive)
		require.False(t, r.IsSystemRole)

		cases := []struct {
			name string
			in   store.RoleInput
			want string
		}{
			{"taken name", store.RoleInput{Name: "PROJECT.REVIEWER", ContentType: models.ScopeProject}, "Name should be unique."},
			{"blank name", store.RoleInput{Name: " ", ContentType: models.ScopeProject}, "This field may not be blank."},
			{"unknown content type", store.RoleInput{Name: "X", ContentType: "galaxy"}, "Invalid content type."},
			{"unknown permission", store.RoleInput{Name: "X", ContentType: models.ScopeProject, Permissions: []models.Permission{"PROJECT.FLY", "PROJECT.LIST"}}, "Invalid permissions PROJECT.FLY"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := w.st.CreateRole(ctx, c.in)
				require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
				require.Contains(t, err.Error(), c.want)
			})
		}

		owner, err := w.st.RoleByName(ctx, models.RoleCustomerOwner)
		require.NoError(t, err)
		name := "CUSTOMER.BOSS"
		_, err = w.st.UpdateRole(ctx, owner.UUID, store.RolePatch{Name: &name})
		require.ErrorContains(t, err, "Changing name for system role is not possible.")
		require.ErrorContains(t, w.st.DeleteRole(ctx, owner.UUID), "Destroying of system role is not available.")

		// In use: no content type change, no delete; after the revoke (history kept) delete works.
		w.grant(t, "bob", "PROJECT.REVIEWER", w.project, nil)
		ct := models.ScopeCustomer
		_, err = w.st.UpdateRole(ctx, r.UUID, store.RolePatch{ContentType: &ct})
		require.ErrorContains(t, err, "still used")
		require.ErrorContains(t, w.st.DeleteRole(ctx, r.UUID), "Role is still used.")
		counts, err := w.st.RoleUsersCounts(ctx, []int64{r.ID})
		require.NoError(t, err)
		require.Equal(t, int64(1), counts[r.ID])
		rs, err := w.st.ResolveRoleScope(ctx, w.project)
		require.NoError(t, err)
		require.NoError(t, w.st.RevokeRole(ctx, store.Grant{User: w.users["bob"], Role: r, Scope: w.project, CustomerID: rs.CustomerID, ScopeName: rs.Name}))
		require.NoError(t, w.st.DeleteRole(ctx, r.UUID))
		_, err = w.st.RoleByUUID(ctx, r.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound))
		var left int64
		require.NoError(t, db.Table("user_roles").Where("role_id = ?", r.ID).Count(&left).Error)
		require.Zero(t, left)
		require.True(t, models.IsCode(w.st.DeleteRole(ctx, r.UUID), models.CodeNotFound))
	})
}

// TestRevokeExpiredRolesWithResolver: GrantOfUserRole describes customer,
// project and offering grants so the expiry job revokes them with the
// right quota change and event feeds.
func TestRevokeExpiredRolesWithResolver(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := rtNewWorld(t, db)
		soon := w.now.Add(time.Hour)
		later := w.now.Add(48 * time.Hour)
		w.grant(t, "alice", models.RoleCustomerOwner, w.customer, &soon)
		w.grant(t, "bob", models.RoleProjectAdmin, w.project, &soon)
		w.grant(t, "carol", models.RoleProjectMember, w.project, &later)
		w.grant(t, "carol", models.RoleOfferingManager, models.Scope{Type: models.ScopeOffering, ID: 42}, &soon)
		quota := func() int64 {
			qs, err := w.st.Quotas(ctx, w.customer)
			require.NoError(t, err)
			for _, q := range qs {
				if q.Name == models.QuotaUserCount {
					return q.Usage
				}
			}
			return -1
		}
		require.Equal(t, int64(3), quota())

		w.now = w.now.Add(2 * time.Hour)
		n, err := w.st.RevokeExpiredRoles(ctx, store.GrantOfUserRole)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		require.Equal(t, int64(1), quota(), "carol still holds a project role")
		n, err = w.st.RevokeExpiredRoles(ctx, store.GrantOfUserRole)
		require.NoError(t, err)
		require.Zero(t, n, "a grant is revoked once")

		var feeds []struct {
			ScopeType string
			ScopeID   int64
		}
		require.NoError(t, db.Table("event_feeds ef").Joins("JOIN events e ON e.id = ef.event_id").
			Where("e.event_type = ? AND e.message LIKE ?", "role_revoked", "%bob%").Select("ef.scope_type, ef.scope_id").Scan(&feeds).Error)
		require.ElementsMatch(t, []struct {
			ScopeType string
			ScopeID   int64
		}{{"user", w.users["bob"].ID}, {"project", w.project.ID}, {"customer", w.customer.ID}}, feeds)

		g, err := store.GrantOfUserRole(ctx, w.st, &models.UserRole{UserID: w.users["carol"].ID, RoleID: rtRole(t, w.st, models.RoleOfferingManager).ID,
			ScopeType: models.ScopeOffering, ScopeID: 42})
		require.NoError(t, err)
		require.Zero(t, g.CustomerID)
		require.Equal(t, []models.Scope{{Type: models.ScopeOffering, ID: 42}}, g.EventScopes)
	})
}

func rtRole(t *testing.T, st *store.Store, name string) *models.Role {
	t.Helper()
	r, err := st.RoleByName(context.Background(), name)
	require.NoError(t, err)
	return r
}

// TestConcurrentRoleChangesGetDistinctTimes: with one frozen clock, role
// changes made at the same time still each move MAX(modified) forward, so
// no change can hide behind another from the Checker's reload check.
func TestConcurrentRoleChangesGetDistinctTimes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := rtNewWorld(t, db)
		const n = 8
		ids := make([]models.UUID, n)
		for i := range ids {
			r, err := w.st.CreateRole(ctx, store.RoleInput{Name: "PROJECT.C" + string(rune('A'+i)), ContentType: models.ScopeProject})
			require.NoError(t, err)
			ids[i] = r.UUID
		}
		errs := make(chan error, n)
		for _, id := range ids {
			go func(id models.UUID) {
				d := "changed"
				_, err := w.st.UpdateRole(ctx, id, store.RolePatch{Description: &d})
				errs <- err
			}(id)
		}
		for range ids {
			require.NoError(t, <-errs)
		}
		var times []time.Time
		require.NoError(t, db.Table("roles").Where("uuid IN ?", ids).Pluck("modified", &times).Error)
		seen := map[int64]bool{}
		for _, tm := range times {
			require.False(t, seen[tm.UnixMicro()], "two changes share the modified time %s", tm)
			seen[tm.UnixMicro()] = true
		}
		require.Len(t, seen, n)
	})
}
