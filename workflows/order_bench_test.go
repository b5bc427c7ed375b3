package workflows_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/fake"
	"github.com/waldur-go/waldur/workflows"
)

// parallel runs n jobs with benchStarters goroutines and returns the rate.
func parallel(b *testing.B, n int, job func() error) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchStarters)
	start := time.Now()
	for i := 0; i < benchStarters; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := job(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return float64(n) / elapsed.Seconds()
}

// noopActivity and oneActivityWorkflow are the fair baseline of an order:
// the same Temporal work (a start, a workflow task that schedules an
// activity on the provider's queue, that activity, a workflow task that
// completes) with nothing of the order's own (its rows, quotas, events).
func noopActivity(context.Context) error { return nil }

func oneActivityWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: "bench-auto", StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(ctx, noopActivity).Get(ctx, nil)
}

// BenchmarkOrdersVsEmptyWorkflow: orders per second from create (the API's
// transaction) to done, for an auto-approved offering on the embedded
// server (WAL SQLite file), next to empty workflows on the same server in
// the same run, and their ratio; and next to the fair baseline, workflows
// doing the same Temporal work as an order (oneActivityWorkflow, started
// eagerly as orders are), and that ratio.
func BenchmarkOrdersVsEmptyWorkflow(b *testing.B) {
	srv := temporaltest.StartFile(b, filepath.Join(b.TempDir(), "temporal.db"))
	c := srv.Client(b)
	db := dbtest.Migrated(b, config.SQLite)
	st := store.New(db)
	reg := providers.NewRegistry()
	reg.Register(&fake.Provider{}, "bench-auto", "Test.Auto")
	wr := workflows.NewRegistry()
	wr.Add(workflows.QueueCore, func(w worker.Registry) {
		w.RegisterWorkflow(workflows.Empty)
		w.RegisterWorkflow(oneActivityWorkflow)
		workflows.RegisterOrders(w, &activities.Orders{Store: st, Providers: reg}, &workflows.OrderDispatcher{Store: st})
	})
	wr.Add("bench-auto", func(w worker.Registry) {
		workflows.RegisterProvision(w, &activities.Provision{Providers: reg})
		w.RegisterActivity(noopActivity)
	})
	ws, err := wr.Start(c, []string{workflows.QueueCore, "bench-auto"}, worker.Options{MaxConcurrentWorkflowTaskPollers: 8, MaxConcurrentActivityTaskPollers: 8})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ws.Stop)

	now := time.Now().UTC()
	ins := func(table string, v map[string]any) int64 {
		id := models.NewUUID()
		v["uuid"] = id
		if err := db.Table(table).Create(v).Error; err != nil {
			b.Fatal(err)
		}
		var n int64
		db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n)
		return n
	}
	cust := ins("customers", map[string]any{"name": "c", "accounting_start_date": now, "created": now, "modified": now})
	project := ins("projects", map[string]any{"name": "p", "customer_id": cust, "created": now, "modified": now})
	cat := ins("categories", map[string]any{"title": "x", "created": now, "modified": now})
	off := ins("offerings", map[string]any{"name": "auto", "customer_id": cust, "category_id": cat, "type": "Test.Auto", "state": models.OfferingActive, "created": now, "modified": now})
	ctx := context.Background()

	order := func() error {
		o, err := st.CreateOrder(ctx, store.NewOrder{Type: models.OrderCreate, ProjectID: project, OfferingID: off, Attributes: map[string]any{"name": "r"},
			Review: models.ReviewContext{OrderType: models.OrderCreate, OfferingType: "Test.Auto", CreatorHasApprove: true}})
		if err != nil {
			return err
		}
		if err := workflows.StartOrder(ctx, c, o.UUID); err != nil {
			return err
		}
		var state models.OrderState
		return c.GetWorkflow(ctx, workflows.OrderWorkflowID(o.UUID), "").Get(ctx, &state)
	}
	empty := func() error {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore}, workflows.Empty)
		if err != nil {
			return err
		}
		return run.Get(ctx, nil)
	}
	same := func() error {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore, EnableEagerStart: true}, oneActivityWorkflow)
		if err != nil {
			return err
		}
		return run.Get(ctx, nil)
	}
	parallel(b, 20, order) // warm up
	parallel(b, 20, empty)
	parallel(b, 20, same)
	b.ResetTimer()
	orders := parallel(b, b.N, order)
	empties := parallel(b, b.N, empty)
	sames := parallel(b, b.N, same)
	b.StopTimer()
	b.ReportMetric(orders, "orders/s")
	b.ReportMetric(empties, "empty-workflows/s")
	b.ReportMetric(orders/empties, "ratio")
	b.ReportMetric(sames, "one-activity-workflows/s")
	b.ReportMetric(orders/sames, "ratio-same-work")
}
