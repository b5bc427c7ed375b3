package store_test

import (
	"context"
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

type market struct {
	st                              *store.Store
	customer, project, offering, pl int64
}

func seedMarket(t *testing.T, db *gorm.DB, offeringState models.OfferingState) *market {
	now := time.Now().UTC()
	ins := func(table string, v map[string]any) int64 {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n
	}
	m := &market{st: store.New(db)}
	m.customer = ins("customers", map[string]any{"name": "consumer", "accounting_start_date": now, "created": now, "modified": now})
	m.project = ins("projects", map[string]any{"name": "p", "customer_id": m.customer, "created": now, "modified": now})
	provider := ins("customers", map[string]any{"name": "provider", "accounting_start_date": now, "created": now, "modified": now})
	cat := ins("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	m.offering = ins("offerings", map[string]any{"name": "Compute", "customer_id": provider, "category_id": cat, "type": models.OfferingBasic,
		"state": offeringState, "created": now, "modified": now})
	m.pl = ins("plans", map[string]any{"name": "Small", "offering_id": m.offering, "created": now, "modified": now})
	ctx := context.Background()
	require.NoError(t, m.st.InitQuotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: m.customer}))
	require.NoError(t, m.st.InitQuotas(ctx, models.Scope{Type: models.ScopeProject, ID: m.project}))
	return m
}

func (m *market) create(ctx context.Context) (*models.Order, error) {
	return m.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderCreate, ProjectID: m.project, OfferingID: m.offering, PlanID: &m.pl,
		Attributes: map[string]any{"name": "vm"}, Review: models.ReviewContext{OrderType: models.OrderCreate, OfferingType: models.OfferingBasic, ProviderCompletes: true, CreatorHasApprove: true}})
}

// TestParallelOrdersRespectResourceQuota: 300 concurrent create orders
// against a project nc_resource_count limit of 30 — exactly 30 accepted,
// and no resource or order is left behind by a refused one.
func TestParallelOrdersRespectResourceQuota(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		m := seedMarket(t, db, models.OfferingActive)
		require.NoError(t, m.st.SetQuotaLimit(ctx, models.Scope{Type: models.ScopeProject, ID: m.project}, models.QuotaResourceCount, 30))
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 300; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, err := m.create(ctx)
				switch {
				case err == nil:
					require.Equal(t, models.OrderPendingProvider, o.State, "Basic offerings wait for the provider")
					ok.Add(1)
				case models.IsCode(err, models.CodeQuotaExceeded):
					refused.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 30, ok.Load())
		require.EqualValues(t, 270, refused.Load())
		var orders, resources int64
		require.NoError(t, db.Table("orders").Count(&orders).Error)
		require.NoError(t, db.Table("resources").Count(&resources).Error)
		require.EqualValues(t, 30, orders)
		require.EqualValues(t, 30, resources, "a refused order leaves no resource")
		qs, err := m.st.Quotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: m.customer})
		require.NoError(t, err)
		require.Contains(t, qs, models.Quota{Name: models.QuotaResourceCount, Usage: 30, Limit: -1})
		pending, err := m.st.PendingWorkflowOrders(ctx, 100)
		require.NoError(t, err)
		require.Len(t, pending, 30, "every accepted order waits in the outbox for its workflow")
	})
}

func TestOrderRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		draft := seedMarket(t, db, models.OfferingDraft)
		_, err := draft.create(ctx)
		require.True(t, models.IsCode(err, models.CodeInvalid), "a draft offering takes no orders: %v", err)

		m := seedMarket(t, db, models.OfferingActive)
		o, err := m.create(ctx)
		require.NoError(t, err)
		terminate := func() error {
			_, err := m.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderTerminate, ProjectID: m.project, OfferingID: m.offering, ResourceID: o.ResourceID,
				Review: models.ReviewContext{OrderType: models.OrderTerminate, OfferingType: models.OfferingBasic, ProviderCompletes: true, CreatorHasApprove: true}})
			return err
		}
		err = terminate()
		require.Error(t, err)
		require.Contains(t, err.Error(), "Pending order for resource already exists.")
		require.NoError(t, db.Table("orders").Where("id = ?", o.ID).Update("state", models.OrderDone).Error)
		require.NoError(t, terminate(), "once the create order is done the resource can be terminated")
		require.Error(t, terminate(), "one pending order per resource")

		require.NoError(t, db.Table("customers").Where("id = ?", m.customer).Update("blocked", true).Error)
		_, err = m.create(ctx)
		require.ErrorContains(t, err, "Blocked/Archived organization is not available.")
	})
}

func resourceState(t *testing.T, db *gorm.DB, id int64) models.ResourceState {
	var s models.ResourceState
	require.NoError(t, db.Raw("SELECT state FROM resources WHERE id = ?", id).Scan(&s).Error)
	return s
}

func projectResourceUsage(t *testing.T, m *market) int64 {
	qs, err := m.st.Quotas(context.Background(), models.Scope{Type: models.ScopeProject, ID: m.project})
	require.NoError(t, err)
	for _, q := range qs {
		if q.Name == models.QuotaResourceCount {
			return q.Usage
		}
	}
	return -1
}

// TestOrderLifecycle: approve → executing → done makes the resource OK; a
// terminate order then terminates it and releases the quota; a rejected
// create terminates its resource; a failed create with nothing on the
// backend terminates it too; completing or failing twice changes nothing.
func TestOrderLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		m := seedMarket(t, db, models.OfferingActive)
		o, err := m.create(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, projectResourceUsage(t, m))

		_, err = m.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: o.UUID, Event: "set_state_done"}, nil)
		require.True(t, models.IsCode(err, models.CodeConflict), "done only from executing: %v", err)
		st, err := m.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: o.UUID, Event: "approve_by_provider"}, nil)
		require.NoError(t, err)
		require.Equal(t, models.OrderExecuting, st)
		// The same step again, from the state its sender saw (a workflow
		// task that ran it and died unrecorded): the state it led to, and
		// nothing written twice; from another state, or unnamed, a conflict.
		var approvals int64
		countApprovals := func() int64 {
			require.NoError(t, db.Table("events").Where("event_type = ?", "marketplace_order_approved").Count(&approvals).Error)
			return approvals
		}
		before := countApprovals()
		st, err = m.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: o.UUID, Event: "approve_by_provider", From: models.OrderPendingProvider}, nil)
		require.NoError(t, err)
		require.Equal(t, models.OrderExecuting, st)
		require.Equal(t, before, countApprovals(), "a repeated step emits no second event")
		_, err = m.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: o.UUID, Event: "approve_by_provider", From: models.OrderPendingConsumer}, nil)
		require.True(t, models.IsCode(err, models.CodeConflict), "approve_by_provider never leads from pending-consumer to executing: %v", err)
		_, err = m.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: o.UUID, Event: "approve_by_provider"}, nil)
		require.True(t, models.IsCode(err, models.CodeConflict), "%v", err)
		require.NoError(t, m.st.CompleteOrder(ctx, o.UUID, "backend-1", map[string]any{"ip": "10.0.0.1"}, "created"))
		require.NoError(t, m.st.CompleteOrder(ctx, o.UUID, "backend-1", nil, ""), "a retried completion is a no-op")
		require.Equal(t, models.ResourceOK, resourceState(t, db, o.ResourceID))
		info, err := m.st.OrderInfo(ctx, o.UUID)
		require.NoError(t, err)
		require.Equal(t, models.OrderDone, info.Order.State)
		require.Equal(t, "backend-1", info.ResourceBackendID)

		term, err := m.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderTerminate, ProjectID: m.project, OfferingID: m.offering, ResourceID: o.ResourceID,
			Review: models.ReviewContext{OrderType: models.OrderTerminate, OfferingType: "Test.Auto", CreatorHasApprove: true}})
		require.NoError(t, err)
		require.Equal(t, models.OrderExecuting, term.State, "an automated type needs no provider review")
		require.Equal(t, models.ResourceTerminating, resourceState(t, db, o.ResourceID), "terminating while the order runs")
		require.NoError(t, m.st.CompleteOrder(ctx, term.UUID, "", nil, ""))
		require.Equal(t, models.ResourceTerminated, resourceState(t, db, o.ResourceID))
		require.EqualValues(t, 0, projectResourceUsage(t, m), "termination releases the quota")

		rejected, err := m.create(ctx)
		require.NoError(t, err)
		st, err = m.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: rejected.UUID, Event: "reject_by_provider"}, nil)
		require.NoError(t, err)
		require.Equal(t, models.OrderRejected, st)
		require.Equal(t, models.ResourceTerminated, resourceState(t, db, rejected.ResourceID))
		_, err = m.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: rejected.UUID, Event: "approve_by_provider"}, nil)
		require.True(t, models.IsCode(err, models.CodeConflict))

		failed, err := m.create(ctx)
		require.NoError(t, err)
		_, err = m.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: failed.UUID, Event: "approve_by_provider"}, nil)
		require.NoError(t, err)
		require.NoError(t, m.st.FailOrder(ctx, failed.UUID, "backend exploded", "step 1 ok\n"))
		require.NoError(t, m.st.FailOrder(ctx, failed.UUID, "backend exploded", ""), "failing twice is a no-op")
		var output string
		require.NoError(t, db.Raw("SELECT output FROM orders WHERE uuid = ?", failed.UUID).Scan(&output).Error)
		require.Equal(t, "step 1 ok\n", output, "what the backend printed before failing is kept")
		require.Equal(t, models.ResourceTerminated, resourceState(t, db, failed.ResourceID), "nothing was created: terminated, not erred")
		require.EqualValues(t, 0, projectResourceUsage(t, m))
		var events []string
		require.NoError(t, db.Table("events").Order("id").Pluck("event_type", &events).Error)
		require.Contains(t, events, "marketplace_order_completed")
		require.Contains(t, events, "marketplace_order_rejected")
		require.Contains(t, events, "marketplace_order_failed")
	})
}

// TestPlanSwitch: an Update order with a new plan records the old plan,
// marks the resource Updating while it runs, and switches the plan when done.
func TestPlanSwitch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		m := seedMarket(t, db, models.OfferingActive)
		o, err := m.create(ctx)
		require.NoError(t, err)
		_, err = m.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: o.UUID, Event: "approve_by_provider"}, nil)
		require.NoError(t, err)
		require.NoError(t, m.st.CompleteOrder(ctx, o.UUID, "b", nil, ""))

		now := time.Now().UTC()
		big := models.NewUUID()
		require.NoError(t, db.Table("plans").Create(map[string]any{"uuid": big, "name": "Big", "offering_id": m.offering, "created": now, "modified": now}).Error)
		var bigID int64
		require.NoError(t, db.Raw("SELECT id FROM plans WHERE uuid = ?", big).Scan(&bigID).Error)
		up, err := m.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderUpdate, ProjectID: m.project, OfferingID: m.offering, ResourceID: o.ResourceID, PlanID: &bigID,
			Review: models.ReviewContext{OrderType: models.OrderUpdate, OfferingType: "Test.Auto", CreatorHasApprove: true}})
		require.NoError(t, err)
		require.Equal(t, models.ResourceUpdating, resourceState(t, db, o.ResourceID))
		var old *int64
		require.NoError(t, db.Raw("SELECT old_plan_id FROM orders WHERE id = ?", up.ID).Scan(&old).Error)
		require.NotNil(t, old)
		require.Equal(t, m.pl, *old)
		require.NoError(t, m.st.CompleteOrder(ctx, up.UUID, "", nil, ""))
		require.Equal(t, models.ResourceOK, resourceState(t, db, o.ResourceID))
		var plan int64
		require.NoError(t, db.Raw("SELECT plan_id FROM resources WHERE id = ?", o.ResourceID).Scan(&plan).Error)
		require.Equal(t, bigID, plan)

		// Plan periods: Small from creation until the switch, then Big, closed by termination.
		periods, err := m.st.PlanPeriods(ctx, o.ResourceID)
		require.NoError(t, err)
		require.Len(t, periods, 2)
		require.Equal(t, "Small", periods[0].PlanName)
		require.NotNil(t, periods[0].End)
		require.Equal(t, "Big", periods[1].PlanName)
		require.Equal(t, big, periods[1].PlanUUID)
		require.Nil(t, periods[1].End)
		require.True(t, !periods[1].Start.Before(*periods[0].End))
		term, err := m.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderTerminate, ProjectID: m.project, OfferingID: m.offering, ResourceID: o.ResourceID,
			Review: models.ReviewContext{OrderType: models.OrderTerminate, OfferingType: "Test.Auto", CreatorHasApprove: true}})
		require.NoError(t, err)
		require.NoError(t, m.st.CompleteOrder(ctx, term.UUID, "", nil, ""))
		periods, err = m.st.PlanPeriods(ctx, o.ResourceID)
		require.NoError(t, err)
		require.Len(t, periods, 2)
		require.NotNil(t, periods[1].End, "termination closes the open period")

		// The resource's life in Waldur's event types, in order.
		var types []string
		require.NoError(t, db.Raw("SELECT event_type FROM events WHERE event_type LIKE 'marketplace_resource_%' ORDER BY id").Scan(&types).Error)
		require.Equal(t, []string{
			"marketplace_resource_create_requested", "marketplace_resource_create_succeeded",
			"marketplace_resource_update_requested", "marketplace_resource_update_succeeded",
			"marketplace_resource_terminate_requested", "marketplace_resource_terminate_succeeded",
		}, types)
	})
}
