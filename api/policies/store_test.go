package policies_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/policies"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestPeriodOf: the calendar periods and their keys.
func TestPeriodOf(t *testing.T) {
	at := time.Date(2026, 11, 15, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		period     int
		key        string
		from, upto int
		prev       string
	}{
		{policies.PeriodMonth, "2026-11", 202611, 202611, "2026-10"},
		{policies.PeriodQuarter, "2026-Q4", 202610, 202612, "2026-Q3"},
		{policies.PeriodYear, "2026", 202601, 202612, "2025"},
		{policies.PeriodTotal, "total", 0, 999999, "total"},
	} {
		p := policies.PeriodOf(c.period, at)
		require.Equal(t, c.key, p.Key)
		require.Equal(t, c.from, p.From)
		require.Equal(t, c.upto, p.Upto)
		require.Equal(t, c.prev, p.Previous(c.period).Key)
	}
	require.Equal(t, "2026-Q1", policies.PeriodOf(policies.PeriodQuarter, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).Key)
}

// storeWorld is a consumer customer with a project and an OK resource of
// the provider's offering, an invoice item of 80 for it this month, and a
// usage of 150 cpu.
type storeWorld struct {
	db                               *gorm.DB
	st                               *store.Store
	customer, project, offering, res int64
	otherOffering                    int64
	resUUID                          models.UUID
	mk                               func(table string, v map[string]any) (int64, models.UUID)
	now                              time.Time
}

func newStoreWorld(t *testing.T, db *gorm.DB) *storeWorld {
	now := time.Now().UTC()
	w := &storeWorld{db: db, st: store.New(db), now: now}
	w.mk = func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	w.customer, _ = w.mk("customers", map[string]any{"name": "University", "accounting_start_date": now, "created": now, "modified": now})
	prov, _ := w.mk("customers", map[string]any{"name": "HPC", "accounting_start_date": now, "created": now, "modified": now})
	w.project, _ = w.mk("projects", map[string]any{"name": "Genomics", "customer_id": w.customer, "created": now, "modified": now})
	cat, _ := w.mk("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	w.offering, _ = w.mk("offerings", map[string]any{"name": "Cluster", "customer_id": prov, "category_id": cat, "type": models.OfferingSlurm,
		"state": models.OfferingActive, "created": now, "modified": now})
	w.otherOffering, _ = w.mk("offerings", map[string]any{"name": "Other", "customer_id": prov, "category_id": cat, "type": models.OfferingBasic,
		"state": models.OfferingActive, "created": now, "modified": now})
	comp, _ := w.mk("offering_components", map[string]any{"offering_id": w.offering, "type": "cpu", "name": "CPU", "billing_type": "usage"})
	w.res, w.resUUID = w.mk("resources", map[string]any{"project_id": w.project, "offering_id": w.offering, "name": "alloc", "state": "OK",
		"created": now, "modified": now})
	inv, _ := w.mk("invoices", map[string]any{"customer_id": w.customer, "year": now.Year(), "month": int(now.Month()), "state": "pending",
		"created": now, "modified": now})
	w.mk("invoice_items", map[string]any{"invoice_id": inv, "resource_id": w.res, "offering_id": w.offering, "project_id": w.project,
		"kind": "usage", "start": now, "end": now, "unit": "quantity", "unit_price": "0.5", "quantity": "160", "price": "80", "created": now, "modified": now})
	period := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	w.mk("component_usages", map[string]any{"resource_id": w.res, "component_id": comp, "usage": "150", "date": now,
		"billing_period": period, "created": now, "modified": now})
	return w
}

func (w *storeWorld) policy(t *testing.T, p *policies.Policy) *policies.Policy {
	require.NoError(t, policies.NewStore(w.st).Create(context.Background(), p))
	return p
}

func (w *storeWorld) notifications(t *testing.T) int64 {
	var n int64
	require.NoError(t, w.db.Table("events").Where("event_type = ?", policies.EventPolicyNotify).Count(&n).Error)
	return n
}

func (w *storeWorld) flags(t *testing.T) (downscaled, restricted bool) {
	var r struct {
		Downscaled           bool
		RestrictMemberAccess bool
	}
	require.NoError(t, w.db.Table("resources").Select("downscaled, restrict_member_access").Where("id = ?", w.res).Take(&r).Error)
	return r.Downscaled, r.RestrictMemberAccess
}

// TestEvaluateOfferingPolicies: an offering's cost policy (per customer)
// blocks new resources of the offering for the customer over it, not of
// other offerings; a usage policy blocks modification; each crossing fires
// once, also when the evaluation is run again by a fresh evaluator (a
// restarted worker); a figure back under its limit ends the crossing.
func TestEvaluateOfferingPolicies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := newStoreWorld(t, db)
		ps := policies.NewStore(w.st)
		cost := w.policy(t, &policies.Policy{Kind: policies.KindOfferingCost, ScopeID: w.offering, Period: policies.PeriodMonth,
			Actions: "notify_organization_owners,block_creation_of_new_resources", LimitCost: 50})
		usage := w.policy(t, &policies.Policy{Kind: policies.KindOfferingUsage, ScopeID: w.offering, Period: policies.PeriodMonth,
			Actions: "block_modification_of_existing_resources", ComponentLimits: []byte(`[{"type":"cpu","limit":100}]`)})
		require.NoError(t, ps.CheckCreate(ctx, w.project, w.offering))

		e := &policies.Evaluator{St: w.st}
		s, err := e.EvaluateAll(ctx)
		require.NoError(t, err)
		require.Equal(t, policies.Summary{Policies: 2, Fired: 2}, s)
		err = ps.CheckCreate(ctx, w.project, w.offering)
		require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
		require.Contains(t, err.Error(), cost.UUID.String())
		require.NoError(t, ps.CheckCreate(ctx, w.project, w.otherOffering))
		err = ps.CheckModify(ctx, w.project, w.offering)
		require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
		require.Contains(t, err.Error(), usage.UUID.String())
		require.Equal(t, int64(1), w.notifications(t))

		s, err = (&policies.Evaluator{St: w.st}).EvaluateAll(ctx) // a restarted worker
		require.NoError(t, err)
		require.Equal(t, policies.Summary{Policies: 2}, s)
		require.Equal(t, int64(1), w.notifications(t))

		require.NoError(t, db.Table("component_usages").Where("resource_id = ?", w.res).Update("usage", "50").Error)
		s, err = e.EvaluateAll(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, s.Ended)
		require.NoError(t, ps.CheckModify(ctx, w.project, w.offering))
		fs, err := ps.Firings(ctx, cost.ID)
		require.NoError(t, err)
		require.Len(t, fs, 1)
		require.Equal(t, w.customer, fs[0].TargetID)
		require.Equal(t, "80.00", fs[0].Figure)
	})
}

// TestEvaluateCustomerCostFlags: a customer cost policy's
// request_downscaling and restrict_members set the flags of the
// customer's resources when the estimate passes the limit and lift them
// when the limit is raised or the policy deleted.
func TestEvaluateCustomerCostFlags(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := newStoreWorld(t, db)
		ps := policies.NewStore(w.st)
		p := w.policy(t, &policies.Policy{Kind: policies.KindCustomerCost, ScopeID: w.customer, Period: policies.PeriodMonth,
			Actions: "request_downscaling,restrict_members", LimitCost: 80})
		e := &policies.Evaluator{St: w.st}
		f, _, err := e.Evaluate(ctx, p)
		require.NoError(t, err)
		require.Zero(t, f, "80 is not over 80")
		p.LimitCost = 79
		require.NoError(t, ps.Save(ctx, p))
		f, _, err = e.Evaluate(ctx, p)
		require.NoError(t, err)
		require.Equal(t, 1, f)
		d, r := w.flags(t)
		require.True(t, d)
		require.True(t, r)
		require.Zero(t, w.notifications(t), "no notify action")

		p.LimitCost = 1000
		require.NoError(t, ps.Save(ctx, p))
		_, n, err := e.Evaluate(ctx, p)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		d, r = w.flags(t)
		require.False(t, d)
		require.False(t, r)

		p.LimitCost = 1
		require.NoError(t, ps.Save(ctx, p))
		_, _, err = e.Evaluate(ctx, p)
		require.NoError(t, err)
		d, _ = w.flags(t)
		require.True(t, d)
		require.NoError(t, ps.Delete(ctx, p))
		d, _ = w.flags(t)
		require.False(t, d, "a deleted policy lifts its flags")
	})
}

// TestEvaluateTerminateResources: a project cost policy with
// terminate_resources places one Terminate order by the system for each
// resource in use of the project when it fires, none for a terminated
// resource, and none again when evaluated again (a restarted worker) while
// the crossing is in force.
func TestEvaluateTerminateResources(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := newStoreWorld(t, db)
		gone, _ := w.mk("resources", map[string]any{"project_id": w.project, "offering_id": w.otherOffering, "name": "old", "state": "Terminated",
			"created": w.now, "modified": w.now})
		p := w.policy(t, &policies.Policy{Kind: policies.KindProjectCost, ScopeID: w.project, Period: policies.PeriodMonth,
			Actions: "notify_organization_owners,terminate_resources", LimitCost: 50})
		type order struct {
			ResourceID  int64
			Type        string
			CreatedByID *int64
			Attributes  string
		}
		orders := func() []order {
			var os []order
			require.NoError(t, db.Table("orders").Select("resource_id, type, created_by_id, attributes").Order("id").Find(&os).Error)
			return os
		}
		f, _, err := (&policies.Evaluator{St: w.st}).Evaluate(ctx, p)
		require.NoError(t, err)
		require.Equal(t, 1, f)
		os := orders()
		require.Len(t, os, 1)
		require.Equal(t, w.res, os[0].ResourceID)
		require.NotEqual(t, gone, os[0].ResourceID)
		require.Equal(t, string(models.OrderTerminate), os[0].Type)
		require.Nil(t, os[0].CreatedByID, "placed by the system")
		require.Contains(t, os[0].Attributes, p.UUID.String())

		f, _, err = (&policies.Evaluator{St: w.st}).Evaluate(ctx, p) // a restarted worker
		require.NoError(t, err)
		require.Zero(t, f)
		require.Len(t, orders(), 1, "once per crossing")
		require.Equal(t, int64(1), w.notifications(t))
	})
}
