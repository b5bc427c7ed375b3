package slurm_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/slurm"
)

// slurmWorld: customer C with projects p1 and p2, a SLURM offering with
// cpu and gpu usage components (no ram) on a priced plan, and three
// allocations: r1 (p1, OK, acc1), r2 (p2, Erred, acc2), r3 (p1, OK, acc3).
type slurmWorld struct {
	db                *gorm.DB
	st                *store.Store
	customer, p1, p2  int64
	offering          *store.Offering
	r1, r2, r3        models.UUID
	users             map[string]*models.User
	env               *testsuite.TestActivityEnvironment
	a                 *slurm.Activities
	customerUUID, p1U models.UUID
}

func newSlurmWorld(t *testing.T, db *gorm.DB) *slurmWorld {
	ctx := context.Background()
	w := &slurmWorld{db: db, st: store.New(db), users: map[string]*models.User{}}
	now := time.Now().UTC()
	ins := func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	w.customer, w.customerUUID = ins("customers", map[string]any{"name": "C", "accounting_start_date": now, "created": now, "modified": now})
	w.p1, w.p1U = ins("projects", map[string]any{"name": "p1", "customer_id": w.customer, "created": now, "modified": now})
	w.p2, _ = ins("projects", map[string]any{"name": "p2", "customer_id": w.customer, "created": now, "modified": now})
	for _, s := range []models.Scope{{Type: models.ScopeCustomer, ID: w.customer}, {Type: models.ScopeProject, ID: w.p1}, {Type: models.ScopeProject, ID: w.p2}} {
		require.NoError(t, w.st.InitQuotas(ctx, s))
	}
	cat, _ := ins("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	off, _ := ins("offerings", map[string]any{"name": "Cluster", "customer_id": w.customer, "category_id": cat, "type": slurm.OfferingType,
		"state": models.OfferingActive, "billable": true, "plugin_options": `{}`, "created": now, "modified": now})
	plan, _ := ins("plans", map[string]any{"name": "Usage", "offering_id": off, "unit": "month", "created": now, "modified": now})
	for typ, price := range map[string]string{"cpu": "0.5", "gpu": "3"} {
		comp, _ := ins("offering_components", map[string]any{"offering_id": off, "type": typ, "name": typ, "billing_type": "usage", "measured_unit": "hours"})
		require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": plan, "component_id": comp, "price": price, "amount": 0}).Error)
	}
	var o store.Offering
	require.NoError(t, db.Where("id = ?", off).Take(&o).Error)
	w.offering = &o
	past := now.Add(-time.Hour)
	res := func(project int64, state models.ResourceState, backend string) models.UUID {
		_, id := ins("resources", map[string]any{"name": backend, "project_id": project, "offering_id": off, "plan_id": plan, "state": state,
			"backend_id": backend, "created": past, "modified": past})
		return id
	}
	w.r1, w.r2, w.r3 = res(w.p1, models.ResourceOK, "acc1"), res(w.p2, models.ResourceErred, "acc2"), res(w.p1, models.ResourceOK, "acc3")
	for _, name := range []string{"alice", "bob", "carol", "dave", "mail@example.com"} {
		u := &models.User{Username: name, Email: "x@example.com", IsActive: true}
		require.NoError(t, w.st.CreateUser(ctx, u, ""))
		w.users[name] = u
	}
	// The plugin's registration declares its whole-hour usage billing.
	slurm.Register(providers.NewRegistry(), slurm.New())
	var s testsuite.WorkflowTestSuite
	w.env = s.NewTestActivityEnvironment()
	w.a = &slurm.Activities{Store: w.st}
	w.env.RegisterActivity(w.a)
	return w
}

func (w *slurmWorld) grant(t *testing.T, user, role string, scope models.Scope) {
	r, err := w.st.RoleByName(context.Background(), role)
	require.NoError(t, err)
	_, err = w.st.GrantRole(context.Background(), store.Grant{User: w.users[user], Role: r, Scope: scope, CustomerID: w.customer,
		EventScopes: []models.Scope{scope, {Type: models.ScopeCustomer, ID: w.customer}}})
	require.NoError(t, err)
}

func sorted(ids []models.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	sort.Strings(out)
	return out
}

// TestSlurmMembershipEvents: each scan returns the allocations whose
// members changed since the last one (a project role: its allocations; a
// customer role: all of the customer's; an offering account: the user's
// allocations on it; a new allocation: itself) and never the same event twice.
func TestSlurmMembershipEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newSlurmWorld(t, db)
		scan := func(cur slurm.SlurmEventCursor) slurm.SlurmEventScan {
			t.Helper()
			v, err := w.env.ExecuteActivity(w.a.SlurmMembershipEvents, cur)
			require.NoError(t, err)
			var out slurm.SlurmEventScan
			require.NoError(t, v.Get(&out))
			return out
		}
		w.grant(t, "alice", models.RoleProjectMember, models.Scope{Type: models.ScopeProject, ID: w.p1})
		s := scan(slurm.SlurmEventCursor{})
		require.Equal(t, 1, s.Events)
		require.Equal(t, sorted([]models.UUID{w.r1, w.r3}), sorted(s.Resources), "p1's allocations")

		s = scan(s.Cursor)
		require.Zero(t, s.Events, "an event is handed out once")
		require.Empty(t, s.Resources)

		w.grant(t, "carol", models.RoleProjectMember, models.Scope{Type: models.ScopeProject, ID: w.p2})
		s = scan(s.Cursor)
		require.Equal(t, []models.UUID{w.r2}, s.Resources, "p2's (Erred) allocation")

		w.grant(t, "bob", models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: w.customer})
		s = scan(s.Cursor)
		require.Equal(t, sorted([]models.UUID{w.r1, w.r2, w.r3}), sorted(s.Resources), "a customer role: every allocation of the customer")

		name := "carol7"
		_, err := w.st.CreateOfferingUser(context.Background(), store.NewOfferingUser{Offering: w.offering, User: w.users["carol"], Username: &name})
		require.NoError(t, err)
		s = scan(s.Cursor)
		require.Equal(t, []models.UUID{w.r2}, s.Resources, "carol's account: her allocations on the offering")

		imported, err := w.st.ImportResource(context.Background(), store.ImportResourceInput{OfferingUUID: w.offering.UUID, ProjectUUID: w.p1U, BackendID: "legacy"})
		require.NoError(t, err)
		s = scan(s.Cursor)
		require.Equal(t, []models.UUID{imported}, s.Resources, "a new allocation")

		r, err := w.st.RoleByName(context.Background(), models.RoleProjectMember)
		require.NoError(t, err)
		p1 := models.Scope{Type: models.ScopeProject, ID: w.p1}
		require.NoError(t, w.st.RevokeRole(context.Background(), store.Grant{User: w.users["alice"], Role: r, Scope: p1, CustomerID: w.customer,
			EventScopes: []models.Scope{p1, {Type: models.ScopeCustomer, ID: w.customer}}}))
		s = scan(s.Cursor)
		require.Equal(t, sorted([]models.UUID{w.r1, w.r3, imported}), sorted(s.Resources), "a revoked role")
	})
}

// TestSlurmAllocationsUsernames: the users each allocation should have,
// by offering account or platform username, invalid names set apart.
func TestSlurmAllocationsUsernames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newSlurmWorld(t, db)
		w.grant(t, "alice", models.RoleProjectMember, models.Scope{Type: models.ScopeProject, ID: w.p1})
		w.grant(t, "mail@example.com", models.RoleProjectAdmin, models.Scope{Type: models.ScopeProject, ID: w.p1})
		w.grant(t, "bob", models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: w.customer})
		name := "Alice.HPC"
		_, err := w.st.CreateOfferingUser(context.Background(), store.NewOfferingUser{Offering: w.offering, User: w.users["alice"], Username: &name})
		require.NoError(t, err)
		v, err := w.env.ExecuteActivity(w.a.SlurmAllocations, slurm.SlurmAllocationsInput{States: slurm.SlurmSyncStates,
			Resources: []models.UUID{w.r1, w.r2}, Members: true})
		require.NoError(t, err)
		var batches []slurm.SlurmBatch
		require.NoError(t, v.Get(&batches))
		require.Len(t, batches, 1)
		require.Equal(t, w.offering.UUID, batches[0].OfferingUUID)
		byAccount := map[string]slurm.SlurmAllocation{}
		for _, al := range batches[0].Allocations {
			byAccount[al.Account] = al
		}
		require.Equal(t, []string{"alice.hpc", "bob"}, byAccount["acc1"].Usernames)
		require.Equal(t, []string{"mail@example.com"}, byAccount["acc1"].Invalid)
		require.Equal(t, []string{"bob"}, byAccount["acc2"].Usernames)
		require.Equal(t, models.ResourceErred, byAccount["acc2"].State)
	})
}

// TestRecordSlurmUsage: a report becomes component usages (the offering's
// components only), per-user usages and invoice items; the same report
// again changes nothing; an Erred allocation whose account is there is OK
// again, an OK one whose account is gone Erred; a closed month is skipped.
func TestRecordSlurmUsage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newSlurmWorld(t, db)
		ctx := context.Background()
		list := func() slurm.SlurmBatch {
			v, err := w.env.ExecuteActivity(w.a.SlurmAllocations, slurm.SlurmAllocationsInput{States: slurm.SlurmUsageStates})
			require.NoError(t, err)
			var batches []slurm.SlurmBatch
			require.NoError(t, v.Get(&batches))
			require.Len(t, batches, 1)
			return batches[0]
		}
		month := billing.MonthOf(time.Now().UTC())
		reading := func(account string, exists bool, users map[string]slurm.TRESUsage) slurm.UsageReading {
			r := slurm.UsageReading{Account: account, Exists: exists, AccountUsage: slurm.AccountUsage{Account: account, Month: month.Start(), Users: users}}
			for _, u := range users {
				r.Total.CPUSeconds += u.CPUSeconds
				r.Total.GPUSeconds += u.GPUSeconds
				r.Total.MemMBSeconds += u.MemMBSeconds
			}
			return r
		}
		report := slurm.SlurmUsageReport{Month: month, Accounts: map[string]slurm.UsageReading{
			"acc1": reading("acc1", true, map[string]slurm.TRESUsage{"alice": {CPUSeconds: 5400, GPUSeconds: 1800, MemMBSeconds: 1 << 30}, "bob": {CPUSeconds: 1800}}),
			"acc2": reading("acc2", true, map[string]slurm.TRESUsage{"carol": {CPUSeconds: 360}}),
			"acc3": reading("acc3", false, nil),
		}}
		record := func(b slurm.SlurmBatch, rep slurm.SlurmUsageReport) map[string]slurm.SlurmUsageOutcome {
			t.Helper()
			v, err := w.env.ExecuteActivity(w.a.RecordSlurmUsage, slurm.RecordSlurmUsageInput{Batch: b, Report: rep})
			require.NoError(t, err)
			var out slurm.RecordSlurmUsageResult
			require.NoError(t, v.Get(&out))
			got := map[string]slurm.SlurmUsageOutcome{}
			for _, o := range out.Outcomes {
				got[o.Account] = o
			}
			return got
		}
		batch := list()
		got := record(batch, report)
		require.Equal(t, "recorded", got["acc1"].Outcome)
		require.Equal(t, map[string]decimal.Decimal{"cpu": decimal.RequireFromString("2"), "gpu": decimal.RequireFromString("0.5")}, got["acc1"].Usage,
			"2 CPU-hours, 0.5 GPU-hours; no ram component, no ram usage")
		require.Equal(t, "recorded", got["acc2"].Outcome)
		require.True(t, got["acc2"].Recovered)
		require.Equal(t, "erred", got["acc3"].Outcome)
		state := func(id models.UUID) models.ResourceState {
			v, err := w.st.ResourceViewByUUID(ctx, id)
			require.NoError(t, err)
			return v.State
		}
		require.Equal(t, models.ResourceOK, state(w.r2))
		require.Equal(t, models.ResourceErred, state(w.r3))

		usages, err := w.st.ComponentUsagesOf(ctx, w.r1, month.Start())
		require.NoError(t, err)
		require.Equal(t, "2", usages["cpu"].Usage.String())
		var uu []store.ComponentUserUsageView
		require.NoError(t, w.st.ComponentUserUsageViews(ctx).Where("cu.uuid = ?", usages["cpu"].UUID).Order("uu.username").Find(&uu).Error)
		require.Len(t, uu, 2)
		require.Equal(t, []string{"alice", "1.5", "bob", "0.5"}, []string{uu[0].Username, uu[0].Usage.String(), uu[1].Username, uu[1].Usage.String()})
		var prices []string
		require.NoError(t, db.Table("invoice_items ii").Joins("JOIN resources r ON r.id = ii.resource_id").Where("r.uuid = ?", w.r1).
			Order("ii.unit_price").Pluck("ii.price", &prices).Error)
		require.Len(t, prices, 2, "a cpu and a gpu item")
		require.True(t, decimal.RequireFromString("1").Equal(decimal.RequireFromString(prices[0])), "2 h × 0.5: %v", prices)
		// SLURM usage is billed in whole hours (Waldur): 0.5 GPU-hours → 1.
		require.True(t, decimal.RequireFromString("3").Equal(decimal.RequireFromString(prices[1])), "1 h × 3: %v", prices)

		// The same report again (a retried attempt with the same listing, then a new listing).
		for _, b := range []slurm.SlurmBatch{batch, list()} {
			got = record(b, report)
			require.Equal(t, "unchanged", got["acc1"].Outcome)
			require.Equal(t, "unchanged", got["acc2"].Outcome)
			require.Equal(t, "skipped", got["acc3"].Outcome, "Erred, its account still gone")
		}

		// A closed month takes no more usage.
		require.NoError(t, w.st.MarkMonthClosed(ctx, month.Next()))
		more := report
		more.Accounts = map[string]slurm.UsageReading{"acc1": reading("acc1", true, map[string]slurm.TRESUsage{"alice": {CPUSeconds: 9000}})}
		got = record(list(), more)
		require.Equal(t, "skipped", got["acc1"].Outcome)
		require.Contains(t, got["acc1"].Message, "closed")
	})
}
