// Package api is the REST API: the Gin router, middleware (request id,
// access log, recovery, authentication, metrics), the one error-code → HTTP
// status table, and a handler file per noun. Request and response types live
// here and are converted explicitly from the models.
//
//	@title						Waldur (Go) API
//	@version					1.0
//	@description				Cloud and HPC orchestration platform on Temporal. Paths, fields and status codes follow Waldur MasterMind's API.
//	@BasePath					/
//	@securityDefinitions.apikey	TokenAuth
//	@in							header
//	@name						Authorization
//	@description				"Token <key>" (the keyword is case-insensitive; "Bearer <key>" is accepted too)
//	@securityDefinitions.apikey	waldurCookieAuth
//	@in							cookie
//	@name						sessionid
//	@description				A browser session, started by a login with ?session=true; unsafe methods must send the csrftoken cookie's value in the X-CSRFToken header
package api

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/models"
)

// Module adds the routes of one area (structure, identity, …) to the API.
// Modules live in sub-packages of api and use this package's helpers
// (H, WriteError, CurrentUser, rest) so that each area compiles on its own.
type Module interface {
	Routes(api *gin.RouterGroup, root *gin.Engine)
}

// Database is the connection pool the health check pings (a *gorm.DB is one).
type Database interface{ DB() (*sql.DB, error) }

// Deps are what the API needs from the rest of the process.
type Deps struct {
	DB       Database
	Users    models.UserStore
	Temporal client.Client
	Logger   *slog.Logger
	// Namespace is the Temporal namespace, shown by /api/configuration/.
	Namespace string
	// Now is the clock (tests move it).
	Now func() time.Time
	// TrustedProxies are the addresses (or CIDRs) whose X-Forwarded-For is
	// believed for the client address (login lockout, events); none by default.
	TrustedProxies []string
	// Middleware runs on every route after authentication (e.g. the site
	// agent liveness tracker).
	Middleware []gin.HandlerFunc
	// RequestTimeout is the deadline of each request's context (0: none):
	// the work a handler does for one request ends with it.
	RequestTimeout time.Duration
	// CORSOrigins are the browser origins allowed to call the API across
	// origins (none: same origin only; "*": any, without credentials).
	CORSOrigins []string
	// SiteName is WALDUR_CORE.SITE_NAME of /api/configuration/ (empty:
	// Waldur's "Waldur"); Features are the feature flags ("section.key") it
	// reports switched on, every other one of FeatureSections being off.
	SiteName string
	Features []string
	// Sessions keeps the browser sessions of the sessionid cookie
	// (nil: no cookie authentication); Session says how.
	Sessions models.SessionStore
	Session  SessionConfig
	// Collectors are more metrics for /metrics (the business metrics,
	// the read replicas').
	Collectors []prometheus.Collector
}

// Server holds the router and its dependencies.
type Server struct {
	deps     Deps
	users    models.UserStore
	now      func() time.Time
	log      *slog.Logger
	registry *prometheus.Registry
	engine   *gin.Engine
	// modules are the modules served (LogoutURL asks them).
	modules []Module
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New builds the router with the routes of each module.
func New(deps Deps, modules ...Module) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = func() time.Time { return time.Now().UTC() }
	}
	s := &Server{deps: deps, users: deps.Users, now: deps.Now, log: deps.Logger, registry: prometheus.NewRegistry()}
	for _, f := range deps.Features {
		if !KnownFeature(f) {
			s.log.Warn("unknown feature flag, ignored by /api/configuration/", "feature", f)
		}
	}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := NewMetrics(s.registry)
	s.registry.MustRegister(deps.Collectors...)

	e := gin.New()
	// An empty list makes the client address the TCP peer, so a client cannot
	// pick its own address (and dodge the login lockout) with a header.
	_ = e.SetTrustedProxies(deps.TrustedProxies)
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = true
	e.ContextWithFallback = true
	if len(deps.CORSOrigins) > 0 {
		// First, so a preflight is answered before authentication (it carries
		// no credentials) and every answer, errors too, carries the headers.
		e.Use(corsPolicy(deps.CORSOrigins))
	}
	e.Use(requestID(), accessLog(s.log), recovery(s.log), metrics.middleware(), deadline(deps.RequestTimeout), limitBody(MaxBody), s.authenticate())
	e.Use(deps.Middleware...)
	e.NoRoute(func(c *gin.Context) { WriteError(c, models.Errorf(models.CodeNotFound, "Not found.")) })
	e.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, ErrorBody{Detail: `Method "` + c.Request.Method + `" not allowed.`})
	})

	e.GET("/health-check/", H(s.healthCheck))
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))
	s.docsRoutes(e)

	a := e.Group("/api")
	a.GET("/version/", RequireUser, H(s.version))
	a.GET("/configuration/", H(s.configuration))
	for _, m := range modules {
		m.Routes(a, e)
	}
	s.modules = modules
	s.engine = e
	return s
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// Engine exposes the router to tests and to packages adding routes.
func (s *Server) Engine() *gin.Engine { return s.engine }

// Registry is the Prometheus registry behind /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// ping checks the database and Temporal for the health check.
func (s *Server) ping(ctx context.Context) (db, temporal error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	sqlDB, err := s.deps.DB.DB()
	if err == nil {
		err = sqlDB.PingContext(ctx)
	}
	db = err
	if s.deps.Temporal == nil {
		temporal = models.Errorf(models.CodeUnavailable, "no Temporal client")
	} else {
		_, temporal = s.deps.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
	}
	return db, temporal
}
