package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/fake"
	"github.com/waldur-go/waldur/workflows"
)

type billingEnv struct {
	db       *gorm.DB
	st       *store.Store
	c        client.Client
	customer int64
	project  int64
	offering int64
	plan     int64
	comp     int64
	ins      func(table string, v map[string]any) (int64, models.UUID)
}

// newBillingEnv starts one core worker with the order, billing and job
// workflows, and seeds a customer with a project and a monthly offering:
// plan M (unit price 100: an estimate, never billed) has a fixed component
// of 110 a month (120 from the next close on).
func newBillingEnv(t *testing.T, srv *temporaltest.Server, db *gorm.DB) *billingEnv {
	e := &billingEnv{db: db, st: store.New(db), c: srv.Client(t)}
	reg := providers.NewRegistry()
	reg.RegisterWith(&fake.Provider{Manual: true}, "q-basic-"+models.NewUUID().String()[:8], providers.Capabilities{ManualCompletion: true, Cancelable: true}, models.OfferingBasic)
	wr := workflows.NewRegistry()
	wr.Add(workflows.QueueCore, func(w worker.Registry) {
		workflows.RegisterOrders(w, &activities.Orders{Store: e.st, Providers: reg}, &workflows.OrderDispatcher{Store: e.st})
		workflows.RegisterBilling(w, &activities.Billing{Store: e.st, BatchSize: 2})
		workflows.RegisterJobs(w, &workflows.OrderJobs{Store: e.st, Temporal: e.c, Capabilities: reg.Capabilities})
	})
	ws, err := wr.Start(e.c, []string{workflows.QueueCore}, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)

	now := time.Now().UTC()
	e.ins = func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	e.customer, _ = e.ins("customers", map[string]any{"name": "consumer", "accounting_start_date": now, "created": now, "modified": now})
	e.project, _ = e.ins("projects", map[string]any{"name": "p", "customer_id": e.customer, "created": now, "modified": now})
	require.NoError(t, e.st.InitQuotas(context.Background(), models.Scope{Type: models.ScopeCustomer, ID: e.customer}))
	provider, _ := e.ins("customers", map[string]any{"name": "provider", "accounting_start_date": now, "created": now, "modified": now})
	cat, _ := e.ins("categories", map[string]any{"title": "x", "created": now, "modified": now})
	e.offering, _ = e.ins("offerings", map[string]any{"name": "VM", "customer_id": provider, "category_id": cat, "type": models.OfferingBasic,
		"state": models.OfferingActive, "billable": true, "plugin_options": "{}", "created": now, "modified": now})
	e.plan, _ = e.ins("plans", map[string]any{"name": "M", "offering_id": e.offering, "unit": "month", "unit_price": "100", "created": now, "modified": now})
	e.comp, _ = e.ins("offering_components", map[string]any{"offering_id": e.offering, "type": "base", "name": "Base", "billing_type": "fixed"})
	require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": e.plan, "component_id": e.comp, "price": "110",
		"amount": 1, "future_price": "120"}).Error)
	return e
}

// resource makes a resource of the project activated (a done create order) at `at`.
func (e *billingEnv) resource(t *testing.T, project int64, state models.ResourceState, at time.Time) (int64, models.UUID) {
	id, u := e.ins("resources", map[string]any{"name": "vm", "project_id": project, "offering_id": e.offering, "plan_id": e.plan,
		"state": state, "limits": "{}", "created": at.Add(-time.Hour), "modified": at})
	e.ins("orders", map[string]any{"type": models.OrderCreate, "state": models.OrderDone, "resource_id": id, "offering_id": e.offering,
		"project_id": project, "plan_id": e.plan, "limits": "{}", "attributes": "{}", "workflow_started": true, "completed_at": at,
		"created": at, "modified": at})
	return id, u
}

func (e *billingEnv) close(t *testing.T, month string) workflows.CloseMonthResult {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := workflows.StartCloseMonth(ctx, e.c, month)
	require.NoError(t, err)
	return out
}

type snapshot struct {
	Invoices []string
	Items    int64
	Events   int64
	Price    string
}

func (e *billingEnv) snapshot(t *testing.T) snapshot {
	var s snapshot
	var invs []store.Invoice
	require.NoError(t, e.db.Order("id").Find(&invs).Error)
	for _, i := range invs {
		s.Invoices = append(s.Invoices, i.Period().String()+" "+string(i.State)+" "+i.TotalPrice.StringFixed(2))
	}
	require.NoError(t, e.db.Table("invoice_items").Count(&s.Items).Error)
	require.NoError(t, e.db.Table("events").Count(&s.Events).Error)
	var p struct{ Price decimal.Decimal }
	require.NoError(t, e.db.Table("plan_components").Select("price").Where("plan_id = ?", e.plan).Scan(&p).Error)
	s.Price = p.Price.String()
	return s
}

// TestCloseMonth closes February 2026 on a real Temporal server: January
// (never registered before) is billed from the histories and finalized,
// the future price becomes current, February's invoices open with every
// resource's items; closing February again changes nothing.
func TestCloseMonth(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newBillingEnv(t, srv, db)
		for i := 0; i < 3; i++ { // three resources: two batches of two
			e.resource(t, e.project, models.ResourceOK, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
		}
		// January: 22 of 31 days → 0.71; 110 × 0.71 = 78.10 each.
		// February: whole month at the new price: 120 each.
		out := e.close(t, "2026-02")
		require.False(t, out.AlreadyClosed)
		require.Equal(t, 1, out.Finalized)
		require.Equal(t, int64(1), out.PricesCopied)
		require.Equal(t, 3, out.Current.Inserted)
		require.Equal(t, 3, out.Past.Inserted)
		s := e.snapshot(t)
		require.Equal(t, []string{"2026-01 created 234.30", "2026-02 pending 360.00", "2026-02 pending 0.00"}, s.Invoices)
		require.Equal(t, "120", s.Price)
		if kind == config.SQLite {
			recordHistory(t, e.c, workflows.CloseMonthWorkflowID(billing.Month{Year: 2026, Month: time.February}), "close-month")
		}

		again := e.close(t, "2026-02")
		require.True(t, again.AlreadyClosed)
		require.Equal(t, s, e.snapshot(t), "closing the same month twice changes nothing")

		// The hourly refresh of February finds nothing to change.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		run, err := e.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore},
			workflows.RefreshInvoices, workflows.RefreshInvoicesInput{Month: billing.Month{Year: 2026, Month: time.February}})
		require.NoError(t, err)
		var sum activities.RegisterSummary
		require.NoError(t, run.Get(ctx, &sum))
		require.Equal(t, 3, sum.Resources)
		require.Equal(t, [3]int{0, 0, 0}, [3]int{sum.Inserted, sum.Updated, sum.Deleted})
		require.Equal(t, s, e.snapshot(t))

		_, err = workflows.StartCloseMonth(ctx, e.c, "2026-13")
		require.Error(t, err)
	})
}

// TestCloseMonthFollowsWaldur closes February 2026 through the workflow
// with the rules of models/billing/testdata/waldur-rules.md that need the
// database: a resource whose creation failed is billed from the next month
// (4), and the item that exhausts a credit under 20 % tax is compensated
// the credit ÷ 1.2 (7).
func TestCloseMonthFollowsWaldur(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newBillingEnv(t, srv, db)
		now := time.Now().UTC()
		require.NoError(t, db.Table("customers").Where("id = ?", e.customer).Update("default_tax_percent", "20").Error)
		// A flat offering: 150 a month (its plan's unit price 10 is an estimate).
		cat, _ := e.ins("categories", map[string]any{"title": "flat", "created": now, "modified": now})
		var provider int64
		require.NoError(t, db.Raw("SELECT customer_id FROM offerings WHERE id = ?", e.offering).Scan(&provider).Error)
		off, _ := e.ins("offerings", map[string]any{"name": "Flat", "customer_id": provider, "category_id": cat, "type": models.OfferingBasic,
			"state": models.OfferingActive, "billable": true, "plugin_options": "{}", "created": now, "modified": now})
		plan, _ := e.ins("plans", map[string]any{"name": "F", "offering_id": off, "unit": "month", "unit_price": "10", "created": now, "modified": now})
		comp, _ := e.ins("offering_components", map[string]any{"offering_id": off, "type": "flat", "name": "Flat", "billing_type": "fixed"})
		require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": plan, "component_id": comp, "price": "150", "amount": 1}).Error)
		resource := func(name string, state models.ResourceState, created time.Time, order models.OrderState) {
			id, _ := e.ins("resources", map[string]any{"name": name, "project_id": e.project, "offering_id": off, "plan_id": plan,
				"state": state, "limits": "{}", "created": created, "modified": created})
			e.ins("orders", map[string]any{"type": models.OrderCreate, "state": order, "resource_id": id, "offering_id": off,
				"project_id": e.project, "plan_id": plan, "limits": "{}", "attributes": "{}", "workflow_started": true,
				"completed_at": created.Add(time.Hour), "created": created, "modified": created})
		}
		resource("ok", models.ResourceOK, time.Date(2025, 12, 15, 0, 0, 0, 0, time.UTC), models.OrderDone)
		resource("failed", models.ResourceErred, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), models.OrderErred)
		e.ins("customer_credits", map[string]any{"customer_id": e.customer, "value": "100", "expected_consumption": "0",
			"apply_as_minimal_consumption": false, "created": now, "modified": now})

		out := e.close(t, "2026-02")
		require.Equal(t, 1, out.Finalized)
		jan, err := e.st.InvoiceFor(context.Background(), e.customer, billing.Month{Year: 2026, Month: time.January})
		require.NoError(t, err)
		// January: only "ok" (150); the credit 100 exhausts on it: −100 ÷ 1.2 = −83.34;
		// 66.66 + 20 % tax 13.33 = 79.99.
		tot := jan.Totals()
		require.Equal(t, []string{"created", "66.66", "13.33", "79.99"},
			[]string{string(jan.State), tot.Price.StringFixed(2), tot.Tax.StringFixed(2), tot.Total.StringFixed(2)})
		var credit struct{ Value decimal.Decimal }
		require.NoError(t, db.Table("customer_credits").Select("value").Where("customer_id = ?", e.customer).Scan(&credit).Error)
		require.True(t, credit.Value.IsZero(), "the credit is used up: %s", credit.Value)
		// February: both, the failed one from its first whole month.
		feb, err := e.st.InvoiceFor(context.Background(), e.customer, billing.Month{Year: 2026, Month: time.February})
		require.NoError(t, err)
		require.Equal(t, "300.00", feb.TotalPrice.StringFixed(2))
	})
}

// TestPeriodicJobs runs the scan-and-fix jobs against a real Temporal server.
func TestPeriodicJobs(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newBillingEnv(t, srv, db)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		runJob := func(wf any) int {
			run, err := e.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore}, wf)
			require.NoError(t, err)
			var n int
			require.NoError(t, run.Get(ctx, &n))
			return n
		}
		state := func(table string, id int64) string {
			var s string
			require.NoError(t, db.Raw("SELECT state FROM "+table+" WHERE id = ?", id).Scan(&s).Error)
			return s
		}

		// Stuck: Updating for two hours with no order in flight → Erred; a
		// Creating resource whose order waits for the provider is left alone.
		old := time.Now().UTC().Add(-2 * time.Hour)
		stuck, _ := e.ins("resources", map[string]any{"name": "stuck", "project_id": e.project, "offering_id": e.offering,
			"state": models.ResourceUpdating, "created": old, "modified": old})
		waiting, _ := e.ins("resources", map[string]any{"name": "waiting", "project_id": e.project, "offering_id": e.offering,
			"state": models.ResourceCreating, "created": old, "modified": old})
		e.ins("orders", map[string]any{"type": models.OrderCreate, "state": models.OrderPendingProvider, "resource_id": waiting,
			"offering_id": e.offering, "project_id": e.project, "attributes": "{}", "workflow_started": true, "created": old, "modified": old})
		require.Equal(t, 1, runJob(workflows.MarkStuckResources))
		require.Equal(t, string(models.ResourceErred), state("resources", stuck))
		require.Equal(t, string(models.ResourceCreating), state("resources", waiting))
		require.Equal(t, 0, runJob(workflows.MarkStuckResources))

		// Resources of a project whose end date has come get terminate orders, once.
		ended, _ := e.ins("projects", map[string]any{"name": "ended", "customer_id": e.customer,
			"end_date": time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"), "created": old, "modified": old})
		r, _ := e.resource(t, ended, models.ResourceOK, old)
		require.Equal(t, 1, runJob(workflows.TerminateEndedProjects))
		var term struct {
			Type            models.OrderType
			State           models.OrderState
			WorkflowStarted bool
		}
		require.NoError(t, db.Table("orders").Select("type, state, workflow_started").Where("resource_id = ? AND type = ?", r, models.OrderTerminate).
			Take(&term).Error)
		require.Equal(t, models.OrderPendingProvider, term.State)
		require.True(t, term.WorkflowStarted)
		require.Equal(t, 0, runJob(workflows.TerminateEndedProjects), "the terminate order is in flight")

		// An order waiting for its project's start moves on once it has come.
		t.Run("release project orders", func(t *testing.T) {
			tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
			future, _ := e.ins("projects", map[string]any{"name": "later", "customer_id": e.customer, "start_date": tomorrow,
				"created": old, "modified": old})
			require.NoError(t, e.st.InitQuotas(ctx, models.Scope{Type: models.ScopeProject, ID: future}))
			o, err := e.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderCreate, ProjectID: future, OfferingID: e.offering, PlanID: &e.plan,
				Attributes: map[string]any{"name": "later"}, Review: models.ReviewContext{OrderType: models.OrderCreate,
					OfferingType: models.OfferingBasic, ProviderCompletes: true, CreatorHasApprove: true, ProjectStartsInFuture: true}})
			require.NoError(t, err)
			require.Equal(t, models.OrderPendingProject, o.State)
			require.NoError(t, workflows.StartOrder(ctx, e.c, o.UUID))
			require.Equal(t, 0, runJob(workflows.ReleaseProjectOrders), "the project has not started")
			require.NoError(t, db.Table("projects").Where("id = ?", future).Update("start_date", time.Now().UTC().Format("2006-01-02")).Error)
			require.Equal(t, 1, runJob(workflows.ReleaseProjectOrders))
			require.Equal(t, string(models.OrderPendingProvider), state("orders", o.ID), "a Basic offering's provider reviews it next")
		})
	})
}
