package rbac_test

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

type world struct {
	st                                   *store.Store
	chk                                  *rbac.Checker
	owner, admin, nobody, staff, support *models.User
	c1, c2                               int64 // customers
	p1, p2                               int64 // projects of c1, c2
}

func insert(t *testing.T, db *gorm.DB, table string, values map[string]any) int64 {
	t.Helper()
	values["uuid"] = models.NewUUID()
	now := time.Now().UTC()
	values["created"] = now
	values["modified"] = now
	require.NoError(t, db.Table(table).Create(values).Error)
	var id int64
	require.NoError(t, db.Table(table).Select("id").Where("uuid = ?", values["uuid"]).Scan(&id).Error)
	return id
}

func setup(t *testing.T, db *gorm.DB) *world {
	ctx := context.Background()
	w := &world{st: store.New(db)}
	var err error
	w.chk, err = rbac.NewChecker(db)
	require.NoError(t, err)
	mk := func(name string, staff, support bool) *models.User {
		u := &models.User{Username: name, IsStaff: staff, IsSupport: support, IsActive: true}
		require.NoError(t, w.st.CreateUser(ctx, u, ""))
		return u
	}
	w.owner, w.admin, w.nobody = mk("owner", false, false), mk("admin", false, false), mk("nobody", false, false)
	w.staff, w.support = mk("staff", true, false), mk("support", false, true)
	w.c1 = insert(t, db, "customers", map[string]any{"name": "c1", "accounting_start_date": time.Now()})
	w.c2 = insert(t, db, "customers", map[string]any{"name": "c2", "accounting_start_date": time.Now()})
	w.p1 = insert(t, db, "projects", map[string]any{"name": "p1", "customer_id": w.c1})
	w.p2 = insert(t, db, "projects", map[string]any{"name": "p2", "customer_id": w.c2})
	grant := func(u *models.User, role string, s models.Scope, cust int64) {
		r, err := w.st.RoleByName(ctx, role)
		require.NoError(t, err)
		_, err = w.st.GrantRole(ctx, store.Grant{User: u, Role: r, Scope: s, CustomerID: cust})
		require.NoError(t, err)
	}
	grant(w.owner, models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: w.c1}, w.c1)
	grant(w.admin, models.RoleProjectAdmin, models.Scope{Type: models.ScopeProject, ID: w.p1}, w.c1)
	return w
}

func TestCheckerDecisions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := setup(t, db)
		c1 := models.Scope{Type: models.ScopeCustomer, ID: w.c1}
		c2 := models.Scope{Type: models.ScopeCustomer, ID: w.c2}
		p1 := models.Scope{Type: models.ScopeProject, ID: w.p1}
		cases := []struct {
			name   string
			user   *models.User
			perm   models.Permission
			scopes []models.Scope
			want   bool
		}{
			{"owner creates projects in own customer", w.owner, models.PermProjectCreate, []models.Scope{c1}, true},
			{"owner cannot in another customer", w.owner, models.PermProjectCreate, []models.Scope{c2}, false},
			{"no implicit inheritance: owner role is not tried on the project alone", w.owner, models.PermProjectUpdate, []models.Scope{p1}, false},
			{"the caller names the scopes: project, then its customer", w.owner, models.PermProjectUpdate, []models.Scope{p1, c1}, true},
			{"project admin lacks PROJECT.UPDATE", w.admin, models.PermProjectUpdate, []models.Scope{p1, c1}, false},
			{"project admin may terminate resources", w.admin, "RESOURCE.TERMINATE", []models.Scope{p1, c1}, true},
			{"nobody", w.nobody, models.PermProjectCreate, []models.Scope{c1}, false},
			{"support is read-only", w.support, models.PermProjectCreate, []models.Scope{c1}, false},
			{"staff may everything", w.staff, "ANYTHING.AT_ALL", []models.Scope{c2}, true},
			{"anonymous", nil, models.PermProjectCreate, []models.Scope{c1}, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := w.chk.Has(ctx, c.user, c.perm, c.scopes...)
				require.NoError(t, err)
				require.Equal(t, c.want, got)
			})
		}
		err := w.chk.Require(ctx, w.nobody, models.PermProjectCreate, c1)
		require.True(t, models.IsCode(err, models.CodeForbidden))
	})
}

func TestCheckerFollowsPolicyAndGrantChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := setup(t, db)
		c1 := models.Scope{Type: models.ScopeCustomer, ID: w.c1}
		ok, err := w.chk.Has(ctx, w.owner, models.PermProjectCreate, c1)
		require.NoError(t, err)
		require.True(t, ok)

		// Remove the permission from the role (as /api/roles/ does: the change bumps roles.modified).
		owner, err := w.st.RoleByName(ctx, models.RoleCustomerOwner)
		require.NoError(t, err)
		require.NoError(t, db.Exec(`DELETE FROM role_permissions WHERE role_id = ? AND permission = ?`, owner.ID, models.PermProjectCreate).Error)
		require.NoError(t, db.Exec(`UPDATE roles SET modified = ? WHERE id = ?`, time.Now().UTC().Add(time.Second), owner.ID).Error)
		ok, err = w.chk.Has(ctx, w.owner, models.PermProjectCreate, c1)
		require.NoError(t, err)
		require.False(t, ok, "the policy reloads when the roles change")

		// A revoked grant stops counting at once; an expired one too.
		require.NoError(t, w.st.RevokeRole(ctx, store.Grant{User: w.owner, Role: owner, Scope: c1, CustomerID: w.c1}))
		ok, err = w.chk.Has(ctx, w.owner, models.PermCustomerUpdate, c1)
		require.NoError(t, err)
		require.False(t, ok)

		exp := time.Now().UTC().Add(time.Hour)
		_, err = w.st.GrantRole(ctx, store.Grant{User: w.nobody, Role: owner, Scope: c1, CustomerID: w.c1, ExpirationTime: &exp})
		require.NoError(t, err)
		ok, _ = w.chk.Has(ctx, w.nobody, models.PermCustomerUpdate, c1)
		require.True(t, ok)
		w.chk.SetClock(func() time.Time { return exp.Add(time.Minute) })
		ok, _ = w.chk.Has(ctx, w.nobody, models.PermCustomerUpdate, c1)
		require.False(t, ok, "an expired grant grants nothing even before the expiry job runs")
	})
}

func TestVisibilityFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := setup(t, db)
		now := time.Now().UTC()
		ids := func(u *models.User, table string, filter func(*gorm.DB, *models.User, time.Time) *gorm.DB) []int64 {
			var out []int64
			require.NoError(t, filter(db.Table(table), u, now).Order("id").Pluck(table+".id", &out).Error)
			return out
		}
		require.Equal(t, []int64{w.c1}, ids(w.owner, "customers", rbac.FilterCustomers))
		require.Equal(t, []int64{w.p1}, ids(w.owner, "projects", rbac.FilterProjects), "a customer role sees the customer's projects")
		require.Equal(t, []int64{w.c1}, ids(w.admin, "customers", rbac.FilterCustomers), "a project role sees its customer")
		require.Equal(t, []int64{w.p1}, ids(w.admin, "projects", rbac.FilterProjects))
		require.Empty(t, ids(w.nobody, "customers", rbac.FilterCustomers))
		require.Empty(t, ids(w.nobody, "projects", rbac.FilterProjects))
		require.Empty(t, ids(nil, "projects", rbac.FilterProjects))
		require.Equal(t, []int64{w.p1, w.p2}, ids(w.staff, "projects", rbac.FilterProjects))
		require.Equal(t, []int64{w.c1, w.c2}, ids(w.support, "customers", rbac.FilterCustomers))
	})
}

func TestScopeIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := setup(t, db)
		now := time.Now().UTC()
		ids := func(u *models.User, st models.ScopeType, held rbac.Held, at time.Time) []int64 {
			var out []int64
			require.NoError(t, db.Table("customers").Where("id IN (?)", rbac.ScopeIDs(db, u.ID, st, held, at)).Order("id").Pluck("id", &out).Error)
			if st == models.ScopeProject {
				out = nil
				require.NoError(t, db.Table("projects").Where("id IN (?)", rbac.ScopeIDs(db, u.ID, st, held, at)).Order("id").Pluck("id", &out).Error)
			}
			return out
		}
		require.Equal(t, []int64{w.c1}, ids(w.owner, models.ScopeCustomer, rbac.Held{}, now))
		require.Equal(t, []int64{w.c1}, ids(w.owner, models.ScopeCustomer, rbac.Held{Permission: models.PermProjectCreate}, now))
		require.Equal(t, []int64{w.c1}, ids(w.owner, models.ScopeCustomer, rbac.Held{Roles: []string{models.RoleCustomerOwner}}, now))
		require.Empty(t, ids(w.owner, models.ScopeCustomer, rbac.Held{Roles: []string{models.RoleProjectAdmin}}, now))
		require.Empty(t, ids(w.owner, models.ScopeProject, rbac.Held{}, now), "a customer role is not a project role")
		require.Equal(t, []int64{w.p1}, ids(w.admin, models.ScopeProject, rbac.Held{Permission: "RESOURCE.TERMINATE"}, now))
		require.Empty(t, ids(w.admin, models.ScopeProject, rbac.Held{Permission: models.PermProjectUpdate}, now))
		require.Empty(t, ids(w.nobody, models.ScopeCustomer, rbac.Held{}, now))

		// The same rows as the Checker: a permission taken from the role
		// stops counting, an expired grant counts for no one.
		owner, err := w.st.RoleByName(ctx, models.RoleCustomerOwner)
		require.NoError(t, err)
		require.NoError(t, db.Exec(`DELETE FROM role_permissions WHERE role_id = ? AND permission = ?`, owner.ID, models.PermProjectCreate).Error)
		require.Empty(t, ids(w.owner, models.ScopeCustomer, rbac.Held{Permission: models.PermProjectCreate}, now))
		exp := now.Add(time.Hour)
		_, err = w.st.GrantRole(ctx, store.Grant{User: w.nobody, Role: owner, Scope: models.Scope{Type: models.ScopeCustomer, ID: w.c2}, CustomerID: w.c2, ExpirationTime: &exp})
		require.NoError(t, err)
		require.Equal(t, []int64{w.c2}, ids(w.nobody, models.ScopeCustomer, rbac.Held{}, now))
		require.Empty(t, ids(w.nobody, models.ScopeCustomer, rbac.Held{}, exp.Add(time.Minute)))
		ok, err := w.chk.Has(ctx, w.nobody, models.PermCustomerUpdate, models.Scope{Type: models.ScopeCustomer, ID: w.c2})
		require.NoError(t, err)
		require.Equal(t, len(ids(w.nobody, models.ScopeCustomer, rbac.Held{Permission: models.PermCustomerUpdate}, now)) == 1, ok, "Checker and ScopeIDs agree")
	})
}
