package siteagent

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// permLiveness is what a caller needs on the offering's customer (or the
// offering) for its agent's requests to count: Waldur's UPDATE_OFFERING,
// which OFFERING.MANAGER holds on its offering.
const permLiveness models.Permission = "OFFERING.UPDATE"

// DefaultLivenessEvery is how often one agent's requests are written down
// at most; the timeout schedule allows far longer (an hour by default).
const DefaultLivenessEvery = time.Minute

// Tracker records the liveness of offerings' site agents from their
// requests: a successful request whose User-Agent is the site agent's
// (models.IsSiteAgent), made by a user who may update the offering, and
// naming the offering by ?offering_uuid= or by a
// /api/marketplace-provider-offerings/{uuid}/… path, marks the offering's
// integration status of the request's agent type (models.AgentTypeOf)
// Active with the request time. A schedule marks statuses Disconnected when
// their agent falls silent (activities.SiteAgent).
type Tracker struct {
	Store *store.Store
	RBAC  *rbac.Checker
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
	// Every is the least time between two writes for one offering, agent
	// type and user (0: DefaultLivenessEvery); requests in between are
	// not looked at further.
	Every time.Duration
	// Log receives failures to record (nil: slog.Default()); they never
	// fail the request.
	Log *slog.Logger

	mu   sync.Mutex
	last map[livenessKey]time.Time
}

type livenessKey struct {
	offering models.UUID
	agent    models.AgentType
	user     int64
}

// Liveness is the middleware of a Tracker over st and chk with the defaults.
// Install it on the engine before the routes (api.Deps.Middleware).
func Liveness(st *store.Store, chk *rbac.Checker) gin.HandlerFunc {
	return (&Tracker{Store: st, RBAC: chk}).Middleware()
}

// Middleware runs the request, then records it (see Tracker).
func (t *Tracker) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		t.observe(c)
	}
}

// offeringOf is the offering a request names, if any.
func offeringOf(c *gin.Context) (models.UUID, bool) {
	for _, v := range rest.Values(c, "offering_uuid") {
		first, _, _ := strings.Cut(v, ",")
		if id, err := models.ParseUUID(strings.TrimSpace(first)); err == nil {
			return id, true
		}
	}
	if strings.HasPrefix(c.FullPath(), "/api/marketplace-provider-offerings/:uuid/") {
		if id, err := models.ParseUUID(c.Param("uuid")); err == nil {
			return id, true
		}
	}
	return models.NilUUID, false
}

func (t *Tracker) observe(c *gin.Context) {
	ua := c.GetHeader("User-Agent")
	if !models.IsSiteAgent(ua) || c.Writer.Status() >= 400 {
		return
	}
	u := api.CurrentUser(c)
	if u == nil {
		return
	}
	offering, ok := offeringOf(c)
	if !ok {
		return
	}
	agent := models.AgentTypeOf(ua, c.Request.URL.Path)
	if agent == models.AgentUnknown {
		return
	}
	now := time.Now().UTC()
	if t.Now != nil {
		now = t.Now()
	}
	every := t.Every
	if every <= 0 {
		every = DefaultLivenessEvery
	}
	key := livenessKey{offering: offering, agent: agent, user: u.ID}
	t.mu.Lock()
	if t.last == nil {
		t.last = map[livenessKey]time.Time{}
	}
	if last, seen := t.last[key]; seen && now.Sub(last) < every {
		t.mu.Unlock()
		return
	}
	t.last[key] = now
	t.mu.Unlock()

	if err := t.record(c, u, offering, agent, ua, now); err != nil {
		t.mu.Lock()
		delete(t.last, key) // try again with the next request
		t.mu.Unlock()
		log := t.Log
		if log == nil {
			log = slog.Default()
		}
		log.WarnContext(c.Request.Context(), "site agent liveness not recorded", "offering", offering.String(),
			"agent_type", string(agent), "request_id", api.RequestID(c), "err", err)
	}
}

func (t *Tracker) record(c *gin.Context, u *models.User, offering models.UUID, agent models.AgentType, ua string, now time.Time) error {
	ctx := c.Request.Context()
	o, err := t.Store.OfferingByUUID(ctx, offering)
	if models.IsCode(err, models.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ok, err := t.RBAC.Has(ctx, u, permLiveness, models.Scope{Type: models.ScopeCustomer, ID: o.CustomerID}, o.Scope())
	if err != nil || !ok {
		return err
	}
	return t.Store.TouchIntegrationStatus(ctx, o.ID, agent, ua, now)
}
