package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// hookEnv is a workflow test environment with the hook workflows and
// activities registered under their production names and policies.
func hookEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *activities.Hooks) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	a := &activities.Hooks{}
	workflows.RegisterHooks(env, a)
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env, a
}

// calls records the activity calls of a workflow test in order.
type calls struct {
	mu  sync.Mutex
	log []string
}

func (c *calls) add(s string) func(mock.Arguments) {
	return func(mock.Arguments) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.log = append(c.log, s)
	}
}

func run(t *testing.T, env *testsuite.TestWorkflowEnvironment, eventID int64) workflows.DeliverEventHooksResult {
	env.ExecuteWorkflow(activities.DeliverEventHooksWorkflow, workflows.DeliverEventHooksInput{EventID: eventID})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.DeliverEventHooksResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res
}

func TestDeliverEventHooksRetriesThenMarks(t *testing.T) {
	env, a := hookEnv(t)
	c := &calls{}
	env.OnActivity(a.MatchHooks, mock.Anything, int64(7)).Return([]activities.MatchedHook{
		{ID: 1, Type: store.HookTypeWeb}, {ID: 2, Type: store.HookTypeEmail},
	}, nil).Run(c.add("match")).Once()
	var attempts []int32
	env.OnActivity(a.DeliverWebHook, mock.Anything, int64(1), int64(7)).Return(func(ctx context.Context, _, _ int64) error {
		attempts = append(attempts, activity.GetInfo(ctx).Attempt)
		if len(attempts) < 3 {
			return errors.New("receiver answered 500")
		}
		c.add("web")(nil)
		return nil
	})
	env.OnActivity(a.SendEmailHook, mock.Anything, int64(2), int64(7)).Return(nil).Run(c.add("email")).Once()
	env.OnActivity(a.MarkDispatched, mock.Anything, int64(7)).Return(nil).Run(c.add("mark")).Once()

	res := run(t, env, 7)
	require.Equal(t, workflows.DeliverEventHooksResult{Matched: 2, Delivered: 2}, res)
	require.Equal(t, []int32{1, 2, 3}, attempts, "the failing delivery is retried by Temporal")
	require.Equal(t, "match", c.log[0])
	require.ElementsMatch(t, []string{"web", "email"}, c.log[1:3], "deliveries run after the match")
	require.Equal(t, []string{"mark"}, c.log[3:], "the event is marked after every delivery ended")
}

func TestDeliverEventHooksGivesUp(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		calls int
	}{
		{"a 4xx refusal is not retried", temporal.NewNonRetryableApplicationError("refused with 404", activities.ErrWebHookRejected, nil), 1},
		{"retries stop after 10 attempts", errors.New("receiver answered 503"), 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, a := hookEnv(t)
			env.OnActivity(a.MatchHooks, mock.Anything, int64(3)).Return([]activities.MatchedHook{
				{ID: 1, Type: store.HookTypeWeb}, {ID: 2, Type: store.HookTypeWeb},
			}, nil).Once()
			n := 0
			env.OnActivity(a.DeliverWebHook, mock.Anything, int64(1), int64(3)).Return(func(context.Context, int64, int64) error {
				n++
				return c.err
			})
			env.OnActivity(a.DeliverWebHook, mock.Anything, int64(2), int64(3)).Return(nil).Once()
			env.OnActivity(a.MarkDispatched, mock.Anything, int64(3)).Return(nil).Once()
			res := run(t, env, 3)
			require.Equal(t, workflows.DeliverEventHooksResult{Matched: 2, Delivered: 1, Failed: 1}, res,
				"a delivery that gives up does not fail the workflow or the other deliveries")
			require.Equal(t, c.calls, n, "attempts")
		})
	}
}

func TestDeliverEventHooksNothingToDo(t *testing.T) {
	t.Run("no hook matches", func(t *testing.T) {
		env, a := hookEnv(t)
		env.OnActivity(a.MatchHooks, mock.Anything, int64(5)).Return([]activities.MatchedHook{}, nil).Once()
		env.OnActivity(a.MarkDispatched, mock.Anything, int64(5)).Return(nil).Once()
		require.Equal(t, workflows.DeliverEventHooksResult{}, run(t, env, 5))
	})
	t.Run("the event is gone", func(t *testing.T) {
		env, a := hookEnv(t)
		env.OnActivity(a.MatchHooks, mock.Anything, int64(5)).
			Return(nil, temporal.NewNonRetryableApplicationError("event 5 not found", activities.ErrEventNotFound, nil)).Once()
		require.Equal(t, workflows.DeliverEventHooksResult{}, run(t, env, 5))
	})
	t.Run("the database is down for a while", func(t *testing.T) {
		env, a := hookEnv(t)
		env.OnActivity(a.MatchHooks, mock.Anything, int64(5)).Return(nil, errors.New("connection refused")).Times(4)
		env.OnActivity(a.MatchHooks, mock.Anything, int64(5)).Return([]activities.MatchedHook{}, nil).Once()
		env.OnActivity(a.MarkDispatched, mock.Anything, int64(5)).Return(nil).Once()
		require.Equal(t, workflows.DeliverEventHooksResult{}, run(t, env, 5))
	})
}

func TestDispatchEventsWorkflow(t *testing.T) {
	env, a := hookEnv(t)
	env.OnActivity(a.DispatchPendingEvents, mock.Anything, 0).Return(activities.DispatchResult{Started: 2, Skipped: 1}, nil).Once()
	env.ExecuteWorkflow(workflows.DispatchEvents, workflows.DispatchEventsInput{})
	require.NoError(t, env.GetWorkflowError())
	var res activities.DispatchResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, activities.DispatchResult{Started: 2, Skipped: 1}, res)

	s := workflows.EventDispatchSchedule
	require.Equal(t, "waldur-event-dispatch", s.ID)
	require.Equal(t, "* * * * *", s.Cron)
	require.Equal(t, workflows.QueueCore, s.TaskQueue)
}

// hookWorld is a database with an owner of customer Alpha.
type hookWorld struct {
	ctx   context.Context
	st    *store.Store
	db    *gorm.DB
	owner *models.User
	alpha models.Scope
}

func newHookWorld(t *testing.T, db *gorm.DB) *hookWorld {
	w := &hookWorld{ctx: context.Background(), st: store.New(db), db: db}
	w.owner = &models.User{Username: "owner", IsActive: true}
	require.NoError(t, w.st.CreateUser(w.ctx, w.owner, ""))
	now := time.Now().UTC()
	u := models.NewUUID()
	require.NoError(t, db.Table("customers").Create(map[string]any{"uuid": u, "name": "Alpha", "accounting_start_date": now, "created": now, "modified": now}).Error)
	var id int64
	require.NoError(t, db.Table("customers").Where("uuid = ?", u).Pluck("id", &id).Error)
	w.alpha = models.Scope{Type: models.ScopeCustomer, ID: id}
	r, err := w.st.RoleByName(w.ctx, models.RoleCustomerOwner)
	require.NoError(t, err)
	require.NoError(t, db.Table("user_roles").Create(map[string]any{"uuid": models.NewUUID(), "user_id": w.owner.ID, "role_id": r.ID,
		"scope_type": w.alpha.Type, "scope_id": w.alpha.ID, "created": now, "modified": now, "is_active": true}).Error)
	return w
}

func (w *hookWorld) emit(t *testing.T, typ string) *models.Event {
	ev := &models.Event{EventType: typ, Message: "Customer Alpha: " + typ, Scopes: []models.Scope{w.alpha}}
	require.NoError(t, w.st.Tx(w.ctx, func(tx *store.Store) error { return tx.EmitEvent(w.ctx, ev) }))
	return ev
}

// flaky fails the first n requests with 500 and accepts the rest, recording the accepted bodies.
type flaky struct {
	mu       sync.Mutex
	failures int
	requests int
	accepted [][]byte
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if f.requests <= f.failures {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	f.accepted = append(f.accepted, b)
	w.WriteHeader(http.StatusOK)
}

// shortRetries keeps the production shape with test-sized intervals.
func shortRetries() workflows.HookOptions {
	o := workflows.DefaultHookOptions()
	o.Delivery.InitialInterval = 50 * time.Millisecond
	o.Delivery.MaximumInterval = 200 * time.Millisecond
	o.Database.InitialInterval = 50 * time.Millisecond
	return o
}

func startHookWorker(t *testing.T, c client.Client, queue string, a *activities.Hooks) {
	w := worker.New(c, queue, worker.Options{})
	workflows.RegisterHooksWithOptions(w, a, shortRetries())
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
}

// TestEventHooksOnTemporal delivers an event through a real Temporal
// server to a receiver that fails twice before accepting: exactly one
// accepted delivery, the event marked dispatched, the hook published.
func TestEventHooksOnTemporal(t *testing.T) {
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newHookWorld(t, db)
		rec := &flaky{failures: 2}
		hs := httptest.NewServer(rec)
		defer hs.Close()
		hook := &store.Hook{UserID: w.owner.ID, HookType: store.HookTypeWeb, IsActive: true, DestinationURL: hs.URL + "/events",
			ContentType: store.HookContentJSON, EventTypes: []string{"customer_update_succeeded"}}
		require.NoError(t, w.st.CreateHook(w.ctx, hook))
		ev := w.emit(t, "customer_update_succeeded")

		queue := "hooks-e2e-" + string(kind)
		startHookWorker(t, c, queue, &activities.Hooks{Store: w.st, HTTP: hs.Client()})

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: activities.EventHooksWorkflowID(ev.UUID), TaskQueue: queue},
			activities.DeliverEventHooksWorkflow, workflows.DeliverEventHooksInput{EventID: ev.ID})
		require.NoError(t, err)
		require.Equal(t, "event-hooks-"+ev.UUID.String(), run.GetID())
		var res workflows.DeliverEventHooksResult
		require.NoError(t, run.Get(ctx, &res))
		require.Equal(t, workflows.DeliverEventHooksResult{Matched: 1, Delivered: 1}, res)
		if kind == config.SQLite {
			recordHistory(t, c, activities.EventHooksWorkflowID(ev.UUID), "event-hooks")
		}

		rec.mu.Lock()
		require.Equal(t, 3, rec.requests, "two failures, then the accepted delivery")
		require.Len(t, rec.accepted, 1)
		var body activities.WebHookPayload
		require.NoError(t, json.Unmarshal(rec.accepted[0], &body))
		rec.mu.Unlock()
		require.Equal(t, ev.UUID.String(), body.UUID)
		require.Equal(t, "customer_update_succeeded", body.EventType)
		require.Equal(t, ev.Message, body.Message)

		r, err := w.st.EventByID(w.ctx, ev.ID)
		require.NoError(t, err)
		require.True(t, r.HooksDispatched)
		h, err := w.st.HookByID(w.ctx, hook.ID)
		require.NoError(t, err)
		require.NotNil(t, h.LastPublished)
	})
}

// TestDispatchPendingEvents: the outbox relay starts one workflow per
// event however often it runs, and skips events no hook wants.
func TestDispatchPendingEvents(t *testing.T) {
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newHookWorld(t, db)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, w.st.CreateHook(w.ctx, &store.Hook{UserID: w.owner.ID, HookType: store.HookTypeWeb, IsActive: true,
			DestinationURL: "http://127.0.0.1:1/", EventGroups: []string{"customers"}}))
		wanted := []*models.Event{w.emit(t, "customer_update_succeeded"), w.emit(t, "customer_creation_succeeded")}
		w.emit(t, "role_granted") // no hook wants it

		// No worker polls the core queue here: the workflows stay open, as
		// they would while their deliveries retry.
		res, err := workflows.DispatchPendingEvents(ctx, c, w.st, 10)
		require.NoError(t, err)
		require.Equal(t, activities.DispatchResult{Started: 2, Skipped: 1}, res)
		pending, err := w.st.PendingEvents(w.ctx, 10)
		require.NoError(t, err)
		require.Empty(t, pending, "handed-off and skipped events are marked")
		runs := map[string]string{}
		for _, ev := range wanted {
			d, err := c.DescribeWorkflowExecution(ctx, activities.EventHooksWorkflowID(ev.UUID), "")
			require.NoError(t, err)
			require.Equal(t, activities.DeliverEventHooksWorkflow, d.WorkflowExecutionInfo.Type.Name)
			runs[ev.UUID.String()] = d.WorkflowExecutionInfo.Execution.RunId
		}

		res, err = workflows.DispatchPendingEvents(ctx, c, w.st, 10)
		require.NoError(t, err)
		require.Equal(t, activities.DispatchResult{}, res, "nothing is pending any more")

		// A relay that died after starting the workflows but before marking
		// the events runs again: the starts are no-ops.
		require.NoError(t, db.Exec(`UPDATE events SET hooks_dispatched = ?`, false).Error)
		res, err = workflows.DispatchPendingEvents(ctx, c, w.st, 10)
		require.NoError(t, err)
		require.Equal(t, activities.DispatchResult{AlreadyStarted: 2, Skipped: 1}, res)
		for _, ev := range wanted {
			d, err := c.DescribeWorkflowExecution(ctx, activities.EventHooksWorkflowID(ev.UUID), "")
			require.NoError(t, err)
			require.Equal(t, runs[ev.UUID.String()], d.WorkflowExecutionInfo.Execution.RunId, "still the first and only run")
		}
	})
}

// TestDispatchEventsOnTemporal runs the scheduled workflow on a worker: its
// activity relays the pending events in batches and the deliveries reach
// the receiver.
func TestDispatchEventsOnTemporal(t *testing.T) {
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newHookWorld(t, db)
		rec := &flaky{}
		hs := httptest.NewServer(rec)
		defer hs.Close()
		require.NoError(t, w.st.CreateHook(w.ctx, &store.Hook{UserID: w.owner.ID, HookType: store.HookTypeWeb, IsActive: true,
			DestinationURL: hs.URL, EventTypes: []string{"customer_update_succeeded"}}))
		var evs []*models.Event
		for range 3 {
			evs = append(evs, w.emit(t, "customer_update_succeeded"))
		}
		queue := "hooks-dispatch-" + string(kind)
		startHookWorker(t, c, queue, &activities.Hooks{Store: w.st, HTTP: hs.Client()})

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "dispatch-test-" + string(kind), TaskQueue: queue},
			workflows.DispatchEvents, workflows.DispatchEventsInput{Limit: 2})
		require.NoError(t, err)
		var res activities.DispatchResult
		require.NoError(t, run.Get(ctx, &res))
		require.Equal(t, activities.DispatchResult{Started: 3}, res, "two batches of at most 2")

		for _, ev := range evs {
			var out workflows.DeliverEventHooksResult
			require.NoError(t, c.GetWorkflow(ctx, activities.EventHooksWorkflowID(ev.UUID), "").Get(ctx, &out))
			require.Equal(t, workflows.DeliverEventHooksResult{Matched: 1, Delivered: 1}, out)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		require.Len(t, rec.accepted, 3)
		got := map[string]bool{}
		for _, b := range rec.accepted {
			var p activities.WebHookPayload
			require.NoError(t, json.Unmarshal(b, &p))
			got[p.UUID] = true
		}
		for _, ev := range evs {
			require.True(t, got[ev.UUID.String()], ev.UUID.String())
		}
	})
}
