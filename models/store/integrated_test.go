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

// integratedType is a made-up offering type of an integration that keeps
// a backend in step (a cluster's allocations).
const integratedType = "Test.Allocation"

// integrationWorld is seedMarket with an integrated offering, a second project
// of the same customer, and users.
type integrationWorld struct {
	*market
	db       *gorm.DB
	project2 int64
	users    map[string]*models.User
	off      *store.Offering
	ctx      context.Context
}

func seedIntegration(t *testing.T, db *gorm.DB) *integrationWorld {
	ctx := context.Background()
	m := seedMarket(t, db, models.OfferingActive)
	require.NoError(t, db.Table("offerings").Where("id = ?", m.offering).Update("type", integratedType).Error)
	w := &integrationWorld{market: m, db: db, users: map[string]*models.User{}, ctx: ctx}
	now := time.Now().UTC()
	p2 := models.NewUUID()
	require.NoError(t, db.Table("projects").Create(map[string]any{"uuid": p2, "name": "p2", "customer_id": m.customer, "created": now, "modified": now}).Error)
	require.NoError(t, db.Raw("SELECT id FROM projects WHERE uuid = ?", p2).Scan(&w.project2).Error)
	for _, name := range []string{"alice", "bob", "carol", "dave", "eve.mail@example.com", "frank"} {
		u := &models.User{Username: name, Email: "x" + name + "@example.com", IsActive: name != "frank"}
		require.NoError(t, m.st.CreateUser(ctx, u, ""))
		w.users[name] = u
	}
	var off store.Offering
	require.NoError(t, db.Where("id = ?", m.offering).Take(&off).Error)
	w.off = &off
	return w
}

func (w *integrationWorld) grant(t *testing.T, user, role string, scope models.Scope) {
	r, err := w.st.RoleByName(w.ctx, role)
	require.NoError(t, err)
	_, err = w.st.GrantRole(w.ctx, store.Grant{User: w.users[user], Role: r, Scope: scope, CustomerID: w.customer,
		EventScopes: []models.Scope{scope, {Type: models.ScopeCustomer, ID: w.customer}}})
	require.NoError(t, err)
}

// resource inserts a resource of the offering in project.
func (w *integrationWorld) resource(t *testing.T, project int64, backendID string, state models.ResourceState) (int64, models.UUID) {
	id := models.NewUUID()
	now := time.Now().UTC().Add(-time.Hour)
	require.NoError(t, w.db.Table("resources").Create(map[string]any{"uuid": id, "name": "alloc " + backendID, "project_id": project,
		"offering_id": w.offering, "plan_id": w.pl, "state": state, "backend_id": backendID, "created": now, "modified": now}).Error)
	var n int64
	require.NoError(t, w.db.Raw("SELECT id FROM resources WHERE uuid = ?", id).Scan(&n).Error)
	return n, id
}

// TestIntegratedResourcesAndMembers: the sync jobs' view of resources
// (by type, state, backend id, project or customer, member) and of who
// should have access (project and customer roles in force, active users,
// the offering account's username when it is OK).
func TestIntegratedResourcesAndMembers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedIntegration(t, db)
		ctx := w.ctx
		r1, r1u := w.resource(t, w.project, "acc1", models.ResourceOK)
		_, r2u := w.resource(t, w.project2, "acc2", models.ResourceErred)
		_, _ = w.resource(t, w.project, "", models.ResourceOK)             // no backend id yet
		_, _ = w.resource(t, w.project, "acc4", models.ResourceTerminated) // gone
		r5, _ := w.resource(t, w.project2, "acc5", models.ResourceOK)

		proj := models.Scope{Type: models.ScopeProject, ID: w.project}
		w.grant(t, "alice", models.RoleProjectMember, proj)
		w.grant(t, "alice", models.RoleProjectAdmin, proj) // two roles, one entry
		w.grant(t, "bob", models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: w.customer})
		w.grant(t, "carol", models.RoleProjectMember, models.Scope{Type: models.ScopeProject, ID: w.project2})
		w.grant(t, "eve.mail@example.com", models.RoleProjectMember, proj)
		w.grant(t, "frank", models.RoleProjectMember, proj) // inactive user
		w.grant(t, "dave", models.RoleProjectMember, proj)
		r, err := w.st.RoleByName(ctx, models.RoleProjectMember)
		require.NoError(t, err)
		require.NoError(t, w.st.RevokeRole(ctx, store.Grant{User: w.users["dave"], Role: r, Scope: proj, CustomerID: w.customer}))

		// alice has an OK offering account, carol one still being created.
		name := "alice01"
		_, err = w.st.CreateOfferingUser(ctx, store.NewOfferingUser{Offering: w.off, User: w.users["alice"], Username: &name})
		require.NoError(t, err)
		empty := ""
		_, err = w.st.CreateOfferingUser(ctx, store.NewOfferingUser{Offering: w.off, User: w.users["carol"], Username: &empty})
		require.NoError(t, err)

		all := store.BackendResourceFilter{OfferingTypes: []string{integratedType}, States: []models.ResourceState{models.ResourceOK, models.ResourceErred}, WithBackendID: true}
		rs, err := w.st.IntegratedResources(ctx, all)
		require.NoError(t, err)
		require.Len(t, rs, 3)
		require.Equal(t, []string{"acc1", "acc2", "acc5"}, []string{rs[0].BackendID, rs[1].BackendID, rs[2].BackendID})
		require.Equal(t, w.off.UUID, rs[0].OfferingUUID)

		cases := []struct {
			name string
			f    func(f *store.BackendResourceFilter)
			want []models.UUID
		}{
			{"by resource", func(f *store.BackendResourceFilter) { f.Resources = []models.UUID{r2u} }, []models.UUID{r2u}},
			{"by state", func(f *store.BackendResourceFilter) { f.States = []models.ResourceState{models.ResourceErred} }, []models.UUID{r2u}},
			{"by project", func(f *store.BackendResourceFilter) { f.ProjectIDs = []int64{w.project} }, []models.UUID{r1u}},
			{"by customer", func(f *store.BackendResourceFilter) { f.CustomerIDs = []int64{w.customer} }, []models.UUID{r1u, r2u, rs[2].UUID}},
			{"by member (project role)", func(f *store.BackendResourceFilter) { u := w.users["carol"].UUID; f.MemberUserUUID = &u }, []models.UUID{r2u, rs[2].UUID}},
			{"by member (customer role)", func(f *store.BackendResourceFilter) { u := w.users["bob"].UUID; f.MemberUserUUID = &u }, []models.UUID{r1u, r2u, rs[2].UUID}},
			{"by revoked member", func(f *store.BackendResourceFilter) { u := w.users["dave"].UUID; f.MemberUserUUID = &u }, nil},
			{"other type", func(f *store.BackendResourceFilter) { f.OfferingTypes = []string{"Other"} }, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f := all
				tc.f(&f)
				got, err := w.st.IntegratedResources(ctx, f)
				require.NoError(t, err)
				var ids []models.UUID
				for _, r := range got {
					ids = append(ids, r.UUID)
				}
				require.Equal(t, tc.want, ids)
			})
		}

		mem, err := w.st.ResourceMembers(ctx, []int64{r1, r5})
		require.NoError(t, err)
		names := func(ms []store.MemberAccount) []string {
			var out []string
			for _, m := range ms {
				out = append(out, m.AccountName())
			}
			return out
		}
		require.Equal(t, []string{"alice01", "bob", "eve.mail@example.com"}, names(mem[r1]),
			"project roles (once per user) and customer roles; no inactive user, no revoked role; alice by her offering account")
		require.Equal(t, []string{"bob", "carol"}, names(mem[r5]), "carol's account is not OK yet: her platform username")
	})
}

// TestMembershipEventsAndFeeds: the events the membership jobs follow,
// and the scopes they were fed to.
func TestMembershipEventsAndFeeds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedIntegration(t, db)
		since := time.Now().UTC().Add(-time.Second)
		w.grant(t, "alice", models.RoleProjectMember, models.Scope{Type: models.ScopeProject, ID: w.project})
		w.grant(t, "bob", models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: w.customer})
		evs, err := w.st.EventsSince(w.ctx, []string{"role_granted"}, since, 10)
		require.NoError(t, err)
		require.Len(t, evs, 2)
		require.Equal(t, "project", evs[0].ContextMap()["scope_type"])
		feeds, err := w.st.EventFeeds(w.ctx, []int64{evs[0].ID, evs[1].ID})
		require.NoError(t, err)
		require.Contains(t, feeds[evs[0].ID], models.Scope{Type: models.ScopeProject, ID: w.project})
		require.Contains(t, feeds[evs[1].ID], models.Scope{Type: models.ScopeCustomer, ID: w.customer})
		later, err := w.st.EventsSince(w.ctx, []string{"role_granted"}, time.Now().UTC().Add(time.Minute), 10)
		require.NoError(t, err)
		require.Empty(t, later)
		none, err := w.st.EventsSince(w.ctx, []string{"role_revoked"}, since, 10)
		require.NoError(t, err)
		require.Empty(t, none)
	})
}

// TestMarkOKOnBackend: an Erred resource whose backend object is there is
// OK again, unless it changed since the listing or an order is running.
func TestMarkOKOnBackend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedIntegration(t, db)
		_, erred := w.resource(t, w.project, "acc1", models.ResourceErred)
		_, ok := w.resource(t, w.project, "acc2", models.ResourceOK)
		now := time.Now().UTC()
		require.True(t, models.IsCode(w.st.MarkOKOnBackend(w.ctx, erred, now.Add(-2*time.Hour)), models.CodeConflict), "changed after the listing")
		require.True(t, models.IsCode(w.st.MarkOKOnBackend(w.ctx, ok, now), models.CodeConflict), "not Erred")
		require.True(t, models.IsCode(w.st.MarkOKOnBackend(w.ctx, models.NewUUID(), now), models.CodeNotFound))
		require.NoError(t, w.st.MarkOKOnBackend(w.ctx, erred, now))
		v, err := w.st.ResourceViewByUUID(w.ctx, erred)
		require.NoError(t, err)
		require.Equal(t, models.ResourceOK, v.State)

		o, err := w.create(w.ctx) // a pending order of another resource does not matter; one of this resource does
		require.NoError(t, err)
		require.NoError(t, db.Table("resources").Where("id = ?", o.ResourceID).Updates(map[string]any{"state": models.ResourceErred,
			"modified": now.Add(-time.Hour)}).Error)
		var pendingUUID string
		require.NoError(t, db.Table("resources").Select("uuid").Where("id = ?", o.ResourceID).Row().Scan(&pendingUUID))
		err = w.st.MarkOKOnBackend(w.ctx, models.MustParseUUID(pendingUUID), now)
		require.True(t, models.IsCode(err, models.CodeConflict), "%v", err)
	})
}

// TestImportResource: a backend object becomes an OK resource with its
// backend id, limits and metadata, billed on the only plan; a second
// import of the same object, a removed project or a foreign plan is refused.
func TestImportResource(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedIntegration(t, db)
		ctx := w.ctx
		var projUUID, planUUID string
		require.NoError(t, db.Table("projects").Select("uuid").Where("id = ?", w.project).Row().Scan(&projUUID))
		require.NoError(t, db.Table("plans").Select("uuid").Where("id = ?", w.pl).Row().Scan(&planUUID))
		in := store.ImportResourceInput{OfferingUUID: w.off.UUID, ProjectUUID: models.MustParseUUID(projUUID), BackendID: "legacy_acc",
			Name: "legacy_acc", Description: "old", Limits: map[string]int64{"cpu": 10}, BackendMetadata: map[string]any{"parent_account": "root"}}
		id, err := w.st.ImportResource(ctx, in)
		require.NoError(t, err)
		v, err := w.st.ResourceViewByUUID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, models.ResourceOK, v.State)
		require.Equal(t, "legacy_acc", v.BackendID)
		require.Equal(t, "old", v.Description)
		require.NotNil(t, v.PlanUUID)
		require.Equal(t, planUUID, v.PlanUUID.String(), "the offering's only plan")
		require.JSONEq(t, `{"cpu":10}`, string(v.Limits))
		require.JSONEq(t, `{"parent_account":"root"}`, string(v.BackendMetadata))
		evs, err := w.st.EventsSince(ctx, []string{"marketplace_resource_create_succeeded"}, time.Now().Add(-time.Minute), 10)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, id.String(), evs[0].ContextMap()["resource_uuid"])
		qs, err := w.st.Quotas(ctx, models.Scope{Type: models.ScopeProject, ID: w.project})
		require.NoError(t, err)
		require.Contains(t, qs, models.Quota{Name: models.QuotaResourceCount, Usage: 1, Limit: -1})

		used, err := w.st.UsedBackendIDs(ctx, w.off.UUID, []string{"legacy_acc", "other"})
		require.NoError(t, err)
		require.Equal(t, map[string]bool{"legacy_acc": true}, used)

		_, err = w.st.ImportResource(ctx, in)
		require.True(t, models.IsCode(err, models.CodeInvalid), "imported twice: %v", err)
		bad := in
		bad.BackendID, bad.ProjectUUID = "x", models.NewUUID()
		_, err = w.st.ImportResource(ctx, bad)
		require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
		bad = in
		foreign := models.NewUUID()
		bad.BackendID, bad.PlanUUID = "y", &foreign
		_, err = w.st.ImportResource(ctx, bad)
		require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)

		// Terminated, its backend id can be imported again.
		require.NoError(t, db.Table("resources").Where("uuid = ?", id).Update("state", models.ResourceTerminated).Error)
		_, err = w.st.ImportResource(ctx, in)
		require.NoError(t, err)
	})
}
