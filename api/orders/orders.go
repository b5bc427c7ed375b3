// Package orders serves Waldur's marketplace orders (/api/marketplace-orders/)
// and resources (/api/marketplace-resources/ for consumers,
// /api/marketplace-provider-resources/ for providers).
//
// An order is committed by store.CreateOrder (resource, quota and event in
// one transaction, with its workflow still to start: the outbox) and its
// workflow `order-<uuid>` is started best-effort right after; when Temporal
// is unreachable the order is still accepted and the dispatcher starts it
// later. Reviews and state changes are Temporal Updates sent to the order's
// workflow, which validates them against the order's state and is the only
// writer of the order's state; the API waits for their result.
package orders

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/rbac"
	"github.com/waldur-go/waldur/workflows"
)

// Deps are what the order and resource endpoints need.
type Deps struct {
	Store    *store.Store
	RBAC     *rbac.Checker
	Temporal client.Client // nil: orders are accepted, actions answer 503
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
	// TemporalTimeout bounds one call to Temporal (start, or an Update and
	// its result); 0 means 30 seconds.
	TemporalTimeout time.Duration
	// Capabilities reports what an offering type's orders allow (ok false:
	// no provider serves the type: its orders are refused). Nil: every
	// type is accepted, with no capability.
	Capabilities func(offeringType string) (providers.Capabilities, bool)
	// AvailableLimits lists the component types whose limits orders of an
	// offering type may carry besides limit-based ones
	// (providers.Registry.AvailableLimits; nil: none).
	AvailableLimits func(offeringType string) []string
	// CheckOrder checks a Create order against what the offering type's
	// plugin records (plugin.Set.OrderCheck; nil: no check).
	CheckOrder func(ctx context.Context, offeringType string, o *store.NewOrder) error
	// CheckModification checks an Update order of a resource before it is
	// placed (policies.ModificationCheck; nil: no check).
	CheckModification func(ctx context.Context, o *store.NewOrder) error
}

// Module registers the order and resource routes (an api.Module).
type Module struct {
	st           *store.Store
	rbac         *rbac.Checker
	tc           client.Client
	now          func() time.Time
	timeout      time.Duration
	capabilities func(offeringType string) (providers.Capabilities, bool)
	svc          *marketplace.Service
	limitsOf     func(offeringType string) []string
	checkOrder   func(ctx context.Context, offeringType string, o *store.NewOrder) error
	checkModify  func(ctx context.Context, o *store.NewOrder) error
}

var _ api.Module = (*Module)(nil)

// New returns the orders module.
func New(d Deps) *Module {
	m := &Module{st: d.Store, rbac: d.RBAC, tc: d.Temporal, now: d.Now, timeout: d.TemporalTimeout, capabilities: d.Capabilities, limitsOf: d.AvailableLimits,
		checkOrder: d.CheckOrder, checkModify: d.CheckModification}
	if m.now == nil {
		m.now = func() time.Time { return time.Now().UTC() }
	}
	if m.timeout <= 0 {
		m.timeout = 30 * time.Second
	}
	// Orders are placed and moved by the marketplace service; its engine
	// is the Temporal client (none: orders wait for the dispatcher).
	var engine marketplace.Engine
	var imports marketplace.Importer
	if m.tc != nil {
		engine = workflows.OrderClient{Client: m.tc, Store: m.st}
		imports = workflows.ImportClient{Client: m.tc}
	}
	m.svc = &marketplace.Service{Store: m.st, RBAC: m.rbac, Engine: engine, Imports: imports, Capabilities: m.capabilities,
		AvailableLimits: m.limitsOf, CheckOrder: m.checkOrder, CheckModification: m.checkModify, Timeout: m.timeout, Now: m.now}
	return m
}

// Routes implements api.Module. Every route needs an authenticated user.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}

	o := a.Group("/marketplace-orders", api.RequireUser)
	o.Match(get, "/", api.H(m.listOrders))
	o.POST("/", api.H(m.createOrder))
	o.POST("/preview/", api.H(m.previewOrder))
	o.Match(get, "/:uuid/", api.H(m.getOrder))
	o.DELETE("/:uuid/", api.H(m.destroyOrder))
	for _, ev := range []string{"approve_by_consumer", "approve_by_provider", "reject_by_consumer", "reject_by_provider",
		"cancel", "set_state_executing", "set_state_done", "set_state_erred"} {
		o.POST("/:uuid/"+ev+"/", api.H(m.orderAction(ev)))
	}

	r := a.Group("/marketplace-resources", api.RequireUser)
	r.Match(get, "/", api.H(m.listResources(consumerSide)))
	r.Match(get, "/:uuid/", api.H(m.getResource(consumerSide)))
	r.Match(get, "/:uuid/team/", api.H(m.resourceTeam(consumerSide)))
	r.POST("/:uuid/terminate/", api.H(m.terminateResource(consumerSide)))
	r.POST("/:uuid/update_limits/", api.H(m.updateLimits))
	r.POST("/:uuid/switch_plan/", api.H(m.switchPlan))
	r.Match(get, "/:uuid/plan_periods/", api.H(m.planPeriods(consumerSide)))
	r.PUT("/:uuid/", api.H(m.updateResource(false)))
	r.PATCH("/:uuid/", api.H(m.updateResource(true)))

	p := a.Group("/marketplace-provider-resources", api.RequireUser)
	p.Match(get, "/", api.H(m.listResources(providerSide)))
	p.Match(get, "/:uuid/", api.H(m.getResource(providerSide)))
	p.Match(get, "/:uuid/team/", api.H(m.resourceTeam(providerSide)))
	p.POST("/:uuid/set_backend_id/", api.H(m.setBackendID))
	p.POST("/:uuid/set_backend_metadata/", api.H(m.setBackendMetadata))
	p.POST("/:uuid/set_limits/", api.H(m.setLimits))
	p.POST("/:uuid/set_as_ok/", api.H(m.setState(models.ResourceOK)))
	p.POST("/:uuid/set_as_erred/", api.H(m.setState(models.ResourceErred)))
	p.POST("/:uuid/refresh_last_sync/", api.H(m.refreshLastSync))
	p.POST("/:uuid/set_endpoints/", api.H(m.setEndpoints))
	p.POST("/:uuid/terminate/", api.H(m.terminateResource(providerSide)))
	p.Match(get, "/:uuid/plan_periods/", api.H(m.planPeriods(providerSide)))
	m.flagRoutes(r, p)   // resource_flags.go
	m.actionRoutes(r, p) // resource_actions.go

	m.importRoutes(a)
}

// Permissions used here.
const (
	permOrderApprove        models.Permission = "ORDER.APPROVE"
	permOrderApprovePrivate models.Permission = "ORDER.APPROVE_PRIVATE"
	permOrderReject         models.Permission = "ORDER.REJECT"
	permOrderCancel         models.Permission = "ORDER.CANCEL"
	permOrderDestroy        models.Permission = "ORDER.DESTROY"
	permResourceTerminate   models.Permission = "RESOURCE.TERMINATE"
	permResourceSetLimits   models.Permission = "RESOURCE.SET_LIMITS"
	permResourceSetPlan     models.Permission = "RESOURCE.SET_PLAN"
	permResourceBackendID   models.Permission = "RESOURCE.SET_BACKEND_ID"
	permResourceBackendMeta models.Permission = "RESOURCE.SET_BACKEND_METADATA"
	permResourceSetState    models.Permission = "RESOURCE.SET_STATE"
	permResourceUpdate      models.Permission = "RESOURCE.UPDATE"
)

// MsgTemporalUnavailable is the 503 detail when the workflow service cannot be reached.
const MsgTemporalUnavailable = workflows.MsgTemporalUnavailable

func scopeOf(t models.ScopeType, id int64) models.Scope { return models.Scope{Type: t, ID: id} }

// caps is what an offering type's orders allow; ok is false when no
// provider serves the type.
func (m *Module) caps(offeringType string) (providers.Capabilities, bool) {
	return m.svc.Caps(offeringType)
}
