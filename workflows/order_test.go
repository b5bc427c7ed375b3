package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/fake"
	"github.com/waldur-go/waldur/providers/script"
	"github.com/waldur-go/waldur/workflows"
)

type orderEnv struct {
	st       *store.Store
	db       *gorm.DB
	c        client.Client
	project  int64
	offering map[string]int64 // offering type -> id
	auto     *fake.Provider
	manual   *fake.Provider
	broken   *fake.Provider
	reg      *providers.Registry
}

func fastPolicies() workflows.OrderPolicies {
	p := workflows.DefaultOrderPolicies()
	p.DB = &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumInterval: 100 * time.Millisecond}
	p.Provider = &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumInterval: 100 * time.Millisecond, MaximumAttempts: 3}
	// A killed worker's activity is retried elsewhere once its heartbeats stop.
	p.HeartbeatTimeout = 2 * time.Second
	p.ProviderTimeout = 30 * time.Second
	return p
}

func newOrderEnv(t *testing.T, srv *temporaltest.Server, db *gorm.DB) *orderEnv {
	workflows.SetOrderPolicies(fastPolicies())
	t.Cleanup(func() { workflows.SetOrderPolicies(workflows.DefaultOrderPolicies()) })
	e := &orderEnv{st: store.New(db), db: db, c: srv.Client(t), offering: map[string]int64{},
		auto: &fake.Provider{}, manual: &fake.Provider{Manual: true}, broken: &fake.Provider{FailPermanently: true}}
	reg := providers.NewRegistry()
	queue := "q-" + models.NewUUID().String()[:8] // each subtest gets its own queues
	reg.Register(e.auto, queue+"-auto", "Test.Auto")
	reg.RegisterWith(e.manual, queue+"-basic", providers.Capabilities{ManualCompletion: true, Cancelable: true}, models.OfferingBasic)
	e.reg = reg
	reg.Register(e.broken, queue+"-broken", "Test.Broken")
	reg.Register(script.Provider{Timeout: 30 * time.Second}, queue+"-script", script.OfferingType)

	wr := workflows.NewRegistry()
	wr.Add(workflows.QueueCore, func(w worker.Registry) {
		workflows.RegisterOrders(w, &activities.Orders{Store: e.st, Providers: reg}, &workflows.OrderDispatcher{Store: e.st})
	})
	for _, q := range reg.Queues() {
		wr.Add(q, func(w worker.Registry) {
			workflows.RegisterProvision(w, &activities.Provision{Providers: reg, HeartbeatEvery: 100 * time.Millisecond})
		})
	}
	qs := append([]string{}, reg.Queues()...)
	ws, err := wr.Start(e.c, qs, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)
	// The order workflow runs on the core queue: one core worker per server.
	cw, err := wr.Start(e.c, []string{workflows.QueueCore}, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(cw.Stop)

	now := time.Now().UTC()
	ins := func(table string, v map[string]any) int64 {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n
	}
	cust := ins("customers", map[string]any{"name": "c", "accounting_start_date": now, "created": now, "modified": now})
	e.project = ins("projects", map[string]any{"name": "p", "customer_id": cust, "created": now, "modified": now})
	cat := ins("categories", map[string]any{"title": "x", "created": now, "modified": now})
	for _, typ := range []string{"Test.Auto", models.OfferingBasic, "Test.Broken"} {
		e.offering[typ] = ins("offerings", map[string]any{"name": typ, "customer_id": cust, "category_id": cat, "type": typ, "state": models.OfferingActive, "created": now, "modified": now})
	}
	e.offering[script.OfferingType] = ins("offerings", map[string]any{"name": "script", "customer_id": cust, "category_id": cat, "type": script.OfferingType,
		"state": models.OfferingActive, "created": now, "modified": now,
		"secret_options": `{"language":"shell","create":"echo creating $RESOURCE_NAME >&2\necho in $PROJECT_NAME of $CUSTOMER_NAME via $OFFERING_NAME\necho vm-$ORDER_UUID"}`})
	e.offering["script-fail"] = ins("offerings", map[string]any{"name": "script-fail", "customer_id": cust, "category_id": cat, "type": script.OfferingType,
		"state": models.OfferingActive, "created": now, "modified": now,
		"secret_options": `{"language":"shell","create":"echo step one\necho boom >&2\nexit 3"}`})
	return e
}

func (e *orderEnv) caps(typ string) providers.Capabilities {
	if e.reg == nil {
		return providers.Capabilities{}
	}
	caps, _ := e.reg.Capabilities(typ)
	return caps
}

func (e *orderEnv) order(t *testing.T, typ string) *models.Order {
	o, err := e.st.CreateOrder(context.Background(), store.NewOrder{Type: models.OrderCreate, ProjectID: e.project, OfferingID: e.offering[typ],
		Attributes: map[string]any{"name": "r"}, Review: models.ReviewContext{OrderType: models.OrderCreate, OfferingType: typ, CreatorHasApprove: true,
			ProviderCompletes: e.caps(typ).ManualCompletion}})
	require.NoError(t, err)
	return o
}

func (e *orderEnv) result(t *testing.T, o *models.Order) models.OrderState {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var st models.OrderState
	require.NoError(t, e.c.GetWorkflow(ctx, workflows.OrderWorkflowID(o.UUID), "").Get(ctx, &st))
	return st
}

func (e *orderEnv) update(t *testing.T, o *models.Order, event string) (models.OrderState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := e.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.OrderWorkflowID(o.UUID), UpdateName: workflows.UpdateOrderEvent,
		Args: []any{workflows.OrderAction{Event: event}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return "", err
	}
	var st models.OrderState
	err = h.Get(ctx, &st)
	return st, err
}

func (e *orderEnv) resourceState(t *testing.T, o *models.Order) models.ResourceState {
	var s models.ResourceState
	require.NoError(t, e.db.Raw("SELECT state FROM resources WHERE id = ?", o.ResourceID).Scan(&s).Error)
	return s
}

// TestOrderWorkflows runs orders end to end on a real Temporal server.
func TestOrderWorkflows(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newOrderEnv(t, srv, db)
		ctx := context.Background()

		// An automated offering: accepted, executed, done — started by the outbox dispatcher, twice.
		auto := e.order(t, "Test.Auto")
		require.Equal(t, models.OrderExecuting, auto.State)
		d := &workflows.OrderDispatcher{Store: e.st, Temporal: e.c}
		n, err := d.DispatchPendingOrders(ctx, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.NoError(t, workflows.StartOrder(ctx, e.c, auto.UUID), "a second start is a no-op")
		require.Equal(t, models.OrderDone, e.result(t, auto))
		require.Equal(t, models.ResourceOK, e.resourceState(t, auto))
		require.Equal(t, 1, e.auto.Created(auto.UUID))
		// Indexed for the Web UI: order, offering type and final state.
		desc, err := e.c.DescribeWorkflowExecution(ctx, workflows.OrderWorkflowID(auto.UUID), "")
		require.NoError(t, err)
		sa := desc.WorkflowExecutionInfo.GetSearchAttributes().GetIndexedFields()
		var got string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(sa["WaldurOrderState"], &got))
		require.Equal(t, "done", got)
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(sa["WaldurOrderUUID"], &got))
		require.Equal(t, auto.UUID.String(), got)
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(sa["WaldurOfferingType"], &got))
		require.Equal(t, "Test.Auto", got)
		n, err = d.DispatchPendingOrders(ctx, 10)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left in the outbox")
		if kind == config.SQLite {
			recordHistory(t, e.c, workflows.OrderWorkflowID(auto.UUID), "order-automated")
		}

		// A Basic offering: the provider approves, then marks it done.
		basic := e.order(t, models.OfferingBasic)
		require.Equal(t, models.OrderPendingProvider, basic.State)
		require.NoError(t, workflows.StartOrder(ctx, e.c, basic.UUID))
		_, err = e.update(t, basic, "set_state_done")
		require.Error(t, err, "not executing yet: the validator refuses")
		// Refusals keep their code across Temporal: an unknown event is
		// invalid (400), an event in the wrong state a conflict (409).
		_, err = e.update(t, basic, "bogus")
		coded, ok := temporalclient.Decode(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, models.CodeInvalid, coded.Code)
		require.Equal(t, `Unknown order event "bogus".`, coded.Message)
		_, err = e.update(t, basic, "approve_by_consumer")
		coded, ok = temporalclient.Decode(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, models.CodeConflict, coded.Code)
		st, err := e.update(t, basic, "approve_by_provider")
		require.NoError(t, err)
		require.Equal(t, models.OrderExecuting, st)
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, err = e.update(t, basic, "set_state_done")
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond) // the provider activity is still being recorded
		}
		require.NoError(t, err)
		require.Equal(t, models.OrderDone, st)
		require.Equal(t, models.OrderDone, e.result(t, basic))
		require.Equal(t, models.ResourceOK, e.resourceState(t, basic))
		if kind == config.SQLite {
			recordHistory(t, e.c, workflows.OrderWorkflowID(basic.UUID), "order-manual-approved-done")
		}

		// Rejected by the provider: the resource is terminated.
		rejected := e.order(t, models.OfferingBasic)
		require.NoError(t, workflows.StartOrder(ctx, e.c, rejected.UUID))
		st, err = e.update(t, rejected, "reject_by_provider")
		require.NoError(t, err)
		require.Equal(t, models.OrderRejected, st)
		require.Equal(t, models.OrderRejected, e.result(t, rejected))
		require.Equal(t, models.ResourceTerminated, e.resourceState(t, rejected))
		if kind == config.SQLite {
			recordHistory(t, e.c, workflows.OrderWorkflowID(rejected.UUID), "order-rejected")
		}

		// A Script offering completes on its own: the script's last line is the backend id.
		scripted := e.order(t, script.OfferingType)
		require.NoError(t, workflows.StartOrder(ctx, e.c, scripted.UUID))
		require.Equal(t, models.OrderDone, e.result(t, scripted))
		require.Equal(t, models.ResourceOK, e.resourceState(t, scripted))
		sinfo, err := e.st.OrderInfo(ctx, scripted.UUID)
		require.NoError(t, err)
		require.Equal(t, "vm-"+scripted.UUID.String(), sinfo.ResourceBackendID)
		var out string
		require.NoError(t, db.Raw("SELECT output FROM orders WHERE uuid = ?", scripted.UUID).Scan(&out).Error)
		require.Contains(t, out, "in p of c via script\n", "the script sees the project, customer and offering names")

		// A script that fails: the order errs with the script's message (not
		// Temporal's wrapping), and what it printed is kept as the order's output.
		sfail := e.order(t, "script-fail")
		require.NoError(t, workflows.StartOrder(ctx, e.c, sfail.UUID))
		require.Equal(t, models.OrderErred, e.result(t, sfail))
		var failed struct {
			ErrorMessage string
			Output       string
		}
		require.NoError(t, db.Raw("SELECT error_message, output FROM orders WHERE uuid = ?", sfail.UUID).Scan(&failed).Error)
		require.Equal(t, "Script for create failed: exit status 3. boom", failed.ErrorMessage)
		require.Equal(t, "step one\n", failed.Output)

		// A provider that refuses: the order fails and the resource is compensated.
		broken := e.order(t, "Test.Broken")
		require.NoError(t, workflows.StartOrder(ctx, e.c, broken.UUID))
		require.Equal(t, models.OrderErred, e.result(t, broken))
		require.Equal(t, models.ResourceTerminated, e.resourceState(t, broken))
		info, err := e.st.OrderInfo(ctx, broken.UUID)
		require.NoError(t, err)
		require.Equal(t, models.OrderErred, info.Order.State)
	})
}

// TestOrderTakesOverALostTransition: an Update whose database step
// committed but whose workflow task died unrecorded (the Temporal server
// killed at that moment) leaves the database a step ahead of the workflow:
// the order reads executing, its workflow still pending-provider. The
// provider's set_state_done (sent by the API with the state it read,
// executing), which the workflow refuses in its state, makes it read the
// state back and go on from there, so the order completes instead of
// refusing forever.
func TestOrderTakesOverALostTransition(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newOrderEnv(t, srv, db)
		ctx := context.Background()
		o := e.order(t, models.OfferingBasic)
		require.Equal(t, models.OrderPendingProvider, o.State)
		require.NoError(t, workflows.StartOrder(ctx, e.c, o.UUID))
		// The workflow has loaded the order (it answers for its state)...
		_, err := e.update(t, o, "approve_by_consumer")
		require.True(t, models.IsCode(orderErr(err), models.CodeConflict), "%v", err)
		// ... when the approval's database step commits without it.
		st, err := e.st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: o.UUID, Event: "approve_by_provider"}, nil)
		require.NoError(t, err)
		require.Equal(t, models.OrderExecuting, st)

		oc := workflows.OrderClient{Client: e.c, Store: e.st}
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		st, err = oc.Send(sendCtx, workflows.OrderRef{UUID: o.UUID, ID: o.ID}, workflows.OrderAction{Event: "set_state_done", Seen: models.OrderExecuting}, true)
		require.NoError(t, err)
		require.Equal(t, models.OrderDone, st)
		require.Equal(t, models.OrderDone, e.result(t, o))
		require.Equal(t, models.ResourceOK, e.resourceState(t, o))
		require.Equal(t, 1, e.manual.Created(o.UUID), "the provider's step ran once")

		// A refusal the database cannot change stays one: an order in the
		// same state as its workflow refuses set_state_done (busy, retried
		// until the caller gives up) and changes nothing.
		o2 := e.order(t, models.OfferingBasic)
		require.NoError(t, workflows.StartOrder(ctx, e.c, o2.UUID))
		shortCtx, cancel2 := context.WithTimeout(ctx, 2*time.Second)
		defer cancel2()
		_, err = oc.Send(shortCtx, workflows.OrderRef{UUID: o2.UUID, ID: o2.ID}, workflows.OrderAction{Event: "set_state_done", Seen: models.OrderPendingProvider}, true)
		require.Error(t, err)
		info, err := e.st.OrderInfo(ctx, o2.UUID)
		require.NoError(t, err)
		require.Equal(t, models.OrderPendingProvider, info.Order.State)
	})
}

// orderErr is the platform error an Update's refusal stands for.
func orderErr(err error) error { return workflows.OrderError(err) }
