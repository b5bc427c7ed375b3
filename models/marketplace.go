package models

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Offering types (Waldur's plugin names).
const (
	OfferingBasic = "Marketplace.Basic"
	OfferingSlurm = "Marketplace.Slurm"
)

// OfferingState is Waldur's offering state, rendered as its display name.
type OfferingState string

const (
	OfferingDraft    OfferingState = "Draft"
	OfferingActive   OfferingState = "Active"
	OfferingPaused   OfferingState = "Paused"
	OfferingArchived OfferingState = "Archived"
)

// offeringMoves is the table of allowed offering transitions (Waldur's FSM):
// activate from Draft|Paused (needs a plan), pause from Active, unpause from
// Paused (needs a plan), archive and draft from anywhere.
var offeringMoves = map[string]struct {
	from      []OfferingState // nil: any
	to        OfferingState
	needsPlan bool
}{
	"activate": {[]OfferingState{OfferingDraft, OfferingPaused}, OfferingActive, true},
	"pause":    {[]OfferingState{OfferingActive}, OfferingPaused, false},
	"unpause":  {[]OfferingState{OfferingPaused}, OfferingActive, true},
	"archive":  {nil, OfferingArchived, false},
	"draft":    {nil, OfferingDraft, false},
}

// OfferingTransition returns the state an offering in state `from` moves to
// on action, or a conflict error naming the valid states (Waldur's 409
// "Valid states for operation: …"). hasPlans says whether the offering (or
// its parent) has an active plan.
func OfferingTransition(action string, from OfferingState, hasPlans bool) (OfferingState, error) {
	m, ok := offeringMoves[action]
	if !ok {
		return from, Errorf(CodeInvalid, "Unknown offering action %q.", action)
	}
	if m.from != nil && !containsState(m.from, from) {
		return from, validStates(m.from)
	}
	if m.needsPlan && !hasPlans {
		return from, Errorf(CodeConflict, "Offering without plans can not be activated.")
	}
	return m.to, nil
}

// OrdersAllowed reports whether an offering in this state takes new orders of
// type t (Waldur: Active, or Paused for orders other than Create).
func (s OfferingState) OrdersAllowed(t OrderType) bool {
	return s == OfferingActive || (s == OfferingPaused && t != OrderCreate)
}

// BillingType is how a component is charged.
type BillingType string

const (
	BillingFixed BillingType = "fixed" // fixed price per plan unit
	BillingUsage BillingType = "usage" // reported usage
	BillingLimit BillingType = "limit" // the limit the consumer picks
	BillingOne   BillingType = "one"   // once, on activation
	BillingFew   BillingType = "few"   // once, on plan switch
)

// Valid reports whether b is a known billing type.
func (b BillingType) Valid() bool {
	switch b {
	case BillingFixed, BillingUsage, BillingLimit, BillingOne, BillingFew:
		return true
	}
	return false
}

// LimitPeriod is the period a limit-type component's amount applies to.
type LimitPeriod string

const (
	LimitMonth     LimitPeriod = "month"
	LimitQuarterly LimitPeriod = "quarterly"
	LimitAnnual    LimitPeriod = "annual"
	LimitTotal     LimitPeriod = "total"
)

// PlanUnit is the billing period of a plan's price.
type PlanUnit string

const (
	UnitMonth     PlanUnit = "month"
	UnitQuarter   PlanUnit = "quarter"
	UnitHalfMonth PlanUnit = "half_month"
	UnitDay       PlanUnit = "day"
	UnitHour      PlanUnit = "hour"
	UnitQuantity  PlanUnit = "quantity"
)

// OrderType is create, update or terminate (rendered Create/Update/Terminate).
type OrderType string

const (
	OrderCreate    OrderType = "Create"
	OrderUpdate    OrderType = "Update"
	OrderTerminate OrderType = "Terminate"
)

// OrderState is Waldur's order state, rendered as its display name.
type OrderState string

const (
	OrderPendingConsumer OrderState = "pending-consumer"
	OrderPendingProvider OrderState = "pending-provider"
	OrderPendingProject  OrderState = "pending-project"
	OrderExecuting       OrderState = "executing"
	OrderDone            OrderState = "done"
	OrderErred           OrderState = "erred"
	OrderCanceled        OrderState = "canceled"
	OrderRejected        OrderState = "rejected"
)

// Terminal reports whether no further transition is possible.
func (s OrderState) Terminal() bool {
	return s == OrderDone || s == OrderErred || s == OrderCanceled || s == OrderRejected
}

// Pending reports whether the order waits for a review or its project's start.
func (s OrderState) Pending() bool {
	return s == OrderPendingConsumer || s == OrderPendingProvider || s == OrderPendingProject
}

// orderMoves is the table of order transitions (Waldur's Order FSM plus the
// review steps): event → allowed source states → target.
var orderMoves = map[string]struct {
	from []OrderState // nil: any non-terminal state
	to   OrderState
}{
	"approve_by_consumer": {[]OrderState{OrderPendingConsumer}, ""}, // target decided by the review rules
	"approve_by_provider": {[]OrderState{OrderPendingProvider}, OrderExecuting},
	"reject_by_consumer":  {[]OrderState{OrderPendingConsumer}, OrderRejected},
	"reject_by_provider":  {[]OrderState{OrderPendingProvider}, OrderRejected},
	"release_project":     {[]OrderState{OrderPendingProject}, ""}, // project started: provider review or executing
	"cancel":              {[]OrderState{OrderPendingConsumer, OrderPendingProvider, OrderPendingProject, OrderExecuting}, OrderCanceled},
	"set_state_executing": {[]OrderState{OrderPendingConsumer, OrderPendingProvider, OrderErred}, OrderExecuting},
	"set_state_done":      {[]OrderState{OrderExecuting}, OrderDone},
	"set_state_erred":     {nil, OrderErred},
}

// OrderEvents lists the events an order can go through.
func OrderEvents() []string {
	out := make([]string, 0, len(orderMoves))
	for ev := range orderMoves {
		out = append(out, ev)
	}
	return out
}

// OrderTransition checks that event may happen in state from and returns the
// target state ("" when the review rules decide it). A wrong state is a
// conflict naming the valid states, as Waldur's 409.
func OrderTransition(event string, from OrderState) (OrderState, error) {
	m, ok := orderMoves[event]
	if !ok {
		return from, Errorf(CodeInvalid, "Unknown order event %q.", event)
	}
	if m.from == nil {
		if from.Terminal() {
			return from, Errorf(CodeConflict, "Order is already %s.", from)
		}
		return m.to, nil
	}
	if !containsOrderState(m.from, from) {
		names := make([]string, len(m.from))
		for i, s := range m.from {
			names[i] = string(s)
		}
		return from, Errorf(CodeConflict, "Valid states for operation: %s.", strings.Join(names, ", "))
	}
	return m.to, nil
}

// ResourceState is the marketplace resource's state (display names).
type ResourceState string

const (
	ResourceCreating    ResourceState = "Creating"
	ResourceOK          ResourceState = "OK"
	ResourceErred       ResourceState = "Erred"
	ResourceUpdating    ResourceState = "Updating"
	ResourceTerminating ResourceState = "Terminating"
	ResourceTerminated  ResourceState = "Terminated"
)

// ResourceTransition checks a move of a resource: OK only from Creating,
// Updating, Terminating or Erred; every other target from any state except
// Terminated, which is final.
func ResourceTransition(from, to ResourceState) error {
	if from == ResourceTerminated && to != ResourceTerminated {
		return Errorf(CodeConflict, "Resource is terminated.")
	}
	if to == ResourceOK && !(from == ResourceCreating || from == ResourceUpdating || from == ResourceTerminating || from == ResourceErred || from == ResourceOK) {
		return Errorf(CodeConflict, "Valid states for operation: Creating, Updating, Terminating, Erred.")
	}
	return nil
}

// ReviewContext is what the approval rules look at.
type ReviewContext struct {
	OrderType    OrderType
	OfferingType string
	// Offering flags and options.
	Shared, Billable             bool
	AutoApproveInServiceProvider bool // plugin_options.auto_approve_in_service_provider_projects
	ProviderReviewRequested      bool // the offering asks for provider review even for an automated type
	// ProviderCompletes: the offering type's provider completes its orders
	// itself (the registry's Capabilities.ManualCompletion: Basic, the site
	// agent's SLURM), so it always reviews them.
	ProviderCompletes                   bool
	OfferingCustomerID, ProjectCustomer int64
	// What the creator may do.
	CreatorIsStaff        bool
	CreatorHasApprove     bool // ORDER.APPROVE on the project or its customer
	CreatorHasApprovePriv bool // ORDER.APPROVE_PRIVATE on the project
	CreatorOwnsProvider   bool // CUSTOMER.OWNER of the offering's customer
	ProjectStartsInFuture bool
}

// ConsumerReviewNeeded is Waldur's order_should_not_be_reviewed_by_consumer, negated.
func (r ReviewContext) ConsumerReviewNeeded() bool {
	private := !r.Billable && !r.Shared
	switch {
	case r.CreatorIsStaff:
		return false
	case private && r.CreatorHasApprovePriv:
		return false
	case r.Shared && r.OfferingCustomerID == r.ProjectCustomer && r.AutoApproveInServiceProvider:
		return false
	case r.OrderType == OrderTerminate && r.CreatorOwnsProvider:
		return false
	case r.CreatorHasApprove:
		return false
	}
	return true
}

// ProviderReviewNeeded: always when the provider completes the orders
// itself (Basic, the site agent's SLURM); for automated types only when the
// offering asks for it.
func (r ReviewContext) ProviderReviewNeeded() bool {
	return r.ProviderCompletes || r.ProviderReviewRequested
}

// ProviderCompletes reports whether the provider of an offering type
// completes its orders itself (the providers registry's
// Capabilities.ManualCompletion); nil: none does.
type ProviderCompletes func(offeringType string) bool

// Of answers for offeringType (false for a nil func).
func (f ProviderCompletes) Of(offeringType string) bool { return f != nil && f(offeringType) }

// StateAfterConsumerApproval is where an order goes once the consumer side
// is satisfied: pending-project while its project has not started, then
// pending-provider when the provider reviews, else executing.
func (r ReviewContext) StateAfterConsumerApproval() OrderState {
	switch {
	case r.ProjectStartsInFuture:
		return OrderPendingProject
	case r.ProviderReviewNeeded():
		return OrderPendingProvider
	}
	return OrderExecuting
}

// InitialOrderState is the state a new order starts in.
func (r ReviewContext) InitialOrderState() OrderState {
	if r.ConsumerReviewNeeded() {
		return OrderPendingConsumer
	}
	return r.StateAfterConsumerApproval()
}

// Order is a request to create, change or terminate a resource.
type Order struct {
	ID           int64
	UUID         UUID
	Type         OrderType
	State        OrderState
	ResourceID   int64
	OfferingID   int64
	ProjectID    int64
	PlanID       *int64
	OldPlanID    *int64
	Limits       map[string]int64
	Attributes   map[string]any
	Cost         decimal.Decimal
	CreatedByID  *int64
	ErrorMessage string
	Output       string
	Created      time.Time
	Modified     time.Time
	CompletedAt  *time.Time
}

func containsState(ss []OfferingState, s OfferingState) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func containsOrderState(ss []OrderState, s OrderState) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func validStates(ss []OfferingState) error {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return Errorf(CodeConflict, "Valid states for operation: %s.", strings.Join(names, ", "))
}
