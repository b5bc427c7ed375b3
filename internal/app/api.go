package app

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/catalog"
	"github.com/waldur-go/waldur/api/events"
	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/api/invoices"
	"github.com/waldur-go/waldur/api/offeringusers"
	"github.com/waldur-go/waldur/api/oidc"
	"github.com/waldur-go/waldur/api/orders"
	"github.com/waldur-go/waldur/api/permissions"
	"github.com/waldur-go/waldur/api/policies"
	"github.com/waldur-go/waldur/api/saml2"
	"github.com/waldur-go/waldur/api/siteagent"
	"github.com/waldur-go/waldur/api/stats"
	"github.com/waldur-go/waldur/api/structure"
	"github.com/waldur-go/waldur/api/usage"
	"github.com/waldur-go/waldur/api/valimo"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/metrics"
	"github.com/waldur-go/waldur/internal/plugins"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/rbac"
	"github.com/waldur-go/waldur/workflows"
)

// NewAPI builds the REST API with every module and the default limits.
func NewAPI(db *gorm.DB, tc client.Client, log *slog.Logger, namespace string, trustedProxies ...string) (*api.Server, error) {
	cfg := config.Default()
	cfg.TemporalNamespace, cfg.TrustedProxies = namespace, trustedProxies
	return NewAPIConfig(db, tc, log, cfg)
}

// NewAPIConfig builds the REST API with every module as cfg says: its
// namespace, trusted proxies, request deadline and password hashing slots.
func NewAPIConfig(db *gorm.DB, tc client.Client, log *slog.Logger, cfg config.Config) (*api.Server, error) {
	st := store.New(db)
	st.Hasher = store.NewHasher(cfg.PasswordHashConcurrency, store.DefaultHashWait)
	chk, err := rbac.NewChecker(db)
	if err != nil {
		return nil, err
	}
	set := plugins.All(cfg)
	provs := set.Providers() // the API reads only offering types, capabilities and limits
	modules := []api.Module{
		structure.New(structure.Deps{Store: st, RBAC: chk}),
		identity.New(identity.Deps{Store: st, RBAC: chk, Bridge: identity.BridgeConfig{Enabled: cfg.FederatedIdentitySyncEnabled,
			AllowedAttributes: cfg.FederatedIdentitySyncAllowedAttributes, DeactivationPolicy: cfg.FederatedIdentityDeactivationPolicy}}),
		permissions.New(permissions.Deps{Store: st, RBAC: chk, Logger: log}),
		events.New(events.Deps{Store: st, RBAC: chk}),
		catalog.New(catalog.Deps{Store: st, RBAC: chk}),
		invoices.New(invoices.Deps{Store: st}),
		orders.New(orders.Deps{Store: st, RBAC: chk, Temporal: tc, Capabilities: provs.Capabilities, AvailableLimits: provs.AvailableLimits,
			CheckOrder: policies.OrderCheck(st, set.OrderCheck(st)), CheckModification: policies.ModificationCheck(st)}),
		policies.New(policies.Deps{Store: st, RBAC: chk, Logger: log}),
		usage.New(usage.Deps{Store: st, RBAC: chk}),
		offeringusers.New(offeringusers.Deps{Store: st, RBAC: chk}),
		siteagent.New(siteagent.Deps{Store: st, RBAC: chk}),
		stats.New(stats.Deps{Store: st, RBAC: chk}),
	}
	sso, err := saml2.New(saml2.Deps{Store: st, Config: cfg.SAML2, Logger: log})
	if err != nil {
		return nil, err
	}
	modules = append(modules, sso, oidc.New(oidc.Deps{Store: st, BaseURL: cfg.OIDCBase(), LoginCompletedURL: cfg.SAML2.LoginCompletedURL,
		RequestTTL: cfg.OIDC.RequestTTL, Logger: log, AllowedNetworks: oidcNetworks(cfg),
		LogoutCompletedURL: cfg.SAML2.LogoutCompletedURL}), valimo.New(valimo.Deps{Store: st, Temporal: tc, Config: cfg.Valimo, Logger: log}))
	modules = append(modules, set.Modules(plugin.APIDeps{Store: st, RBAC: chk, Temporal: tc})...)
	return api.New(api.Deps{DB: db, Users: st, Temporal: tc, Logger: log, Namespace: cfg.TemporalNamespace, TrustedProxies: cfg.TrustedProxies,
		RequestTimeout: cfg.HTTPRequestTimeout, CORSOrigins: cfg.CORSAllowedOrigins, SiteName: cfg.SiteName, Features: cfg.Features,
		Middleware: []gin.HandlerFunc{api.ReadRouting(database.ReplicasOf(db), log), siteagent.Liveness(st, chk)},
		Sessions:   st, Session: api.SessionConfig{Age: cfg.Sessions.Age, Secure: cfg.Sessions.Secure},
		Collectors: metrics.ForAPI(db, tc, log)}, modules...), nil
}

// Deps are what activities need; they are read when a worker starts, so a
// registry can be built (and queue names checked) before the database opens.
type Deps struct {
	DB     *gorm.DB
	Config config.Config
	Logger *slog.Logger
}

// Providers returns the registry of the offering types this build serves.
func Providers(cfg config.Config) *providers.Registry { return plugins.All(cfg).Providers() }

// Registry returns what every task queue runs: the platform's workflows on
// the core queue, the provider activity on each provider's queue, and each
// plugin's own workflows and activities.
func Registry(d *Deps) *workflows.Registry {
	r := workflows.NewRegistry()
	set := plugins.All(d.Config)
	provs := set.Providers()
	for _, q := range provs.Queues() {
		r.Add(q, func(w worker.Registry) {
			workflows.RegisterProvision(w, &activities.Provision{Providers: provs})
		})
	}
	pd := plugin.Deps{DB: func() *gorm.DB { return d.DB }, Log: d.Logger, Providers: provs}
	for _, pw := range set.Workers(pd) {
		r.Add(pw.Queue, pw.Register)
	}
	r.Add(workflows.QueueCore, func(w worker.Registry) {
		st := store.New(d.DB)
		workflows.RegisterImports(w, &activities.Imports{Store: st, Providers: provs, Keepers: set.ImportKeepers(st)})
		workflows.RegisterOrders(w, &activities.Orders{Store: st, Providers: provs, Scopes: set.ScopeKeepers(st)},
			&workflows.OrderDispatcher{Store: st})
		w.RegisterWorkflow(workflows.Ping)
		w.RegisterWorkflow(workflows.Empty)
		w.RegisterActivity(&activities.Core{DB: d.DB, Now: func() time.Time { return time.Now().UTC() }})
		workflows.RegisterExpiry(w, &activities.Expiry{Store: st})
		workflows.RegisterBilling(w, &activities.Billing{Store: st})
		workflows.RegisterJobs(w, &workflows.OrderJobs{Store: st, Capabilities: provs.Capabilities})
		workflows.RegisterSiteAgent(w, &activities.SiteAgent{Store: st})
		saml2.Register(w, &saml2.Refresher{Store: saml2.NewStore(st), Sources: d.Config.SAML2.IdPMetadata, Log: d.Logger,
			CertFile: d.Config.SAML2.MetadataCertFile})
		oidc.RegisterCleanup(w, &oidc.Cleaner{Store: oidc.NewStore(st)})
		va := &valimo.Activities{Store: valimo.NewStore(st), Message: d.Config.Valimo.Message, Label: d.Config.Valimo.Label, Log: d.Logger}
		if d.Config.Valimo.On() {
			c, err := valimo.NewClient(d.Config.Valimo)
			if err != nil {
				slog.Error("Valimo client", "err", err) // the files were checked with the config
			} else {
				va.Client = c
			}
		}
		valimo.Register(w, va)
		stats.Register(w, &stats.Activities{Store: st})
		smtp := activities.SMTPConfig{Host: d.Config.SMTPHost, Port: d.Config.SMTPPort, From: d.Config.SMTPFrom,
			Username: d.Config.SMTPUsername, Password: d.Config.SMTPPassword}
		policies.Register(w, &policies.Activities{Store: st, SMTP: smtp})
		// Web hooks reach no loopback, link-local or private address
		// outside the allowed networks (checked when connecting).
		allowed, _ := config.ParseNetworks(d.Config.HookAllowedNetworks) // validated with the config
		workflows.RegisterHooks(w, &activities.Hooks{
			Store:           st,
			AllowedNetworks: allowed,
			SMTP:            smtp,
			Log:             d.Logger,
		})
	})
	return r
}

// platformSchedules are the platform's own periodic jobs.
func platformSchedules() []workflows.Schedule {
	return []workflows.Schedule{
		workflows.RoleExpirySchedule,
		workflows.InvitationExpirySchedule,
		workflows.EventDispatchSchedule,
		workflows.OrderDispatchSchedule,
		workflows.BillingCloseSchedule,
		workflows.InvoiceRefreshSchedule,
		workflows.BillingDispatchSchedule,
		workflows.StuckResourcesSchedule,
		workflows.ProjectStartOrdersSchedule,
		workflows.ProjectEndTerminationSchedule,
		workflows.IntegrationStatusTimeoutSchedule,
		saml2.ProvidersSchedule,
		oidc.CleanupSchedule,
		valimo.CleanupSchedule,
		stats.DailyQuotasSchedule,
		policies.EvaluationSchedule,
		policies.PeriodSchedule,
	}
}

// Schedules are the periodic jobs of the platform and of every plugin,
// created at start-up by the process that runs the core queue (README
// lists them).
func Schedules() []workflows.Schedule {
	return append(platformSchedules(), plugins.All(config.Default()).Schedules()...)
}

// oidcNetworks are the private networks the OIDC providers may be on
// (WALDUR_OIDC_ALLOWED_NETWORKS, validated with the config).
func oidcNetworks(cfg config.Config) []netip.Prefix {
	allowed, _ := config.ParseNetworks(cfg.OIDC.AllowedNetworks)
	return allowed
}
