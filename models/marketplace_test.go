package models

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOfferingTransitions(t *testing.T) {
	all := []OfferingState{OfferingDraft, OfferingActive, OfferingPaused, OfferingArchived}
	allowed := map[string]map[OfferingState]OfferingState{
		"activate": {OfferingDraft: OfferingActive, OfferingPaused: OfferingActive},
		"pause":    {OfferingActive: OfferingPaused},
		"unpause":  {OfferingPaused: OfferingActive},
		"archive":  {OfferingDraft: OfferingArchived, OfferingActive: OfferingArchived, OfferingPaused: OfferingArchived, OfferingArchived: OfferingArchived},
		"draft":    {OfferingDraft: OfferingDraft, OfferingActive: OfferingDraft, OfferingPaused: OfferingDraft, OfferingArchived: OfferingDraft},
	}
	for action, moves := range allowed {
		for _, from := range all {
			to, err := OfferingTransition(action, from, true)
			if want, ok := moves[from]; ok {
				require.NoError(t, err, "%s from %s", action, from)
				require.Equal(t, want, to)
			} else {
				require.True(t, IsCode(err, CodeConflict), "%s from %s: %v", action, from, err)
				require.Contains(t, err.Error(), "Valid states for operation")
				require.Equal(t, from, to)
			}
		}
	}
	_, err := OfferingTransition("activate", OfferingDraft, false)
	require.True(t, IsCode(err, CodeConflict), "no plans, no activation")
	_, err = OfferingTransition("explode", OfferingDraft, true)
	require.True(t, IsCode(err, CodeInvalid))
	require.True(t, OfferingActive.OrdersAllowed(OrderCreate))
	require.False(t, OfferingPaused.OrdersAllowed(OrderCreate))
	require.True(t, OfferingPaused.OrdersAllowed(OrderTerminate))
	require.False(t, OfferingArchived.OrdersAllowed(OrderTerminate))
}

func TestOrderTransitions(t *testing.T) {
	states := []OrderState{OrderPendingConsumer, OrderPendingProvider, OrderPendingProject, OrderExecuting, OrderDone, OrderErred, OrderCanceled, OrderRejected}
	cases := map[string][]OrderState{
		"approve_by_provider": {OrderPendingProvider},
		"reject_by_consumer":  {OrderPendingConsumer},
		"reject_by_provider":  {OrderPendingProvider},
		"cancel":              {OrderPendingConsumer, OrderPendingProvider, OrderPendingProject, OrderExecuting},
		"set_state_executing": {OrderPendingConsumer, OrderPendingProvider, OrderErred},
		"set_state_done":      {OrderExecuting},
		"set_state_erred":     {OrderPendingConsumer, OrderPendingProvider, OrderPendingProject, OrderExecuting},
	}
	for event, from := range cases {
		ok := map[OrderState]bool{}
		for _, s := range from {
			ok[s] = true
		}
		for _, s := range states {
			_, err := OrderTransition(event, s)
			if ok[s] {
				require.NoError(t, err, "%s from %s", event, s)
			} else {
				require.True(t, IsCode(err, CodeConflict), "%s from %s must be refused: %v", event, s, err)
			}
		}
	}
	to, err := OrderTransition("set_state_done", OrderExecuting)
	require.NoError(t, err)
	require.Equal(t, OrderDone, to)
	for _, s := range states {
		require.Equal(t, s == OrderDone || s == OrderErred || s == OrderCanceled || s == OrderRejected, s.Terminal(), s)
	}
}

func TestResourceTransitions(t *testing.T) {
	require.NoError(t, ResourceTransition(ResourceCreating, ResourceOK))
	require.NoError(t, ResourceTransition(ResourceErred, ResourceOK))
	require.NoError(t, ResourceTransition(ResourceOK, ResourceTerminating))
	require.Error(t, ResourceTransition(ResourceTerminated, ResourceOK), "terminated is final")
	require.Error(t, ResourceTransition(ResourceTerminated, ResourceErred))
}

// TestApprovalRules follows §5 of the reference: consumer review skipped for
// staff, ORDER.APPROVE holders, private offerings with APPROVE_PRIVATE, the
// provider's own projects when the offering says so, and terminations by the
// provider's owner; provider review always where the provider completes
// the orders itself (Basic, Slurm).
func TestApprovalRules(t *testing.T) {
	base := ReviewContext{OrderType: OrderCreate, OfferingType: "Cloud.Instance", Shared: true, Billable: true, OfferingCustomerID: 1, ProjectCustomer: 2}
	cases := []struct {
		name  string
		ctx   func(ReviewContext) ReviewContext
		first OrderState
	}{
		{"project admin orders an automated offering: owner must approve", func(r ReviewContext) ReviewContext { return r }, OrderPendingConsumer},
		{"staff", func(r ReviewContext) ReviewContext { r.CreatorIsStaff = true; return r }, OrderExecuting},
		{"owner (ORDER.APPROVE)", func(r ReviewContext) ReviewContext { r.CreatorHasApprove = true; return r }, OrderExecuting},
		{"owner orders what its provider completes (Basic, Slurm): provider reviews", func(r ReviewContext) ReviewContext {
			r.CreatorHasApprove, r.ProviderCompletes = true, true
			return r
		}, OrderPendingProvider},
		{"automated offering asking for provider review", func(r ReviewContext) ReviewContext {
			r.CreatorHasApprove, r.ProviderReviewRequested = true, true
			return r
		}, OrderPendingProvider},
		{"private offering, APPROVE_PRIVATE", func(r ReviewContext) ReviewContext {
			r.Shared, r.Billable, r.CreatorHasApprovePriv = false, false, true
			return r
		}, OrderExecuting},
		{"APPROVE_PRIVATE does not cover a shared offering", func(r ReviewContext) ReviewContext { r.CreatorHasApprovePriv = true; return r }, OrderPendingConsumer},
		{"provider's own project with auto-approve", func(r ReviewContext) ReviewContext {
			r.ProjectCustomer, r.AutoApproveInServiceProvider = 1, true
			return r
		}, OrderExecuting},
		{"termination by the provider's owner", func(r ReviewContext) ReviewContext {
			r.OrderType, r.CreatorOwnsProvider = OrderTerminate, true
			return r
		}, OrderExecuting},
		{"project not started yet", func(r ReviewContext) ReviewContext {
			r.CreatorHasApprove, r.ProjectStartsInFuture = true, true
			return r
		}, OrderPendingProject},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.first, c.ctx(base).InitialOrderState())
		})
	}
}
