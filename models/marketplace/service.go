// Package marketplace is the order service: the one place that places an
// order (checks it, decides who must review it, reserves its quota and
// starts its workflow) and moves one (reviews, cancellation, the
// provider's state changes). The API's handlers decode a request, call the
// service and render its answer; the periodic jobs call the same service.
//
// The service talks to Temporal through an Engine (workflows.OrderClient),
// so it does not depend on the workflows it starts.
package marketplace

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/rbac"
)

// Ref names an order: its UUID (its workflow's) and its row.
type Ref struct {
	UUID models.UUID
	ID   int64
}

// Action is an event for an order's workflow (the Update it receives).
type Action struct {
	Event   string
	ActorID *int64
	Message string
	// Seen is the state the caller read the order in (the database's);
	// when the workflow knows another, it reads the state back before it
	// decides (a transition it lost, see workflows.OrderWorkflow).
	Seen models.OrderState `json:",omitempty"`
}

// Engine runs the orders' workflows (workflows.OrderClient).
type Engine interface {
	// Start starts the order's workflow (a second start is a no-op) and
	// marks the order started; on failure the dispatcher starts it later.
	Start(ctx context.Context, o Ref) error
	// Send delivers an action and returns the order's new state; refusals
	// keep their code; with retry a momentary refusal is retried.
	Send(ctx context.Context, o Ref, a Action, retry bool) (models.OrderState, error)
}

// Service places and moves orders.
type Service struct {
	Store *store.Store
	RBAC  *rbac.Checker
	// Engine runs the workflows; nil: orders wait for the dispatcher and
	// actions answer unavailable.
	Engine Engine
	// Imports runs the import workflows (workflows.ImportClient); nil:
	// imports answer unavailable.
	Imports Importer
	// Capabilities reports what an offering type's orders allow (ok false:
	// no provider serves it); nil: every type, no capability.
	Capabilities func(offeringType string) (providers.Capabilities, bool)
	// AvailableLimits lists the component types whose limits orders of an
	// offering type may carry besides limit-based ones (nil: none).
	AvailableLimits func(offeringType string) []string
	// CheckOrder checks a Create order of an offering type against what
	// the type's plugin records (plugin.Set.OrderCheck: a cloud tenant's
	// quotas) before it is accepted; nil: no check.
	CheckOrder func(ctx context.Context, offeringType string, o *store.NewOrder) error
	// CheckModification checks an Update order of a resource before it is
	// placed (the policies' block_modification_of_existing_resources:
	// policies.ModificationCheck); nil: no check.
	CheckModification func(ctx context.Context, o *store.NewOrder) error
	// Timeout bounds one call to Temporal (0: 30 s).
	Timeout time.Duration
	Now     func() time.Time
}

// Permissions the service checks.
const (
	PermOrderApprove        models.Permission = "ORDER.APPROVE"
	PermOrderApprovePrivate models.Permission = "ORDER.APPROVE_PRIVATE"
	PermOrderReject         models.Permission = "ORDER.REJECT"
	PermOrderCancel         models.Permission = "ORDER.CANCEL"
	PermOrderDestroy        models.Permission = "ORDER.DESTROY"
)

// MsgDoesNotExist is the error of a reference to nothing (Waldur's
// hyperlink error).
const MsgDoesNotExist = "Invalid hyperlink - Object does not exist."

// MsgRequired is the error of a missing field.
const MsgRequired = "This field is required."

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now().UTC()
}

func (s *Service) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 30 * time.Second
}

// Caps is what an offering type's orders allow; ok is false when no
// provider serves the type.
func (s *Service) Caps(offeringType string) (providers.Capabilities, bool) {
	if s.Capabilities == nil {
		return providers.Capabilities{}, true
	}
	return s.Capabilities(offeringType)
}

// providerCompletes: the type's provider completes its orders itself.
func (s *Service) providerCompletes(offeringType string) bool {
	caps, _ := s.Caps(offeringType)
	return caps.ManualCompletion
}

func scopeOf(t models.ScopeType, id int64) models.Scope { return models.Scope{Type: t, ID: id} }

// CreateInput is a Create order as a client sends it (references already
// read from their URLs or UUIDs).
type CreateInput struct {
	Offering, Project models.UUID
	Plan              *models.UUID
	Attributes        map[string]any
	Limits            map[string]int64
	AcceptingTerms    bool
}

// PrepareCreate checks a Create order by u and returns it ready to place,
// with its cost and its review context. When the plan is known the order's
// PlanID and Cost are set even if a later check fails (the preview still
// estimates the cost). Codes: invalid (a field's error names the field),
// forbidden, quota checks happen at Place.
func (s *Service) PrepareCreate(ctx context.Context, u *models.User, in CreateInput, out *store.NewOrder) error {
	p, err := s.orderableProject(ctx, u, in.Project)
	if err != nil {
		return err
	}
	of, err := s.Store.OfferingForOrder(ctx, in.Offering)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return models.FieldError("offering", MsgDoesNotExist)
		}
		return err
	}
	if ok, err := s.offeringVisible(ctx, u, of); err != nil {
		return err
	} else if !ok {
		return models.FieldError("offering", MsgDoesNotExist)
	}
	if _, ok := s.Caps(of.Type); !ok {
		return models.FieldError("offering", fmt.Sprintf("Offering type %s is not supported by this deployment.", of.Type))
	}
	*out = store.NewOrder{Type: models.OrderCreate, ProjectID: p.ID, OfferingID: of.ID, Attributes: in.Attributes, Limits: in.Limits, CreatedBy: u}
	if out.Attributes == nil {
		out.Attributes = map[string]any{}
	}
	if in.Plan != nil {
		pl, err := s.Store.PlanForOrder(ctx, *in.Plan)
		if err != nil {
			if models.IsCode(err, models.CodeNotFound) {
				return models.FieldError("plan", MsgDoesNotExist)
			}
			return err
		}
		if pl.OfferingID != of.ID || pl.Archived {
			return models.FieldError("plan", "This plan is not available for selected offering.")
		}
		out.PlanID = &pl.ID
	} else if n, err := s.Store.ActivePlanCount(ctx, of.ID); err != nil {
		return err
	} else if n > 0 {
		return models.FieldError("plan", MsgRequired)
	}
	cost, err := s.Store.OrderCost(ctx, models.OrderCreate, out.PlanID, in.Limits)
	if err != nil {
		return err
	}
	out.Cost = &cost
	if err := s.ValidateLimits(ctx, of.ID, of.Type, in.Limits); err != nil {
		return err
	}
	if s.CheckOrder != nil {
		if err := s.CheckOrder(ctx, of.Type, out); err != nil {
			return err
		}
	}
	if of.Shared && strings.TrimSpace(of.TermsOfService) != "" && !in.AcceptingTerms {
		return models.FieldError("accepting_terms_of_service", fmt.Sprintf("Terms of service for offering '%s' have not been accepted.", of.Name))
	}
	out.Review, err = s.reviewContext(ctx, u, models.OrderCreate, of, p)
	return err
}

// Place records a prepared order — its resource and quota reserved in one
// transaction — and starts its workflow (best-effort: the dispatcher starts
// what could not be started). Codes: invalid, quota_exceeded, conflict.
func (s *Service) Place(ctx context.Context, in store.NewOrder) (*models.Order, error) {
	o, err := s.Store.CreateOrder(ctx, in)
	if err != nil {
		return nil, err
	}
	s.start(ctx, o)
	return o, nil
}

// PlaceForResource places an order of type t (Update or Terminate) for
// resource v by u (who has been authorized for it), with the resource's
// plan unless planID is given, and starts it.
func (s *Service) PlaceForResource(ctx context.Context, u *models.User, v *store.ResourceView, t models.OrderType, planID *int64,
	limits map[string]int64, attrs map[string]any) (*models.Order, error) {
	p, err := s.Store.ProjectByID(ctx, v.ProjectID)
	if err != nil {
		return nil, err
	}
	of, err := s.Store.OfferingForOrder(ctx, v.OfferingUUID)
	if err != nil {
		return nil, err
	}
	if attrs == nil {
		attrs = map[string]any{}
	}
	if planID == nil {
		planID = v.PlanID
	}
	in := store.NewOrder{Type: t, ProjectID: v.ProjectID, OfferingID: v.OfferingID, PlanID: planID, ResourceID: v.ID,
		Attributes: attrs, Limits: limits, CreatedBy: u}
	if in.Review, err = s.reviewContext(ctx, u, t, of, p); err != nil {
		return nil, err
	}
	if t == models.OrderUpdate && s.CheckModification != nil {
		if err := s.CheckModification(ctx, &in); err != nil {
			return nil, err
		}
	}
	return s.Place(ctx, in)
}

// TerminateForProjectEnd places (and starts) the Terminate order of a
// resource whose project ended, on behalf of the system; a resource with an
// order in flight is skipped (nil, nil).
func (s *Service) TerminateForProjectEnd(ctx context.Context, resourceID int64) (*models.Order, error) {
	o, err := s.Store.TerminateForProjectEnd(ctx, resourceID, s.providerCompletes)
	if err != nil || o == nil {
		return o, err
	}
	s.start(ctx, o)
	return o, nil
}

// start starts an order's workflow best-effort (the dispatcher retries).
func (s *Service) start(ctx context.Context, o *models.Order) {
	if s.Engine == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout())
	defer cancel()
	_ = s.Engine.Start(ctx, Ref{UUID: o.UUID, ID: o.ID})
}

// Act applies a review or state event (approve_by_consumer,
// approve_by_provider, reject_by_consumer, reject_by_provider, cancel,
// set_state_executing, set_state_done, set_state_erred) of u to order v
// through its workflow, after checking u's permission for it, the offering
// type's capabilities and the order's state. Codes: forbidden, invalid (an
// action the offering type does not allow), conflict (a wrong state),
// unavailable (Temporal).
func (s *Service) Act(ctx context.Context, u *models.User, v *store.OrderView, event, message string) (models.OrderState, error) {
	if err := s.MayAct(ctx, u, v, event); err != nil {
		return "", err
	}
	caps, _ := s.Caps(v.OfferingType)
	switch {
	case event == "cancel" && !caps.Cancelable:
		return "", models.Errorf(models.CodeInvalid, "Order cancellation is not supported for offering type %s.", v.OfferingType)
	case event == "set_state_done" && !caps.ManualCompletion,
		(event == "set_state_executing" || event == "set_state_erred") && !caps.AgentDriven:
		return "", models.Errorf(models.CodeInvalid, "Operation %s is not supported for offering type %s.", event, v.OfferingType)
	}
	if _, err := models.OrderTransition(event, v.State); err != nil {
		return "", err
	}
	uid := u.ID
	return s.Send(ctx, v, Action{Event: event, ActorID: &uid, Message: message}, event == "set_state_done")
}

// Send delivers an action to order v's workflow without the checks of Act
// (the caller made them: order deletion cancels first).
func (s *Service) Send(ctx context.Context, v *store.OrderView, a Action, retry bool) (models.OrderState, error) {
	if s.Engine == nil {
		return "", models.Errorf(models.CodeUnavailable, "The workflow service (Temporal) is unavailable; try again later.")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout())
	defer cancel()
	if a.Seen == "" {
		a.Seen = v.State
	}
	return s.Engine.Send(ctx, Ref{UUID: v.UUID, ID: v.ID}, a, retry)
}

// MayAct checks the permission of an order action for u, on the scopes the
// action's x-permissions name: the consumer's actions on the project and its
// customer, the provider's on the offering's customer (Waldur's
// "offering.customer"; set_state_erred's "offering.customer.serviceprovider"
// is the same customer here). Codes: forbidden.
func (s *Service) MayAct(ctx context.Context, u *models.User, v *store.OrderView, event string) error {
	consumer := []models.Scope{scopeOf(models.ScopeProject, v.ProjectID), scopeOf(models.ScopeCustomer, v.CustomerID)}
	provider := []models.Scope{scopeOf(models.ScopeCustomer, v.OfferingCustomerID)}
	var ok bool
	var err error
	switch event {
	case "approve_by_consumer":
		ok, err = s.RBAC.Has(ctx, u, PermOrderApprove, consumer...)
	case "approve_by_provider":
		ok, err = s.RBAC.Has(ctx, u, PermOrderApprove, provider...)
	case "reject_by_consumer":
		ok = v.CreatedByID != nil && *v.CreatedByID == u.ID
		if !ok {
			ok, err = s.RBAC.Has(ctx, u, PermOrderReject, consumer...)
		}
	case "reject_by_provider":
		ok, err = s.RBAC.Has(ctx, u, PermOrderReject, provider...)
	case "cancel":
		ok, err = s.RBAC.Has(ctx, u, PermOrderCancel, consumer...)
	case "destroy":
		ok, err = s.RBAC.Has(ctx, u, PermOrderDestroy, consumer...)
	case "set_state_executing", "set_state_done", "set_state_erred":
		ok, err = s.RBAC.Has(ctx, u, PermOrderApprove, provider...)
	}
	if err != nil {
		return err
	}
	if !ok {
		return models.Errorf(models.CodeForbidden, "You do not have permission to perform this action.")
	}
	return nil
}

// ValidateLimits checks limits against the offering's limit-based
// components and those its type's provider takes limits for
// (AvailableLimits). Codes: invalid (on "limits").
func (s *Service) ValidateLimits(ctx context.Context, offeringID int64, offeringType string, limits map[string]int64) error {
	if len(limits) == 0 {
		return nil
	}
	comps, err := s.Store.OfferingComponentsForOrder(ctx, offeringID)
	if err != nil {
		return err
	}
	taken := map[string]bool{}
	if s.AvailableLimits != nil {
		for _, t := range s.AvailableLimits(offeringType) {
			taken[t] = true
		}
	}
	byType := map[string]store.OrderingComponent{}
	for _, cp := range comps {
		if cp.BillingType == models.BillingLimit || taken[cp.Type] {
			byType[cp.Type] = cp
		}
	}
	var msgs []string
	keys := make([]string, 0, len(limits))
	for k := range limits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cp, ok := byType[k]
		v := limits[k]
		switch {
		case !ok:
			msgs = append(msgs, fmt.Sprintf("%s is not a limit-based component of the offering.", k))
		case cp.MinValue != nil && v < *cp.MinValue:
			msgs = append(msgs, fmt.Sprintf("The limit %s value cannot be less than %d.", k, *cp.MinValue))
		case cp.MaxValue != nil && v > *cp.MaxValue:
			msgs = append(msgs, fmt.Sprintf("The limit %s value cannot be greater than %d.", k, *cp.MaxValue))
		}
	}
	if len(msgs) > 0 {
		e := models.Errorf(models.CodeInvalid, "%s", msgs[0])
		e.Fields = map[string][]string{"limits": msgs}
		return e
	}
	return nil
}

// reviewContext computes the approval rules' inputs for an order by u.
func (s *Service) reviewContext(ctx context.Context, u *models.User, t models.OrderType, of *store.OrderingOffering, p *models.Project) (models.ReviewContext, error) {
	rc := models.ReviewContext{OrderType: t, OfferingType: of.Type, Shared: of.Shared, Billable: of.Billable,
		AutoApproveInServiceProvider: boolOpt(of.PluginOptions, "auto_approve_in_service_provider_projects"),
		ProviderReviewRequested:      boolOpt(of.PluginOptions, "provider_review_required"),
		ProviderCompletes:            s.providerCompletes(of.Type),
		OfferingCustomerID:           of.CustomerID, ProjectCustomer: p.CustomerID, CreatorIsStaff: u.IsStaff,
		ProjectStartsInFuture: p.StartDate != nil && p.StartDate.After(s.now())}
	var err error
	projectScopes := []models.Scope{scopeOf(models.ScopeProject, p.ID), scopeOf(models.ScopeCustomer, p.CustomerID)}
	if rc.CreatorHasApprove, err = s.RBAC.Has(ctx, u, PermOrderApprove, projectScopes...); err != nil {
		return rc, err
	}
	if rc.CreatorHasApprovePriv, err = s.RBAC.Has(ctx, u, PermOrderApprovePrivate, projectScopes[0]); err != nil {
		return rc, err
	}
	roles, err := s.RBAC.RolesOn(ctx, u.ID, scopeOf(models.ScopeCustomer, of.CustomerID))
	if err != nil {
		return rc, err
	}
	for _, r := range roles {
		if r == models.RoleCustomerOwner {
			rc.CreatorOwnsProvider = true
		}
	}
	return rc, nil
}

func boolOpt(opts map[string]any, key string) bool {
	v, _ := opts[key].(bool)
	return v
}

// orderableProject loads a project u may order into: not visible is the
// hyperlink error on "project"; visible without a role (support) is 403.
func (s *Service) orderableProject(ctx context.Context, u *models.User, id models.UUID) (*models.Project, error) {
	p, err := s.Store.ProjectByUUID(ctx, id)
	if err != nil || p.IsRemoved {
		return nil, models.FieldError("project", MsgDoesNotExist)
	}
	if u.IsStaff {
		return p, nil
	}
	roles, err := s.RBAC.RolesOn(ctx, u.ID, p.Scope(), scopeOf(models.ScopeCustomer, p.CustomerID))
	if err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		if u.IsSupport {
			return nil, models.Errorf(models.CodeForbidden, "You do not have permission to perform this action.")
		}
		return nil, models.FieldError("project", MsgDoesNotExist)
	}
	return p, nil
}

// offeringVisible reports whether u may order from the offering: shared
// offerings are open to all; others to the offering's customer and project.
func (s *Service) offeringVisible(ctx context.Context, u *models.User, of *store.OrderingOffering) (bool, error) {
	if of.Shared || rbac.SeesEverything(u) {
		return true, nil
	}
	scopes := []models.Scope{scopeOf(models.ScopeCustomer, of.CustomerID), scopeOf(models.ScopeOffering, of.ID)}
	if of.ProjectID != nil {
		scopes = append(scopes, scopeOf(models.ScopeProject, *of.ProjectID))
	}
	roles, err := s.RBAC.RolesOn(ctx, u.ID, scopes...)
	return len(roles) > 0, err
}
