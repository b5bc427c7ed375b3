// Package topology runs the pieces of Waldur's production topology that the
// `waldur` binary does not: a Temporal server of its own on PostgreSQL,
// with its schema set up by Temporal's own SQL tool (temporal-sql-tool,
// go.temporal.io/server/tools/sql). The test of this package
// (TestProductionTopology) starts that server, `waldur api` replicas and
// `waldur worker` processes as separate OS processes, drives orders through
// them while killing some, and checks nothing was lost or done twice.
//
// `waldur serve` embeds Temporal only on SQLite; production runs Temporal
// as a cluster (docker/compose.yaml, docker/README.md), and so does this
// package, in one process (frontend, history, matching and worker services).
package topology

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"
	sqltool "go.temporal.io/server/tools/sql"
	"google.golang.org/protobuf/types/known/durationpb"
)

// PluginName is the SQL plugin Temporal's PostgreSQL persistence uses here
// (PostgreSQL 12 and later, through pgx).
const PluginName = postgresql.PluginNamePGX

// Temporal configures a Temporal server on PostgreSQL.
type Temporal struct {
	// Postgres is host:port of the PostgreSQL server; User and Password
	// the role Temporal connects as.
	Postgres       string
	User, Password string
	// Database and VisibilityDatabase hold the persistence and visibility
	// schemas.
	Database, VisibilityDatabase string
	// Host is the address every service binds; FrontendPort the gRPC
	// frontend clients dial. The other ports are the frontend's HTTP port
	// and the history, matching and worker services' gRPC ports: fixed, so
	// a restarted server binds what the killed one did.
	Host                                              string
	FrontendPort, HTTPPort, HistoryPort, MatchingPort int
	WorkerPort                                        int
	// Namespace is registered at start when missing (default "default").
	Namespace string
	// NumHistoryShards is fixed when the schema is first used (default 4).
	NumHistoryShards int32
	// LogLevel of Temporal's own logs (stderr): debug, info, warn (default), error.
	LogLevel string
	// NamespaceRetention (default 24h) and NamespaceCacheRefreshInterval
	// (default 1s: a namespace registered at start is served at once).
	NamespaceRetention, NamespaceCacheRefreshInterval time.Duration
}

// FrontendAddr is host:port of the gRPC frontend.
func (o Temporal) FrontendAddr() string {
	return net.JoinHostPort(o.Host, strconv.Itoa(o.FrontendPort))
}

func (o Temporal) withDefaults() Temporal {
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.NumHistoryShards == 0 {
		o.NumHistoryShards = 4
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	if o.NamespaceRetention == 0 {
		o.NamespaceRetention = 24 * time.Hour
	}
	if o.NamespaceCacheRefreshInterval == 0 {
		o.NamespaceCacheRefreshInterval = time.Second
	}
	return o
}

// SchemaSetup returns the temporal-sql-tool command lines (without the
// program name) that create both databases and install the current schema
// versions: `create`, then `setup-schema -v 0.0` (the version tables), then
// `update-schema` from the schema embedded in the server module
// (postgresql/v12/temporal and postgresql/v12/visibility, the versioned
// directories schema/postgresql/v12/*/versioned). These are the steps of
// Temporal's own setup scripts (and of docker/temporal/setup-schema.sh).
func (o Temporal) SchemaSetup() [][]string {
	host, port, _ := net.SplitHostPort(o.Postgres)
	var out [][]string
	for _, db := range []struct{ name, schema string }{
		{o.Database, "postgresql/v12/temporal"},
		{o.VisibilityDatabase, "postgresql/v12/visibility"},
	} {
		common := []string{"--plugin", PluginName, "--endpoint", host, "--port", port, "--user", o.User, "--database", db.name}
		if o.Password != "" {
			common = append(common, "--password", o.Password)
		}
		with := func(args ...string) []string { return append(append([]string(nil), common...), args...) }
		out = append(out,
			with("create-database"),
			with("setup-schema", "--version", "0.0"),
			with("update-schema", "--schema-name", db.schema),
		)
	}
	return out
}

// SetupSchema runs SchemaSetup through temporal-sql-tool's own command-line
// handler (sqltool.BuildCLIOptions). The tool exits the process with
// status 1 when a step fails, so call this in a process of its own.
func (o Temporal) SetupSchema() error {
	for _, args := range o.SchemaSetup() {
		if err := sqltool.BuildCLIOptions().Run(append([]string{"temporal-sql-tool"}, args...)); err != nil {
			return fmt.Errorf("temporal-sql-tool %v: %w", args, err)
		}
	}
	return nil
}

// sql is the configuration of one datastore. Temporal opens several
// pools on the main store (executions, tasks, shards, metadata…), each up
// to conns: small pools keep the whole server within a few dozen
// connections of a shared PostgreSQL (max_connections is 100 by default).
func (o Temporal) sql(db string, conns int) *config.SQL {
	return &config.SQL{
		PluginName: PluginName, DatabaseName: db, ConnectAddr: o.Postgres, ConnectProtocol: "tcp",
		User: o.User, Password: o.Password, // sslmode=disable unless TLS is configured
		MaxConns: conns, MaxIdleConns: max(1, conns/2), MaxConnLifetime: time.Hour,
	}
}

// Run starts the server on an installed schema, registers the namespace
// (when missing) and waits until it can be used, calls ready, then serves
// until ctx ends.
func (o Temporal) Run(ctx context.Context, ready func()) error {
	o = o.withDefaults()
	const clusterName = "active"
	conf := &config.Config{}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = o.Host
	conf.Persistence.DefaultStore = "postgres"
	conf.Persistence.VisibilityStore = "postgres-visibility"
	conf.Persistence.NumHistoryShards = o.NumHistoryShards
	conf.Persistence.DataStores = map[string]config.DataStore{
		"postgres":            {SQL: o.sql(o.Database, 8)},
		"postgres-visibility": {SQL: o.sql(o.VisibilityDatabase, 4)},
	}
	hostPort := func(p int) string { return net.JoinHostPort(o.Host, strconv.Itoa(p)) }
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: o.FrontendAddr(), HTTPAddress: hostPort(o.HTTPPort)},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	svc := func(grpcPort, httpPort int) config.Service {
		var s config.Service
		s.RPC.GRPCPort = grpcPort
		s.RPC.HTTPPort = httpPort
		s.RPC.BindOnIP = o.Host
		return s
	}
	conf.Services = map[string]config.Service{
		"frontend": svc(o.FrontendPort, o.HTTPPort),
		"history":  svc(o.HistoryPort, 0),
		"matching": svc(o.MatchingPort, 0),
		"worker":   svc(o.WorkerPort, 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = o.FrontendAddr()

	logger := tlog.NewZapLogger(tlog.BuildZapLogger(tlog.Config{Level: o.LogLevel, Format: "console"}))
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return err
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return err
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.FrontendEnableSchedules.Key(): true,
		// A namespace registered at start is usable within a second, and
		// search attributes added by the core worker at once (as Temporal's
		// own development-sql.yaml has it).
		dynamicconfig.NamespaceCacheRefreshInterval.Key():           o.NamespaceCacheRefreshInterval,
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: static.SingleLocalHost(o.FrontendAddr()),
			primitives.HistoryService:  static.SingleLocalHost(hostPort(o.HistoryPort)),
			primitives.MatchingService: static.SingleLocalHost(hostPort(o.MatchingPort)),
			primitives.WorkerService:   static.SingleLocalHost(hostPort(o.WorkerPort)),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	if err := o.ensureNamespace(ctx); err != nil {
		return err
	}
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	return nil
}

// ensureNamespace registers the namespace unless it exists, then waits
// until the frontend serves calls in it (the namespace registry's cache has
// it), so a worker that starts polling then is not refused.
func (o Temporal) ensureNamespace(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var c client.Client
	var err error
	for {
		c, err = client.DialContext(ctx, client.Options{HostPort: o.FrontendAddr(), Namespace: o.Namespace})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("temporal frontend %s: %w", o.FrontendAddr(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer c.Close()
	for {
		_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace: o.Namespace, WorkflowExecutionRetentionPeriod: durationpb.New(o.NamespaceRetention)})
		var exists *serviceerror.NamespaceAlreadyExists
		if err == nil || errors.As(err, &exists) {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("registering namespace %q: %w", o.Namespace, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		_, err = c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace: o.Namespace, TaskQueue: &taskqueue.TaskQueue{Name: "topology-probe"}})
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("namespace %q is not served: %w", o.Namespace, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
