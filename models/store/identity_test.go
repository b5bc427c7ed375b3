package store_test

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// idtClock is a movable clock shared by the store.
type idtClock struct{ t time.Time }

func (c *idtClock) now() time.Time { return c.t }

func idtStore(db *gorm.DB) (*store.Store, *idtClock) {
	clk := &idtClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	st := store.New(db)
	st.Now = clk.now
	return st, clk
}

func idtUser(t *testing.T, st *store.Store, username string, mod func(p *store.UserProfile)) *store.UserProfile {
	t.Helper()
	p := &store.UserProfile{}
	p.Username, p.Email, p.IsActive = username, username+"@example.com", true
	if mod != nil {
		mod(p)
	}
	require.NoError(t, st.CreateUserProfile(context.Background(), p, "secret-pass1", nil))
	return p
}

// idtCustomer inserts a customer and returns its id.
func idtCustomer(t *testing.T, st *store.Store, name string) int64 {
	t.Helper()
	now := st.Now()
	require.NoError(t, st.DB.Exec(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified) VALUES (?, ?, ?, ?, ?)`,
		models.NewUUID(), name, now, now, now).Error)
	var id int64
	require.NoError(t, st.DB.Raw(`SELECT id FROM customers WHERE name = ?`, name).Scan(&id).Error)
	return id
}

func idtProject(t *testing.T, st *store.Store, customerID int64, name string) int64 {
	t.Helper()
	now := st.Now()
	require.NoError(t, st.DB.Exec(`INSERT INTO projects (uuid, customer_id, name, created, modified) VALUES (?, ?, ?, ?, ?)`,
		models.NewUUID(), customerID, name, now, now).Error)
	var id int64
	require.NoError(t, st.DB.Raw(`SELECT id FROM projects WHERE name = ?`, name).Scan(&id).Error)
	return id
}

func idtGrant(t *testing.T, st *store.Store, u *store.UserProfile, role string, scope models.Scope, customerID int64, exp *time.Time) {
	t.Helper()
	r, err := st.RoleByName(context.Background(), role)
	require.NoError(t, err)
	_, err = st.GrantRole(context.Background(), store.Grant{User: &u.User, Role: r, Scope: scope, CustomerID: customerID, ExpirationTime: exp, ScopeName: "x"})
	require.NoError(t, err)
}

func idtUsernames(t *testing.T, q *gorm.DB) []string {
	t.Helper()
	var names []string
	require.NoError(t, q.Order("username").Pluck("username", &names).Error)
	sort.Strings(names)
	return names
}

// TestVisibleUsers: staff and support see everyone; others see themselves
// and the active non-staff users with a role in force in a customer or
// project they can see; nothing else.
func TestVisibleUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, clk := idtStore(db)
		c1, c2 := idtCustomer(t, st, "C1"), idtCustomer(t, st, "C2")
		p1, p2 := idtProject(t, st, c1, "P1"), idtProject(t, st, c1, "P2")
		p3 := idtProject(t, st, c2, "P3")

		owner := idtUser(t, st, "owner", nil)
		m1 := idtUser(t, st, "m1", nil)
		m2 := idtUser(t, st, "m2", nil)
		m3 := idtUser(t, st, "m3", nil)
		staffInC1 := idtUser(t, st, "staffinc1", func(p *store.UserProfile) { p.IsStaff = true })
		inactive := idtUser(t, st, "inactive", func(p *store.UserProfile) { p.IsActive = false })
		expiring := idtUser(t, st, "expiring", nil)
		idtUser(t, st, "outsider", nil)
		idtUser(t, st, "support", func(p *store.UserProfile) { p.IsSupport = true })

		cs := func(id int64) models.Scope { return models.Scope{Type: models.ScopeCustomer, ID: id} }
		ps := func(id int64) models.Scope { return models.Scope{Type: models.ScopeProject, ID: id} }
		idtGrant(t, st, owner, models.RoleCustomerOwner, cs(c1), c1, nil)
		idtGrant(t, st, m1, models.RoleProjectMember, ps(p1), c1, nil)
		idtGrant(t, st, m2, models.RoleProjectAdmin, ps(p2), c1, nil)
		idtGrant(t, st, m3, models.RoleProjectMember, ps(p3), c2, nil)
		idtGrant(t, st, staffInC1, models.RoleProjectMember, ps(p1), c1, nil)
		idtGrant(t, st, inactive, models.RoleProjectMember, ps(p1), c1, nil)
		exp := clk.t.Add(time.Hour)
		idtGrant(t, st, expiring, models.RoleProjectMember, ps(p1), c1, &exp)

		all := []string{"expiring", "inactive", "m1", "m2", "m3", "outsider", "owner", "staffinc1", "support"}
		cases := []struct {
			viewer string
			want   []string
		}{
			{"owner", []string{"expiring", "m1", "m2", "owner"}},
			{"m1", []string{"expiring", "m1", "owner"}},
			{"m2", []string{"m2", "owner"}},
			{"m3", []string{"m3"}},
			{"outsider", []string{"outsider"}},
			{"staffinc1", all},
			{"support", all},
		}
		for _, c := range cases {
			t.Run(c.viewer, func(t *testing.T) {
				v, err := st.UserByUsername(ctx, c.viewer)
				require.NoError(t, err)
				require.Equal(t, c.want, idtUsernames(t, st.VisibleUsers(ctx, v, clk.t)))
			})
		}
		require.Empty(t, idtUsernames(t, st.VisibleUsers(ctx, nil, clk.t)), "anonymous sees nobody")

		// An expired grant no longer connects: m1 stops seeing "expiring".
		v, err := st.UserByUsername(ctx, "m1")
		require.NoError(t, err)
		require.Equal(t, []string{"m1", "owner"}, idtUsernames(t, st.VisibleUsers(ctx, v, exp.Add(time.Second))))

		// Filters narrow the visible set.
		staff, err := st.UserByUsername(ctx, "staffinc1")
		require.NoError(t, err)
		c1UUID := idtUUID(t, st, "customers", c1)
		p2UUID := idtUUID(t, st, "projects", p2)
		yes := true
		filters := []struct {
			name string
			f    store.UserFilter
			want []string
		}{
			{"customer", store.UserFilter{CustomerUUID: &c1UUID}, []string{"expiring", "inactive", "m1", "m2", "owner", "staffinc1"}},
			{"project", store.UserFilter{ProjectUUID: &p2UUID}, []string{"m2"}},
			{"staff flag", store.UserFilter{IsStaff: &yes}, []string{"staffinc1"}},
			{"query", store.UserFilter{Query: "OUTS"}, []string{"outsider"}},
			{"email contains, wildcards escaped", store.UserFilter{Email: "m_"}, nil},
			{"username exact", store.UserFilter{Username: "m"}, nil},
			{"username list", store.UserFilter{UsernameList: ptr("m1, m2,")}, []string{"m1", "m2"}},
			{"roles", store.UserFilter{ProjectRoles: []string{models.RoleProjectAdmin}}, []string{"m2"}},
		}
		for _, c := range filters {
			t.Run(c.name, func(t *testing.T) {
				got := idtUsernames(t, store.FilterUsers(st.VisibleUsers(ctx, staff, clk.t), c.f, clk.t))
				if c.want == nil {
					require.Empty(t, got)
				} else {
					require.Equal(t, c.want, got)
				}
			})
		}
	})
}

func ptr[T any](v T) *T { return &v }

func idtUUID(t *testing.T, st *store.Store, table string, id int64) models.UUID {
	t.Helper()
	var u models.UUID
	require.NoError(t, st.DB.Table(table).Select("uuid").Where("id = ?", id).Row().Scan(&u))
	return u
}

// TestUserPermissionsAndDelete: the roles in force are listed with their
// scopes; deleting a user drops their grants and recounts nc_user_count.
func TestUserPermissionsAndDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, clk := idtStore(db)
		c1 := idtCustomer(t, st, "Org")
		p1 := idtProject(t, st, c1, "Proj")
		u := idtUser(t, st, "alice", func(p *store.UserProfile) { p.FirstName, p.LastName = "Alice", "Liddell" })
		require.Equal(t, "alice-1", u.Slug)
		require.Equal(t, "alice-li-1", idtUser(t, st, "alice.liddell", nil).Slug)
		require.Equal(t, "alice-li-2", idtUser(t, st, "alice.lincoln", nil).Slug, "same stem, next number")
		idtGrant(t, st, u, models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: c1}, c1, nil)
		idtGrant(t, st, u, models.RoleProjectAdmin, models.Scope{Type: models.ScopeProject, ID: p1}, c1, nil)

		perms, err := st.UserPermissions(ctx, []int64{u.ID}, clk.t)
		require.NoError(t, err)
		require.Len(t, perms[u.ID], 2)
		got := map[string]store.UserPermission{}
		for _, p := range perms[u.ID] {
			got[p.RoleName] = p
		}
		require.Equal(t, models.ScopeCustomer, got[models.RoleCustomerOwner].ScopeType)
		require.Equal(t, "Org", got[models.RoleCustomerOwner].ScopeName)
		require.Equal(t, "Proj", got[models.RoleProjectAdmin].ScopeName)
		require.Equal(t, "Org", got[models.RoleProjectAdmin].CustomerName)
		require.Equal(t, idtUUID(t, st, "customers", c1), got[models.RoleProjectAdmin].CustomerUUID)

		quota := func() int64 {
			qs, err := st.Quotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: c1})
			require.NoError(t, err)
			for _, q := range qs {
				if q.Name == models.QuotaUserCount {
					return q.Usage
				}
			}
			return -1
		}
		require.EqualValues(t, 1, quota())
		require.NoError(t, st.DeleteUser(ctx, u.ID, &models.Event{EventType: "user_deletion_succeeded", Message: "x"}))
		require.EqualValues(t, 0, quota())
		var n int64
		require.NoError(t, db.Table("user_roles").Where("user_id = ?", u.ID).Count(&n).Error)
		require.Zero(t, n)
		_, err = st.UserProfileByUUID(ctx, u.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound))
		require.True(t, models.IsCode(st.DeleteUser(ctx, u.ID, &models.Event{EventType: "x"}), models.CodeNotFound))
	})
}

// TestLoginFailureWindow: 4 attempts within the window lock the pair
// until 10 minutes after the last one (a refused attempt does not count
// or extend it); other pairs are unaffected; a window that ends starts
// the count again; clearing forgets the attempts; a released attempt is
// given back.
func TestLoginFailureWindow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, clk := idtStore(db)
		try := func(user, ip string) bool {
			ok, err := st.ReserveLoginAttempt(ctx, user, ip)
			require.NoError(t, err)
			return ok
		}
		fail := func() {
			require.True(t, try("bob", "10.0.0.1"))
			require.NoError(t, st.RecordLoginFailure(ctx, nil))
			clk.t = clk.t.Add(time.Minute)
		}
		for i := 0; i < 4; i++ {
			fail()
		}
		last := clk.t.Add(-time.Minute)
		require.False(t, try("bob", "10.0.0.1"))
		require.True(t, try("bob", "10.0.0.2"), "another address")
		require.True(t, try("bobby", "10.0.0.1"), "another username")
		clk.t = last.Add(store.LoginLockoutWindow - time.Second)
		require.False(t, try("bob", "10.0.0.1"), "still inside the window of the last attempt")
		clk.t = last.Add(store.LoginLockoutWindow + time.Second)
		require.True(t, try("bob", "10.0.0.1"), "10 minutes after the last attempt the count starts again")
		clk.t = clk.t.Add(time.Minute)
		for i := 0; i < 3; i++ {
			fail()
		}
		require.False(t, try("bob", "10.0.0.1"), "1 + 3 attempts in the new window")

		require.NoError(t, st.ClearLoginFailures(ctx, "bob", "10.0.0.1"))
		for i := 0; i < 3; i++ {
			fail()
		}
		require.NoError(t, st.ReleaseLoginAttempt(ctx, "bob", "10.0.0.1"))
		fail()
		fail()
		require.False(t, try("bob", "10.0.0.1"))

		// Ended windows are removed with the next failure.
		clk.t = clk.t.Add(store.LoginLockoutWindow)
		require.NoError(t, st.RecordLoginFailure(ctx, nil))
		var n int64
		require.NoError(t, db.Table("login_attempts").Count(&n).Error)
		require.Zero(t, n)
	})
}

// TestLoginAttemptsParallel: 40 parallel reservations of one pair (each
// on its own connection where the database has several) get exactly 4.
func TestLoginAttemptsParallel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		st, _ := idtStore(db)
		var granted atomic.Int32
		errs := make(chan error, 40)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ok, err := st.ReserveLoginAttempt(context.Background(), "carol", "192.0.2.4")
				if ok {
					granted.Add(1)
				}
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, int32(store.LoginFailureLimit), granted.Load())
	})
}

// TestLoginToken: the token is created once, its lifetime restarted on
// each login, replaced when it expired, and replaced by RefreshToken.
func TestLoginToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, clk := idtStore(db)
		lt := 600
		u := idtUser(t, st, "carol", func(p *store.UserProfile) { p.TokenLifetime = &lt })
		t1, err := st.LoginToken(ctx, &u.User)
		require.NoError(t, err)
		clk.t = clk.t.Add(5 * time.Minute)
		t2, err := st.LoginToken(ctx, &u.User)
		require.NoError(t, err)
		require.Equal(t, t1.Key, t2.Key, "a live token is kept")
		require.True(t, t2.Created.Equal(clk.t), "and its lifetime restarts")
		clk.t = clk.t.Add(11 * time.Minute)
		t3, err := st.LoginToken(ctx, &u.User)
		require.NoError(t, err)
		require.NotEqual(t, t2.Key, t3.Key, "an expired token is replaced")
		t4, err := st.RefreshToken(ctx, u.ID)
		require.NoError(t, err)
		require.NotEqual(t, t3.Key, t4.Key)
		toks, err := st.TokensOf(ctx, []int64{u.ID})
		require.NoError(t, err)
		require.Equal(t, t4.Key, toks[u.ID].Key)
		require.NoError(t, st.DeleteToken(ctx, u.ID, nil))
		toks, err = st.TokensOf(ctx, []int64{u.ID})
		require.NoError(t, err)
		require.Empty(t, toks)
	})
}

// TestUserProfileRoundTrip: every profile column is written and read back.
func TestUserProfileRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, _ := idtStore(db)
		bd := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
		g := 2
		u := idtUser(t, st, "dave", func(p *store.UserProfile) {
			p.NativeName, p.Nationalities, p.BirthDate, p.Gender = "Dåve", []string{"EE", "FI"}, &bd, &g
		})
		got, err := st.UserProfileByUUID(ctx, u.UUID)
		require.NoError(t, err)
		require.Equal(t, "Dåve", got.NativeName)
		require.Equal(t, []string{"EE", "FI"}, got.Nationalities)
		require.Equal(t, "1990-05-17", got.BirthDate.UTC().Format("2006-01-02"))
		require.Equal(t, 2, *got.Gender)
		require.Equal(t, "default", got.RegistrationMethod)
		require.NoError(t, st.UpdateUserProfile(ctx, u.ID, map[string]any{"job_title": "CTO", "eduperson_assurance": `["a"]`}, nil))
		got, err = st.UserProfileByUUID(ctx, u.UUID)
		require.NoError(t, err)
		require.Equal(t, "CTO", got.JobTitle)
		require.Equal(t, []string{"a"}, got.EdupersonAssurance)
		require.True(t, store.CheckPassword(got.Password, "secret-pass1"))
		require.NoError(t, st.SetPassword(ctx, u.ID, "other-pass2", "", &models.Event{EventType: "user_password_updated", Message: "x"}))
		got, err = st.UserProfileByUUID(ctx, u.UUID)
		require.NoError(t, err)
		require.True(t, store.CheckPassword(got.Password, "other-pass2"))
		err = st.CreateUserProfile(ctx, &store.UserProfile{User: models.User{Username: "dave"}}, "", nil)
		require.True(t, models.IsCode(err, models.CodeInvalid), "username taken: %v", err)
	})
}
